-- Retried sends are recognised by the conversation actor, which rebuilds its memory of
-- client ids from the stored events. This index only repeated that check, and keeping it
-- cost every message one more b-tree page written (about a third of the writer's work).
DROP INDEX events_by_client_id;
