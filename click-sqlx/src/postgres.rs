//! [`PgStore`]: PostgreSQL.

use sqlx::postgres::PgConnectOptions;
use sqlx::{Executor, FromRow, PgConnection, Postgres, Row};

use crate::binds::Bind;
use crate::database::driver::Driver;
use crate::database::{Database, bound};
use crate::row::{ConfirmedRow, TaskRow, TransactionRow};

/// Click's transactions in PostgreSQL; hooks receive the open `PgConnection`.
///
/// Concurrency rests on row locks and constraints under the default `READ COMMITTED`
/// isolation: concurrent Completes of one transaction queue on its row lock in the conditional
/// `UPDATE … WHERE state = $4`, and the re-checked condition lets only the first one match;
/// concurrent confirms of one order queue on the `click_paid_orders` primary key, and
/// `INSERT … ON CONFLICT DO NOTHING` lets only the first one claim it; concurrent identical
/// Prepares queue on the partial unique index of prepared attempts the same way.
pub type PgStore<H> = crate::SqlStore<Postgres, H>;

impl Database for Postgres {}

impl Driver for Postgres {
    const SQL: crate::sql::Sql = crate::sql::DOLLAR;
    const SCHEMA: crate::schema::Schema = crate::schema::POSTGRES;

    fn migrator() -> &'static sqlx::migrate::Migrator {
        static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");
        &MIGRATOR
    }

    async fn rows(
        conn: &mut PgConnection,
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
        conn: &mut PgConnection,
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
        conn: &mut PgConnection,
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
        conn: &mut PgConnection,
        sql: &'static str,
    ) -> Result<Vec<(i64, i64, i64)>, sqlx::Error> {
        sqlx::query_as(sql).fetch_all(conn).await
    }

    async fn integers(
        conn: &mut PgConnection,
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
        conn: &mut PgConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<u64, sqlx::Error> {
        Ok(bound(sql, binds).execute(conn).await?.rows_affected())
    }

    /// `ON CONFLICT DO NOTHING RETURNING`: no row when a unique index refused it.
    async fn insert(
        conn: &mut PgConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<i64>, sqlx::Error> {
        Self::integer(conn, sql, binds).await
    }

    async fn integer(
        conn: &mut PgConnection,
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
        conn: &mut PgConnection,
        sql: &'static str,
        binds: &[Bind<'_>],
    ) -> Result<Option<Vec<u8>>, sqlx::Error> {
        bound(sql, binds)
            .fetch_optional(conn)
            .await?
            .map(|row| row.try_get(0))
            .transpose()
    }

    async fn script(conn: &mut PgConnection, sql: &str) -> Result<(), sqlx::Error> {
        conn.execute(sql).await.map(|_| ())
    }

    async fn connect(
        url: &str,
        pool: sqlx::pool::PoolOptions<Postgres>,
    ) -> Result<sqlx::Pool<Postgres>, sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        pool.connect_with(options.options([("lock_timeout", "5s")]))
            .await
    }
}
