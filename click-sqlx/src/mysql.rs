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
    /// on the `click_paid_orders` primary key, and its duplicate-key error lets only the first one
    /// claim it. `merchant_trans_id` is stored as `VARBINARY(255)`: compared byte for byte, with no case
    /// folding or trailing-space padding from a collation.
    MySqlStore,
    sqlx::MySql,
    sqlx::MySqlPool,
    sqlx::MySqlConnection,
    crate::sql::QUESTION,
    crate::schema::MYSQL,
    "BEGIN",
    "migrations/mysql",
    dialect
);

/// The steps whose shape is MySQL's own: no `RETURNING`, so the id comes from
/// `LAST_INSERT_ID()` and the moved row is read back.
mod dialect {
    use click_core::ClickTransId;
    use sqlx::mysql::MySqlArguments;
    use sqlx::query::Query;
    use sqlx::{MySql, MySqlConnection};

    use crate::row::TransactionRow;

    /// The new `merchant_prepare_id`; `None` when a concurrent Prepare's row holds the
    /// `click_trans_id` (a duplicate key, which leaves the transaction usable).
    pub(super) async fn inserted(
        conn: &mut MySqlConnection,
        insert: Query<'_, MySql, MySqlArguments>,
    ) -> Result<Option<i64>, sqlx::Error> {
        match insert.execute(conn).await {
            Ok(done) => i64::try_from(done.last_insert_id())
                .map(Some)
                .map_err(|error| sqlx::Error::Decode(Box::new(error))),
            Err(error) if crate::store::is_unique_violation(&error) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The updated row, read back under the update's row lock; `None` when no prepared row
    /// matched.
    pub(super) async fn moved(
        conn: &mut MySqlConnection,
        update: Query<'_, MySql, MySqlArguments>,
        click_trans_id: ClickTransId,
    ) -> Result<Option<TransactionRow>, sqlx::Error> {
        if update.execute(&mut *conn).await?.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query_as(crate::sql::QUESTION.select_transaction)
            .bind(click_trans_id.get())
            .fetch_optional(conn)
            .await
    }
}

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
