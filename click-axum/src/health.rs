//! The liveness and readiness routes ([`click_core::health`] decides their answers).

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use click_core::Shop;
use click_core::health::{Health, LIVE_PATH, READY_PATH, READY_TIMEOUT};

/// `GET /livez` (200 while the process serves) and `GET /readyz` (200 while the shop's store
/// answers a cheap query within [`READY_TIMEOUT`], else 503), both JSON; merge it into the
/// application's router. For Kubernetes: `livenessProbe` on `/livez`, `readinessProbe` on
/// `/readyz`; for systemd or a load balancer, the latter.
pub fn health(shop: Shop) -> Router {
    Router::new()
        .route(LIVE_PATH, get(|| async { respond(Health::OK) }))
        .route(
            READY_PATH,
            get(move || async move {
                let checked = tokio::time::timeout(READY_TIMEOUT, shop.store().check()).await;
                respond(checked.map_or_else(|_| Health::timed_out(), Health::of_store))
            }),
        )
}

fn respond(health: Health) -> Response {
    let status = StatusCode::from_u16(health.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        health.body(),
    )
        .into_response()
}
