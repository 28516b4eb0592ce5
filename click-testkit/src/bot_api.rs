//! A fake of Telegram's Bot API, for testing a bot that sells through CLICK Terminal without
//! Telegram: it speaks the few methods a payment uses (`getMe`, `getUpdates`,
//! `getWebhookInfo`, `deleteWebhook`, `sendMessage`, `sendInvoice`, `answerPreCheckoutQuery`) at `/bot<TOKEN>/<method>`, and plays
//! the customer and Telegram's payment flow through [`FakeBotApi`]'s methods (or, from any
//! language, the `/fake/…` routes of `click-testkit bot-api`).
//!
//! What it enforces, as Telegram does: the token; `sendInvoice`'s bounds (title 1–32 characters,
//! description 1–255, payload 1–128 bytes, a provider token, positive prices); a pre-checkout
//! query answered once, with an `error_message` when refused, and within the deadline from when
//! Telegram sent it (10 s by default; a late answer is refused with Telegram's "query is too old"
//! and the payment never happens); one payment per query, only after an ok answer. What it does not: webhooks, files, anything but
//! private chats, Telegram's per-currency amount limits.
//!
//! ```
//! use click_testkit::bot_api::FakeBotApi;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let telegram = FakeBotApi::new("123:abc");
//! let api_url = telegram.start().await?; // give the bot this as its Bot API server
//! telegram.message(7, "/buy order-42");  // the customer writes to the bot
//! # let _ = api_url;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod control;
mod methods;
mod objects;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// How long Telegram waits for `answerPreCheckoutQuery`.
pub const PRE_CHECKOUT_DEADLINE: Duration = Duration::from_secs(10);

/// The bot's own user id in the fake.
pub const BOT_ID: i64 = 5_000_000_001;

/// An invoice the bot sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentInvoice {
    /// The message that carries it.
    pub message_id: i64,
    /// The customer's chat.
    pub chat_id: i64,
    /// Its title.
    pub title: String,
    /// Its payload (the order's `merchant_trans_id`).
    pub payload: String,
    /// Its currency.
    pub currency: String,
    /// The sum of its prices, in the currency's smallest unit.
    pub total_amount: i64,
    /// The provider token it was sent with.
    pub provider_token: String,
}

/// The bot's answer to a pre-checkout query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreCheckoutAnswer {
    /// The query.
    pub query_id: String,
    /// Whether the bot let the payment go on.
    pub ok: bool,
    /// The refusal the customer read.
    pub error_message: Option<String>,
    /// How long after Telegram sent the query the answer came.
    pub after: Duration,
    /// Whether it came after the deadline (and was refused).
    pub late: bool,
}

/// A text message the bot sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentMessage {
    /// The chat.
    pub chat_id: i64,
    /// The text.
    pub text: String,
}

/// A payment Telegram reported to the bot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    /// The update that reported it (the first one, if it was delivered again).
    pub update_id: i64,
    /// Telegram's id.
    pub telegram_payment_charge_id: String,
    /// CLICK's id.
    pub provider_payment_charge_id: String,
}

/// Why the fake refused a customer action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FakeError {
    /// No invoice was sent to that chat.
    #[error("no invoice was sent to chat {0}")]
    NoInvoice(i64),
    /// No such pre-checkout query.
    #[error("no pre-checkout query {0}")]
    UnknownQuery(String),
    /// The bot has not answered the query ok, in time: Telegram takes no money.
    #[error("pre-checkout query {0} was not answered ok in time: no payment")]
    NotApproved(String),
    /// No such update.
    #[error("no update {0}")]
    UnknownUpdate(i64),
    /// The query's payment was taken already.
    #[error("pre-checkout query {0} was paid already")]
    Paid(String),
}

/// A fake Bot API server and the customer in front of it. Cloning shares it.
#[derive(Debug, Clone)]
pub struct FakeBotApi {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    token: String,
    deadline: Duration,
    state: Mutex<State>,
    changed: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct State {
    next_update_id: i64,
    next_message_id: i64,
    next_charge: i64,
    /// Every update not yet confirmed by an offset, oldest first.
    pending: Vec<Value>,
    /// Every update ever queued, by id (to deliver one again).
    all: HashMap<i64, Value>,
    invoices: Vec<SentInvoice>,
    queries: HashMap<String, Query>,
    answers: Vec<PreCheckoutAnswer>,
    messages: Vec<SentMessage>,
    charges: Vec<Charge>,
}

#[derive(Debug)]
struct Query {
    chat_id: i64,
    invoice: SentInvoice,
    /// When Telegram sent it: its deadline runs from here.
    sent: Instant,
    answered_ok_in_time: Option<bool>,
    paid: bool,
}

impl FakeBotApi {
    /// A fake that accepts the bot token `token`, with Telegram's 10-second pre-checkout
    /// deadline.
    pub fn new(token: impl Into<String>) -> Self {
        Self::with_deadline(token, PRE_CHECKOUT_DEADLINE)
    }

    /// A fake with another pre-checkout deadline (to test a slow bot quickly).
    pub fn with_deadline(token: impl Into<String>, deadline: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                token: token.into(),
                deadline,
                state: Mutex::new(State {
                    next_update_id: 1,
                    next_message_id: 1,
                    next_charge: 1,
                    ..State::default()
                }),
                changed: tokio::sync::Notify::new(),
            }),
        }
    }

    /// The Bot API (`/bot<TOKEN>/<method>`) and the control routes (`/fake/…`) as a router.
    pub fn router(&self) -> axum::Router {
        methods::router(self).merge(control::router(self))
    }

    /// Serves on `127.0.0.1` on a free port, in a tokio task that lives as long as the runtime;
    /// returns the server's URL, `http://127.0.0.1:PORT` (a bot framework's "API URL").
    ///
    /// # Errors
    ///
    /// If no port can be bound.
    pub async fn start(&self) -> std::io::Result<String> {
        self.start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Serves on `addr`, as [`start`](Self::start) does.
    ///
    /// # Errors
    ///
    /// If `addr` cannot be bound.
    pub async fn start_on(&self, addr: SocketAddr) -> std::io::Result<String> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let router = self.router();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(format!("http://{local}"))
    }

    /// The customer `user` writes `text` to the bot; the update's id.
    pub fn message(&self, user: i64, text: &str) -> i64 {
        let mut state = self.state();
        let message_id = state.message_id();
        let message = objects::customer_message(message_id, user, "text", Value::from(text));
        self.push(&mut state, "message", message)
    }

    /// The customer in chat `user` presses "Pay" on the last invoice the bot sent there:
    /// Telegram sends a pre-checkout query; its id.
    ///
    /// # Errors
    ///
    /// No invoice was sent to that chat.
    pub fn press_pay(&self, user: i64) -> Result<String, FakeError> {
        let mut state = self.state();
        let invoice = state
            .invoices
            .iter()
            .rev()
            .find(|invoice| invoice.chat_id == user)
            .cloned()
            .ok_or(FakeError::NoInvoice(user))?;
        let query_id = format!("pcq-{}", state.next_update_id);
        let query = objects::pre_checkout_query(&query_id, user, &invoice);
        state.queries.insert(
            query_id.clone(),
            Query {
                chat_id: user,
                invoice,
                sent: Instant::now(),
                answered_ok_in_time: None,
                paid: false,
            },
        );
        self.push(&mut state, "pre_checkout_query", query);
        Ok(query_id)
    }

    /// CLICK takes the money for a query the bot approved in time, and Telegram reports the
    /// `successful_payment` to the bot; the charge.
    ///
    /// # Errors
    ///
    /// Unknown query, not answered ok within the deadline, or paid already.
    pub fn complete_payment(&self, query_id: &str) -> Result<Charge, FakeError> {
        let mut state = self.state();
        let query = state
            .queries
            .get_mut(query_id)
            .ok_or_else(|| FakeError::UnknownQuery(query_id.to_owned()))?;
        if query.answered_ok_in_time != Some(true) {
            return Err(FakeError::NotApproved(query_id.to_owned()));
        }
        if query.paid {
            return Err(FakeError::Paid(query_id.to_owned()));
        }
        query.paid = true;
        let (chat_id, invoice) = (query.chat_id, query.invoice.clone());
        let n = state.next_charge;
        state.next_charge += 1;
        let telegram_payment_charge_id = format!("tg-charge-{n}");
        let provider_payment_charge_id = (4_100_000_000 + n).to_string();
        let payment = objects::successful_payment(
            &invoice,
            &telegram_payment_charge_id,
            &provider_payment_charge_id,
        );
        let message_id = state.message_id();
        let message = objects::customer_message(message_id, chat_id, "successful_payment", payment);
        let update_id = self.push(&mut state, "message", message);
        let charge = Charge {
            update_id,
            telegram_payment_charge_id,
            provider_payment_charge_id,
        };
        state.charges.push(charge.clone());
        Ok(charge)
    }

    /// Delivers an update again, under a new `update_id`: harsher than Telegram, which repeats an
    /// update under its own id (to a bot that did not confirm it, or a webhook that failed), so a
    /// bot cannot rely on `update_id` to see the repeat. The new id.
    ///
    /// # Errors
    ///
    /// No such update.
    pub fn deliver_again(&self, update_id: i64) -> Result<i64, FakeError> {
        let mut state = self.state();
        let mut update = state
            .all
            .get(&update_id)
            .cloned()
            .ok_or(FakeError::UnknownUpdate(update_id))?;
        let kind = ["message", "pre_checkout_query"]
            .into_iter()
            .find(|kind| update.get(kind).is_some())
            .ok_or(FakeError::UnknownUpdate(update_id))?;
        let body = update[kind].take();
        Ok(self.push(&mut state, kind, body))
    }

    /// Every invoice the bot sent, oldest first.
    pub fn invoices(&self) -> Vec<SentInvoice> {
        self.state().invoices.clone()
    }

    /// Every answer to a pre-checkout query, oldest first.
    pub fn answers(&self) -> Vec<PreCheckoutAnswer> {
        self.state().answers.clone()
    }

    /// Every text message the bot sent, oldest first.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.state().messages.clone()
    }

    /// Every payment reported to the bot, oldest first.
    pub fn charges(&self) -> Vec<Charge> {
        self.state().charges.clone()
    }

    /// Whether the bot has fetched every update queued so far (confirmed them with an offset).
    pub fn drained(&self) -> bool {
        self.state().pending.is_empty()
    }

    /// Waits until `done` holds for what the bot did, or `timeout` passes; whether it held.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&FakeBotApi) -> bool,
    ) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.inner.changed.notified();
            if done(self) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return done(self);
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues an update of `kind` carrying `body`; its id.
    fn push(&self, state: &mut State, kind: &str, body: Value) -> i64 {
        let update_id = state.next_update_id;
        state.next_update_id += 1;
        let update = serde_json::json!({ "update_id": update_id, kind: body });
        state.all.insert(update_id, update.clone());
        state.pending.push(update);
        self.changed();
        update_id
    }

    fn changed(&self) {
        self.inner.changed.notify_waiters();
    }
}

impl State {
    fn message_id(&mut self) -> i64 {
        let id = self.next_message_id;
        self.next_message_id += 1;
        id
    }
}
