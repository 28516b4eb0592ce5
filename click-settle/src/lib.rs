//! Settles Click payments without a person: what must follow once the callbacks are answered.
//!
//! The store records a task in its outbox in the same database transaction as the transition
//! that calls for it ([`click_core::outbox`]); a [`Worker`] works them off through the Merchant
//! API, exactly once, whatever crashes, timeouts or duplicate workers happen:
//!
//! - **Reverse** a payment Click debited but the merchant did not deliver: the payment's status
//!   is read first, and only a payment Click has as paid is reversed; the outcome (reversed, never
//!   paid, refused by Click with its code) is recorded on the transaction. With
//!   [`Approve::Manual`] a reversal waits for [`approve_reversal`].
//! - **Fiscalize** a delivered payment whose hooks want a receipt: the merchant's [`Receipts`]
//!   builds the [`OfdReceipt`](click_merchant::OfdReceipt); the worker submits it, reads the
//!   fiscal data and keeps the receipt's link on the transaction. After a timeout it reads the
//!   fiscal data before it submits again.
//! - **Expire** an attempt no Complete came for within [`Policy::expire_after`] (30 minutes by
//!   default): if Click has no paid payment for it, it is expired and its reservation released (a
//!   Complete that comes later answers `-9`); if Click has it as paid, it is left for Click's own
//!   retry — unless another transaction holds that payment as debited: a late duplicate Prepare,
//!   expired.
//!
//! A task that fails is tried again with exponential backoff and jitter, and parked (for a
//! person, reported) after [`Policy::max_attempts`]. Every attempt is a `tracing` event. Several
//! workers on one database cooperate: each claims tasks for a lease, and a dead worker's tasks
//! come back when it runs out.
//!
//! ```no_run
//! use click_settle::{Policy, Worker};
//!
//! # async fn run(shop: click_core::Shop, client: click_merchant::MerchantClient) {
//! let worker = Worker::new(shop.store().clone(), client, Policy::default());
//! worker.run(async { tokio::signal::ctrl_c().await.ok(); }).await;
//! # }
//! ```

mod policy;
mod report;
mod worker;

pub use policy::{Approve, Policy};
pub use report::{Report, report};
pub use worker::{Receipts, SettleEvent, Step, Worker};

/// Lets a reversal held for approval ([`Approve::Manual`]) run; `false` if none is held for this
/// transaction.
///
/// # Errors
///
/// The store failed.
pub async fn approve_reversal(
    store: &dyn click_core::OrderStore,
    merchant_prepare_id: click_core::MerchantPrepareId,
) -> Result<bool, click_core::StoreError> {
    store.approve_reversal(merchant_prepare_id).await
}
