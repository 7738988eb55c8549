-- The loader writes an object's raw.load_manifest row in the same transaction as the object's rows, so the
-- foreign key from every raw row to its manifest row guards nothing the transaction does not already; but it
-- costs a per-row trigger lookup that made loading ~35% slower (bench/batch.sh: 77k -> 120k rows/s on 2M
-- rows). `fleetpipe verify` checks bucket->warehouse consistency instead.
ALTER TABLE raw.trips    DROP CONSTRAINT IF EXISTS trips__object_key_fkey;
ALTER TABLE raw.vehicles DROP CONSTRAINT IF EXISTS vehicles__object_key_fkey;
ALTER TABLE raw.drivers  DROP CONSTRAINT IF EXISTS drivers__object_key_fkey;
