-- `click_transactions_stuck` (state, prepared_at_ms) serves every lookup by state (its first
-- column), so the index on state alone only cost every insert and every change of state one more
-- index entry.
ALTER TABLE click_transactions DROP INDEX click_transactions_state;
