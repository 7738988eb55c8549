-- Where each `fleetpipe generate` run got to. The generator moves its row in the same transaction as the
-- batch of trips it covers, so after a crash `--resume` starts exactly after the last committed batch.
CREATE TABLE generator_checkpoints (
    run_id        text        PRIMARY KEY,
    source        text        NOT NULL,
    position      bigint      NOT NULL CHECK (position >= 0),  -- CSV lines (header included) or simulator rows consumed
    rows_delivered bigint     NOT NULL CHECK (rows_delivered >= 0),
    rows_rejected bigint      NOT NULL CHECK (rows_rejected >= 0),
    finished      boolean     NOT NULL DEFAULT false,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
