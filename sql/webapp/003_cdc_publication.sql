-- The logical-replication publication Debezium reads (pgoutput plugin). Created here, by the owner, so the
-- CDC role needs no ownership or CREATE privilege: the connector runs with publication.autocreate.mode=disabled.
CREATE PUBLICATION webapp_cdc FOR TABLE drivers, vehicles, trips;
