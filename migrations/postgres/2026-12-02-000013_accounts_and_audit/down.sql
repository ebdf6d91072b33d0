DROP TABLE audit_log;
DROP INDEX tokens_by_user;
ALTER TABLE tokens DROP COLUMN user_agent;
ALTER TABLE tokens DROP COLUMN client_addr;
ALTER TABLE users DROP COLUMN disabled;
