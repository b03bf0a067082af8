-- What dunning needs of a customer (issue 17), as the ERP export gives it (models/erp.py
-- CUSTOMER_DUNNING); every column is nullable: an export without them loads as before.
ALTER TABLE customers ADD COLUMN payment_terms VARCHAR;               -- as written: '45 jours fin de mois'
ALTER TABLE customers ADD COLUMN payment_terms_days INTEGER;          -- 45
ALTER TABLE customers ADD COLUMN payment_terms_end_of_month BOOLEAN;  -- true
ALTER TABLE customers ADD COLUMN accounting_email VARCHAR;            -- one or more, ', '-separated
ALTER TABLE customers ADD COLUMN main_email VARCHAR;                  -- idem
ALTER TABLE customers ADD COLUMN customer_kind VARCHAR;               -- business | consumer (null: business)
ALTER TABLE customers ADD COLUMN segment VARCHAR;                     -- the dunning policy's segment
ALTER TABLE customers ADD COLUMN lre_consent_date DATE;               -- consent to registered e-mail

-- Rows that loaded with a warning (an expectation with meta.severity 'warning'): kept like the
-- quarantine, so finance can find them, but the row itself is in its table.
CREATE TABLE IF NOT EXISTS load_warnings (
    batch_id     BIGINT NOT NULL,
    source       VARCHAR NOT NULL,   -- invoices | customers
    file_name    VARCHAR,
    line_number  BIGINT,
    record_id    VARCHAR,            -- the row's invoice_id or customer_id
    warnings     VARCHAR NOT NULL,   -- reasons, '; '-separated
    warned_at    TIMESTAMP NOT NULL
);
