//! [`SqlStore`]: the store on PostgreSQL and MySQL, written once over [`Database`].
//!
//! Every transition is one database transaction, running click-core's
//! [`transition`](click_core::transition) over [`SqlSteps`]:
//!
//! - **Prepare** inserts the `click_transactions` row; a partial unique index (PostgreSQL) or a
//!   unique key on a generated column (MySQL) admits one *prepared* row per (`service_id`,
//!   `click_trans_id`, `merchant_trans_id`), so a concurrent duplicate waits for the first, is
//!   refused, and reads the first row back. The reserve hook runs on the open transaction; a
//!   failing hook rolls everything back.
//! - **Complete** moves the row out of its state with a conditional `UPDATE … WHERE state = ?`:
//!   the database's row lock lets exactly one of any number of concurrent Completes match it; the
//!   others see zero affected rows and read the outcome. A confirm of a one-time order then inserts
//!   its `click_paid_orders` row, whose primary key lets only one transaction per order win (the
//!   loser becomes "reversal due"). The delivery hook runs on the same open transaction, inside a
//!   savepoint: the confirm and the merchant's own writes commit together or not at all, and a
//!   failing hook rolls back only its own writes before the transaction is marked "reversal due".
//!
//! A dropped request (a client that hung up) or a crash before the commit rolls the whole
//! transition back, with the delivery hook's database writes: Click's retry then finds the row as
//! it was and delivers again. Side effects outside the database (an e-mail, a call to a
//! warehouse) are not rolled back: send them from [`click_core::ShopEvent::Confirmed`], after the
//! commit, or make them idempotent per `merchant_prepare_id`.

mod outbox;

use async_trait::async_trait;
use click_core::outbox::TaskKind;
use click_core::transition::{self, Inserted, Steps};
use click_core::{
    ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, NewPrepare, Order,
    OrderHooks, OrderStore, Outcome, Prepared, ServiceId, StoreError, Transaction,
    TransactionState, Transition,
};

use crate::binds;
use crate::binds::Bind;
use crate::database::Database;
use crate::row::TransactionRow;

/// Click's transactions in a SQL database `D`, beside the merchant's own tables; hooks `H`
/// receive the open connection (`D::Connection`: `PgConnection`, `MySqlConnection`).
///
/// Use it through its names [`PgStore`](crate::PgStore) and [`MySqlStore`](crate::MySqlStore);
/// their pages say how each database provides the locks.
pub struct SqlStore<D: Database, H> {
    pool: sqlx::Pool<D>,
    hooks: H,
}

impl<D: Database, H> SqlStore<D, H> {
    /// A store over `pool`, calling the merchant's `hooks` inside its transactions. Call
    /// [`migrate`](Self::migrate) once before use.
    pub fn new(pool: sqlx::Pool<D>, hooks: H) -> Self {
        Self { pool, hooks }
    }

    /// The pool.
    pub fn pool(&self) -> &sqlx::Pool<D> {
        &self.pool
    }

    /// The hooks.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// Creates or upgrades the tables (`click_transactions`, `click_paid_orders`), tracked in
    /// `click_migrations` so they never mix with the application's own migrations. Safe to call
    /// at every start, from several instances at once.
    ///
    /// # Errors
    ///
    /// The database refused a statement, or a migration applied earlier was edited since.
    pub async fn migrate(&self) -> Result<(), sqlx::Error> {
        let mut pooled = self.pool.acquire().await?;
        if D::SCHEMA.session_lock {
            // Interrupted mid-way, the connection closes and its session lock goes with it.
            pooled.close_on_drop();
        }
        crate::schema::migrate::<D>(&mut pooled).await
    }

    /// The transactions a statement selects, outside any transition.
    async fn read(
        &self,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Vec<Transaction>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        transactions(D::rows(&mut conn, sql, binds).await)
    }

    async fn begin(&self) -> Result<SqlSteps<D>, StoreError> {
        let tx = self.pool.begin().await.map_err(backend)?;
        Ok(SqlSteps { tx })
    }
}

/// A store failure, with its cause kept for the log.
pub(crate) fn backend(error: sqlx::Error) -> StoreError {
    StoreError::backend(error)
}

/// Is this the database refusing a duplicate key?
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Rows as transactions.
fn transactions(
    rows: Result<Vec<TransactionRow>, sqlx::Error>,
) -> Result<Vec<Transaction>, StoreError> {
    rows.map_err(backend)?
        .into_iter()
        .map(Transaction::try_from)
        .collect()
}

/// Runs a transition again (up to three times in all) when the database aborted it as a deadlock
/// or serialization failure: the transaction rolled back whole, so trying again is safe. Such
/// aborts happen under contention, e.g. MySQL's three-way duplicate-insert deadlock.
async fn retry_conflicts<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if tries < 3 && is_conflict(&error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "transaction aborted by a conflict; trying again"
                );
                tries += 1;
            }
            result => return result,
        }
    }
}

/// Deadlock (`40P01`) or serialization failure (`40001`, MySQL's 1213 deadlock included).
fn is_conflict(error: &StoreError) -> bool {
    let StoreError::Backend(source) = error else {
        return false;
    };
    matches!(
        source.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("40001" | "40P01"))
    )
}

#[async_trait]
impl<D: Database, H: OrderHooks<D::Connection>> OrderStore for SqlStore<D, H> {
    async fn order(
        &self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Order>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        self.hooks
            .find(&mut conn, service_id, merchant_trans_id)
            .await
            .map_err(StoreError::Hook)
    }

    async fn prepared_attempt(
        &self,
        service_id: ServiceId,
        click_trans_id: ClickTransId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = binds::attempt(
            service_id,
            click_trans_id,
            merchant_trans_id,
            TransactionState::Prepared,
        );
        Ok(self.read(D::SQL.select_attempt, &binds).await?.pop())
    }

    async fn transaction(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = [Bind::Int(merchant_prepare_id.get())];
        Ok(self.read(D::SQL.select_transaction, &binds).await?.pop())
    }

    async fn transactions_of(
        &self,
        click_trans_id: ClickTransId,
    ) -> Result<Vec<Transaction>, StoreError> {
        let binds = [Bind::Int(click_trans_id.get())];
        self.read(D::SQL.select_transactions_of, &binds).await
    }

    async fn check(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        sqlx::Connection::ping(&mut *conn).await.map_err(backend)
    }

    async fn prepare(&self, new: NewPrepare) -> Result<Prepared, StoreError> {
        retry_conflicts(|| async {
            transition::prepare(self.begin().await?, &self.hooks, new.clone()).await
        })
        .await
    }

    async fn complete(
        &self,
        merchant_prepare_id: MerchantPrepareId,
        to: Outcome,
    ) -> Result<Transition, StoreError> {
        retry_conflicts(|| async {
            transition::complete(self.begin().await?, &self.hooks, merchant_prepare_id, to).await
        })
        .await
    }
}

/// One transition's database transaction.
pub(crate) struct SqlSteps<D: Database> {
    tx: sqlx::Transaction<'static, D>,
}

impl<D: Database> SqlSteps<D> {
    async fn run(&mut self, sql: &'static str) -> Result<(), StoreError> {
        D::execute(&mut self.tx, sql, &[]).await.map_err(backend)?;
        Ok(())
    }

    async fn select(
        &mut self,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<Transaction>, StoreError> {
        Ok(transactions(D::rows(&mut self.tx, sql, binds).await)?.pop())
    }
}

impl<D: Database> Steps for SqlSteps<D> {
    type Cx = D::Connection;

    fn cx(&mut self) -> &mut D::Connection {
        &mut self.tx
    }

    async fn order_paid(
        &mut self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<bool, StoreError> {
        let binds = binds::paid_order(service_id, merchant_trans_id);
        let paid = D::integer(&mut self.tx, D::SQL.select_paid_order, &binds)
            .await
            .map_err(backend)?;
        Ok(paid.is_some())
    }

    async fn insert_attempt(&mut self, new: &NewPrepare) -> Result<Inserted, StoreError> {
        let binds = binds::insert_transaction(new);
        let inserted = D::insert(&mut self.tx, D::SQL.insert_transaction, &binds)
            .await
            .map_err(backend)?;
        if let Some(id) = inserted {
            return Ok(Inserted::New(MerchantPrepareId::new(id)));
        }
        // A concurrent Prepare of the same attempt committed first.
        let binds = binds::attempt(
            new.service_id,
            new.click_trans_id,
            &new.merchant_trans_id,
            TransactionState::Prepared,
        );
        self.select(D::SQL.select_attempt_latest, &binds)
            .await?
            .map(Inserted::Existing)
            .ok_or(StoreError::Raced(new.click_trans_id))
    }

    async fn update_state(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
        from: TransactionState,
        to: TransactionState,
        confirm_id: Option<MerchantConfirmId>,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = binds::update_state(merchant_prepare_id, from, to, confirm_id);
        if D::SQL.update_returns_row {
            return self.select(D::SQL.update_state, &binds).await;
        }
        let moved = D::execute(&mut self.tx, D::SQL.update_state, &binds)
            .await
            .map_err(backend)?;
        if moved == 0 {
            return Ok(None);
        }
        self.transaction(merchant_prepare_id).await
    }

    async fn transaction(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = [Bind::Int(merchant_prepare_id.get())];
        self.select(D::SQL.select_transaction, &binds).await
    }

    async fn claim_order(&mut self, transaction: &Transaction) -> Result<bool, StoreError> {
        let binds = binds::claim_order(transaction);
        match D::execute(&mut self.tx, D::SQL.claim_order, &binds).await {
            Ok(claimed) => Ok(claimed > 0),
            Err(error) if is_unique_violation(&error) => Ok(false),
            Err(error) => Err(backend(error)),
        }
    }

    async fn enqueue(
        &mut self,
        kind: TaskKind,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<(), StoreError> {
        let binds = binds::insert_task(kind, merchant_prepare_id);
        D::execute(&mut self.tx, D::SQL.insert_task, &binds)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn savepoint(&mut self) -> Result<(), StoreError> {
        self.run(crate::sql::SAVEPOINT).await
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        self.run(crate::sql::RELEASE_SAVEPOINT).await
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        self.run(crate::sql::ROLLBACK_TO_SAVEPOINT).await?;
        self.run(crate::sql::RELEASE_SAVEPOINT).await
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(backend)
    }

    async fn rollback(self) -> Result<(), StoreError> {
        self.tx.rollback().await.map_err(backend)
    }
}
