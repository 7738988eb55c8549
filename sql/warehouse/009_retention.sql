-- The hot window's drops (fleetpipe retain, docs/ARCHITECTURE.md "Data lifecycle"). A partition of the
-- source's trips is dropped only once raw.trips holds exactly its rows (same count and checksum); the
-- webapp database's own ledger (trip_partitions) records it in the drop's transaction, and this copy
-- tells the warehouse side: a new export epoch's sweep leaves the rows of dropped ranges alone (they are
-- gone from the source by design, not deleted), and the console's batch page lists the drops.
CREATE TABLE ops.retention_drops (
    table_name     text        NOT NULL,
    partition_name text        NOT NULL,
    range_start    timestamp   NOT NULL,
    range_end      timestamp   NOT NULL CHECK (range_end > range_start),
    rows           bigint      NOT NULL CHECK (rows >= 0),
    checksum       numeric     NOT NULL,
    dropped_at     timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, range_start, partition_name)
);

-- The latest comparison of each partition past the window that was not dropped (yet): what differed. A
-- partition that keeps differing is compared again after a growing pause, not on every run.
CREATE TABLE ops.retention_checks (
    table_name     text        NOT NULL,
    partition_name text        NOT NULL,
    range_start    timestamp   NOT NULL,
    range_end      timestamp   NOT NULL,
    checked_at     timestamptz NOT NULL DEFAULT now(),
    failures       integer     NOT NULL DEFAULT 1 CHECK (failures >= 1),
    source_rows    bigint,
    warehouse_rows bigint,
    reason         text        NOT NULL,
    PRIMARY KEY (table_name, partition_name, range_start)
);

ALTER TABLE ops.pipeline_steps DROP CONSTRAINT pipeline_steps_step_check,
    ADD CONSTRAINT pipeline_steps_step_check
        CHECK (step IN ('export', 'load', 'dbt_build', 'dbt_full_tests', 'verify', 'retain'));
