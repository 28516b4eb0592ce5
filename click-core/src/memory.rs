//! [`MemoryStore`], the embedded default store, and [`MemoryOrders`], an in-memory order book.

mod locks;
mod outbox;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::ids::{ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, ServiceId};
use crate::outbox::TaskKind;
use crate::store::{
    Attempt, BoxError, Expected, NewCharge, NewPrepare, Order, OrderHooks, OrderStore, Outcome,
    PaymentKind, Prepared, StoreError, Transaction, TransactionState, Transition,
};
use crate::transition::{self, Inserted, Steps};

use locks::{OrderGuard, OrderLocks};

/// The key of a one-time order (and of the lock a unit of work takes).
type OrderKey = (ServiceId, MerchantTransId);

/// The key of a prepared attempt.
type AttemptKey = (ServiceId, ClickTransId, MerchantTransId);

/// Keeps Click's transactions in memory; the merchant's orders come from hooks `H`.
///
/// Transitions take an asynchronous lock on their order (`service_id`, `merchant_trans_id`) and
/// hold it while the hooks run (a Prepare's `find` included), so each happens exactly once whatever
/// the concurrency, while callbacks of other orders go on; lookups outside a transition take no
/// such lock. A transition's writes are applied
/// only when it commits: a Prepare is recorded once its reservation succeeded, and a confirm whose
/// request is dropped mid-delivery (Click hung up) or whose hook panics changes nothing, so Click's
/// retry delivers — the same behaviour as the SQL stores, whose rollback undoes the hook's writes.
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
    locks: OrderLocks<OrderKey>,
    next_id: AtomicI64,
}

#[derive(Default)]
struct State {
    transactions: BTreeMap<MerchantPrepareId, Transaction>,
    /// The prepared attempt of each (service, click_trans_id, order).
    prepared: HashMap<AttemptKey, MerchantPrepareId>,
    /// Every SHOP-API transaction of a `click_trans_id`, oldest first.
    by_click_trans_id: HashMap<ClickTransId, Vec<MerchantPrepareId>>,
    /// The Telegram payment of each `telegram_payment_charge_id`.
    charges: HashMap<String, MerchantPrepareId>,
    /// The debited transaction of each one-time order.
    paid_orders: HashMap<OrderKey, MerchantPrepareId>,
    /// The settlement outbox.
    outbox: outbox::Tasks,
}

impl State {
    fn apply(&mut self, write: Write) {
        match write {
            Write::Put(transaction) => {
                let id = transaction.merchant_prepare_id;
                let attempt = attempt_key(&transaction);
                if transaction.state == TransactionState::Prepared {
                    self.prepared.insert(attempt, id);
                } else if self.prepared.get(&attempt) == Some(&id) {
                    self.prepared.remove(&attempt);
                }
                if !self.transactions.contains_key(&id) {
                    match &transaction.telegram {
                        Some(charge) => {
                            self.charges
                                .insert(charge.telegram_payment_charge_id.clone(), id);
                        }
                        None => self
                            .by_click_trans_id
                            .entry(transaction.click_trans_id)
                            .or_default()
                            .push(id),
                    }
                }
                self.transactions.insert(id, transaction);
            }
            Write::Claim(order, id) => {
                self.paid_orders.insert(order, id);
            }
            Write::Task(kind, id) => self.outbox.enqueue(kind, id, 0),
        }
    }
}

fn attempt_key(transaction: &Transaction) -> AttemptKey {
    (
        transaction.service_id,
        transaction.click_trans_id,
        transaction.merchant_trans_id.clone(),
    )
}

fn order_key(service_id: ServiceId, merchant_trans_id: &MerchantTransId) -> OrderKey {
    (service_id, merchant_trans_id.clone())
}

impl<H: OrderHooks> MemoryStore<H> {
    /// A store over the merchant's hooks.
    pub fn new(hooks: H) -> Self {
        Self {
            hooks,
            state: Mutex::new(State::default()),
            locks: OrderLocks::default(),
            next_id: AtomicI64::new(1),
        }
    }

    /// The hooks.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// Every transaction, oldest first (for inspection and tests).
    pub fn transactions(&self) -> Vec<Transaction> {
        self.state().transactions.values().cloned().collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// The order of a transaction, to lock.
    fn order_of(&self, merchant_prepare_id: MerchantPrepareId) -> Result<OrderKey, StoreError> {
        self.state()
            .transactions
            .get(&merchant_prepare_id)
            .map(|t| order_key(t.service_id, &t.merchant_trans_id))
            .ok_or(StoreError::UnknownTransaction(merchant_prepare_id))
    }

    /// Opens a unit of work on one order, waiting for the transitions of that order only.
    async fn begin(&self, order: OrderKey) -> MemoryUnit<'_> {
        MemoryUnit {
            state: &self.state,
            next_id: &self.next_id,
            _order: self.locks.lock(order).await,
            writes: Vec::new(),
            cx: (),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding this lock can only come from a bug in this module; the state is still
    // consistent because every update is applied whole by `State::apply`.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

    async fn prepared_attempt(
        &self,
        service_id: ServiceId,
        click_trans_id: ClickTransId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Transaction>, StoreError> {
        let state = self.state();
        let key = (service_id, click_trans_id, merchant_trans_id.clone());
        Ok(state
            .prepared
            .get(&key)
            .and_then(|id| state.transactions.get(id))
            .cloned())
    }

    async fn transaction(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        Ok(self.state().transactions.get(&merchant_prepare_id).cloned())
    }

    async fn charge(
        &self,
        telegram_payment_charge_id: &str,
    ) -> Result<Option<Transaction>, StoreError> {
        let state = self.state();
        Ok(state
            .charges
            .get(telegram_payment_charge_id)
            .and_then(|id| state.transactions.get(id))
            .cloned())
    }

    async fn transactions_of(
        &self,
        click_trans_id: ClickTransId,
    ) -> Result<Vec<Transaction>, StoreError> {
        let state = self.state();
        Ok(state
            .by_click_trans_id
            .get(&click_trans_id)
            .into_iter()
            .flatten()
            .filter_map(|id| state.transactions.get(id).cloned())
            .collect())
    }

    async fn prepare(&self, attempt: Attempt) -> Result<Prepared, StoreError> {
        let unit = self
            .begin(order_key(attempt.service_id, &attempt.merchant_trans_id))
            .await;
        transition::prepare(unit, &self.hooks, attempt).await
    }

    async fn complete(
        &self,
        merchant_prepare_id: MerchantPrepareId,
        to: Outcome,
        expected: Option<&Expected>,
    ) -> Result<Transition, StoreError> {
        let unit = self.begin(self.order_of(merchant_prepare_id)?).await;
        transition::complete(unit, &self.hooks, merchant_prepare_id, to, expected).await
    }

    async fn receive_charge(&self, new: NewCharge) -> Result<Transaction, StoreError> {
        let unit = self
            .begin(order_key(new.service_id, &new.merchant_trans_id))
            .await;
        transition::receive_charge(unit, &new).await
    }

    async fn deliver_charge(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Transition, StoreError> {
        let unit = self.begin(self.order_of(merchant_prepare_id)?).await;
        transition::deliver_charge(unit, &self.hooks, merchant_prepare_id).await
    }

    async fn received_charges(&self) -> Result<Vec<Transaction>, StoreError> {
        let state = self.state();
        Ok(state
            .transactions
            .values()
            .filter(|t| t.state == TransactionState::Received)
            .cloned()
            .collect())
    }
}

/// A write a unit of work applies when it commits.
enum Write {
    /// A new or changed transaction.
    Put(Transaction),
    /// A one-time order claimed by a debited transaction.
    Claim(OrderKey, MerchantPrepareId),
    /// A settlement task for a transaction.
    Task(TaskKind, MerchantPrepareId),
}

/// One transition's unit of work: the lock on its order, and the writes it commits.
struct MemoryUnit<'a> {
    state: &'a Mutex<State>,
    next_id: &'a AtomicI64,
    _order: OrderGuard<'a, OrderKey>,
    writes: Vec<Write>,
    cx: (),
}

impl MemoryUnit<'_> {
    /// The transaction as this unit sees it: its own writes over the committed state.
    fn current(&self, id: MerchantPrepareId) -> Option<Transaction> {
        self.writes
            .iter()
            .rev()
            .find_map(|write| match write {
                Write::Put(transaction) if transaction.merchant_prepare_id == id => {
                    Some(transaction.clone())
                }
                _ => None,
            })
            .or_else(|| lock(self.state).transactions.get(&id).cloned())
    }
}

impl Steps for MemoryUnit<'_> {
    type Cx = ();

    fn cx(&mut self) -> &mut () {
        &mut self.cx
    }

    async fn order_paid(
        &mut self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<bool, StoreError> {
        let key = order_key(service_id, merchant_trans_id);
        Ok(lock(self.state).paid_orders.contains_key(&key))
    }

    async fn insert_attempt(&mut self, new: &NewPrepare) -> Result<Inserted, StoreError> {
        let key = (
            new.service_id,
            new.click_trans_id,
            new.merchant_trans_id.clone(),
        );
        let existing = {
            let state = lock(self.state);
            state
                .prepared
                .get(&key)
                .and_then(|id| state.transactions.get(id))
                .cloned()
        };
        if let Some(existing) = existing {
            return Ok(Inserted::Existing(existing));
        }
        let id = MerchantPrepareId::new(self.next_id.fetch_add(1, Ordering::Relaxed));
        self.writes.push(Write::Put(new.clone().prepared(id)));
        Ok(Inserted::New(id))
    }

    async fn update_state(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
        from: TransactionState,
        to: TransactionState,
        confirm_id: Option<MerchantConfirmId>,
    ) -> Result<Option<Transaction>, StoreError> {
        let Some(mut transaction) = self
            .current(merchant_prepare_id)
            .filter(|t| t.state == from)
        else {
            return Ok(None);
        };
        transaction.state = to;
        transaction.merchant_confirm_id = confirm_id;
        self.writes.push(Write::Put(transaction.clone()));
        Ok(Some(transaction))
    }

    async fn transaction(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        Ok(self.current(merchant_prepare_id))
    }

    async fn insert_charge(&mut self, new: &NewCharge) -> Result<Option<Transaction>, StoreError> {
        // Both records of one charge are of one order: the order's lock orders them.
        if self
            .charge(&new.charge.telegram_payment_charge_id)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let id = MerchantPrepareId::new(self.next_id.fetch_add(1, Ordering::Relaxed));
        let transaction = new.clone().recorded(id);
        self.writes.push(Write::Put(transaction.clone()));
        Ok(Some(transaction))
    }

    async fn charge(
        &mut self,
        telegram_payment_charge_id: &str,
    ) -> Result<Option<Transaction>, StoreError> {
        let committed = lock(self.state)
            .charges
            .get(telegram_payment_charge_id)
            .copied();
        let written = self.writes.iter().rev().find_map(|write| match write {
            Write::Put(t)
                if t.telegram
                    .as_ref()
                    .map(|c| c.telegram_payment_charge_id.as_str())
                    == Some(telegram_payment_charge_id) =>
            {
                Some(t.merchant_prepare_id)
            }
            _ => None,
        });
        Ok(written.or(committed).and_then(|id| self.current(id)))
    }

    async fn claim_order(&mut self, transaction: &Transaction) -> Result<bool, StoreError> {
        let key = order_key(transaction.service_id, &transaction.merchant_trans_id);
        if lock(self.state).paid_orders.contains_key(&key) {
            return Ok(false);
        }
        self.writes
            .push(Write::Claim(key, transaction.merchant_prepare_id));
        Ok(true)
    }

    async fn enqueue(
        &mut self,
        kind: TaskKind,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<(), StoreError> {
        self.writes.push(Write::Task(kind, merchant_prepare_id));
        Ok(())
    }

    async fn restart(&mut self) -> Result<(), StoreError> {
        // Nothing is applied before the commit: forgetting the writes undoes them.
        self.writes.clear();
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        let mut state = lock(self.state);
        for write in self.writes {
            state.apply(write);
        }
        Ok(())
    }

    async fn rollback(self) -> Result<(), StoreError> {
        Ok(())
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
        lock(&self.inner)
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

    /// Nothing to reserve: the book changes only on delivery.
    fn reserves_orders(&self) -> bool {
        false
    }
}
