-- The settlement outbox: what must follow a payment (reverse it, fiscalize it, expire a stuck
-- attempt), recorded in the transition's own transaction and worked off by click-settle; and what
-- settling recorded on the transaction. Codes: click-sqlx's `row` module.
ALTER TABLE click_transactions ADD COLUMN prepared_at_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE click_transactions ADD COLUMN reversal_outcome INTEGER;
ALTER TABLE click_transactions ADD COLUMN reversal_code INTEGER;
ALTER TABLE click_transactions ADD COLUMN receipt_url TEXT;
UPDATE click_transactions
    SET prepared_at_ms = CAST((julianday(created_at) - 2440587.5) * 86400000 AS INTEGER);
CREATE INDEX click_transactions_stuck ON click_transactions (state, prepared_at_ms);
CREATE INDEX click_transactions_paydoc ON click_transactions (service_id, click_paydoc_id);

CREATE TABLE click_outbox (
    task_id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind INTEGER NOT NULL,
    merchant_prepare_id INTEGER NOT NULL REFERENCES click_transactions (merchant_prepare_id),
    status INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    stage INTEGER NOT NULL DEFAULT 0,
    due_at_ms INTEGER NOT NULL,
    claim_token INTEGER,
    claimed_until_ms INTEGER,
    approved INTEGER NOT NULL DEFAULT 0,
    note TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (kind, merchant_prepare_id)
);
CREATE INDEX click_outbox_due ON click_outbox (status, due_at_ms);
