-- The documents a transfer names in its structured remittance, each with what it pays
-- (models/schemas.py REMITTANCE_DOCUMENT): matching follows them as an instruction.
ALTER TABLE bank_transactions ADD COLUMN IF NOT EXISTS remittance_documents
    STRUCT(doc_number VARCHAR, doc_type VARCHAR, doc_date DATE, amount_cents BIGINT)[];
