//! Fresh databases for tests, and `TableOrders`: hooks over a real `orders` table.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use click_core::{
    Amount, BoxError, MerchantTransId, Order, OrderHooks, ServiceId, Tiyin, Transaction,
};
use click_sqlx::{MySqlStore, PgStore, SqliteStore};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, Executor, MySqlConnection, PgConnection, Row};

pub(crate) const POSTGRES_URL: &str = "CLICK_TEST_POSTGRES_URL";
pub(crate) const MYSQL_URL: &str = "CLICK_TEST_MYSQL_URL";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// `click_t_<unix seconds>_<pid>_<n>`: unique, and old ones can be recognised and dropped.
fn unique_name() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("click_t_{now}_{}_{n}", std::process::id())
}

/// Whether a test schema or database name is from a run that started over an hour ago.
fn stale(name: &str) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    name.strip_prefix("click_t_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|secs| secs.parse::<u64>().ok())
        .is_some_and(|created| now.saturating_sub(created) > 3600)
}

fn env(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} is set for database tests"))
}

/// A pool on a fresh PostgreSQL schema.
pub(crate) async fn postgres_pool(connections: u32) -> (sqlx::PgPool, String) {
    let url = env(POSTGRES_URL);
    let mut admin = PgConnection::connect(&url)
        .await
        .expect("PostgreSQL is reachable");
    let old: Vec<String> =
        sqlx::query_scalar("SELECT nspname::TEXT FROM pg_namespace WHERE nspname LIKE 'click_t_%'")
            .fetch_all(&mut admin)
            .await
            .expect("schemas are listed");
    for schema in old.into_iter().filter(|s| stale(s)) {
        admin
            .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
            .await
            .ok();
    }
    let schema = unique_name();
    admin
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .expect("schema is created");
    (postgres_pool_on(&schema, connections).await, schema)
}

/// Another pool on an existing schema (another "app instance").
pub(crate) async fn postgres_pool_on(schema: &str, connections: u32) -> sqlx::PgPool {
    let options: PgConnectOptions = env(POSTGRES_URL).parse().expect("a valid URL");
    PgPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.options([("search_path", schema)]))
        .await
        .expect("the pool connects")
}

/// A pool on a fresh MySQL/MariaDB database.
pub(crate) async fn mysql_pool(connections: u32) -> (sqlx::MySqlPool, String) {
    let url = env(MYSQL_URL);
    let mut admin = MySqlConnection::connect(&url)
        .await
        .expect("MySQL is reachable");
    let old: Vec<String> = sqlx::query_scalar(
        "SELECT CONVERT(schema_name USING utf8mb4) FROM information_schema.schemata WHERE schema_name LIKE 'click\\_t\\_%'",
    )
    .fetch_all(&mut admin)
    .await
    .expect("databases are listed");
    for database in old.into_iter().filter(|d| stale(d)) {
        admin
            .execute(format!("DROP DATABASE IF EXISTS {database}").as_str())
            .await
            .ok();
    }
    let database = unique_name();
    admin
        .execute(format!("CREATE DATABASE {database}").as_str())
        .await
        .expect("database is created");
    (mysql_pool_on(&database, connections).await, database)
}

/// Another pool on an existing database (another "app instance").
pub(crate) async fn mysql_pool_on(database: &str, connections: u32) -> sqlx::MySqlPool {
    let options: MySqlConnectOptions = env(MYSQL_URL).parse().expect("a valid URL");
    MySqlPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.database(database))
        .await
        .expect("the pool connects")
}

/// A fresh SQLite file.
pub(crate) fn sqlite_path() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("{}.sqlite3", unique_name()))
}

pub(crate) async fn postgres<H: OrderHooks<PgConnection>>(hooks: H) -> PgStore<H> {
    let (pool, _) = postgres_pool(4).await;
    let store = PgStore::new(pool, hooks);
    store.migrate().await.expect("migrations apply");
    store
}

pub(crate) async fn mysql<H: OrderHooks<MySqlConnection>>(hooks: H) -> MySqlStore<H> {
    let (pool, _) = mysql_pool(4).await;
    let store = MySqlStore::new(pool, hooks);
    store.migrate().await.expect("migrations apply");
    store
}

pub(crate) async fn sqlite<H: OrderHooks<rusqlite::Connection>>(hooks: H) -> SqliteStore<H> {
    let store = SqliteStore::open(sqlite_path(), hooks)
        .await
        .expect("SQLite opens");
    store.migrate().await.expect("migrations apply");
    store
}

/// A migrated store on an existing PostgreSQL schema, with its own pool.
pub(crate) async fn open_postgres<H: OrderHooks<PgConnection>>(
    schema: &str,
    hooks: H,
    connections: u32,
) -> PgStore<H> {
    let store = PgStore::new(postgres_pool_on(schema, connections).await, hooks);
    store.migrate().await.expect("migrations apply");
    store
}

/// A migrated store on an existing MySQL database, with its own pool.
pub(crate) async fn open_mysql<H: OrderHooks<MySqlConnection>>(
    database: &str,
    hooks: H,
    connections: u32,
) -> MySqlStore<H> {
    let store = MySqlStore::new(mysql_pool_on(database, connections).await, hooks);
    store.migrate().await.expect("migrations apply");
    store
}

/// A migrated store on an existing SQLite file, with its own writer thread.
pub(crate) async fn open_sqlite<H: OrderHooks<rusqlite::Connection>>(
    path: &std::path::PathBuf,
    hooks: H,
    _connections: u32,
) -> SqliteStore<H> {
    let store = SqliteStore::open(path, hooks).await.expect("SQLite opens");
    store.migrate().await.expect("migrations apply");
    store
}

/// The merchant's own table, as a shop would have it.
const ORDERS_TABLE: &str = "CREATE TABLE orders (id VARCHAR(255) PRIMARY KEY, \
                                total_tiyin BIGINT NOT NULL, status VARCHAR(16) NOT NULL)";

/// Two new orders of 1 000 so'm, `o-1` and `o-2`, for [`Inspect::create_orders`].
pub(crate) const TWO_NEW_ORDERS: &str =
    "INSERT INTO orders VALUES ('o-1', 100000, 'new'), ('o-2', 100000, 'new')";

/// Hooks over the `orders` table, run on the store's open transaction.
#[derive(Default)]
pub(crate) struct TableOrders {
    /// Delivery calls that reached their `UPDATE`.
    pub(crate) updates: AtomicUsize,
    /// Fail right after the `UPDATE` (as an out-of-stock check would).
    pub(crate) fail_after_update: AtomicBool,
    /// Hang right after the `UPDATE` (as a process about to crash would).
    pub(crate) hang_after_update: AtomicBool,
    /// Notified when a delivery hangs after its `UPDATE`.
    pub(crate) hung: std::sync::Arc<tokio::sync::Notify>,
}

impl TableOrders {
    async fn after_update(&self) -> Result<(), BoxError> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        if self.hang_after_update.load(Ordering::SeqCst) {
            self.hung.notify_one();
            std::future::pending::<()>().await;
        }
        if self.fail_after_update.load(Ordering::SeqCst) {
            return Err("out of stock".into());
        }
        Ok(())
    }
}

fn order_of(row: Option<(i64, String)>) -> Result<Option<Order>, BoxError> {
    let Some((total, status)) = row else {
        return Ok(None);
    };
    Ok(Some(match status.as_str() {
        "paid" => Order::Paid,
        "cancelled" => Order::Closed,
        _ => Order::Payable {
            amount: Amount::from_tiyin(Tiyin(u64::try_from(total)?))?,
        },
    }))
}

macro_rules! table_orders {
    ($conn:ty, $select:literal, $update:literal) => {
        #[async_trait]
        impl OrderHooks<$conn> for TableOrders {
            async fn find(
                &self,
                db: &mut $conn,
                _: ServiceId,
                id: &MerchantTransId,
            ) -> Result<Option<Order>, BoxError> {
                let row = sqlx::query($select)
                    .bind(id.as_str())
                    .fetch_optional(db)
                    .await?;
                order_of(row.map(|row| (row.get::<i64, _>(0), row.get::<String, _>(1))))
            }

            async fn deliver(&self, db: &mut $conn, payment: &Transaction) -> Result<(), BoxError> {
                sqlx::query($update)
                    .bind(payment.merchant_trans_id.as_str())
                    .execute(db)
                    .await?;
                self.after_update().await
            }
        }
    };
}

table_orders!(
    PgConnection,
    "SELECT total_tiyin, status FROM orders WHERE id = $1",
    "UPDATE orders SET status = 'paid' WHERE id = $1"
);
table_orders!(
    MySqlConnection,
    "SELECT total_tiyin, status FROM orders WHERE id = ?",
    "UPDATE orders SET status = 'paid' WHERE id = ?"
);

#[async_trait]
impl OrderHooks<rusqlite::Connection> for TableOrders {
    async fn find(
        &self,
        db: &mut rusqlite::Connection,
        _: ServiceId,
        id: &MerchantTransId,
    ) -> Result<Option<Order>, BoxError> {
        use rusqlite::OptionalExtension;
        let row = db
            .prepare_cached("SELECT total_tiyin, status FROM orders WHERE id = ?1")?
            .query_row([id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        order_of(row)
    }

    async fn deliver(
        &self,
        db: &mut rusqlite::Connection,
        payment: &Transaction,
    ) -> Result<(), BoxError> {
        db.prepare_cached("UPDATE orders SET status = 'paid' WHERE id = ?1")?
            .execute([payment.merchant_trans_id.as_str()])?;
        self.after_update().await
    }
}

/// A store as the tests look into it: the merchant's `orders` table and the migrations applied.
#[async_trait]
pub(crate) trait Inspect {
    /// Runs a statement outside any callback.
    async fn run(&self, sql: &'static str);
    /// Creates the merchant's `orders` table, then runs `insert` to fill it.
    async fn create_orders(&self, insert: &'static str) {
        self.run(ORDERS_TABLE).await;
        self.run(insert).await;
    }
    /// The status of an order.
    async fn status(&self, id: &'static str) -> String;
    /// How many migrations are recorded.
    async fn migrations(&self) -> i64;
}

macro_rules! inspect_sqlx {
    ($store:ident, $conn:ty, $status:literal) => {
        #[async_trait]
        impl<H: OrderHooks<$conn>> Inspect for $store<H> {
            async fn run(&self, sql: &'static str) {
                self.pool().execute(sql).await.expect("the statement runs");
            }

            async fn status(&self, id: &'static str) -> String {
                sqlx::query_scalar($status)
                    .bind(id)
                    .fetch_one(self.pool())
                    .await
                    .expect("status")
            }

            async fn migrations(&self) -> i64 {
                sqlx::query_scalar("SELECT COUNT(*) FROM click_migrations")
                    .fetch_one(self.pool())
                    .await
                    .expect("counted")
            }
        }
    };
}

inspect_sqlx!(
    PgStore,
    PgConnection,
    "SELECT status FROM orders WHERE id = $1"
);
inspect_sqlx!(
    MySqlStore,
    MySqlConnection,
    "SELECT status FROM orders WHERE id = ?"
);

#[async_trait]
impl<H: OrderHooks<rusqlite::Connection>> Inspect for SqliteStore<H> {
    async fn run(&self, sql: &'static str) {
        self.call(move |db| db.execute_batch(sql))
            .await
            .expect("the statement runs");
    }

    async fn status(&self, id: &'static str) -> String {
        self.call(move |db| {
            db.query_row("SELECT status FROM orders WHERE id = ?1", [id], |row| {
                row.get(0)
            })
        })
        .await
        .expect("status")
    }

    async fn migrations(&self) -> i64 {
        self.call(|db| {
            db.query_row("SELECT COUNT(*) FROM click_migrations", [], |row| {
                row.get(0)
            })
        })
        .await
        .expect("counted")
    }
}

/// Rows as the first release's schema holds them (its `click_paid_orders` points at
/// `click_trans_id`): a prepared attempt of `old-prepared`, a confirmed one that paid `old-paid`,
/// and a cancelled one of `old-cancelled`, with `merchant_prepare_id`s 1, 2 and 3.
const FIRST_SCHEMA_ROWS: &str = "INSERT INTO click_transactions (click_trans_id, service_id, \
     click_paydoc_id, merchant_trans_id, amount_tiyin, kind, state, merchant_confirm_id) VALUES \
     (1, 101, 11, 'old-prepared', 100000, 0, 0, NULL), \
     (2, 101, 12, 'old-paid', 100000, 0, 1, 2), \
     (3, 101, 13, 'old-cancelled', 100000, 0, 2, NULL); \
     INSERT INTO click_paid_orders (service_id, merchant_trans_id, click_trans_id) \
     VALUES (101, 'old-paid', 2)";

/// The first migration of a directory: its SQL, version, description and checksum.
fn first(migrator: &sqlx::migrate::Migrator) -> &sqlx::migrate::Migration {
    migrator.iter().next().expect("a first migration")
}

/// A PostgreSQL schema as the first release left it: migration 1 applied and recorded, with rows.
pub(crate) async fn first_schema_postgres(schema: &str) {
    let pool = postgres_pool_on(schema, 1).await;
    let migration = first(&sqlx::migrate!("migrations/postgres"));
    pool.execute(
        "CREATE TABLE click_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         checksum BYTEA NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .await
    .expect("created");
    pool.execute(&*migration.sql).await.expect("migration 1");
    sqlx::query(
        "INSERT INTO click_migrations (version, description, checksum) VALUES ($1, $2, $3)",
    )
    .bind(migration.version)
    .bind(&*migration.description)
    .bind(&*migration.checksum)
    .execute(&pool)
    .await
    .expect("recorded");
    pool.execute(FIRST_SCHEMA_ROWS).await.expect("rows");
}

/// A MySQL database as the first release left it: migration 1 applied and recorded, with rows.
pub(crate) async fn first_schema_mysql(database: &str) {
    let pool = mysql_pool_on(database, 1).await;
    let migration = first(&sqlx::migrate!("migrations/mysql"));
    pool.execute(
        "CREATE TABLE click_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
         checksum VARBINARY(64) NOT NULL, applied_at TIMESTAMP(6) NOT NULL \
         DEFAULT CURRENT_TIMESTAMP(6)) ENGINE = InnoDB",
    )
    .await
    .expect("created");
    pool.execute(&*migration.sql).await.expect("migration 1");
    sqlx::query("INSERT INTO click_migrations (version, description, checksum) VALUES (?, ?, ?)")
        .bind(migration.version)
        .bind(&*migration.description)
        .bind(&*migration.checksum)
        .execute(&pool)
        .await
        .expect("recorded");
    pool.execute(FIRST_SCHEMA_ROWS).await.expect("rows");
}

/// A SQLite file as the first release left it: migration 1 applied and recorded, with rows.
pub(crate) async fn first_schema_sqlite(path: &std::path::PathBuf) {
    let migration = first(&sqlx::migrate!("migrations/sqlite"));
    let conn = rusqlite::Connection::open(path).expect("opens");
    conn.execute_batch(
        "CREATE TABLE click_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, \
         checksum BLOB NOT NULL, applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    )
    .expect("created");
    conn.execute_batch(&migration.sql).expect("migration 1");
    conn.execute(
        "INSERT INTO click_migrations (version, description, checksum) VALUES (?1, ?2, ?3)",
        rusqlite::params![
            migration.version,
            &*migration.description,
            &*migration.checksum
        ],
    )
    .expect("recorded");
    conn.execute_batch(FIRST_SCHEMA_ROWS).expect("rows");
}
