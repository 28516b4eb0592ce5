//! [`SqlStore`]: the store on PostgreSQL and MySQL, written once over [`Database`].
//!
//! Every transition is one database transaction (but for a Prepare whose hooks reserve nothing,
//! below), running click-core's [`transition`](click_core::transition) over [`SqlSteps`]:
//!
//! - **Prepare** asks the `find` hook for the order on the transition's own connection, then
//!   inserts the `click_transactions` row; a partial unique index (PostgreSQL) or a
//!   unique key on a generated column (MySQL) admits one *prepared* row per (`service_id`,
//!   `click_trans_id`, `merchant_trans_id`), so a concurrent duplicate waits for the first, is
//!   refused, and reads the first row back. The reserve hook runs on the open transaction; a
//!   failing hook rolls everything back.
//! - **Complete** moves the row out of its state with a conditional `UPDATE … WHERE state = ?`:
//!   the database's row lock lets exactly one of any number of concurrent Completes match it; the
//!   others see zero affected rows and read the outcome. A confirm of a one-time order also inserts
//!   its `click_paid_orders` row, whose primary key lets only one transaction per order win (the
//!   loser becomes "reversal due"); on PostgreSQL both are one statement (a CTE). The delivery hook
//!   runs on the same open transaction: the confirm and the merchant's own writes commit together
//!   or not at all. A failing hook rolls the transaction back, its own writes with it, and the
//!   confirm runs again without it, as "reversal due" (no savepoint: the common path pays no round
//!   trip for one).
//! - A **Prepare whose hooks reserve nothing** ([`OrderHooks::reserves_orders`] answers `false`)
//!   runs in autocommit (its `find` too): on PostgreSQL one `INSERT … SELECT … WHERE NOT EXISTS`
//!   (the order's claim), so a paid order records nothing; on MySQL the claim's check, then the
//!   insert.
//!
//! A dropped request (a client that hung up) or a crash before the commit rolls the whole
//! transition back, with the delivery hook's database writes: Click's retry then finds the row as
//! it was and delivers again. Side effects outside the database (an e-mail, a call to a
//! warehouse) are not rolled back: send them from [`click_core::ShopEvent::Confirmed`], after the
//! commit, or make them idempotent per `merchant_prepare_id`.

mod outbox;

use std::time::Duration;

use async_trait::async_trait;
use click_core::outbox::TaskKind;
use click_core::transition::{self, Inserted, Steps};
use click_core::{
    Attempt, ClickTransId, Expected, MerchantConfirmId, MerchantPrepareId, MerchantTransId,
    NewCharge, NewPrepare, Order, OrderHooks, OrderStore, Outcome, PaymentKind, Prepared,
    ServiceId, StoreError, Transaction, TransactionState, Transition,
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

    /// Connects a pool of [`POOL_SIZE`](crate::POOL_SIZE) connections with settings fit for
    /// callbacks: no ping before each use, a 5-second acquire timeout and a 5-second wait for a
    /// row lock (PostgreSQL's `lock_timeout`, MySQL's `innodb_lock_wait_timeout`), so a database
    /// outage or a hook holding a lock answers `-7` quickly instead of hanging Click's request.
    ///
    /// # Errors
    ///
    /// The URL is invalid or the database unreachable.
    pub async fn connect(url: &str, hooks: H) -> Result<Self, sqlx::Error> {
        Self::connect_sized(url, hooks, crate::POOL_SIZE).await
    }

    /// [`connect`](Self::connect), with a pool of at most `max_connections` connections: about
    /// as many as the callbacks one process serves at once, within the database's own limit
    /// shared by every instance.
    ///
    /// # Errors
    ///
    /// The URL is invalid or the database unreachable.
    pub async fn connect_sized(
        url: &str,
        hooks: H,
        max_connections: u32,
    ) -> Result<Self, sqlx::Error> {
        let pool = sqlx::pool::PoolOptions::<D>::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            // No ping before each use: it costs a round trip per acquire (two per payment). A
            // connection broken meanwhile fails its one callback with -7, and Click retries.
            .test_before_acquire(false);
        Ok(Self::new(D::connect(url, pool).await?, hooks))
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
        Ok(SqlSteps {
            unit: Unit::Transaction(tx),
        })
    }

    /// A unit in autocommit, for a Prepare whose hooks reserve nothing: its one write commits by
    /// itself.
    async fn autocommit(&self) -> Result<SqlSteps<D>, StoreError> {
        let conn = self.pool.acquire().await.map_err(backend)?;
        Ok(SqlSteps {
            unit: Unit::Autocommit(conn),
        })
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

/// How many times in all [`retry_conflicts`] runs a transition.
const TRIES: u32 = 5;

/// Runs a transition again (up to [`TRIES`] times in all) when the database aborted it as a
/// deadlock or serialization failure: the transaction rolled back whole, so trying again is safe.
/// Such aborts happen under contention, e.g. MySQL's three-way duplicate-insert deadlock; each
/// try waits a random pause first ([`backoff`]), so that the transactions that met do not meet
/// again in step.
async fn retry_conflicts<T, F, Fut>(mut attempt: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if tries < TRIES && is_conflict(&error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "transaction aborted by a conflict; trying again"
                );
                tokio::time::sleep(backoff(tries)).await;
                tries += 1;
            }
            result => return result,
        }
    }
}

/// A random pause of up to 5 ms per try made so far.
fn backoff(tries: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // Each `RandomState` is keyed afresh: its empty hash is a new random number.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_micros(random % (5_000 * u64::from(tries)))
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
        let binds = binds::prepared_attempt(service_id, click_trans_id, merchant_trans_id);
        Ok(self
            .read(D::SQL.select_prepared_attempt, &binds)
            .await?
            .pop())
    }

    async fn transaction(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = [Bind::Int(merchant_prepare_id.get())];
        Ok(self.read(D::SQL.select_transaction, &binds).await?.pop())
    }

    async fn charge(
        &self,
        telegram_payment_charge_id: &str,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = [Bind::Text(telegram_payment_charge_id)];
        Ok(self.read(D::SQL.select_charge, &binds).await?.pop())
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

    async fn prepare(&self, attempt: Attempt) -> Result<Prepared, StoreError> {
        let reserves = OrderHooks::<D::Connection>::reserves_orders(&self.hooks);
        retry_conflicts(|| async {
            let steps = if reserves {
                self.begin().await?
            } else {
                self.autocommit().await?
            };
            transition::prepare(steps, &self.hooks, attempt.clone()).await
        })
        .await
    }

    async fn complete(
        &self,
        merchant_prepare_id: MerchantPrepareId,
        to: Outcome,
        expected: Option<&Expected>,
    ) -> Result<Transition, StoreError> {
        retry_conflicts(|| async {
            let steps = self.begin().await?;
            transition::complete(steps, &self.hooks, merchant_prepare_id, to, expected).await
        })
        .await
    }

    async fn receive_charge(&self, new: NewCharge) -> Result<Transaction, StoreError> {
        retry_conflicts(|| async { transition::receive_charge(self.begin().await?, &new).await })
            .await
    }

    async fn deliver_charge(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Transition, StoreError> {
        retry_conflicts(|| async {
            let steps = self.begin().await?;
            transition::deliver_charge(steps, &self.hooks, merchant_prepare_id).await
        })
        .await
    }

    async fn received_charges(&self) -> Result<Vec<Transaction>, StoreError> {
        let binds = binds::in_state(TransactionState::Received);
        self.read(D::SQL.select_in_state, &binds).await
    }
}

/// One transition's unit of work.
pub(crate) struct SqlSteps<D: Database> {
    unit: Unit<D>,
}

enum Unit<D: Database> {
    /// A database transaction.
    Transaction(sqlx::Transaction<'static, D>),
    /// A connection in autocommit: each statement commits by itself.
    Autocommit(sqlx::pool::PoolConnection<D>),
}

impl<D: Database> SqlSteps<D> {
    fn conn(&mut self) -> &mut D::Connection {
        match &mut self.unit {
            Unit::Transaction(tx) => tx,
            Unit::Autocommit(conn) => conn,
        }
    }

    async fn select(
        &mut self,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<Transaction>, StoreError> {
        Ok(transactions(D::rows(self.conn(), sql, binds).await)?.pop())
    }

    /// The prepared attempt of the same payment, which a concurrent Prepare committed first.
    async fn existing_attempt(
        &mut self,
        new: &NewPrepare,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds =
            binds::prepared_attempt(new.service_id, new.click_trans_id, &new.merchant_trans_id);
        self.select(D::SQL.select_prepared_attempt_latest, &binds)
            .await
    }
}

impl<D: Database> Steps for SqlSteps<D> {
    type Cx = D::Connection;

    fn cx(&mut self) -> &mut D::Connection {
        self.conn()
    }

    async fn order_paid(
        &mut self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<bool, StoreError> {
        let binds = binds::paid_order(service_id, merchant_trans_id);
        let paid = D::integer(self.conn(), D::SQL.select_paid_order, &binds)
            .await
            .map_err(backend)?;
        Ok(paid.is_some())
    }

    async fn insert_attempt(&mut self, new: &NewPrepare) -> Result<Inserted, StoreError> {
        let binds = binds::insert_transaction(new);
        let inserted = D::insert(self.conn(), D::SQL.insert_transaction, &binds)
            .await
            .map_err(backend)?;
        if let Some(id) = inserted {
            return Ok(Inserted::New(MerchantPrepareId::new(id)));
        }
        self.existing_attempt(new)
            .await?
            .map(Inserted::Existing)
            .ok_or(StoreError::Raced(new.click_trans_id))
    }

    async fn insert_unless_paid(
        &mut self,
        new: &NewPrepare,
    ) -> Result<Option<Inserted>, StoreError> {
        let Some(sql) = D::SQL.insert_unless_paid else {
            return transition::insert_unless_paid_by_steps(self, new).await;
        };
        let binds = binds::insert_unless_paid(new);
        let inserted = D::insert(self.conn(), sql, &binds).await.map_err(backend)?;
        if let Some(id) = inserted {
            return Ok(Some(Inserted::New(MerchantPrepareId::new(id))));
        }
        // Refused: by the unique index (a concurrent Prepare of the same payment committed
        // first), or because the order is paid.
        if let Some(existing) = self.existing_attempt(new).await? {
            return Ok(Some(Inserted::Existing(existing)));
        }
        if new.kind == PaymentKind::Order
            && self
                .order_paid(new.service_id, &new.merchant_trans_id)
                .await?
        {
            return Ok(None);
        }
        Err(StoreError::Raced(new.click_trans_id))
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
        let moved = D::execute(self.conn(), D::SQL.update_state, &binds)
            .await
            .map_err(backend)?;
        if moved == 0 {
            return Ok(None);
        }
        self.transaction(merchant_prepare_id).await
    }

    async fn confirm(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<(Transaction, bool)>, StoreError> {
        let Some(sql) = D::SQL.confirm else {
            return transition::confirm_by_steps(self, merchant_prepare_id).await;
        };
        let binds = binds::confirm(merchant_prepare_id);
        let Some(row) = D::confirmed(self.conn(), sql, &binds)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        Ok(Some((Transaction::try_from(row.transaction)?, row.holds)))
    }

    async fn transaction(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = [Bind::Int(merchant_prepare_id.get())];
        self.select(D::SQL.select_transaction, &binds).await
    }

    async fn insert_charge(&mut self, new: &NewCharge) -> Result<Option<Transaction>, StoreError> {
        let row = new.clone().recorded(MerchantPrepareId::new(0));
        let inserted = D::insert(
            self.conn(),
            D::SQL.insert_charge,
            &binds::insert_charge(&row),
        )
        .await
        .map_err(backend)?;
        Ok(inserted.map(|id| Transaction {
            merchant_prepare_id: MerchantPrepareId::new(id),
            ..row
        }))
    }

    async fn charge(
        &mut self,
        telegram_payment_charge_id: &str,
    ) -> Result<Option<Transaction>, StoreError> {
        let binds = [Bind::Text(telegram_payment_charge_id)];
        self.select(D::SQL.select_charge, &binds).await
    }

    async fn claim_order(&mut self, transaction: &Transaction) -> Result<bool, StoreError> {
        let binds = binds::claim_order(transaction);
        match D::execute(self.conn(), D::SQL.claim_order, &binds).await {
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
        D::execute(self.conn(), D::SQL.insert_task, &binds)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn still_in(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
        state: TransactionState,
        task: Option<TaskKind>,
    ) -> Result<bool, StoreError> {
        if let (Some(sql), Some(kind)) = (D::SQL.insert_task_if_in, task) {
            let binds = binds::insert_task_if_in(kind, merchant_prepare_id, state);
            // An aborted transaction fails the statement; a rolled-back one inserts nothing.
            let inserted = D::execute(self.conn(), sql, &binds)
                .await
                .map_err(backend)?;
            if inserted == 1 {
                return Ok(true);
            }
        }
        // No task asked for, or none inserted: the transaction left `state`, or had the task.
        transition::still_in_by_steps(self, merchant_prepare_id, state, task).await
    }

    async fn restart(&mut self) -> Result<(), StoreError> {
        match &mut self.unit {
            Unit::Transaction(tx) => D::script(tx, D::SQL.restart).await.map_err(backend),
            Unit::Autocommit(_) => Err(StoreError::backend(
                "a unit in autocommit has nothing to undo: only a Prepare whose hooks reserve \
                 nothing runs in one",
            )),
        }
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self.unit {
            Unit::Transaction(tx) => tx.commit().await.map_err(backend),
            Unit::Autocommit(_) => Ok(()),
        }
    }

    async fn rollback(self) -> Result<(), StoreError> {
        match self.unit {
            Unit::Transaction(tx) => tx.rollback().await.map_err(backend),
            // Nothing was written: a Prepare rolls back only when it inserted nothing.
            Unit::Autocommit(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    /// The pauses before a retry stay under their bound and differ from one to the next.
    #[test]
    fn backoff_is_bounded_and_random() {
        let pauses: Vec<Duration> = (0..20).map(|_| super::backoff(2)).collect();
        assert!(
            pauses
                .iter()
                .all(|pause| *pause < Duration::from_millis(10))
        );
        assert!(pauses.iter().any(|pause| *pause != pauses[0]), "{pauses:?}");
    }
}
