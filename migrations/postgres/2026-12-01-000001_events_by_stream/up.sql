-- Events of every stream (a conversation today, a team channel later) in one append-only
-- log numbered by `id` in the order rows were written; `idx.event_index` finds a stream's
-- events by (stream_id, seq), filed in batches up to `idx.event_filing.last_id` (the rows
-- after that are found by `id`). See the SQLite migration for why.
CREATE TABLE stream_events (
    id BIGSERIAL PRIMARY KEY,
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT,
    client_id TEXT,
    customer_visible BOOLEAN NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO stream_events
    (stream_id, seq, kind, author_kind, author_id, client_id, customer_visible, payload,
     created_at)
    SELECT conversation_id, seq, kind, author_kind, author_id, client_id, customer_visible,
           payload, created_at
    FROM events ORDER BY created_at, conversation_id, seq;
DROP TABLE events;
ALTER TABLE stream_events RENAME TO events;
ALTER SEQUENCE stream_events_id_seq RENAME TO events_id_seq;
ALTER INDEX stream_events_pkey RENAME TO events_pkey;

-- The index in a schema of its own, as SQLite keeps it in a file of its own; filing starts
-- from the beginning of the log.
CREATE SCHEMA idx;
CREATE TABLE idx.event_index (
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    PRIMARY KEY (stream_id, seq)
);
-- The last event filed, named by its stream and seq too, to tell an index that does not
-- belong to this log.
CREATE TABLE idx.event_filing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL,
    last_stream TEXT,
    last_seq BIGINT
);
INSERT INTO idx.event_filing VALUES (1, 0, NULL, NULL);
