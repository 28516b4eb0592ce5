//! [`SqliteStore::migrate`](crate::SqliteStore::migrate): the embedded migrations, applied by the
//! writer thread inside its write transaction (so concurrent runs from several processes queue on
//! SQLite's lock), tracked in `click_migrations` with the checksum that refuses an edited one.
//!
//! The checksum is sqlx's (SHA-384 of the file), so databases migrated by earlier releases, which
//! ran these files through sqlx's migrator, are recognised; the SQLite store itself needs no sqlx.

use click_core::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha384};

/// One embedded migration.
struct Migration {
    version: i64,
    /// As sqlx names it: the file name after the version, underscores as spaces.
    description: &'static str,
    sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            description: $name,
            sql: include_str!(concat!(
                "../../migrations/sqlite/",
                $version,
                "_",
                $name,
                ".sql"
            )),
        }
    };
}

/// Every migration, in order. A new one is added here and never edited once released.
const MIGRATIONS: [Migration; 6] = [
    migration!(1, "click_transactions"),
    migration!(2, "attempts_by_merchant_prepare_id"),
    migration!(3, "settlement_outbox"),
    migration!(4, "telegram_payments"),
    migration!(5, "one_state_index"),
    migration!(6, "claimed_tasks_index"),
];

impl Migration {
    fn checksum(&self) -> Vec<u8> {
        Sha384::digest(self.sql.as_bytes()).to_vec()
    }

    fn description(&self) -> String {
        self.description.replace('_', " ")
    }
}

/// A migration applied earlier was edited since.
#[derive(Debug, thiserror::Error)]
#[error("migration {0} was applied before and has been edited since")]
struct Edited(i64);

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS click_migrations (\
     version INTEGER PRIMARY KEY, description TEXT NOT NULL, checksum BLOB NOT NULL, \
     applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)";
const SELECT_CHECKSUM: &str = "SELECT checksum FROM click_migrations WHERE version = ?1";
const INSERT_APPLIED: &str =
    "INSERT INTO click_migrations (version, description, checksum) VALUES (?1, ?2, ?3)";

/// Applies every migration not applied yet.
pub(crate) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    conn.execute_batch(CREATE_TABLE)
        .map_err(StoreError::backend)?;
    for migration in &MIGRATIONS {
        let applied: Option<Vec<u8>> = conn
            .query_row(SELECT_CHECKSUM, [migration.version], |row| row.get(0))
            .optional()
            .map_err(StoreError::backend)?;
        let checksum = migration.checksum();
        match applied {
            Some(applied) if applied == checksum => continue,
            Some(_) => return Err(StoreError::backend(Edited(migration.version))),
            None => {}
        }
        conn.execute_batch(migration.sql)
            .map_err(StoreError::backend)?;
        conn.execute(
            INSERT_APPLIED,
            params![migration.version, migration.description(), checksum],
        )
        .map_err(StoreError::backend)?;
    }
    Ok(())
}

#[cfg(all(test, any(feature = "postgres", feature = "mysql")))]
mod tests {
    use super::*;

    /// What earlier releases recorded, through sqlx's migrator, is what this one computes.
    #[test]
    fn versions_descriptions_and_checksums_are_sqlx_s() {
        let sqlx: &[sqlx::migrate::Migration] = &sqlx::migrate!("migrations/sqlite").migrations;
        assert_eq!(sqlx.len(), MIGRATIONS.len(), "every file is listed");
        for (ours, theirs) in MIGRATIONS.iter().zip(sqlx) {
            assert_eq!(ours.version, theirs.version);
            assert_eq!(ours.description(), theirs.description);
            assert_eq!(ours.checksum(), *theirs.checksum);
        }
    }
}
