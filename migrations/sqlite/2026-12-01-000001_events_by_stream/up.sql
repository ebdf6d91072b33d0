-- Events of every stream (a conversation today, a team channel later) in one append-only
-- log: rows are numbered by `id` in the order they were written and never rewritten, so a
-- commit touches only the last page or two of it, however many streams it carries.
-- `idx.event_index`, in a file of its own beside the database (`…-index`, created on
-- connection, see store/connection.rs), finds a stream's events by (stream_id, seq). It is
-- filed in batches up to `idx.event_filing.last_id`; the rows after that are found by `id`.
-- Keeping an index in step at every commit would rewrite one page per stream per commit.
CREATE TABLE stream_events (
    id INTEGER PRIMARY KEY,
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

