//! The callback routes: a body read within the limits, handed to the shop, answered in JSON.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, post};
use click_core::{Answer, CallbackRoutes, Endpoint, ErrorCode, Unhandled};
use tracing::Instrument;

/// The callback routes as a [`Router`], to serve or to merge into the application's: a
/// [`Shop`](click_core::Shop) at the default paths and limits, or [`CallbackRoutes`] that choose
/// them.
///
/// ```
/// use click_core::{CallbackPaths, CallbackRoutes, Keyring, MemoryStore, Shop};
/// use std::time::Duration;
///
/// let shop = Shop::new(Keyring::new(), MemoryStore::default());
/// let defaults = click_axum::router(shop.clone());
/// let one_url = click_axum::router(CallbackRoutes {
///     paths: CallbackPaths { single: Some("/click".into()), ..CallbackPaths::default() },
///     read_timeout: Duration::from_secs(3),
///     ..CallbackRoutes::new(shop)
/// });
/// # let _ = (defaults, one_url);
/// ```
pub fn router(routes: impl Into<CallbackRoutes>) -> Router {
    let routes = routes.into();
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
        let read = tokio::time::timeout(
            routes.read_timeout,
            axum::body::to_bytes(body, routes.body_limit),
        );
        let unhandled = |why| json(StatusCode::OK, &routes.unhandled(endpoint, why));
        let body: Bytes = match read.await {
            Ok(Ok(body)) => body,
            Ok(Err(error)) => return unhandled(Unhandled::Unreadable(&error)),
            Err(_) => return unhandled(Unhandled::TooSlow),
        };
        // On its own task: if Click hangs up, the transition still runs to its end.
        let shop = routes.shop.clone();
        let handled =
            tokio::spawn(async move { shop.handle(endpoint, &body).await }.in_current_span());
        let answer = match handled.await {
            Ok(answer) => answer,
            Err(error) => routes.unhandled(endpoint, Unhandled::HandlerFailed(&error)),
        };
        json(StatusCode::OK, &answer)
    }
    .instrument(span)
    .await
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
