-- Least privilege on the warehouse (see sql/grants/webapp.sql for how this file is run). The pipeline's role
-- loads raw.*, keeps ops.* and owns dbt's schemas, whose relations dbt creates and replaces; the console
-- reads everything and may only queue run requests.

REVOKE ALL ON DATABASE ${DB} FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE ${DB} TO ${PIPELINE}, ${CONSOLE};
-- Loads stage each batch in a temporary table.
GRANT TEMPORARY ON DATABASE ${DB} TO ${PIPELINE};

GRANT USAGE ON SCHEMA raw, ops TO ${PIPELINE}, ${CONSOLE};
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA raw, ops TO ${PIPELINE};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA raw, ops TO ${PIPELINE};
GRANT SELECT ON ALL TABLES IN SCHEMA raw, ops TO ${CONSOLE};
GRANT INSERT ON ops.run_requests TO ${CONSOLE};
-- raw.trips' day partitions (sql/warehouse/011_raw_trips_partitioned.sql): the loader has them made, retain
-- drops them; both functions run as their owner. Partitions made since the last `up` carry the parent's
-- grants (the function copies them).
GRANT EXECUTE ON FUNCTION raw.trip_partitions_ensure(date[]) TO ${PIPELINE};
GRANT EXECUTE ON FUNCTION raw.trip_partition_drop(text, xid8, xid8, date[], bigint[], numeric[]) TO ${PIPELINE};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA ops TO ${CONSOLE};

-- dbt's schemas (dbt/dbt_project.yml, dbt/profiles.yml) belong to the pipeline, and so does every relation
-- in them: dbt drops, renames and alters what it built, which only an owner may do. Relations an earlier
-- version built as the administrator change hands here.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SCHEMA IF NOT EXISTS analytics;
ALTER SCHEMA staging OWNER TO ${PIPELINE};
ALTER SCHEMA marts OWNER TO ${PIPELINE};
ALTER SCHEMA analytics OWNER TO ${PIPELINE};
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.oid::regclass AS rel,
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('staging', 'marts', 'analytics') AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND c.relowner <> ${PIPELINE_LITERAL}::regrole
          -- a sequence owned by a column moves with its table
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')
                          AND d.classid = 'pg_class'::regclass)
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', r.kind, r.rel, ${PIPELINE_LITERAL});
    END LOOP;
END $$;

-- The console reads the models, including those dbt builds after this ran.
GRANT USAGE ON SCHEMA staging, marts, analytics TO ${CONSOLE};
GRANT SELECT ON ALL TABLES IN SCHEMA staging, marts, analytics TO ${CONSOLE};
ALTER DEFAULT PRIVILEGES FOR ROLE ${PIPELINE} IN SCHEMA staging, marts, analytics
    GRANT SELECT ON TABLES TO ${CONSOLE};

-- The console's Storage card and `status` read every database's size and this server's WAL (pg_ls_waldir):
-- pg_monitor's read-only statistics, nothing that touches data.
GRANT pg_monitor TO ${CONSOLE};
