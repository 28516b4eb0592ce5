//! actix-web routes for Click's SHOP-API callbacks: bytes in, [`click_core::Shop`], JSON out.
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use click_core::{Keyring, MemoryStore, SecretKey, ServiceId, Shop};
//!
//! # async fn run() -> std::io::Result<()> {
//! let shop = Shop::new(
//!     Keyring::new().service(ServiceId::new(101), SecretKey::new("secret")),
//!     MemoryStore::default(),
//! );
//! HttpServer::new(move || App::new().configure(click_actix::configure(shop.clone())))
//!     .client_request_timeout(click_core::READ_TIMEOUT)
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! # }
//! ```
//!
//! Every POST is answered HTTP 200 with Click's JSON, whatever its `Content-Type`: a body over
//! [`MAX_BODY_BYTES`](click_core::MAX_BODY_BYTES) (or one slower than the read timeout) is
//! answered `-8` without being read further, instead of actix's own 413 page. Other methods get 405
//! with a JSON body. The shop handles each callback on a task of its own, so a client that hangs up
//! never cuts a state transition in half. Give the server a
//! [`client_request_timeout`](actix_web::HttpServer::client_request_timeout) (actix's default is
//! 5 s) so slow clients cannot hold connections.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use click_core::{Answer, CallbackRoutes, Endpoint, ErrorCode, Shop};
use tracing::Instrument;

/// The callback routes of `routes`, for `App::configure`.
pub fn configure_routes(routes: CallbackRoutes) -> impl FnOnce(&mut web::ServiceConfig) {
    move |config| {
        let paths = routes.paths.clone();
        let routes = web::Data::new(routes);
        let mut mount = |path: &str, endpoint: Endpoint| {
            config.service(
                web::resource(path)
                    .app_data(routes.clone())
                    .route(web::post().to(
                        move |routes: web::Data<CallbackRoutes>, body: web::Payload| async move {
                            answer(&routes, endpoint, body).await
                        },
                    ))
                    .default_service(web::to(move || async move { method_not_allowed(endpoint) })),
            );
        };
        mount(&paths.prepare, Endpoint::Prepare);
        mount(&paths.complete, Endpoint::Complete);
        if let Some(single) = &paths.single {
            mount(single, Endpoint::Any);
        }
    }
}

async fn answer(routes: &CallbackRoutes, endpoint: Endpoint, body: web::Payload) -> HttpResponse {
    let span = tracing::info_span!("click_actix", ?endpoint);
    async {
        let read = actix_web::rt::time::timeout(
            routes.read_timeout,
            body.to_bytes_limited(routes.body_limit),
        );
        let body = match read.await {
            Ok(Ok(Ok(body))) => body,
            Ok(Ok(Err(error))) => {
                tracing::warn!(%error, "callback body unreadable");
                return json(
                    StatusCode::OK,
                    &Answer::bare(endpoint, ErrorCode::BadRequest),
                );
            }
            Ok(Err(_)) => {
                tracing::warn!(limit = routes.body_limit, "callback body too large");
                return json(
                    StatusCode::OK,
                    &Answer::bare(endpoint, ErrorCode::BadRequest),
                );
            }
            Err(_) => {
                tracing::warn!(timeout = ?routes.read_timeout, "callback body too slow");
                return json(
                    StatusCode::OK,
                    &Answer::bare(endpoint, ErrorCode::BadRequest),
                );
            }
        };
        // On its own task: if Click hangs up, the transition still runs to its end.
        let shop = routes.shop.clone();
        let handled = actix_web::rt::spawn(
            async move { shop.handle(endpoint, &body).await }.in_current_span(),
        );
        match handled.await {
            Ok(answer) => json(StatusCode::OK, &answer),
            Err(error) => {
                tracing::error!(%error, "callback handler failed; answering -7 so Click retries");
                json(
                    StatusCode::OK,
                    &Answer::bare(endpoint, ErrorCode::FailedToUpdateUser),
                )
            }
        }
    }
    .instrument(span)
    .await
}

/// The callback routes at the default paths, for `App::configure`.
pub fn configure(shop: Shop) -> impl FnOnce(&mut web::ServiceConfig) {
    configure_routes(CallbackRoutes::new(shop))
}

fn method_not_allowed(endpoint: Endpoint) -> HttpResponse {
    let mut response = json(
        StatusCode::METHOD_NOT_ALLOWED,
        &Answer::bare(endpoint, ErrorCode::BadRequest),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    response
}

fn json(status: StatusCode, answer: &Answer) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .body(answer.to_json())
}
