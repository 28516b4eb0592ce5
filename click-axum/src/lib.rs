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
//! [`MAX_BODY_BYTES`] (or one that trickles in slower than the read
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
use click_core::{Answer, CallbackPaths, Endpoint, ErrorCode, MAX_BODY_BYTES, Shop};
use tracing::Instrument;

/// How long a connection may take to send its headers, or a request its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The callback routes, configurable before they become a [`Router`].
#[derive(Debug, Clone)]
pub struct Routes {
    shop: Shop,
    paths: CallbackPaths,
    body_limit: usize,
    read_timeout: Duration,
}

impl Routes {
    /// Routes at the default paths (`/click/prepare`, `/click/complete`).
    pub fn new(shop: Shop) -> Self {
        Self {
            shop,
            paths: CallbackPaths::default(),
            body_limit: MAX_BODY_BYTES,
            read_timeout: READ_TIMEOUT,
        }
    }

    /// Mounts the routes at other paths (and optionally one route for both callbacks).
    #[must_use]
    pub fn paths(mut self, paths: CallbackPaths) -> Self {
        self.paths = paths;
        self
    }

    /// Changes the body limit (default [`MAX_BODY_BYTES`]).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Changes how long a body may take to arrive (default [`READ_TIMEOUT`]).
    #[must_use]
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// The router, to serve or to merge into the application's.
    pub fn into_router(self) -> Router {
        let paths = self.paths.clone();
        let state = Arc::new(self);
        let route = |endpoint| -> MethodRouter<Arc<Routes>> {
            post(
                move |State(routes): State<Arc<Routes>>, body: Body| async move {
                    routes.answer(endpoint, body).await
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

    async fn answer(&self, endpoint: Endpoint, body: Body) -> Response {
        let span = tracing::info_span!("click_axum", ?endpoint);
        async {
            let read = tokio::time::timeout(self.read_timeout, axum::body::to_bytes(body, self.body_limit));
            let body: Bytes = match read.await {
                Ok(Ok(body)) => body,
                Ok(Err(error)) => {
                    tracing::warn!(%error, limit = self.body_limit, "callback body unreadable or too large");
                    return json(StatusCode::OK, &Answer::bare(endpoint, ErrorCode::BadRequest));
                }
                Err(_) => {
                    tracing::warn!(timeout = ?self.read_timeout, "callback body too slow");
                    return json(StatusCode::OK, &Answer::bare(endpoint, ErrorCode::BadRequest));
                }
            };
            // On its own task: if Click hangs up, the transition still runs to its end.
            let shop = self.shop.clone();
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
}

/// The callback routes at the default paths, for `shop`.
pub fn routes(shop: Shop) -> Router {
    Routes::new(shop).into_router()
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
