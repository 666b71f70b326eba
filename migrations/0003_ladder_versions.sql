-- Ladder edits are guarded like commands: each replacement bumps `version`,
-- and a PUT with `If-Match` only lands on the version it names (409 otherwise),
-- so two concurrent edits never silently overwrite each other.
ALTER TABLE ladders ADD COLUMN version bigint NOT NULL DEFAULT 1;
