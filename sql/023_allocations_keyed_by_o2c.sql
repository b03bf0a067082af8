-- allocations keeps its key unique through the writer, not through an index (as bank_transactions
-- since 005, and every table on the lake).
--
-- The primary-key index on allocation_id cost about 1 s of a 10 s reconciliation of a million
-- transfers (benchmarks/reconcile_speed.py): 0.45 s to insert, 0.5 s more to commit. The key
-- stays what it was (deterministic: transaction, document, kind; engine._allocation_ids); the
-- writer refuses a batch holding one id twice and inserts only ids the table does not hold, inside
-- the run's transaction, and writers are serialised (the warehouse-writer concurrency slot, and
-- DuckDB's single-writer file lock). tasks/reconciliation/store.py: _insert_allocations.

CREATE TABLE allocations_v23 (
    allocation_id       VARCHAR NOT NULL,      -- unique (see above): transaction, invoice, kind
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

INSERT INTO allocations_v23 SELECT * FROM allocations ORDER BY transaction_id, allocation_id;
DROP TABLE allocations;
ALTER TABLE allocations_v23 RENAME TO allocations;
