DROP TABLE conversation_viewers;
ALTER TABLE conversations DROP COLUMN listed;
