//! [`SqlStore`]'s settlement outbox: `click_outbox`, claimed with `FOR UPDATE SKIP LOCKED`.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use click_core::outbox::{
    Claim, Outbox, Task, TaskCounts, TaskFilter, TaskKind, TaskStatus, TaskUpdate,
};
use click_core::{
    ClickPaydocId, MerchantPrepareId, ServiceId, StoreError, Transaction, TransactionState,
};

use super::{SqlStore, backend, transactions};
use crate::database::Database;
use crate::database::driver::Bind;
use crate::row::{self, TaskRow, millis};
use crate::sql::ClaimTasks;
use crate::tasks::{TaskChange, claim_token, counts, settlement};

/// Tasks from their rows.
pub(crate) fn tasks(rows: Result<Vec<TaskRow>, sqlx::Error>) -> Result<Vec<Task>, StoreError> {
    rows.map_err(backend)?
        .into_iter()
        .map(Task::try_from)
        .collect()
}

#[async_trait]
impl<D: Database, H: Send + Sync + 'static> Outbox for SqlStore<D, H> {
    async fn claim(
        &self,
        now: SystemTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        let token = claim_token();
        let now = millis(now);
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let pending = Bind::Int(row::task_status_code(TaskStatus::Pending).into());
        let limit = Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX));
        let mut tx = self.pool.begin().await.map_err(backend)?;
        match D::SQL.claim_tasks {
            ClaimTasks::Update(update) => {
                let binds = [
                    Bind::Int(token),
                    Bind::Int(until),
                    pending,
                    Bind::Int(now),
                    Bind::Int(now),
                    limit,
                ];
                D::execute(&mut tx, update, &binds).await.map_err(backend)?;
            }
            ClaimTasks::SelectThenUpdate { select, update } => {
                let binds = [pending, Bind::Int(now), Bind::Int(now), limit];
                let ids = D::integers(&mut tx, select, &binds)
                    .await
                    .map_err(backend)?;
                for id in ids {
                    let binds = [Bind::Int(token), Bind::Int(until), Bind::Int(id)];
                    D::execute(&mut tx, update, &binds).await.map_err(backend)?;
                }
            }
        }
        let claimed =
            tasks(D::task_rows(&mut tx, D::SQL.select_claimed, &[Bind::Int(token)]).await)?;
        tx.commit().await.map_err(backend)?;
        Ok(claimed
            .into_iter()
            .map(|task| Claim { task, token })
            .collect())
    }

    async fn update(&self, claim: &Claim, update: TaskUpdate) -> Result<bool, StoreError> {
        let change = TaskChange::new(claim, &update);
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let changed = D::execute(&mut tx, D::SQL.update_task, &change.binds)
            .await
            .map_err(backend)?;
        if changed == 0 {
            tx.rollback().await.map_err(backend)?;
            return Ok(false);
        }
        let id = claim.task.transaction.merchant_prepare_id;
        if let Some((sql, binds)) = change
            .settled
            .and_then(|settled| settlement(&D::SQL, settled, id))
        {
            D::execute(&mut tx, sql, &binds).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn approve_reversal(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<bool, StoreError> {
        let binds = [
            Bind::Int(row::task_status_code(TaskStatus::Pending).into()),
            Bind::Int(row::task_kind_code(TaskKind::Reverse).into()),
            Bind::Int(merchant_prepare_id.get()),
            Bind::Int(row::task_status_code(TaskStatus::AwaitingApproval).into()),
        ];
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let approved = D::execute(&mut conn, D::SQL.approve_reversal, &binds)
            .await
            .map_err(backend)?;
        Ok(approved > 0)
    }

    async fn schedule_expiry(&self, prepared_before: SystemTime) -> Result<u64, StoreError> {
        let expire = Bind::Int(row::task_kind_code(TaskKind::Expire).into());
        let binds = [
            expire,
            Bind::Int(row::task_status_code(TaskStatus::Pending).into()),
            Bind::Int(row::state_code(TransactionState::Prepared).into()),
            Bind::Int(millis(prepared_before)),
            expire,
        ];
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        D::execute(&mut conn, D::SQL.schedule_expiry, &binds)
            .await
            .map_err(backend)
    }

    async fn paydoc_debited(
        &self,
        service_id: ServiceId,
        click_paydoc_id: ClickPaydocId,
        except: MerchantPrepareId,
    ) -> Result<bool, StoreError> {
        let [a, b, c] = row::debited_codes().map(|code| Bind::Int(code.into()));
        let binds = [
            Bind::Int(service_id.get()),
            Bind::Int(click_paydoc_id.get()),
            Bind::Int(except.get()),
            a,
            b,
            c,
        ];
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let found = D::integer(&mut conn, D::SQL.select_paydoc_debited, &binds)
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }

    async fn tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
        let kind = filter.kind.map(|kind| i64::from(row::task_kind_code(kind)));
        let status = filter
            .status
            .map(|status| i64::from(row::task_status_code(status)));
        let limit = filter
            .limit
            .map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let binds = [
            Bind::OptionalInt(kind),
            Bind::OptionalInt(kind),
            Bind::OptionalInt(status),
            Bind::OptionalInt(status),
            Bind::Int(limit),
        ];
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        tasks(D::task_rows(&mut conn, D::SQL.select_tasks, &binds).await)
    }

    async fn task_counts(&self) -> Result<TaskCounts, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        counts(
            D::triples(&mut conn, D::SQL.count_tasks)
                .await
                .map_err(backend)?,
        )
    }

    async fn reversals_due(&self) -> Result<Vec<Transaction>, StoreError> {
        let due = row::reversal_due_codes().map(|code| Bind::Int(code.into()));
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        transactions(D::rows(&mut conn, D::SQL.select_reversals_due, &due).await)
    }
}
