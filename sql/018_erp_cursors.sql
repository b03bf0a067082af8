-- Where each ERP source's incremental pull stands (tasks/erp/sources). One row per source and
-- model; moved only in the transaction that loads the rows it covers, so a crash between pages
-- resumes at the last page loaded, never past a page not loaded.
-- The cursor is a pair: rows are read ordered by (write_date, id), and several rows may share
-- one write_date (a batch update), so the id breaks ties at a page boundary.
CREATE TABLE IF NOT EXISTS erp_cursors (
    source      VARCHAR NOT NULL,    -- odoo, ...
    model       VARCHAR NOT NULL,    -- account.move, res.partner
    write_date  VARCHAR NOT NULL,    -- the ERP's own UTC text ('2026-03-31 10:00:00'), compared as sent
    record_id   BIGINT NOT NULL,     -- the last id loaded at that write_date
    batch_id    BIGINT,              -- the load that moved it (load_batches)
    updated_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (source, model)
);
