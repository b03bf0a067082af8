-- Formal notices sent as electronic registered letters (issue 18): one row per letter.
--
-- The PDF itself is kept in a folder beside the warehouse (ere-letters/<key>.pdf, written
-- atomically); this row keeps its SHA-256 so the file can be checked against it, AR24's ids once
-- the letter is sent, its state and when it changed (tasks/ere/store.py).
CREATE TABLE IF NOT EXISTS ere_letters (
    key               VARCHAR PRIMARY KEY,     -- the outbox key (models.dunning.Communication.key)
    customer_id       VARCHAR NOT NULL,
    as_of             DATE NOT NULL,           -- the letter's date (its PDF's creation date)
    language          VARCHAR NOT NULL,
    currency          VARCHAR NOT NULL,
    claimed_cents     BIGINT NOT NULL,         -- the total the notice claims
    pdf_path          VARCHAR NOT NULL,        -- relative to the letters' folder
    pdf_sha256        VARCHAR NOT NULL,
    template_sha256   VARCHAR NOT NULL,
    ar24_mail_id      VARCHAR,                 -- AR24's id of the letter, once sent
    ar24_attachment_id VARCHAR,                -- AR24's id of the uploaded PDF
    ar24_status       VARCHAR,                 -- AR24's own word, kept as said
    status            VARCHAR NOT NULL,        -- ours: rendered, then connectors.ar24.LetterState
    created_at        TIMESTAMP NOT NULL,      -- UTC
    sent_at           TIMESTAMP,
    status_at         TIMESTAMP,               -- when the status last changed
    updated_at        TIMESTAMP NOT NULL
);

-- Each proof AR24 issues for a letter (deposit, receipt, refusal, not claimed, bounce), kept as
-- a file in the evidence store with its SHA-256: the court file is built from these rows.
CREATE TABLE IF NOT EXISTS ere_proofs (
    key           VARCHAR NOT NULL,            -- ere_letters.key
    kind          VARCHAR NOT NULL,            -- AR24's proof kind: ev | ar | rf | ng | bc
    path          VARCHAR NOT NULL,            -- the downloaded file
    sha256        VARCHAR NOT NULL,
    proof_date    TIMESTAMP,                   -- the date AR24 gives the proof (its event)
    recorded_at   TIMESTAMP NOT NULL,
    PRIMARY KEY (key, kind)
);
