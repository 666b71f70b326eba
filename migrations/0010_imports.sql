-- Imports: one row per file imported (not per dry run), for
-- `GET /api/v1/imports`, `tenure import` and auditors. The facts themselves
-- are events like any other; each carries the import's correlation id
-- (`import:<sha256 of the file>`), its line (`source`) and the fact's key
-- (`idempotency_key`), so this table only summarises.
CREATE TABLE imports
(
    import_id              uuid        PRIMARY KEY,
    file_name              text        NOT NULL,
    sha256                 text        NOT NULL,
    recorded_by            text        NOT NULL,
    started_at             timestamptz NOT NULL,
    finished_at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    rows_read              bigint      NOT NULL,
    people                 bigint      NOT NULL,
    facts_recorded         bigint      NOT NULL,
    facts_already_recorded bigint      NOT NULL,
    rows_refused           bigint      NOT NULL,
    people_refused         bigint      NOT NULL,
    events_appended        bigint      NOT NULL
);

CREATE INDEX imports_sha256_idx ON imports (sha256);
