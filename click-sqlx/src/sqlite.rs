//! [`SqliteStore`]: SQLite.

use std::path::Path;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

crate::store::sql_store!(
    /// Click's transactions in SQLite; hooks receive the open `SqliteConnection`.
    ///
    /// SQLite has one writer at a time: every transition opens with `BEGIN IMMEDIATE`, which takes
    /// the write lock up front, so transitions are serialized and a read-then-write transaction
    /// never fails to upgrade its lock. A writer waits up to the connection's `busy_timeout` (5 s
    /// with [`SqliteStore::open`]) and then fails, which answers `-7`.
    SqliteStore,
    sqlx::Sqlite,
    sqlx::SqlitePool,
    sqlx::SqliteConnection,
    crate::sql::DOLLAR,
    crate::schema::SQLITE,
    "BEGIN IMMEDIATE",
    "migrations/sqlite"
);

impl<H> SqliteStore<H> {
    /// Opens (or creates) a database file in WAL mode with a 5-second busy timeout, on a pool of
    /// one connection: SQLite has one writer at a time, and queueing writers in-process (an async
    /// wait for the connection) avoids SQLite's busy handler, whose sleeps made the slowest
    /// callbacks under load take 15 times longer (see BENCHMARKS.md). Open more stores on the
    /// same file for more readers.
    ///
    /// # Errors
    ///
    /// The file cannot be opened or created.
    pub async fn open(path: impl AsRef<Path>, hooks: H) -> Result<Self, sqlx::Error> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await?;
        Ok(Self::new(pool, hooks))
    }
}
