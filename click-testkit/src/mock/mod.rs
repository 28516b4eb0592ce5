//! A mock of Click's Merchant API (`https://api.click.uz/v2/merchant/`), in memory, over real HTTP:
//! for testing a Merchant API client (such as `click-merchant`) without Click.
//!
//! ```
//! use std::time::{SystemTime, UNIX_EPOCH};
//!
//! use click_core::{MerchantUserId, SecretKey, ServiceId};
//! use click_testkit::mock::{MockApi, MockConfig, Payment};
//! use sha1::{Digest, Sha1};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let config = MockConfig::new(ServiceId::new(101), MerchantUserId::new(202), SecretKey::new("secret"));
//! let mock = MockApi::new(config);
//! let base = mock.start().await?; // "http://127.0.0.1:PORT/"
//!
//! // Auth: merchant_user_id:sha1_hex(timestamp + secret_key):timestamp
//! let timestamp = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs().to_string();
//! let digest = hex::encode(Sha1::digest(format!("{timestamp}secret")));
//! let answer = reqwest::Client::new()
//!     .post(format!("{base}invoice/create"))
//!     .header("Accept", "application/json")
//!     .header("Content-Type", "application/json")
//!     .header("Auth", format!("202:{digest}:{timestamp}"))
//!     .body(r#"{"service_id": 101, "amount": 1500.5, "phone_number": "998901234567",
//!               "merchant_trans_id": "order-42"}"#)
//!     .send()
//!     .await?
//!     .text()
//!     .await?;
//! let answer: serde_json::Value = serde_json::from_str(&answer)?;
//! assert_eq!(answer["error_code"], 0);
//! let invoice_id = click_core::InvoiceId::new(answer["invoice_id"].as_i64().ok_or("no invoice_id")?);
//!
//! // The customer pays the invoice in the Click app.
//! let payment_id = mock.pay_invoice(invoice_id)?;
//! assert_eq!(mock.payment(payment_id).map(|p| p.status), Some(Payment::PAID));
//! assert_eq!(mock.requests().len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! From the command line, `click-testkit mock-api --addr 127.0.0.1:9090 --service-id …
//! --merchant-user-id … --secret-key …` serves it until Ctrl-C.
//!
//! # What a request goes through
//!
//! 1. It is recorded ([`MockApi::requests`]), whatever happens next.
//! 2. An injected [`Fault`] answers instead (its effect does not apply), except
//!    [`Fault::Hang`], which lets the request run and delays the answer, and [`Fault::Drop`],
//!    which lets it run and closes the connection without an answer.
//! 3. `Auth` must be `merchant_user_id:sha1_hex(timestamp + secret_key):timestamp`, with the
//!    mock's `merchant_user_id`, a lowercase digest and a 10-digit timestamp within
//!    [`MockConfig::max_skew`] of the mock's clock: else **401**.
//! 4. `Accept` must list `application/json` (`*/*` is not enough): else **406**.
//!    `Content-Type` is not checked; [`RecordedRequest::headers`] lets a test check it.
//! 5. A body that is not a JSON object, a missing, `null` or mistyped field, a malformed path
//!    segment: **400**. Amounts are JSON numbers read from their text with [`click_core::Amount`]'s
//!    strict grammar (at most 2 decimals; `1e3` and `"1000"` are refused).
//! 6. A `service_id` other than the mock's: HTTP 200, `error_code` -5.
//!
//! Every error answer is JSON: `{"error_code": -status, "error_note": …}` for HTTP errors
//! (unknown paths 404, wrong methods 405 included), a negative `error_code` with HTTP 200 for
//! Click's business errors. Click publishes no Merchant API error codes; the mock answers:
//!
//! | `error_code` | when |
//! |---|---|
//! | -2 | `click_pass/confirm` over 30 s late (the payment is cancelled, status -2); a partial reversal of zero or of more than is left |
//! | -3 | `card_token/verify` with a wrong `sms_code`; `card_token/payment` with an unverified token |
//! | -5 | an unknown `service_id`, invoice, payment, `merchant_trans_id` or card token |
//! | -6 | a reversal of a payment that is not paid; a confirm of a payment that awaits none |
//! | -7 | a Click Pass payment with a QR code (`otp_data`) that already paid |
//! | -9 | a reversal of a payment already reversed |
//!
//! # Behaviour where Click is silent
//!
//! - Invoice and payment ids share one counter starting at 4 300 000 001 (beyond 32 bits), so an
//!   invoice id never names a payment.
//! - `status_by_mti` answers the newest payment of that `merchant_trans_id` created on the date
//!   of the path (the day in Tashkent, UTC+5), as Click does; another day is `-5`. The segment is
//!   percent-decoded.
//! - `submit_items` fiscalizes at once: `GET payment/ofd_data` then answers a `qrCodeURL`.
//! - A repeated `click_pass/confirm` of a confirmed payment succeeds again, so a client may retry.
//! - Partial reversals add up; once nothing is left the payment is reversed (status -1).
//! - `PUT`/`DELETE click_pass/confirmation/{service_id}` need no body.
//! - OFD items must have exactly docs/protocol.md's PascalCase keys within their length limits (else
//!   400); `GET payment/ofd_data` answers `qrCodeURL: null` before items or a QR link were submitted.
//! - Click Pass payments use the `transaction_id` as their `merchant_trans_id`; each `otp_data` (a
//!   QR code) pays once, a second payment with it is `-7`.
//! - `card_token/verify` takes `sms_code` as a number or as its digits; a code with a leading
//!   zero matches only its digits (a JSON number cannot carry the zero).
//!
//! # Time
//!
//! The mock's clock follows the real one until a test moves it: [`MockApi::advance`] shifts it,
//! [`MockApi::set_time`] pins it. It decides `Auth` staleness and the Click Pass confirm window:
//! an unconfirmed payment in confirm mode is cancelled once more than 30 s of mock time passed
//! since its creation (checked lazily, whenever state is read).

mod auth;
mod clock;
mod fault;
mod fields;
mod gate;
mod ofd;
mod pay;
mod records;
mod reply;
mod routes;
mod serve;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use click_core::{ClickPaydocId, InvoiceId, MerchantUserId, SecretKey, ServiceId};

pub use fault::Fault;
pub use gate::RecordedRequest;
pub use pay::PayInvoiceError;
pub use records::{Invoice, InvoiceStatus, OfdReceipt, OfdRecord, Payment};

use clock::Clock;
use fault::Injections;
use state::State;

/// The credentials the mock accepts and how strict it is about time.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// The one service the mock knows; any other `service_id` is answered `-5`.
    pub service_id: ServiceId,
    /// The API user the `Auth` header must name.
    pub merchant_user_id: MerchantUserId,
    /// The secret the `Auth` digest is computed with.
    pub secret_key: SecretKey,
    /// How far an `Auth` timestamp may be from the mock's clock, either way.
    pub max_skew: Duration,
    /// The SMS code every card token's holder receives (`"012345"`, say), so that a client in
    /// another process can verify its tokens; by default each token gets its own, read with
    /// [`MockApi::sms_code`].
    pub sms_code: Option<String>,
}

impl MockConfig {
    /// The default [`MockConfig::max_skew`]: 300 s.
    pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(300);

    /// A configuration with the default `max_skew` and an SMS code per card token.
    pub fn new(
        service_id: ServiceId,
        merchant_user_id: MerchantUserId,
        secret_key: SecretKey,
    ) -> Self {
        Self {
            service_id,
            merchant_user_id,
            secret_key,
            max_skew: Self::DEFAULT_MAX_SKEW,
            sms_code: None,
        }
    }
}

/// The mock Merchant API. Clones share one state; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct MockApi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: MockConfig,
    clock: Clock,
    state: Mutex<State>,
    faults: Mutex<Injections>,
    requests: Mutex<Vec<RecordedRequest>>,
}

/// Locks a mutex; a panic elsewhere while it was held does not make the data unusable here.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl MockApi {
    /// A mock with no invoices, payments or tokens, confirm mode off, following the real clock.
    pub fn new(config: MockConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                clock: Clock::default(),
                state: Mutex::default(),
                faults: Mutex::default(),
                requests: Mutex::default(),
            }),
        }
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &MockConfig {
        &self.inner.config
    }

    fn service_id(&self) -> ServiceId {
        self.inner.config.service_id
    }

    /// The API as an axum router, paths relative to `/` (mount it with `nest` for a prefix).
    pub fn router(&self) -> axum::Router {
        routes::router(self)
    }

    /// Serves the API on `127.0.0.1` on a free port, in a tokio task that lives as long as the
    /// runtime; returns the base URL, `http://127.0.0.1:PORT/`.
    ///
    /// # Errors
    ///
    /// If no port can be bound.
    pub async fn start(&self) -> std::io::Result<String> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves the API on `addr` (port 0 picks a free one), in a tokio task that lives as long as
    /// the runtime; returns the base URL, `http://ADDR:PORT/`.
    ///
    /// # Errors
    ///
    /// If `addr` cannot be bound.
    pub async fn start_on(&self, addr: SocketAddr) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        tokio::spawn(serve::serve(listener, self.router()));
        Ok(format!("http://{local}/"))
    }

    /// The mock's clock, in unix seconds.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Pins the mock's clock at `unix_secs`; it stands still until moved again. `Auth` timestamps
    /// are then checked against it.
    pub fn set_time(&self, unix_secs: i64) {
        self.inner.clock.set(unix_secs);
    }

    /// Moves the mock's clock forward by `secs` (pinned or not).
    pub fn advance(&self, secs: u64) {
        self.inner.clock.advance(secs);
    }

    /// Answers the next `times` requests (any path) with `fault`. Faults apply in the order they
    /// were injected.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.inject_on("", fault, times);
    }

    /// Answers the next `times` requests whose path (relative to the base URL; a leading `/` is
    /// ignored) starts with `path_prefix` with `fault`.
    pub fn inject_on(&self, path_prefix: &str, fault: Fault, times: usize) {
        lock(&self.inner.faults).add(path_prefix, fault, times);
    }

    /// Every request received so far, in order, rejected and faulted ones included.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.requests).clone()
    }

    /// An invoice, as it stands.
    pub fn invoice(&self, invoice_id: InvoiceId) -> Option<Invoice> {
        self.with_state(|state, _| state.invoice(invoice_id.get()).ok().cloned())
    }

    /// Marks an invoice deleted (`invoice_status` -99), as the merchant's cabinet would; false if
    /// there is no such invoice.
    pub fn delete_invoice(&self, invoice_id: InvoiceId) -> bool {
        self.with_state(|state, _| state.delete_invoice(invoice_id.get()))
    }

    /// A payment, as it stands (an expired Click Pass payment shows as cancelled).
    pub fn payment(&self, payment_id: ClickPaydocId) -> Option<Payment> {
        self.with_state(|state, _| state.payment(payment_id).ok().cloned())
    }

    /// Sets a payment's `payment_status` to any value (`0`, `1`, an unknown code) for a client's
    /// tests; false if there is no such payment.
    pub fn set_payment_status(&self, payment_id: ClickPaydocId, status: i64) -> bool {
        self.with_state(|state, _| {
            state
                .payment_mut(payment_id)
                .map(|payment| payment.status = status)
                .is_ok()
        })
    }

    /// The SMS code Click "sent" for a card token, to pass to `card_token/verify`.
    pub fn sms_code(&self, card_token: &str) -> Option<String> {
        self.with_state(|state, _| state.token(card_token).ok().map(|t| t.sms_code.clone()))
    }

    /// Records a payment as Click makes one for a SHOP-API Prepare (its `click_paydoc_id`), for
    /// `merchant_trans_id`, in `status` ([`Payment::PAID`] once Click debited the customer).
    pub fn record_payment(
        &self,
        amount: click_core::Amount,
        merchant_trans_id: click_core::MerchantTransId,
        status: i64,
    ) -> ClickPaydocId {
        self.with_state(|state, now| state.record_payment(now, amount, merchant_trans_id, status))
    }

    /// Sets the SMS code of a card token (a code with a leading zero, say); false if there is no
    /// such token.
    pub fn set_sms_code(&self, card_token: &str, code: &str) -> bool {
        self.with_state(|state, _| state.set_sms_code(card_token, code))
    }

    /// The OFD data submitted for a payment.
    pub fn ofd(&self, payment_id: ClickPaydocId) -> Option<OfdRecord> {
        self.with_state(|state, _| state.ofd(payment_id).cloned())
    }

    /// Runs `f` on the state at the current mock time, after cancelling expired Click Pass
    /// payments. The lock is held only during `f`, which cannot `.await`.
    fn with_state<T>(&self, f: impl FnOnce(&mut State, i64) -> T) -> T {
        let now = self.now();
        let mut state = lock(&self.inner.state);
        state.expire(now);
        f(&mut state, now)
    }
}
