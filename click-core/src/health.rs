//! Liveness and readiness answers for a load balancer, Kubernetes or systemd: what the adapters'
//! health routes send, decided once here.
//!
//! | route (adapters' default) | answers | means |
//! |---|---|---|
//! | `GET /livez` | 200 `{"status":"ok"}` | the process serves HTTP; restart it if this fails |
//! | `GET /readyz` | 200 `{"status":"ok"}`, or 503 `{"status":"unavailable","reason":…}` | the store answers within [`READY_TIMEOUT`]; send callbacks elsewhere while it does not |
//!
//! The reason never carries the store's error text (it may name hosts or users); the error is
//! logged instead.
//!
//! ```
//! use click_core::health::Health;
//! use click_core::{Keyring, MemoryStore, Shop};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let shop = Shop::new(Keyring::new(), MemoryStore::default());
//! let ready = Health::of_store(shop.store().check().await);
//! assert_eq!((ready.status(), ready.body()), (200, r#"{"status":"ok"}"#));
//! assert_eq!(Health::timed_out().status(), 503);
//! # });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use crate::store::StoreError;

/// How long a readiness check waits for the store before answering 503.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The default liveness path.
pub const LIVE_PATH: &str = "/livez";

/// The default readiness path.
pub const READY_PATH: &str = "/readyz";

/// A health answer: an HTTP status and a JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    status: u16,
    body: &'static str,
}

impl Health {
    /// Alive, or ready: 200.
    pub const OK: Health = Health {
        status: 200,
        body: r#"{"status":"ok"}"#,
    };

    /// The readiness answer for the outcome of [`OrderStore::check`](crate::OrderStore::check)
    /// (the error is logged, not sent).
    pub fn of_store(checked: Result<(), StoreError>) -> Health {
        match checked {
            Ok(()) => Health::OK,
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "readiness check: the store failed"
                );
                Health {
                    status: 503,
                    body: r#"{"status":"unavailable","reason":"the store failed"}"#,
                }
            }
        }
    }

    /// The readiness answer when the store did not answer within [`READY_TIMEOUT`].
    pub fn timed_out() -> Health {
        tracing::warn!(timeout = ?READY_TIMEOUT, "readiness check: the store did not answer in time");
        Health {
            status: 503,
            body: r#"{"status":"unavailable","reason":"the store did not answer in time"}"#,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The JSON body.
    pub fn body(&self) -> &'static str {
        self.body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_store_is_unavailable_without_its_error_text() {
        let failed = Health::of_store(Err(StoreError::backend(std::io::Error::other(
            "connection to db.internal:5432 as admin refused",
        ))));
        assert_eq!(failed.status(), 503);
        assert!(!failed.body().contains("db.internal"), "{}", failed.body());
        let body: serde_json::Value = serde_json::from_str(failed.body()).expect("JSON");
        assert_eq!(body["status"], "unavailable");
        let timed_out: serde_json::Value =
            serde_json::from_str(Health::timed_out().body()).expect("JSON");
        assert_eq!(timed_out["status"], "unavailable");
    }
}
