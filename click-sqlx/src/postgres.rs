//! [`PgStore`]: PostgreSQL.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

crate::store::sql_store!(
    /// Click's transactions in PostgreSQL; hooks receive the open `PgConnection`.
    ///
    /// Concurrency rests on row locks and constraints under the default `READ COMMITTED`
    /// isolation: concurrent Completes of one transaction queue on its row lock in the conditional
    /// `UPDATE … WHERE state = 0`, and the re-checked condition lets only the first one match;
    /// concurrent confirms of one order queue on the `click_paid_orders` primary key, and
    /// `INSERT … ON CONFLICT DO NOTHING` lets only the first one claim it.
    PgStore,
    sqlx::Postgres,
    sqlx::PgPool,
    sqlx::PgConnection,
    crate::sql::DOLLAR,
    crate::schema::POSTGRES,
    "BEGIN",
    "migrations/postgres",
    dialect
);

/// The steps whose shape is PostgreSQL's own: `RETURNING` saves a read after each write.
mod dialect {
    use click_core::ClickTransId;
    use sqlx::postgres::PgArguments;
    use sqlx::query::Query;
    use sqlx::{FromRow, PgConnection, Postgres, Row};

    use crate::row::TransactionRow;

    /// The new `merchant_prepare_id`; `None` when `ON CONFLICT DO NOTHING` met the
    /// `click_trans_id` of a concurrent Prepare, after waiting for it to commit.
    pub(super) async fn inserted(
        conn: &mut PgConnection,
        insert: Query<'_, Postgres, PgArguments>,
    ) -> Result<Option<i64>, sqlx::Error> {
        insert
            .fetch_optional(conn)
            .await?
            .map(|row| row.try_get(0))
            .transpose()
    }

    /// The updated row, or `None` when no prepared row matched.
    pub(super) async fn moved(
        conn: &mut PgConnection,
        update: Query<'_, Postgres, PgArguments>,
        _: ClickTransId,
    ) -> Result<Option<TransactionRow>, sqlx::Error> {
        update
            .fetch_optional(conn)
            .await?
            .map(|row| TransactionRow::from_row(&row))
            .transpose()
    }
}

impl<H> PgStore<H> {
    /// Connects a pool with settings fit for callbacks: no ping before each use, a 5-second acquire
    /// timeout and a 5-second `lock_timeout`, so a database outage or a hook holding a lock answers
    /// `-7` quickly instead of hanging Click's request.
    ///
    /// # Errors
    ///
    /// The URL is invalid or the database unreachable.
    pub async fn connect(url: &str, hooks: H) -> Result<Self, sqlx::Error> {
        let options: PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .acquire_timeout(Duration::from_secs(5))
            // No ping before each use: it costs a round trip per acquire (four per payment). A
            // connection broken meanwhile fails its one callback with -7, and Click retries.
            .test_before_acquire(false)
            .connect_with(options.options([("lock_timeout", "5s")]))
            .await?;
        Ok(Self::new(pool, hooks))
    }
}
