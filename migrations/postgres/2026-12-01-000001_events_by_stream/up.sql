-- Events belong to a stream (a conversation today, a team channel later), keyed by
-- (stream_id, seq), and no longer reference the conversations table.
ALTER TABLE events DROP CONSTRAINT events_conversation_id_fkey;
ALTER TABLE events RENAME COLUMN conversation_id TO stream_id;
