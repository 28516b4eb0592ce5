-- Telegram payments (a bot selling through CLICK Terminal) are transactions too, so that one
-- debited transaction per one-time order holds across both channels. They carry Telegram's two
-- ids (NULL on a SHOP-API attempt), VARBINARY to compare byte for byte; the unique key records
-- each telegram_payment_charge_id once.
ALTER TABLE click_transactions
    ADD COLUMN telegram_payment_charge_id VARBINARY(255) NULL,
    ADD COLUMN provider_payment_charge_id VARBINARY(255) NULL,
    ADD UNIQUE KEY click_transactions_telegram (telegram_payment_charge_id);
