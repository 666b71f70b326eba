-- Parked events: events the projector could not apply to the read models
-- (a value PostgreSQL cannot store, a payload that no longer decodes). The
-- projector records each one here, in the same transaction that writes the
-- rest of its batch and moves the checkpoint, and carries on: one bad event
-- never stops the read models for everyone. A parked event stays in the
-- store untouched; its stream's rows stay as they were after the last of its
-- events that could be applied (a later retraction of the parked event
-- removes its effect, and then the stream projects again).
--
-- The table lives beside the other read models, so a rebuild (which fills
-- a fresh schema from the whole history and swaps it in) parks afresh.
-- 0002's DDL function is kept as it was and wrapped, so live and rebuilt
-- schemas still come from one function.
ALTER FUNCTION tenure_create_read_models(text) RENAME TO tenure_create_read_models_0002;

CREATE FUNCTION tenure_create_parked_events(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    EXECUTE format($ddl$
        CREATE TABLE %I.parked_events (
            global_position bigint PRIMARY KEY,
            aggregate_type  text NOT NULL,
            aggregate_id    text NOT NULL,
            sequence        bigint NOT NULL,
            event_type      text NOT NULL,
            -- why it could not be applied (the database's or the decoder's words)
            error           text NOT NULL,
            parked_at       timestamptz NOT NULL DEFAULT clock_timestamp()
        )$ddl$, target);
END
$$;

CREATE FUNCTION tenure_create_read_models(target text) RETURNS void
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM tenure_create_read_models_0002(target);
    PERFORM tenure_create_parked_events(target);
END
$$;

SELECT tenure_create_parked_events('read_models');
