//! [`TelegramShop`]: the pre-checkout check and the `successful_payment` recorder, over the same
//! store as the SHOP-API.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use click_core::outbox::to_the_millisecond;
use click_core::{
    Amount, IdError, MerchantTransId, NewCharge, Order, OrderStore, PaymentKind, ServiceId,
    StoreError, TelegramCharge, Tiyin, Transaction, TransactionState, Transition, Unpayable,
};

use crate::bot_api::{AnswerPreCheckoutQuery, CURRENCY, PreCheckoutQuery, SuccessfulPayment};

/// How long the pre-checkout check may take by default: Telegram cancels the payment if no
/// answer arrives within 10 seconds of the query, and the answer needs its own round trip.
pub const PRE_CHECKOUT_BUDGET: Duration = Duration::from_secs(8);

/// Why a pre-checkout query is refused. [`message`](Self::message) is what the customer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The invoice is not in so'm.
    #[error("not in so'm")]
    Currency,
    /// No such order (or the payload is not a `merchant_trans_id`).
    #[error("unknown order")]
    UnknownOrder,
    /// The order is paid already, through any channel.
    #[error("already paid")]
    Paid,
    /// The order is cancelled or can no longer be paid.
    #[error("closed")]
    Closed,
    /// The invoice's amount is not the order's (it changed since), or outside the account's
    /// limits.
    #[error("wrong amount")]
    WrongAmount,
    /// The shop could not check the order in time (a store or hook failure, or too slow).
    #[error("the order could not be checked in time")]
    Unavailable,
}

impl Refusal {
    /// The customer-readable message Telegram shows.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Currency => "This shop accepts payments in Uzbek so'm only.",
            Refusal::UnknownOrder => {
                "Sorry, we cannot find this order any more. Please start a new one."
            }
            Refusal::Paid => "This order is already paid. Nothing more is due.",
            Refusal::Closed => "Sorry, this order was cancelled and can no longer be paid.",
            Refusal::WrongAmount => {
                "The order's total has changed since this invoice. Please ask for a new invoice."
            }
            Refusal::Unavailable => {
                "Sorry, we cannot confirm your order right now. Please try again in a minute."
            }
        }
    }

    /// The `answer` label of `click_telegram_pre_checkouts_total`.
    fn label(self) -> &'static str {
        match self {
            Refusal::Currency => "currency",
            Refusal::UnknownOrder => "unknown_order",
            Refusal::Paid => "paid",
            Refusal::Closed => "closed",
            Refusal::WrongAmount => "wrong_amount",
            Refusal::Unavailable => "unavailable",
        }
    }
}

/// What recording a `successful_payment` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Recorded {
    /// The payment was recorded and delivered through the `deliver` hook: thank the customer.
    Delivered(Transaction),
    /// The payment was recorded but not delivered, and is due for reversal: the order was paid
    /// already (through the SHOP-API or another Telegram payment), or the delivery hook failed.
    /// Tell the customer the money comes back; the settlement worker (`click-settle`) reverses it.
    ReversalDue(Transaction),
    /// Telegram repeated an update already recorded: nothing changed (the first record).
    Repeated(Transaction),
}

impl Recorded {
    /// The recorded transaction.
    pub fn transaction(&self) -> &Transaction {
        match self {
            Recorded::Delivered(t) | Recorded::ReversalDue(t) | Recorded::Repeated(t) => t,
        }
    }
}

/// Why a `successful_payment` could not be recorded. Nothing was recorded: handle the update
/// again, trying for longer than an outage lasts (recording is idempotent per
/// `telegram_payment_charge_id`); Telegram will not send it again.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentError {
    /// Not paid in so'm: not a CLICK Terminal payment.
    #[error("a payment in {0}, not in so'm")]
    Currency(String),
    /// The payload is not a `merchant_trans_id`: not an invoice of this shop.
    #[error("the invoice payload is not a merchant_trans_id")]
    Payload(#[source] IdError),
    /// The amount is not a positive amount of so'm.
    #[error("the amount paid, {0} tiyin, is not a positive amount of so'm")]
    Amount(i64),
    /// The store failed.
    #[error("the store failed")]
    Store(#[source] StoreError),
}

/// Sells a shop's orders in a Telegram bot through CLICK Terminal, over the same
/// [`OrderStore`] as its SHOP-API callbacks, so an order is paid once whichever way the customer
/// pays.
///
/// ```
/// use std::sync::Arc;
/// use click_core::{MemoryStore, MemoryOrders, Order, ServiceId};
/// use click_telegram::{PreCheckoutQuery, TelegramShop, User};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let orders = MemoryOrders::new();
/// orders.insert("order-42".parse()?, Order::Payable { amount: "15000".parse()? });
/// let telegram = TelegramShop::new(Arc::new(MemoryStore::new(orders)), ServiceId::new(101));
///
/// let query = PreCheckoutQuery {
///     id: "q-1".into(),
///     from: User { id: 7, is_bot: false, first_name: "Aziz".into(), username: None },
///     currency: "UZS".into(),
///     total_amount: 1_500_000,
///     invoice_payload: "order-42".into(),
/// };
/// assert!(telegram.pre_checkout(&query).await.ok);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct TelegramShop {
    store: Arc<dyn OrderStore>,
    service_id: ServiceId,
    budget: Duration,
}

impl TelegramShop {
    /// Sells through `store` (a [`click_core::Shop`]'s [`store`](click_core::Shop::store), for
    /// one store with the SHOP-API) for the Click service the bot's CLICK Terminal token belongs
    /// to.
    pub fn new(store: Arc<dyn OrderStore>, service_id: ServiceId) -> Self {
        Self {
            store,
            service_id,
            budget: PRE_CHECKOUT_BUDGET,
        }
    }

    /// How long [`pre_checkout`](Self::pre_checkout) may take before it refuses as
    /// [`Refusal::Unavailable`] (default [`PRE_CHECKOUT_BUDGET`]).
    #[must_use]
    pub fn answer_within(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The answer to a pre-checkout query: ok when the order may be paid for the invoice's
    /// amount now, else a customer-readable refusal. Always within the budget: a slow lookup
    /// refuses rather than miss Telegram's 10 seconds.
    pub async fn pre_checkout(&self, query: &PreCheckoutQuery) -> AnswerPreCheckoutQuery {
        let verdict = self.check(query).await;
        let label = verdict.err().map_or("ok", Refusal::label);
        click_core::metrics::telegram_pre_checkout(label);
        if let Err(refusal) = verdict {
            tracing::info!(
                pre_checkout_query_id = %query.id,
                merchant_trans_id = %query.invoice_payload.escape_debug(),
                %refusal,
                "pre-checkout refused"
            );
        }
        AnswerPreCheckoutQuery {
            pre_checkout_query_id: query.id.clone(),
            ok: verdict.is_ok(),
            error_message: verdict.err().map(|refusal| refusal.message().to_owned()),
        }
    }

    /// Whether the order may be paid for the invoice's amount now, and as what (the same rule as
    /// a Prepare: [`Order::payment_kind`]).
    ///
    /// # Errors
    ///
    /// Why not.
    pub async fn check(&self, query: &PreCheckoutQuery) -> Result<PaymentKind, Refusal> {
        if query.currency != CURRENCY {
            return Err(Refusal::Currency);
        }
        let amount = amount(query.total_amount).ok_or(Refusal::WrongAmount)?;
        let id: MerchantTransId = query
            .invoice_payload
            .parse()
            .map_err(|_| Refusal::UnknownOrder)?;
        let order =
            match tokio::time::timeout(self.budget, self.store.order(self.service_id, &id)).await {
                Ok(Ok(order)) => order,
                Ok(Err(error)) => {
                    tracing::error!(
                        error = &error as &dyn std::error::Error,
                        "pre-checkout: the order lookup failed"
                    );
                    return Err(Refusal::Unavailable);
                }
                Err(_) => {
                    tracing::error!(
                        budget_ms = self.budget.as_millis(),
                        "pre-checkout: the order lookup took too long"
                    );
                    return Err(Refusal::Unavailable);
                }
            };
        let order = order.ok_or(Refusal::UnknownOrder)?;
        order
            .payment_kind(amount)
            .map_err(|unpayable| match unpayable {
                Unpayable::Paid => Refusal::Paid,
                Unpayable::Closed => Refusal::Closed,
                _ => Refusal::WrongAmount,
            })
    }

    /// Records a `successful_payment` and delivers it through the merchant's `deliver` hook,
    /// once per `telegram_payment_charge_id`, under the rule of one debited transaction per
    /// one-time order: a payment of an order paid already (by any channel) is kept as reversal
    /// due. Telegram took the money, so the payment is recorded whatever the order has become
    /// (the `deliver` hook decides whether it can still be delivered), and recorded before it is
    /// delivered: an interrupted delivery is finished by [`deliver_received`](Self::deliver_received).
    ///
    /// # Errors
    ///
    /// The payment is not one of this shop's so'm invoices, or the store failed; nothing was
    /// recorded.
    pub async fn record(&self, payment: &SuccessfulPayment) -> Result<Recorded, PaymentError> {
        if payment.currency != CURRENCY {
            return Err(PaymentError::Currency(payment.currency.clone()));
        }
        let merchant_trans_id: MerchantTransId = payment
            .invoice_payload
            .parse()
            .map_err(PaymentError::Payload)?;
        let amount =
            amount(payment.total_amount).ok_or(PaymentError::Amount(payment.total_amount))?;
        let order = self
            .store
            .order(self.service_id, &merchant_trans_id)
            .await
            .map_err(PaymentError::Store)?;
        let kind = order.map_or(PaymentKind::Order, Order::kind);
        let new = NewCharge {
            service_id: self.service_id,
            merchant_trans_id,
            amount,
            kind,
            charge: TelegramCharge {
                telegram_payment_charge_id: payment.telegram_payment_charge_id.clone(),
                provider_payment_charge_id: payment.provider_payment_charge_id.clone(),
            },
            paid_at: to_the_millisecond(SystemTime::now()),
        };
        let transition = self
            .store
            .record_charge(new)
            .await
            .map_err(PaymentError::Store)?;
        Ok(self.report(transition))
    }

    /// Delivers every payment received but not delivered (its delivery was interrupted: a crash,
    /// a panic in the hook). Telegram does not send an update again once the bot fetched it, so
    /// run this at start and every minute or so: it is the bot's side of Click's retries.
    ///
    /// # Errors
    ///
    /// The store failed; what was delivered before stays delivered.
    pub async fn deliver_received(&self) -> Result<Vec<Recorded>, StoreError> {
        let mut delivered = Vec::new();
        for payment in self.store.received_charges().await? {
            let transition = self
                .store
                .deliver_charge(payment.merchant_prepare_id)
                .await?;
            delivered.push(self.report(transition));
        }
        Ok(delivered)
    }

    /// What a store's transition means for a Telegram payment, recorded in metrics and logs.
    fn report(&self, transition: Transition) -> Recorded {
        let recorded = match transition {
            Transition::Confirmed(t) if t.state == TransactionState::Confirmed => {
                Recorded::Delivered(t)
            }
            Transition::Unchanged(t) => Recorded::Repeated(t),
            Transition::Confirmed(t)
            | Transition::OrderAlreadyPaid(t)
            | Transition::Cancelled(t) => Recorded::ReversalDue(t),
        };
        self.log(&recorded);
        recorded
    }

    fn log(&self, recorded: &Recorded) {
        let t = recorded.transaction();
        let outcome = match recorded {
            Recorded::Delivered(_) => "delivered",
            Recorded::ReversalDue(_) => "reversal_due",
            Recorded::Repeated(_) => "repeated",
        };
        click_core::metrics::telegram_payment(outcome);
        if let (Recorded::ReversalDue(_), TransactionState::ReversalDue(reason)) =
            (recorded, t.state)
        {
            click_core::metrics::reversal_due(reason);
            tracing::warn!(
                merchant_prepare_id = t.merchant_prepare_id.get(),
                merchant_trans_id = %t.merchant_trans_id,
                ?reason,
                "Telegram payment kept for reversal"
            );
        } else {
            tracing::info!(
                merchant_prepare_id = t.merchant_prepare_id.get(),
                merchant_trans_id = %t.merchant_trans_id,
                outcome,
                "Telegram payment recorded"
            );
        }
    }
}

/// A positive amount of so'm from tiyin, as Telegram counts them.
fn amount(tiyin: i64) -> Option<Amount> {
    let tiyin = u64::try_from(tiyin).ok().filter(|&tiyin| tiyin > 0)?;
    Amount::from_tiyin(Tiyin(tiyin)).ok()
}
