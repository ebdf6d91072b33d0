-- Who is responsible for each conversation (kept in step with its assigned/unassigned
-- events), for the inboxes.
CREATE TABLE assignees (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    user_id TEXT NOT NULL,
    since_seq BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX assignees_by_user ON assignees (user_id);
