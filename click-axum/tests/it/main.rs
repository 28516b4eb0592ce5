//! click-axum over a real socket: the testkit's scenario suite, its transport checks and a slow
//! client, against `click_axum::serve`.

use std::time::Duration;

use click_core::{CallbackPaths, CallbackRoutes, Keyring, MemoryStore, SecretKey, ServiceId, Shop};
use click_testkit::fixtures::{Seed, seed};
use click_testkit::{Options, Target};

const SERVICE: ServiceId = ServiceId::new(101);
const SECRET: &str = "axum-test-secret";

/// Serves a shop over `seed`'s book on an ephemeral port; returns the emulator's target.
async fn serve(seed: &Seed, paths: CallbackPaths) -> (Target, std::net::SocketAddr) {
    let shop = Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        MemoryStore::new(seed.book.clone()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    let router = click_axum::router(CallbackRoutes {
        paths: paths.clone(),
        ..CallbackRoutes::new(shop)
    });
    tokio::spawn(click_axum::serve(listener, router));
    let base = format!("http://{address}/").parse().expect("a URL");
    let urls = paths.urls(&base).expect("URLs");
    let target = Target::new(&urls, SERVICE, SecretKey::new(SECRET));
    (target, address)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_testkit_suite_passes() {
    let seed = seed("axum", "1000".parse().expect("amount"));
    let (target, _) = serve(&seed, CallbackPaths::default()).await;
    let report =
        click_testkit::check(&target, &seed.orders, Some(&seed.paid), Options::default()).await;
    assert!(report.passed(), "{report}");
    assert!(report.results.len() >= 27, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn one_route_for_both_callbacks_dispatches_on_action() {
    let seed = seed("single", "1500.5".parse().expect("amount"));
    let paths = CallbackPaths {
        single: Some("/click".to_owned()),
        ..CallbackPaths::default()
    };
    let (mut target, address) = serve(&seed, paths).await;
    target.prepare_url = format!("http://{address}/click");
    target.complete_url = target.prepare_url.clone();
    let report =
        click_testkit::check(&target, &seed.orders, Some(&seed.paid), Options::default()).await;
    assert!(report.passed(), "{report}");
}

/// docs/protocol.md, bad inputs section A over the socket: items 1, 2, 11 and 12.
#[tokio::test(flavor = "multi_thread")]
async fn transport_checks_pass() {
    let seed = seed("transport", "1000".parse().expect("amount"));
    let (target, _) = serve(&seed, CallbackPaths::default()).await;
    let report = click_testkit::transport::check(&target).await;
    assert!(report.passed(), "{report}");
}

/// docs/protocol.md, bad input 13: a client sending a byte at a time is cut off after the header-read
/// timeout, while a normal callback answers at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_client_is_cut_off() {
    let seed = seed("slow", "1000".parse().expect("amount"));
    let (target, _) = serve(&seed, CallbackPaths::default()).await;
    let outcome = click_testkit::transport::slow_client_is_cut_off(
        &target,
        click_core::READ_TIMEOUT + Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome, Ok(()));
}

/// The emulator is no rubber stamp: a naive endpoint that answers `0` to everything fails most
/// scenarios, and a shop answering `-9` to a cancel after confirm fails scenario 8 when `-4` is
/// expected (and passes when told to expect `-9`).
#[tokio::test(flavor = "multi_thread")]
async fn the_testkit_catches_wrong_answers() {
    let naive = axum::Router::new().fallback(|| async {
        r#"{"click_trans_id":1,"merchant_trans_id":"x","merchant_prepare_id":1,"error":0,"error_note":"Success"}"#
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(click_axum::serve(listener, naive));
    let naive_seed = seed("naive", "1000".parse().expect("amount"));
    let target = Target {
        prepare_url: format!("http://{address}/click/prepare"),
        complete_url: format!("http://{address}/click/complete"),
        service_id: SERVICE,
        secret_key: SecretKey::new(SECRET),
    };
    let report = click_testkit::check(
        &target,
        &naive_seed.orders,
        Some(&naive_seed.paid),
        Options::default(),
    )
    .await;
    let (passed, failed) = report.counts();
    assert!(
        failed > 15 && !report.passed(),
        "{passed} passed, {failed} failed:\n{report}"
    );

    let seed = seed("strict", "1000".parse().expect("amount"));
    let shop = Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        MemoryStore::new(seed.book.clone()),
    )
    .cancel_after_confirm(click_core::CancelAfterConfirm::Cancelled);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(click_axum::serve(listener, click_axum::routes(shop)));
    let target = Target {
        prepare_url: format!("http://{address}/click/prepare"),
        complete_url: format!("http://{address}/click/complete"),
        ..target
    };
    let report =
        click_testkit::check(&target, &seed.orders, Some(&seed.paid), Options::default()).await;
    let failed: Vec<_> = report
        .results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| r.number)
        .collect();
    // Scenario 7 of Click's tool, the cancel of the paid payment, expects -4 by default.
    assert_eq!(failed, [7], "{report}");
}

/// `click-testkit load` over real sockets: two instances sharing one store, three racing
/// duplicates of every Complete. Every order is paid once: one `0` and two `-4` per payment, and
/// no other answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_load_tool_pays_every_order_once_across_instances() {
    let book = click_core::MemoryOrders::new();
    let amount: click_core::Amount = "1000".parse().expect("amount");
    for n in 0..300 {
        let id = format!("load-{n}").parse().expect("an id");
        book.insert(id, click_core::Order::Payable { amount });
    }
    let shop = Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        MemoryStore::new(book.clone()),
    );
    let mut targets = Vec::new();
    for _ in 0..2 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(click_axum::serve(
            listener,
            click_axum::routes(shop.clone()),
        ));
        let base = format!("http://{address}/").parse().expect("a URL");
        let urls = CallbackPaths::default().urls(&base).expect("URLs");
        targets.push(Target::new(&urls, SERVICE, SecretKey::new(SECRET)));
    }
    let report = click_testkit::load::run(click_testkit::load::LoadPlan {
        targets,
        duplicates: 3,
        orders: 300,
        prefix: "load-".to_owned(),
        amount,
        concurrency: 8,
        duration: Duration::from_secs(120),
        resend_for: None,
    })
    .await;
    assert_eq!(report.pairs, 300, "{report}");
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(report.requests, 300 * 4, "{report}");
    let delivered: std::collections::BTreeSet<String> = book
        .deliveries()
        .iter()
        .map(|payment| payment.merchant_trans_id.as_str().to_owned())
        .collect();
    assert_eq!(book.deliveries().len(), 300, "one delivery per order");
    assert_eq!(delivered.len(), 300, "every order delivered");
}
