//! `cargo bench -p click-sqlx --bench stores`: how many Prepare+Complete pairs per second a store
//! takes through the state machine, 64 callbacks at a time, with no HTTP and no load tool in the
//! way. `MemoryStore` is the reference; each SQLite row is a ratio of it measured in the same run.
//! Results: BENCHMARKS.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use click_core::testing::Click;
use click_core::{
    Endpoint, ErrorCode, Keyring, MemoryOrders, MemoryStore, Order, SecretKey, ServiceId, Shop,
};
use click_sqlx::SqliteStore;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const SERVICE: ServiceId = ServiceId::new(101);
const SECRET: &str = "bench-secret";
const CONCURRENCY: u64 = 64;

/// Click's ids, unique across every run of the process.
static NEXT_ID: AtomicI64 = AtomicI64::new(3_600_000_000);

/// Pays `pairs` one-time orders through `shop`, `CONCURRENCY` at a time; the time it took.
async fn pay(shop: &Shop, orders: &MemoryOrders, pairs: u64) -> Duration {
    let click = Arc::new(Click::new(SERVICE, SecretKey::new(SECRET)));
    let left = Arc::new(AtomicU64::new(pairs));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (shop, orders, click, left) =
            (shop.clone(), orders.clone(), click.clone(), left.clone());
        tasks.spawn(async move {
            while left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let id = NEXT_ID.fetch_add(1, Ordering::SeqCst);
                let order = format!("o-{id}");
                let amount = "1000".parse().expect("an amount");
                orders.insert(order.parse().expect("an id"), Order::Payable { amount });
                let prepare = click.prepare(id, &order, "1000").encode();
                let prepared = shop.handle(Endpoint::Prepare, prepare.as_bytes()).await;
                let prepare_id = prepared.merchant_prepare_id().expect("prepared").get();
                let complete = click.complete(id, &order, prepare_id, "1000", 0).encode();
                let completed = shop.handle(Endpoint::Complete, complete.as_bytes()).await;
                assert_eq!(
                    (prepared.error(), completed.error()),
                    (ErrorCode::Success, ErrorCode::Success)
                );
            }
        });
    }
    tasks.join_all().await;
    start.elapsed()
}

fn stores(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let keyring = || Keyring::new().service(SERVICE, SecretKey::new(SECRET));
    let dir = std::env::temp_dir().join(format!("click-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let orders = MemoryOrders::new();
    let sqlite = |name: &str, synchronous: &'static str| {
        let path = dir.join(name);
        let store = runtime.block_on(async {
            let store = SqliteStore::open_with(path, orders.clone(), move |db| {
                db.pragma_update(None, "synchronous", synchronous)
            })
            .await
            .expect("SQLite opens");
            store.migrate().await.expect("migrations apply");
            store
        });
        Shop::new(keyring(), store)
    };
    let shops = [
        (
            "memory",
            Shop::new(keyring(), MemoryStore::new(orders.clone())),
        ),
        ("sqlite_full", sqlite("full.sqlite3", "FULL")),
        ("sqlite_normal", sqlite("normal.sqlite3", "NORMAL")),
    ];
    let mut group = c.benchmark_group("pair_64_at_a_time");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    for (name, shop) in &shops {
        group.bench_function(*name, |b| {
            b.iter_custom(|pairs| runtime.block_on(pay(shop, &orders, pairs)))
        });
    }
    group.finish();
    drop(shops);
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, stores);
criterion_main!(benches);
