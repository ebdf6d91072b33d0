-- The search index moves beside the event index (`idx.message_search`, created with it on
-- connection, see store/connection.rs) and is filed from the log in batches like it, so
-- the writer's commits no longer pay for it; it is filed again from the start of the log.
DROP TABLE main.message_search;
