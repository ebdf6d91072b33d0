-- A customer is a contact across conversations: a phone number, and the id the customer's
-- own site knows them by, which a returning visitor proves with a signature.
ALTER TABLE customers ADD COLUMN phone TEXT;
ALTER TABLE customers ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX customers_by_external_id ON customers (external_id);

-- The secret a team's site signs contact identities with (HMAC-SHA256 of the external id).
-- Kept apart from `teams`, which every staff member may list.
CREATE TABLE team_secrets (
    team_id TEXT PRIMARY KEY NOT NULL REFERENCES teams (id),
    identity_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
