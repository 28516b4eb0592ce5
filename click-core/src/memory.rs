//! [`MemoryStore`], the embedded default store, and [`MemoryOrders`], an in-memory order book.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::ids::{ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, ServiceId};
use crate::store::{
    BoxError, NewPrepare, Order, OrderHooks, OrderStore, Outcome, PaymentKind, Prepared,
    ReversalReason, StoreError, Transaction, TransactionState, Transition,
};

/// Keeps Click's transactions in memory; the merchant's orders come from hooks `H`.
///
/// Transitions (Prepare, Complete) are serialized by one asynchronous lock that is held while the
/// hooks run, so each happens exactly once whatever the concurrency; lookups do not take it. Keep
/// the hooks quick: a slow hook delays every other transition.
///
/// A Prepare is recorded only after the reserve hook succeeded. A confirm claims the transaction
/// (and the one-time order) *before* calling the delivery hook; if that request is dropped mid-hook
/// (Click hung up) or the hook panics, Click's retry finds the interrupted claim and reports the
/// payment as [`ReversalReason::DeliveryFailed`] instead of delivering a second time.
///
/// Nothing survives a restart: real money belongs in a database-backed store.
///
/// ```
/// use click_core::{Amount, MemoryOrders, MemoryStore, Order};
///
/// let orders = MemoryOrders::new();
/// orders.insert("order-42".parse()?, Order::Payable { amount: "1000".parse()? });
/// let store = MemoryStore::new(orders.clone());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryStore<H = MemoryOrders> {
    hooks: H,
    state: Mutex<State>,
    transitions: async_lock::Mutex<()>,
}

#[derive(Default)]
struct State {
    next_id: i64,
    transactions: HashMap<ClickTransId, Transaction>,
    /// The debited transaction of each one-time order.
    paid_orders: HashMap<(ServiceId, MerchantTransId), ClickTransId>,
    /// Transactions whose delivery hook is running (or was interrupted).
    delivering: HashSet<ClickTransId>,
}

impl<H: OrderHooks> MemoryStore<H> {
    /// A store over the merchant's hooks.
    pub fn new(hooks: H) -> Self {
        Self {
            hooks,
            state: Mutex::new(State::default()),
            transitions: async_lock::Mutex::new(()),
        }
    }

    /// The hooks.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// Every transaction, in no particular order (for inspection and tests).
    pub fn transactions(&self) -> Vec<Transaction> {
        self.state().transactions.values().cloned().collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock can only come from a bug in this module; the state is
        // still consistent because every update is a single insert or assignment.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for MemoryStore<MemoryOrders> {
    fn default() -> Self {
        Self::new(MemoryOrders::new())
    }
}

#[async_trait]
impl<H: OrderHooks> OrderStore for MemoryStore<H> {
    async fn order(
        &self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Order>, StoreError> {
        self.hooks
            .find(&mut (), service_id, merchant_trans_id)
            .await
            .map_err(StoreError::Hook)
    }

    async fn transaction(
        &self,
        click_trans_id: ClickTransId,
    ) -> Result<Option<Transaction>, StoreError> {
        Ok(self.state().transactions.get(&click_trans_id).cloned())
    }

    async fn prepare(&self, new: NewPrepare) -> Result<Prepared, StoreError> {
        let _transition = self.transitions.lock().await;
        let transaction = {
            let mut state = self.state();
            if let Some(existing) = state.transactions.get(&new.click_trans_id) {
                return Ok(Prepared::Existing(existing.clone()));
            }
            let order_key = (new.service_id, new.merchant_trans_id.clone());
            if new.kind == PaymentKind::Order && state.paid_orders.contains_key(&order_key) {
                return Ok(Prepared::OrderAlreadyPaid);
            }
            state.next_id += 1;
            new.prepared(MerchantPrepareId::new(state.next_id))
        };
        // Recorded only once the reservation succeeded: meanwhile a resent Prepare finds nothing
        // in `transaction` and waits for the transition lock here, so no answer ever names a
        // prepare id that is then taken back.
        self.hooks
            .reserve(&mut (), &transaction)
            .await
            .map_err(StoreError::Hook)?;
        self.state()
            .transactions
            .insert(transaction.click_trans_id, transaction.clone());
        Ok(Prepared::Created(transaction))
    }

    async fn complete(
        &self,
        click_trans_id: ClickTransId,
        to: Outcome,
    ) -> Result<Transition, StoreError> {
        let _transition = self.transitions.lock().await;
        match self.claim(click_trans_id, to)? {
            Claim::Done(transition) => Ok(transition),
            Claim::Deliver(mut transaction) => {
                let delivered = self.hooks.deliver(&mut (), &transaction).await;
                transaction.state = match delivered {
                    Ok(()) => TransactionState::Confirmed,
                    Err(error) => {
                        tracing::error!(
                            click_trans_id = %click_trans_id,
                            error = error.as_ref() as &dyn std::error::Error,
                            "delivery hook failed after Click debited the customer"
                        );
                        TransactionState::ReversalDue(ReversalReason::DeliveryFailed)
                    }
                };
                let mut state = self.state();
                state.delivering.remove(&click_trans_id);
                state
                    .transactions
                    .insert(click_trans_id, transaction.clone());
                Ok(Transition::Confirmed(transaction))
            }
            Claim::Release(transaction) => {
                if let Err(error) = self.hooks.release(&mut (), &transaction).await {
                    tracing::warn!(
                        click_trans_id = %click_trans_id,
                        error = error.as_ref() as &dyn std::error::Error,
                        "release hook failed; the cancel stands"
                    );
                }
                Ok(Transition::Cancelled(transaction))
            }
        }
    }
}

/// What a Complete must do once the transition is claimed under the locks.
enum Claim {
    /// Nothing is left to do.
    Done(Transition),
    /// Confirmed and claimed: run the delivery hook.
    Deliver(Transaction),
    /// Cancelled: run the release hook.
    Release(Transaction),
}

impl<H: OrderHooks> MemoryStore<H> {
    /// Decides a Complete and commits its claim; the caller holds the transition lock.
    fn claim(&self, click_trans_id: ClickTransId, to: Outcome) -> Result<Claim, StoreError> {
        let mut state = self.state();
        let State {
            transactions,
            paid_orders,
            delivering,
            ..
        } = &mut *state;
        let transaction = transactions
            .get_mut(&click_trans_id)
            .ok_or(StoreError::UnknownTransaction(click_trans_id))?;
        if delivering.remove(&click_trans_id) {
            // An earlier confirm claimed this transaction and started the delivery hook, but its
            // request was dropped (Click hung up) or the hook panicked: whether the goods went out
            // is unknown, and Click's money is taken. Never deliver twice; report it instead.
            tracing::error!(
                click_trans_id = %click_trans_id,
                "an interrupted delivery was found on Click's retry"
            );
            transaction.state = TransactionState::ReversalDue(ReversalReason::DeliveryFailed);
            return Ok(Claim::Done(match to {
                Outcome::Confirm => Transition::Confirmed(transaction.clone()),
                Outcome::Cancel => Transition::Unchanged(transaction.clone()),
            }));
        }
        if transaction.state != TransactionState::Prepared {
            return Ok(Claim::Done(Transition::Unchanged(transaction.clone())));
        }
        if to == Outcome::Cancel {
            transaction.state = TransactionState::Cancelled;
            return Ok(Claim::Release(transaction.clone()));
        }
        let order_key = (
            transaction.service_id,
            transaction.merchant_trans_id.clone(),
        );
        if transaction.kind == PaymentKind::Order {
            if paid_orders.contains_key(&order_key) {
                transaction.state = TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid);
                return Ok(Claim::Done(Transition::OrderAlreadyPaid(
                    transaction.clone(),
                )));
            }
            paid_orders.insert(order_key, click_trans_id);
        }
        transaction.merchant_confirm_id = Some(MerchantConfirmId::new(
            transaction.merchant_prepare_id.get(),
        ));
        delivering.insert(click_trans_id);
        Ok(Claim::Deliver(transaction.clone()))
    }
}

/// An in-memory order book implementing [`OrderHooks`] for any store context: for demos, tests
/// and prototypes. Cloning shares the book.
///
/// Orders are keyed by `merchant_trans_id` alone (every service sees the same book). Delivering a
/// one-time order marks it [`Order::Paid`]; every delivery is recorded.
#[derive(Debug, Clone, Default)]
pub struct MemoryOrders {
    inner: Arc<Mutex<Book>>,
}

#[derive(Debug, Default)]
struct Book {
    orders: HashMap<MerchantTransId, Order>,
    deliveries: Vec<Transaction>,
}

impl MemoryOrders {
    /// An empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an order.
    pub fn insert(&self, id: MerchantTransId, order: Order) {
        self.book().orders.insert(id, order);
    }

    /// The order's current state.
    pub fn get(&self, id: &MerchantTransId) -> Option<Order> {
        self.book().orders.get(id).copied()
    }

    /// Every delivered payment, in delivery order.
    pub fn deliveries(&self) -> Vec<Transaction> {
        self.book().deliveries.clone()
    }

    /// How many payments were delivered for an order or account.
    pub fn delivery_count(&self, id: &MerchantTransId) -> usize {
        self.book()
            .deliveries
            .iter()
            .filter(|delivery| delivery.merchant_trans_id == *id)
            .count()
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl<Cx: ?Sized + Send> OrderHooks<Cx> for MemoryOrders {
    async fn find(
        &self,
        _cx: &mut Cx,
        _service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Order>, BoxError> {
        Ok(self.get(merchant_trans_id))
    }

    /// Marks a one-time order paid; refuses one that is already paid (possible when two services
    /// share this book), so the payment is reported for reversal instead of delivered twice.
    async fn deliver(&self, _cx: &mut Cx, payment: &Transaction) -> Result<(), BoxError> {
        let mut book = self.book();
        if payment.kind == PaymentKind::Order {
            let order = book
                .orders
                .insert(payment.merchant_trans_id.clone(), Order::Paid);
            if order == Some(Order::Paid) {
                return Err(format!("order {} is already paid", payment.merchant_trans_id).into());
            }
        }
        book.deliveries.push(payment.clone());
        Ok(())
    }
}
