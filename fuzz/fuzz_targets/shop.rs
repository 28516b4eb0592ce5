//! The whole callback handler on `MemoryStore`: any sequence of bodies gets a JSON answer with one
//! of Click's codes, and an order is never delivered twice. Odd-first-byte inputs are turned into
//! requests the harness signs itself, so the fuzzer also reaches the logic after the signature.
#![no_main]

use std::sync::OnceLock;

use click_core::testing::Click;
use click_core::{
    Endpoint, ErrorCode, Keyring, MemoryOrders, MemoryStore, Order, SecretKey, ServiceId, Shop,
};
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
    })
}

const ORDERS: [&str; 3] = ["o-1", "o-2", "login"];

fuzz_target!(|data: &[u8]| {
    let orders = MemoryOrders::new();
    for (id, order) in ORDERS.iter().zip([
        Order::Payable {
            amount: "1000".parse().expect("amount"),
        },
        Order::Payable {
            amount: "2500.5".parse().expect("amount"),
        },
        Order::account(),
    ]) {
        orders.insert(id.parse().expect("id"), order);
    }
    let secret = SecretKey::new("fuzz");
    let shop = Shop::new(
        Keyring::new().service(ServiceId::new(101), secret.clone()),
        MemoryStore::new(orders.clone()),
    );
    let click = Click::new(ServiceId::new(101), secret);
    runtime().block_on(async {
        for chunk in data.split(|b| *b == 0xff).take(32) {
            let Some((&first, rest)) = chunk.split_first() else {
                continue;
            };
            let endpoint =
                [Endpoint::Prepare, Endpoint::Complete, Endpoint::Any][usize::from(first >> 1) % 3];
            let body = if first & 1 == 1 && rest.len() >= 4 {
                // A signed request from the bytes: attempt, order, amount text, action and error.
                let attempt = i64::from(rest[0] % 8) + 3_600_000_000;
                let order = ORDERS[usize::from(rest[1]) % 3];
                let amount = ["1000", "1000.00", "2500.5", "777", "0", "999.99", "1e3"]
                    [usize::from(rest[2]) % 7];
                let error = [0, -5017, -1][usize::from(rest[3]) % 3];
                let form = if rest[3] & 0x80 == 0 {
                    click.prepare(attempt, order, amount)
                } else {
                    let prepare_id = i64::from(rest.get(4).copied().unwrap_or(1) % 8);
                    click.complete(attempt, order, prepare_id, amount, error)
                };
                form.encode().into_bytes()
            } else {
                rest.to_vec()
            };
            let answer = shop.handle(endpoint, &body).await;
            let json = answer.to_json();
            assert!(json.starts_with(b"{") && json.ends_with(b"}"));
            assert!(ErrorCode::from_code(answer.error().code()).is_some());
        }
    });
    for id in ["o-1", "o-2"] {
        assert!(
            orders.delivery_count(&id.parse().expect("id")) <= 1,
            "{id} delivered twice"
        );
    }
});
