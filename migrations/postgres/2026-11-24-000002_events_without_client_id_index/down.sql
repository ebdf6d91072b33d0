CREATE UNIQUE INDEX events_by_client_id ON events (conversation_id, author_id, client_id);
