DROP TABLE attachments;
DROP TABLE read_markers;
DROP TABLE mentions;
DROP TABLE message_states;
