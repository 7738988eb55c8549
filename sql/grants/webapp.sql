-- Least privilege on the operational database. Each of fleetpipe's services logs in as a role of its own
-- (src/common/config.h, DbService) holding only what it needs; the administrator that owns the schema is
-- used by provisioning alone. `fleetpipe up` runs this file after the migrations on every start, as the
-- administrator: every statement is idempotent, and a table a new migration adds is covered at once.
-- ${...} (upper case) stands for a quoted role or database name filled in by fleetpipe
-- (src/stack/provision_db.cpp).

-- Nothing by default: a role not named here cannot connect, and none may create objects in public.
REVOKE ALL ON DATABASE ${DB} FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE ${DB} TO ${APP}, ${GENERATOR}, ${REALTIME}, ${CONSOLE}, ${PIPELINE}, ${CDC};
GRANT USAGE ON SCHEMA public TO ${APP}, ${GENERATOR}, ${REALTIME}, ${CONSOLE}, ${PIPELINE}, ${CDC};

-- The web app reads and edits the fleet's data, deletes included. The triggers that keep trip_latest and
-- the delete log run as their owner (sql/webapp/007_delete_log.sql, 009_trigger_definers.sql): writers need
-- nothing on those tables.
GRANT SELECT, INSERT, UPDATE, DELETE ON drivers, vehicles, trips TO ${APP};
GRANT SELECT ON trip_latest, latest_locations, vehicle_latest_locations TO ${APP};

-- The simulated fleet adds vehicles, drivers and measurements (through a temporary staging table) and keeps
-- its resume points; it deletes nothing.
GRANT TEMPORARY ON DATABASE ${DB} TO ${GENERATOR};
GRANT SELECT, INSERT, UPDATE ON drivers, vehicles, trips, generator_checkpoints TO ${GENERATOR};
GRANT SELECT ON trip_latest, latest_locations, vehicle_latest_locations TO ${GENERATOR};

GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${APP}, ${GENERATOR};

-- trips is partitioned (sql/webapp/010_trips_partitioned.sql): its writers may have the partitions their
-- rows need made (the function runs as the owner); only the pipeline may drop one, and only one whose rows
-- it has found in the warehouse (`fleetpipe retain`).
GRANT EXECUTE ON FUNCTION trip_partitions_ensure(timestamp[]) TO ${APP}, ${GENERATOR}, ${PIPELINE};
GRANT EXECUTE ON FUNCTION trip_partition_drop(text, xid8, bigint, numeric) TO ${PIPELINE};

-- Readers: the realtime view's rebuild, the console's pages, export and verify.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${REALTIME}, ${CONSOLE}, ${PIPELINE};

-- `fleetpipe export --new-epoch` restamps rows that carry transaction ids from another database's future;
-- that column is all the pipeline may change here.
GRANT UPDATE (_export_xid) ON drivers, vehicles, trips, export_deletes TO ${PIPELINE};

-- Debezium's role (LOGIN REPLICATION, created by fleetpipe): reads the captured tables for its snapshot and
-- writes its heartbeat's one row.
GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${CDC};
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${CDC};
GRANT UPDATE ON cdc_heartbeat TO ${CDC};

-- The console's Storage card and `status` read every database's size and this server's WAL (pg_ls_waldir):
-- pg_monitor's read-only statistics, nothing that touches data.
GRANT pg_monitor TO ${CONSOLE};
