-- load_batches.status takes only what a loader writes (models/status.py, LoadStatus).
--
-- DuckDB cannot add a CHECK to an existing table, so the table is rebuilt with it, rows kept in
-- batch order. load_batch_seq is a separate object: it is not touched and goes on counting.
-- The old comment promised 'failed', which nothing writes; 'running' (an ERP load inside its
-- transaction) and 'rejected' (a refused bank file) were written but not listed.

CREATE TABLE load_batches_v6 (
    batch_id          BIGINT PRIMARY KEY,
    source            VARCHAR NOT NULL,      -- invoices | customers | bank_statement | open_banking
    file_name         VARCHAR,
    sha256            VARCHAR,
    rows_in           BIGINT NOT NULL DEFAULT 0,
    rows_loaded       BIGINT NOT NULL DEFAULT 0,   -- inserted
    rows_updated      BIGINT NOT NULL DEFAULT 0,   -- existing keys whose content changed
    rows_unchanged    BIGINT NOT NULL DEFAULT 0,
    rows_quarantined  BIGINT NOT NULL DEFAULT 0,
    status            VARCHAR NOT NULL
        CHECK (status IN ('running', 'loaded', 'duplicate_file', 'rejected')),
    message           VARCHAR,
    flow_run_id       VARCHAR,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP
);

INSERT INTO load_batches_v6 SELECT * FROM load_batches ORDER BY batch_id;
DROP TABLE load_batches;
ALTER TABLE load_batches_v6 RENAME TO load_batches;
