//! The settlement outbox: what must follow a payment once the callbacks are answered, recorded by
//! the store in the same database transaction as the transition that calls for it, and worked
//! off by a settlement worker (the `click-settle` crate).
//!
//! | task | recorded when | the worker |
//! |---|---|---|
//! | [`TaskKind::Reverse`] | a transaction becomes [`crate::TransactionState::ReversalDue`] | reverses the payment at Click, if Click has it as paid |
//! | [`TaskKind::Fiscalize`] | a payment is confirmed and [`OrderHooks::wants_receipt`](crate::OrderHooks::wants_receipt) says so | submits its fiscal receipt and keeps the receipt's link |
//! | [`TaskKind::Expire`] | [`Outbox::schedule_expiry`] finds an attempt prepared too long ago | asks Click, then expires the attempt or leaves it to Click |
//!
//! A crash between the commit and the work loses nothing (the task is durable); a rollback records
//! nothing. A worker [claims](Outbox::claim) due tasks for a lease: no other worker gets them
//! until it runs out (a dead worker's tasks come back), and every change to a claimed task names
//! the claim, so a worker whose lease ran out and was taken over changes nothing.
//!
//! Times are Unix milliseconds in the stores; [`unix_millis`] and [`from_unix_millis`] convert.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use crate::ids::{ClickPaydocId, MerchantPrepareId, ServiceId, TaskId};
use crate::store::{ReversalOutcome, StoreError, Transaction};

/// Milliseconds since 1970 (0 before it, saturated far after it).
pub fn unix_millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    })
}

/// The time `millis` milliseconds after 1970.
pub fn from_unix_millis(millis: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(millis)
}

/// A time cut to the millisecond, as stores keep it.
pub fn to_the_millisecond(time: SystemTime) -> SystemTime {
    from_unix_millis(unix_millis(time))
}

/// What a task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskKind {
    /// Reverse a payment Click debited but the merchant did not deliver.
    Reverse,
    /// Submit a confirmed payment's fiscal receipt.
    Fiscalize,
    /// Settle an attempt that no Complete came for.
    Expire,
}

impl TaskKind {
    /// Every kind.
    pub const ALL: [TaskKind; 3] = [TaskKind::Reverse, TaskKind::Fiscalize, TaskKind::Expire];
}

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TaskStatus {
    /// Waiting to run (now, or at its due time), or running under a claim.
    Pending,
    /// A reversal held for a person's approval ([`Outbox::approve_reversal`]).
    AwaitingApproval,
    /// Done: what it did is recorded on the transaction.
    Done,
    /// Given up on after its retries, or refused by Click: a person must look at it.
    Parked,
}

impl TaskStatus {
    /// Every status.
    pub const ALL: [TaskStatus; 4] = [
        TaskStatus::Pending,
        TaskStatus::AwaitingApproval,
        TaskStatus::Done,
        TaskStatus::Parked,
    ];

    /// Every status but [`Done`](Self::Done): the tasks a settlement worker watches.
    pub const OPEN: [TaskStatus; 3] = [
        TaskStatus::Pending,
        TaskStatus::AwaitingApproval,
        TaskStatus::Parked,
    ];
}

/// How far a task's call to Click got, so that a retry after a crash or a timeout knows whether
/// Click may already have acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    /// Nothing was sent.
    Fresh,
    /// The call may have reached Click: its outcome is unknown until Click is asked.
    Sent,
    /// Click acknowledged the call.
    Acknowledged,
}

/// A task, with the transaction it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Its id.
    pub id: TaskId,
    /// What it does.
    pub kind: TaskKind,
    /// Where it stands.
    pub status: TaskStatus,
    /// The transaction, as it is now.
    pub transaction: Transaction,
    /// How many times it was claimed.
    pub attempts: u32,
    /// How far its call got.
    pub stage: Stage,
    /// When it may run next.
    pub due_at: SystemTime,
    /// Whether a person approved it (a reversal under manual approval).
    pub approved: bool,
    /// Why its last attempt failed, or what it found.
    pub note: Option<String>,
}

/// A claimed task: the task, and the claim that every change to it must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The task, as claimed.
    pub task: Task,
    /// The claim's token, unique to this claim.
    pub token: i64,
}

/// What a finished task did, recorded on its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// What the reversal did.
    Reversal(ReversalOutcome),
    /// The fiscal receipt's link.
    Receipt {
        /// The link (Click's `qrCodeURL`).
        url: String,
    },
    /// What the expiry found; the transaction itself was expired (or not) through
    /// [`crate::OrderStore::complete`].
    Expiry(ExpiryOutcome),
}

/// What settling a stuck attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpiryOutcome {
    /// Click had no paid payment for it: it was expired and its reservation released.
    Expired,
    /// Click had it as paid, but another transaction already holds that payment as debited: a
    /// late duplicate Prepare, expired.
    LateDuplicate,
    /// Click has it as paid: it is left for Click's own retry of the Complete.
    LeftForClick,
    /// A Complete settled it first.
    AlreadySettled,
}

impl ExpiryOutcome {
    /// How it is written in a task's note.
    pub fn note(self) -> &'static str {
        match self {
            ExpiryOutcome::Expired => "expired: Click has no paid payment for it",
            ExpiryOutcome::LateDuplicate => {
                "expired: a late duplicate Prepare of a payment another transaction holds"
            }
            ExpiryOutcome::LeftForClick => "left for Click's retry: Click has it as paid",
            ExpiryOutcome::AlreadySettled => "already settled by a Complete",
        }
    }
}

/// A change to a claimed task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskUpdate {
    /// Its call got this far (recorded before a call whose outcome could become unknown).
    Stage(Stage),
    /// It is done; `Settled` is recorded on the transaction in the same database transaction.
    Done(Settled),
    /// It runs again at `at`.
    Retry {
        /// When.
        at: SystemTime,
        /// Why the attempt failed.
        error: String,
    },
    /// A person must look at it; what it did, if anything, is recorded on the transaction.
    Park {
        /// Why.
        error: String,
        /// What it did.
        settled: Option<Settled>,
    },
    /// It waits for a person's approval (a reversal under manual approval).
    Hold,
}

/// Which tasks [`Outbox::tasks`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TaskFilter {
    /// Only tasks of this kind.
    pub kind: Option<TaskKind>,
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
    /// At most this many, oldest first (`None`: all).
    pub limit: Option<usize>,
}

/// How many tasks there are, by kind and status.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskCounts {
    counts: Vec<(TaskKind, TaskStatus, u64)>,
}

impl TaskCounts {
    /// Counts from `(kind, status, count)` rows, as a store groups them.
    pub fn new(rows: impl IntoIterator<Item = (TaskKind, TaskStatus, u64)>) -> Self {
        let mut counts: Vec<_> = rows.into_iter().filter(|(.., n)| *n > 0).collect();
        counts.sort_unstable();
        Self { counts }
    }

    /// How many tasks of a kind are in a status.
    pub fn get(&self, kind: TaskKind, status: TaskStatus) -> u64 {
        self.counts
            .iter()
            .filter(|(k, s, _)| *k == kind && *s == status)
            .map(|(.., n)| n)
            .sum()
    }

    /// How many tasks of any kind are in a status.
    pub fn in_status(&self, status: TaskStatus) -> u64 {
        TaskKind::ALL
            .iter()
            .map(|kind| self.get(*kind, status))
            .sum()
    }
}

/// A store's settlement outbox. Every [`crate::OrderStore`] provides one; `click_core::testing`
/// (feature `testing`) has its conformance suite, `outbox_conformance!`.
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Claims up to `limit` tasks that are pending, due at `now`, and not held by an unexpired
    /// claim, for `lease`; oldest due first. Two concurrent claims never get the same task.
    async fn claim(
        &self,
        now: SystemTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, StoreError>;

    /// Changes a claimed task; `false` (and no change) if the claim is no longer the task's (its
    /// lease ran out and another worker claimed it) or the task is no longer pending.
    async fn update(&self, claim: &Claim, update: TaskUpdate) -> Result<bool, StoreError>;

    /// Lets a reversal held for approval run; `false` if none is held for this transaction.
    async fn approve_reversal(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<bool, StoreError>;

    /// Records an [`TaskKind::Expire`] task, due now, for every attempt still prepared that was
    /// prepared before `prepared_before` and has none; how many were recorded.
    async fn schedule_expiry(&self, prepared_before: SystemTime) -> Result<u64, StoreError>;

    /// Whether another transaction than `except` holds Click's payment `click_paydoc_id` of a
    /// service as debited.
    async fn paydoc_debited(
        &self,
        service_id: ServiceId,
        click_paydoc_id: ClickPaydocId,
        except: MerchantPrepareId,
    ) -> Result<bool, StoreError>;

    /// Tasks, oldest first.
    async fn tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError>;

    /// How many tasks there are, by kind and status.
    async fn task_counts(&self) -> Result<TaskCounts, StoreError>;

    /// How many tasks are in one of the [`TaskStatus::OPEN`] statuses, by kind and status: what
    /// a settlement worker watches, every few seconds. By default
    /// [`task_counts`](Self::task_counts) without the others; a store that keeps every done task
    /// counts the open ones without reading those.
    async fn open_task_counts(&self) -> Result<TaskCounts, StoreError> {
        let all = self.task_counts().await?;
        Ok(TaskCounts::new(all.counts.into_iter().filter(
            |(_, status, _)| TaskStatus::OPEN.contains(status),
        )))
    }

    /// Every transaction whose payment Click debited but the merchant did not deliver, whose
    /// reversal is not settled yet: each must be reversed through the Merchant API (`payment_id`
    /// is its `click_paydoc_id`). A settlement worker does it; this list is for a person.
    async fn reversals_due(&self) -> Result<Vec<Transaction>, StoreError>;
}

/// What a [`TaskUpdate`] makes of a pending task: its new status, the settlement to record on
/// its transaction, and its note. Stores share it, so every store changes a task alike.
pub fn apply(update: &TaskUpdate) -> Applied<'_> {
    match update {
        TaskUpdate::Stage(_) => Applied {
            status: TaskStatus::Pending,
            settled: None,
            note: None,
        },
        TaskUpdate::Done(settled) => Applied {
            status: TaskStatus::Done,
            settled: Some(settled),
            note: match settled {
                Settled::Expiry(outcome) => Some(outcome.note()),
                Settled::Reversal(_) | Settled::Receipt { .. } => None,
            },
        },
        TaskUpdate::Retry { error, .. } => Applied {
            status: TaskStatus::Pending,
            settled: None,
            note: Some(error),
        },
        TaskUpdate::Park { error, settled } => Applied {
            status: TaskStatus::Parked,
            settled: settled.as_ref(),
            note: Some(error),
        },
        TaskUpdate::Hold => Applied {
            status: TaskStatus::AwaitingApproval,
            settled: None,
            note: Some("awaiting a person's approval"),
        },
    }
}

/// A [`TaskUpdate`] as a store writes it: see [`apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied<'a> {
    /// The task's status afterwards.
    pub status: TaskStatus,
    /// What to record on the transaction.
    pub settled: Option<&'a Settled>,
    /// The task's note afterwards (`None`: unchanged).
    pub note: Option<&'a str>,
}
