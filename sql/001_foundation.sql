-- Foundation: who owes, what they owe, and where every loaded row came from.
-- Amounts are DECIMAL(18,2), signed: a credit note is negative.

CREATE SEQUENCE IF NOT EXISTS load_batch_seq START 1;

CREATE TABLE IF NOT EXISTS load_batches (
    batch_id          BIGINT PRIMARY KEY,
    source            VARCHAR NOT NULL,      -- invoices | customers | bank_statement | open_banking
    file_name         VARCHAR,
    sha256            VARCHAR,
    rows_in           BIGINT NOT NULL DEFAULT 0,
    rows_loaded       BIGINT NOT NULL DEFAULT 0,   -- inserted
    rows_updated      BIGINT NOT NULL DEFAULT 0,   -- existing keys whose content changed
    rows_unchanged    BIGINT NOT NULL DEFAULT 0,
    rows_quarantined  BIGINT NOT NULL DEFAULT 0,
    status            VARCHAR NOT NULL,      -- loaded | duplicate_file | failed
    message           VARCHAR,
    flow_run_id       VARCHAR,
    started_at        TIMESTAMP NOT NULL,
    finished_at       TIMESTAMP
);

CREATE TABLE IF NOT EXISTS customers (
    customer_id     VARCHAR PRIMARY KEY,
    name            VARCHAR NOT NULL,
    email           VARCHAR,
    iban            VARCHAR,
    siren           VARCHAR,
    vat_number      VARCHAR,
    language        VARCHAR,                 -- fr | en
    legal_entity    VARCHAR,
    address_line1   VARCHAR,
    address_line2   VARCHAR,
    postal_code     VARCHAR,
    city            VARCHAR,
    country         VARCHAR,
    row_hash        VARCHAR NOT NULL,
    batch_id        BIGINT,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS invoices (
    invoice_id      VARCHAR PRIMARY KEY,
    document_type   VARCHAR NOT NULL,        -- invoice | credit_note
    customer_id     VARCHAR NOT NULL,
    legal_entity    VARCHAR,
    issue_date      DATE NOT NULL,
    due_date        DATE NOT NULL,
    currency        VARCHAR NOT NULL,
    amount_total    DECIMAL(18, 2) NOT NULL, -- signed: credit notes < 0
    amount_paid_erp DECIMAL(18, 2),          -- what the ERP says was paid (informative)
    status_erp      VARCHAR,
    reference       VARCHAR,                 -- ISO 11649 RF creditor reference
    po_number       VARCHAR,
    row_hash        VARCHAR NOT NULL,
    batch_id        BIGINT,
    first_loaded_at TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

-- A newer ERP export that changes a known invoice: the change is kept, field by field.
CREATE TABLE IF NOT EXISTS invoice_changes (
    invoice_id  VARCHAR NOT NULL,
    batch_id    BIGINT NOT NULL,
    field       VARCHAR NOT NULL,
    old_value   VARCHAR,
    new_value   VARCHAR,
    changed_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine_invoices (
    batch_id        BIGINT NOT NULL,
    file_name       VARCHAR,
    line_number     BIGINT,
    invoice_id      VARCHAR,
    failed_checks   VARCHAR NOT NULL,        -- expectation names, '; '-separated
    raw_row         VARCHAR NOT NULL,        -- the row as read, JSON
    quarantined_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantine_customers (
    batch_id        BIGINT NOT NULL,
    file_name       VARCHAR,
    line_number     BIGINT,
    customer_id     VARCHAR,
    failed_checks   VARCHAR NOT NULL,
    raw_row         VARCHAR NOT NULL,
    quarantined_at  TIMESTAMP NOT NULL
);

-- Integer cents <-> DECIMAL(18,2), exactly (DuckDB divides decimals through DOUBLE).
CREATE OR REPLACE MACRO cents_to_amount(c) AS
    CAST(CAST(c AS DECIMAL(18, 0)) * CAST(0.01 AS DECIMAL(3, 2)) AS DECIMAL(18, 2));
CREATE OR REPLACE MACRO amount_to_cents(a) AS CAST(CAST(a AS DECIMAL(18, 2)) * 100 AS BIGINT);
