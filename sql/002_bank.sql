-- Bank side: statements as received, one row per transaction (a batch entry split by its details).

CREATE TABLE IF NOT EXISTS bank_statements (
    statement_id      VARCHAR PRIMARY KEY,   -- sha256 of account, statement reference, dates
    batch_id          BIGINT,
    file_name         VARCHAR,
    format            VARCHAR NOT NULL,      -- camt.053 | camt.052 | camt.054 | mt940 | cfonb120 | ofx | csv
    account_iban      VARCHAR,               -- or the bank's account id when no IBAN is given
    currency          VARCHAR,
    statement_ref     VARCHAR,
    from_date         DATE,
    to_date           DATE,
    opening_balance   DECIMAL(18, 2),
    closing_balance   DECIMAL(18, 2),
    entries           BIGINT NOT NULL,
    balance_difference DECIMAL(18, 2),      -- only when loaded with an explicit --accept-unbalanced
    loaded_at         TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS bank_transactions (
    transaction_id          VARCHAR PRIMARY KEY,  -- natural key, see tasks/bank_loading.py
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

CREATE TABLE IF NOT EXISTS open_banking_cursors (
    provider      VARCHAR NOT NULL,
    account_id    VARCHAR NOT NULL,
    cursor        VARCHAR,
    synced_until  TIMESTAMP,
    updated_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (provider, account_id)
);
