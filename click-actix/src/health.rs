//! The liveness and readiness routes ([`click_core::health`] decides their answers).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use click_core::Shop;
use click_core::health::{Health, LIVE_PATH, READY_PATH, READY_TIMEOUT};

/// `GET /livez` (200 while the process serves) and `GET /readyz` (200 while the shop's store
/// answers a cheap query within [`READY_TIMEOUT`], else 503), both JSON, for `App::configure`.
/// For Kubernetes: `livenessProbe` on `/livez`, `readinessProbe` on `/readyz`; for systemd or a
/// load balancer, the latter.
pub fn health(shop: Shop) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        config
            .route(LIVE_PATH, web::get().to(|| async { respond(Health::OK) }))
            .route(
                READY_PATH,
                web::get().to(move || {
                    let shop = shop.clone();
                    async move {
                        let checked =
                            actix_web::rt::time::timeout(READY_TIMEOUT, shop.store().check()).await;
                        respond(checked.map_or_else(|_| Health::timed_out(), Health::of_store))
                    }
                }),
            );
    }
}

fn respond(health: Health) -> HttpResponse {
    let status = StatusCode::from_u16(health.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .body(health.body())
}
