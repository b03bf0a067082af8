-- "Open items as of a date", defined once: the table macro open_items_at(as_of).
--
-- An item is an invoice or credit note issued by `as_of` whose total minus the allocations dated
-- by `as_of` is not zero. An allocation is dated by the booking date of its bank transaction, or
-- by its creation day when it has none (a credit note set against an invoice, a write-off).
-- `as_of` NULL means no date limit: every invoice and every allocation the warehouse holds, which
-- is what the open_items view always meant; that branch does not read bank_transactions at all
-- (the view stays as fast as it was). Reconciliation reads the view, aging and dunning the macro
-- with their date. Amounts are DECIMAL(18,2), signed (credit notes negative).

CREATE OR REPLACE MACRO open_items_at(as_of) AS TABLE
SELECT
    i.invoice_id, i.document_type, i.customer_id, i.legal_entity, i.issue_date, i.due_date,
    i.currency, i.amount_total, i.reference,
    COALESCE(a.allocated, 0)::DECIMAL(18, 2) AS amount_allocated,
    (i.amount_total - COALESCE(a.allocated, 0))::DECIMAL(18, 2) AS amount_open
FROM invoices i
LEFT JOIN (
    SELECT invoice_id, SUM(amount) AS allocated
    FROM (
        SELECT invoice_id, amount
        FROM allocations
        WHERE invoice_id IS NOT NULL AND as_of IS NULL
        UNION ALL
        SELECT al.invoice_id, al.amount
        FROM allocations al
        LEFT JOIN bank_transactions t USING (transaction_id)
        WHERE al.invoice_id IS NOT NULL AND as_of IS NOT NULL
          AND COALESCE(t.booking_date, CAST(al.created_at AS DATE)) <= as_of
    ) dated
    GROUP BY invoice_id
) a USING (invoice_id)
WHERE (as_of IS NULL OR i.issue_date <= as_of)
  AND i.amount_total - COALESCE(a.allocated, 0) <> 0;

CREATE OR REPLACE VIEW open_items AS SELECT * FROM open_items_at(NULL);
