//! [`report`]: what an operator sees of the settlement.

use std::fmt;

use click_core::outbox::{Task, TaskCounts, TaskFilter, TaskKind, TaskStatus};
use click_core::{OrderStore, StoreError};

/// The settlement's state: counts, and the tasks that want a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Tasks by kind and status.
    pub counts: TaskCounts,
    /// Parked tasks: a person must look at each.
    pub parked: Vec<Task>,
    /// Reversals waiting for approval.
    pub awaiting_approval: Vec<Task>,
    /// Tasks still to do (at most 100 listed).
    pub pending: Vec<Task>,
}

impl Report {
    /// Payments whose receipt is recorded.
    pub fn fiscalized(&self) -> u64 {
        self.counts.get(TaskKind::Fiscalize, TaskStatus::Done)
    }

    /// Payments that want a receipt and have none yet.
    pub fn unfiscalized(&self) -> u64 {
        self.counts.get(TaskKind::Fiscalize, TaskStatus::Pending)
            + self.counts.get(TaskKind::Fiscalize, TaskStatus::Parked)
    }
}

/// The settlement's state in `store`.
///
/// # Errors
///
/// The store failed.
pub async fn report(store: &dyn OrderStore) -> Result<Report, StoreError> {
    let list = |status, limit| TaskFilter {
        kind: None,
        status: Some(status),
        limit,
    };
    Ok(Report {
        counts: store.task_counts().await?,
        parked: store.tasks(list(TaskStatus::Parked, None)).await?,
        awaiting_approval: store
            .tasks(list(TaskStatus::AwaitingApproval, None))
            .await?,
        pending: store.tasks(list(TaskStatus::Pending, Some(100))).await?,
    })
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "task       pending  awaiting  done  parked")?;
        for kind in TaskKind::ALL {
            writeln!(
                f,
                "{:<10} {:>7}  {:>8}  {:>4}  {:>6}",
                format!("{kind:?}").to_lowercase(),
                self.counts.get(kind, TaskStatus::Pending),
                self.counts.get(kind, TaskStatus::AwaitingApproval),
                self.counts.get(kind, TaskStatus::Done),
                self.counts.get(kind, TaskStatus::Parked),
            )?;
        }
        writeln!(
            f,
            "payments fiscalized: {}, unfiscalized: {}",
            self.fiscalized(),
            self.unfiscalized()
        )?;
        for (title, tasks) in [
            ("parked", &self.parked),
            ("awaiting approval", &self.awaiting_approval),
            ("pending", &self.pending),
        ] {
            for task in tasks {
                writeln!(
                    f,
                    "{title}: task {} {:?} of payment {} (merchant_prepare_id {}, attempt {}): {}",
                    task.id,
                    task.kind,
                    task.transaction.click_paydoc_id,
                    task.transaction.merchant_prepare_id,
                    task.attempts,
                    task.note.as_deref().unwrap_or("-"),
                )?;
            }
        }
        Ok(())
    }
}
