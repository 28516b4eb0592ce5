//! Bot API objects as Telegram's JSON spells them.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{BOT_ID, SentInvoice};

/// The customer's first name in every update.
const CUSTOMER: &str = "Customer";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn customer(user: i64) -> Value {
    json!({ "id": user, "is_bot": false, "first_name": CUSTOMER })
}

fn chat(id: i64) -> Value {
    json!({ "id": id, "type": "private", "first_name": CUSTOMER })
}

/// The bot, as `getMe` answers.
pub(super) fn me() -> Value {
    json!({
        "id": BOT_ID,
        "is_bot": true,
        "first_name": "Fake shop bot",
        "username": "fake_shop_bot",
        "can_join_groups": false,
        "can_read_all_group_messages": false,
        "supports_inline_queries": false,
        "can_connect_to_business": false,
        "has_main_web_app": false
    })
}

/// A message the customer sent, with one content field (`text`, `successful_payment`).
pub(super) fn customer_message(message_id: i64, user: i64, field: &str, content: Value) -> Value {
    json!({
        "message_id": message_id,
        "date": now(),
        "chat": chat(user),
        "from": customer(user),
        field: content
    })
}

/// A message the bot sent, with one content field (`text`, `invoice`).
pub(super) fn bot_message(message_id: i64, chat_id: i64, field: &str, content: Value) -> Value {
    json!({
        "message_id": message_id,
        "date": now(),
        "chat": chat(chat_id),
        "from": me(),
        field: content
    })
}

/// The `invoice` of a message.
pub(super) fn invoice(invoice: &SentInvoice, description: &str) -> Value {
    json!({
        "title": invoice.title,
        "description": description,
        "start_parameter": "",
        "currency": invoice.currency,
        "total_amount": invoice.total_amount
    })
}

/// A pre-checkout query for an invoice.
pub(super) fn pre_checkout_query(id: &str, user: i64, invoice: &SentInvoice) -> Value {
    json!({
        "id": id,
        "from": customer(user),
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
        "invoice_payload": invoice.payload
    })
}

/// The `successful_payment` of a paid invoice.
pub(super) fn successful_payment(
    invoice: &SentInvoice,
    telegram_payment_charge_id: &str,
    provider_payment_charge_id: &str,
) -> Value {
    json!({
        "currency": invoice.currency,
        "total_amount": invoice.total_amount,
        "invoice_payload": invoice.payload,
        "telegram_payment_charge_id": telegram_payment_charge_id,
        "provider_payment_charge_id": provider_payment_charge_id
    })
}
