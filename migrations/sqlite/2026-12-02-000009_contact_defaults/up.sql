-- A contact's predefined handling of their new conversations: who set it, whether those
-- conversations are visible only to a list, and the staff it names (as assignees, as
-- viewers on the list, or both).
CREATE TABLE contact_defaults (
    customer_id TEXT PRIMARY KEY NOT NULL REFERENCES customers (id),
    set_by TEXT NOT NULL REFERENCES users (id),
    set_at BIGINT NOT NULL,
    listed BOOLEAN NOT NULL
);
CREATE TABLE contact_default_staff (
    customer_id TEXT NOT NULL REFERENCES contact_defaults (customer_id),
    user_id TEXT NOT NULL REFERENCES users (id),
    assignee BOOLEAN NOT NULL,
    viewer BOOLEAN NOT NULL,
    PRIMARY KEY (customer_id, user_id)
);
