-- Debezium's heartbeat. The replication slot only moves on when Debezium confirms an event it received, so
-- while trips, vehicles and drivers are quiet and other databases of the same server write (WAL is per
-- server), the slot holds every WAL segment since the last change: past max_slot_wal_keep_size it is lost
-- and CDC stops for good. The connector's heartbeat.action.query updates this one row every
-- heartbeat.interval.ms; the publication carries it, so Debezium receives a change (filtered out by its
-- table.include.list) and confirms its position. The CDC role may update this table and nothing else.
CREATE TABLE cdc_heartbeat (
    id      smallint    PRIMARY KEY CHECK (id = 1),
    beat_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO cdc_heartbeat (id) VALUES (1);
ALTER PUBLICATION webapp_cdc ADD TABLE cdc_heartbeat;
