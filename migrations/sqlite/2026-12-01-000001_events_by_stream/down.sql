CREATE TABLE conversation_events (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT,
    client_id TEXT,
    customer_visible BOOLEAN NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);
INSERT INTO conversation_events
    SELECT stream_id, seq, kind, author_kind, author_id, client_id, customer_visible,
           payload, created_at
    FROM events WHERE stream_id IN (SELECT id FROM conversations);
DROP TABLE events;
ALTER TABLE conversation_events RENAME TO events;
