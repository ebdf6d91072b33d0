-- What messages gather after they are posted, beside the event log (which is never
-- rewritten): the last edit's text and mentions, deletion, and the reactions as they stand.
-- Only messages that changed have a row; reads show it on the message.
CREATE TABLE message_states (
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    body TEXT,
    mentions TEXT,
    edited_at BIGINT,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    reactions TEXT,
    PRIMARY KEY (stream_id, seq)
);

-- Who each message mentions, for mention counts (a row per mention, none per reader).
CREATE TABLE mentions (
    user_id TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (user_id, stream_id, seq)
);

-- How far each reader (a staff user or a customer) has read each stream: per-reader state,
-- never room events. Unread counts are computed from it and the log.
CREATE TABLE read_markers (
    stream_id TEXT NOT NULL,
    reader_id TEXT NOT NULL,
    last_read_seq BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (stream_id, reader_id)
);
CREATE INDEX read_markers_by_reader ON read_markers (reader_id);

-- Files uploaded to a stream. `seq` is the message that carries the file, once posted.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    stream_id TEXT NOT NULL,
    uploader_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    width INTEGER,
    height INTEGER,
    seq BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_by_stream ON attachments (stream_id, seq);
