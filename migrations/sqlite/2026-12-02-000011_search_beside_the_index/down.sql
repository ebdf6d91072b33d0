CREATE VIRTUAL TABLE message_search USING fts5(
    body,
    stream_id UNINDEXED,
    seq UNINDEXED,
    kind UNINDEXED,
    tokenize = 'unicode61'
);
INSERT INTO message_search (body, stream_id, seq, kind)
    SELECT COALESCE(json_extract(payload, '$.body'), ''), stream_id, seq, kind
    FROM events WHERE kind IN ('reply', 'note');
