-- Payment links sent with reminders (tasks/dunning/payment_links.py). A link is not a payment:
-- the transfer that lands on a statement carries `reference` (in its label and end-to-end id),
-- and reconciliation reads the link's items as the documents that transfer pays.
CREATE TABLE IF NOT EXISTS payment_links (
    reference          VARCHAR PRIMARY KEY,      -- RF creditor reference, ISO 11649
    communication_key  VARCHAR NOT NULL UNIQUE,  -- the outbox key: one link per communication
    customer_id        VARCHAR NOT NULL,
    currency           VARCHAR NOT NULL,
    amount             DECIMAL(18,2) NOT NULL,
    link_id            VARCHAR,                  -- Bridge's id, once it answered
    url                VARCHAR,
    status             VARCHAR NOT NULL,         -- requested | valid | expired | revoked | completed
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS payment_link_items (
    reference   VARCHAR NOT NULL,
    invoice_id  VARCHAR NOT NULL,
    amount      DECIMAL(18,2) NOT NULL,          -- what the link asks for it (credits < 0)
    PRIMARY KEY (reference, invoice_id)
);
