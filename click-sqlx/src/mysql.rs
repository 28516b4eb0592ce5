//! [`MySqlStore`]: MySQL and MariaDB.

use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};

crate::store::sql_store!(
    /// Click's transactions in MySQL or MariaDB (InnoDB); hooks receive the open
    /// `MySqlConnection`.
    ///
    /// Concurrency rests on InnoDB row locks: the conditional `UPDATE … WHERE state = 0` is a
    /// locking read of the current row version even under `REPEATABLE READ`, so of concurrent
    /// Completes of one transaction only the first matches; concurrent confirms of one order queue
    /// on the `click_paid_orders` primary key, and `INSERT IGNORE` lets only the first one claim
    /// it. `merchant_trans_id` is stored as `VARBINARY(255)`: compared byte for byte, with no case
    /// folding or trailing-space padding from a collation.
    MySqlStore,
    sqlx::MySql,
    sqlx::MySqlPool,
    sqlx::MySqlConnection,
    crate::sql::QUESTION,
    crate::schema::MYSQL,
    "BEGIN",
    "migrations/mysql"
);

impl<H> MySqlStore<H> {
    /// Connects a pool with settings fit for callbacks: no ping before each use, a 5-second acquire
    /// timeout and a 5-second `innodb_lock_wait_timeout`, so a database outage or a hook holding a
    /// lock answers `-7` quickly instead of hanging Click's request.
    ///
    /// # Errors
    ///
    /// The URL is invalid or the database unreachable.
    pub async fn connect(url: &str, hooks: H) -> Result<Self, sqlx::Error> {
        let options: MySqlConnectOptions = url.parse()?;
        let pool = MySqlPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            // No ping before each use: it costs a round trip per acquire (four per payment). A
            // connection broken meanwhile fails its one callback with -7, and Click retries.
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(conn, "SET SESSION innodb_lock_wait_timeout = 5")
                        .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self::new(pool, hooks))
    }
}
