-- Ladder history (docs/metrics.md decision 14): the ladder as known at the
-- moment a report answers for applies to the whole of history, so a report
-- "as known at T" needs each organisation's ladder as it stood at T. Every
-- replacement is kept here, in the same transaction that writes `ladders`
-- (which stays the ladder in force now, with its If-Match version).
CREATE TABLE ladder_versions
(
    organisation text        NOT NULL,
    version      bigint      NOT NULL,
    roles        jsonb       NOT NULL,
    updated_by   text        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (organisation, version)
);

-- Only the ladder in force survives from before this table: it is known
-- from its last replacement on (earlier versions were overwritten), and
-- before that the organisation's history is judged with the default ladder.
INSERT INTO ladder_versions (organisation, version, roles, updated_by, recorded_at)
SELECT organisation, version, roles, updated_by, updated_at
  FROM ladders;

-- The read models remember which ladder version of each organisation they
-- judge with ({"organisation": version}; organisations absent are on the
-- default ladder). The projector compares it with `ladders` before each
-- batch and re-derives everyone who holds or held a role in an organisation
-- whose ladder changed, in the batch's transaction. Starting from '{}' makes
-- the first pass after this migration judge every organisation with a
-- ladder of its own by that ladder.
ALTER FUNCTION tenure_create_read_models(text) RENAME TO tenure_create_read_models_0004;

CREATE FUNCTION tenure_create_read_models(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM tenure_create_read_models_0004(target);
    EXECUTE format(
        'ALTER TABLE %I.checkpoint ADD COLUMN ladder_versions jsonb NOT NULL DEFAULT ''{}''', target);
END
$$;

ALTER TABLE read_models.checkpoint ADD COLUMN ladder_versions jsonb NOT NULL DEFAULT '{}';
