-- Team chat: channels and direct messages among staff. Their events are in the shared
-- event log; these tables are kept in step with them.
CREATE TABLE channels (
    id TEXT PRIMARY KEY NOT NULL,
    visibility TEXT NOT NULL,
    -- Unique among channels; none for a direct message.
    name TEXT UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    -- A direct message's members, sorted: the same people always meet in the same one.
    direct_key TEXT UNIQUE,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE channel_members (
    channel_id TEXT NOT NULL REFERENCES channels (id),
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    since_seq BIGINT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_by_user ON channel_members (user_id);
-- A member's own choice, not an event of the channel: muted channels raise no unread
-- total or notification (mentions still count).
CREATE TABLE channel_mutes (
    channel_id TEXT NOT NULL REFERENCES channels (id),
    user_id TEXT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
