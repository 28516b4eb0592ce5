//! The callback routes: a body read within the limits, handed to the shop, answered in JSON.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use click_core::{Answer, CallbackRoutes, Endpoint, ErrorCode, Unhandled};
use tracing::Instrument;

/// The callback routes, for `App::configure`: a [`Shop`](click_core::Shop) at the default paths
/// and limits, or [`CallbackRoutes`] that choose them.
///
/// ```
/// use actix_web::App;
/// use click_core::{CallbackPaths, CallbackRoutes, Keyring, MemoryStore, Shop};
///
/// let shop = Shop::new(Keyring::new(), MemoryStore::default());
/// let defaults = App::new().configure(click_actix::configure(shop.clone()));
/// let one_url = App::new().configure(click_actix::configure(CallbackRoutes {
///     paths: CallbackPaths { single: Some("/click".into()), ..CallbackPaths::default() },
///     ..CallbackRoutes::new(shop)
/// }));
/// # let _ = (defaults, one_url);
/// ```
pub fn configure(routes: impl Into<CallbackRoutes>) -> impl FnOnce(&mut web::ServiceConfig) {
    let routes = routes.into();
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
        let unhandled = |why| json(StatusCode::OK, &routes.unhandled(endpoint, why));
        let body = match read.await {
            Ok(Ok(Ok(body))) => body,
            Ok(Ok(Err(error))) => return unhandled(Unhandled::Unreadable(&error)),
            Ok(Err(_)) => return unhandled(Unhandled::TooLarge),
            Err(_) => return unhandled(Unhandled::TooSlow),
        };
        // On its own task: if Click hangs up, the transition still runs to its end.
        let shop = routes.shop.clone();
        let handled = actix_web::rt::spawn(
            async move { shop.handle(endpoint, &body).await }.in_current_span(),
        );
        let answer = match handled.await {
            Ok(answer) => answer,
            Err(error) => routes.unhandled(endpoint, Unhandled::HandlerFailed(&error)),
        };
        json(StatusCode::OK, &answer)
    }
    .instrument(span)
    .await
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
