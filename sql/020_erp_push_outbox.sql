-- Payments written back to an ERP (tasks/erp/push.py): one row per allocation and source,
-- written `pending` before any network call, then `pushed` (the ERP took it now), `already`
-- (the ERP had it: Odoo's memo found, a webhook's Idempotency-Key replayed) or `failed` with
-- its reason, in one short transaction after the call. A row still pending after a crash is
-- sent again with the same batch key, so the ERP's own check keeps it from counting twice.
CREATE TABLE IF NOT EXISTS erp_push_outbox (
    source         VARCHAR NOT NULL,       -- odoo, rest-<name>
    allocation_id  VARCHAR NOT NULL,       -- allocations.allocation_id
    invoice_id     VARCHAR NOT NULL,
    amount         DECIMAL(18, 2) NOT NULL,
    currency       VARCHAR NOT NULL,
    pay_date       DATE NOT NULL,
    batch_key      VARCHAR,                -- webhook: the batch's Idempotency-Key; Odoo: NULL
    status         VARCHAR NOT NULL,       -- pending | pushed | already | failed
    reason         VARCHAR,                -- why it failed
    retryable      BOOLEAN NOT NULL DEFAULT FALSE,  -- a failure a later run may get past (5xx, timeout)
    attempts       INTEGER NOT NULL DEFAULT 0,
    flow_run_id    VARCHAR,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    PRIMARY KEY (source, allocation_id)
);
