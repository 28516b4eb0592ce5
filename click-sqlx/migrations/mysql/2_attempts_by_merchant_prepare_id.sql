-- A Complete names its transaction by merchant_prepare_id, and a click_trans_id may come again
-- once its attempt is final (Click's test tool sends the same ids on every run): the unique key
-- moves from click_trans_id to the prepared attempt of (service_id, click_trans_id,
-- merchant_trans_id), and click_paid_orders points at merchant_prepare_id. MySQL has no partial
-- index: the generated prepared_click_trans_id is NULL once an attempt leaves state 0
-- ("prepared", click-sqlx's `row` module), and NULLs never collide in a unique key.
ALTER TABLE click_paid_orders DROP FOREIGN KEY click_paid_orders_transaction,
    ADD COLUMN merchant_prepare_id BIGINT NULL;
UPDATE click_paid_orders AS paid
    JOIN click_transactions AS t ON t.click_trans_id = paid.click_trans_id
    SET paid.merchant_prepare_id = t.merchant_prepare_id;
ALTER TABLE click_paid_orders MODIFY merchant_prepare_id BIGINT NOT NULL,
    DROP COLUMN click_trans_id,
    ADD CONSTRAINT click_paid_orders_transaction FOREIGN KEY (merchant_prepare_id)
        REFERENCES click_transactions (merchant_prepare_id);
ALTER TABLE click_transactions DROP INDEX click_transactions_click_trans_id,
    ADD INDEX click_transactions_by_click_trans_id (click_trans_id),
    ADD COLUMN prepared_click_trans_id BIGINT
        AS (CASE WHEN state = 0 THEN click_trans_id END) STORED,
    ADD UNIQUE KEY click_transactions_prepared
        (prepared_click_trans_id, service_id, merchant_trans_id);
