//! Storage: the [`OrderStore`] trait the state machine drives, and the [`OrderHooks`] through which
//! a merchant's own orders plug into a store.
//!
//! The split of duties:
//! - [`crate::Shop`] owns every decision (which code to answer, whether an amount fits).
//! - An [`OrderStore`] keeps Click's transactions and guarantees that each transition happens at
//!   most once, whatever the concurrency: one prepared attempt per (`service_id`,
//!   `click_trans_id`, `merchant_trans_id`), one move out of [`TransactionState::Prepared`], and
//!   one debited transaction per one-time order. The transitions themselves are written once, in
//!   [`crate::transition`], over the primitive steps a store supplies.
//! - [`OrderHooks`] are the merchant's domain: look an order up, reserve it on Prepare, deliver on
//!   confirm, release on cancel. A store calls them *inside* its transitions, passing its own
//!   context `Cx`: a SQL store passes its open database transaction, so that "payment confirmed" and
//!   "order marked paid" commit together; [`crate::MemoryStore`] passes `()`.

use std::error::Error;
use std::time::SystemTime;

use async_trait::async_trait;

use crate::amount::Amount;
use crate::ids::{
    ClickPaydocId, ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, ServiceId,
};

/// A boxed error from a store backend or a merchant's hook.
pub type BoxError = Box<dyn Error + Send + Sync + 'static>;

/// What the merchant's lookup says about a `merchant_trans_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Order {
    /// A one-time order awaiting payment of exactly `amount`.
    Payable {
        /// The order total.
        amount: Amount,
    },
    /// A one-time order that is already paid: Prepare answers `-4`.
    Paid,
    /// An order that is cancelled or can no longer be paid: Prepare answers `-9`.
    Closed,
    /// An account (login, personal account, wallet) topped up by any number of payments, each of
    /// an amount within `min..=max`.
    Account {
        /// The smallest accepted payment.
        min: Amount,
        /// The largest accepted payment.
        max: Amount,
    },
}

impl Order {
    /// An account accepting any positive amount, from one tiyin to [`Amount::MAX`].
    pub fn account() -> Order {
        Order::Account {
            min: Amount::ONE_TIYIN,
            max: Amount::MAX,
        }
    }

    /// Whether a payment of `amount` may pay this order now, and as what: the one rule a Prepare
    /// and a Telegram pre-checkout both follow.
    ///
    /// # Errors
    ///
    /// Why it may not: the order is paid or closed, or the amount is not the order's total or
    /// outside the account's limits.
    pub fn payment_kind(self, amount: Amount) -> Result<PaymentKind, Unpayable> {
        let kind = self.kind();
        match self {
            Order::Paid => Err(Unpayable::Paid),
            Order::Closed => Err(Unpayable::Closed),
            Order::Payable { amount: total } if total == amount => Ok(kind),
            Order::Account { min, max } if (min..=max).contains(&amount) => Ok(kind),
            Order::Payable { .. } | Order::Account { .. } => Err(Unpayable::WrongAmount),
        }
    }

    /// What a payment of this order is: a top-up of an account, else the payment of a one-time
    /// order.
    pub fn kind(self) -> PaymentKind {
        match self {
            Order::Account { .. } => PaymentKind::TopUp,
            Order::Payable { .. } | Order::Paid | Order::Closed => PaymentKind::Order,
        }
    }
}

/// Why an order may not be paid: [`Order::payment_kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Unpayable {
    /// A one-time order that is already paid (Prepare: `-4`).
    #[error("the order is already paid")]
    Paid,
    /// An order that is cancelled or can no longer be paid (Prepare: `-9`).
    #[error("the order is closed")]
    Closed,
    /// Not the one-time order's total, or outside the account's limits (Prepare: `-2`).
    #[error("the amount does not fit the order")]
    WrongAmount,
}

/// Whether a transaction pays a one-time order or tops up an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentKind {
    /// Pays a one-time order: at most one confirmed transaction per order.
    Order,
    /// Tops up an account: every confirmed transaction is a separate payment.
    TopUp,
}

/// Why a debited payment must be reversed through the Merchant API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReversalReason {
    /// The delivery hook failed, or was interrupted (a dropped request, a panic), after Click had
    /// debited the customer; Click was answered `0`.
    DeliveryFailed,
    /// Another transaction had already paid the one-time order (two tabs, two attempts); Click was
    /// answered `-4`.
    OrderAlreadyPaid,
}

/// Where a transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionState {
    /// Prepare answered `0`; waiting for Complete.
    Prepared,
    /// Confirmed and delivered.
    Confirmed,
    /// Cancelled by Click; the reservation was released.
    Cancelled,
    /// Debited by Click but not delivered: the merchant owes a reversal. Final, like `Confirmed`.
    ReversalDue(ReversalReason),
    /// Cancelled by the settlement worker: no Complete came in time and Click had no paid payment
    /// for it; the reservation was released. A Complete that comes later answers `-9`.
    Expired,
    /// A Telegram payment recorded, its delivery not done yet (or interrupted): the money was
    /// taken. [`OrderStore::deliver_charge`] moves it on, as a Complete moves a prepared attempt.
    Received,
}

impl TransactionState {
    /// Whether Click's money was taken for this transaction (`Confirmed`, `ReversalDue` or
    /// `Received`).
    pub fn is_debited(self) -> bool {
        matches!(
            self,
            TransactionState::Confirmed
                | TransactionState::ReversalDue(_)
                | TransactionState::Received
        )
    }
}

/// What became of a reversal the settlement worker made (or was asked to make).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReversalOutcome {
    /// Click reversed the payment: the customer got the money back.
    Reversed,
    /// Click never had the payment as paid: there was nothing to reverse.
    NeverPaid,
    /// Click refused to reverse a paid payment (out of the reporting month, a card that cannot be
    /// refunded online): a person must settle it with the customer or Click's support.
    Refused {
        /// Click's `error_code`.
        code: i64,
    },
}

/// One payment attempt, as a store keeps it, under the `merchant_prepare_id` it answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Click's id of the attempt, as its Prepare carried it. Several transactions may share one
    /// over time (Click's test tool reuses its ids on every run), but never while prepared.
    pub click_trans_id: ClickTransId,
    /// The service paid.
    pub service_id: ServiceId,
    /// Click's payment document (the Merchant API's `payment_id`, for a reversal).
    pub click_paydoc_id: ClickPaydocId,
    /// The order or account.
    pub merchant_trans_id: MerchantTransId,
    /// The amount, frozen at Prepare.
    pub amount: Amount,
    /// Order or top-up, decided at Prepare.
    pub kind: PaymentKind,
    /// The id answered to Prepare; the key, by which a Complete names the transaction.
    pub merchant_prepare_id: MerchantPrepareId,
    /// The id answered to the confirming Complete.
    pub merchant_confirm_id: Option<MerchantConfirmId>,
    /// Where it stands.
    pub state: TransactionState,
    /// When it was prepared (to the millisecond).
    pub prepared_at: SystemTime,
    /// What its reversal did, once the settlement worker settled one.
    pub reversal: Option<ReversalOutcome>,
    /// The link of its fiscal receipt, once fiscalized.
    pub receipt_url: Option<String>,
    /// The Telegram payment this transaction records, for one paid in a Telegram bot through
    /// CLICK Terminal ([`OrderStore::record_charge`]); `None` for a SHOP-API attempt. A Telegram
    /// payment has no `click_trans_id` (it is `0`) and no `merchant_confirm_id`; its
    /// `click_paydoc_id` is the charge's provider id when that is a Click payment id, else `0`.
    pub telegram: Option<TelegramCharge>,
}

/// The ids Telegram gives a payment made in a bot (its `successful_payment` message).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TelegramCharge {
    /// Telegram's id of the payment: the key under which a store records it once.
    pub telegram_payment_charge_id: String,
    /// The payment provider's (Click's) id of the payment, kept for a reversal.
    pub provider_payment_charge_id: String,
}

impl TelegramCharge {
    /// The Click payment id the provider id names, when it is one (canonical digits); `0`
    /// otherwise, and the settlement worker then leaves a reversal or receipt to a person.
    pub fn click_paydoc_id(&self) -> ClickPaydocId {
        self.provider_payment_charge_id
            .parse()
            .unwrap_or(ClickPaydocId::new(0))
    }
}

/// A Telegram payment to record ([`OrderStore::record_charge`]): Telegram reported it paid, so
/// it is recorded whatever the order has become, then delivered or kept for reversal. The
/// merchant's `deliver` hook decides whether the order can still be delivered, as it does for a
/// Complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCharge {
    /// The service the bot's CLICK Terminal token sells for.
    pub service_id: ServiceId,
    /// The order or account (the invoice's payload).
    pub merchant_trans_id: MerchantTransId,
    /// The amount Telegram reports paid.
    pub amount: Amount,
    /// Order or top-up.
    pub kind: PaymentKind,
    /// Telegram's ids of the payment.
    pub charge: TelegramCharge,
    /// When the payment was reported (to the millisecond).
    pub paid_at: SystemTime,
}

impl NewCharge {
    /// The transaction a store records for this payment, under the `merchant_prepare_id` it
    /// assigned: received, not yet delivered.
    pub fn recorded(self, merchant_prepare_id: MerchantPrepareId) -> Transaction {
        Transaction {
            click_trans_id: ClickTransId::new(0),
            service_id: self.service_id,
            click_paydoc_id: self.charge.click_paydoc_id(),
            merchant_trans_id: self.merchant_trans_id,
            amount: self.amount,
            kind: self.kind,
            merchant_prepare_id,
            merchant_confirm_id: None,
            state: TransactionState::Received,
            prepared_at: self.paid_at,
            reversal: None,
            receipt_url: None,
            telegram: Some(self.charge),
        }
    }
}

/// A Prepare as Click sent it (signed, with a positive amount), for [`OrderStore::prepare`] to
/// check against its order and record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Click's id of the attempt.
    pub click_trans_id: ClickTransId,
    /// The service paid.
    pub service_id: ServiceId,
    /// Click's payment document.
    pub click_paydoc_id: ClickPaydocId,
    /// The order or account.
    pub merchant_trans_id: MerchantTransId,
    /// The amount to freeze.
    pub amount: Amount,
    /// When it arrives (to the millisecond: stores keep Unix milliseconds).
    pub prepared_at: SystemTime,
}

impl Attempt {
    /// The attempt to record, its order found payable as `kind`.
    pub fn of_kind(self, kind: PaymentKind) -> NewPrepare {
        NewPrepare {
            click_trans_id: self.click_trans_id,
            service_id: self.service_id,
            click_paydoc_id: self.click_paydoc_id,
            merchant_trans_id: self.merchant_trans_id,
            amount: self.amount,
            kind,
            prepared_at: self.prepared_at,
        }
    }
}

/// A Prepare to record, its order checked ([`Attempt::of_kind`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPrepare {
    /// Click's id of the attempt.
    pub click_trans_id: ClickTransId,
    /// The service paid.
    pub service_id: ServiceId,
    /// Click's payment document.
    pub click_paydoc_id: ClickPaydocId,
    /// The order or account.
    pub merchant_trans_id: MerchantTransId,
    /// The amount to freeze.
    pub amount: Amount,
    /// Order or top-up.
    pub kind: PaymentKind,
    /// When it arrives (to the millisecond: stores keep Unix milliseconds).
    pub prepared_at: SystemTime,
}

impl NewPrepare {
    /// The transaction a store records for this Prepare, under the `merchant_prepare_id` it
    /// assigned: prepared, not yet confirmed.
    pub fn prepared(self, merchant_prepare_id: MerchantPrepareId) -> Transaction {
        Transaction {
            click_trans_id: self.click_trans_id,
            service_id: self.service_id,
            click_paydoc_id: self.click_paydoc_id,
            merchant_trans_id: self.merchant_trans_id,
            amount: self.amount,
            kind: self.kind,
            merchant_prepare_id,
            merchant_confirm_id: None,
            state: TransactionState::Prepared,
            prepared_at: self.prepared_at,
            reversal: None,
            receipt_url: None,
            telegram: None,
        }
    }
}

/// What [`OrderStore::prepare`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// A new transaction was recorded and the order reserved.
    Created(Transaction),
    /// A prepared attempt of the same (`service_id`, `click_trans_id`, `merchant_trans_id`) was
    /// already recorded (a concurrent duplicate committed first): that record, unchanged.
    Existing(Transaction),
    /// The one-time order already has a debited transaction: nothing was recorded.
    OrderAlreadyPaid,
    /// The merchant has no such order or account: nothing was recorded.
    NoOrder,
    /// The order cannot be paid with this attempt: nothing was recorded.
    Unpayable(Unpayable),
}

/// The transition [`OrderStore::complete`] is asked to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Click debited the money: confirm and deliver.
    Confirm,
    /// Click cancelled: cancel and release.
    Cancel,
    /// The settlement worker gives up on an attempt no Complete came for: expire and release.
    Expire,
}

/// The payment a Complete from Click names: [`OrderStore::complete`] moves the transaction only
/// if it is this payment, so a Complete can be taken without reading the transaction first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The service Click says was paid.
    pub service_id: ServiceId,
    /// The order or account Click says was paid.
    pub merchant_trans_id: MerchantTransId,
    /// The amount Click debited.
    pub amount: Amount,
}

/// How a transaction differs from the payment a Complete names ([`Expected::mismatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Another service or order, or a Telegram payment (never prepared through Click's
    /// callbacks): Click answers `-6`.
    OtherPayment,
    /// The same payment with another amount: `-2`.
    Amount,
}

impl Expected {
    /// How `transaction` differs from this payment, or `None` if it is this payment.
    pub fn mismatch(&self, transaction: &Transaction) -> Option<Mismatch> {
        if transaction.merchant_trans_id != self.merchant_trans_id
            || transaction.service_id != self.service_id
            || transaction.telegram.is_some()
        {
            Some(Mismatch::OtherPayment)
        } else if transaction.amount != self.amount {
            Some(Mismatch::Amount)
        } else {
            None
        }
    }
}

/// What [`OrderStore::complete`] (or [`OrderStore::record_charge`]) found and did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// This call confirmed the transaction. Its state is `Confirmed`, or
    /// `ReversalDue(DeliveryFailed)` when the delivery hook failed.
    Confirmed(Transaction),
    /// This call found the one-time order paid by another transaction and moved this one to
    /// `ReversalDue(OrderAlreadyPaid)`.
    OrderAlreadyPaid(Transaction),
    /// This call cancelled (or expired) the transaction.
    Cancelled(Transaction),
    /// The transaction had already left `Prepared`, or is not the payment expected: nothing
    /// changed; its state tells what it is.
    Unchanged(Transaction),
}

impl Transition {
    /// The transaction as the transition left it.
    pub fn transaction(&self) -> &Transaction {
        match self {
            Transition::Confirmed(transaction)
            | Transition::OrderAlreadyPaid(transaction)
            | Transition::Cancelled(transaction)
            | Transition::Unchanged(transaction) => transaction,
        }
    }
}

/// A store failed: the callback answers `-7` and Click retries later.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The storage backend failed (connection, constraint, timeout). Nothing was changed.
    #[error("order store backend failed")]
    Backend(#[source] BoxError),
    /// A merchant hook failed where a failure aborts the transition (lookup, reserve). Nothing was
    /// changed.
    #[error("order hook failed")]
    Hook(#[source] BoxError),
    /// The transaction asked about does not exist: [`OrderStore::complete`] of an unknown
    /// `merchant_prepare_id` (a Complete answers `-6`, or `-9` to a cancel).
    #[error("transaction {0} does not exist")]
    UnknownTransaction(MerchantPrepareId),
    /// A concurrent callback moved the transaction in the middle of this one; nothing was changed
    /// and Click's retry will find it settled.
    #[error("a concurrent callback changed transaction {0} meanwhile")]
    Raced(ClickTransId),
}

impl StoreError {
    /// Wraps a backend error.
    pub fn backend(error: impl Into<BoxError>) -> Self {
        StoreError::Backend(error.into())
    }
}

/// Click's transactions and the merchant's orders, as the state machine sees them.
///
/// Implementations guarantee atomicity, not policy: twenty concurrent [`complete`](Self::complete)
/// calls for one transaction give one `Confirmed` and nineteen `Unchanged`; two concurrent confirms
/// of different transactions of one one-time order give one `Confirmed` and one `OrderAlreadyPaid`.
/// A failed call changes nothing. The transitions are written once in [`crate::transition`]: a
/// store opens one of its units of work ([`crate::transition::Steps`]) and hands it over.
/// `click_core::testing` (feature `testing`) has the conformance suite every implementation must
/// pass.
#[async_trait]
pub trait OrderStore: crate::outbox::Outbox + Send + Sync + 'static {
    /// The order Click asks about, through the merchant's lookup hook.
    async fn order(
        &self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Order>, StoreError>;

    /// The attempt a Prepare retry names: the transaction of (`service_id`, `click_trans_id`,
    /// `merchant_trans_id`) that is still [`TransactionState::Prepared`], if any.
    async fn prepared_attempt(
        &self,
        service_id: ServiceId,
        click_trans_id: ClickTransId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Transaction>, StoreError>;

    /// The transaction of a `merchant_prepare_id`, if any.
    async fn transaction(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError>;

    /// The Telegram payment recorded under a `telegram_payment_charge_id`, if any.
    async fn charge(
        &self,
        telegram_payment_charge_id: &str,
    ) -> Result<Option<Transaction>, StoreError>;

    /// Every SHOP-API transaction recorded under a `click_trans_id`, oldest first: what Click's
    /// support calls one payment may be several attempts here. (Telegram payments have none.)
    async fn transactions_of(
        &self,
        click_trans_id: ClickTransId,
    ) -> Result<Vec<Transaction>, StoreError>;

    /// Looks the attempt's order up through the hook ([`Order::payment_kind`] decides), then
    /// records the Prepare and reserves the order through the hook, atomically: while a prepared
    /// attempt of the same (`service_id`, `click_trans_id`, `merchant_trans_id`) exists, returns
    /// it unchanged (and reserves nothing); an order that is missing or cannot be paid, or a
    /// one-time order with a debited transaction, records nothing. A failing lookup or reserve
    /// hook records nothing.
    async fn prepare(&self, attempt: Attempt) -> Result<Prepared, StoreError>;

    /// Moves a `Prepared` transaction to confirmed (calling the delivery hook) or cancelled
    /// (calling the release hook), atomically, and says what it found. With `expected`, a
    /// transaction of another payment ([`Expected::mismatch`]) is not moved: the answer is
    /// [`Transition::Unchanged`] and no hook runs. A store must honour `expected`: [`crate::Shop`]
    /// reads a Complete's answer from what the store found, without reading the transaction
    /// first (the conformance suite checks it).
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownTransaction`] if there is no such transaction; any other error if
    /// the store failed (nothing was changed).
    async fn complete(
        &self,
        merchant_prepare_id: MerchantPrepareId,
        to: Outcome,
        expected: Option<&Expected>,
    ) -> Result<Transition, StoreError>;

    /// Records a Telegram payment, durably, before anything is delivered: in state
    /// [`TransactionState::Received`] under its `telegram_payment_charge_id`, or, recorded
    /// already, the first record, unchanged.
    ///
    /// # Errors
    ///
    /// The store failed, or the charge id is recorded for another order or amount; nothing was
    /// recorded.
    async fn receive_charge(&self, new: NewCharge) -> Result<Transaction, StoreError>;

    /// Delivers a received Telegram payment, atomically, under the same rule as a confirm: one
    /// debited transaction per one-time order. Answers [`Transition::Confirmed`] (delivered, or
    /// `ReversalDue(DeliveryFailed)` when the delivery hook failed) or
    /// [`Transition::OrderAlreadyPaid`] (another payment, from any channel, holds the order: kept
    /// as reversal due); a payment no longer received is [`Transition::Unchanged`]. Interrupted
    /// (a crash, a panic in the hook), it changes nothing: the payment stays received and is
    /// delivered by the next call.
    async fn deliver_charge(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Transition, StoreError>;

    /// Every Telegram payment received and not delivered yet, oldest first: those whose delivery
    /// was interrupted.
    async fn received_charges(&self) -> Result<Vec<Transaction>, StoreError>;

    /// Records a Telegram payment ([`receive_charge`](Self::receive_charge)), then delivers it
    /// ([`deliver_charge`](Self::deliver_charge)) unless that is done already: the same charge
    /// again records nothing and answers [`Transition::Unchanged`] with the first record.
    async fn record_charge(&self, new: NewCharge) -> Result<Transition, StoreError> {
        let received = self.receive_charge(new).await?;
        if received.state != TransactionState::Received {
            return Ok(Transition::Unchanged(received));
        }
        self.deliver_charge(received.merchant_prepare_id).await
    }

    /// A cheap round trip to the store (`SELECT 1` on a SQL store), for a readiness probe: `Ok`
    /// when a callback could be answered now. The default, for a store in memory, is `Ok`.
    async fn check(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The merchant's orders, as a store calls them. `Cx` is the store's context: `()` for
/// [`crate::MemoryStore`], an open database transaction for a SQL store.
///
/// Only [`find`](Self::find) and [`deliver`](Self::deliver) are required.
///
/// ```
/// use async_trait::async_trait;
/// use click_core::{Amount, BoxError, MerchantTransId, Order, OrderHooks, ServiceId, Transaction};
///
/// struct Shop;
///
/// #[async_trait]
/// impl OrderHooks for Shop {
///     async fn find(&self, _: &mut (), _: ServiceId, id: &MerchantTransId) -> Result<Option<Order>, BoxError> {
///         Ok((id.as_str() == "42").then(|| Order::Payable { amount: Amount::from_som(1000).unwrap() }))
///     }
///
///     async fn deliver(&self, _: &mut (), payment: &Transaction) -> Result<(), BoxError> {
///         println!("ship order {}", payment.merchant_trans_id);
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait OrderHooks<Cx: ?Sized + Send = ()>: Send + Sync + 'static {
    /// Looks an order up. `None` answers `-5`; an error answers `-7`.
    async fn find(
        &self,
        cx: &mut Cx,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Order>, BoxError>;

    /// Reserves the order when a Prepare is recorded. An error records nothing and answers `-7`.
    async fn reserve(&self, _cx: &mut Cx, _payment: &Transaction) -> Result<(), BoxError> {
        Ok(())
    }

    /// Whether [`reserve`](Self::reserve) does anything: hooks that leave it as the no-op default
    /// may answer `false`; `reserve` is then never called, and a SQL store records a Prepare
    /// outside any database transaction (two fewer round trips). The default, `true`, is always
    /// safe.
    fn reserves_orders(&self) -> bool {
        true
    }

    /// Delivers a payment Click debited: mark the order paid, credit the account. Called once per
    /// confirmed transaction. An error cannot undo the debit: the transaction becomes
    /// [`TransactionState::ReversalDue`], Click is answered `0` (or `-4`, should another attempt
    /// of the order be confirmed meanwhile) and a [`crate::ShopEvent::ReversalDue`] tells the
    /// merchant to reverse the payment. Return the error of the hook's own database work; one
    /// swallowed leaves the transaction unusable, and the Complete answers `-7`.
    ///
    /// A delivery that is interrupted before the store commits (the request dropped, the process
    /// killed, a panic) changes nothing, in every store: the transaction stays prepared, the
    /// hook's writes on `cx` roll back, and Click's retry delivers again. Effects outside `cx`
    /// (an e-mail, a call to a warehouse) belong in [`crate::ShopEvent::Confirmed`], after the
    /// commit, or must be idempotent per `merchant_prepare_id`.
    async fn deliver(&self, cx: &mut Cx, payment: &Transaction) -> Result<(), BoxError>;

    /// Releases the reservation when Click cancels, or the settlement worker expires the attempt.
    /// An error is logged; the cancel stands.
    async fn release(&self, _cx: &mut Cx, _payment: &Transaction) -> Result<(), BoxError> {
        Ok(())
    }

    /// Whether a confirmed payment needs a fiscal receipt: the store then records a "fiscalize"
    /// task in the same database transaction as the confirm, for the settlement worker (the
    /// `click-settle` crate). The default: no.
    fn wants_receipt(&self, _payment: &Transaction) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prepared(service_id: i64, order: &str, som: u64) -> Transaction {
        Attempt {
            click_trans_id: ClickTransId::new(1),
            service_id: ServiceId::new(service_id),
            click_paydoc_id: ClickPaydocId::new(1),
            merchant_trans_id: MerchantTransId::new(order).expect("an order id"),
            amount: Amount::from_som(som).expect("an amount"),
            prepared_at: SystemTime::UNIX_EPOCH,
        }
        .of_kind(PaymentKind::Order)
        .prepared(MerchantPrepareId::new(7))
    }

    #[test]
    fn a_complete_expects_its_service_order_and_amount_and_no_telegram_payment() {
        let expected = Expected {
            service_id: ServiceId::new(101),
            merchant_trans_id: MerchantTransId::new("o-1").expect("an order id"),
            amount: Amount::from_som(1000).expect("an amount"),
        };
        assert_eq!(expected.mismatch(&prepared(101, "o-1", 1000)), None);
        let other = Some(Mismatch::OtherPayment);
        assert_eq!(expected.mismatch(&prepared(102, "o-1", 1000)), other);
        assert_eq!(expected.mismatch(&prepared(101, "o-2", 1000)), other);
        // Another payment answers -6 even when its amount differs too.
        assert_eq!(expected.mismatch(&prepared(101, "o-2", 999)), other);
        let telegram = Transaction {
            telegram: Some(TelegramCharge {
                telegram_payment_charge_id: "tg-1".into(),
                provider_payment_charge_id: "1".into(),
            }),
            ..prepared(101, "o-1", 1000)
        };
        assert_eq!(expected.mismatch(&telegram), other);
        let amount = Some(Mismatch::Amount);
        assert_eq!(expected.mismatch(&prepared(101, "o-1", 999)), amount);
    }
}
