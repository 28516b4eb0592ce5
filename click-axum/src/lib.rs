//! axum routes for Click's SHOP-API callbacks: bytes in, [`click_core::Shop`], JSON out.
//!
//! ```no_run
//! use click_core::{Keyring, MemoryStore, SecretKey, ServiceId, Shop};
//!
//! # async fn run() -> std::io::Result<()> {
//! let shop = Shop::new(
//!     Keyring::new().service(ServiceId::new(101), SecretKey::new("secret")),
//!     MemoryStore::default(),
//! );
//! let app = axum::Router::new().merge(click_axum::routes(shop)); // POST /click/prepare, /click/complete
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! click_axum::serve(listener, app).await
//! # }
//! ```
//!
//! Every POST is answered HTTP 200 with Click's JSON, whatever its `Content-Type`: a body over
//! [`MAX_BODY_BYTES`](click_core::MAX_BODY_BYTES) (or one that trickles in slower than the read
//! timeout) is answered `-8` without being read further. Other methods get 405 with a JSON body.
//! The shop handles each callback on a task of its own, so a client that hangs up mid-request
//! never cuts a state transition in half. [`serve`] adds the header-read timeout that
//! `axum::serve` lacks, so slow clients cannot hold connections open.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use click_core::{Answer, CallbackRoutes, Endpoint, ErrorCode, READ_TIMEOUT, Shop};
use tracing::Instrument;

/// The callback routes of `routes` as a [`Router`], to serve or to merge into the application's.
pub fn router(routes: CallbackRoutes) -> Router {
    let paths = routes.paths.clone();
    let state = Arc::new(routes);
    let route = |endpoint| -> MethodRouter<Arc<CallbackRoutes>> {
        post(
            move |State(routes): State<Arc<CallbackRoutes>>, body: Body| async move {
                answer(&routes, endpoint, body).await
            },
        )
        .fallback(move || async move { method_not_allowed(endpoint) })
    };
    let mut router = Router::new()
        .route(&paths.prepare, route(Endpoint::Prepare))
        .route(&paths.complete, route(Endpoint::Complete));
    if let Some(single) = &paths.single {
        router = router.route(single, route(Endpoint::Any));
    }
    router.with_state(state)
}

async fn answer(routes: &CallbackRoutes, endpoint: Endpoint, body: Body) -> Response {
    let span = tracing::info_span!("click_axum", ?endpoint);
    async {
            let read = tokio::time::timeout(routes.read_timeout, axum::body::to_bytes(body, routes.body_limit));
            let body: Bytes = match read.await {
                Ok(Ok(body)) => body,
                Ok(Err(error)) => {
                    tracing::warn!(%error, limit = routes.body_limit, "callback body unreadable or too large");
                    return json(StatusCode::OK, &Answer::bare(endpoint, ErrorCode::BadRequest));
                }
                Err(_) => {
                    tracing::warn!(timeout = ?routes.read_timeout, "callback body too slow");
                    return json(StatusCode::OK, &Answer::bare(endpoint, ErrorCode::BadRequest));
                }
            };
            // On its own task: if Click hangs up, the transition still runs to its end.
            let shop = routes.shop.clone();
            let handled = tokio::spawn(
                async move { shop.handle(endpoint, &body).await }.in_current_span(),
            );
            match handled.await {
                Ok(answer) => json(StatusCode::OK, &answer),
                Err(error) => {
                    tracing::error!(%error, "callback handler failed; answering -7 so Click retries");
                    json(StatusCode::OK, &Answer::bare(endpoint, ErrorCode::FailedToUpdateUser))
                }
            }
        }
        .instrument(span)
        .await
}

/// The callback routes at the default paths, for `shop`.
pub fn routes(shop: Shop) -> Router {
    router(CallbackRoutes::new(shop))
}

fn method_not_allowed(endpoint: Endpoint) -> Response {
    let mut response = json(
        StatusCode::METHOD_NOT_ALLOWED,
        &Answer::bare(endpoint, ErrorCode::BadRequest),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

fn json(status: StatusCode, answer: &Answer) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        answer.to_json(),
    )
        .into_response()
}

/// Serves `app` like `axum::serve`, with a [`READ_TIMEOUT`] for request headers, so a client
/// that sends them a byte at a time is disconnected instead of holding a connection.
///
/// # Errors
///
/// Accepting connections failed.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) if is_transient(&error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(error) => return Err(error),
        };
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed");
            }
        });
    }
}

/// Accept errors that concern one connection (or a momentary lack of file descriptors).
fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) || error.raw_os_error() == Some(24)
}
