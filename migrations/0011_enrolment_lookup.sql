-- Which cohorts enrol a participant: asked by every leaving (and
-- retraction of employment) to keep enrolments inside employment, by the
-- group writer's re-check, and by an import for each chunk of people.
-- Without this index each of those read every enrolment event of every
-- cohort. The expression and the predicate are exactly the queries' own
-- (`COHORTS_ENROLLING`, `COHORTS_ENROLLING_ANY` in src/event_store/read.rs),
-- so the planner can use it.
CREATE INDEX events_enrolled_participant_idx
    ON events ((payload -> 'ParticipantEnrolled' ->> 'participant_id'))
    WHERE aggregate_type = 'cohort' AND event_type = 'ParticipantEnrolled';
