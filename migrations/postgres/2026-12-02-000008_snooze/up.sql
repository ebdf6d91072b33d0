-- Until when a conversation is put aside (kept in step with its snoozed / woke events),
-- for the inboxes and for waking it on time.
ALTER TABLE conversations ADD COLUMN snoozed_until BIGINT;
