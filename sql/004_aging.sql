-- Aging snapshots: one row per as-of date, customer, currency, entity and bucket, so trends can be drawn.

CREATE TABLE IF NOT EXISTS aging_snapshots (
    as_of_date    DATE NOT NULL,
    customer_id   VARCHAR NOT NULL,
    currency      VARCHAR NOT NULL,
    legal_entity  VARCHAR,
    bucket        VARCHAR NOT NULL,        -- not_due | 1_30 | 31_60 | 61_90 | 91_120 | over_120
    amount_open   DECIMAL(18, 2) NOT NULL,
    items         BIGINT NOT NULL,
    flow_run_id   VARCHAR,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS dso_snapshots (
    as_of_date        DATE NOT NULL,
    currency          VARCHAR NOT NULL,
    legal_entity      VARCHAR,
    receivables       DECIMAL(18, 2) NOT NULL,
    revenue           DECIMAL(18, 2) NOT NULL,  -- invoiced over the period_days before as_of_date
    period_days       INTEGER NOT NULL,
    dso_standard      DOUBLE,                   -- days, rounded to 0.1 (NULL: no revenue)
    dso_countback     DOUBLE,
    flow_run_id       VARCHAR,
    created_at        TIMESTAMP NOT NULL
);
