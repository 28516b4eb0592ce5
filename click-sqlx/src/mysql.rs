//! [`MySqlStore`]: MySQL and MariaDB.

use sqlx::mysql::MySqlConnectOptions;
use sqlx::{Executor, FromRow, MySql, MySqlConnection, Row};

use crate::binds::Bind;
use crate::database::driver::Driver;
use crate::database::{Database, bound};
use crate::row::{ConfirmedRow, TaskRow, TransactionRow};

/// Click's transactions in MySQL or MariaDB (InnoDB); hooks receive the open
/// `MySqlConnection`.
///
/// Concurrency rests on InnoDB row locks: the conditional `UPDATE … WHERE state = ?` is a
/// locking read of the current row version even under `REPEATABLE READ`, so of concurrent
/// Completes of one transaction only the first matches; concurrent confirms of one order queue
/// on the `click_paid_orders` primary key, and its duplicate-key error lets only the first one
/// claim it; concurrent identical Prepares queue on the unique key of the generated
/// `prepared_click_trans_id` column (`NULL` once an attempt is final). `merchant_trans_id` is
/// stored as `VARBINARY(255)`: compared byte for byte, with no case folding or trailing-space
/// padding from a collation.
pub type MySqlStore<H> = crate::SqlStore<MySql, H>;

impl Database for MySql {}

impl Driver for MySql {
    const SQL: crate::sql::Sql = crate::sql::QUESTION;
    const SCHEMA: crate::schema::Schema = crate::schema::MYSQL;

    fn migrator() -> &'static sqlx::migrate::Migrator {
        static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/mysql");
        &MIGRATOR
    }

    async fn rows(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Vec<TransactionRow>, sqlx::Error> {
        bound(sql, binds)
            .fetch_all(conn)
            .await?
            .iter()
            .map(TransactionRow::from_row)
            .collect()
    }

    async fn confirmed(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<ConfirmedRow>, sqlx::Error> {
        bound(sql, binds)
            .fetch_optional(conn)
            .await?
            .map(|row| ConfirmedRow::from_row(&row))
            .transpose()
    }

    async fn task_rows(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Vec<TaskRow>, sqlx::Error> {
        bound(sql, binds)
            .fetch_all(conn)
            .await?
            .iter()
            .map(TaskRow::from_row)
            .collect()
    }

    async fn triples(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        bound(sql, binds)
            .fetch_all(conn)
            .await?
            .iter()
            .map(<(i64, i64, i64)>::from_row)
            .collect()
    }

    async fn integers(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Vec<i64>, sqlx::Error> {
        bound(sql, binds)
            .fetch_all(conn)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect()
    }

    async fn execute(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<u64, sqlx::Error> {
        Ok(bound(sql, binds).execute(conn).await?.rows_affected())
    }

    /// `LAST_INSERT_ID()`; a duplicate key (which leaves the transaction usable) is `None`.
    async fn insert(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<i64>, sqlx::Error> {
        match bound(sql, binds).execute(conn).await {
            Ok(done) => i64::try_from(done.last_insert_id())
                .map(Some)
                .map_err(|error| sqlx::Error::Decode(Box::new(error))),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn integer(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<i64>, sqlx::Error> {
        bound(sql, binds)
            .fetch_optional(conn)
            .await?
            .map(|row| row.try_get(0))
            .transpose()
    }

    async fn bytes(
        conn: &mut MySqlConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<Vec<u8>>, sqlx::Error> {
        bound(sql, binds)
            .fetch_optional(conn)
            .await?
            .map(|row| row.try_get(0))
            .transpose()
    }

    async fn script(conn: &mut MySqlConnection, sql: &str) -> Result<(), sqlx::Error> {
        conn.execute(sql).await.map(|_| ())
    }

    async fn connect(
        url: &str,
        pool: sqlx::pool::PoolOptions<MySql>,
    ) -> Result<sqlx::Pool<MySql>, sqlx::Error> {
        let options: MySqlConnectOptions = url.parse()?;
        pool.after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, "SET SESSION innodb_lock_wait_timeout = 5").await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
    }
}
