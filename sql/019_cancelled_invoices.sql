-- An invoice the ERP cancelled (an Odoo pull, or an export whose status says so) is kept, never
-- deleted, but owes nothing: it leaves open items, so aging, dunning and reconciliation stop
-- seeing it. Same macro as sql/011 otherwise. Statuses are stored lower-case (tasks/erp).
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
  AND COALESCE(i.status_erp, '')
      NOT IN ('cancelled', 'canceled', 'cancel', 'annulée', 'annulee', 'void')
  AND i.amount_total - COALESCE(a.allocated, 0) <> 0;

CREATE OR REPLACE VIEW open_items AS SELECT * FROM open_items_at(NULL);
