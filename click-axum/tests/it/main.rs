//! click-axum over a real socket: the testkit's scenario suite, its transport checks, a slow
//! client, a graceful shutdown with a callback in flight, and the health routes, against
//! `click_axum::serve`.

use std::future::IntoFuture;
use std::time::Duration;

use click_core::testing::TestOrders;
use click_core::{CallbackPaths, CallbackRoutes, Keyring, MemoryStore, SecretKey, ServiceId, Shop};
use click_testkit::fixtures::{Seed, seed};
use click_testkit::{Options, Target};

const SERVICE: ServiceId = ServiceId::new(101);
const SECRET: &str = "axum-test-secret";
/// The read timeouts of the servers under test: short, so the slow client is cut off quickly.
const READ_TIMEOUT: Duration = Duration::from_secs(1);

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
        read_timeout: READ_TIMEOUT,
        ..CallbackRoutes::new(shop)
    });
    tokio::spawn(
        click_axum::serve(listener, router)
            .read_timeout(READ_TIMEOUT)
            .into_future(),
    );
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
    let outcome = click_testkit::transport::slow_client_is_cut_off(&target, READ_TIMEOUT * 3).await;
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
    tokio::spawn(click_axum::serve(listener, naive).into_future());
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
    tokio::spawn(click_axum::serve(listener, click_axum::router(shop)).into_future());
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
        tokio::spawn(click_axum::serve(listener, click_axum::router(shop.clone())).into_future());
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

/// Stopping with a callback in flight: the listener closes at once (a new connection is
/// refused), the callback is answered with `Connection: close`, and the server returns.
#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_shutdown_answers_the_callback_in_flight_and_refuses_new_ones() {
    let orders = TestOrders::default();
    let amount = "1000".parse().expect("amount");
    orders.insert("o-1", click_core::Order::Payable { amount });
    let shop = Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        MemoryStore::new(orders.clone()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        click_axum::serve(listener, click_axum::router(shop))
            .shutdown_timeout(Duration::from_secs(20))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let base = format!("http://{address}/").parse().expect("a URL");
    let urls = CallbackPaths::default().urls(&base).expect("URLs");
    let target = Target::new(&urls, SERVICE, SecretKey::new(SECRET));
    let answer = click_testkit::transport::stop_with_a_callback_in_flight(
        &target,
        &orders,
        "o-1",
        || stop.send(()).expect("the server listens for the signal"),
        || assert!(!server.is_finished(), "the server waits for the callback"),
    )
    .await
    .expect("new connections are refused while the callback is in flight, which is answered");
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers().get("connection").map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    let answer: serde_json::Value = answer.json().await.expect("JSON");
    assert_eq!(answer["error"], 0);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server returns once the callback is answered")
        .expect("joined")
        .expect("served");
    assert_eq!(orders.deliveries("o-1"), 1);
}

/// A server that is told to stop with an idle keep-alive connection returns after a short
/// grace, well within its shutdown timeout.
#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_shutdown_closes_idle_connections() {
    stop_with_an_idle_connection(click_core::SHUTDOWN_TIMEOUT)
        .await
        .expect("served");
}

/// A shutdown timeout shorter than the grace given to idle connections drops them, and that is
/// no error: no request was cut.
#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_timeout_that_drops_only_idle_connections_is_no_error() {
    stop_with_an_idle_connection(Duration::from_millis(100))
        .await
        .expect("an idle connection dropped is no error");
}

/// A request still in flight when the shutdown timeout passes is dropped, and the server says
/// so: it returns an error of kind `TimedOut`, not `Ok`.
#[tokio::test(flavor = "multi_thread")]
async fn a_shutdown_timeout_that_drops_a_request_is_an_error() {
    let (arrived, arrival) = tokio::sync::oneshot::channel::<()>();
    let arrived = std::sync::Arc::new(std::sync::Mutex::new(Some(arrived)));
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            if let Some(arrived) = arrived.lock().expect("not poisoned").take() {
                let _ = arrived.send(());
            }
            std::future::pending::<&'static str>()
        }),
    );
    let (address, stop, server) = stoppable(app, Duration::from_millis(200)).await;
    let request = tokio::spawn(reqwest::get(format!("http://{address}/")));
    arrival.await.expect("the request reaches its handler");
    stop.send(()).expect("the server listens for the signal");
    let error = stopped_within_5_s(server)
        .await
        .expect_err("a dropped request makes the stop an error");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert!(
        request.await.expect("joined").is_err(),
        "the dropped request gets no answer"
    );
}

/// Serves `app` with `shutdown_timeout` on an ephemeral port until the returned sender fires.
async fn stoppable(
    app: axum::Router,
    shutdown_timeout: Duration,
) -> (
    std::net::SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        click_axum::serve(listener, app)
            .shutdown_timeout(shutdown_timeout)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    (address, stop, server)
}

/// What the server returns, which it must within 5 s.
async fn stopped_within_5_s(
    server: tokio::task::JoinHandle<std::io::Result<()>>,
) -> std::io::Result<()> {
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server returns within 5 s of its signal")
        .expect("joined")
}

/// Stops a server with `shutdown_timeout` while a client holds an idle keep-alive connection to
/// it; what the server returns.
async fn stop_with_an_idle_connection(shutdown_timeout: Duration) -> std::io::Result<()> {
    let app = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
    let (address, stop, server) = stoppable(app, shutdown_timeout).await;
    let client = reqwest::Client::new();
    let idle = client
        .get(format!("http://{address}/"))
        .send()
        .await
        .expect("answered");
    assert_eq!(idle.text().await.expect("a body"), "ok");
    stop.send(()).expect("the server listens for the signal");
    stopped_within_5_s(server).await
}

/// Handlers see the peer's address, as with `axum::serve` and `into_make_service_with_connect_info`.
#[tokio::test(flavor = "multi_thread")]
async fn handlers_get_the_peer_address() {
    use axum::extract::ConnectInfo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    let app =
        axum::Router::new().route(
            "/peer",
            axum::routing::get(
                |ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>| async move {
                    peer.ip().to_string()
                },
            ),
        );
    tokio::spawn(click_axum::serve(listener, app).into_future());
    let peer = reqwest::get(format!("http://{address}/peer"))
        .await
        .expect("answered")
        .text()
        .await
        .expect("a body");
    assert_eq!(peer, "127.0.0.1");
}

/// `/livez` and `/readyz` answer JSON; readiness asks the store.
#[tokio::test(flavor = "multi_thread")]
async fn the_health_routes_answer_json() {
    let shop = Shop::new(Keyring::new(), MemoryStore::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(click_axum::serve(listener, click_axum::health(shop)).into_future());
    for path in ["livez", "readyz"] {
        let answer = reqwest::get(format!("http://{address}/{path}"))
            .await
            .expect("answered");
        assert_eq!(answer.status(), 200, "{path}");
        assert_eq!(
            answer.headers()["content-type"],
            "application/json",
            "{path}"
        );
        let body: serde_json::Value = answer.json().await.expect("JSON");
        assert_eq!(body["status"], "ok", "{path}");
    }
}
