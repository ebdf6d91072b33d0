-- A team's knowledge base: articles suggested to customers waiting for an agent. Their
-- words are stemmed (so "resetting" finds "reset"), the title's counting most.
CREATE TABLE articles (
    id TEXT PRIMARY KEY NOT NULL,
    team_id TEXT NOT NULL REFERENCES teams (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    document TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
    ) STORED
);
CREATE INDEX articles_by_team ON articles (team_id, title);
CREATE INDEX articles_document ON articles USING GIN (document);
