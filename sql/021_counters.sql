-- Numbers handed out by o2c (load batches, dunning exclusions) come from a row per counter rather
-- than a sequence: DuckLake, the warehouse past one machine, has no sequences (o2c.lake), and one
-- code path serves both. Each counter starts where its sequence stood, so no number is reused.
CREATE TABLE IF NOT EXISTS counters (
    name  VARCHAR PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO counters
SELECT c.name, coalesce(max(s.last_value), 0)
FROM (VALUES ('load_batch', 'load_batch_seq'), ('dunning_exclusion', 'dunning_exclusion_seq'))
    AS c(name, sequence_name)
LEFT JOIN duckdb_sequences() s USING (sequence_name)
WHERE c.name NOT IN (SELECT name FROM counters)
GROUP BY c.name;
