-- Whole-table data tests on their own schedule (fleetpipe scheduler --full-tests-every, and on request from
-- the console): every run's `dbt build` tests the rows it wrote; a `dbt_full_tests` step of the run that is
-- due tests whole tables (dbt/macros/trip_changes.sql, new_slice). A run request can ask for it.
ALTER TABLE ops.pipeline_steps DROP CONSTRAINT pipeline_steps_step_check,
    ADD CONSTRAINT pipeline_steps_step_check
        CHECK (step IN ('export', 'load', 'dbt_build', 'dbt_full_tests', 'verify'));
ALTER TABLE ops.run_requests ADD COLUMN full_tests boolean NOT NULL DEFAULT false;

-- When the source snapshot an export run read was taken (its manifest's snapshot_at): every source commit
-- before it is in the run. The scheduler's warehouse freshness is now() minus the newest of these among
-- the runs loaded before the marts were last built.
ALTER TABLE raw.load_runs ADD COLUMN source_snapshot_at timestamptz;
