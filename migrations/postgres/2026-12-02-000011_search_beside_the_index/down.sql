DROP TABLE idx.search_filing;
DROP TABLE idx.message_search;
CREATE TABLE message_search (
    body TEXT NOT NULL,
    stream_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    document TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    PRIMARY KEY (stream_id, seq)
);
CREATE INDEX message_search_document ON message_search USING GIN (document);
INSERT INTO message_search (body, stream_id, seq, kind)
    SELECT COALESCE(payload::json->>'body', ''), stream_id, seq, kind
    FROM events WHERE kind IN ('reply', 'note');
