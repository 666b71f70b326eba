-- Bearer tokens for the HTTP API (issue #12; docs/design.md "Authentication
-- and roles"). Created and revoked by `tenure token` from the command line,
-- which runs with the database owner's rights; the server only reads this
-- table (its database role is granted SELECT on it and nothing more).
--
-- Only the SHA-256 digest of each token is kept. A token is 256 random bits,
-- so no dictionary or brute force can find one from its digest, and a slow
-- password hash (argon2) would add nothing but a cost on every request.
--
-- `name` is what the events' `recorded_by` says for every command the token
-- sends, so a name is never reused: a revoked token keeps its row (and its
-- name) for as long as its events name it.
CREATE TABLE access_tokens
(
    name         text        PRIMARY KEY
        CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$'),
    role         text        NOT NULL
        CHECK (role IN ('recorder', 'analyst', 'auditor', 'board', 'admin')),
    token_sha256 bytea       NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
