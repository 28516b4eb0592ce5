//! [`Shop`]: the Prepare/Complete state machine, from raw form body to JSON answer.
//!
//! # Order of checks
//!
//! Nothing is looked up before the signature verifies.
//!
//! 1. **Form and grammars** (`-8`): no duplicated field, valid UTF-8, every required field present
//!    and well-formed (see [`crate::callback`]).
//! 2. **Action** (`-3`): exactly `0` or `1`, and the endpoint's.
//! 3. **Signature** (`-1`): over the exact received strings, with the secrets of the received
//!    `service_id`; an unknown service fails here.
//! 4. **Amount** (`-2`): the strict grammar, and more than zero.
//!
//! Prepare, then:
//!
//! 5. A retry is the same (`service_id`, `click_trans_id`, `merchant_trans_id`) while that attempt
//!    is still prepared: its first answer is replayed (`0` with the same `merchant_prepare_id`);
//!    another amount there is a conflict (`-8`, nothing changes). For another order, or once that
//!    attempt is final, a known `click_trans_id` starts a new attempt judged on its own merits
//!    (Click's test tool sends the same fixed ids on every run). (The store asks the order and
//!    records the attempt in one unit of work, its insert recognising a retry; a refused order
//!    looks for one before answering: the same answers, in the fewest round trips.)
//! 6. The order: unknown `-5`; paid `-4`; closed (cancelled, unpayable) `-9`; a one-time order of
//!    another amount, or a top-up outside the account's limits, `-2`.
//! 7. The store records the transaction and reserves the order (`0`); a one-time order that another
//!    transaction already paid answers `-4`.
//!
//! Complete, then:
//!
//! 5. The transaction is the one of `merchant_prepare_id`: unknown `-6` (but a cancel, `error < 0`,
//!    of an unknown transaction is `-9`: there is nothing left to cancel); a `merchant_trans_id` or
//!    `service_id` that is not the transaction's `-6`; so is a Telegram payment's id (never
//!    prepared through Click's callbacks). A `click_trans_id` other than the Prepare's
//!    names the same transaction (Click's test tool does this in every chain) and is logged.
//!    (The store takes the transition on the condition that the transaction is this payment,
//!    [`Expected`], and these answers are read from what it found: no read before the move.)
//! 6. The amount must equal the one frozen at Prepare (`-2`), even if the order changed since.
//! 7. `error < 0` (any negative code, not only `-5017`) cancels: `-9`, the reservation released.
//!    A transaction the settlement worker expired answers `-9` to any Complete (a confirm is
//!    reported as [`ShopEvent::ConfirmedAfterExpiry`]: Click then cancels its debit).
//!    Cancelling a debited transaction answers `-4` ([`CancelAfterConfirm::AlreadyPaid`], the
//!    default) or `-9` ([`CancelAfterConfirm::Cancelled`]) and changes nothing.
//! 8. `error = 0` confirms and delivers exactly once: `0`. Again: `-4`. After a cancel: `-9`. When
//!    another transaction already paid the one-time order: `-4` and
//!    [`ShopEvent::ReversalDue`]. When the delivery hook fails: `0` (Click already debited) and
//!    [`ShopEvent::ReversalDue`].
//!
//! A store failure at any step answers `-7` and leaves the state unchanged; Click retries.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tracing::Instrument;

use crate::amount::Amount;
use crate::answer::{Answer, CompleteAnswer, ErrorCode, PrepareAnswer};
use crate::callback::{Action, Callback, CompleteRequest, Echo, Endpoint, PrepareRequest};
use crate::credentials::Keyring;
use crate::ids::{MerchantConfirmId, MerchantPrepareId};
use crate::store::{
    Attempt, Expected, Mismatch, OrderStore, Outcome, Prepared, ReversalReason, StoreError,
    Transaction, TransactionState, Transition, Unpayable,
};

/// What to answer when Click cancels a transaction that is already confirmed.
///
/// Click contradicts itself here: its documentation's error table and its older desktop test tool
/// expect `-4` (Already paid); its newer online test generator expects `-9`. Either way the
/// confirmed payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CancelAfterConfirm {
    /// Answer `-4`, as the documentation's error table says (the default).
    #[default]
    AlreadyPaid,
    /// Answer `-9`, as Click's newer test generator expects.
    Cancelled,
}

/// Something the merchant should know about, beyond the answer to Click.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShopEvent {
    /// A Prepare was recorded and the order reserved.
    Prepared(Transaction),
    /// A payment was confirmed and delivered.
    Confirmed(Transaction),
    /// Click cancelled a prepared payment; the reservation was released.
    Cancelled(Transaction),
    /// Click debited the customer but the payment was not delivered: reverse it through the
    /// Merchant API (`payment_id` is the transaction's `click_paydoc_id`). The transaction stays in
    /// [`TransactionState::ReversalDue`] in the store.
    ///
    /// After [`ReversalReason::DeliveryFailed`] the one-time order stays claimed by this
    /// transaction, so a new Prepare of it answers `-4`: after reversing, sell it again under a new
    /// `merchant_trans_id`. (A delivery that failed because the goods are gone must not be retried
    /// by a second payment.)
    ReversalDue {
        /// The debited transaction.
        transaction: Transaction,
        /// Why it was not delivered.
        reason: ReversalReason,
    },
    /// Click confirmed an attempt that the settlement worker had expired (no Complete came in
    /// time, and Click then had no paid payment for it): Click was answered `-9` and cancels its
    /// debit. Worth a look: the expiry time may be too short.
    ConfirmedAfterExpiry(Transaction),
}

type Listener = Arc<dyn Fn(&ShopEvent) + Send + Sync>;

/// The SHOP-API state machine: answers Click's Prepare and Complete callbacks.
///
/// Cheap to clone (everything is shared); framework-free: an adapter hands it the raw body and
/// sends back [`Answer::to_json`] with HTTP 200.
///
/// ```
/// use click_core::{Endpoint, ErrorCode, Keyring, MemoryStore, SecretKey, ServiceId, Shop};
///
/// # tokio_test_block_on(async {
/// let shop = Shop::new(
///     Keyring::new().service(ServiceId::new(101), SecretKey::new("secret")),
///     MemoryStore::default(),
/// );
/// let answer = shop.handle(Endpoint::Prepare, b"click_trans_id=1").await;
/// assert_eq!(answer.error(), ErrorCode::BadRequest);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct Shop {
    keyring: Arc<Keyring>,
    store: Arc<dyn OrderStore>,
    cancel_after_confirm: CancelAfterConfirm,
    listener: Option<Listener>,
}

impl fmt::Debug for Shop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shop")
            .field("keyring", &self.keyring)
            .field("cancel_after_confirm", &self.cancel_after_confirm)
            .finish_non_exhaustive()
    }
}

impl Shop {
    /// A shop accepting callbacks for the services of `keyring`, keeping transactions in `store`.
    pub fn new(keyring: impl Into<Keyring>, store: impl OrderStore) -> Self {
        Self::with_shared_store(keyring, Arc::new(store))
    }

    /// Like [`Shop::new`], with a store the caller keeps a handle to.
    pub fn with_shared_store(keyring: impl Into<Keyring>, store: Arc<dyn OrderStore>) -> Self {
        Self {
            keyring: Arc::new(keyring.into()),
            store,
            cancel_after_confirm: CancelAfterConfirm::default(),
            listener: None,
        }
    }

    /// Chooses the answer to a cancel of a confirmed transaction (default `-4`).
    #[must_use]
    pub fn cancel_after_confirm(mut self, answer: CancelAfterConfirm) -> Self {
        self.cancel_after_confirm = answer;
        self
    }

    /// Calls `listener` for every [`ShopEvent`], after the store committed it. Keep it quick (it runs
    /// on the request path); a panic in it is caught and logged.
    #[must_use]
    pub fn on_event(mut self, listener: impl Fn(&ShopEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn OrderStore> {
        &self.store
    }

    /// The keyring.
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// Answers one callback: the raw form body that arrived at `endpoint`. Never fails and never
    /// panics on any input; send the answer with HTTP 200.
    pub async fn handle(&self, endpoint: Endpoint, body: &[u8]) -> Answer {
        let span = tracing::info_span!(
            "click_callback",
            ?endpoint,
            action = tracing::field::Empty,
            click_trans_id = tracing::field::Empty,
            merchant_trans_id = tracing::field::Empty,
            error = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let answer = self.answer(endpoint, body).instrument(span.clone()).await;
        crate::metrics::callback(endpoint, answer.error(), started.elapsed());
        span.record("error", answer.error().code());
        span.in_scope(|| tracing::info!(error = answer.error().code(), "answered Click"));
        answer
    }

    async fn answer(&self, endpoint: Endpoint, body: &[u8]) -> Answer {
        let callback = match Callback::parse_with_echo(body, endpoint) {
            Ok(callback) => callback,
            Err((error, echo)) => {
                tracing::warn!(%error, "malformed callback");
                return rejection(endpoint, echo, error.code());
            }
        };
        let span = tracing::Span::current();
        span.record("action", tracing::field::debug(callback.action()));
        span.record("click_trans_id", callback.click_trans_id().get());
        // Debug formatting escapes quotes and line breaks: a hostile id cannot forge log lines.
        span.record(
            "merchant_trans_id",
            tracing::field::debug(callback.merchant_trans_id().as_str()),
        );
        if !callback.verify(&self.keyring) {
            tracing::warn!("signature check failed");
            return answer_for(&callback, ErrorCode::SignCheckFailed);
        }
        match callback {
            Callback::Prepare(request) => self.prepare(&request).await,
            Callback::Complete(request) => self.complete(&request).await,
        }
    }

    async fn prepare(&self, request: &PrepareRequest) -> Answer {
        let answer = |id: Option<MerchantPrepareId>, error| prepare_answer(request, id, error);
        let Some(amount) = positive(request.amount()) else {
            return answer(None, ErrorCode::IncorrectAmount);
        };
        // The store asks the order and records the attempt on one connection, and its insert
        // finds a retry (`Prepared::Existing`). A refusal looks for a retry before it answers,
        // so a retry replays its first answer whatever the order has become.
        let attempt = Attempt {
            click_trans_id: request.click_trans_id,
            service_id: request.service_id,
            click_paydoc_id: request.click_paydoc_id,
            merchant_trans_id: request.merchant_trans_id.clone(),
            amount,
            prepared_at: crate::outbox::to_the_millisecond(std::time::SystemTime::now()),
        };
        let refusal = match self.store.prepare(attempt).await {
            Err(error) => return answer(None, storage_failed(&error)),
            Ok(Prepared::Created(transaction)) => {
                let id = transaction.merchant_prepare_id;
                self.emit(ShopEvent::Prepared(transaction));
                return answer(Some(id), ErrorCode::Success);
            }
            Ok(Prepared::Existing(existing)) => return replay_prepare(request, amount, &existing),
            Ok(Prepared::OrderAlreadyPaid) => return answer(None, ErrorCode::AlreadyPaid),
            Ok(Prepared::NoOrder) => ErrorCode::UserDoesNotExist,
            Ok(Prepared::Unpayable(Unpayable::Paid)) => ErrorCode::AlreadyPaid,
            Ok(Prepared::Unpayable(Unpayable::Closed)) => ErrorCode::TransactionCancelled,
            Ok(Prepared::Unpayable(Unpayable::WrongAmount)) => ErrorCode::IncorrectAmount,
        };
        let retried = self
            .store
            .prepared_attempt(
                request.service_id,
                request.click_trans_id,
                &request.merchant_trans_id,
            )
            .await;
        match retried {
            Ok(Some(existing)) => replay_prepare(request, amount, &existing),
            Ok(None) => answer(None, refusal),
            Err(error) => answer(None, storage_failed(&error)),
        }
    }

    async fn complete(&self, request: &CompleteRequest) -> Answer {
        let answer = |id: Option<MerchantConfirmId>, error| complete_answer(request, id, error);
        let Some(amount) = positive(request.amount()) else {
            return answer(None, ErrorCode::IncorrectAmount);
        };
        let outcome = if request.error.is_cancel() {
            Outcome::Cancel
        } else {
            Outcome::Confirm
        };
        // The store moves the transaction only if it is the payment this Complete names: no read
        // before the move. What it found answers in the order the checks are documented in.
        let expected = Expected {
            service_id: request.service_id,
            merchant_trans_id: request.merchant_trans_id.clone(),
            amount,
        };
        let id = request.merchant_prepare_id;
        let transition = match self.store.complete(id, outcome, Some(&expected)).await {
            Err(StoreError::UnknownTransaction(unknown)) if unknown == id => {
                return answer(None, missing(outcome));
            }
            Err(error) => return answer(None, storage_failed(&error)),
            Ok(transition) => transition,
        };
        let transaction = transition.transaction();
        let mismatch = expected.mismatch(transaction);
        if mismatch.is_some() && !matches!(transition, Transition::Unchanged(_)) {
            crate::metrics::store_error();
            tracing::error!(
                merchant_prepare_id = transaction.merchant_prepare_id.get(),
                "the order store moved a transaction of another payment than the Complete names: \
                 it ignores `expected`, a breach of the OrderStore contract"
            );
        }
        if mismatch == Some(Mismatch::OtherPayment) {
            return answer(None, ErrorCode::TransactionDoesNotExist);
        }
        if transaction.click_trans_id != request.click_trans_id {
            tracing::warn!(
                prepare_click_trans_id = transaction.click_trans_id.get(),
                complete_click_trans_id = request.click_trans_id.get(),
                merchant_prepare_id = transaction.merchant_prepare_id.get(),
                "a Complete names a transaction prepared under another click_trans_id; \
                 accepted as the same transaction"
            );
        }
        if mismatch == Some(Mismatch::Amount) {
            return answer(None, ErrorCode::IncorrectAmount);
        }
        match transition {
            Transition::Confirmed(transaction) => {
                let id = transaction.merchant_confirm_id;
                match transaction.state {
                    TransactionState::ReversalDue(reason) => self.reversal_due(transaction, reason),
                    _ => self.emit(ShopEvent::Confirmed(transaction)),
                }
                answer(id, ErrorCode::Success)
            }
            Transition::OrderAlreadyPaid(transaction) => {
                self.reversal_due(transaction, ReversalReason::OrderAlreadyPaid);
                answer(None, ErrorCode::AlreadyPaid)
            }
            Transition::Cancelled(transaction) => {
                self.emit(ShopEvent::Cancelled(transaction));
                answer(None, ErrorCode::TransactionCancelled)
            }
            Transition::Unchanged(transaction) => match (outcome, transaction.state) {
                (_, TransactionState::Cancelled) => answer(None, ErrorCode::TransactionCancelled),
                (Outcome::Confirm, TransactionState::Expired) => {
                    tracing::warn!(
                        click_paydoc_id = transaction.click_paydoc_id.get(),
                        "Click confirmed an attempt the settlement worker had expired; \
                         answering -9, so Click cancels its debit"
                    );
                    self.emit(ShopEvent::ConfirmedAfterExpiry(transaction));
                    answer(None, ErrorCode::TransactionCancelled)
                }
                (_, TransactionState::Expired) => answer(None, ErrorCode::TransactionCancelled),
                (Outcome::Confirm, _) if transaction.state.is_debited() => {
                    answer(transaction.merchant_confirm_id, ErrorCode::AlreadyPaid)
                }
                (_, _) if transaction.state.is_debited() => {
                    let error = match self.cancel_after_confirm {
                        CancelAfterConfirm::AlreadyPaid => ErrorCode::AlreadyPaid,
                        CancelAfterConfirm::Cancelled => ErrorCode::TransactionCancelled,
                    };
                    answer(transaction.merchant_confirm_id, error)
                }
                _ => {
                    tracing::error!(
                        "order store reported no transition for a prepared transaction"
                    );
                    answer(None, ErrorCode::FailedToUpdateUser)
                }
            },
        }
    }

    fn reversal_due(&self, transaction: Transaction, reason: ReversalReason) {
        tracing::warn!(
            click_paydoc_id = transaction.click_paydoc_id.get(),
            ?reason,
            "Click debited a payment that was not delivered: reverse it"
        );
        crate::metrics::reversal_due(reason);
        self.emit(ShopEvent::ReversalDue {
            transaction,
            reason,
        });
    }

    fn emit(&self, event: ShopEvent) {
        if let Some(listener) = &self.listener
            && catch_unwind(AssertUnwindSafe(|| listener(&event))).is_err()
        {
            tracing::error!("the shop event listener panicked");
        }
    }
}

/// The amount of a signed request, if well-formed and positive.
fn positive(amount: Result<Amount, crate::AmountError>) -> Option<Amount> {
    amount.ok().filter(|amount| *amount > Amount::ZERO)
}

/// Replays the answer of a retried Prepare: its attempt is still prepared.
fn replay_prepare(request: &PrepareRequest, amount: Amount, existing: &Transaction) -> Answer {
    if existing.amount != amount {
        tracing::warn!("a retried Prepare conflicts with the first one");
        return prepare_answer(request, None, ErrorCode::BadRequest);
    }
    prepare_answer(
        request,
        Some(existing.merchant_prepare_id),
        ErrorCode::Success,
    )
}

/// The answer to a Complete naming no transaction: a cancel of an attempt that was never
/// prepared is as good as done (`-9`); a confirm has nothing to confirm (`-6`).
fn missing(outcome: Outcome) -> ErrorCode {
    if outcome == Outcome::Cancel {
        ErrorCode::TransactionCancelled
    } else {
        ErrorCode::TransactionDoesNotExist
    }
}

fn storage_failed(error: &StoreError) -> ErrorCode {
    crate::metrics::store_error();
    tracing::error!(
        error = error as &dyn std::error::Error,
        "order store failed; answering -7"
    );
    ErrorCode::FailedToUpdateUser
}

fn prepare_answer(
    request: &PrepareRequest,
    merchant_prepare_id: Option<MerchantPrepareId>,
    error: ErrorCode,
) -> Answer {
    let echo = Echo {
        click_trans_id: Some(request.click_trans_id),
        merchant_trans_id: Some(request.merchant_trans_id.clone()),
        action: Some(Action::Prepare),
    };
    Answer::Prepare(PrepareAnswer {
        merchant_prepare_id,
        ..prepare_shape(echo, error)
    })
}

fn complete_answer(
    request: &CompleteRequest,
    merchant_confirm_id: Option<MerchantConfirmId>,
    error: ErrorCode,
) -> Answer {
    let echo = Echo {
        click_trans_id: Some(request.click_trans_id),
        merchant_trans_id: Some(request.merchant_trans_id.clone()),
        action: Some(Action::Complete),
    };
    Answer::Complete(CompleteAnswer {
        merchant_confirm_id,
        ..complete_shape(echo, error)
    })
}

fn answer_for(callback: &Callback, error: ErrorCode) -> Answer {
    match callback {
        Callback::Prepare(request) => prepare_answer(request, None, error),
        Callback::Complete(request) => complete_answer(request, None, error),
    }
}

/// The answer to a body that did not parse, echoing what could be read.
fn rejection(endpoint: Endpoint, echo: Echo, error: ErrorCode) -> Answer {
    let complete = match endpoint {
        Endpoint::Prepare => false,
        Endpoint::Complete => true,
        Endpoint::Any => echo.action == Some(Action::Complete),
    };
    if complete {
        Answer::Complete(complete_shape(echo, error))
    } else {
        Answer::Prepare(prepare_shape(echo, error))
    }
}

fn prepare_shape(echo: Echo, error: ErrorCode) -> PrepareAnswer {
    PrepareAnswer {
        click_trans_id: echo.click_trans_id,
        merchant_trans_id: echo.merchant_trans_id,
        merchant_prepare_id: None,
        error,
        error_note: error.note(),
    }
}

fn complete_shape(echo: Echo, error: ErrorCode) -> CompleteAnswer {
    CompleteAnswer {
        click_trans_id: echo.click_trans_id,
        merchant_trans_id: echo.merchant_trans_id,
        merchant_confirm_id: None,
        error,
        error_note: error.note(),
    }
}
