DELETE FROM events WHERE stream_id NOT IN (SELECT id FROM conversations);
ALTER TABLE events RENAME COLUMN stream_id TO conversation_id;
ALTER TABLE events ADD CONSTRAINT events_conversation_id_fkey
    FOREIGN KEY (conversation_id) REFERENCES conversations (id) ON DELETE CASCADE;
