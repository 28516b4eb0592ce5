-- Telegram payments (a bot selling through CLICK Terminal) are transactions too, so that one
-- debited transaction per one-time order holds across both channels. They carry Telegram's two
-- ids (NULL on a SHOP-API attempt); the unique index records each telegram_payment_charge_id once
-- (partial: a SHOP-API attempt's insert does not touch it).
ALTER TABLE click_transactions
    ADD COLUMN telegram_payment_charge_id VARCHAR(255),
    ADD COLUMN provider_payment_charge_id VARCHAR(255);
CREATE UNIQUE INDEX click_transactions_telegram
    ON click_transactions (telegram_payment_charge_id) WHERE telegram_payment_charge_id IS NOT NULL;
