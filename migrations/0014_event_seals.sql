-- Tamper evidence: a hash chain over the events, written by the sealer
-- (src/audit/sealer.rs) after the events commit, never by the append path.
--
-- One row per sealed event. The chain runs in commit order, the order the
-- gap-safe reader walks: (transaction_id, global_position). Each `hash` is
-- SHA-256 over the previous seal's hash and a canonical encoding of every
-- column that defines the event (docs/design.md "Tamper evidence"), so
-- editing, deleting or slipping in an event anywhere before the head
-- changes every hash from there on. `tenure verify` recomputes the chain
-- from the events and names the first event that no longer matches.
--
-- The seals are not a second copy of the truth: they are only ever
-- compared with a chain recomputed from `events`. A superuser who rewrites
-- both is caught by a head printed outside the database (a board paper).
--
-- `recorded_by`, `source` and `correlation_id` are copies of the event's
-- metadata taken when it is sealed, indexed so that the audit feed can
-- filter on them at the cost of a page rather than of the whole table
-- without adding any index or trigger to `events` (whose insert speed the
-- imports depend on). The feed reads the event itself from `events`.
CREATE TABLE event_seals
(
    global_position bigint      PRIMARY KEY,
    transaction_id  xid8        NOT NULL,
    hash            bytea       NOT NULL CHECK (length(hash) = 32),
    recorded_by     text,
    source          text,
    correlation_id  text,
    sealed_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The chain's order; its last row is the head.
CREATE UNIQUE INDEX event_seals_chain_idx ON event_seals (transaction_id, global_position);
-- The audit feed's filters, each walked in chain order.
CREATE INDEX event_seals_recorded_by_idx ON event_seals (recorded_by, transaction_id, global_position);
CREATE INDEX event_seals_source_idx ON event_seals (source, transaction_id, global_position);
CREATE INDEX event_seals_correlation_idx ON event_seals (correlation_id, transaction_id, global_position);

-- A seal, once written, is never changed: the same guard as the events'
-- (0001). It costs nothing when sealing, which only inserts.
CREATE TRIGGER event_seals_no_update_or_delete
    BEFORE UPDATE OR DELETE ON event_seals
    FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER event_seals_no_truncate
    BEFORE TRUNCATE ON event_seals
    FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();
