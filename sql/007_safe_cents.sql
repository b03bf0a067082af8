-- Cents of an amount, without overflow (issue 14 "Hardening").
-- DuckDB multiplies a DECIMAL(18,2) by 100 in 64 bits: from 9.2 * 10^14 up the product left
-- BIGINT and every later query failed with "Overflow in multiplication of DECIMAL(18)". Widened
-- to DECIMAL(38,2) first, the product is computed in 128 bits, and the cents of any DECIMAL(18,2)
-- fit a BIGINT. Amounts are bounded at the door anyway (models/bounds.py: 10^12 units).
CREATE OR REPLACE MACRO amount_to_cents(a) AS CAST(CAST(a AS DECIMAL(38, 2)) * 100 AS BIGINT);
