//! What an adapter needs to mount the callbacks ([`CallbackRoutes`]), and the URLs to register in
//! Click's merchant cabinet.

use std::time::Duration;

use url::Url;

use crate::answer::{Answer, ErrorCode};
use crate::callback::Endpoint;
use crate::shop::Shop;

/// The largest callback body an adapter reads. Click's posts are a few hundred bytes; anything
/// larger is answered `-8` without being read further.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How long a client may take to send a callback's headers, or its body, before an adapter gives
/// up on it (a body is then answered `-8`).
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server waits, once told to stop, for the callbacks in flight to be answered before
/// it exits anyway.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// The callback routes an adapter mounts: the shop, where, and the limits on reading a body.
/// `click_axum::router` and `click_actix::configure` take one, or a [`Shop`] for the defaults.
///
/// ```
/// use click_core::{CallbackPaths, CallbackRoutes, MemoryStore, Keyring, Shop};
///
/// let routes = CallbackRoutes {
///     paths: CallbackPaths { single: Some("/click".into()), ..CallbackPaths::default() },
///     ..CallbackRoutes::new(Shop::new(Keyring::new(), MemoryStore::default()))
/// };
/// assert_eq!(routes.body_limit, click_core::MAX_BODY_BYTES);
/// ```
#[derive(Debug, Clone)]
pub struct CallbackRoutes {
    /// The state machine the routes hand bodies to.
    pub shop: Shop,
    /// Where the routes are mounted.
    pub paths: CallbackPaths,
    /// The largest body read (default [`MAX_BODY_BYTES`]).
    pub body_limit: usize,
    /// How long a body may take to arrive (default [`READ_TIMEOUT`]).
    pub read_timeout: Duration,
}

impl CallbackRoutes {
    /// The routes of `shop` at the default paths, with the default limits.
    pub fn new(shop: Shop) -> Self {
        Self {
            shop,
            paths: CallbackPaths::default(),
            body_limit: MAX_BODY_BYTES,
            read_timeout: READ_TIMEOUT,
        }
    }
}

/// Why an adapter answers a callback without the shop.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Unhandled<'a> {
    /// The body could not be read (the client's connection failed, or the body was over the
    /// limit where the framework does not tell the two apart).
    Unreadable(&'a (dyn std::error::Error + 'a)),
    /// The body is over [`CallbackRoutes::body_limit`].
    TooLarge,
    /// The body did not arrive within [`CallbackRoutes::read_timeout`].
    TooSlow,
    /// The task running the shop failed (a panic in a hook).
    HandlerFailed(&'a (dyn std::error::Error + 'a)),
}

impl CallbackRoutes {
    /// The answer to a callback the shop could not handle, logged and counted in
    /// `click_callbacks_total` ([`crate::metrics`]): `-8` for a body that could not be read
    /// within the limits, `-7` (Click retries) when the handler failed. Send it with HTTP 200, as
    /// any answer.
    pub fn unhandled(&self, endpoint: Endpoint, why: Unhandled<'_>) -> Answer {
        let error = match why {
            Unhandled::Unreadable(error) => {
                tracing::warn!(%error, limit = self.body_limit, "callback body unreadable (or over the limit)");
                ErrorCode::BadRequest
            }
            Unhandled::TooLarge => {
                tracing::warn!(limit = self.body_limit, "callback body too large");
                ErrorCode::BadRequest
            }
            Unhandled::TooSlow => {
                tracing::warn!(timeout = ?self.read_timeout, "callback body too slow");
                ErrorCode::BadRequest
            }
            Unhandled::HandlerFailed(error) => {
                tracing::error!(%error, "callback handler failed; answering -7 so Click retries");
                ErrorCode::FailedToUpdateUser
            }
        };
        crate::metrics::answered(endpoint, error);
        Answer::bare(endpoint, error)
    }
}

impl From<Shop> for CallbackRoutes {
    fn from(shop: Shop) -> Self {
        Self::new(shop)
    }
}

/// The paths of the callback routes.
///
/// ```
/// use click_core::CallbackPaths;
///
/// let urls = CallbackPaths::default().urls(&"https://shop.example/api/".parse()?)?;
/// assert_eq!(urls.prepare.as_str(), "https://shop.example/api/click/prepare");
/// assert_eq!(urls.complete.as_str(), "https://shop.example/api/click/complete");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackPaths {
    /// The Prepare route (default `/click/prepare`).
    pub prepare: String,
    /// The Complete route (default `/click/complete`).
    pub complete: String,
    /// An optional single route for both, dispatching on `action` (for merchants who registered
    /// one URL).
    pub single: Option<String>,
}

impl Default for CallbackPaths {
    fn default() -> Self {
        Self {
            prepare: "/click/prepare".to_owned(),
            complete: "/click/complete".to_owned(),
            single: None,
        }
    }
}

/// The public URLs of the callback routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrls {
    /// Register as the Prepare URL.
    pub prepare: Url,
    /// Register as the Complete URL.
    pub complete: Url,
    /// Register as both, if a single route is mounted.
    pub single: Option<Url>,
}

impl CallbackPaths {
    /// The URLs under a public base URL (the address Click reaches the application at, including
    /// any path prefix the application is mounted under).
    ///
    /// # Errors
    ///
    /// A path that does not join onto the base.
    pub fn urls(&self, public_base: &Url) -> Result<CallbackUrls, url::ParseError> {
        let base = if public_base.path().ends_with('/') {
            public_base.clone()
        } else {
            let mut base = public_base.clone();
            base.set_path(&format!("{}/", public_base.path()));
            base
        };
        let join = |path: &str| base.join(path.trim_start_matches('/'));
        Ok(CallbackUrls {
            prepare: join(&self.prepare)?,
            complete: join(&self.complete)?,
            single: self.single.as_deref().map(join).transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    use super::*;
    use crate::{Keyring, MemoryStore};

    #[test]
    fn a_callback_answered_without_the_shop_is_counted() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let routes = CallbackRoutes::new(Shop::new(Keyring::new(), MemoryStore::default()));
        let answer = ::metrics::with_local_recorder(&recorder, || {
            routes.unhandled(Endpoint::Complete, Unhandled::TooLarge)
        });
        assert_eq!(answer.error(), ErrorCode::BadRequest);
        let counted: Vec<_> = snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .map(|(key, _, _, value)| {
                let labels: Vec<_> = key
                    .key()
                    .labels()
                    .map(|label| format!("{}={}", label.key(), label.value()))
                    .collect();
                (key.key().name().to_owned(), labels, value)
            })
            .collect();
        assert_eq!(
            counted,
            [(
                crate::metrics::CALLBACKS.to_owned(),
                vec!["endpoint=complete".to_owned(), "code=-8".to_owned()],
                DebugValue::Counter(1)
            )]
        );
    }

    #[test]
    fn joins_under_a_prefix_with_or_without_a_slash() {
        let paths = CallbackPaths {
            single: Some("/click".to_owned()),
            ..CallbackPaths::default()
        };
        for base in ["https://shop.example/api", "https://shop.example/api/"] {
            let urls = paths.urls(&base.parse().expect("URL")).expect("joins");
            assert_eq!(
                urls.prepare.as_str(),
                "https://shop.example/api/click/prepare"
            );
            assert_eq!(
                urls.single.map(String::from).as_deref(),
                Some("https://shop.example/api/click")
            );
        }
        let root = CallbackPaths::default().urls(&"http://127.0.0.1:8080".parse().expect("URL"));
        assert_eq!(
            root.map(|u| u.complete.to_string()).ok().as_deref(),
            Some("http://127.0.0.1:8080/click/complete")
        );
    }
}
