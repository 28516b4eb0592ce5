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

#[cfg(test)]
mod tests {
    use std::time::{SystemTime, UNIX_EPOCH};

    use click_core::outbox::{TaskKind, TaskStatus};
    use click_core::testing::{TestOrders, skipped};
    use click_core::{
        ClickPaydocId, MerchantPrepareId, ReversalReason, ServiceId, TransactionState,
    };
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
    use sqlx::{Connection, Executor, PgConnection, Row};

    use crate::binds::{self, Bind};
    use crate::database::bound;
    use crate::row;
    use crate::sql::DOLLAR;

    const URL: &str = "CLICK_TEST_POSTGRES_URL";

    /// On tables whose statistics say every row is prepared and every task done (analyzed before
    /// any confirm or backlog), each statement that finds a row by a key uses that key's index,
    /// never an index on the state or status (whose scan grows with the table); a worker reads
    /// its claim back by the claim token's index. The one-statement check after a delivery hook
    /// (`insert_task_if_in`) inserts for a confirmed row only.
    #[tokio::test]
    async fn statements_use_their_key_whatever_the_statistics() {
        if skipped(Some(URL)) {
            return;
        }
        let url = std::env::var(URL).expect("checked above");
        let mut admin = PgConnection::connect(&url)
            .await
            .expect("PostgreSQL is reachable");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        // Named as the integration tests name theirs, so that their sweep drops it if this test
        // fails before it does.
        let schema = format!("click_t_{}_plans_{}", now.as_secs(), now.subsec_nanos());
        admin
            .execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .expect("the schema is created");
        let options: PgConnectOptions = url.parse().expect("a valid URL");
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.options([("search_path", schema.as_str())]))
            .await
            .expect("the pool connects");
        crate::PgStore::new(pool.clone(), TestOrders::new())
            .migrate()
            .await
            .expect("migrations apply");
        let prepared = i64::from(row::state_code(TransactionState::Prepared));
        let confirmed = i64::from(row::state_code(TransactionState::Confirmed));
        let done = i64::from(row::task_status_code(TaskStatus::Done));
        let pending = i64::from(row::task_status_code(TaskStatus::Pending));
        let set_up: [(&str, &[i64]); 8] = [
            // No automatic ANALYZE may refresh the statistics taken below.
            (
                "ALTER TABLE click_transactions SET (autovacuum_enabled = off)",
                &[],
            ),
            (
                "ALTER TABLE click_outbox SET (autovacuum_enabled = off)",
                &[],
            ),
            (
                "INSERT INTO click_transactions (click_trans_id, service_id, click_paydoc_id, \
                 merchant_trans_id, amount_tiyin, kind, state, prepared_at_ms) \
                 SELECT g, 101, g, 'order-' || g, 100000, 0, $1, 0 \
                 FROM generate_series(1, 20000) g",
                &[prepared],
            ),
            (
                "INSERT INTO click_outbox (kind, merchant_prepare_id, status, due_at_ms) \
                 SELECT 0, merchant_prepare_id, $1, 0 FROM click_transactions",
                &[done],
            ),
            ("ANALYZE click_transactions", &[]),
            ("ANALYZE click_outbox", &[]),
            (
                "UPDATE click_transactions SET state = $1 WHERE merchant_prepare_id > 100",
                &[confirmed],
            ),
            (
                "UPDATE click_outbox SET status = $1 WHERE merchant_prepare_id > 100",
                &[pending],
            ),
        ];
        for (sql, values) in set_up {
            let query = values.iter().fold(sqlx::query(sql), |q, v| q.bind(*v));
            query.execute(&pool).await.expect(sql);
        }

        let id = MerchantPrepareId::new(150);
        let due = TransactionState::ReversalDue(ReversalReason::DeliveryFailed);
        let paydoc = binds::paydoc_debited(ServiceId::new(101), ClickPaydocId::new(150), id);
        let update_task = vec![
            Bind::Int(done),
            Bind::OptionalInt(None),
            Bind::OptionalInt(None),
            Bind::OptionalInt(None),
            Bind::Int(0),
            Bind::OptionalText(None),
            Bind::Int(150),
            Bind::Int(7),
            Bind::Int(pending),
        ];
        // Each statement, and the indexes that may serve it.
        let cases: [(&str, Vec<Bind<'static>>, &[&str]); 7] = [
            (
                DOLLAR
                    .confirm
                    .expect("PostgreSQL confirms in one statement"),
                binds::confirm(id).to_vec(),
                &["click_transactions_pkey"],
            ),
            (
                DOLLAR.update_state,
                binds::update_state(id, TransactionState::Confirmed, due, None).to_vec(),
                &["click_transactions_pkey"],
            ),
            (
                DOLLAR
                    .insert_task_if_in
                    .expect("PostgreSQL checks and enqueues in one"),
                binds::insert_task_if_in(TaskKind::Fiscalize, id, TransactionState::Confirmed)
                    .to_vec(),
                &["click_transactions_pkey"],
            ),
            (
                DOLLAR.select_paydoc_debited,
                paydoc.to_vec(),
                &["click_transactions_paydoc"],
            ),
            (
                DOLLAR.update_task,
                update_task,
                &["click_outbox_pkey", "click_outbox_claim"],
            ),
            (
                DOLLAR.approve_reversal,
                binds::approve_reversal(id).to_vec(),
                &["click_outbox_kind_merchant_prepare_id_key"],
            ),
            (
                DOLLAR.select_claimed,
                vec![Bind::Int(7)],
                &["click_outbox_claim"],
            ),
        ];
        for (sql, binds, indexes) in cases {
            let plan = explain(&pool, sql, &binds).await;
            assert!(
                indexes
                    .iter()
                    .any(|index| plan.contains(&format!("using {index} on"))),
                "{sql}\nuses none of {indexes:?}:\n{plan}"
            );
            for on_state in [
                "click_transactions_stuck",
                "click_transactions_prepared",
                "click_outbox_due",
            ] {
                assert!(
                    !plan.contains(on_state),
                    "{sql}\nscans {on_state}, an index on the state:\n{plan}"
                );
            }
        }
        // The check after a delivery hook, in one statement: the task for a confirmed row, once;
        // nothing for a row in another state.
        let check = DOLLAR
            .insert_task_if_in
            .expect("PostgreSQL checks and enqueues in one");
        for (id, inserted) in [(150, 1), (150, 0), (50, 0)] {
            let id = MerchantPrepareId::new(id);
            let binds =
                binds::insert_task_if_in(TaskKind::Fiscalize, id, TransactionState::Confirmed);
            let done = bound(check, &binds)
                .execute(&pool)
                .await
                .expect("the check runs");
            assert_eq!(done.rows_affected(), inserted, "transaction {id}");
        }
        pool.close().await;
        admin
            .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
            .await
            .expect("the schema is dropped");
    }

    /// PostgreSQL's plan for `sql` with `binds`.
    async fn explain(pool: &sqlx::PgPool, sql: &str, binds: &[Bind<'_>]) -> String {
        let explain = format!("EXPLAIN {sql}");
        let plan: Vec<String> = bound(&explain, binds)
            .try_map(|row: PgRow| row.try_get::<String, _>(0))
            .fetch_all(pool)
            .await
            .expect("EXPLAIN runs");
        plan.join("\n")
    }
}
