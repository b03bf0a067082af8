-- Dunning's outbox and audit log (issue 17).
--
-- The outbox holds each communication before any channel is called: written `pending` with its
-- idempotency key (models.dunning.Communication.key), its items and the rendered message, so a
-- resumed run sends exactly what was planned, once (tasks/dunning/outbox.py).
CREATE TABLE IF NOT EXISTS dunning_outbox (
    key                 VARCHAR PRIMARY KEY,     -- Communication.key: customer, level, currency, items
    as_of               DATE NOT NULL,           -- the plan's date
    customer_id         VARCHAR NOT NULL,
    currency            VARCHAR NOT NULL,
    level               INTEGER NOT NULL,
    level_name          VARCHAR NOT NULL,
    channel             VARCHAR NOT NULL,        -- models.dunning.Channel
    template            VARCHAR NOT NULL,
    language            VARCHAR NOT NULL,
    recipients          VARCHAR[] NOT NULL,
    previous_key        VARCHAR,                 -- the same case's last communication (In-Reply-To)
    due_cents           BIGINT NOT NULL,
    subject             VARCHAR NOT NULL,        -- the rendered message, sent as written here
    text_body           VARCHAR NOT NULL,
    html_body           VARCHAR,
    template_sha256     VARCHAR NOT NULL,
    content_sha256      VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,        -- models.dunning.OutboxStatus
    attempt_started_at  TIMESTAMP,               -- set, in its own transaction, before a send
    claim_id            VARCHAR,                 -- which send_pending call claimed it
    attempts            INTEGER NOT NULL DEFAULT 0,
    provider_id         VARCHAR,                 -- SMTP Message-ID, .eml file name, AR24 id
    reply               VARCHAR,                 -- the server's last reply or the error, never a secret
    flow_run_id         VARCHAR,
    planned_at          TIMESTAMP NOT NULL,
    sent_at             TIMESTAMP,
    updated_at          TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS dunning_outbox_items (
    key         VARCHAR NOT NULL,
    invoice_id  VARCHAR NOT NULL,
    open_cents  BIGINT NOT NULL,                 -- what the communication asks for it (credits < 0)
    PRIMARY KEY (key, invoice_id)
);

-- The audit log: append-only, each row chained to the one before by sha256 over the previous
-- row's hash and this row's canonical content (tasks/dunning/audit.py). `o2c audit verify`
-- recomputes the chain and names the first row that does not fit.
CREATE TABLE IF NOT EXISTS audit_log (
    seq              BIGINT PRIMARY KEY,         -- 1, 2, 3 ... without gaps
    recorded_at      TIMESTAMP NOT NULL,         -- UTC
    event            VARCHAR NOT NULL,           -- models.dunning.AuditEvent
    subject          VARCHAR NOT NULL,           -- what it is about: an outbox key, a customer, a run
    payload          VARCHAR NOT NULL,           -- canonical JSON (sorted keys), never a secret
    flow_run_id      VARCHAR,
    template_sha256  VARCHAR,
    content_sha256   VARCHAR,
    prev_sha256      VARCHAR NOT NULL UNIQUE,    -- a chain, never a fork
    row_sha256       VARCHAR NOT NULL
);

-- The chain's last link, kept apart so rows cut off at the end are seen too.
CREATE TABLE IF NOT EXISTS audit_head (
    id          INTEGER PRIMARY KEY,             -- always 1
    seq         BIGINT NOT NULL,
    row_sha256  VARCHAR NOT NULL
);
