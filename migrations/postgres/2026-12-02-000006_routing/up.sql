-- How each team's new conversations find an agent: `manual` (the waiting queue) or
-- `auto` (offered to an available agent with fewer than `capacity` open conversations).
CREATE TABLE team_routing (
    team_id TEXT PRIMARY KEY NOT NULL REFERENCES teams (id),
    mode TEXT NOT NULL,
    capacity INTEGER NOT NULL
);
