-- Bank-line identity (issue 15): a line is the bank's own reference where it has one.
--
-- identity_ref holds the usable reference that identifies a line within its account
-- ('bank:<ref>', '#<detail index>' for the details of a batch entry; 'ob:<provider id>' for the
-- Open Banking feed), null when the line has none and is keyed by its facts and rank
-- (tasks/bank/store.py says how the loader uses it). This sets it on the rows already stored,
-- under the loader's rules: placeholders (bank_usable_ref, the same list as store.usable_ref)
-- and references met more than once in an account do not count.
--
-- transaction_id is kept as it is on the rows already stored: allocations (whose id is a sha of
-- the transaction), exceptions, finance's decisions and the payer aliases learned from them name
-- it, and a line is recognised by identity_ref and the day proof, not by recomputing its key.
-- New rows get the new keys; the loader checks a new key is never one already taken.
-- No index (sql/005's decision stands: the loader keeps keys unique).

ALTER TABLE bank_transactions ADD COLUMN IF NOT EXISTS identity_ref VARCHAR;

CREATE OR REPLACE MACRO bank_usable_ref(ref) AS
    CASE
        WHEN upper(regexp_replace(ref, '^\s+|\s+$', '', 'g'))
             IN ('NONREF', 'NOTPROVIDED', 'NOT PROVIDED', 'NONE', 'NULL', 'N/A', 'NA', '-')
          OR regexp_matches(regexp_replace(ref, '^\s+|\s+$', '', 'g'), '^[0\s./-]*$')
        THEN NULL
        ELSE regexp_replace(ref, '^\s+|\s+$', '', 'g')
    END;

UPDATE bank_transactions AS t
SET identity_ref = r.identity_ref
FROM (
    SELECT transaction_id,
           CASE WHEN count(*) OVER (PARTITION BY account_iban, ref) = 1 THEN ref END
               AS identity_ref
    FROM (
        SELECT transaction_id, account_iban,
               CASE WHEN source = 'open_banking' THEN 'ob:' || bank_usable_ref(external_id)
                    ELSE 'bank:' || bank_usable_ref(bank_reference)
                         || CASE WHEN detail_index > 0 THEN '#' || detail_index ELSE '' END
               END AS ref
        FROM bank_transactions
    )
    WHERE ref IS NOT NULL
) AS r
WHERE t.transaction_id = r.transaction_id AND r.identity_ref IS NOT NULL;
