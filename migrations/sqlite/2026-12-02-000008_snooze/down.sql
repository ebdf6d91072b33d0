ALTER TABLE conversations DROP COLUMN snoozed_until;
