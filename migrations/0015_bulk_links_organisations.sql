-- A bulk append (an import's chunk) writes the `event_organisations` links
-- of its events itself, reading each payload's organisation as it writes
-- the `COPY` (src/event_store/links.rs), and says so for its own
-- transaction with the setting `tenure.organisations_linked`. The statement
-- trigger of 0008 then has nothing to do: parsing every new payload in
-- PL/pgSQL was a sixth of PostgreSQL's work during an import. Every other
-- append is linked by the trigger exactly as before.
CREATE OR REPLACE FUNCTION events_link_organisations() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    IF current_setting('tenure.organisations_linked', true) = 'on' THEN
        RETURN NULL;
    END IF;
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
