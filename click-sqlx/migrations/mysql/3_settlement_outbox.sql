-- The settlement outbox: what must follow a payment (reverse it, fiscalize it, expire a stuck
-- attempt), recorded in the transition's own transaction and worked off by click-settle; and what
-- settling recorded on the transaction. Codes: click-sqlx's `row` module.
ALTER TABLE click_transactions
    ADD COLUMN prepared_at_ms BIGINT NULL,
    ADD COLUMN reversal_outcome INT NULL,
    ADD COLUMN reversal_code BIGINT NULL,
    ADD COLUMN receipt_url TEXT NULL;
UPDATE click_transactions
    SET prepared_at_ms = CAST(UNIX_TIMESTAMP(created_at) * 1000 AS SIGNED);
ALTER TABLE click_transactions MODIFY prepared_at_ms BIGINT NOT NULL,
    ADD INDEX click_transactions_stuck (state, prepared_at_ms),
    ADD INDEX click_transactions_paydoc (service_id, click_paydoc_id);

CREATE TABLE click_outbox (
    task_id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind INT NOT NULL,
    merchant_prepare_id BIGINT NOT NULL,
    status INT NOT NULL,
    attempts INT NOT NULL DEFAULT 0,
    stage INT NOT NULL DEFAULT 0,
    due_at_ms BIGINT NOT NULL,
    claim_token BIGINT NULL,
    claimed_until_ms BIGINT NULL,
    approved INT NOT NULL DEFAULT 0,
    note TEXT NULL,
    created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    UNIQUE KEY click_outbox_task (kind, merchant_prepare_id),
    KEY click_outbox_due (status, due_at_ms),
    CONSTRAINT click_outbox_transaction FOREIGN KEY (merchant_prepare_id)
        REFERENCES click_transactions (merchant_prepare_id)
) ENGINE = InnoDB;
