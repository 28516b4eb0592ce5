//! The few Bot API objects a payment needs, as Telegram's JSON spells them: what a bot sends
//! ([`SendInvoice`], [`AnswerPreCheckoutQuery`]) and what it receives ([`PreCheckoutQuery`],
//! [`SuccessfulPayment`]).
//!
//! They are plain serde types, so any bot framework (or none) can use them: serialize one as the
//! body of the Bot API method of the same name, or convert a framework's own type through JSON
//! (`serde_json::from_value(serde_json::to_value(&query)?)`), since both follow the Bot API.
//! Fields this crate does not need are left out; unknown fields are ignored when reading.

use serde::{Deserialize, Serialize};

/// The currency of every CLICK Terminal invoice: Uzbek so'm.
pub const CURRENCY: &str = "UZS";

/// The Bot API's longest invoice payload, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 128;

/// The parameters of the Bot API's `sendInvoice`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendInvoice {
    /// The private chat to send to (the customer's user id).
    pub chat_id: i64,
    /// The product name, 1–32 characters.
    pub title: String,
    /// The product description, 1–255 characters.
    pub description: String,
    /// The order's `merchant_trans_id`: Telegram hands it back in the pre-checkout query and the
    /// successful payment. 1–128 bytes.
    pub payload: String,
    /// The CLICK Terminal token from @BotFather.
    pub provider_token: String,
    /// Always [`CURRENCY`].
    pub currency: String,
    /// The price breakdown; its amounts add up to the total, in tiyin.
    pub prices: Vec<LabeledPrice>,
    /// A product photo to show with the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
}

/// One line of an invoice's prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabeledPrice {
    /// What the line is for.
    pub label: String,
    /// Its amount in the currency's smallest unit: tiyin for so'm (1 so'm = 100 tiyin).
    pub amount: i64,
}

/// A Telegram user, as far as payments need one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The user's id (also the id of the private chat with the bot).
    pub id: i64,
    /// Whether the user is a bot.
    pub is_bot: bool,
    /// The user's first name.
    pub first_name: String,
    /// The user's username, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
}

/// The update a bot must answer with `answerPreCheckoutQuery` within 10 seconds, after the
/// customer pressed "Pay" and before Telegram asks CLICK to take the money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreCheckoutQuery {
    /// The query's id, to answer.
    pub id: String,
    /// The customer.
    pub from: User,
    /// The invoice's currency.
    pub currency: String,
    /// The invoice's total, in tiyin.
    pub total_amount: i64,
    /// The invoice's payload: the order's `merchant_trans_id`.
    pub invoice_payload: String,
}

/// The parameters of the Bot API's `answerPreCheckoutQuery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerPreCheckoutQuery {
    /// The query answered.
    pub pre_checkout_query_id: String,
    /// Whether Telegram may go on and take the payment.
    pub ok: bool,
    /// Why not, in words the customer reads (required when `ok` is false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

/// What a `successful_payment` message carries: the money was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessfulPayment {
    /// The currency paid in.
    pub currency: String,
    /// The amount paid, in tiyin.
    pub total_amount: i64,
    /// The invoice's payload: the order's `merchant_trans_id`.
    pub invoice_payload: String,
    /// Telegram's id of the payment: the key under which the store records it once.
    pub telegram_payment_charge_id: String,
    /// CLICK's id of the payment, kept for a reversal.
    pub provider_payment_charge_id: String,
}
