-- A conversation may be visible only to a list of staff (and admins): `listed`, and the
-- list, kept in step with its viewers_set / viewers_cleared events.
ALTER TABLE conversations ADD COLUMN listed BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE conversation_viewers (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id TEXT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX conversation_viewers_by_user ON conversation_viewers (user_id);
