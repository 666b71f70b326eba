-- Which streams an organisation's report "as known at" a moment can need.
--
-- A report with `known_at` replays events rather than reading the read
-- models. An organisation's report needs only the streams of that
-- organisation's posts and of the people who ever held a spell in it or
-- occupied one of its posts. Every such stream holds an event recorded by
-- then that names the organisation (a registration, role change or
-- rejoining, whose `organisation` is always given; a post's establishment),
-- and the occupants of its posts are named by the posts' own fill events.
--
-- `event_organisations` links each organisation to every stream with an
-- event naming it, with the recorded time of the first such event. A trigger
-- writes it in the same statement as the events (so it covers every event
-- the moment it commits, whether or not the projector has reached it or
-- parked it), and nothing ever removes a link: a later retraction or a move
-- elsewhere never narrows it. The streams linked to (organisation, first
-- recorded at or before T) are therefore a superset of what the report
-- needed at T (docs/design.md, "Known at: replaying only the report's
-- streams"). One row per (organisation, stream), not per event, so the
-- lookup reads about as many rows as it returns.

-- The organisation an event names, or null.
CREATE FUNCTION tenure_event_organisation(event_type text, payload json) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT CASE event_type
           WHEN 'ParticipantRegistered' THEN payload -> 'Registered' ->> 'organisation'
           WHEN 'RoleChanged' THEN payload -> 'RoleChanged' ->> 'organisation'
           WHEN 'RejoiningRecorded' THEN payload -> 'RejoiningRecorded' ->> 'organisation'
           WHEN 'PostEstablished' THEN payload -> 'Established' ->> 'organisation'
       END
$$;

CREATE TABLE event_organisations
(
    organisation      text        NOT NULL,
    aggregate_type    text        NOT NULL,
    aggregate_id      text        NOT NULL,
    -- When the stream first named the organisation (recorded time).
    first_recorded_at timestamptz NOT NULL,
    PRIMARY KEY (organisation, aggregate_type, aggregate_id)
);

CREATE INDEX event_organisations_known_at_idx
    ON event_organisations (organisation, first_recorded_at) INCLUDE (aggregate_type, aggregate_id);

CREATE FUNCTION events_link_organisations() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    INSERT INTO event_organisations (organisation, aggregate_type, aggregate_id, first_recorded_at)
    SELECT organisation, aggregate_type, aggregate_id, min(recorded_at)
      FROM (SELECT tenure_event_organisation(event_type, payload) AS organisation,
                   aggregate_type, aggregate_id, recorded_at
              FROM new_events) AS named
     WHERE organisation IS NOT NULL
     GROUP BY organisation, aggregate_type, aggregate_id
        ON CONFLICT (organisation, aggregate_type, aggregate_id) DO UPDATE
       SET first_recorded_at = excluded.first_recorded_at
     WHERE excluded.first_recorded_at < event_organisations.first_recorded_at;
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_link_organisations_after_insert
    AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION events_link_organisations();

-- The events already stored.
INSERT INTO event_organisations (organisation, aggregate_type, aggregate_id, first_recorded_at)
SELECT tenure_event_organisation(event_type, payload), aggregate_type, aggregate_id, min(recorded_at)
  FROM events
 WHERE tenure_event_organisation(event_type, payload) IS NOT NULL
 GROUP BY 1, 2, 3;
