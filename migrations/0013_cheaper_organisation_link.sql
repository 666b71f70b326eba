-- The organisation an event names, for `event_organisations` (0008), read
-- with one pass over the payload's text instead of two: `payload -> 'X'
-- ->> 'organisation'` parses the whole payload and then the object it
-- returns again, and the statement trigger runs this for every event
-- appended (a tenth of PostgreSQL's work during a bulk import). The
-- answer is the same for every payload, a missing key or a JSON null
-- giving NULL either way; no index uses the function, so replacing it
-- needs no rebuild.
CREATE OR REPLACE FUNCTION tenure_event_organisation(event_type text, payload json) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$
SELECT CASE event_type
           WHEN 'ParticipantRegistered' THEN json_extract_path_text(payload, 'Registered', 'organisation')
           WHEN 'RoleChanged' THEN json_extract_path_text(payload, 'RoleChanged', 'organisation')
           WHEN 'RejoiningRecorded' THEN json_extract_path_text(payload, 'RejoiningRecorded', 'organisation')
           WHEN 'PostEstablished' THEN json_extract_path_text(payload, 'Established', 'organisation')
       END
$$;
