-- bank_transactions keeps its natural key unique through the loader, not through an index.
--
-- A primary-key index on 32 random hex characters cost more than the rest of a bank load (about
-- 3 s of 5 for a million rows, benchmarks/ingest_statements.py). The key stays what it was (see
-- tasks/bank_loading.py); the loader inserts only keys absent from the rows of the same accounts
-- and dates, inside the load's transaction, and writers are serialised (the warehouse-writer
-- concurrency slot, and DuckDB's single-writer file lock).

CREATE TABLE bank_transactions_v5 (
    transaction_id          VARCHAR NOT NULL,     -- natural key, unique (see tasks/bank_loading.py)
    account_iban            VARCHAR NOT NULL,
    currency                VARCHAR NOT NULL,
    booking_date            DATE NOT NULL,
    value_date              DATE,
    amount                  DECIMAL(18, 2) NOT NULL,  -- signed: credit > 0, debit < 0
    counterparty_name       VARCHAR,
    counterparty_iban       VARCHAR,
    remittance_unstructured VARCHAR,
    remittance_structured   VARCHAR,              -- RF / creditor reference
    end_to_end_id           VARCHAR,
    bank_reference          VARCHAR,              -- AcctSvcrRef, MT940 ref after '//', CFONB reference zone
    bank_tx_code            VARCHAR,
    is_reversal             BOOLEAN NOT NULL DEFAULT FALSE,
    statement_id            VARCHAR,
    entry_ref               VARCHAR,              -- the entry this row belongs to (batch entries)
    detail_index            INTEGER NOT NULL DEFAULT 0,
    source                  VARCHAR NOT NULL,     -- file format or 'open_banking'
    external_id             VARCHAR,              -- provider's id (Open Banking)
    batch_id                BIGINT,
    loaded_at               TIMESTAMP NOT NULL
);

INSERT INTO bank_transactions_v5 SELECT * FROM bank_transactions ORDER BY account_iban, booking_date;
DROP TABLE bank_transactions;
ALTER TABLE bank_transactions_v5 RENAME TO bank_transactions;
