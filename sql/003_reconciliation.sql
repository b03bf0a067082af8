-- Reconciliation: allocations are appended facts; an invoice's open amount is derived from them.

CREATE TABLE IF NOT EXISTS allocations (
    allocation_id       VARCHAR PRIMARY KEY,   -- deterministic: sha of transaction, invoice, kind, rule
    transaction_id      VARCHAR NOT NULL,
    invoice_id          VARCHAR,               -- NULL for an unapplied customer credit
    customer_id         VARCHAR,
    amount              DECIMAL(18, 2) NOT NULL,  -- in the invoice currency; > 0 settles, < 0 undoes
    currency            VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,      -- payment | write_off | unapplied_credit | reversal
    rule                VARCHAR NOT NULL,
    confidence          DOUBLE NOT NULL,
    reverses_allocation_id VARCHAR,
    flow_run_id         VARCHAR,
    created_at          TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS reconciliation_exceptions (
    transaction_id  VARCHAR PRIMARY KEY,
    reason          VARCHAR NOT NULL,
    candidates      VARCHAR,                   -- JSON list of {invoice_ids, amount, rule, score}
    status          VARCHAR NOT NULL,          -- open | resolved
    flow_run_id     VARCHAR,
    created_at      TIMESTAMP NOT NULL,
    resolved_at     TIMESTAMP
);

-- Finance's decisions, from a CSV or from the paused flow run's form in the UI.
CREATE TABLE IF NOT EXISTS reconciliation_decisions (
    transaction_id  VARCHAR NOT NULL,
    invoice_id      VARCHAR,                   -- NULL: "not a customer payment, leave it"
    amount          DECIMAL(18, 2),
    decided_by      VARCHAR,
    source          VARCHAR NOT NULL,          -- csv | ui
    note            VARCHAR,
    decided_at      TIMESTAMP NOT NULL
);

-- Learned from confirmed matches: this payer IBAN / name pays for this customer.
CREATE TABLE IF NOT EXISTS customer_payer_aliases (
    customer_id   VARCHAR NOT NULL,
    payer_iban    VARCHAR,
    payer_name    VARCHAR,
    learned_from  VARCHAR,                     -- transaction_id of the decision
    created_at    TIMESTAMP NOT NULL
);

CREATE OR REPLACE VIEW open_items AS
SELECT
    i.invoice_id, i.document_type, i.customer_id, i.legal_entity, i.issue_date, i.due_date,
    i.currency, i.amount_total, i.reference,
    COALESCE(a.allocated, 0)::DECIMAL(18, 2) AS amount_allocated,
    (i.amount_total - COALESCE(a.allocated, 0))::DECIMAL(18, 2) AS amount_open
FROM invoices i
LEFT JOIN (
    SELECT invoice_id, SUM(amount) AS allocated
    FROM allocations WHERE invoice_id IS NOT NULL GROUP BY invoice_id
) a USING (invoice_id)
WHERE i.amount_total - COALESCE(a.allocated, 0) <> 0;
