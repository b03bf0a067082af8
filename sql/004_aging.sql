-- Aging snapshots: one row per as-of date, customer, currency, entity and bucket, so trends can be drawn.

CREATE TABLE IF NOT EXISTS aging_snapshots (
    as_of_date    DATE NOT NULL,
    customer_id   VARCHAR NOT NULL,
    currency      VARCHAR NOT NULL,
    legal_entity  VARCHAR,
    bucket        VARCHAR NOT NULL,
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
    dso_standard      DOUBLE,
    dso_countback     DOUBLE,
    flow_run_id       VARCHAR,
    created_at        TIMESTAMP NOT NULL
);
