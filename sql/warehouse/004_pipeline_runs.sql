-- Operations: the scheduler's run history and the console's run requests. Kept in the warehouse because the
-- scheduler's lock lives there too (pg_advisory_lock on the key below), so two schedulers never overlap and
-- the history is never split between machines.
--   Lock key: pg_try_advisory_lock(hashtext('fleetpipe.scheduler')) held on the run's connection.
CREATE SCHEMA ops;

-- One row per pipeline run (export -> load -> dbt build -> verify).
CREATE TABLE ops.pipeline_runs (
    run_id      bigserial   PRIMARY KEY,
    scheduler   text        NOT NULL,                -- host:pid of the scheduler that ran it
    trigger     text        NOT NULL CHECK (trigger IN ('schedule', 'manual', 'once')),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome     text        NOT NULL DEFAULT 'running'
                            CHECK (outcome IN ('running', 'success', 'failed', 'abandoned')),
    error       text,
    CHECK ((outcome = 'running') = (finished_at IS NULL))
);
CREATE INDEX pipeline_runs_started_idx ON ops.pipeline_runs (started_at DESC);

-- One row per attempt of a step; a retried step has attempts 1..n, the last one tells its outcome.
CREATE TABLE ops.pipeline_steps (
    run_id      bigint      NOT NULL REFERENCES ops.pipeline_runs (run_id) ON DELETE CASCADE,
    step        text        NOT NULL CHECK (step IN ('export', 'load', 'dbt_build', 'verify')),
    attempt     integer     NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    rows        bigint      CHECK (rows >= 0),       -- rows exported / loaded / built; NULL when not counted
    outcome     text        NOT NULL DEFAULT 'running'
                            CHECK (outcome IN ('running', 'success', 'failed', 'skipped')),
    error       text,
    detail      jsonb,                               -- step-specific: verify's stages, dbt's test counts
    PRIMARY KEY (run_id, step, attempt)
);

-- A request for a run out of schedule (the console's "run now"). The scheduler claims the oldest unclaimed
-- request at its next tick (and on NOTIFY fleetpipe_run_request) and records which run served it.
CREATE TABLE ops.run_requests (
    request_id   bigserial   PRIMARY KEY,
    requested_at timestamptz NOT NULL DEFAULT now(),
    requested_by text        NOT NULL,
    run_id       bigint      REFERENCES ops.pipeline_runs (run_id) ON DELETE SET NULL
);
CREATE INDEX run_requests_open_idx ON ops.run_requests (requested_at) WHERE run_id IS NULL;
