//! [`SqliteStore`]: SQLite, on one writer thread with group commit.

mod migrations;
mod steps;
mod worker;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use click_core::outbox::{Claim, Outbox, Task, TaskCounts, TaskFilter, TaskUpdate};
use click_core::transition;
use click_core::{
    Attempt, ClickPaydocId, ClickTransId, Expected, MerchantPrepareId, MerchantTransId, NewCharge,
    Order, OrderHooks, OrderStore, Outcome, Prepared, ServiceId, StoreError, Transaction,
    TransactionState, Transition,
};
use rusqlite::{Connection, OpenFlags};

use steps::SqliteSteps;
use worker::{Mode, Work, Worker};

/// How long a write waits for another process's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Switches the database to WAL mode. Two connections switching a new file at once can deadlock on
/// the lock upgrade, which SQLite resolves by failing one at once, without its busy handler: that
/// one tries again, for up to the busy timeout.
fn use_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(error, _))
                if error.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            result => return result,
        }
    }
}

/// Click's transactions in SQLite; hooks receive the store's `rusqlite::Connection`, inside its
/// open write transaction.
///
/// SQLite has one writer at a time, so the store does all its writes on one thread that owns the
/// write connection, and commits in groups: the thread takes every transition waiting, runs each in
/// its own savepoint inside one `BEGIN IMMEDIATE` transaction, commits once, and answers only after
/// the commit. A failed callback rolls back to its savepoint alone; a failed commit answers every
/// callback of the group `-7`, and none of them changed anything. With [`open`](Self::open)'s
/// `synchronous = FULL`, an answer is sent only once its transaction is on disk, and one fsync
/// covers the whole group (see BENCHMARKS.md for the throughput).
///
/// Lookups outside a transition (an order for a Telegram pre-checkout, the transactions of a
/// `click_trans_id`) run on a second thread, on a read-only connection that sees the last
/// committed state, so they never wait for a commit. A Prepare asks its order on the writer, in
/// its own transition.
///
/// Several processes may open the same file: `BEGIN IMMEDIATE` takes SQLite's write lock, so their
/// transitions are serialized too, waiting up to the busy timeout (5 s with `open`; a callback
/// that waits longer answers `-7`). A callback that gets no answer from the store's thread within
/// 5 s (a slow hook, a slow disk) answers `-7`: if its transition had not started it never will,
/// and if it was inside a hook, the hook is stopped and the transition rolled back.
///
/// # Hooks
///
/// Hooks implement `OrderHooks<rusqlite::Connection>`. `reserve`, `deliver` and `release` run on
/// the writer thread, on the open transaction: write your own tables with the connection as it is
/// (use `savepoint()`, not `transaction()`, to nest). So does `find` for a Prepare; for a lookup
/// outside a transition it runs on the reader's read-only connection (or on the writer for a
/// store made by [`from_connection`](Self::from_connection)).
/// Every other transition waits while a hook runs, so keep hooks quick, and never call the store
/// from inside a hook (it would wait for itself). An async hook is driven on the store's thread by
/// the runtime the store was opened in; if its caller stops waiting meanwhile (a dropped request,
/// the 5-second limit), the hook is stopped and the callback's writes roll back. A hook must not
/// end the transaction (`COMMIT`, `ROLLBACK`): the group it belongs to would answer `-7`, though
/// what it committed would stay, and Click's retries would find it done.
///
/// ```no_run
/// use async_trait::async_trait;
/// use click_core::{BoxError, Keyring, MerchantTransId, Order, OrderHooks, ServiceId, Shop, Transaction};
/// use click_sqlx::SqliteStore;
/// use rusqlite::{Connection, OptionalExtension};
///
/// /// The shop's own table: `CREATE TABLE orders (id TEXT PRIMARY KEY, total_tiyin INTEGER, status TEXT)`.
/// struct Orders;
///
/// #[async_trait]
/// impl OrderHooks<Connection> for Orders {
///     async fn find(&self, db: &mut Connection, _: ServiceId, id: &MerchantTransId) -> Result<Option<Order>, BoxError> {
///         let row: Option<(u64, String)> = db
///             .prepare_cached("SELECT total_tiyin, status FROM orders WHERE id = ?1")?
///             .query_row([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
///             .optional()?;
///         let Some((total, status)) = row else { return Ok(None) };
///         Ok(Some(match status.as_str() {
///             "paid" => Order::Paid,
///             "cancelled" => Order::Closed,
///             _ => Order::Payable { amount: click_core::Amount::from_tiyin(click_core::Tiyin(total))? },
///         }))
///     }
///
///     /// Runs inside the store's transaction: the order is marked paid if and only if the
///     /// payment is confirmed.
///     async fn deliver(&self, db: &mut Connection, payment: &Transaction) -> Result<(), BoxError> {
///         db.prepare_cached("UPDATE orders SET status = 'paid' WHERE id = ?1")?
///             .execute([payment.merchant_trans_id.as_str()])?;
///         Ok(())
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = SqliteStore::open("shop.sqlite3", Orders).await?;
/// store.migrate().await?;
/// store
///     .call(|db| db.execute_batch("CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, total_tiyin INTEGER, status TEXT)"))
///     .await?;
/// let shop = Shop::new(Keyring::new(), store);
/// # Ok(()) }
/// ```
pub struct SqliteStore<H> {
    writer: Worker<H>,
    /// The lookups' thread; `None` for a caller's connection, whose database may be in memory.
    reader: Option<Worker<H>>,
    hooks: Arc<H>,
}

impl<H: OrderHooks<Connection>> SqliteStore<H> {
    /// Opens (or creates) a database file in WAL mode with `synchronous = FULL` (an answer is
    /// durable before it is sent), a 5-second busy timeout and foreign keys on. Call
    /// [`migrate`](Self::migrate) once before use.
    ///
    /// # Errors
    ///
    /// The file cannot be opened or configured, or no tokio runtime is running.
    pub async fn open(path: impl AsRef<Path>, hooks: H) -> Result<Self, StoreError> {
        Self::open_with(path, hooks, |_| Ok(())).await
    }

    /// [`open`](Self::open), then `configure` on the write connection: another busy timeout, or
    /// `synchronous = NORMAL` (durable across a crash of the process, not of the machine; see
    /// BENCHMARKS.md for what it buys).
    ///
    /// ```no_run
    /// # async fn run(hooks: click_core::MemoryOrders) -> Result<(), click_core::StoreError> {
    /// let store = click_sqlx::SqliteStore::open_with("shop.sqlite3", hooks, |db| {
    ///     db.pragma_update(None, "synchronous", "NORMAL")
    /// })
    /// .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The file cannot be opened or configured, the path names an in-memory database (use
    /// [`from_connection`](Self::from_connection)), or no tokio runtime is running.
    pub async fn open_with(
        path: impl AsRef<Path>,
        hooks: H,
        configure: impl FnOnce(&Connection) -> rusqlite::Result<()> + Send + 'static,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_owned();
        let name = path.to_string_lossy();
        if name == ":memory:" || name.contains("mode=memory") {
            // The reader would open a second, empty database.
            return Err(StoreError::backend(
                "an in-memory database needs SqliteStore::from_connection",
            ));
        }
        let read_path = path.clone();
        let mut store = Self::start(
            move || {
                let conn = Connection::open(path)?;
                conn.busy_timeout(BUSY_TIMEOUT)?;
                use_wal(&conn)?;
                conn.pragma_update(None, "synchronous", "FULL")?;
                conn.pragma_update(None, "foreign_keys", true)?;
                configure(&conn)?;
                Ok(conn)
            },
            hooks,
        )
        .await?;
        let reader = Worker::start(
            "click-sqlite-reader",
            Mode::Read,
            move || {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(read_path, flags)?;
                conn.busy_timeout(BUSY_TIMEOUT)?;
                conn.set_prepared_statement_cache_capacity(64);
                Ok(conn)
            },
            Arc::clone(&store.hooks),
        )
        .await?;
        store.reader = Some(reader);
        Ok(store)
    }

    /// A store on a connection configured by the caller: an in-memory database, another busy
    /// timeout or journal mode. Call [`migrate`](Self::migrate) once before use.
    ///
    /// # Errors
    ///
    /// The writer thread could not start, or no tokio runtime is running.
    pub async fn from_connection(conn: Connection, hooks: H) -> Result<Self, StoreError> {
        Self::start(move || Ok(conn), hooks).await
    }

    async fn start(
        open: impl FnOnce() -> rusqlite::Result<Connection> + Send + 'static,
        hooks: H,
    ) -> Result<Self, StoreError> {
        let hooks = Arc::new(hooks);
        let writer = Worker::start(
            "click-sqlite-writer",
            Mode::Write,
            move || {
                let conn = open()?;
                conn.set_prepared_statement_cache_capacity(64);
                Ok(conn)
            },
            Arc::clone(&hooks),
        )
        .await?;
        Ok(Self {
            writer,
            reader: None,
            hooks,
        })
    }

    /// Runs a lookup on the reader, or on the writer when there is none.
    async fn look_up<T: Send + 'static>(&self, work: Work<H, T>) -> Result<T, StoreError> {
        self.reader
            .as_ref()
            .unwrap_or(&self.writer)
            .call(work)
            .await
    }

    /// The hooks.
    pub fn hooks(&self) -> &H {
        &self.hooks
    }

    /// Creates or upgrades the tables (`click_transactions`, `click_paid_orders`), tracked in
    /// `click_migrations`. Safe to call at every start, from several processes at once.
    ///
    /// # Errors
    ///
    /// The database refused a statement, or a migration applied earlier was edited since.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.writer
            .call(Box::new(|conn, _, _| migrations::migrate(conn)))
            .await
    }

    /// Runs `work` on the store's connection, inside the writer's transaction, and returns once
    /// it is committed: create the shop's own tables, or read and write them outside a callback.
    /// An error rolls back `work`'s writes alone.
    ///
    /// # Errors
    ///
    /// `work` failed, or the commit did.
    pub async fn call<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer
            .call(Box::new(move |conn, _, _| {
                work(conn).map_err(StoreError::backend)
            }))
            .await
    }
}

#[async_trait]
impl<H: OrderHooks<Connection>> OrderStore for SqliteStore<H> {
    async fn order(
        &self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Order>, StoreError> {
        let merchant_trans_id = merchant_trans_id.clone();
        self.look_up(Box::new(move |conn, hooks, waiter| {
            steps::order(conn, hooks, waiter, service_id, &merchant_trans_id)
        }))
        .await
    }

    async fn prepared_attempt(
        &self,
        service_id: ServiceId,
        click_trans_id: ClickTransId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<Option<Transaction>, StoreError> {
        let merchant_trans_id = merchant_trans_id.clone();
        self.look_up(Box::new(move |conn, _, _| {
            steps::prepared_attempt(conn, service_id, click_trans_id, &merchant_trans_id)
        }))
        .await
    }

    async fn transaction(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        self.look_up(Box::new(move |conn, _, _| {
            steps::transaction(conn, merchant_prepare_id)
        }))
        .await
    }

    async fn charge(
        &self,
        telegram_payment_charge_id: &str,
    ) -> Result<Option<Transaction>, StoreError> {
        let id = telegram_payment_charge_id.to_owned();
        self.look_up(Box::new(move |conn, _, _| steps::charge(conn, &id)))
            .await
    }

    async fn transactions_of(
        &self,
        click_trans_id: ClickTransId,
    ) -> Result<Vec<Transaction>, StoreError> {
        self.look_up(Box::new(move |conn, _, _| {
            steps::transactions_of(conn, click_trans_id)
        }))
        .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        // The writer answers every callback's transition: it is the one that must be alive.
        self.writer
            .call(Box::new(|conn, _, _| {
                conn.query_row("SELECT 1", [], |_| Ok(()))
                    .map_err(StoreError::backend)
            }))
            .await
    }

    async fn prepare(&self, attempt: Attempt) -> Result<Prepared, StoreError> {
        self.writer
            .call(Box::new(move |conn, hooks, waiter| {
                waiter.wait(async move {
                    transition::prepare(SqliteSteps::begin(conn)?, hooks, attempt).await
                })?
            }))
            .await
    }

    async fn complete(
        &self,
        merchant_prepare_id: MerchantPrepareId,
        to: Outcome,
        expected: Option<&Expected>,
    ) -> Result<Transition, StoreError> {
        let expected = expected.cloned();
        self.writer
            .call(Box::new(move |conn, hooks, waiter| {
                waiter.wait(async move {
                    let steps = SqliteSteps::begin(conn)?;
                    let expected = expected.as_ref();
                    transition::complete(steps, hooks, merchant_prepare_id, to, expected).await
                })?
            }))
            .await
    }

    async fn receive_charge(&self, new: NewCharge) -> Result<Transaction, StoreError> {
        self.writer
            .call(Box::new(move |conn, _, waiter| {
                waiter.wait(async move {
                    transition::receive_charge(SqliteSteps::begin(conn)?, &new).await
                })?
            }))
            .await
    }

    async fn deliver_charge(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Transition, StoreError> {
        self.writer
            .call(Box::new(move |conn, hooks, waiter| {
                waiter.wait(async move {
                    let steps = SqliteSteps::begin(conn)?;
                    transition::deliver_charge(steps, hooks, merchant_prepare_id).await
                })?
            }))
            .await
    }

    async fn received_charges(&self) -> Result<Vec<Transaction>, StoreError> {
        self.look_up(Box::new(move |conn, _, _| {
            steps::in_state(conn, TransactionState::Received)
        }))
        .await
    }
}

#[async_trait]
impl<H: OrderHooks<Connection>> Outbox for SqliteStore<H> {
    async fn claim(
        &self,
        now: SystemTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        self.writer
            .call(Box::new(move |conn, _, _| {
                steps::claim(conn, now, lease, limit)
            }))
            .await
    }

    async fn update(&self, claim: &Claim, update: TaskUpdate) -> Result<bool, StoreError> {
        let claim = claim.clone();
        self.writer
            .call(Box::new(move |conn, _, _| {
                steps::update_task(conn, &claim, &update)
            }))
            .await
    }

    async fn approve_reversal(
        &self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<bool, StoreError> {
        self.writer
            .call(Box::new(move |conn, _, _| {
                steps::approve_reversal(conn, merchant_prepare_id)
            }))
            .await
    }

    async fn schedule_expiry(&self, prepared_before: SystemTime) -> Result<u64, StoreError> {
        self.writer
            .call(Box::new(move |conn, _, _| {
                steps::schedule_expiry(conn, prepared_before)
            }))
            .await
    }

    async fn paydoc_debited(
        &self,
        service_id: ServiceId,
        click_paydoc_id: ClickPaydocId,
        except: MerchantPrepareId,
    ) -> Result<bool, StoreError> {
        self.look_up(Box::new(move |conn, _, _| {
            steps::paydoc_debited(conn, service_id, click_paydoc_id, except)
        }))
        .await
    }

    async fn tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
        self.look_up(Box::new(move |conn, _, _| steps::list_tasks(conn, filter)))
            .await
    }

    async fn task_counts(&self) -> Result<TaskCounts, StoreError> {
        self.look_up(Box::new(|conn, _, _| steps::task_counts(conn)))
            .await
    }

    async fn open_task_counts(&self) -> Result<TaskCounts, StoreError> {
        self.look_up(Box::new(|conn, _, _| steps::open_task_counts(conn)))
            .await
    }

    async fn reversals_due(&self) -> Result<Vec<Transaction>, StoreError> {
        self.look_up(Box::new(|conn, _, _| steps::reversals_due(conn)))
            .await
    }
}
