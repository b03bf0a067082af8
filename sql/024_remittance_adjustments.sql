-- What a payer took off a document it lists, for a reason of its own (camt AdjstmntAmtAndRsn: a
-- late-delivery penalty, a damaged delivery): a claim finance accepts or disputes, so the
-- transfer goes to a person (models/schemas.py REMITTANCE_DOCUMENT).
ALTER TABLE bank_transactions ADD COLUMN IF NOT EXISTS remittance_documents.element.adjustment_cents BIGINT;
ALTER TABLE bank_transactions ADD COLUMN IF NOT EXISTS remittance_documents.element.adjustment_reason VARCHAR;
