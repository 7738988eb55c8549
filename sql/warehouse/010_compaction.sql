-- Bucket compaction (common/batch/compaction.h): `fleetpipe compact` rewrites a closed day's small objects
-- into a few large ones holding exactly their lines, committed by one compaction manifest. The loader follows
-- compactions as it follows runs: it lists only those it has not finished.

-- The compaction that wrote an object (NULL: an export run's). via_compaction: recorded, not read, because
-- every object it replaces was already loaded with the bytes the compaction lists (its rows are those rows).
ALTER TABLE raw.load_manifest
    ADD COLUMN compaction     bigint,
    ADD COLUMN via_compaction boolean NOT NULL DEFAULT false;
ALTER TABLE raw.load_quarantine ADD COLUMN compaction bigint;

-- One row per committed compaction the loader has finished (every object it wrote loaded, recorded or
-- quarantined); superseded: an older epoch's, never loaded.
CREATE TABLE raw.load_compactions (
    prefix      text        NOT NULL,
    compaction  bigint      NOT NULL,
    epoch       integer     NOT NULL,
    table_name  text        NOT NULL,
    dt          date        NOT NULL,
    outputs     integer     NOT NULL,
    replaced    integer     NOT NULL,
    superseded  boolean     NOT NULL DEFAULT false,
    finished_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (prefix, compaction)
);

-- Objects a finished compaction replaced: accounted for by its objects, whether or not they were loaded
-- themselves (they may be gone from the bucket), so the runs that listed them can finish.
CREATE TABLE raw.load_replaced (
    object_key  text        PRIMARY KEY,
    prefix      text        NOT NULL,
    compaction  bigint      NOT NULL,
    sha256      text        NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE ops.pipeline_steps DROP CONSTRAINT pipeline_steps_step_check,
    ADD CONSTRAINT pipeline_steps_step_check
        CHECK (step IN ('export', 'load', 'dbt_build', 'dbt_full_tests', 'verify', 'retain', 'compact'));
