-- `click_transactions_stuck` (state, prepared_at_ms) serves every lookup by state (its first
-- column), so the index on state alone only cost every insert and every change of state one more
-- index entry.
DROP INDEX IF EXISTS click_transactions_state;
