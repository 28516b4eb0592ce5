//! [`SqliteStore::migrate`](crate::SqliteStore::migrate): the embedded migrations, applied by the
//! writer thread inside its write transaction (so concurrent runs from several processes queue on
//! SQLite's lock), tracked in `click_migrations` with the checksum that refuses an edited one.

use click_core::StoreError;
use rusqlite::{Connection, OptionalExtension, params};
use sqlx::migrate::{MigrateError, Migrator};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

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
    for migration in MIGRATOR.iter() {
        let checksum: Option<Vec<u8>> = conn
            .query_row(SELECT_CHECKSUM, [migration.version], |row| row.get(0))
            .optional()
            .map_err(StoreError::backend)?;
        match checksum {
            Some(checksum) if checksum == *migration.checksum => continue,
            Some(_) => {
                return Err(StoreError::backend(MigrateError::VersionMismatch(
                    migration.version,
                )));
            }
            None => {}
        }
        conn.execute_batch(&migration.sql)
            .map_err(StoreError::backend)?;
        conn.execute(
            INSERT_APPLIED,
            params![
                migration.version,
                &*migration.description,
                &*migration.checksum
            ],
        )
        .map_err(StoreError::backend)?;
    }
    Ok(())
}
