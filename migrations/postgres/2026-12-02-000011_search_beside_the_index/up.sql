-- The search index moves beside the event index (schema `idx`) and is filed from the log in
-- batches like it, so the writer's commits no longer pay for it; it is filed again from the
-- start of the log.
DROP TABLE message_search;
CREATE TABLE idx.message_search (
    body TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    document TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    PRIMARY KEY (stream_id, seq)
);
CREATE INDEX message_search_document ON idx.message_search USING GIN (document);
CREATE TABLE idx.search_filing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL
);
INSERT INTO idx.search_filing VALUES (1, 0);
