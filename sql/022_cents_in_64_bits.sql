-- Cents of an amount in 64 bits where they fit, in 128 only beyond (a reconciliation read of a
-- million rows spent 0.7 s of its 1.1 s widening every amount to DECIMAL(38,2)).
-- DuckDB multiplies a DECIMAL(18,2) by 100 in 64 bits, which overflows from 9.2 * 10^14 units
-- (007_safe_cents.sql); below 10^14 it cannot, so only larger amounts take the 128-bit path and
-- every DECIMAL(18,2) still has its exact cents. Amounts are bounded at the door anyway
-- (models/bounds.py: 10^12 units).
CREATE OR REPLACE MACRO amount_to_cents(a) AS
    CASE WHEN a BETWEEN -100000000000000 AND 100000000000000
         THEN CAST(CAST(a AS DECIMAL(18, 2)) * 100 AS BIGINT)
         ELSE CAST(CAST(a AS DECIMAL(38, 2)) * 100 AS BIGINT)
    END;
