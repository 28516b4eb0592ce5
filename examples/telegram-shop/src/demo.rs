//! The demo of `cargo run -p telegram-shop` and its tests: the bot against the testkit's fake Bot
//! API, over a memory store shared with a SHOP-API shop that Click's simulator pays by link.

use std::sync::Arc;
use std::time::Duration;

use click_core::testing::{Harness, code};
use click_core::{MemoryStore, Order, Transaction};
use click_telegram::ProviderToken;
use click_testkit::bot_api::{FakeBotApi, PreCheckoutAnswer, SentInvoice};
use teloxide::Bot;

use crate::{SWEEP_EVERY, Seller, dispatcher, spawn_sweep};

/// The bot token the fake accepts.
pub const BOT_TOKEN: &str = "123456:fake-bot-token";
/// The CLICK Terminal Test token the bot sends invoices with.
pub const PROVIDER_TOKEN: &str = "398062629:TEST:fake-click-terminal";
/// How long the demo waits for the bot to do something.
const WAIT: Duration = Duration::from_secs(15);

/// The bot running against a fake Bot API, the shop's store and Click's simulator.
pub struct Demo {
    /// The fake Bot API, and the customer in front of it.
    pub telegram: FakeBotApi,
    /// The SHOP-API shop over the same store, its hooks and Click's simulator.
    pub shop: Harness,
}

impl Demo {
    /// Starts the fake (with a pre-checkout `deadline`) and the bot (answering within `budget`),
    /// selling `orders` (id, so'm).
    ///
    /// # Errors
    ///
    /// The fake could not bind a port.
    ///
    /// # Panics
    ///
    /// On an invalid order id or amount.
    pub async fn start(
        orders: &[(&str, &str)],
        budget: Duration,
        deadline: Duration,
    ) -> std::io::Result<Self> {
        let shop = Harness::new(|hooks| async move { MemoryStore::new(hooks) }, 1).await;
        for (id, som) in orders {
            let amount = som.parse().expect("a demo amount");
            shop.orders.insert(id, Order::Payable { amount });
        }
        let telegram = FakeBotApi::with_deadline(BOT_TOKEN, deadline);
        let api_url = telegram.start().await?;
        let api_url = url::Url::parse(&api_url).map_err(std::io::Error::other)?;
        let seller = Seller::new(
            Arc::clone(shop.shop.store()),
            Harness::SERVICE_ID,
            ProviderToken::new(PROVIDER_TOKEN),
        )
        .answer_within(budget);
        let bot = Bot::new(BOT_TOKEN).set_api_url(api_url);
        let seller = Arc::new(seller);
        spawn_sweep(Arc::clone(&seller), SWEEP_EVERY);
        let mut dispatcher = dispatcher(bot, seller);
        tokio::spawn(async move { dispatcher.dispatch().await });
        Ok(Self { telegram, shop })
    }

    /// The customer `user` sends `/buy ORDER`; the invoice the bot sent, if it sent one in time.
    pub async fn buy(&self, user: i64, order: &str) -> Option<SentInvoice> {
        let before = self.telegram.invoices().len();
        self.telegram.message(user, &format!("/buy {order}"));
        let sent = |t: &FakeBotApi| t.invoices().len() > before;
        self.telegram.wait_until(WAIT, sent).await;
        self.telegram.invoices().get(before).cloned()
    }

    /// The customer presses "Pay" on the last invoice in their chat; the bot's answer, if an
    /// invoice was sent there and the bot answered in time.
    pub async fn press_pay(&self, user: i64) -> Option<PreCheckoutAnswer> {
        let query = self.telegram.press_pay(user).ok()?;
        let answered = |t: &FakeBotApi| t.answers().iter().any(|a| a.query_id == query);
        self.telegram.wait_until(WAIT, answered).await;
        let answers = self.telegram.answers();
        answers.into_iter().find(|answer| answer.query_id == query)
    }

    /// The customer `user` writes `text`; the bot's next message to them, if one came in time.
    /// The bot handles a chat's updates in order: everything sent before has been handled.
    pub async fn say(&self, user: i64, text: &str) -> Option<String> {
        let seen = self.messages_to(user);
        self.telegram.message(user, text);
        self.next_message(user, seen).await
    }

    /// The bot's next message to `user` after the `seen` first ones, if one comes in time.
    pub async fn next_message(&self, user: i64, seen: usize) -> Option<String> {
        let mine = |t: &FakeBotApi| t.messages().into_iter().filter(|m| m.chat_id == user);
        self.telegram
            .wait_until(WAIT, |t| mine(t).count() > seen)
            .await;
        mine(&self.telegram).nth(seen).map(|m| m.text)
    }

    /// How many messages the bot sent `user`.
    pub fn messages_to(&self, user: i64) -> usize {
        let messages = self.telegram.messages();
        messages.iter().filter(|m| m.chat_id == user).count()
    }

    /// The Telegram payment the store recorded under `telegram_payment_charge_id`.
    ///
    /// # Panics
    ///
    /// If the store fails.
    pub async fn recorded(&self, telegram_payment_charge_id: &str) -> Option<Transaction> {
        self.shop
            .shop
            .store()
            .charge(telegram_payment_charge_id)
            .await
            .expect("the store answers")
    }

    /// Click pays `order` through the shop's payment link (Prepare, then Complete); Complete's
    /// answer code.
    pub async fn pay_by_link(&self, order: &str, som: &str) -> i32 {
        let (id, prepare_id) = self.shop.prepared(order, som).await;
        code(&self.shop.complete(id, order, prepare_id, som, 0).await)
    }
}
