-- Click's payment attempts. Money is integer tiyin (exact); states and kinds are small codes
-- documented in click-sqlx's `row` module.
CREATE TABLE IF NOT EXISTS click_transactions (
    merchant_prepare_id INTEGER PRIMARY KEY AUTOINCREMENT,
    click_trans_id INTEGER NOT NULL UNIQUE,
    service_id INTEGER NOT NULL,
    click_paydoc_id INTEGER NOT NULL,
    merchant_trans_id TEXT NOT NULL,
    amount_tiyin INTEGER NOT NULL CHECK (amount_tiyin > 0),
    kind INTEGER NOT NULL,
    state INTEGER NOT NULL,
    merchant_confirm_id INTEGER,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX IF NOT EXISTS click_transactions_order ON click_transactions (service_id, merchant_trans_id);
CREATE INDEX IF NOT EXISTS click_transactions_state ON click_transactions (state);

-- One row per one-time order that a debited transaction claimed: the primary key makes a second
-- confirm of the same order impossible.
CREATE TABLE IF NOT EXISTS click_paid_orders (
    service_id INTEGER NOT NULL,
    merchant_trans_id TEXT NOT NULL,
    click_trans_id INTEGER NOT NULL REFERENCES click_transactions (click_trans_id),
    PRIMARY KEY (service_id, merchant_trans_id)
);
