-- Records elsewhere (tickets, orders) linked to a conversation, kept in step with its
-- linked / unlinked events.
CREATE TABLE conversation_links (
    conversation_id TEXT NOT NULL REFERENCES conversations (id),
    system TEXT NOT NULL,
    record_id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    since_seq BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, system, record_id)
);

-- A team's canned responses: a shortcut agents type, and the text it stands for.
CREATE TABLE canned_responses (
    team_id TEXT NOT NULL REFERENCES teams (id),
    shortcut TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (team_id, shortcut)
);
