//! Database stores for click-core: Click's transactions in PostgreSQL, MySQL/MariaDB (on sqlx) or
//! SQLite (on rusqlite, with group commit), with the merchant's own order updates committed in the
//! same database transaction.
//!
//! ```no_run
//! use async_trait::async_trait;
//! use click_core::{BoxError, Keyring, MerchantTransId, Order, OrderHooks, ServiceId, Shop, Transaction};
//! use click_sqlx::PgStore;
//! use sqlx::{PgConnection, Row};
//!
//! /// The shop's own table: `CREATE TABLE orders (id TEXT PRIMARY KEY, total NUMERIC(17, 2), status TEXT)`.
//! struct Orders;
//!
//! #[async_trait]
//! impl OrderHooks<PgConnection> for Orders {
//!     async fn find(&self, db: &mut PgConnection, _: ServiceId, id: &MerchantTransId) -> Result<Option<Order>, BoxError> {
//!         let row = sqlx::query("SELECT total::TEXT AS total, status FROM orders WHERE id = $1")
//!             .bind(id.as_str())
//!             .fetch_optional(db)
//!             .await?;
//!         let Some(row) = row else { return Ok(None) };
//!         Ok(Some(match row.get::<&str, _>("status") {
//!             "paid" => Order::Paid,
//!             "cancelled" => Order::Closed,
//!             _ => Order::Payable { amount: row.get::<&str, _>("total").parse()? },
//!         }))
//!     }
//!
//!     /// Runs inside the store's transaction: the order is marked paid if and only if the
//!     /// payment is confirmed.
//!     async fn deliver(&self, db: &mut PgConnection, payment: &Transaction) -> Result<(), BoxError> {
//!         sqlx::query("UPDATE orders SET status = 'paid' WHERE id = $1")
//!             .bind(payment.merchant_trans_id.as_str())
//!             .execute(db)
//!             .await?;
//!         Ok(())
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = PgStore::connect("postgres://postgres@127.0.0.1/shop", Orders).await?;
//! store.migrate().await?;
//! let shop = Shop::new(Keyring::new(), store);
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | store | hooks receive |
//! |---|---|---|
//! | `postgres` (default) | [`PgStore`] | `&mut sqlx::PgConnection` |
//! | `mysql` (default) | [`MySqlStore`] | `&mut sqlx::MySqlConnection` |
//! | `sqlite` (default) | [`SqliteStore`] (on rusqlite, see its page) | `&mut rusqlite::Connection` |
//!
//! A service on SQLite alone compiles no sqlx:
//! `click-sqlx = { version = "0.1", default-features = false, features = ["sqlite"] }`.
//!
//! # Atomicity
//!
//! Every transition of the state machine is one database transaction, and its exactly-once
//! guarantee comes from the database, never from a check-then-write in Rust:
//!
//! - **one prepared attempt per (`service_id`, `click_trans_id`, `merchant_trans_id`)**: a unique
//!   index over prepared rows; a concurrent duplicate Prepare waits for the first to commit, is
//!   refused, and reads the first row back;
//! - **one transition out of "prepared"**: `UPDATE … WHERE merchant_prepare_id = ? AND state = ?`
//!   and its affected-row count; concurrent Completes queue on the row lock and only the first
//!   matches;
//! - **one debited transaction per one-time order**: the primary key of `click_paid_orders`
//!   (`service_id`, `merchant_trans_id`), claimed inside the confirm's transaction.
//!
//! [`PgStore`] and [`MySqlStore`] are two instantiations of one [`SqlStore`], and all four stores
//! run click-core's transitions, written once ([`click_core::transition`]).
//!
//! The delivery hook runs on the open transaction, so "payment confirmed" and "order marked paid"
//! commit together or not at all; a failing hook's writes are rolled back with the transaction,
//! which then runs again without the hook and keeps the payment as "reversal due"
//! (`Outbox::reversals_due` lists them, and the `click-settle` worker reverses them). A crash or a
//! dropped request before the commit rolls back everything, the hook's database writes included
//! (side effects outside the database are not: send those from `ShopEvent::Confirmed`). A
//! transition the database aborts as a deadlock is tried again, up to three times. Each store's
//! page says how its database provides the locks.
//!
//! Keep the hooks quick and time-bounded: a hook holds the transaction's row locks, and Click's
//! retries of the same payment wait for them. The `connect` constructors set a 5-second lock
//! timeout (a waiting retry then answers `-7` and Click tries again later); set one on your own
//! pool too. `find` must treat `merchant_trans_id` exactly (no case folding, no `042` = `42`):
//! the one-payment-per-order guarantee is keyed on the text Click sends.
//!
//! # Schema
//!
//! [`PgStore::migrate`](SqlStore::migrate) (and its twins) creates `click_transactions` and
//! `click_paid_orders` beside your own tables, records applied versions in `click_migrations`, and
//! upgrades the tables of earlier releases in place, rows included. Amounts are stored as
//! integer tiyin. Store errors become `-7` answers, with the driver's error (`sqlx::Error`,
//! `rusqlite::Error`) kept as the source for the log.

mod binds;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod database;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod schema;
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod store;
mod tasks;

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub use database::Database;
#[cfg(feature = "mysql")]
pub use mysql::MySqlStore;
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub use store::SqlStore;

/// The most connections a pool opened by [`SqlStore::connect`] holds (sqlx's default);
/// [`SqlStore::connect_sized`] takes another.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub const POOL_SIZE: u32 = 10;

/// The workspace README's examples, compiled as doctests here: this crate sees both click-core and
/// the stores.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
