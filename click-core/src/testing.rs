//! Test helpers (feature `testing`): a [`Click`] simulator that builds signed callback bodies,
//! [`TestOrders`] hooks with fault injection, and the conformance suite every [`OrderStore`] runs.
//!
//! # The conformance suite
//!
//! [`order_store_conformance!`](crate::order_store_conformance) expands to one `#[test]` per rule
//! of the decision table, each on a fresh store from the factory you give it, on a multi-threaded
//! tokio runtime. The factory receives the [`TestOrders`] hooks the store must call:
//!
//! ```
//! mod memory_store {
//!     click_core::order_store_conformance!(
//!         |hooks| async move { click_core::MemoryStore::new(hooks) },
//!         rounds = 10
//!     );
//! }
//! ```
//!
//! `rounds` (default 100) is how many times each concurrency case repeats.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use crate::answer::Answer;
use crate::callback::Endpoint;
use crate::credentials::{Keyring, SecretKey};
use crate::ids::{ClickTransId, MerchantPrepareId, MerchantTransId, ServiceId};
use crate::memory::MemoryOrders;
use crate::outbox::{Task, TaskFilter, TaskKind};
use crate::shop::{Shop, ShopEvent};
use crate::signature::{sign_complete, sign_prepare};
use crate::store::{BoxError, Order, OrderHooks, OrderStore, Transaction, TransactionState};

pub mod cases;
pub mod charge_cases;
pub mod click_tool;
pub mod outbox_cases;

/// The `sign_time` the simulator sends.
pub const SIGN_TIME: &str = "2024-01-31 12:30:00";

/// An ordered list of form fields: a callback body under construction.
///
/// Changing a field does not re-sign; [`Click::sign`] does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallbackForm {
    fields: Vec<(String, String)>,
    /// Fields sent as they are, not percent-encoded (Click's test tool sends `sign_time`'s space
    /// raw).
    raw: Vec<String>,
}

impl CallbackForm {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Replaces a field's value in place, or appends the field.
    #[must_use]
    pub fn set(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.fields.iter_mut().find(|(key, _)| key == name) {
            Some((_, slot)) => *slot = value,
            None => self.fields.push((name.to_owned(), value)),
        }
        self
    }

    /// Removes every occurrence of a field.
    #[must_use]
    pub fn remove(mut self, name: &str) -> Self {
        self.fields.retain(|(key, _)| key != name);
        self
    }

    /// Sends a field's value as it is, without percent-encoding it (a raw space stays a space).
    #[must_use]
    pub fn unencoded(mut self, name: &str) -> Self {
        self.raw.push(name.to_owned());
        self
    }

    /// Appends a field even if it is already present (to build duplicates).
    #[must_use]
    pub fn append(mut self, name: &str, value: impl Into<String>) -> Self {
        self.fields.push((name.to_owned(), value.into()));
        self
    }

    /// The `application/x-www-form-urlencoded` body (spaces as `+`, but fields marked
    /// [`unencoded`](Self::unencoded) as they are).
    pub fn encode(&self) -> String {
        let encode = |text: &str| -> String {
            url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
        };
        self.fields
            .iter()
            .map(|(name, value)| {
                let value = if self.raw.contains(name) {
                    value.clone()
                } else {
                    encode(value)
                };
                format!("{}={value}", encode(name))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Plays Click: builds correctly signed Prepare and Complete bodies for one service.
#[derive(Debug, Clone)]
pub struct Click {
    service_id: ServiceId,
    secret: SecretKey,
}

impl Click {
    /// Click for one service and its secret.
    pub fn new(service_id: ServiceId, secret: SecretKey) -> Self {
        Self { service_id, secret }
    }

    /// The service.
    pub fn service_id(&self) -> ServiceId {
        self.service_id
    }

    /// A signed Prepare. `click_paydoc_id` is `click_trans_id + 1`.
    pub fn prepare(
        &self,
        click_trans_id: i64,
        merchant_trans_id: &str,
        amount: &str,
    ) -> CallbackForm {
        self.sign(
            CallbackForm::default()
                .set("click_trans_id", click_trans_id.to_string())
                .set("service_id", self.service_id.to_string())
                .set(
                    "click_paydoc_id",
                    click_trans_id.saturating_add(1).to_string(),
                )
                .set("merchant_trans_id", merchant_trans_id)
                .set("amount", amount)
                .set("action", "0")
                .set("error", "0")
                .set("error_note", "Success")
                .set("sign_time", SIGN_TIME),
        )
    }

    /// A signed Complete; `error` is `0` for a debit, negative for a cancel.
    pub fn complete(
        &self,
        click_trans_id: i64,
        merchant_trans_id: &str,
        merchant_prepare_id: i64,
        amount: &str,
        error: i64,
    ) -> CallbackForm {
        let note = if error == 0 {
            "Success"
        } else {
            "Payment cancelled"
        };
        self.sign(
            CallbackForm::default()
                .set("click_trans_id", click_trans_id.to_string())
                .set("service_id", self.service_id.to_string())
                .set(
                    "click_paydoc_id",
                    click_trans_id.saturating_add(1).to_string(),
                )
                .set("merchant_trans_id", merchant_trans_id)
                .set("merchant_prepare_id", merchant_prepare_id.to_string())
                .set("amount", amount)
                .set("action", "1")
                .set("error", error.to_string())
                .set("error_note", note)
                .set("sign_time", SIGN_TIME),
        )
    }

    /// Signs a form over its current fields (Complete's formula when `action` is `1`, Prepare's
    /// otherwise), replacing any `sign_string`.
    pub fn sign(&self, form: CallbackForm) -> CallbackForm {
        let field = |name| form.get(name).unwrap_or_default();
        let sign = if field("action") == "1" {
            sign_complete(
                &self.secret,
                field("click_trans_id"),
                field("service_id"),
                field("merchant_trans_id"),
                field("merchant_prepare_id"),
                field("amount"),
                field("sign_time"),
            )
        } else {
            sign_prepare(
                &self.secret,
                field("click_trans_id"),
                field("service_id"),
                field("merchant_trans_id"),
                field("amount"),
                field("sign_time"),
            )
        };
        form.set("sign_string", sign.to_hex())
    }
}

/// [`OrderHooks`] over a [`MemoryOrders`] book, counting calls and failing on demand. Cloning
/// shares the book, the counters and the switches.
#[derive(Debug, Clone, Default)]
pub struct TestOrders {
    book: MemoryOrders,
    faults: Arc<Faults>,
}

#[derive(Debug, Default)]
struct Faults {
    fail_find: AtomicBool,
    fail_reserve: AtomicBool,
    fail_deliver: AtomicBool,
    want_receipts: AtomicBool,
    reserve_nothing: AtomicBool,
    delay_ms: AtomicU64,
    reserves: AtomicUsize,
    releases: AtomicUsize,
    gates: [Mutex<Option<Arc<Gate>>>; 4],
}

/// A hook of [`TestOrders`], for [`TestOrders::hold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `find`.
    Find,
    /// `reserve`.
    Reserve,
    /// `deliver`.
    Deliver,
    /// `release`.
    Release,
}

impl Hook {
    fn index(self) -> usize {
        match self {
            Hook::Find => 0,
            Hook::Reserve => 1,
            Hook::Deliver => 2,
            Hook::Release => 3,
        }
    }
}

/// Where held hook calls wait.
#[derive(Debug)]
struct Gate {
    /// One permit per call that arrived.
    arrived: tokio::sync::Semaphore,
    /// Closed when released: every waiting and later call passes.
    open: tokio::sync::Semaphore,
}

/// Calls of one hook held at their start by [`TestOrders::hold`], until released. Orders the
/// actors of a race test from inside the hook, instead of by sleeping.
#[derive(Debug)]
pub struct Held {
    faults: Arc<Faults>,
    hook: Hook,
    gate: Arc<Gate>,
}

impl Held {
    /// Waits until one more call of the hook has arrived and is held.
    pub async fn arrived(&self) {
        if let Ok(permit) = self.gate.arrived.acquire().await {
            permit.forget();
        }
    }

    /// Lets every held call, and every later one, go on.
    pub fn release(&self) {
        self.gate.open.close();
        let mut slot = lock(&self.faults.gates[self.hook.index()]);
        if slot
            .as_ref()
            .is_some_and(|gate| Arc::ptr_eq(gate, &self.gate))
        {
            *slot = None;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.release();
    }
}

/// The error the failing hooks return.
#[derive(Debug, thiserror::Error)]
#[error("injected {0} failure")]
pub struct InjectedFailure(&'static str);

impl TestOrders {
    /// Hooks over an empty book.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces an order.
    ///
    /// # Panics
    ///
    /// If `id` is not a valid `merchant_trans_id` (a test bug).
    pub fn insert(&self, id: &str, order: Order) {
        self.book.insert(mti(id), order);
    }

    /// The book.
    pub fn book(&self) -> &MemoryOrders {
        &self.book
    }

    /// Deliveries of one order or account.
    pub fn deliveries(&self, id: &str) -> usize {
        self.book.delivery_count(&mti(id))
    }

    /// Successful reserve calls.
    pub fn reserves(&self) -> usize {
        self.faults.reserves.load(Ordering::SeqCst)
    }

    /// Release calls.
    pub fn releases(&self) -> usize {
        self.faults.releases.load(Ordering::SeqCst)
    }

    /// Makes `find` fail (or succeed again).
    pub fn fail_find(&self, fail: bool) {
        self.faults.fail_find.store(fail, Ordering::SeqCst);
    }

    /// Makes `reserve` fail (or succeed again).
    pub fn fail_reserve(&self, fail: bool) {
        self.faults.fail_reserve.store(fail, Ordering::SeqCst);
    }

    /// Makes `deliver` fail (or succeed again).
    pub fn fail_deliver(&self, fail: bool) {
        self.faults.fail_deliver.store(fail, Ordering::SeqCst);
    }

    /// Makes the hooks declare that they reserve nothing (`reserves_orders` answers `false`, and
    /// `reserve` does nothing), so a SQL store records Prepares outside a database transaction.
    pub fn reserve_nothing(&self, nothing: bool) {
        self.faults.reserve_nothing.store(nothing, Ordering::SeqCst);
    }

    /// Makes `wants_receipt` answer yes (or no again) for every payment.
    pub fn want_receipts(&self, want: bool) {
        self.faults.want_receipts.store(want, Ordering::SeqCst);
    }

    /// Holds every call of `hook` at its start until the returned [`Held`] is released (or
    /// dropped).
    pub fn hold(&self, hook: Hook) -> Held {
        let gate = Arc::new(Gate {
            arrived: tokio::sync::Semaphore::new(0),
            open: tokio::sync::Semaphore::new(0),
        });
        *lock(&self.faults.gates[hook.index()]) = Some(Arc::clone(&gate));
        Held {
            faults: Arc::clone(&self.faults),
            hook,
            gate,
        }
    }

    /// Makes every hook sleep this long before it acts (zero: only yield once).
    pub fn delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.faults.delay_ms.store(millis, Ordering::SeqCst);
    }

    /// Every hook waits at its gate if held, then gives other tasks a chance to run first, so races
    /// between concurrent callbacks really interleave inside the store's transitions.
    async fn pause(&self, hook: Hook) {
        let gate = lock(&self.faults.gates[hook.index()]).clone();
        if let Some(gate) = gate {
            gate.arrived.add_permits(1);
            // Closed on release: the error is the signal to go on.
            let _ = gate.open.acquire().await;
        }
        match self.faults.delay_ms.load(Ordering::SeqCst) {
            0 => tokio::task::yield_now().await,
            millis => tokio::time::sleep(Duration::from_millis(millis)).await,
        }
    }
}

fn mti(id: &str) -> MerchantTransId {
    MerchantTransId::new(id).expect("a test merchant_trans_id is valid")
}

#[async_trait]
impl<Cx: ?Sized + Send> OrderHooks<Cx> for TestOrders {
    async fn find(
        &self,
        cx: &mut Cx,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Order>, BoxError> {
        self.pause(Hook::Find).await;
        if self.faults.fail_find.load(Ordering::SeqCst) {
            return Err(InjectedFailure("find").into());
        }
        self.book.find(cx, service_id, merchant_trans_id).await
    }

    async fn reserve(&self, _cx: &mut Cx, _payment: &Transaction) -> Result<(), BoxError> {
        if self.faults.reserve_nothing.load(Ordering::SeqCst) {
            return Ok(());
        }
        self.pause(Hook::Reserve).await;
        if self.faults.fail_reserve.load(Ordering::SeqCst) {
            return Err(InjectedFailure("reserve").into());
        }
        self.faults.reserves.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn reserves_orders(&self) -> bool {
        !self.faults.reserve_nothing.load(Ordering::SeqCst)
    }

    async fn deliver(&self, cx: &mut Cx, payment: &Transaction) -> Result<(), BoxError> {
        self.pause(Hook::Deliver).await;
        if self.faults.fail_deliver.load(Ordering::SeqCst) {
            return Err(InjectedFailure("deliver").into());
        }
        self.book.deliver(cx, payment).await
    }

    async fn release(&self, _cx: &mut Cx, _payment: &Transaction) -> Result<(), BoxError> {
        self.pause(Hook::Release).await;
        self.faults.releases.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn wants_receipt(&self, _payment: &Transaction) -> bool {
        self.faults.want_receipts.load(Ordering::SeqCst)
    }
}

/// A shop over a store under test, with the simulator, the hooks and the recorded events.
#[derive(Clone)]
pub struct Harness {
    /// The shop under test.
    pub shop: Shop,
    /// The hooks the store calls.
    pub orders: TestOrders,
    /// Click, for service [`Harness::SERVICE_ID`].
    pub click: Click,
    /// How often concurrency cases repeat.
    pub rounds: usize,
    events: Arc<Mutex<Vec<ShopEvent>>>,
    next_id: Arc<AtomicI64>,
}

impl Harness {
    /// The service the harness's shop accepts.
    pub const SERVICE_ID: ServiceId = ServiceId::new(101);
    /// Its secret.
    pub const SECRET: &'static str = "test-secret-do-not-use";

    /// Builds a store with `factory` and a shop over it.
    pub async fn new<F, Fut, S>(factory: F, rounds: usize) -> Self
    where
        F: FnOnce(TestOrders) -> Fut,
        Fut: Future<Output = S>,
        S: OrderStore,
    {
        let orders = TestOrders::new();
        let store = factory(orders.clone()).await;
        let secret = SecretKey::new(Self::SECRET);
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let shop = Shop::new(
            Keyring::new().service(Self::SERVICE_ID, secret.clone()),
            store,
        )
        .on_event(move |event| lock(&sink).push(event.clone()));
        Self {
            shop,
            orders,
            click: Click::new(Self::SERVICE_ID, secret),
            rounds,
            events,
            // Above 32 bits, as real click_trans_id values are.
            next_id: Arc::new(AtomicI64::new(3_600_000_000)),
        }
    }

    /// A fresh `click_trans_id`.
    pub fn next_click_trans_id(&self) -> i64 {
        self.next_id.fetch_add(1, Ordering::SeqCst)
    }

    /// Sends a form to an endpoint.
    pub async fn send(&self, endpoint: Endpoint, form: &CallbackForm) -> Answer {
        self.shop.handle(endpoint, form.encode().as_bytes()).await
    }

    /// Sends a signed Prepare.
    pub async fn prepare(
        &self,
        click_trans_id: i64,
        merchant_trans_id: &str,
        amount: &str,
    ) -> Answer {
        let form = self
            .click
            .prepare(click_trans_id, merchant_trans_id, amount);
        self.send(Endpoint::Prepare, &form).await
    }

    /// Sends a signed Complete.
    pub async fn complete(
        &self,
        click_trans_id: i64,
        merchant_trans_id: &str,
        merchant_prepare_id: i64,
        amount: &str,
        error: i64,
    ) -> Answer {
        let form = self.click.complete(
            click_trans_id,
            merchant_trans_id,
            merchant_prepare_id,
            amount,
            error,
        );
        self.send(Endpoint::Complete, &form).await
    }

    /// Prepares a fresh attempt, asserting `0`; returns `(click_trans_id, merchant_prepare_id)`.
    ///
    /// # Panics
    ///
    /// If Prepare does not answer `0` with a `merchant_prepare_id`.
    pub async fn prepared(&self, merchant_trans_id: &str, amount: &str) -> (i64, i64) {
        let click_trans_id = self.next_click_trans_id();
        let answer = self
            .prepare(click_trans_id, merchant_trans_id, amount)
            .await;
        assert_eq!(
            code(&answer),
            0,
            "Prepare of {merchant_trans_id}: {answer:?}"
        );
        let prepare_id = answer
            .merchant_prepare_id()
            .expect("a successful Prepare answers a merchant_prepare_id");
        (click_trans_id, prepare_id.get())
    }

    /// The stored state of the latest transaction of a `click_trans_id`.
    ///
    /// # Panics
    ///
    /// If the store fails.
    pub async fn state(&self, click_trans_id: i64) -> Option<TransactionState> {
        self.transaction(click_trans_id).await.map(|t| t.state)
    }

    /// The latest stored transaction of a `click_trans_id`.
    ///
    /// # Panics
    ///
    /// If the store fails.
    pub async fn transaction(&self, click_trans_id: i64) -> Option<Transaction> {
        self.transactions_of(click_trans_id).await.pop()
    }

    /// The settlement tasks of one kind, oldest first.
    ///
    /// # Panics
    ///
    /// If the store fails.
    pub async fn tasks(&self, kind: TaskKind) -> Vec<Task> {
        let filter = TaskFilter {
            kind: Some(kind),
            ..TaskFilter::default()
        };
        self.shop
            .store()
            .tasks(filter)
            .await
            .expect("the store answers")
    }

    /// Every stored transaction of a `click_trans_id`, oldest first.
    ///
    /// # Panics
    ///
    /// If the store fails.
    pub async fn transactions_of(&self, click_trans_id: i64) -> Vec<Transaction> {
        self.shop
            .store()
            .transactions_of(ClickTransId::new(click_trans_id))
            .await
            .expect("the store answers")
    }

    /// The stored transaction of a `merchant_prepare_id`.
    ///
    /// # Panics
    ///
    /// If the store fails.
    pub async fn prepared_as(&self, merchant_prepare_id: i64) -> Option<Transaction> {
        self.shop
            .store()
            .transaction(MerchantPrepareId::new(merchant_prepare_id))
            .await
            .expect("the store answers")
    }

    /// The events so far.
    pub fn events(&self) -> Vec<ShopEvent> {
        lock(&self.events).clone()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The numeric code of an answer.
pub fn code(answer: &Answer) -> i32 {
    answer.error().code()
}

/// Whether a test must be skipped because the environment variable it requires (a database URL)
/// is not set; prints the reason.
pub fn skipped(requires: Option<&str>) -> bool {
    match requires {
        Some(var) if std::env::var_os(var).is_none() => {
            eprintln!("skipped: set {var} to run this test against a real database");
            true
        }
        _ => false,
    }
}

/// Runs one conformance case on a fresh store, on a multi-threaded runtime.
///
/// # Panics
///
/// When the case fails, or the runtime cannot start.
pub fn run<C, CFut, F, SFut, S>(case: C, factory: F, rounds: usize)
where
    C: FnOnce(Harness) -> CFut,
    CFut: Future<Output = ()>,
    F: FnOnce(TestOrders) -> SFut,
    SFut: Future<Output = S>,
    S: OrderStore,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    runtime.block_on(async move {
        let harness = Harness::new(factory, rounds).await;
        case(harness).await;
    });
}

/// Expands to one `#[test]` per conformance case, for a store built by `$factory`
/// (`FnOnce(TestOrders) -> impl Future<Output = impl OrderStore>`).
///
/// See [`testing`](crate::testing) for an example. `rounds = N` (default 100) sets how often each
/// concurrency case repeats.
#[macro_export]
macro_rules! order_store_conformance {
    ($factory:expr) => {
        $crate::order_store_conformance!($factory, rounds = 100);
    };
    ($factory:expr, rounds = $rounds:expr) => {
        $crate::order_store_conformance!(@cases ($factory, $rounds, ::core::option::Option::None));
    };
    ($factory:expr, rounds = $rounds:expr, requires = $var:literal) => {
        $crate::order_store_conformance!(@cases ($factory, $rounds, ::core::option::Option::Some($var)));
    };
    (@cases $args:tt) => {
        $crate::__conformance_tests!(cases, $args;
            prepare_answers_a_prepare_id_and_reserves,
            prepare_retry_replays_the_same_answer,
            prepare_unknown_order_is_minus_5,
            prepare_wrong_amount_is_minus_2,
            prepare_paid_order_is_minus_4,
            prepare_closed_order_is_minus_9,
            prepare_conflicting_retry_is_minus_8,
            prepare_of_a_final_attempt_is_a_new_attempt,
            prepare_after_confirm_is_minus_4,
            complete_confirms_and_delivers_once,
            complete_retry_is_minus_4_without_second_delivery,
            complete_of_unknown_transaction_is_minus_6,
            complete_names_its_transaction_by_prepare_id,
            complete_wrong_amount_is_minus_2_and_changes_nothing,
            cancel_releases_and_answers_minus_9,
            confirm_after_cancel_is_minus_9,
            cancel_after_confirm_keeps_the_payment,
            second_debited_attempt_is_minus_4_with_reversal,
            delivery_failure_answers_0_with_reversal,
            accounts_accept_repeated_top_ups,
            amount_is_frozen_at_prepare,
            failed_lookup_is_minus_7_and_records_nothing,
            failed_reserve_is_minus_7_and_records_nothing,
            a_resent_prepare_never_sees_a_failing_reservation,
            an_interrupted_delivery_changes_nothing,
            click_tool_on_one_account_three_runs,
            click_tool_on_three_orders_three_runs,
            concurrent_identical_completes_deliver_once,
            concurrent_completes_of_two_attempts_deliver_once,
            concurrent_confirm_and_cancel_agree,
            concurrent_identical_prepares_share_one_prepare_id,
            prepares_without_reservations_keep_their_guarantees,
        );
        $crate::__conformance_tests!(charge_cases, $args;
            a_telegram_payment_is_recorded_and_delivered_once,
            a_second_payment_across_channels_is_kept_for_reversal,
            a_complete_after_a_telegram_payment_is_minus_4_with_reversal,
            a_failed_delivery_of_a_telegram_payment_is_kept_for_reversal,
            telegram_top_ups_are_each_delivered_with_a_receipt,
            concurrent_records_of_one_charge_deliver_once,
            a_complete_racing_a_telegram_payment_delivers_once,
            an_interrupted_telegram_delivery_keeps_the_payment,
            a_charge_id_reused_for_another_payment_is_refused,
            a_complete_naming_a_telegram_payment_is_minus_6,
        );
    };
}

/// Expands to one `#[test]` per case of the outbox's conformance suite
/// ([`outbox_cases`](crate::testing::outbox_cases)), for a store built by `$factory`, as
/// [`order_store_conformance!`](crate::order_store_conformance) does.
///
/// ```
/// mod memory_outbox {
///     click_core::outbox_conformance!(
///         |hooks| async move { click_core::MemoryStore::new(hooks) },
///         rounds = 5
///     );
/// }
/// ```
#[macro_export]
macro_rules! outbox_conformance {
    ($factory:expr) => {
        $crate::outbox_conformance!($factory, rounds = 20);
    };
    ($factory:expr, rounds = $rounds:expr) => {
        $crate::outbox_conformance!(@cases ($factory, $rounds, ::core::option::Option::None));
    };
    ($factory:expr, rounds = $rounds:expr, requires = $var:literal) => {
        $crate::outbox_conformance!(@cases ($factory, $rounds, ::core::option::Option::Some($var)));
    };
    (@cases $args:tt) => {
        $crate::__conformance_tests!(outbox_cases, $args;
            a_reversal_due_records_one_reverse_task,
            a_receipt_task_only_when_the_hooks_want_one,
            a_rolled_back_transition_records_no_task,
            claim_retry_and_finish,
            a_dead_workers_claim_expires,
            a_stale_claim_changes_nothing,
            concurrent_workers_never_hold_the_same_task,
            a_parked_task_keeps_what_it_did,
            a_held_reversal_runs_once_approved,
            expiry_is_scheduled_once_per_stuck_attempt,
            an_expired_attempt_answers_minus_9_to_a_late_confirm,
            paydoc_debited_sees_other_debited_transactions,
            tasks_are_listed_and_counted,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($module:ident, ($factory:expr, $rounds:expr, $requires:expr); $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                if $crate::testing::skipped($requires) {
                    return;
                }
                $crate::testing::run($crate::testing::$module::$case, $factory, $rounds);
            }
        )+
    };
}
