-- A Complete names its transaction by merchant_prepare_id, and a click_trans_id may come again
-- once its attempt is final (Click's test tool sends the same ids on every run): the unique key
-- moves from click_trans_id to the prepared attempt of (service_id, click_trans_id,
-- merchant_trans_id), and click_paid_orders points at merchant_prepare_id. SQLite cannot drop a
-- column constraint, so both tables are rebuilt; ids and rows are kept. State 0 is "prepared"
-- (click-sqlx's `row` module).
ALTER TABLE click_paid_orders RENAME TO click_paid_orders_v1;
ALTER TABLE click_transactions RENAME TO click_transactions_v1;
CREATE TABLE click_transactions (
    merchant_prepare_id INTEGER PRIMARY KEY AUTOINCREMENT,
    click_trans_id INTEGER NOT NULL,
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
INSERT INTO click_transactions (merchant_prepare_id, click_trans_id, service_id, click_paydoc_id,
    merchant_trans_id, amount_tiyin, kind, state, merchant_confirm_id, created_at, updated_at)
    SELECT merchant_prepare_id, click_trans_id, service_id, click_paydoc_id, merchant_trans_id,
        amount_tiyin, kind, state, merchant_confirm_id, created_at, updated_at
    FROM click_transactions_v1;
CREATE TABLE click_paid_orders (
    service_id INTEGER NOT NULL,
    merchant_trans_id TEXT NOT NULL,
    merchant_prepare_id INTEGER NOT NULL REFERENCES click_transactions (merchant_prepare_id),
    PRIMARY KEY (service_id, merchant_trans_id)
);
INSERT INTO click_paid_orders (service_id, merchant_trans_id, merchant_prepare_id)
    SELECT paid.service_id, paid.merchant_trans_id, t.merchant_prepare_id
    FROM click_paid_orders_v1 AS paid
    JOIN click_transactions_v1 AS t ON t.click_trans_id = paid.click_trans_id;
DROP TABLE click_paid_orders_v1;
DROP TABLE click_transactions_v1;
CREATE INDEX click_transactions_order ON click_transactions (service_id, merchant_trans_id);
CREATE INDEX click_transactions_state ON click_transactions (state);
CREATE INDEX click_transactions_by_click_trans_id ON click_transactions (click_trans_id);
CREATE UNIQUE INDEX click_transactions_prepared
    ON click_transactions (service_id, click_trans_id, merchant_trans_id) WHERE state = 0;
