-- The event store. Never edit a migration once it has been applied: add a new one.
--
-- `events` is postgres-es 0.5's table, column for column (it reads and writes
-- these seven columns by name), plus what postgres-es lacks and tenure needs:
--   global_position  total order of every event across all aggregates;
--   transaction_id   the writing transaction, so readers can tell which
--                    positions may still be committed late (see below);
--   recorded_at      the recorded clock: when tenure learned of the event.
-- The defaults fill the extra columns when postgres-es's own INSERT is used.
CREATE TABLE events
(
    aggregate_type  text                         NOT NULL,
    aggregate_id    text                         NOT NULL,
    sequence        bigint CHECK (sequence >= 1) NOT NULL,
    event_type      text                         NOT NULL,
    event_version   text                         NOT NULL,
    payload         json                         NOT NULL,
    metadata        json                         NOT NULL,
    global_position bigint GENERATED ALWAYS AS IDENTITY,
    transaction_id  xid8                         NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at     timestamptz                  NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

CREATE UNIQUE INDEX events_global_position_idx ON events (global_position);
-- The gap-safe reader walks (transaction_id, global_position).
CREATE INDEX events_transaction_position_idx ON events (transaction_id, global_position);
-- "As known at" replays select by the recorded clock.
CREATE INDEX events_recorded_at_idx ON events (recorded_at, global_position);

-- Append-only, enforced by the database itself: a correction is a new event.
CREATE FUNCTION events_are_append_only() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'events are append-only: % is not allowed on the event store', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Wake projectors promptly. Identical payloads in one transaction are
-- delivered once, so a many-event commit sends one notification.
CREATE FUNCTION events_notify() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    PERFORM pg_notify('tenure_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify_after_insert
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_notify();

-- Idempotency keys live beside the events they produced and are written in
-- the same transaction, so a key is stored if and only if its events are.
CREATE TABLE idempotency_keys
(
    idempotency_key     text        PRIMARY KEY,
    request_fingerprint text        NOT NULL,
    response_status     smallint    NOT NULL,
    response_body       jsonb       NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Career ladders: reference data an organisation may replace without code
-- changes. Events carry the role code and the level in force when recorded,
-- so a later ladder edit never rewrites history.
CREATE TABLE ladders
(
    organisation text        PRIMARY KEY,
    roles        jsonb       NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_by   text        NOT NULL
);

-- An external reference names one participant in the whole store. The
-- command checks first (for a clear message); this index settles races.
CREATE UNIQUE INDEX events_participant_external_ref_idx
    ON events ((payload -> 'Registered' ->> 'external_ref'))
    WHERE aggregate_type = 'participant' AND event_type = 'ParticipantRegistered';
