//! Run with `cargo run -p demo-shop`: a shop with one order takes a simulated Click payment
//! (Prepare, then Complete, then Click's retry) in-process on the embedded `MemoryStore`, and prints
//! each exchange. Exits non-zero if any answer is not the expected one.
//!
//! Credentials come from `CLICK_SERVICE_ID`, `CLICK_MERCHANT_ID`, `CLICK_MERCHANT_USER_ID` and
//! `CLICK_SECRET_KEY` when all are set, else demo values.

use std::process::ExitCode;

use click_core::checkout::Checkout;
use click_core::testing::{CallbackForm, Click};
use click_core::{
    Answer, Credentials, Endpoint, ErrorCode, MemoryOrders, MemoryStore, MerchantId,
    MerchantTransId, MerchantUserId, Order, SecretKey, ServiceId, Shop, ShopEvent,
};

const ORDER_ID: &str = "order-1001";
const AMOUNT: &str = "25000";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let credentials = Credentials::from_env().unwrap_or_else(|_| {
        Credentials::new(
            ServiceId::new(101),
            MerchantId::new(202),
            MerchantUserId::new(303),
            SecretKey::new("demo-secret-key"),
        )
    });
    let (Ok(order_id), Ok(amount)) = (ORDER_ID.parse::<MerchantTransId>(), AMOUNT.parse()) else {
        eprintln!("the demo's order id and amount are invalid");
        return ExitCode::FAILURE;
    };

    let orders = MemoryOrders::new();
    orders.insert(order_id.clone(), Order::Payable { amount });
    let shop = Shop::new(&credentials, MemoryStore::new(orders.clone()))
        .on_event(|event| println!("   event: {}", describe(event)));

    let checkout = Checkout::from_credentials(&credentials, amount, order_id.clone());
    println!("Order {ORDER_ID}: {amount} so'm");
    println!("Payment link: {}", checkout.link());
    match checkout.qr_terminal() {
        Ok(qr) => println!("{qr}"),
        Err(error) => println!("(no QR code: {error})"),
    }

    let click = Click::new(credentials.service_id, credentials.secret_key.clone());
    let click_trans_id = 3_600_000_001;
    let amount_text = format!("{amount}");

    let prepare = click.prepare(click_trans_id, ORDER_ID, &amount_text);
    let answer = exchange(&shop, "Prepare", Endpoint::Prepare, &prepare).await;
    let Some(prepare_id) = answer
        .merchant_prepare_id()
        .filter(|_| answer.error() == ErrorCode::Success)
    else {
        return fail("Prepare did not succeed");
    };

    let complete = click.complete(click_trans_id, ORDER_ID, prepare_id.get(), &amount_text, 0);
    let answer = exchange(&shop, "Complete", Endpoint::Complete, &complete).await;
    if answer.error() != ErrorCode::Success {
        return fail("Complete did not succeed");
    }

    let retry = exchange(
        &shop,
        "Complete (Click's retry)",
        Endpoint::Complete,
        &complete,
    )
    .await;
    if retry.error() != ErrorCode::AlreadyPaid || orders.deliveries().len() != 1 {
        return fail("the retry was not answered -4, or the order was delivered twice");
    }

    println!(
        "\nPaid: order {ORDER_ID} delivered {} time(s); its state is now {:?}.",
        orders.deliveries().len(),
        orders.get(&order_id),
    );
    ExitCode::SUCCESS
}

async fn exchange(shop: &Shop, name: &str, endpoint: Endpoint, form: &CallbackForm) -> Answer {
    let body = form.encode();
    println!("\n-> Click POSTs {name}:\n   {}", redact(&body));
    let answer = shop.handle(endpoint, body.as_bytes()).await;
    println!(
        "<- the shop answers:\n   {}",
        String::from_utf8_lossy(&answer.to_json())
    );
    answer
}

/// The body with `sign_string` shortened: a full digest next to its fields is a brute-force oracle.
fn redact(body: &str) -> String {
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("sign_string", sign)) => {
                format!("sign_string={}…", sign.get(..6).unwrap_or(sign))
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn describe(event: &ShopEvent) -> String {
    match event {
        ShopEvent::Prepared(t) => format!(
            "prepared {} (prepare id {})",
            t.merchant_trans_id, t.merchant_prepare_id
        ),
        ShopEvent::Confirmed(t) => format!("confirmed and delivered {}", t.merchant_trans_id),
        ShopEvent::Cancelled(t) => format!("cancelled {}", t.merchant_trans_id),
        ShopEvent::ReversalDue {
            transaction,
            reason,
        } => format!(
            "reverse payment {} ({reason:?})",
            transaction.click_paydoc_id
        ),
        other => format!("{other:?}"),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("demo failed: {message}");
    ExitCode::FAILURE
}
