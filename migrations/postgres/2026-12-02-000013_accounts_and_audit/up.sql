-- Disabled users, where a session was opened from, and the audit log.
ALTER TABLE users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE tokens ADD COLUMN client_addr TEXT;
ALTER TABLE tokens ADD COLUMN user_agent TEXT;
CREATE INDEX tokens_by_user ON tokens (user_id);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY NOT NULL,
    at BIGINT NOT NULL,
    actor_id TEXT,
    actor_name TEXT,
    action TEXT NOT NULL,
    target TEXT,
    target_name TEXT,
    detail TEXT NOT NULL,
    client_addr TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);
