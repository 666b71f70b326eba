-- Which streams an organisation's report "as known at" a moment can need.
--
-- A report with `known_at` replays events rather than reading the read
-- models. An organisation's report needs only the streams of that
-- organisation's posts and of the people who ever held a spell in it or
-- occupied one of its posts. Every such stream holds an event recorded by
-- then that names the organisation (a registration, role change or
-- rejoining, whose `organisation` is always given; a post's establishment),
-- and the occupants of its posts are named by the posts' own fill events.
-- The events table is append-only, so an index over it is never narrowed by
-- a later retraction: the streams it finds for (organisation, recorded at or
-- before T) are a superset of what the report needed at T
-- (docs/design.md, "Known at: replaying only the report's streams").
--
-- The index covers only the events that name an organisation (a partial
-- index), and carries the stream's key so that the lookup never reads the
-- table's rows.
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

CREATE INDEX events_organisation_idx
    ON events (tenure_event_organisation(event_type, payload), recorded_at)
    INCLUDE (aggregate_type, aggregate_id)
    WHERE tenure_event_organisation(event_type, payload) IS NOT NULL;
