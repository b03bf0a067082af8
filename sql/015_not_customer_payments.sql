-- Finance's "not a customer payment", remembered by counterparty (issue 16): later runs leave
-- that counterparty's lines alone instead of asking again. Undone by setting forgotten_at.
CREATE TABLE IF NOT EXISTS not_customer_counterparties (
    counterparty_key  VARCHAR PRIMARY KEY,   -- iban:FR76..., else name:DGFIP, else text:INTERETS
    shown_as          VARCHAR NOT NULL,      -- the IBAN, name or text as the bank wrote it
    learned_from      VARCHAR NOT NULL,      -- transaction_id of the decision
    decided_by        VARCHAR,
    source            VARCHAR NOT NULL,      -- csv | ui
    decided_at        TIMESTAMP NOT NULL,
    forgotten_at      TIMESTAMP,             -- undone: its lines are looked at again
    forgotten_by      VARCHAR
);

-- A decision finance undid (a counterparty that is a customer after all) stays on record.
ALTER TABLE reconciliation_decisions ADD COLUMN IF NOT EXISTS undone_at TIMESTAMP;
