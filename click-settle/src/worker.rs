//! [`Worker`]: claims due tasks from a store's outbox and settles them through the Merchant API.

use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use click_core::outbox::{
    Claim, ExpiryOutcome, Settled, Stage, Task, TaskCounts, TaskKind, TaskStatus, TaskUpdate,
};
use click_core::{
    BoxError, ClickPaydocId, OrderStore, Outcome, ReversalOutcome, StoreError, Transaction,
    TransactionState, Transition,
};
use click_merchant::{
    MerchantClient, MerchantError, OfdReceipt, PaymentDate, PaymentStatus, Reversal,
};

use crate::policy::{Approve, Policy};

/// Builds the fiscal receipt of a delivered payment: the merchant knows what was sold.
#[async_trait]
pub trait Receipts: Send + Sync + 'static {
    /// The receipt of `payment`: its items, in tiyin, and how it was paid. An error is retried
    /// like a failed call, then parked.
    async fn receipt(&self, payment: &Transaction) -> Result<OfdReceipt, BoxError>;
}

/// How often [`Worker::run`] counts the outbox's tasks for the `click_settle_tasks` gauge.
const COUNT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Something an operator should know about, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettleEvent {
    /// A task was settled; what it did is recorded on its transaction.
    Settled {
        /// The task, as claimed.
        task: Box<Task>,
        /// What it did.
        settled: Settled,
    },
    /// A reversal waits for a person's approval.
    AwaitingApproval(Box<Task>),
    /// A task was parked: a person must look at it.
    Parked {
        /// The task, as claimed.
        task: Box<Task>,
        /// Why.
        error: String,
    },
}

/// What one [`Worker::step`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Step {
    /// Stuck attempts it scheduled for expiry.
    pub scheduled: u64,
    /// Tasks it claimed.
    pub claimed: usize,
    /// Tasks it finished (done, parked or held).
    pub finished: usize,
    /// Tasks it will try again later.
    pub retried: usize,
}

type Listener = Arc<dyn Fn(&SettleEvent) + Send + Sync>;

/// Settles the tasks of a store's outbox through Click's Merchant API.
///
/// Cheap to clone; run it as a background task with [`run`](Self::run), or one
/// [`step`](Self::step) at a time from a cron job. Several workers, in one process or many, may work on
/// one store.
#[derive(Clone)]
pub struct Worker {
    store: Arc<dyn OrderStore>,
    client: MerchantClient,
    policy: Policy,
    receipts: Option<Arc<dyn Receipts>>,
    listener: Option<Listener>,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("client", &self.client)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// How one attempt at a task ended.
enum Next {
    /// Settled.
    Done(Settled),
    /// A person must look at it.
    Park(String, Option<Settled>),
    /// It waits for approval.
    Hold,
    /// Try again later.
    Retry(String),
    /// The claim was lost to another worker: leave the task alone.
    Lost,
}

impl Worker {
    /// A worker over `store`'s outbox, calling Click through `client` (for the client's
    /// service), settling per `policy`.
    pub fn new(store: Arc<dyn OrderStore>, client: MerchantClient, policy: Policy) -> Self {
        Self {
            store,
            client,
            policy,
            receipts: None,
            listener: None,
        }
    }

    /// Builds fiscal receipts with `receipts`. Without it, fiscalize tasks are parked.
    #[must_use]
    pub fn receipts(mut self, receipts: impl Receipts) -> Self {
        self.receipts = Some(Arc::new(receipts));
        self
    }

    /// Calls `listener` for every [`SettleEvent`]. Keep it quick; a panic in it is not caught.
    #[must_use]
    pub fn on_event(mut self, listener: impl Fn(&SettleEvent) + Send + Sync + 'static) -> Self {
        self.listener = Some(Arc::new(listener));
        self
    }

    /// Works until `shutdown` resolves, with up to [`Policy::batch`] tasks in flight: a slow
    /// task (a call that waits for its timeout) holds one slot, not the others. Stuck attempts
    /// are scheduled for expiry every [`Policy::idle`]; when nothing is due the worker waits
    /// that long. Tasks in flight when `shutdown` resolves are finished first, so none is left
    /// half-done.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut inflight = tokio::task::JoinSet::new();
        let mut scheduled_at: Option<tokio::time::Instant> = None;
        let mut counted_at: Option<tokio::time::Instant> = None;
        loop {
            while inflight.try_join_next().is_some() {}
            if counted_at.is_none_or(|at| at.elapsed() >= COUNT_EVERY) {
                counted_at = Some(tokio::time::Instant::now());
                match self.store.open_task_counts().await {
                    Ok(counts) => record_counts(&counts),
                    Err(error) => report_store(&error),
                }
            }
            if scheduled_at.is_none_or(|at| at.elapsed() >= self.policy.idle) {
                scheduled_at = Some(tokio::time::Instant::now());
                let cutoff = SystemTime::now() - self.policy.expire_after;
                if let Err(error) = self.store.schedule_expiry(cutoff).await {
                    report_store(&error);
                }
            }
            let free = self.policy.batch.saturating_sub(inflight.len());
            let claims = if free == 0 {
                Ok(Vec::new())
            } else {
                self.store
                    .claim(SystemTime::now(), self.policy.lease, free)
                    .await
            };
            match claims {
                Ok(claims) if !claims.is_empty() => {
                    for claim in claims {
                        let worker = self.clone();
                        inflight.spawn(async move {
                            if let Err(error) = worker.settle(&claim).await {
                                report_store(&error);
                            }
                        });
                    }
                    continue;
                }
                Ok(_) => {}
                Err(error) => report_store(&error),
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.policy.idle) => {}
                Some(_) = inflight.join_next(), if !inflight.is_empty() => {}
            }
        }
        while inflight.join_next().await.is_some() {}
    }

    /// Schedules stuck attempts for expiry, claims up to [`Policy::batch`] due tasks and settles
    /// them, at once.
    ///
    /// # Errors
    ///
    /// The store failed to schedule or to claim; a task's own failures are retried later.
    pub async fn step(&self) -> Result<Step, StoreError> {
        let now = SystemTime::now();
        let scheduled = self
            .store
            .schedule_expiry(now - self.policy.expire_after)
            .await?;
        let claims = self
            .store
            .claim(now, self.policy.lease, self.policy.batch)
            .await?;
        let mut step = Step {
            scheduled,
            claimed: claims.len(),
            ..Step::default()
        };
        let outcomes =
            futures_util::future::join_all(claims.iter().map(|claim| self.settle(claim))).await;
        for outcome in outcomes {
            match outcome {
                Ok(true) => step.finished += 1,
                Ok(false) => step.retried += 1,
                Err(error) => {
                    step.retried += 1;
                    tracing::error!(
                        error = &error as &dyn std::error::Error,
                        "could not record a task's outcome; its lease will bring it back"
                    );
                }
            }
        }
        Ok(step)
    }

    /// Settles one claimed task; whether it finished.
    async fn settle(&self, claim: &Claim) -> Result<bool, StoreError> {
        let task = &claim.task;
        let next = if task.transaction.service_id == self.client.service_id() {
            match task.kind {
                TaskKind::Reverse => self.reverse(claim).await?,
                TaskKind::Fiscalize => self.fiscalize(claim).await?,
                TaskKind::Expire => self.expire(claim).await?,
            }
        } else {
            Next::Park(
                format!(
                    "no Merchant API client for service {}",
                    task.transaction.service_id
                ),
                None,
            )
        };
        let (update, event, finished) = match next {
            Next::Lost => return Ok(false),
            Next::Done(settled) => (
                TaskUpdate::Done(settled.clone()),
                Some(SettleEvent::Settled {
                    task: Box::new(task.clone()),
                    settled,
                }),
                true,
            ),
            Next::Park(error, settled) => (
                TaskUpdate::Park {
                    error: error.clone(),
                    settled,
                },
                Some(SettleEvent::Parked {
                    task: Box::new(task.clone()),
                    error,
                }),
                true,
            ),
            Next::Hold => (
                TaskUpdate::Hold,
                Some(SettleEvent::AwaitingApproval(Box::new(task.clone()))),
                true,
            ),
            Next::Retry(error) if task.attempts >= self.policy.max_attempts => {
                let error = format!("gave up after {} attempts: {error}", task.attempts);
                (
                    TaskUpdate::Park {
                        error: error.clone(),
                        settled: None,
                    },
                    Some(SettleEvent::Parked {
                        task: Box::new(task.clone()),
                        error,
                    }),
                    true,
                )
            }
            Next::Retry(error) => {
                let pause = self.policy.pause(task.attempts, random(claim.token));
                (
                    TaskUpdate::Retry {
                        at: SystemTime::now() + pause,
                        error,
                    },
                    None,
                    false,
                )
            }
        };
        record_attempt(task, &update);
        tracing::info!(
            task_id = task.id.get(),
            kind = ?task.kind,
            attempt = task.attempts,
            merchant_prepare_id = task.transaction.merchant_prepare_id.get(),
            click_paydoc_id = task.transaction.click_paydoc_id.get(),
            outcome = ?update,
            "settlement attempt"
        );
        if !self.store.update(claim, update).await? {
            tracing::warn!(
                task_id = task.id.get(),
                "the task's claim was lost meanwhile"
            );
            return Ok(false);
        }
        if let (Some(event), Some(listener)) = (event, &self.listener) {
            listener(&event);
        }
        Ok(finished)
    }

    /// Records how far a task's call got; `false` if the claim was lost.
    async fn stage(&self, claim: &Claim, stage: Stage) -> Result<bool, StoreError> {
        self.store.update(claim, TaskUpdate::Stage(stage)).await
    }

    async fn reverse(&self, claim: &Claim) -> Result<Next, StoreError> {
        let task = &claim.task;
        if let Some(outcome) = task.transaction.reversal {
            return Ok(Next::Done(Settled::Reversal(outcome)));
        }
        if self.policy.reversals == Approve::Manual && !task.approved {
            return Ok(Next::Hold);
        }
        let Some(payment) = click_payment(&task.transaction) else {
            return Ok(Next::Park(NO_CLICK_PAYMENT.into(), None));
        };
        // A Telegram payment's id is the provider's word: if another transaction holds the same
        // Click payment as debited, reversing it could refund the one that was delivered.
        if task.transaction.telegram.is_some()
            && self
                .store
                .paydoc_debited(
                    task.transaction.service_id,
                    payment,
                    task.transaction.merchant_prepare_id,
                )
                .await?
        {
            return Ok(Next::Park(SHARED_CLICK_PAYMENT.into(), None));
        }
        // A payment no longer paid was reversed by an earlier attempt whose answer was lost, if
        // one was sent; else it never was paid.
        let gone = if task.stage == Stage::Fresh {
            ReversalOutcome::NeverPaid
        } else {
            ReversalOutcome::Reversed
        };
        let status = match self.client.payment_status(payment).await {
            Ok(state) => state.status,
            Err(error) => return Ok(Next::Retry(format!("payment status: {error}"))),
        };
        match status {
            PaymentStatus::Paid => {}
            PaymentStatus::Failed(_) => return Ok(Next::Done(Settled::Reversal(gone))),
            other => return Ok(Next::Retry(format!("payment is {other:?} at Click"))),
        }
        if !self.stage(claim, Stage::Sent).await? {
            return Ok(Next::Lost);
        }
        Ok(match self.client.reverse(payment).await {
            // Refused, and no longer paid: reversed meanwhile (it was paid a moment ago).
            Ok(Reversal::Reversed { .. } | Reversal::NotPaid { .. }) => {
                Next::Done(Settled::Reversal(ReversalOutcome::Reversed))
            }
            Err(MerchantError::Business { code, note }) => Next::Park(
                format!("Click refused the reversal ({code}: {note})"),
                Some(Settled::Reversal(ReversalOutcome::Refused { code })),
            ),
            Err(error) => Next::Retry(format!("reversal: {error}")),
        })
    }

    async fn fiscalize(&self, claim: &Claim) -> Result<Next, StoreError> {
        let task = &claim.task;
        if let Some(url) = &task.transaction.receipt_url {
            return Ok(Next::Done(Settled::Receipt { url: url.clone() }));
        }
        let Some(payment) = click_payment(&task.transaction) else {
            return Ok(Next::Park(NO_CLICK_PAYMENT.into(), None));
        };
        if task.stage != Stage::Fresh {
            // An earlier attempt may have submitted: read before submitting again.
            match self.client.ofd_data(payment).await {
                Ok(data) => {
                    if let Some(url) = data.qr_code_url {
                        return Ok(Next::Done(Settled::Receipt { url }));
                    }
                    if task.stage == Stage::Acknowledged {
                        return Ok(Next::Retry("the fiscal receipt is not ready yet".into()));
                    }
                }
                Err(error) => return Ok(Next::Retry(format!("fiscal data: {error}"))),
            }
        }
        let Some(receipts) = &self.receipts else {
            return Ok(Next::Park("no receipt builder configured".into(), None));
        };
        let receipt = match receipts.receipt(&task.transaction).await {
            Ok(receipt) => receipt,
            Err(error) => return Ok(Next::Retry(format!("the receipt hook failed: {error}"))),
        };
        if !self.stage(claim, Stage::Sent).await? {
            return Ok(Next::Lost);
        }
        match self.client.submit_ofd_items(payment, &receipt).await {
            Ok(()) => {}
            Err(error @ MerchantError::Invalid(_)) => {
                return Ok(Next::Park(format!("the receipt is invalid: {error}"), None));
            }
            Err(error) => return Ok(Next::Retry(format!("fiscal items: {error}"))),
        }
        if !self.stage(claim, Stage::Acknowledged).await? {
            return Ok(Next::Lost);
        }
        Ok(match self.client.ofd_data(payment).await {
            Ok(data) => match data.qr_code_url {
                Some(url) => Next::Done(Settled::Receipt { url }),
                None => Next::Retry("the fiscal receipt is not ready yet".into()),
            },
            Err(error) => Next::Retry(format!("fiscal data: {error}")),
        })
    }

    async fn expire(&self, claim: &Claim) -> Result<Next, StoreError> {
        let transaction = &claim.task.transaction;
        if transaction.state != TransactionState::Prepared {
            return Ok(Next::Done(Settled::Expiry(ExpiryOutcome::AlreadySettled)));
        }
        let paid = match self.paid_at_click(transaction).await {
            Ok(paid) => paid,
            Err(error) => return Ok(Next::Retry(error)),
        };
        let outcome = match paid {
            Some(true) => {
                let duplicate = self
                    .store
                    .paydoc_debited(
                        transaction.service_id,
                        transaction.click_paydoc_id,
                        transaction.merchant_prepare_id,
                    )
                    .await?;
                if !duplicate {
                    tracing::warn!(
                        click_paydoc_id = transaction.click_paydoc_id.get(),
                        "Click has a stuck attempt as paid: left for Click's retry of the Complete"
                    );
                    return Ok(Next::Done(Settled::Expiry(ExpiryOutcome::LeftForClick)));
                }
                ExpiryOutcome::LateDuplicate
            }
            Some(false) => ExpiryOutcome::Expired,
            None => {
                return Ok(Next::Retry(
                    "the payment is still in progress at Click".into(),
                ));
            }
        };
        let expired = self
            .store
            .complete(transaction.merchant_prepare_id, Outcome::Expire, None)
            .await?;
        Ok(Next::Done(Settled::Expiry(match expired {
            Transition::Cancelled(_) => outcome,
            _ => ExpiryOutcome::AlreadySettled,
        })))
    }

    /// Whether Click has the attempt's payment as paid: `None` while it is in progress.
    async fn paid_at_click(&self, transaction: &Transaction) -> Result<Option<bool>, String> {
        let payment = transaction.click_paydoc_id;
        let status = match self.client.payment_status(payment).await {
            Ok(state) => state.status,
            // Click knows no such payment by its id: ask by the order, on the day it was made.
            Err(MerchantError::Business { .. }) => {
                let day = PaymentDate::of(transaction.prepared_at);
                match self
                    .client
                    .payment_status_by_mti(&transaction.merchant_trans_id, day)
                    .await
                {
                    Ok(state) if state.payment_id == payment => state.status,
                    Ok(_) | Err(MerchantError::Business { .. }) => return Ok(Some(false)),
                    Err(error) => return Err(format!("payment status by order: {error}")),
                }
            }
            Err(error) => return Err(format!("payment status: {error}")),
        };
        Ok(match status {
            PaymentStatus::Paid => Some(true),
            PaymentStatus::Failed(_) => Some(false),
            PaymentStatus::Created | PaymentStatus::Processing | PaymentStatus::Unknown(_) => None,
        })
    }
}

/// Logs a store failure the worker will recover from (a task's lease brings it back).
fn report_store(error: &StoreError) {
    tracing::error!(
        error = error as &dyn std::error::Error,
        "the store failed during settlement; its tasks come back when their leases run out"
    );
}

/// A well-mixed number from a claim's token, for jitter.
fn random(token: i64) -> u64 {
    let mut x = u64::from_ne_bytes(token.to_ne_bytes());
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

/// Records a settlement attempt's outcome in [`click_core::metrics`].
fn record_attempt(task: &Task, update: &TaskUpdate) {
    let outcome = match update {
        TaskUpdate::Done(settled) => {
            if matches!(settled, Settled::Receipt { .. })
                && let Ok(took) = SystemTime::now().duration_since(task.transaction.prepared_at)
            {
                click_core::metrics::payment_to_receipt(took);
            }
            "done"
        }
        TaskUpdate::Park { .. } => "parked",
        TaskUpdate::Hold => "awaiting_approval",
        TaskUpdate::Retry { .. } => "retry",
        // A step within an attempt, not its end.
        TaskUpdate::Stage(_) => return,
    };
    click_core::metrics::settle_attempt(task.kind, outcome);
}

/// Sets the `click_settle_tasks` gauges from the outbox's counts.
fn record_counts(counts: &TaskCounts) {
    for status in TaskStatus::OPEN {
        let count = TaskKind::ALL
            .iter()
            .map(|kind| counts.get(*kind, status))
            .sum();
        click_core::metrics::settle_tasks(status, count);
    }
}

/// Why a task of a payment without a Click payment id is parked.
const NO_CLICK_PAYMENT: &str = "no Click payment id: a Telegram payment whose provider charge id \
                                is not Click's payment id; settle it by hand";

/// Why the reversal of a Telegram payment whose Click payment another transaction holds is parked.
const SHARED_CLICK_PAYMENT: &str = "another transaction holds this Telegram payment's Click \
                                    payment id as debited: check which payment to reverse by hand";

/// The Merchant API's `payment_id` of a transaction: `None` for a Telegram payment whose provider
/// id is not one (kept as `0`), which only a person can settle.
fn click_payment(transaction: &Transaction) -> Option<ClickPaydocId> {
    let payment = transaction.click_paydoc_id;
    (payment.get() != 0 || transaction.telegram.is_none()).then_some(payment)
}
