-- How a facts file names cohorts and posts: a cohort by its programme and
-- name, a post by its organisation and the authority's own reference (an
-- optional field of PostEstablished since this migration; older posts have
-- none). An import looks up every name its file uses, once per import;
-- without these indexes each lookup read every opening or establishment.
-- The expressions and predicates are the queries' own (src/import/names.rs).
CREATE INDEX events_cohort_name_idx
    ON events ((payload -> 'Opened' ->> 'programme'), (payload -> 'Opened' ->> 'name'))
    WHERE aggregate_type = 'cohort' AND event_type = 'CohortOpened';

-- A reference names one post of an organisation. The import checks first
-- (for a clear row error); this index settles it whatever writes. Posts
-- without a reference are not indexed.
CREATE UNIQUE INDEX events_post_reference_idx
    ON events ((payload -> 'Established' ->> 'organisation'), (payload -> 'Established' ->> 'reference'))
    WHERE aggregate_type = 'post' AND event_type = 'PostEstablished'
      AND payload -> 'Established' ->> 'reference' IS NOT NULL;
