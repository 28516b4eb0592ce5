//! `cargo bench -p click-core`: signature verification, form parsing, and a full Prepare+Complete
//! pair through the state machine on `MemoryStore`. Results and targets: BENCHMARKS.md.

use std::hint::black_box;

use click_core::testing::Click;
use click_core::{
    Callback, Endpoint, ErrorCode, Keyring, MemoryOrders, MemoryStore, Order, SecretKey, ServiceId,
    Shop,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

fn callbacks(c: &mut Criterion) {
    let secret = SecretKey::new("bench-secret");
    let keyring = Keyring::new().service(ServiceId::new(101), secret.clone());
    let click = Click::new(ServiceId::new(101), secret.clone());
    let prepare = click
        .prepare(3_600_000_001, "order-42", "25000.00")
        .encode();
    let complete = click
        .complete(3_600_000_001, "order-42", 7, "25000.00", 0)
        .encode();

    c.bench_function("parse_prepare", |b| {
        b.iter(|| Callback::parse(black_box(prepare.as_bytes()), Endpoint::Prepare))
    });
    c.bench_function("parse_complete", |b| {
        b.iter(|| Callback::parse(black_box(complete.as_bytes()), Endpoint::Complete))
    });
    let parsed = Callback::parse(prepare.as_bytes(), Endpoint::Prepare).expect("a valid Prepare");
    c.bench_function("verify_prepare", |b| {
        b.iter(|| black_box(&parsed).verify(black_box(&keyring)))
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let orders = MemoryOrders::new();
    orders.insert("wallet".parse().expect("id"), Order::account());
    let shop = Shop::new(keyring, MemoryStore::new(orders));
    let mut attempt = 0_i64;
    c.bench_function("prepare_complete_pair_memory", |b| {
        b.iter_batched(
            || {
                // Click's side (signing) is set up outside the measurement.
                attempt += 1;
                let id = 3_600_000_000 + attempt;
                (
                    click.prepare(id, "wallet", "1000").encode(),
                    click.complete(id, "wallet", attempt, "1000", 0).encode(),
                )
            },
            |(prepare, complete)| {
                runtime.block_on(async {
                    let prepared = shop.handle(Endpoint::Prepare, prepare.as_bytes()).await;
                    let completed = shop.handle(Endpoint::Complete, complete.as_bytes()).await;
                    assert_eq!(
                        (prepared.error(), completed.error()),
                        (ErrorCode::Success, ErrorCode::Success)
                    );
                    (prepared.to_json(), completed.to_json())
                })
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, callbacks);
criterion_main!(benches);
