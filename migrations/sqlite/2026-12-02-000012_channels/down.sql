DROP TABLE channel_mutes;
DROP TABLE channel_members;
DROP TABLE channels;
