//! What the sqlx stores and SQLite share about settlement tasks: how a change to a claimed task
//! is bound, how what a task did is recorded, claim tokens and counts.

use std::time::SystemTime;

use click_core::outbox::{self, Claim, Settled, TaskCounts, TaskKind, TaskStatus, TaskUpdate};
use click_core::{MerchantPrepareId, StoreError};

use crate::binds::Bind;
use crate::row::{self, millis};

/// Counts from `(kind, status, count)` rows.
pub(crate) fn counts(rows: Vec<(i64, i64, i64)>) -> Result<TaskCounts, StoreError> {
    let kind = |code: i64| {
        TaskKind::ALL
            .into_iter()
            .find(|kind| i64::from(row::task_kind_code(*kind)) == code)
    };
    let status = |code: i64| {
        TaskStatus::ALL
            .into_iter()
            .find(|status| i64::from(row::task_status_code(*status)) == code)
    };
    rows.into_iter()
        .map(|(k, s, n)| match (kind(k), status(s), u64::try_from(n)) {
            (Some(kind), Some(status), Ok(n)) => Ok((kind, status, n)),
            _ => Err(StoreError::backend(
                "corrupt click_outbox row: kind or status",
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(TaskCounts::new)
}

/// A fresh claim token: random, so that workers of several processes never share one.
pub(crate) fn claim_token() -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos()),
    );
    // Never 0, so that no claim looks like an unclaimed task.
    i64::from_ne_bytes(hasher.finish().to_ne_bytes()) | 1
}

/// The binds of [`crate::sql::Sql::update_task`] for a change to a claimed task.
pub(crate) struct TaskChange<'a> {
    pub(crate) binds: [Bind<'a>; 9],
    pub(crate) settled: Option<&'a Settled>,
}

impl<'a> TaskChange<'a> {
    pub(crate) fn new(claim: &'a Claim, update: &'a TaskUpdate) -> Self {
        let applied = outbox::apply(update);
        let keep_claim = matches!(update, TaskUpdate::Stage(_));
        let stage = match update {
            TaskUpdate::Stage(stage) => Some(i64::from(row::stage_code(*stage))),
            _ => None,
        };
        let due_at = match update {
            TaskUpdate::Retry { at, .. } => Some(millis(*at)),
            _ => None,
        };
        let binds = [
            Bind::Int(row::task_status_code(applied.status).into()),
            Bind::OptionalInt(stage),
            Bind::OptionalInt(due_at),
            Bind::OptionalInt(keep_claim.then_some(claim.token)),
            Bind::Int(i64::from(keep_claim)),
            Bind::OptionalText(applied.note),
            Bind::Int(claim.task.id.get()),
            Bind::Int(claim.token),
            Bind::Int(row::task_status_code(TaskStatus::Pending).into()),
        ];
        Self {
            binds,
            settled: applied.settled,
        }
    }
}

/// The statement and binds that record what a task did on its transaction.
pub(crate) fn settlement<'a>(
    sql: &crate::sql::Sql,
    settled: &'a Settled,
    merchant_prepare_id: MerchantPrepareId,
) -> Option<(&'static str, Vec<Bind<'a>>)> {
    let id = Bind::Int(merchant_prepare_id.get());
    match settled {
        Settled::Reversal(outcome) => {
            let (outcome, code) = row::reversal_codes(*outcome);
            Some((
                sql.settle_reversal,
                vec![Bind::Int(outcome.into()), Bind::OptionalInt(code), id],
            ))
        }
        Settled::Receipt { url } => Some((sql.settle_receipt, vec![Bind::Text(url), id])),
        Settled::Expiry(_) => None,
    }
}
