//! [`SqlStore`]'s settlement outbox: `click_outbox`, claimed with `FOR UPDATE SKIP LOCKED`.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use click_core::outbox::{Claim, Outbox, Task, TaskCounts, TaskFilter, TaskUpdate};
use click_core::{ClickPaydocId, MerchantPrepareId, ServiceId, StoreError, Transaction};

use super::{SqlStore, backend, transactions};
use crate::binds;
use crate::binds::Bind;
use crate::database::Database;
use crate::row::{TaskRow, millis};
use crate::sql::ClaimTasks;
use crate::tasks::{TaskChange, claim_token, counts, settlement};

/// Tasks from their rows.
pub(crate) fn tasks(rows: Result<Vec<TaskRow>, sqlx::Error>) -> Result<Vec<Task>, StoreError> {
    rows.map_err(backend)?
        .into_iter()
        .map(Task::try_from)
        .collect()
}

impl<D: Database, H> SqlStore<D, H> {
    /// Tasks counted by kind and status, as `sql` groups them.
    async fn count_tasks(
        &self,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<TaskCounts, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        counts(D::triples(&mut conn, sql, binds).await.map_err(backend)?)
    }
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
        let mut tx = self.pool.begin().await.map_err(backend)?;
        match D::SQL.claim_tasks {
            ClaimTasks::Update(update) => {
                let [pending, due, unclaimed, limit] = binds::due_tasks(now, limit);
                let binds = [
                    Bind::Int(token),
                    Bind::Int(until),
                    pending,
                    due,
                    unclaimed,
                    limit,
                ];
                D::execute(&mut tx, update, &binds).await.map_err(backend)?;
            }
            ClaimTasks::SelectThenUpdate { select, update } => {
                let binds = binds::due_tasks(now, limit);
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
        let binds = binds::approve_reversal(merchant_prepare_id);
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let approved = D::execute(&mut conn, D::SQL.approve_reversal, &binds)
            .await
            .map_err(backend)?;
        Ok(approved > 0)
    }

    async fn schedule_expiry(&self, prepared_before: SystemTime) -> Result<u64, StoreError> {
        let binds = binds::schedule_expiry(prepared_before);
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
        let binds = binds::paydoc_debited(service_id, click_paydoc_id, except);
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let found = D::integer(&mut conn, D::SQL.select_paydoc_debited, &binds)
            .await
            .map_err(backend)?;
        Ok(found.is_some())
    }

    async fn tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
        let binds = binds::tasks(filter);
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        tasks(D::task_rows(&mut conn, D::SQL.select_tasks, &binds).await)
    }

    async fn task_counts(&self) -> Result<TaskCounts, StoreError> {
        self.count_tasks(D::SQL.count_tasks, &[]).await
    }

    async fn open_task_counts(&self) -> Result<TaskCounts, StoreError> {
        self.count_tasks(D::SQL.count_open_tasks, &binds::open_statuses())
            .await
    }

    async fn reversals_due(&self) -> Result<Vec<Transaction>, StoreError> {
        let due = binds::reversals_due();
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        transactions(D::rows(&mut conn, D::SQL.select_reversals_due, &due).await)
    }
}
