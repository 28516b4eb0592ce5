//! How [`migrate`](crate::PgStore::migrate) applies the embedded migrations: under a
//! database-wide lock, tracked in the `click_migrations` table (never in sqlx's own
//! `_sqlx_migrations`, which belongs to the application), each version once, with a checksum that
//! refuses an edited migration.

use crate::binds::Bind;
use crate::database::Database;

/// Applies every embedded migration not applied yet, on one connection, under the database's
/// migration lock.
pub(crate) async fn migrate<D: Database>(conn: &mut D::Connection) -> Result<(), sqlx::Error> {
    let schema = D::SCHEMA;
    D::script(conn, schema.begin).await?;
    let applied = apply::<D>(conn, &schema).await;
    match applied {
        Ok(()) => D::script(conn, schema.commit).await,
        Err(error) => {
            D::script(conn, schema.rollback).await.ok();
            Err(error)
        }
    }
}

async fn apply<D: Database>(conn: &mut D::Connection, schema: &Schema) -> Result<(), sqlx::Error> {
    if let Some(lock) = schema.lock
        && D::integer(conn, lock, &[]).await? != Some(1)
    {
        return Err(sqlx::Error::Protocol(
            "could not take the migration lock".into(),
        ));
    }
    D::script(conn, schema.create_table).await?;
    for migration in D::migrator().iter() {
        let version = [Bind::Int(migration.version)];
        match D::bytes(conn, schema.select_checksum, &version).await? {
            Some(checksum) if checksum == *migration.checksum => continue,
            Some(_) => {
                return Err(sqlx::Error::Migrate(Box::new(
                    sqlx::migrate::MigrateError::VersionMismatch(migration.version),
                )));
            }
            None => {}
        }
        D::script(conn, &migration.sql).await?;
        let applied = [
            Bind::Int(migration.version),
            Bind::Text(&migration.description),
            Bind::Bytes(&migration.checksum),
        ];
        D::execute(conn, schema.insert_applied, &applied).await?;
    }
    Ok(())
}

/// The statements of the migration runner, per database.
pub struct Schema {
    /// Opens the unit of work (a transaction where DDL is transactional).
    pub(crate) begin: &'static str,
    /// Takes the lock that serializes concurrent `migrate` calls; answers 1 when taken.
    pub(crate) lock: Option<&'static str>,
    /// Ends a successful run: commits, or releases the lock.
    pub(crate) commit: &'static str,
    /// Ends a failed run: rolls back, or releases the lock.
    pub(crate) rollback: &'static str,
    /// Whether the lock belongs to the session (MySQL), so the connection must be closed rather
    /// than returned to the pool if a run is interrupted.
    pub(crate) session_lock: bool,
    /// Creates the tracking table.
    pub(crate) create_table: &'static str,
    /// The checksum of an applied version (binds: version).
    pub(crate) select_checksum: &'static str,
    /// Records an applied version (binds: version, description, checksum).
    pub(crate) insert_applied: &'static str,
}

/// PostgreSQL: one transaction (its DDL is transactional) under a transaction-scoped advisory
/// lock.
#[cfg(feature = "postgres")]
pub(crate) const POSTGRES: Schema = Schema {
    begin: "BEGIN",
    lock: Some(
        "SELECT CAST(1 AS BIGINT) FROM (SELECT pg_advisory_xact_lock(7302514936)) AS locked",
    ),
    commit: "COMMIT",
    rollback: "ROLLBACK",
    session_lock: false,
    create_table: "CREATE TABLE IF NOT EXISTS click_migrations (version BIGINT PRIMARY KEY, \
                   description TEXT NOT NULL, checksum BYTEA NOT NULL, \
                   applied_at TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    select_checksum: "SELECT checksum FROM click_migrations WHERE version = $1",
    insert_applied: "INSERT INTO click_migrations (version, description, checksum) VALUES ($1, $2, $3)",
};

/// MySQL and MariaDB: DDL commits implicitly, so a named session lock serializes the runners.
#[cfg(feature = "mysql")]
pub(crate) const MYSQL: Schema = Schema {
    begin: "DO 0",
    lock: Some("SELECT GET_LOCK('click_migrations', 60)"),
    commit: "DO RELEASE_LOCK('click_migrations')",
    rollback: "DO RELEASE_LOCK('click_migrations')",
    session_lock: true,
    create_table: "CREATE TABLE IF NOT EXISTS click_migrations (version BIGINT PRIMARY KEY, \
                   description TEXT NOT NULL, checksum VARBINARY(64) NOT NULL, \
                   applied_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE = InnoDB",
    select_checksum: "SELECT checksum FROM click_migrations WHERE version = ?",
    insert_applied: "INSERT INTO click_migrations (version, description, checksum) VALUES (?, ?, ?)",
};
