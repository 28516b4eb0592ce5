-- Click's payment attempts. Money is integer tiyin (exact); states and kinds are small codes
-- documented in click-sqlx's `row` module. `merchant_trans_id` is VARBINARY so that it compares
-- byte for byte: no case folding, no trailing-space padding.
CREATE TABLE IF NOT EXISTS click_transactions (
    merchant_prepare_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    click_trans_id BIGINT NOT NULL,
    service_id BIGINT NOT NULL,
    click_paydoc_id BIGINT NOT NULL,
    merchant_trans_id VARBINARY(255) NOT NULL,
    amount_tiyin BIGINT NOT NULL CHECK (amount_tiyin > 0),
    kind INT NOT NULL,
    state INT NOT NULL,
    merchant_confirm_id BIGINT NULL,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY click_transactions_click_trans_id (click_trans_id),
    KEY click_transactions_order (service_id, merchant_trans_id),
    KEY click_transactions_state (state)
) ENGINE = InnoDB;

-- One row per one-time order that a debited transaction claimed: the primary key makes a second
-- confirm of the same order impossible.
CREATE TABLE IF NOT EXISTS click_paid_orders (
    service_id BIGINT NOT NULL,
    merchant_trans_id VARBINARY(255) NOT NULL,
    click_trans_id BIGINT NOT NULL,
    PRIMARY KEY (service_id, merchant_trans_id),
    CONSTRAINT click_paid_orders_transaction FOREIGN KEY (click_trans_id)
        REFERENCES click_transactions (click_trans_id)
) ENGINE = InnoDB;
