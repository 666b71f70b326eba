-- Indexes for reports that read only the people their periods select.
--
-- 0006 let an organisation's report find everyone who ever held a spell
-- there; at a national scale that is still a whole authority's ten years
-- for a question about six months of team managers. A report now asks for
-- the people with a spell at the organisation overlapping one of its
-- periods (of the roles asked), a leaving there in one, or a move out of it
-- in one (docs/read-models.md, "What a report reads"), and for the cohorts
-- it names: each part walks one of these indexes, and the INCLUDE columns
-- let it answer from the index alone.
--
-- As in 0004 and 0006, the DDL function is wrapped, so live and rebuilt
-- schemas keep coming from one function; a rebuild creates the indexes with
-- the tables.
ALTER FUNCTION tenure_create_read_models(text) RENAME TO tenure_create_read_models_before_0007;

CREATE FUNCTION tenure_create_report_window_indexes(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    EXECUTE format('CREATE INDEX spells_organisation_from_idx ON %I.spells '
                   '(organisation, from_on) INCLUDE (until_on, role_code, team, participant_id)', target);
    EXECUTE format('CREATE INDEX spells_organisation_role_from_idx ON %I.spells '
                   '(organisation, role_code, from_on) INCLUDE (until_on, team, participant_id)', target);
    EXECUTE format('CREATE INDEX leavings_organisation_idx ON %I.leavings '
                   '(organisation, effective_on) INCLUDE (role_code, participant_id)', target);
    EXECUTE format('CREATE INDEX moves_from_organisation_idx ON %I.moves '
                   '(from_organisation, effective_on) INCLUDE (to_organisation, rejoining, from_role, participant_id)',
                   target);
    EXECUTE format('CREATE INDEX cohorts_name_idx ON %I.cohorts (name)', target);
END
$$;

CREATE FUNCTION tenure_create_read_models(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM tenure_create_read_models_before_0007(target);
    PERFORM tenure_create_report_window_indexes(target);
END
$$;

SELECT tenure_create_report_window_indexes('read_models');
