//! [`MemoryStore`]'s settlement outbox: tasks in a map beside the transactions, under the same
//! lock, so that every claim and change is atomic.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{MemoryStore, State};
use crate::ids::{ClickPaydocId, MerchantPrepareId, ServiceId, TaskId};
use crate::outbox::{
    self, Claim, Outbox, Settled, Stage, Task, TaskCounts, TaskFilter, TaskKind, TaskStatus,
    TaskUpdate, from_unix_millis, unix_millis,
};
use crate::store::{OrderHooks, StoreError, Transaction, TransactionState};

/// One task, as the memory store keeps it.
#[derive(Debug, Clone)]
struct Record {
    kind: TaskKind,
    merchant_prepare_id: MerchantPrepareId,
    status: TaskStatus,
    attempts: u32,
    stage: Stage,
    due_at_ms: u64,
    /// The claim's token and the end of its lease (Unix ms).
    claim: Option<(i64, u64)>,
    approved: bool,
    note: Option<String>,
}

/// Every task, by id, and the task of each (kind, transaction).
#[derive(Debug, Default)]
pub(super) struct Tasks {
    records: BTreeMap<TaskId, Record>,
    by_transaction: HashMap<(TaskKind, MerchantPrepareId), TaskId>,
    last_id: i64,
    last_token: i64,
}

impl Tasks {
    /// Records a pending task unless the transaction already has one of this kind.
    pub(super) fn enqueue(&mut self, kind: TaskKind, id: MerchantPrepareId, due_at_ms: u64) {
        if self.by_transaction.contains_key(&(kind, id)) {
            return;
        }
        self.last_id += 1;
        let task_id = TaskId::new(self.last_id);
        self.by_transaction.insert((kind, id), task_id);
        self.records.insert(
            task_id,
            Record {
                kind,
                merchant_prepare_id: id,
                status: TaskStatus::Pending,
                attempts: 0,
                stage: Stage::Fresh,
                due_at_ms,
                claim: None,
                approved: false,
                note: None,
            },
        );
    }
}

impl State {
    fn task(&self, id: TaskId, record: &Record) -> Option<Task> {
        let transaction = self.transactions.get(&record.merchant_prepare_id)?;
        Some(Task {
            id,
            kind: record.kind,
            status: record.status,
            transaction: transaction.clone(),
            attempts: record.attempts,
            stage: record.stage,
            due_at: from_unix_millis(record.due_at_ms),
            approved: record.approved,
            note: record.note.clone(),
        })
    }

    fn settle(&mut self, id: MerchantPrepareId, settled: &Settled) {
        let Some(transaction) = self.transactions.get_mut(&id) else {
            return;
        };
        match settled {
            Settled::Reversal(outcome) => transaction.reversal = Some(*outcome),
            Settled::Receipt { url } => transaction.receipt_url = Some(url.clone()),
            Settled::Expiry(_) => {}
        }
    }
}

#[async_trait]
impl<H: OrderHooks> Outbox for MemoryStore<H> {
    async fn claim(
        &self,
        now: SystemTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        let now = unix_millis(now);
        let until = now.saturating_add(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX));
        let mut state = self.state();
        let mut due: Vec<(u64, TaskId)> = state
            .outbox
            .records
            .iter()
            .filter(|(_, r)| {
                r.status == TaskStatus::Pending
                    && r.due_at_ms <= now
                    && r.claim.is_none_or(|(_, lease_end)| lease_end <= now)
            })
            .map(|(id, r)| (r.due_at_ms, *id))
            .collect();
        due.sort_unstable();
        let mut claims = Vec::new();
        for (_, id) in due.into_iter().take(limit) {
            state.outbox.last_token += 1;
            let token = state.outbox.last_token;
            let Some(record) = state.outbox.records.get_mut(&id) else {
                continue;
            };
            record.attempts += 1;
            record.claim = Some((token, until));
            let record = record.clone();
            if let Some(task) = state.task(id, &record) {
                claims.push(Claim { task, token });
            }
        }
        Ok(claims)
    }

    async fn update(&self, claim: &Claim, update: TaskUpdate) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(record) = state.outbox.records.get_mut(&claim.task.id) else {
            return Ok(false);
        };
        if record.status != TaskStatus::Pending
            || record.claim.map(|(token, _)| token) != Some(claim.token)
        {
            return Ok(false);
        }
        let applied = outbox::apply(&update);
        record.status = applied.status;
        if let Some(note) = applied.note {
            record.note = Some(note.to_owned());
        }
        match &update {
            TaskUpdate::Stage(stage) => record.stage = *stage,
            TaskUpdate::Retry { at, .. } => {
                record.due_at_ms = unix_millis(*at);
                record.claim = None;
            }
            TaskUpdate::Done(_) | TaskUpdate::Park { .. } | TaskUpdate::Hold => {
                record.claim = None;
            }
        }
        let id = record.merchant_prepare_id;
        if let Some(settled) = applied.settled {
            state.settle(id, settled);
        }
        Ok(true)
    }

    async fn approve_reversal(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let tasks = &mut state.outbox;
        let Some(id) = tasks
            .by_transaction
            .get(&(TaskKind::Reverse, merchant_prepare_id))
        else {
            return Ok(false);
        };
        let Some(record) = tasks.records.get_mut(id) else {
            return Ok(false);
        };
        if record.status != TaskStatus::AwaitingApproval {
            return Ok(false);
        }
        record.status = TaskStatus::Pending;
        record.approved = true;
        record.due_at_ms = 0;
        Ok(true)
    }

    async fn schedule_expiry(&self, prepared_before: SystemTime) -> Result<u64, StoreError> {
        let mut state = self.state();
        let stuck: Vec<MerchantPrepareId> = state
            .transactions
            .values()
            .filter(|t| t.state == TransactionState::Prepared && t.prepared_at < prepared_before)
            .filter(|t| {
                !state
                    .outbox
                    .by_transaction
                    .contains_key(&(TaskKind::Expire, t.merchant_prepare_id))
            })
            .map(|t| t.merchant_prepare_id)
            .collect();
        for id in &stuck {
            state.outbox.enqueue(TaskKind::Expire, *id, 0);
        }
        Ok(u64::try_from(stuck.len()).unwrap_or(u64::MAX))
    }

    async fn paydoc_debited(
        &self,
        service_id: ServiceId,
        click_paydoc_id: ClickPaydocId,
        except: MerchantPrepareId,
    ) -> Result<bool, StoreError> {
        Ok(self.state().transactions.values().any(|t| {
            t.service_id == service_id
                && t.click_paydoc_id == click_paydoc_id
                && t.merchant_prepare_id != except
                && t.state.is_debited()
        }))
    }

    async fn tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
        let state = self.state();
        Ok(state
            .outbox
            .records
            .iter()
            .filter(|(_, r)| filter.kind.is_none_or(|kind| r.kind == kind))
            .filter(|(_, r)| filter.status.is_none_or(|status| r.status == status))
            .filter_map(|(id, r)| state.task(*id, r))
            .take(filter.limit.unwrap_or(usize::MAX))
            .collect())
    }

    async fn task_counts(&self) -> Result<TaskCounts, StoreError> {
        let state = self.state();
        let mut counts: HashMap<(TaskKind, TaskStatus), u64> = HashMap::new();
        for record in state.outbox.records.values() {
            *counts.entry((record.kind, record.status)).or_default() += 1;
        }
        Ok(TaskCounts::new(
            counts
                .into_iter()
                .map(|((kind, status), n)| (kind, status, n)),
        ))
    }

    async fn reversals_due(&self) -> Result<Vec<Transaction>, StoreError> {
        Ok(self
            .state()
            .transactions
            .values()
            .filter(|t| matches!(t.state, TransactionState::ReversalDue(_)) && t.reversal.is_none())
            .cloned()
            .collect())
    }
}
