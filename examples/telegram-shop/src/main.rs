//! Run with `cargo run -p telegram-shop`: the bot sells two orders through CLICK Terminal to a
//! simulated customer, against the testkit's fake Bot API (no Telegram needed), and exits 0 once
//! it saw what it must: an invoice, the pre-checkout answered, the payment recorded and delivered
//! once although Telegram delivered its update twice, and an order paid by link meanwhile refused
//! at pre-checkout.
//!
//! With `TELEGRAM_BOT_TOKEN` (from @BotFather) and `CLICK_PROVIDER_TOKEN` (Settings → Payments →
//! CLICK Uzbekistan) set, it runs the bot for real instead, selling `order-1` … `order-5` of
//! 15 000 so'm from memory, until ctrl-c (`TELEGRAM_API_URL` points it at another Bot API server,
//! such as `click-testkit bot-api`; `CLICK_SERVICE_ID`, default 101, is the service the token
//! sells for).

use std::process::ExitCode;
use std::sync::Arc;

use click_core::{MemoryOrders, MemoryStore, Order, ServiceId};
use click_telegram::{PRE_CHECKOUT_BUDGET, ProviderToken};
use click_testkit::bot_api::PRE_CHECKOUT_DEADLINE;
use telegram_shop::demo::Demo;
use telegram_shop::{SWEEP_EVERY, Seller, dispatcher, spawn_sweep};
use teloxide::Bot;

/// The customer's Telegram user id in the demo.
const CUSTOMER: i64 = 998_901_234;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    match (
        std::env::var("TELEGRAM_BOT_TOKEN"),
        std::env::var("CLICK_PROVIDER_TOKEN"),
    ) {
        (Ok(bot_token), Ok(provider_token)) => live(&bot_token, provider_token).await,
        _ => demo().await,
    }
}

/// The bot against Telegram (or `TELEGRAM_API_URL`), until ctrl-c.
async fn live(bot_token: &str, provider_token: String) -> ExitCode {
    let service_id = std::env::var("CLICK_SERVICE_ID")
        .ok()
        .and_then(|id| id.parse().ok())
        .unwrap_or(ServiceId::new(101));
    let orders = MemoryOrders::new();
    for n in 1..=5 {
        let id = format!("order-{n}").parse().expect("a demo order id");
        let amount = "15000".parse().expect("a demo amount");
        orders.insert(id, Order::Payable { amount });
    }
    let seller = Seller::new(
        Arc::new(MemoryStore::new(orders)),
        service_id,
        ProviderToken::new(provider_token),
    );
    let mut bot = Bot::new(bot_token);
    if let Ok(url) = std::env::var("TELEGRAM_API_URL") {
        match url::Url::parse(&url) {
            Ok(url) => bot = bot.set_api_url(url),
            Err(error) => {
                eprintln!("TELEGRAM_API_URL: {error}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("selling order-1 … order-5 (15 000 so'm each); ctrl-c stops");
    let seller = Arc::new(seller);
    spawn_sweep(Arc::clone(&seller), SWEEP_EVERY);
    let mut dispatcher = dispatcher(bot, seller);
    dispatcher.dispatch().await;
    ExitCode::SUCCESS
}

/// The simulated sale.
async fn demo() -> ExitCode {
    let orders = [("order-1", "15000"), ("order-2", "42000")];
    let demo = match Demo::start(&orders, PRE_CHECKOUT_BUDGET, PRE_CHECKOUT_DEADLINE).await {
        Ok(demo) => demo,
        Err(error) => {
            eprintln!("the fake Bot API did not start: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("fake Bot API up; the bot polls it; customer {CUSTOMER} writes /buy order-1");
    let mut failures = Vec::new();
    let mut check = |ok: bool, what: &str| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures.push(what.to_owned());
        }
    };

    let invoice = demo.buy(CUSTOMER, "order-1").await;
    check(
        invoice
            .as_ref()
            .is_some_and(|i| i.total_amount == 1_500_000 && i.currency == "UZS"),
        &format!("invoice sent: {invoice:?}"),
    );
    let answer = demo.press_pay(CUSTOMER).await;
    check(
        answer.as_ref().is_some_and(|a| a.ok && !a.late),
        &format!("pre-checkout answered ok within 10 s: {answer:?}"),
    );
    let seen = demo.messages_to(CUSTOMER);
    let charge = answer.and_then(|answer| demo.telegram.complete_payment(&answer.query_id).ok());
    let thanks = demo.next_message(CUSTOMER, seen).await;
    check(
        thanks.as_deref().is_some_and(|t| t.starts_with("Paid")),
        &format!("payment recorded, customer told: {thanks:?}"),
    );
    if let Some(charge) = &charge {
        let _ = demo.telegram.deliver_again(charge.update_id);
    }
    // The bot handles a chat in order: once /terms is answered, the repeated update was handled.
    let terms = demo.say(CUSTOMER, "/terms").await;
    check(terms.is_some(), "the repeated update handled");
    check(
        demo.shop.orders.deliveries("order-1") == 1 && demo.messages_to(CUSTOMER) == seen + 2,
        "delivered once, thanked once, although Telegram sent the payment twice",
    );

    let invoice = demo.buy(CUSTOMER, "order-2").await;
    check(invoice.is_some(), "second invoice sent (order-2)");
    let code = demo.pay_by_link("order-2", "42000").await;
    check(
        code == 0,
        "order-2 paid by payment link through the SHOP-API",
    );
    let answer = demo.press_pay(CUSTOMER).await;
    check(
        answer.as_ref().is_some_and(|a| !a.ok && !a.late),
        &format!("pre-checkout of order-2 refused: {answer:?}"),
    );
    if failures.is_empty() {
        println!("telegram-shop: the bot sold through CLICK Terminal, once per order");
        ExitCode::SUCCESS
    } else {
        eprintln!("telegram-shop: {} checks failed", failures.len());
        ExitCode::FAILURE
    }
}
