//! click-actix over a real socket: the same testkit scenario suite, transport checks and slow
//! client as click-axum, so the two adapters provably behave the same.

use std::time::Duration;

use actix_web::{App, HttpServer};
use click_core::{CallbackPaths, CallbackRoutes, Keyring, MemoryStore, SecretKey, ServiceId, Shop};
use click_testkit::fixtures::{Seed, seed};
use click_testkit::{Options, Target};

const SERVICE: ServiceId = ServiceId::new(101);
const SECRET: &str = "actix-test-secret";

/// Serves a shop over `seed`'s book on an ephemeral port, on actix's own runtime in a thread of
/// its own; returns the emulator's target.
fn serve(seed: &Seed, paths: CallbackPaths) -> (Target, std::net::SocketAddr) {
    let shop = Shop::new(
        Keyring::new().service(SERVICE, SecretKey::new(SECRET)),
        MemoryStore::new(seed.book.clone()),
    );
    let routes = CallbackRoutes {
        paths: paths.clone(),
        ..CallbackRoutes::new(shop)
    };
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new().configure(click_actix::configure_routes(routes.clone()))
            })
            .client_request_timeout(click_core::READ_TIMEOUT)
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
    let outcome = click_testkit::transport::slow_client_is_cut_off(
        &target,
        click_core::READ_TIMEOUT + Duration::from_secs(5),
    )
    .await;
    assert_eq!(outcome, Ok(()));
}
