//! axum routes for Click's SHOP-API callbacks: bytes in, [`click_core::Shop`], JSON out; and a
//! server that stops gracefully.
//!
//! Two names: [`router`] mounts the callbacks (a [`Shop`](click_core::Shop) for the default paths
//! and limits, or a [`CallbackRoutes`](click_core::CallbackRoutes) to choose them), [`serve`]
//! serves an application. [`health`] adds the liveness and readiness routes.
//!
//! ```no_run
//! use click_core::{Keyring, MemoryStore, SecretKey, ServiceId, Shop};
//!
//! # async fn run() -> std::io::Result<()> {
//! let shop = Shop::new(
//!     Keyring::new().service(ServiceId::new(101), SecretKey::new("secret")),
//!     MemoryStore::default(),
//! );
//! let app = axum::Router::new()
//!     .merge(click_axum::router(shop.clone())) // POST /click/prepare, /click/complete
//!     .merge(click_axum::health(shop)); // GET /livez, /readyz
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! click_axum::serve(listener, app)
//!     .with_graceful_shutdown(click_axum::shutdown_signal())
//!     .await
//! # }
//! ```
//!
//! Every POST is answered HTTP 200 with Click's JSON, whatever its `Content-Type`: a body over
//! the limit ([`MAX_BODY_BYTES`](click_core::MAX_BODY_BYTES) by default), or one that trickles in
//! slower than the read timeout, is answered `-8` without being read further. Other methods get
//! 405 with a JSON body. The shop handles each callback on a task of its own, so a client that
//! hangs up mid-request never cuts a state transition in half.
//!
//! [`serve`] keeps what `axum::serve` offers (graceful shutdown, [`ConnectInfo`]
//! of the peer's address) and adds a header-read timeout, so slow clients cannot hold connections
//! open, and a bounded shutdown in which every callback in flight is answered.
//!
//! [`ConnectInfo`]: axum::extract::ConnectInfo

mod health;
mod routes;
mod serve;

pub use health::health;
pub use routes::router;
pub use serve::{Serve, serve, shutdown_signal};
