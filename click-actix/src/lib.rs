//! actix-web routes for Click's SHOP-API callbacks: bytes in, [`click_core::Shop`], JSON out; and
//! a graceful stop on a signal of the caller's choosing.
//!
//! Two names: [`configure`] mounts the callbacks (a [`Shop`](click_core::Shop) for the default
//! paths and limits, or a [`CallbackRoutes`](click_core::CallbackRoutes) to choose them),
//! [`serve`] runs a server until a shutdown signal of the caller's (actix-web itself stops
//! gracefully on SIGTERM and Ctrl-C). [`health`] adds the liveness and readiness routes.
//!
//! ```no_run
//! use actix_web::{App, HttpServer};
//! use click_core::{Keyring, MemoryStore, READ_TIMEOUT, SHUTDOWN_TIMEOUT, SecretKey, ServiceId, Shop};
//!
//! # async fn run() -> std::io::Result<()> {
//! let shop = Shop::new(
//!     Keyring::new().service(ServiceId::new(101), SecretKey::new("secret")),
//!     MemoryStore::default(),
//! );
//! let server = HttpServer::new(move || {
//!     App::new()
//!         .configure(click_actix::configure(shop.clone())) // POST /click/prepare, /click/complete
//!         .configure(click_actix::health(shop.clone())) // GET /livez, /readyz
//! })
//! .client_request_timeout(READ_TIMEOUT)
//! .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
//! .bind(("127.0.0.1", 8080))?
//! .run();
//! server.await // stops gracefully on SIGTERM or Ctrl-C
//! # }
//! ```
//!
//! Every POST is answered HTTP 200 with Click's JSON, whatever its `Content-Type`: a body over
//! the limit ([`MAX_BODY_BYTES`](click_core::MAX_BODY_BYTES) by default), or one slower than the
//! read timeout, is answered `-8` without being read further, instead of actix's own 413 page.
//! Other methods get 405 with a JSON body. The shop handles each callback on a task of its own,
//! so a client that hangs up never cuts a state transition in half.
//!
//! Give the server a [`client_request_timeout`](actix_web::HttpServer::client_request_timeout)
//! (actix's default is 5 s) so slow clients cannot hold connections, and a
//! [`shutdown_timeout`](actix_web::HttpServer::shutdown_timeout) (actix's default is 30 s)
//! bounding how long a stop waits for the callbacks in flight.

mod health;
mod routes;
mod serve;

pub use health::health;
pub use routes::configure;
pub use serve::serve;
