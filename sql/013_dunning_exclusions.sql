-- Dunning exclusions (issue 17): why a customer or an invoice is not chased, until when.
-- Facts only, never deleted or rewritten: ending an exclusion early is a row of
-- dunning_exclusion_ends; an exclusion whose `until` has passed simply stops applying.
-- "Balance under threshold" and "net credit" are computed by the plan, not stored here.
CREATE SEQUENCE IF NOT EXISTS dunning_exclusion_seq START 1;

CREATE TABLE IF NOT EXISTS dunning_exclusions (
    exclusion_id  BIGINT PRIMARY KEY,
    customer_id   VARCHAR NOT NULL,
    invoice_id    VARCHAR,                 -- null: every item of the customer
    kind          VARCHAR NOT NULL,        -- dispute | payment_plan | promise_to_pay | opt_out
    starts_on     DATE NOT NULL,           -- first day it applies
    until         DATE,                    -- last day it applies; null: no end (opt_out only)
    currency      VARCHAR,                 -- payment_plan: the instalments' currency
    reason        VARCHAR NOT NULL,
    created_by    VARCHAR NOT NULL,
    origin        VARCHAR NOT NULL,        -- cli | file <name> line <n> | approval | api
    created_at    TIMESTAMP NOT NULL
);

-- A payment plan's instalments: only one due and not covered by payments is chased.
CREATE TABLE IF NOT EXISTS dunning_instalments (
    exclusion_id  BIGINT NOT NULL,
    seq           INTEGER NOT NULL,        -- 1, 2, 3 ... in due-date order
    due_date      DATE NOT NULL,
    amount_cents  BIGINT NOT NULL,
    PRIMARY KEY (exclusion_id, seq)
);

-- An exclusion ended before its `until`: from `ended_on` on, it no longer applies.
CREATE TABLE IF NOT EXISTS dunning_exclusion_ends (
    exclusion_id  BIGINT PRIMARY KEY,
    ended_on      DATE NOT NULL,
    ended_by      VARCHAR NOT NULL,
    reason        VARCHAR NOT NULL,
    ended_at      TIMESTAMP NOT NULL
);
