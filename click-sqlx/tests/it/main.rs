//! click-sqlx integration tests: the click-core conformance suite and the concurrency and crash
//! items of docs/protocol.md, bad inputs section E, on PostgreSQL, MySQL/MariaDB and SQLite.
//!
//! PostgreSQL and MySQL tests need `CLICK_TEST_POSTGRES_URL` / `CLICK_TEST_MYSQL_URL`; without
//! them they print why they skip and pass. Each test runs on a fresh schema, database or file.

mod support;

use std::time::Duration;

use click_core::testing::{Click, TestOrders, code};
use click_core::{Endpoint, Keyring, Order, OrderStore, Outbox, SecretKey, ServiceId, Shop};

const SERVICE: ServiceId = ServiceId::new(101);
const SECRET: &str = "sqlx-test-secret";

fn shop(store: impl OrderStore) -> Shop {
    Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        store,
    )
}

fn click() -> Click {
    Click::new(SERVICE, SecretKey::new(SECRET))
}

async fn prepare(shop: &Shop, click_trans_id: i64, order: &str) -> (i32, Option<i64>) {
    let body = click().prepare(click_trans_id, order, "1000").encode();
    let answer = shop.handle(Endpoint::Prepare, body.as_bytes()).await;
    (
        code(&answer),
        answer.merchant_prepare_id().map(|id| id.get()),
    )
}

async fn complete(shop: &Shop, click_trans_id: i64, order: &str, prepare_id: i64) -> i32 {
    let body = click()
        .complete(click_trans_id, order, prepare_id, "1000", 0)
        .encode();
    code(&shop.handle(Endpoint::Complete, body.as_bytes()).await)
}

/// The tests every database runs. `$open` opens a migrated store at a location (schema, database
/// or file) with a number of connections; `$fresh` makes a new location.
macro_rules! database_tests {
    (requires: $requires:expr, fresh: $fresh:expr, open: $open:path, first_schema: $first:path $(,)?) => {
        use std::sync::atomic::Ordering;

        use click_core::{ReversalReason, TransactionState, Transition};

        use crate::support::{Inspect, TWO_NEW_ORDERS, TableOrders};
        use crate::*;

        /// The confirm and the merchant's `UPDATE orders` commit together; a failing delivery
        /// rolls back its own writes and leaves the payment listed for reversal.
        #[tokio::test(flavor = "multi_thread")]
        async fn delivery_commits_with_the_confirm() {
            if click_core::testing::skipped($requires) {
                return;
            }
            let location = $fresh.await;
            let store = $open(&location, TableOrders::default(), 4).await;
            store.create_orders(TWO_NEW_ORDERS).await;
            let shop = shop(store);
            let inspector = $open(&location, TableOrders::default(), 1).await;
            let order_status = |id: &'static str| inspector.status(id);

            let (answer, prepare_id) = prepare(&shop, 1, "o-1").await;
            assert_eq!(answer, 0);
            assert_eq!(complete(&shop, 1, "o-1", prepare_id.expect("id")).await, 0);
            assert_eq!(order_status("o-1").await, "paid");

            let (answer, prepare_id) = prepare(&shop, 2, "o-2").await;
            assert_eq!(answer, 0);
            // The delivery updates the order, then fails: its write must not survive.
            let failing = $open(&location, TableOrders::default(), 2).await;
            failing
                .hooks()
                .fail_after_update
                .store(true, Ordering::SeqCst);
            let failing_shop = crate::shop(failing);
            assert_eq!(
                complete(&failing_shop, 2, "o-2", prepare_id.expect("id")).await,
                0
            );
            assert_eq!(order_status("o-2").await, "new");
            let transaction = failing_shop
                .store()
                .transactions_of(click_core::ClickTransId::new(2))
                .await
                .expect("store")
                .pop();
            assert_eq!(
                transaction.map(|t| t.state),
                Some(TransactionState::ReversalDue(
                    ReversalReason::DeliveryFailed
                ))
            );
            let reopened = $open(&location, TableOrders::default(), 1).await;
            let due = reopened.reversals_due().await.expect("listed");
            assert_eq!(
                due.iter()
                    .map(|t| t.click_trans_id.get())
                    .collect::<Vec<_>>(),
                [2]
            );
        }

        /// A Telegram payment's delivery commits with its record, in one database transaction:
        /// a delivery that fails after its `UPDATE` leaves the order as it was and the payment
        /// due for reversal.
        #[tokio::test(flavor = "multi_thread")]
        async fn a_telegram_payment_commits_with_its_delivery() {
            if click_core::testing::skipped($requires) {
                return;
            }
            let location = $fresh.await;
            let store = $open(&location, TableOrders::default(), 4).await;
            store.create_orders(TWO_NEW_ORDERS).await;
            let inspector = $open(&location, TableOrders::default(), 1).await;
            let charge = |order: &str, id: &str| click_core::NewCharge {
                service_id: click_core::ServiceId::new(101),
                merchant_trans_id: order.parse().expect("an order id"),
                amount: "1000".parse().expect("an amount"),
                kind: click_core::PaymentKind::Order,
                charge: click_core::TelegramCharge {
                    telegram_payment_charge_id: id.into(),
                    provider_payment_charge_id: "4100000001".into(),
                },
                paid_at: std::time::SystemTime::now(),
            };
            let paid = store
                .record_charge(charge("o-1", "tg-1"))
                .await
                .expect("recorded");
            assert!(matches!(paid, Transition::Confirmed(_)), "{paid:?}");
            assert_eq!(inspector.status("o-1").await, "paid");

            let failing = $open(&location, TableOrders::default(), 2).await;
            failing
                .hooks()
                .fail_after_update
                .store(true, Ordering::SeqCst);
            let kept = failing
                .record_charge(charge("o-2", "tg-2"))
                .await
                .expect("recorded");
            assert_eq!(inspector.status("o-2").await, "new");
            let Transition::Confirmed(kept) = kept else {
                panic!("recorded: {kept:?}");
            };
            assert_eq!(
                kept.state,
                TransactionState::ReversalDue(ReversalReason::DeliveryFailed)
            );
            let stored = inspector
                .charge("tg-2")
                .await
                .expect("store")
                .expect("kept");
            assert_eq!(stored.state, kept.state);
        }

        /// Bad input 66: the process dies after the delivery's `UPDATE` but before the commit (here:
        /// the request is dropped once the hook hangs after its `UPDATE`). Nothing of it survives,
        /// and Click's retry delivers once.
        #[tokio::test(flavor = "multi_thread")]
        async fn a_crash_before_the_commit_delivers_nothing() {
            if click_core::testing::skipped($requires) {
                return;
            }
            let location = $fresh.await;
            let store = $open(&location, TableOrders::default(), 4).await;
            store
                .create_orders("INSERT INTO orders VALUES ('o-1', 100000, 'new')")
                .await;
            store
                .hooks()
                .hang_after_update
                .store(true, Ordering::SeqCst);
            let hung = std::sync::Arc::clone(&store.hooks().hung);
            let shop = shop(store);
            let inspector = $open(&location, TableOrders::default(), 1).await;
            let (answer, prepare_id) = prepare(&shop, 1, "o-1").await;
            assert_eq!(answer, 0);
            let prepare_id = prepare_id.expect("id");
            let crashed = {
                let shop = shop.clone();
                tokio::spawn(async move { complete(&shop, 1, "o-1", prepare_id).await })
            };
            hung.notified().await;
            crashed.abort();
            assert!(crashed.await.is_err(), "the request died mid-delivery");
            assert_eq!(
                inspector.status("o-1").await,
                "new",
                "the delivery's write was rolled back"
            );

            let restarted = $open(&location, TableOrders::default(), 4).await;
            let shop = crate::shop(restarted);
            assert_eq!(complete(&shop, 1, "o-1", prepare_id).await, 0);
            assert_eq!(complete(&shop, 1, "o-1", prepare_id).await, -4);
            assert_eq!(inspector.status("o-1").await, "paid");
        }

        /// Bad inputs 65 and 67: a store opened again after the process died between callbacks
        /// continues from the committed state: the retried Prepare gets the same id, the
        /// Complete succeeds, and its retry after another restart answers `-4`.
        #[tokio::test(flavor = "multi_thread")]
        async fn a_reopened_store_continues() {
            if click_core::testing::skipped($requires) {
                return;
            }
            let location = $fresh.await;
            let orders = TestOrders::new();
            orders.insert(
                "o-1",
                Order::Payable {
                    amount: "1000".parse().expect("amount"),
                },
            );
            let first = shop($open(&location, orders.clone(), 2).await);
            let (answer, prepare_id) = prepare(&first, 1, "o-1").await;
            assert_eq!(answer, 0);
            drop(first);

            let second = shop($open(&location, orders.clone(), 2).await);
            assert_eq!(
                prepare(&second, 1, "o-1").await,
                (0, prepare_id),
                "same prepare id"
            );
            assert_eq!(
                complete(&second, 1, "o-1", prepare_id.expect("id")).await,
                0
            );
            drop(second);

            let third = shop($open(&location, orders.clone(), 2).await);
            assert_eq!(
                complete(&third, 1, "o-1", prepare_id.expect("id")).await,
                -4
            );
            assert_eq!(orders.deliveries("o-1"), 1);
        }

        /// A database created by the first release's schema, with rows in it, migrates and keeps
        /// paying: its prepared attempt completes by `merchant_prepare_id`, its paid order stays
        /// paid, its cancelled attempt's `click_trans_id` starts a new attempt, new orders pay.
        #[tokio::test(flavor = "multi_thread")]
        async fn a_database_of_the_first_schema_migrates_and_keeps_paying() {
            if click_core::testing::skipped($requires) {
                return;
            }
            let location = $fresh.await;
            $first(&location).await;
            let orders = TestOrders::new();
            for order in ["old-prepared", "old-paid", "old-cancelled", "new"] {
                orders.insert(
                    order,
                    Order::Payable {
                        amount: "1000".parse().expect("amount"),
                    },
                );
            }
            let store = $open(&location, orders.clone(), 2).await;
            assert_eq!(store.migrations().await, 6);
            let shop = shop(store);
            assert_eq!(complete(&shop, 1, "old-prepared", 1).await, 0);
            assert_eq!(complete(&shop, 2, "old-paid", 2).await, -4);
            assert_eq!(prepare(&shop, 20, "old-paid").await, (-4, None));
            let (answer, again) = prepare(&shop, 3, "old-cancelled").await;
            assert_eq!(answer, 0);
            let again = again.expect("a new prepare id");
            assert!(again > 3, "{again}");
            assert_eq!(complete(&shop, 3, "old-cancelled", again).await, 0);
            let (answer, fresh) = prepare(&shop, 30, "new").await;
            assert_eq!(answer, 0);
            assert_eq!(complete(&shop, 30, "new", fresh.expect("id")).await, 0);
            for order in ["old-prepared", "old-cancelled", "new"] {
                assert_eq!(orders.deliveries(order), 1, "{order}");
            }
            assert_eq!(orders.deliveries("old-paid"), 0);
        }

        /// Four instances starting at once all migrate, and the schema is applied once.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn concurrent_migrations_apply_once() {
            if click_core::testing::skipped($requires) {
                return;
            }
            let location = $fresh.await;
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..4 {
                let location = location.clone();
                tasks.spawn(async move { $open(&location, TestOrders::new(), 2).await });
            }
            let stores = tasks.join_all().await;
            assert_eq!(stores[0].migrations().await, 6);
        }

        /// Bad input 68: 100 concurrent duplicates of one Complete spread over four pools (four app
        /// instances behind a load balancer): one `0`, 99 `-4`, one delivery; ten rounds.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn a_hundred_duplicates_over_four_pools_deliver_once() {
            if click_core::testing::skipped($requires) {
                return;
            }
            let location = $fresh.await;
            let orders = TestOrders::new();
            let mut shops = Vec::new();
            for _ in 0..4 {
                shops.push(shop($open(&location, orders.clone(), 5).await));
            }
            for round in 0..10_i64 {
                let order = format!("o-{round}");
                orders.insert(
                    &order,
                    Order::Payable {
                        amount: "1000".parse().expect("amount"),
                    },
                );
                let click_trans_id = 3_600_000_000 + round;
                let (answer, prepare_id) = prepare(&shops[0], click_trans_id, &order).await;
                assert_eq!(answer, 0);
                let prepare_id = prepare_id.expect("id");
                let mut tasks = tokio::task::JoinSet::new();
                for n in 0..100 {
                    let shop = shops[n % 4].clone();
                    let order = order.clone();
                    tasks.spawn(async move {
                        complete(&shop, click_trans_id, &order, prepare_id).await
                    });
                }
                let codes = tasks.join_all().await;
                assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
                assert_eq!(codes.iter().filter(|c| **c == -4).count(), 99, "{codes:?}");
                assert_eq!(orders.deliveries(&order), 1);
            }
        }
    };
}

mod postgres {
    /// Hooks whose delivery runs a statement that breaks the store's transaction and says
    /// nothing of it.
    struct Sabotaging {
        /// `SELECT 1 / 0` aborts the transaction; `ROLLBACK` ends it, as MySQL does on a
        /// deadlock.
        statement: &'static str,
        /// Whether the payment wants a receipt: the check after the hook is then one insert of
        /// the fiscal task.
        receipt: bool,
    }

    #[async_trait::async_trait]
    impl click_core::OrderHooks<sqlx::PgConnection> for Sabotaging {
        async fn find(
            &self,
            _: &mut sqlx::PgConnection,
            _: click_core::ServiceId,
            _: &click_core::MerchantTransId,
        ) -> Result<Option<click_core::Order>, click_core::BoxError> {
            Ok(Some(click_core::Order::Payable {
                amount: "1000".parse()?,
            }))
        }

        async fn deliver(
            &self,
            db: &mut sqlx::PgConnection,
            _: &click_core::Transaction,
        ) -> Result<(), click_core::BoxError> {
            // The statement's error, if any, is swallowed: the hook says nothing.
            let _ = sqlx::query(self.statement).execute(db).await;
            Ok(())
        }

        fn wants_receipt(&self, _: &click_core::Transaction) -> bool {
            self.receipt
        }
    }

    /// A delivery hook that swallowed a failed statement (the transaction aborted) or ended the
    /// transaction left nothing to commit: the Complete answers -7 (Click retries) instead of 0
    /// over a confirm that was never kept, with or without a receipt to record.
    #[tokio::test]
    async fn a_hook_that_breaks_the_transaction_fails_the_complete() {
        if click_core::testing::skipped(Some("CLICK_TEST_POSTGRES_URL")) {
            return;
        }
        for statement in ["SELECT 1 / 0", "ROLLBACK"] {
            for receipt in [false, true] {
                let hooks = Sabotaging { statement, receipt };
                let store = crate::support::postgres(hooks).await;
                let pool = store.pool().clone();
                let shop = crate::shop(store);
                let (answer, prepare_id) = crate::prepare(&shop, 1, "o-1").await;
                assert_eq!(answer, 0);
                let prepare_id = prepare_id.expect("prepared");
                let case = format!("{statement}, receipt: {receipt}");
                assert_eq!(
                    crate::complete(&shop, 1, "o-1", prepare_id).await,
                    -7,
                    "{case}"
                );
                let kept = shop
                    .store()
                    .transaction(click_core::MerchantPrepareId::new(prepare_id))
                    .await
                    .expect("read");
                assert_eq!(
                    kept.map(|t| t.state),
                    Some(click_core::TransactionState::Prepared),
                    "{case}: nothing was confirmed, so Click's retry can deliver"
                );
                let tasks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM click_outbox")
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                assert_eq!(tasks, 0, "{case}: no task outside the transaction");
            }
        }
    }

    /// Readiness: the store answers its check while the database does, and fails it (so
    /// `/readyz` answers 503) once the pool is closed.
    #[tokio::test]
    async fn the_readiness_check_follows_the_database() {
        if click_core::testing::skipped(Some("CLICK_TEST_POSTGRES_URL")) {
            return;
        }
        let store = crate::support::postgres(click_core::testing::TestOrders::new()).await;
        assert!(click_core::OrderStore::check(&store).await.is_ok());
        store.pool().close().await;
        let failed = click_core::OrderStore::check(&store).await;
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(click_core::health::Health::of_store(failed).status(), 503);
    }
    click_core::order_store_conformance!(
        |hooks| async move { crate::support::postgres(hooks).await },
        rounds = 100,
        requires = "CLICK_TEST_POSTGRES_URL"
    );

    mod outbox {
        click_core::outbox_conformance!(
            |hooks| async move { crate::support::postgres(hooks).await },
            rounds = 10,
            requires = "CLICK_TEST_POSTGRES_URL"
        );
    }

    mod section_e {
        database_tests! {
            requires: Some(crate::support::POSTGRES_URL),
            fresh: async { crate::support::postgres_pool(1).await.1 },
            open: crate::support::open_postgres,
            first_schema: crate::support::first_schema_postgres,
        }
    }
}

mod mysql {
    /// Readiness: the store answers its check while the database does, and fails it (so
    /// `/readyz` answers 503) once the pool is closed.
    #[tokio::test]
    async fn the_readiness_check_follows_the_database() {
        if click_core::testing::skipped(Some("CLICK_TEST_MYSQL_URL")) {
            return;
        }
        let store = crate::support::mysql(click_core::testing::TestOrders::new()).await;
        assert!(click_core::OrderStore::check(&store).await.is_ok());
        store.pool().close().await;
        let failed = click_core::OrderStore::check(&store).await;
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(click_core::health::Health::of_store(failed).status(), 503);
    }
    click_core::order_store_conformance!(
        |hooks| async move { crate::support::mysql(hooks).await },
        rounds = 100,
        requires = "CLICK_TEST_MYSQL_URL"
    );

    mod outbox {
        click_core::outbox_conformance!(
            |hooks| async move { crate::support::mysql(hooks).await },
            rounds = 10,
            requires = "CLICK_TEST_MYSQL_URL"
        );
    }

    mod section_e {
        database_tests! {
            requires: Some(crate::support::MYSQL_URL),
            fresh: async { crate::support::mysql_pool(1).await.1 },
            open: crate::support::open_mysql,
            first_schema: crate::support::first_schema_mysql,
        }
    }
}

mod sqlite {
    click_core::order_store_conformance!(
        |hooks| async move { crate::support::sqlite(hooks).await },
        rounds = 100
    );

    mod outbox {
        click_core::outbox_conformance!(
            |hooks| async move { crate::support::sqlite(hooks).await },
            rounds = 10
        );
    }

    mod section_e {
        database_tests! {
            requires: None,
            fresh: async { crate::support::sqlite_path() },
            open: crate::support::open_sqlite,
            first_schema: crate::support::first_schema_sqlite,
        }
    }

    /// Readiness: the writer thread answers the check.
    #[tokio::test]
    async fn the_readiness_check_asks_the_writer() {
        let store = crate::support::sqlite(click_core::testing::TestOrders::new()).await;
        assert!(click_core::OrderStore::check(&store).await.is_ok());
    }

    /// A store on a caller's connection: an in-memory database, migrated twice.
    #[tokio::test]
    async fn an_in_memory_database_works() {
        let conn = rusqlite::Connection::open_in_memory().expect("opens");
        let orders = crate::TestOrders::new();
        orders.insert(
            "o-1",
            crate::Order::Payable {
                amount: "1000".parse().expect("amount"),
            },
        );
        let store = click_sqlx::SqliteStore::from_connection(conn, orders)
            .await
            .expect("starts");
        store.migrate().await.expect("migrations apply");
        store.migrate().await.expect("and again");
        assert_eq!(crate::prepare(&crate::shop(store), 1, "o-1").await.0, 0);
    }

    /// `open` refuses an in-memory path, whose reader would see another, empty database.
    #[tokio::test]
    async fn open_refuses_an_in_memory_path() {
        let opened = click_sqlx::SqliteStore::open(":memory:", crate::TestOrders::new()).await;
        let error = opened.err().expect("refused");
        let cause = std::error::Error::source(&error).map(ToString::to_string);
        assert!(
            cause
                .as_deref()
                .is_some_and(|c| c.contains("from_connection")),
            "{cause:?}"
        );
    }

    /// A hook that hangs past the store's 5-second limit answers `-7` (Click retries later)
    /// instead of holding the callback; it is stopped, and the next payment goes through.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_hung_hook_answers_minus_7_within_the_limit() {
        let orders = crate::TestOrders::new();
        orders.insert(
            "o-1",
            crate::Order::Payable {
                amount: "1000".parse().expect("amount"),
            },
        );
        let shop = crate::shop(crate::support::sqlite(orders.clone()).await);
        orders.delay(crate::Duration::from_secs(3600));
        let started = std::time::Instant::now();
        assert_eq!(crate::prepare(&shop, 1, "o-1").await, (-7, None));
        assert!(
            started.elapsed() < crate::Duration::from_secs(30),
            "answered in time"
        );
        orders.delay(crate::Duration::ZERO);
        assert_eq!(crate::prepare(&shop, 1, "o-1").await.0, 0);
    }

    /// Bad input 69: a writer that holds SQLite's lock longer than the busy timeout makes a callback
    /// answer `-7` (never "database is locked" as a 500); once the lock is gone, Click's retry
    /// succeeds.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_locked_database_answers_minus_7_then_recovers() {
        let path = crate::support::sqlite_path();
        let orders = crate::TestOrders::new();
        orders.insert(
            "o-1",
            crate::Order::Payable {
                amount: "1000".parse().expect("amount"),
            },
        );
        let store = click_sqlx::SqliteStore::open_with(&path, orders, |db| {
            db.busy_timeout(std::time::Duration::from_millis(200))
        })
        .await
        .expect("opens");
        store.migrate().await.expect("migrations apply");
        let shop = crate::shop(store);

        let writer = rusqlite::Connection::open(&path).expect("opens");
        writer.execute_batch("BEGIN IMMEDIATE").expect("locks");
        assert_eq!(crate::prepare(&shop, 1, "o-1").await, (-7, None));
        writer.execute_batch("ROLLBACK").expect("unlocks");
        assert_eq!(crate::prepare(&shop, 1, "o-1").await.0, 0);
    }
}
