//! `--store`: which store keeps Click's transactions.

use std::str::FromStr;
use std::sync::Arc;

use click_core::{MemoryStore, OrderStore};
use click_sqlx::{MySqlStore, PgStore, SqliteStore};

use crate::settle::DemoOrders;

/// A store choice from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreChoice {
    /// `memory`.
    Memory,
    /// `sqlite` (a new temporary file) or `sqlite:PATH`.
    Sqlite(Option<String>),
    /// `postgres://…`.
    Postgres(String),
    /// `mysql://…`.
    MySql(String),
}

impl FromStr for StoreChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "memory" => Ok(Self::Memory),
            "sqlite" => Ok(Self::Sqlite(None)),
            _ if text.starts_with("sqlite:") => {
                Ok(Self::Sqlite(Some(text["sqlite:".len()..].to_owned())))
            }
            _ if text.starts_with("postgres://") || text.starts_with("postgresql://") => {
                Ok(Self::Postgres(text.to_owned()))
            }
            _ if text.starts_with("mysql://") || text.starts_with("mariadb://") => {
                Ok(Self::MySql(text.replacen("mariadb://", "mysql://", 1)))
            }
            _ => Err("expected memory, sqlite, sqlite:PATH, postgres://… or mysql://…".to_owned()),
        }
    }
}

/// The file `--store sqlite` uses, removed when the demo ends.
fn temporary_file() -> std::path::PathBuf {
    std::env::temp_dir().join(format!("click-demo-{}.sqlite3", std::process::id()))
}

impl StoreChoice {
    /// The temporary file this store uses, if any, to remove when the demo ends.
    pub(crate) fn temporary_file(&self) -> Option<std::path::PathBuf> {
        (*self == Self::Sqlite(None)).then(temporary_file)
    }

    /// Opens (and migrates) the store over the demo's order book, with at most `connections` to a
    /// SQL server; says what it opened.
    pub(crate) async fn open(
        &self,
        orders: DemoOrders,
        connections: u32,
    ) -> Result<(Arc<dyn OrderStore>, String), Box<dyn std::error::Error>> {
        Ok(match self {
            Self::Memory => (Arc::new(MemoryStore::new(orders)), "in memory".to_owned()),
            Self::Sqlite(path) => {
                let path = path.clone().map_or_else(temporary_file, Into::into);
                let store = SqliteStore::open(&path, orders).await?;
                store.migrate().await?;
                (Arc::new(store), format!("SQLite, {}", path.display()))
            }
            Self::Postgres(url) => {
                let store = PgStore::connect_sized(url, orders, connections).await?;
                store.migrate().await?;
                (Arc::new(store), "PostgreSQL".to_owned())
            }
            Self::MySql(url) => {
                let store = MySqlStore::connect_sized(url, orders, connections).await?;
                store.migrate().await?;
                (Arc::new(store), "MySQL".to_owned())
            }
        })
    }
}
