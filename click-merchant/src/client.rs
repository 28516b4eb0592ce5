//! [`MerchantClient`]: one connection pool, signed requests, typed failures, and retries only
//! where repeating a call cannot charge anyone twice.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use click_core::Credentials;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, DATE};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::auth::{Clock, auth_header};
use crate::error::MerchantError;
use crate::wire::Status;

/// Click's Merchant API.
pub const DEFAULT_BASE_URL: &str = "https://api.click.uz/v2/merchant/";

/// How often, and how patiently, a call that is safe to repeat is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 disables retries).
    pub attempts: u32,
    /// The pause before the second attempt; it doubles for each later one.
    pub initial_backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Whether repeating a call is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Safety {
    /// Status reads, deletions of a card token, confirm-mode switches, confirms: repeating them
    /// cannot charge twice, so transient failures are retried.
    Repeatable,
    /// Invoices, payments, reversals, fiscal data: a repeat could act twice, so only a request
    /// that provably never left (connection refused) is retried.
    Once,
}

/// Whether the answer carries `error_code`, and whether it may carry card data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `error_code` and `error_note`, then the call's fields.
    Checked,
    /// Like `Checked`, but the answer may carry a card token, a masked card or a phone number:
    /// an undecodable one is not quoted in the error.
    Private,
    /// Only the call's fields (`GET payment/ofd_data`).
    Plain,
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The base URL does not parse, or cannot be a base.
    #[error("invalid base URL: {0}")]
    InvalidBaseUrl(String),
    /// A plain `http://` base URL that is not loopback: the `Auth` header would travel in clear.
    #[error("refusing a plain-HTTP base URL that is not loopback: {0}")]
    InsecureBaseUrl(String),
    /// The HTTP client could not be built.
    #[error("HTTP client")]
    Http(#[source] reqwest::Error),
    /// A certificate given to trust is not a PEM certificate.
    #[error("invalid root certificate")]
    Certificate(#[source] reqwest::Error),
}

/// Builds a [`MerchantClient`].
#[derive(Debug)]
pub struct MerchantClientBuilder {
    credentials: Credentials,
    base_url: String,
    connect_timeout: Duration,
    timeout: Duration,
    retry: RetryPolicy,
    clock: Clock,
    max_answer_bytes: usize,
    roots: Vec<Vec<u8>>,
}

impl MerchantClientBuilder {
    /// Trusts one more certificate authority (a PEM certificate) beside the system's: a
    /// corporate TLS proxy's, or a test server's. Servers whose certificate no trusted authority
    /// signed are refused.
    #[must_use]
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.roots.push(pem.into());
        self
    }

    /// Another base URL: a proxy, or a mock. `http://` is accepted only for loopback hosts.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// How long connecting may take (default 5 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long a whole attempt may take, answer body included (default 30 s).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The retry policy for calls that are safe to repeat.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock for `Auth` timestamps (tests pin it).
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The largest answer body read (default 1 MiB).
    #[must_use]
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer_bytes = bytes;
        self
    }

    /// The client.
    ///
    /// # Errors
    ///
    /// [`BuildError`] for a bad or insecure base URL, or an HTTP client that cannot start.
    pub fn build(self) -> Result<MerchantClient, BuildError> {
        let mut base =
            Url::parse(&self.base_url).map_err(|e| BuildError::InvalidBaseUrl(e.to_string()))?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(BuildError::InvalidBaseUrl(self.base_url));
        }
        if base.scheme() == "http" && !is_loopback(&base) {
            return Err(BuildError::InsecureBaseUrl(self.base_url));
        }
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .redirect(reqwest::redirect::Policy::none());
        for pem in &self.roots {
            let root = reqwest::Certificate::from_pem(pem).map_err(BuildError::Certificate)?;
            http = http.add_root_certificate(root);
        }
        let http = http.build().map_err(BuildError::Http)?;
        Ok(MerchantClient {
            inner: Arc::new(Inner {
                http,
                base,
                credentials: self.credentials,
                clock: self.clock,
                retry: self.retry,
                max_answer_bytes: self.max_answer_bytes,
            }),
        })
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A client of Click's Merchant API, built once and shared: it is cheap to clone and keeps one
/// connection pool.
///
/// ```no_run
/// use click_core::Credentials;
/// use click_merchant::MerchantClient;
///
/// # async fn run(credentials: Credentials) -> Result<(), Box<dyn std::error::Error>> {
/// let client = MerchantClient::builder(credentials).build()?;
/// let status = client
///     .payment_status(click_core::ClickPaydocId::new(1_946_296_773))
///     .await?;
/// println!("{:?}", status.status);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct MerchantClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
    clock: Clock,
    retry: RetryPolicy,
    max_answer_bytes: usize,
}

impl std::fmt::Debug for MerchantClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MerchantClient")
            .field("base_url", &self.inner.base.as_str())
            .field("service_id", &self.inner.credentials.service_id)
            .field("merchant_user_id", &self.inner.credentials.merchant_user_id)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

impl MerchantClient {
    /// A builder with the defaults: Click's base URL, 5 s to connect, 30 s per attempt, three
    /// attempts for calls that are safe to repeat.
    pub fn builder(credentials: Credentials) -> MerchantClientBuilder {
        MerchantClientBuilder {
            credentials,
            base_url: DEFAULT_BASE_URL.to_owned(),
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            clock: Clock::system(),
            max_answer_bytes: 1 << 20,
            roots: Vec::new(),
        }
    }

    /// The credentials' service id, which every call is about.
    pub fn service_id(&self) -> click_core::ServiceId {
        self.inner.credentials.service_id
    }

    /// Sends a call: `segments` are percent-encoded one by one, so a `merchant_trans_id` of
    /// `../x?y` stays one path segment.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&(dyn erased::Body + Sync)>,
        safety: Safety,
        shape: Shape,
    ) -> Result<T, MerchantError> {
        if let Some(dots) = segments
            .iter()
            .find(|segment| matches!(**segment, "." | ".."))
        {
            return Err(MerchantError::UnsendableId((*dots).to_owned()));
        }
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        // For logs: the call's route without its ids (a card token is one of them).
        let route = segments
            .iter()
            .take(2)
            .copied()
            .collect::<Vec<_>>()
            .join("/");
        let body = body
            .map(erased::Body::to_json)
            .transpose()
            .map_err(|error| MerchantError::Decode {
                status: 0,
                body_snippet: format!("the request did not serialize: {error}"),
                outcome_unknown: false,
            })?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .attempt(&method, &url, body.as_deref(), safety, shape)
                .await;
            match result {
                Err(error) if error.is_retryable() && attempt < self.inner.retry.attempts => {
                    let pause = self.inner.retry.backoff(attempt);
                    tracing::warn!(%error, attempt, ?pause, %route, "retrying a Merchant API call");
                    tokio::time::sleep(pause).await;
                }
                result => return result,
            }
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        method: &Method,
        url: &Url,
        body: Option<&[u8]>,
        safety: Safety,
        shape: Shape,
    ) -> Result<T, MerchantError> {
        let once = safety == Safety::Once;
        let credentials = &self.inner.credentials;
        let timestamp = self.inner.clock.now();
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .header(
                "Auth",
                auth_header(
                    credentials.merchant_user_id,
                    &credentials.secret_key,
                    timestamp,
                ),
            );
        if let Some(body) = body {
            request = request.body(body.to_vec());
        }
        let classify = |error: reqwest::Error| {
            // The URL can hold a card token: keep it out of every message.
            let error = error.without_url();
            if error.is_connect() {
                MerchantError::Transport {
                    source: error,
                    outcome_unknown: false,
                }
            } else if error.is_timeout() {
                MerchantError::Timeout {
                    outcome_unknown: once,
                }
            } else {
                MerchantError::Transport {
                    source: error,
                    outcome_unknown: once,
                }
            }
        };
        let mut response = request.send().await.map_err(classify)?;
        let status = response.status().as_u16();
        let server_time = response
            .headers()
            .get(DATE)
            .and_then(|date| date.to_str().ok())
            .and_then(|date| httpdate::parse_http_date(date).ok());
        let mut answer = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            if answer.len() + chunk.len() > self.inner.max_answer_bytes {
                return Err(MerchantError::Decode {
                    status,
                    body_snippet: format!(
                        "answer larger than {} bytes",
                        self.inner.max_answer_bytes
                    ),
                    outcome_unknown: once && (200..300).contains(&status),
                });
            }
            answer.extend_from_slice(&chunk);
        }
        match status {
            200 | 201 => decode(status, &answer, shape, once),
            401 => Err(MerchantError::Unauthorized {
                local_time: timestamp,
                server_delta: server_time
                    .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                    .and_then(|since| i64::try_from(since.as_secs()).ok())
                    .map(|server| server - i64::try_from(timestamp).unwrap_or(i64::MAX)),
            }),
            403 => Err(MerchantError::Forbidden),
            404 => Err(MerchantError::NotFound),
            406 => Err(MerchantError::NotAcceptable),
            410 => Err(MerchantError::Gone),
            status => Err(MerchantError::Http {
                status,
                outcome_unknown: once && status >= 500,
            }),
        }
    }
}

/// Decodes a 200 answer: a negative `error_code` is a business error; then the call's fields.
fn decode<T: DeserializeOwned>(
    status: u16,
    answer: &[u8],
    shape: Shape,
    once: bool,
) -> Result<T, MerchantError> {
    let undecodable = || MerchantError::Decode {
        status,
        body_snippet: match shape {
            Shape::Private => "(withheld: the answer may carry card data)".to_owned(),
            Shape::Checked | Shape::Plain => snippet(answer),
        },
        outcome_unknown: once,
    };
    let value: serde_json::Value = serde_json::from_slice(answer).map_err(|_| undecodable())?;
    if shape != Shape::Plain {
        let checked = Status::deserialize(&value).map_err(|_| undecodable())?;
        if checked.error_code < 0 {
            return Err(MerchantError::Business {
                code: checked.error_code,
                note: checked.error_note.unwrap_or_default(),
            });
        }
    }
    T::deserialize(value).map_err(|_| undecodable())
}

/// The first 512 bytes of an answer, as text.
fn snippet(answer: &[u8]) -> String {
    let text = String::from_utf8_lossy(&answer[..answer.len().min(512)]).into_owned();
    if answer.is_empty() {
        "(empty body)".to_owned()
    } else {
        text
    }
}

/// Serializable request bodies behind one object-safe trait, so `call` is not generic over them.
pub(crate) mod erased {
    /// A request body.
    pub(crate) trait Body {
        fn to_json(&self) -> Result<Vec<u8>, serde_json::Error>;
    }

    impl<T: serde::Serialize> Body for T {
        fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
            serde_json::to_vec(self)
        }
    }
}
