//! The core of click-rs: accept [Click](https://click.uz) payments correctly.
//!
//! Click calls a merchant twice per payment attempt: **Prepare** ("is order X payable for this
//! amount?") and **Complete** ("the money was debited, deliver" or "cancelled"). [`Shop`] answers
//! both from the raw form body, with signatures checked in constant time, strict field grammars,
//! and a state machine that delivers each order exactly once under retries and concurrent
//! duplicates. It is framework-free: `click-axum` and `click-actix` mount it as routes.
//!
//! ```
//! use click_core::{
//!     Endpoint, ErrorCode, Keyring, MemoryOrders, MemoryStore, Order, SecretKey, ServiceId, Shop,
//!     sign_prepare,
//! };
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! // The merchant's orders (here in memory) and the store of Click's transactions.
//! let orders = MemoryOrders::new();
//! orders.insert("order-42".parse()?, Order::Payable { amount: "1000".parse()? });
//! let secret = SecretKey::new("secret from the merchant cabinet");
//! let shop = Shop::new(
//!     Keyring::new().service(ServiceId::new(101), secret.clone()),
//!     MemoryStore::new(orders.clone()),
//! );
//!
//! // What Click POSTs to the Prepare URL.
//! let sign_time = "2024-01-31 12:30:00";
//! let sign = sign_prepare(&secret, "3600000001", "101", "order-42", "1000.00", sign_time);
//! let body = format!(
//!     "click_trans_id=3600000001&service_id=101&click_paydoc_id=4100000001\
//!      &merchant_trans_id=order-42&amount=1000.00&action=0&error=0&error_note=Success\
//!      &sign_time=2024-01-31+12%3A30%3A00&sign_string={sign}"
//! );
//! let answer = shop.handle(Endpoint::Prepare, body.as_bytes()).await;
//! assert_eq!(answer.error(), ErrorCode::Success);
//! println!("{}", String::from_utf8_lossy(&answer.to_json()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is where
//!
//! | module | holds |
//! |---|---|
//! | [`credentials`] | [`Credentials`], [`SecretKey`] (never printed), [`Keyring`] of services and secrets |
//! | [`amount`] | [`Amount`] (so'm, two decimals, strict parser) and [`Tiyin`] |
//! | [`ids`] | [`ClickTransId`], [`MerchantTransId`] and the other id newtypes |
//! | [`signature`] | [`sign_prepare`], [`sign_complete`], [`Signature`] |
//! | [`callback`] | [`PrepareRequest`], [`CompleteRequest`], [`Callback::parse`] |
//! | [`answer`] | [`Answer`] and [`ErrorCode`] |
//! | [`shop`] | [`Shop`], the state machine, and [`ShopEvent`] |
//! | [`store`] | [`OrderStore`] (Click's transactions, Telegram payments among them) and [`OrderHooks`] (the merchant's orders) |
//! | [`transition`] | the Prepare and Complete transitions, written once over a store's primitive [`transition::Steps`] |
//! | [`memory`] | [`MemoryStore`] and [`MemoryOrders`] |
//! | [`outbox`] | the settlement outbox every store keeps: reversals, fiscal receipts, expiry of stuck attempts |
//! | `checkout` | payment links, button form, checkout.js snippet, QR code (feature `checkout`, default) |
//! | [`routes`] | [`CallbackRoutes`] for adapters: paths, body limit, read timeout; the public URLs |
//! | [`health`] | the liveness and readiness answers the adapters' health routes send |
//! | [`metrics`](mod@metrics) | the metrics recorded through the `metrics` facade, their names and labels |
//! | `testing` | the store conformance suite and a Click simulator (feature `testing`) |
//!
//! # Features
//!
//! | feature | enables |
//! |---|---|
//! | `checkout` (default) | `click_core::checkout`: payment links, the button form, the checkout.js snippet, QR codes (`qrcode`) |
//! | `testing` | `click_core::testing`: [`order_store_conformance!`], a Click callback builder, fault-injecting hooks. Pulls in tokio. |
//!
//! # Logging
//!
//! Every callback runs in a `click_callback` [`tracing`] span with `endpoint`, `action`,
//! `click_trans_id`, `merchant_trans_id` (escaped) and the answered `error`. Secrets and
//! `sign_string` never appear in any log line, `Debug` output or error.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod amount;
pub mod answer;
pub mod calendar;
pub mod callback;
#[cfg(feature = "checkout")]
pub mod checkout;
pub mod credentials;
mod form;
pub mod health;
pub mod ids;
pub mod memory;
pub mod metrics;
pub mod outbox;
pub mod routes;
pub mod shop;
pub mod signature;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod transition;

pub use amount::{Amount, AmountError, Tiyin};
pub use answer::{Answer, CompleteAnswer, ErrorCode, PrepareAnswer};
pub use callback::{
    Action, Callback, ClickStatus, CompleteRequest, Endpoint, ParseError, PrepareRequest,
};
pub use credentials::{Credentials, CredentialsError, Keyring, SecretKey};
pub use ids::{
    ClickPaydocId, ClickTransId, IdError, InvoiceId, MerchantConfirmId, MerchantId,
    MerchantPrepareId, MerchantTransId, MerchantUserId, ServiceId, TaskId,
};
pub use memory::{MemoryOrders, MemoryStore};
pub use outbox::Outbox;
pub use routes::{
    CallbackPaths, CallbackRoutes, CallbackUrls, MAX_BODY_BYTES, READ_TIMEOUT, SHUTDOWN_TIMEOUT,
    Unhandled,
};
pub use shop::{CancelAfterConfirm, Shop, ShopEvent};
pub use signature::{Signature, sign_complete, sign_prepare};
pub use store::{
    Attempt, BoxError, Expected, Mismatch, NewCharge, NewPrepare, Order, OrderHooks, OrderStore,
    Outcome, PaymentKind, Prepared, ReversalOutcome, ReversalReason, StoreError, TelegramCharge,
    Transaction, TransactionState, Transition, Unpayable,
};
