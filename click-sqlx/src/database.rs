//! [`Database`]: the sqlx databases a [`crate::SqlStore`] runs on, and the few calls whose shape
//! differs between them.

use std::future::Future;

use crate::binds::Bind;
use crate::row::{ConfirmedRow, TaskRow, TransactionRow};

/// A database a [`crate::SqlStore`] keeps Click's transactions in: `sqlx::Postgres`
/// ([`crate::PgStore`]) or `sqlx::MySql` ([`crate::MySqlStore`]). Sealed: click-sqlx implements it.
pub trait Database: driver::Driver {}

pub(crate) mod driver {
    use super::{ConfirmedRow, Future, TaskRow, TransactionRow};
    use crate::binds::Bind;

    /// What click-sqlx needs of one database: its statements, and a statement run with binds.
    pub trait Driver: sqlx::Database {
        /// The store's statements.
        const SQL: crate::sql::Sql;
        /// The migration runner's statements.
        const SCHEMA: crate::schema::Schema;

        /// The embedded migrations.
        fn migrator() -> &'static sqlx::migrate::Migrator;

        /// The rows a statement returns.
        fn rows(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Vec<TransactionRow>, sqlx::Error>> + Send;

        /// The row a confirm statement returns, if it moved one.
        fn confirmed(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Option<ConfirmedRow>, sqlx::Error>> + Send;

        /// The task rows a statement returns.
        fn task_rows(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Vec<TaskRow>, sqlx::Error>> + Send;

        /// The rows of three integers a statement returns.
        fn triples(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Vec<(i64, i64, i64)>, sqlx::Error>> + Send;

        /// The first column of every row, as integers.
        fn integers(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Vec<i64>, sqlx::Error>> + Send;

        /// Runs a statement; the number of rows it changed.
        fn execute(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;

        /// Runs an insert into `click_transactions`; the new `merchant_prepare_id`, or `None` when
        /// a unique index refused the row (after waiting for the transaction that holds the key).
        fn insert(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;

        /// The first column of the first row, as an integer, if any row.
        fn integer(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Option<i64>, sqlx::Error>> + Send;

        /// The first column of the first row, as bytes, if any row.
        fn bytes(
            conn: &mut Self::Connection,
            sql: &'static str,
            binds: &[Bind<'_>],
        ) -> impl Future<Output = Result<Option<Vec<u8>>, sqlx::Error>> + Send;

        /// Runs statements without binds (a migration: several statements).
        fn script(
            conn: &mut Self::Connection,
            sql: &str,
        ) -> impl Future<Output = Result<(), sqlx::Error>> + Send;

        /// Opens `pool` on `url`, every connection waiting at most 5 seconds for a row lock.
        fn connect(
            url: &str,
            pool: sqlx::pool::PoolOptions<Self>,
        ) -> impl Future<Output = Result<sqlx::Pool<Self>, sqlx::Error>> + Send;
    }
}

/// A statement with `binds` bound to its placeholders, in order.
pub(crate) fn bound<'q, DB>(
    sql: &'q str,
    binds: &[Bind<'q>],
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    &'q [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    binds
        .iter()
        .fold(sqlx::query(sql), |query, bind| match *bind {
            Bind::Int(value) => query.bind(value),
            Bind::OptionalInt(value) => query.bind(value),
            Bind::Text(value) => query.bind(value),
            Bind::OptionalText(value) => query.bind(value),
            Bind::Bytes(value) => query.bind(value),
        })
}
