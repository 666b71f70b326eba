-- Read models: plain tables an analyst can query with psql or a BI tool.
-- They are derived from the events and can be rebuilt from zero at any time
-- (`tenure rebuild`), so nothing here is a source of truth.
--
-- The tables live in the schema `read_models`. A rebuild creates them afresh
-- in `read_models_next`, fills them from the whole history and swaps the two
-- schemas in one transaction, so readers see the old tables until the swap.
-- One function holds the DDL so the live and rebuilt tables never differ.
CREATE FUNCTION tenure_create_read_models(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    EXECUTE format('CREATE SCHEMA %I', target);

    -- One row per participant.
    EXECUTE format($ddl$
        CREATE TABLE %I.participants (
            participant_id uuid PRIMARY KEY,
            external_ref   text NOT NULL,
            joined_on      date NOT NULL,
            -- the stream version these rows reflect
            version        bigint NOT NULL
        )$ddl$, target);

    -- Employment in one role: employed at the END of every day from
    -- from_on up to the day before until_on (null: still in this role).
    EXECUTE format($ddl$
        CREATE TABLE %I.spells (
            participant_id uuid NOT NULL,
            ordinal        int  NOT NULL,
            organisation   text NOT NULL,
            team           text,
            role_code      text NOT NULL,
            role_level     smallint,
            post_id        uuid,
            basis          text NOT NULL,
            fte            double precision NOT NULL,
            from_on        date NOT NULL,
            until_on       date,
            ended_by       text,   -- 'leaving', 'role_change' or null
            PRIMARY KEY (participant_id, ordinal)
        )$ddl$, target);

    -- Moves: promotions, demotions and sideways moves, rejoinings included.
    EXECUTE format($ddl$
        CREATE TABLE %I.moves (
            participant_id    uuid NOT NULL,
            ordinal           int  NOT NULL,
            effective_on      date NOT NULL,
            from_role         text NOT NULL,
            from_level        smallint,
            from_organisation text NOT NULL,
            to_role           text NOT NULL,
            to_level          smallint,
            to_organisation   text NOT NULL,
            kind              text NOT NULL,  -- 'promotion', 'demotion', 'sideways'
            internal          boolean NOT NULL,
            rejoining         boolean NOT NULL,
            PRIMARY KEY (participant_id, ordinal)
        )$ddl$, target);

    -- Leaving events (not external moves) with the role held before.
    EXECUTE format($ddl$
        CREATE TABLE %I.leavings (
            participant_id uuid NOT NULL,
            ordinal        int  NOT NULL,
            effective_on   date NOT NULL,
            organisation   text NOT NULL,
            role_code      text NOT NULL,
            fte            double precision NOT NULL,
            PRIMARY KEY (participant_id, ordinal)
        )$ddl$, target);

    EXECUTE format($ddl$
        CREATE TABLE %I.exclusions (
            participant_id uuid NOT NULL,
            ordinal        int  NOT NULL,
            from_on        date NOT NULL,
            until_on       date,
            reason         text NOT NULL,
            PRIMARY KEY (participant_id, ordinal)
        )$ddl$, target);

    EXECUTE format($ddl$
        CREATE TABLE %I.cohorts (
            cohort_id uuid PRIMARY KEY,
            programme text NOT NULL,
            name      text NOT NULL,
            starts_on date NOT NULL,
            ends_on   date,
            version   bigint NOT NULL
        )$ddl$, target);

    EXECUTE format($ddl$
        CREATE TABLE %I.cohort_members (
            cohort_id      uuid NOT NULL,
            participant_id uuid NOT NULL,
            enrolled_on    date NOT NULL,
            completed_on   date,
            withdrawn_on   date,
            PRIMARY KEY (cohort_id, participant_id)
        )$ddl$, target);

    EXECUTE format($ddl$
        CREATE TABLE %I.posts (
            post_id           uuid PRIMARY KEY,
            organisation      text NOT NULL,
            title             text NOT NULL,
            role_code         text NOT NULL,
            established_on    date NOT NULL,
            disestablished_on date,
            version           bigint NOT NULL
        )$ddl$, target);

    EXECUTE format($ddl$
        CREATE TABLE %I.post_occupancies (
            post_id        uuid NOT NULL,
            ordinal        int  NOT NULL,
            participant_id uuid NOT NULL,
            basis          text NOT NULL,
            from_on        date NOT NULL,
            until_on       date,
            PRIMARY KEY (post_id, ordinal)
        )$ddl$, target);

    -- How far the projector has read: the (transaction, position) pair of
    -- the last event applied, updated in the same transaction as the rows.
    EXECUTE format($ddl$
        CREATE TABLE %I.checkpoint (
            id                   boolean PRIMARY KEY DEFAULT true CHECK (id),
            transaction_id       bigint NOT NULL,
            global_position      bigint NOT NULL,
            last_recorded_at     timestamptz,
            events_applied       bigint NOT NULL,
            updated_at           timestamptz NOT NULL DEFAULT clock_timestamp()
        )$ddl$, target);
    EXECUTE format(
        'INSERT INTO %I.checkpoint (transaction_id, global_position, events_applied) VALUES (0, 0, 0)',
        target);
END;
$$;

SELECT tenure_create_read_models('read_models');
