//! `Shop` behaviour beyond the decision table: answer shapes, Click's test-tool quirks, events.

use click_core::testing::{Harness, code};
use click_core::{Endpoint, Keyring, MemoryOrders, MemoryStore, Order, SecretKey, Shop};

async fn harness() -> Harness {
    Harness::new(|hooks| async move { MemoryStore::new(hooks) }, 1).await
}

fn json(answer: &click_core::Answer) -> serde_json::Value {
    serde_json::from_slice(&answer.to_json()).expect("the answer is JSON")
}

/// Click's test tool sends Prepare with an empty `merchant_prepare_id`: present-but-empty is absent.
#[tokio::test]
async fn an_empty_prepare_id_on_prepare_counts_as_absent() {
    let h = harness().await;
    h.orders.insert(
        "o-1",
        Order::Payable {
            amount: "1000".parse().expect("amount"),
        },
    );
    let form = h
        .click
        .prepare(1, "o-1", "1000")
        .set("merchant_prepare_id", "");
    assert_eq!(code(&h.send(Endpoint::Prepare, &form).await), 0);
}

/// Every answer carries the fields Click reads, with integer types; `merchant_confirm_id` is
/// present (possibly `null`) on every Complete answer, including rejections.
#[tokio::test]
async fn answers_have_the_shape_click_expects() {
    let h = harness().await;
    h.orders.insert(
        "o-1",
        Order::Payable {
            amount: "1000".parse().expect("amount"),
        },
    );
    let prepared = json(&h.prepare(3_600_000_001, "o-1", "1000").await);
    assert_eq!(prepared["click_trans_id"], 3_600_000_001_i64);
    assert_eq!(prepared["merchant_trans_id"], "o-1");
    assert!(prepared["merchant_prepare_id"].is_i64());
    assert_eq!(prepared["error"], 0);
    assert_eq!(prepared["error_note"], "Success");

    let complete = h
        .click
        .complete(3_600_000_001, "o-1", 1, "1000", 0)
        .remove("amount");
    for endpoint in [Endpoint::Complete, Endpoint::Any] {
        let rejected = json(&h.send(endpoint, &complete).await);
        assert_eq!(rejected["error"], -8);
        assert_eq!(
            rejected["click_trans_id"], 3_600_000_001_i64,
            "echoed when readable"
        );
        assert!(
            rejected
                .get("merchant_confirm_id")
                .is_some_and(serde_json::Value::is_null)
        );
    }
    let garbage = json(&h.shop.handle(Endpoint::Complete, b"\xff\xfe").await);
    assert_eq!(
        garbage,
        serde_json::json!({"merchant_confirm_id": null, "error": -8, "error_note": "Error in request from click"})
    );
}

/// A panicking event listener is the merchant's bug, but Click still gets its JSON answer.
#[tokio::test]
async fn a_panicking_listener_does_not_break_the_answer() {
    let orders = MemoryOrders::new();
    orders.insert(
        "o-1".parse().expect("id"),
        Order::Payable {
            amount: "1000".parse().expect("amount"),
        },
    );
    let secret = SecretKey::new(Harness::SECRET);
    let shop = Shop::new(
        Keyring::new().service(Harness::SERVICE_ID, secret.clone()),
        MemoryStore::new(orders),
    )
    .on_event(|_| panic!("listener bug"));
    let click = click_core::testing::Click::new(Harness::SERVICE_ID, secret);
    let answer = shop
        .handle(
            Endpoint::Prepare,
            click.prepare(1, "o-1", "1000").encode().as_bytes(),
        )
        .await;
    assert_eq!(code(&answer), 0);
}

/// Two services sharing one `MemoryOrders` book: attempts on both services of the same order
/// deliver once; the second debit is reported for reversal.
#[tokio::test]
async fn two_services_sharing_a_book_deliver_once() {
    use click_core::testing::Click;
    use click_core::{ReversalReason, ServiceId, ShopEvent};
    use std::sync::{Arc, Mutex};

    let orders = MemoryOrders::new();
    orders.insert(
        "42".parse().expect("id"),
        Order::Payable {
            amount: "1000".parse().expect("amount"),
        },
    );
    let (a, b) = (ServiceId::new(101), ServiceId::new(102));
    let keyring = Keyring::new()
        .service(a, SecretKey::new("a"))
        .service(b, SecretKey::new("b"));
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    let shop = Shop::new(keyring, MemoryStore::new(orders.clone()))
        .on_event(move |event| sink.lock().expect("events").push(event.clone()));
    let (click_a, click_b) = (
        Click::new(a, SecretKey::new("a")),
        Click::new(b, SecretKey::new("b")),
    );
    let send = |endpoint, body: String| {
        let shop = shop.clone();
        async move { shop.handle(endpoint, body.as_bytes()).await }
    };
    let prepared_a = send(Endpoint::Prepare, click_a.prepare(1, "42", "1000").encode()).await;
    let prepared_b = send(Endpoint::Prepare, click_b.prepare(2, "42", "1000").encode()).await;
    let (Some(id_a), Some(id_b)) = (
        prepared_a.merchant_prepare_id(),
        prepared_b.merchant_prepare_id(),
    ) else {
        panic!("both attempts prepare: {prepared_a:?} {prepared_b:?}");
    };
    let first = send(
        Endpoint::Complete,
        click_a.complete(1, "42", id_a.get(), "1000", 0).encode(),
    )
    .await;
    let second = send(
        Endpoint::Complete,
        click_b.complete(2, "42", id_b.get(), "1000", 0).encode(),
    )
    .await;
    assert_eq!((code(&first), code(&second)), (0, 0));
    assert_eq!(orders.deliveries().len(), 1);
    let reversals = events
        .lock()
        .expect("events")
        .iter()
        .filter(|event| {
            matches!(
                event,
                ShopEvent::ReversalDue {
                    reason: ReversalReason::DeliveryFailed,
                    ..
                }
            )
        })
        .count();
    assert_eq!(reversals, 1);
}
