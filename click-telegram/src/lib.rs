#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod bot_api;
pub mod invoice;
pub mod shop;

pub use bot_api::{
    AnswerPreCheckoutQuery, CURRENCY, LabeledPrice, MAX_PAYLOAD_BYTES, PreCheckoutQuery,
    SendInvoice, SuccessfulPayment, User,
};
pub use invoice::{Invoice, InvoiceError, ProviderToken};
pub use shop::{PRE_CHECKOUT_BUDGET, PaymentError, Recorded, Refusal, TelegramShop};
