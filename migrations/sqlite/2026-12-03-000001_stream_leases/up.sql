-- Which node owns each live stream when several nodes share the database. `epoch` grows on
-- every change of hands and fences the writes of an owner that lost its lease.
CREATE TABLE stream_leases (
    stream_id TEXT PRIMARY KEY NOT NULL,
    node TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX stream_leases_by_node ON stream_leases (node);
