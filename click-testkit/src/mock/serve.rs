//! Serving the mock over HTTP/1, one task per connection, so that [`Fault::Drop`] can close a
//! connection without answering (which `axum::serve` offers no way to do).
//!
//! [`Fault::Drop`]: super::Fault::Drop

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::service::Service;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// A request's handle on its connection: [`Hangup::hang_up`] closes it without an answer.
/// Requests served by [`serve`] carry one in their extensions.
#[derive(Debug, Clone)]
pub(super) struct Hangup(Arc<Notify>);

impl Hangup {
    /// Closes the connection the request came on; whatever it was about to answer is lost.
    pub(super) fn hang_up(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` until the runtime stops.
pub(super) async fn serve(listener: TcpListener, router: Router) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::warn!(%error, "the mock Merchant API could not accept a connection");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let router = router.clone();
        tokio::spawn(async move {
            let hangup = Hangup(Arc::new(Notify::new()));
            let service = TowerToHyperService::new(router);
            let handle = hangup.clone();
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(handle.clone());
                    service.call(request)
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                served = connection => {
                    if let Err(error) = served {
                        tracing::debug!(%error, "a connection to the mock Merchant API failed");
                    }
                }
                () = hangup.0.notified() => {}
            }
        });
    }
}
