-- trip_latest is derived data kept by the triggers of 002_latest_locations.sql, which run in the writer's
-- transaction. With one role per service (sql/grants/webapp.sql), writers of trips (the web app, the
-- simulated fleet, export's restamp) are granted nothing on trip_latest: its triggers run as their owner,
-- with a fixed search_path so that no caller's schema can stand in for public.
ALTER FUNCTION trip_latest_after_insert() SECURITY DEFINER SET search_path = public, pg_temp;
ALTER FUNCTION trip_latest_recompute() SECURITY DEFINER SET search_path = public, pg_temp;
