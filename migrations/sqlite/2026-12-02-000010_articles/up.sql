-- A team's knowledge base: articles suggested to customers waiting for an agent.
CREATE TABLE articles (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX articles_by_team ON articles (team_id, title);
-- Their words (stemmed, so "resetting" finds "reset"), kept in step with the articles.
CREATE VIRTUAL TABLE article_search USING fts5(
    title,
    body,
    article_id UNINDEXED,
    team_id UNINDEXED,
    tokenize = 'porter unicode61'
);
