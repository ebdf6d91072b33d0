-- Events belong to a stream (a conversation today, a team channel later), keyed by
-- (stream_id, seq), and no longer reference the conversations table. SQLite cannot drop a
-- foreign key in place, so the table is rebuilt.
CREATE TABLE stream_events (
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT,
    client_id TEXT,
    customer_visible BOOLEAN NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (stream_id, seq)
);
INSERT INTO stream_events
    SELECT conversation_id, seq, kind, author_kind, author_id, client_id, customer_visible,
           payload, created_at
    FROM events;
DROP TABLE events;
ALTER TABLE stream_events RENAME TO events;
