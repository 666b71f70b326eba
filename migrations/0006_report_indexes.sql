-- Indexes for reports that read only what their filters select.
--
-- A report for an organisation reads that organisation's posts and the
-- people who ever held a spell in it (or occupied one of its posts), then
-- each of those people's rows by participant id (the primary keys); a name a
-- report is asked about (organisation, role, team) is checked with one
-- indexed lookup instead of a read of every row. Without these, every report
-- read every row of every read-model table, whatever it asked for.
--
-- As in 0004, the DDL function is wrapped, so live and rebuilt schemas keep
-- coming from one function; a rebuild creates the indexes with the tables.
ALTER FUNCTION tenure_create_read_models(text) RENAME TO tenure_create_read_models_before_0006;

CREATE FUNCTION tenure_create_report_indexes(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    EXECUTE format('CREATE INDEX spells_organisation_idx ON %I.spells (organisation, participant_id)', target);
    EXECUTE format('CREATE INDEX spells_role_code_idx ON %I.spells (role_code)', target);
    EXECUTE format('CREATE INDEX spells_team_idx ON %I.spells (team) WHERE team IS NOT NULL', target);
    EXECUTE format('CREATE INDEX posts_organisation_idx ON %I.posts (organisation)', target);
    EXECUTE format('CREATE INDEX posts_role_code_idx ON %I.posts (role_code)', target);
    EXECUTE format('CREATE INDEX cohorts_programme_idx ON %I.cohorts (programme)', target);
END
$$;

CREATE FUNCTION tenure_create_read_models(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM tenure_create_read_models_before_0006(target);
    PERFORM tenure_create_report_indexes(target);
END
$$;

SELECT tenure_create_report_indexes('read_models');
