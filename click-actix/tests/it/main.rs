//! click-actix over a real socket: the same testkit scenario suite, transport checks, slow
//! client, graceful stop and health routes as click-axum, so the two adapters provably behave
//! the same.

use std::time::Duration;

use actix_web::{App, HttpServer};
use click_core::testing::TestOrders;
use click_core::{CallbackPaths, CallbackRoutes, Keyring, MemoryStore, SecretKey, ServiceId, Shop};
use click_testkit::fixtures::{Seed, seed};
use click_testkit::{Options, Target};

const SERVICE: ServiceId = ServiceId::new(101);
const SECRET: &str = "actix-test-secret";
/// The read timeouts of the servers under test: short, so the slow client is cut off quickly.
const READ_TIMEOUT: Duration = Duration::from_secs(1);

/// Serves a shop over `seed`'s book on an ephemeral port, on actix's own runtime in a thread of
/// its own; returns the emulator's target.
fn serve(seed: &Seed, paths: CallbackPaths) -> (Target, std::net::SocketAddr) {
    let shop = Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        MemoryStore::new(seed.book.clone()),
    );
    let routes = CallbackRoutes {
        paths: paths.clone(),
        read_timeout: READ_TIMEOUT,
        ..CallbackRoutes::new(shop)
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new().configure(click_actix::configure(routes.clone()))
            })
            .client_request_timeout(READ_TIMEOUT)
            .workers(2)
            .bind(("127.0.0.1", 0))
            .expect("binds");
            sender.send(server.addrs()[0]).expect("the test waits");
            server.run().await
        })
    });
    let address = receiver.recv().expect("the server starts");
    let urls = paths
        .urls(&format!("http://{address}/").parse().expect("a URL"))
        .expect("URLs");
    let target = Target::new(&urls, SERVICE, SecretKey::new(SECRET));
    (target, address)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_testkit_suite_passes() {
    let seed = seed("actix", "1000".parse().expect("amount"));
    let (target, _) = serve(&seed, CallbackPaths::default());
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
    let (mut target, address) = serve(&seed, paths);
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
    let (target, _) = serve(&seed, CallbackPaths::default());
    let report = click_testkit::transport::check(&target).await;
    assert!(report.passed(), "{report}");
}

/// docs/protocol.md, bad input 13.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_client_is_cut_off() {
    let seed = seed("slow", "1000".parse().expect("amount"));
    let (target, _) = serve(&seed, CallbackPaths::default());
    let outcome = click_testkit::transport::slow_client_is_cut_off(&target, READ_TIMEOUT * 3).await;
    assert_eq!(outcome, Ok(()));
}

/// `click_actix::serve` with a callback in flight when its signal fires: new connections are
/// refused, the callback is answered, then the server returns.
#[tokio::test(flavor = "multi_thread")]
async fn a_stop_signal_answers_the_callback_in_flight_and_refuses_new_ones() {
    let orders = TestOrders::default();
    let amount = "1000".parse().expect("amount");
    orders.insert("o-1", click_core::Order::Payable { amount });
    let shop = Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        MemoryStore::new(orders.clone()),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (sender, receiver) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .configure(click_actix::configure(shop.clone()))
                    .configure(click_actix::health(shop.clone()))
            })
            .workers(1)
            .shutdown_timeout(20)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("binds");
            sender.send(server.addrs()[0]).expect("the test waits");
            click_actix::serve(server.run(), async {
                let _ = stopped.await;
            })
            .await
        })
    });
    let address = receiver.recv().expect("the server starts");
    let ready = reqwest::get(format!("http://{address}/readyz"))
        .await
        .expect("answered");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("JSON");
    assert_eq!(body["status"], "ok");

    let base = format!("http://{address}/").parse().expect("a URL");
    let urls = CallbackPaths::default().urls(&base).expect("URLs");
    let target = Target::new(&urls, SERVICE, SecretKey::new(SECRET));
    let answer = click_testkit::transport::stop_with_a_callback_in_flight(
        &target,
        &orders,
        "o-1",
        || stop.send(()).expect("the server listens for the signal"),
        || {},
    )
    .await
    .expect("new connections are refused while the callback is in flight, which is answered");
    assert_eq!(answer.status(), 200);
    // actix-web closes a keep-alive connection after the answer in flight, as click-axum does.
    assert_eq!(
        answer.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    let answer: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(answer["error"], 0);
    let served = tokio::task::spawn_blocking(move || server.join())
        .await
        .expect("joined");
    assert!(matches!(served, Ok(Ok(()))), "{served:?}");
    assert_eq!(orders.deliveries("o-1"), 1);
}
