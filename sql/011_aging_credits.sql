-- Aging reads customer credits (issue 16): the overpayment credits next to the open items.
--
-- allocations_at(as_of): the allocations booked by `as_of`, each with its date (pay_date): the
-- booking date of its bank transaction, or its creation day when it has none (a credit note set
-- against an invoice, a write-off). This was written inside open_items_at (sql/008) and again in
-- aging's payments query; it is now written here once and open_items_at reads it (same rows,
-- same types; `as_of` NULL still reads no bank transaction at all, so the open_items view that
-- reconciliation reads stays as fast as it was).
--
-- unapplied_credits_at(as_of): what a customer has paid beyond its invoices and that nothing has
-- used yet (allocations with no invoice: kind unapplied_credit, and the reversals that undo
-- one), per originating bank transaction, as open items: negative open amount, dated by the
-- transfer (issue and due date), the legal entity of the invoices that transfer settled. Credit
-- notes stay in open_items_at, where they always were; aging puts both in one credits column.

CREATE OR REPLACE MACRO allocations_at(as_of) AS TABLE
SELECT al.*, COALESCE(t.booking_date, CAST(al.created_at AS DATE)) AS pay_date
FROM allocations al
LEFT JOIN bank_transactions t USING (transaction_id)
WHERE as_of IS NULL OR COALESCE(t.booking_date, CAST(al.created_at AS DATE)) <= as_of;

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
        SELECT invoice_id, amount
        FROM allocations_at(as_of)
        WHERE invoice_id IS NOT NULL AND as_of IS NOT NULL
    ) dated
    GROUP BY invoice_id
) a USING (invoice_id)
WHERE (as_of IS NULL OR i.issue_date <= as_of)
  AND i.amount_total - COALESCE(a.allocated, 0) <> 0;

CREATE OR REPLACE VIEW open_items AS SELECT * FROM open_items_at(NULL);

CREATE OR REPLACE MACRO unapplied_credits_at(as_of) AS TABLE
WITH credit AS (
    -- a reversal counts against the credit it undoes: one line per originating transfer
    SELECT COALESCE(o.transaction_id, c.transaction_id) AS transaction_id,
           c.customer_id, c.currency, c.amount, c.pay_date
    FROM allocations_at(as_of) c
    LEFT JOIN allocations o ON o.allocation_id = c.reverses_allocation_id
    WHERE c.invoice_id IS NULL AND c.customer_id IS NOT NULL
),
per_transfer AS (
    SELECT transaction_id, customer_id, currency, SUM(amount) AS amount, MIN(pay_date) AS paid_on
    FROM credit
    GROUP BY ALL
    HAVING SUM(amount) <> 0
),
entity AS (
    SELECT s.transaction_id, MIN(i.legal_entity) AS legal_entity
    FROM allocations s JOIN invoices i USING (invoice_id)
    WHERE s.transaction_id IN (SELECT transaction_id FROM per_transfer)
    GROUP BY s.transaction_id
)
SELECT
    p.transaction_id AS invoice_id, 'overpayment' AS document_type, p.customer_id,
    e.legal_entity, p.paid_on AS issue_date, p.paid_on AS due_date, p.currency,
    (-p.amount)::DECIMAL(18, 2) AS amount_total, NULL::VARCHAR AS reference,
    0::DECIMAL(18, 2) AS amount_allocated,
    (-p.amount)::DECIMAL(18, 2) AS amount_open
FROM per_transfer p
LEFT JOIN entity e USING (transaction_id);
