-- A Complete names its transaction by merchant_prepare_id, and a click_trans_id may come again
-- once its attempt is final (Click's test tool sends the same ids on every run): the unique key
-- moves from click_trans_id to the prepared attempt of (service_id, click_trans_id,
-- merchant_trans_id), and click_paid_orders points at merchant_prepare_id. State 0 is
-- "prepared" (click-sqlx's `row` module).
ALTER TABLE click_paid_orders ADD COLUMN merchant_prepare_id BIGINT;
UPDATE click_paid_orders AS paid SET merchant_prepare_id = t.merchant_prepare_id
    FROM click_transactions AS t WHERE t.click_trans_id = paid.click_trans_id;
ALTER TABLE click_paid_orders ALTER COLUMN merchant_prepare_id SET NOT NULL;
ALTER TABLE click_paid_orders DROP COLUMN click_trans_id;
ALTER TABLE click_paid_orders ADD CONSTRAINT click_paid_orders_transaction
    FOREIGN KEY (merchant_prepare_id) REFERENCES click_transactions (merchant_prepare_id);
ALTER TABLE click_transactions DROP CONSTRAINT click_transactions_click_trans_id_key;
CREATE INDEX click_transactions_by_click_trans_id ON click_transactions (click_trans_id);
CREATE UNIQUE INDEX click_transactions_prepared
    ON click_transactions (service_id, click_trans_id, merchant_trans_id) WHERE state = 0;
