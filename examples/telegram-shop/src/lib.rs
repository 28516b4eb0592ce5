//! The bot of `cargo run -p telegram-shop`: sells a shop's orders through CLICK Terminal, on
//! teloxide, with click-telegram doing the Click part over the same store as the shop's SHOP-API
//! callbacks.
//!
//! - `/buy ORDER` sends an invoice for a payable order (in so'm, payload = the order's id).
//! - A pre-checkout query is answered by [`TelegramShop::pre_checkout`](click_telegram::TelegramShop::pre_checkout)
//!   (ok, or why not), within its budget.
//! - A `successful_payment` is recorded once by [`TelegramShop::record`](click_telegram::TelegramShop::record)
//!   and the customer told it is paid, or that the money comes back (an order paid meanwhile
//!   through a link); an update repeated by Telegram is recorded and answered once.
//! - `/terms` and `/support` answer, as Telegram requires of a bot that takes payments.

pub mod demo;

use std::sync::Arc;
use std::time::Duration;

use click_core::{MerchantTransId, Order, OrderStore, ReversalReason, ServiceId, TransactionState};
use click_telegram::{
    Invoice, PaymentError, PreCheckoutQuery, ProviderToken, Recorded, SuccessfulPayment,
    TelegramShop,
};
use teloxide::dispatching::{DefaultKey, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::LabeledPrice;

/// How often a payment is tried again when the store fails, before the bot gives up on it
/// (about a minute in all: Telegram will not send the update again).
const RECORD_TRIES: u32 = 12;

/// How often the bot finishes the deliveries a crash interrupted.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// What the bot sells, and how.
pub struct Seller {
    store: Arc<dyn OrderStore>,
    service_id: ServiceId,
    telegram: TelegramShop,
    provider_token: ProviderToken,
}

impl Seller {
    /// Sells the orders of `store` for the Click service `service_id`, with the bot's CLICK
    /// Terminal token.
    pub fn new(
        store: Arc<dyn OrderStore>,
        service_id: ServiceId,
        provider_token: ProviderToken,
    ) -> Self {
        Self {
            telegram: TelegramShop::new(Arc::clone(&store), service_id),
            store,
            service_id,
            provider_token,
        }
    }

    /// Answers pre-checkout queries within `budget` (default 8 s).
    #[must_use]
    pub fn answer_within(mut self, budget: Duration) -> Self {
        self.telegram = self.telegram.answer_within(budget);
        self
    }
}

/// The bot's update handler.
pub fn handler() -> UpdateHandler<teloxide::RequestError> {
    dptree::entry()
        .branch(Update::filter_pre_checkout_query().endpoint(on_pre_checkout))
        .branch(
            Update::filter_message()
                .branch(
                    dptree::filter(|message: Message| message.successful_payment().is_some())
                        .endpoint(on_payment),
                )
                .endpoint(on_message),
        )
}

/// A dispatcher running [`handler`] for `seller`, stopping gracefully on ctrl-c.
pub fn dispatcher(
    bot: Bot,
    seller: Arc<Seller>,
) -> Dispatcher<Bot, teloxide::RequestError, DefaultKey> {
    Dispatcher::builder(bot, handler())
        .dependencies(dptree::deps![seller])
        .enable_ctrlc_handler()
        .build()
}

/// Delivers, now and every `every`, the payments whose delivery a crash interrupted
/// ([`TelegramShop::deliver_received`](click_telegram::TelegramShop::deliver_received)).
pub fn spawn_sweep(seller: Arc<Seller>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match seller.telegram.deliver_received().await {
                Ok(delivered) if !delivered.is_empty() => {
                    tracing::warn!(count = delivered.len(), "interrupted deliveries finished");
                }
                Ok(_) => {}
                Err(error) => tracing::error!(
                    error = &error as &dyn std::error::Error,
                    "finishing interrupted deliveries failed; trying again later"
                ),
            }
        }
    })
}

/// A Telegram payment kept for reversal because its order was paid already.
const ALREADY_PAID: TransactionState =
    TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid);

/// A Bot API object of teloxide's as click-telegram's: both are the Bot API's JSON.
fn convert<T: serde::Serialize, U: serde::de::DeserializeOwned>(
    value: &T,
) -> Result<U, serde_json::Error> {
    serde_json::from_value(serde_json::to_value(value)?)
}

async fn on_message(bot: Bot, message: Message, seller: Arc<Seller>) -> ResponseResult<()> {
    let text = message.text().unwrap_or_default();
    let reply = match text.split_whitespace().collect::<Vec<_>>().as_slice() {
        ["/buy", order] => return send_invoice(&bot, &message, &seller, order).await,
        ["/terms"] => "Payments go through CLICK. A paid order is delivered at once; a payment \
                       that cannot be delivered is returned to you in full."
            .to_owned(),
        ["/support"] => "Write to support@example.uz with your order number. Telegram's \
                         support cannot help with purchases made in this bot."
            .to_owned(),
        _ => "Send /buy ORDER to pay an order, /terms for the terms, /support for help.".to_owned(),
    };
    bot.send_message(message.chat.id, reply).await?;
    Ok(())
}

async fn send_invoice(
    bot: &Bot,
    message: &Message,
    seller: &Seller,
    order: &str,
) -> ResponseResult<()> {
    let chat = message.chat.id;
    let Ok(id) = order.parse::<MerchantTransId>() else {
        bot.send_message(chat, "That is not an order number.")
            .await?;
        return Ok(());
    };
    let amount = match seller.store.order(seller.service_id, &id).await {
        Ok(Some(Order::Payable { amount })) => amount,
        Ok(Some(Order::Paid)) => {
            bot.send_message(chat, format!("Order {id} is already paid."))
                .await?;
            return Ok(());
        }
        Ok(_) => {
            bot.send_message(chat, format!("Order {id} cannot be paid here."))
                .await?;
            return Ok(());
        }
        Err(error) => {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                "order lookup failed"
            );
            bot.send_message(chat, "Sorry, please try again in a minute.")
                .await?;
            return Ok(());
        }
    };
    let invoice = Invoice::new(
        id.clone(),
        amount,
        format!("Order {id}"),
        format!("Payment of order {id}"),
    )
    .send_to(chat.0, &seller.provider_token);
    let invoice = match invoice {
        Ok(invoice) => invoice,
        Err(error) => {
            tracing::error!(%error, "the order cannot be invoiced in Telegram");
            bot.send_message(chat, "This order cannot be paid in Telegram.")
                .await?;
            return Ok(());
        }
    };
    let prices: Option<Vec<LabeledPrice>> = invoice
        .prices
        .iter()
        .map(|price| {
            Some(LabeledPrice::new(
                &price.label,
                u32::try_from(price.amount).ok()?,
            ))
        })
        .collect();
    let Some(prices) = prices else {
        // teloxide counts amounts in u32: 42 949 672.95 so'm at most.
        bot.send_message(chat, "This order is too large to pay in Telegram.")
            .await?;
        return Ok(());
    };
    let mut request = bot
        .send_invoice(
            chat,
            invoice.title,
            invoice.description,
            invoice.payload,
            invoice.currency,
            prices,
        )
        .provider_token(invoice.provider_token);
    if let Some(photo) = invoice.photo_url.and_then(|url| url.parse().ok()) {
        request = request.photo_url(photo);
    }
    request.await?;
    Ok(())
}

async fn on_pre_checkout(
    bot: Bot,
    query: teloxide::types::PreCheckoutQuery,
    seller: Arc<Seller>,
) -> ResponseResult<()> {
    let ours: PreCheckoutQuery = match convert(&query) {
        Ok(ours) => ours,
        Err(error) => {
            tracing::error!(%error, "a pre-checkout query click-telegram cannot read");
            bot.answer_pre_checkout_query(query.id, false)
                .error_message("Sorry, this payment cannot be taken.")
                .await?;
            return Ok(());
        }
    };
    let answer = seller.telegram.pre_checkout(&ours).await;
    let mut request = bot.answer_pre_checkout_query(query.id, answer.ok);
    if let Some(message) = answer.error_message {
        request = request.error_message(message);
    }
    request.await?;
    Ok(())
}

async fn on_payment(bot: Bot, message: Message, seller: Arc<Seller>) -> ResponseResult<()> {
    let Some(payment) = message.successful_payment() else {
        return Ok(());
    };
    let payment: SuccessfulPayment = match convert(payment) {
        Ok(payment) => payment,
        Err(error) => {
            tracing::error!(%error, "a successful_payment click-telegram cannot read");
            return Ok(());
        }
    };
    let recorded = record(&seller, &payment).await;
    let reply = match recorded {
        Ok(Recorded::Delivered(t)) => {
            format!("Paid: order {} is yours. Thank you!", t.merchant_trans_id)
        }
        Ok(Recorded::ReversalDue(t)) if t.state == ALREADY_PAID => format!(
            "Order {} was already paid, so this payment will be returned to you in full.",
            t.merchant_trans_id
        ),
        Ok(Recorded::ReversalDue(t)) => format!(
            "Sorry, order {} cannot be delivered; your payment will be returned in full.",
            t.merchant_trans_id
        ),
        // Telegram repeated the update: the customer was answered the first time.
        Ok(_) => return Ok(()),
        Err(error) => {
            tracing::error!(
                error = &error as &dyn std::error::Error,
                telegram_payment_charge_id = %payment.telegram_payment_charge_id,
                "a Telegram payment could not be recorded: settle it by hand"
            );
            "We received your payment and are checking it; write to /support if the order does \
             not arrive."
                .to_owned()
        }
    };
    bot.send_message(message.chat.id, reply).await?;
    Ok(())
}

/// Records a payment, trying again while the store fails (recording is idempotent).
async fn record(seller: &Seller, payment: &SuccessfulPayment) -> Result<Recorded, PaymentError> {
    let mut tries = 1;
    loop {
        match seller.telegram.record(payment).await {
            Err(PaymentError::Store(error)) if tries < RECORD_TRIES => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    tries,
                    "recording a Telegram payment failed; trying again"
                );
                let pause = Duration::from_millis(250 << tries.min(4));
                tokio::time::sleep(pause).await;
                tries += 1;
            }
            result => return result,
        }
    }
}
