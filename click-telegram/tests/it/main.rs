//! `TelegramShop` over a memory store shared with a SHOP-API shop: the pre-checkout's answers and
//! the recording of payments, one per order across both channels.

use std::sync::Arc;
use std::time::Duration;

use click_core::testing::{Harness, Hook, code};
use click_core::{MemoryStore, Order, TransactionState};
use click_telegram::{
    PaymentError, PreCheckoutQuery, Recorded, Refusal, SuccessfulPayment, TelegramShop, User,
};

async fn setup() -> (Harness, TelegramShop) {
    let h = Harness::new(|hooks| async move { MemoryStore::new(hooks) }, 1).await;
    let telegram = TelegramShop::new(Arc::clone(h.shop.store()), Harness::SERVICE_ID);
    (h, telegram)
}

fn payable(som: &str) -> Order {
    Order::Payable {
        amount: som.parse().expect("a test amount"),
    }
}

fn query(order: &str, tiyin: i64) -> PreCheckoutQuery {
    PreCheckoutQuery {
        id: "q-1".into(),
        from: User {
            id: 7,
            is_bot: false,
            first_name: "Aziz".into(),
            username: None,
        },
        currency: "UZS".into(),
        total_amount: tiyin,
        invoice_payload: order.into(),
    }
}

fn paid(order: &str, tiyin: i64, charge: &str) -> SuccessfulPayment {
    SuccessfulPayment {
        currency: "UZS".into(),
        total_amount: tiyin,
        invoice_payload: order.into(),
        telegram_payment_charge_id: charge.into(),
        provider_payment_charge_id: "4100000001".into(),
    }
}

#[tokio::test]
async fn the_pre_checkout_follows_the_prepare_rules() {
    let (h, telegram) = setup().await;
    h.orders.insert("o-1", payable("1000"));
    h.orders.insert("paid", Order::Paid);
    h.orders.insert("closed", Order::Closed);
    h.orders.insert("acc", Order::account());
    let answer = telegram.pre_checkout(&query("o-1", 100_000)).await;
    assert!(answer.ok, "{answer:?}");
    assert_eq!(answer.error_message, None);
    assert_eq!(answer.pre_checkout_query_id, "q-1");
    assert!(telegram.pre_checkout(&query("acc", 1)).await.ok);
    for (query, refusal) in [
        (query("o-1", 99_999), Refusal::WrongAmount),
        (query("o-1", 0), Refusal::WrongAmount),
        (query("o-1", -100_000), Refusal::WrongAmount),
        (query("nope", 100_000), Refusal::UnknownOrder),
        (query("", 100_000), Refusal::UnknownOrder),
        (query("paid", 100_000), Refusal::Paid),
        (query("closed", 100_000), Refusal::Closed),
        (
            PreCheckoutQuery {
                currency: "USD".into(),
                ..query("o-1", 100_000)
            },
            Refusal::Currency,
        ),
    ] {
        assert_eq!(telegram.check(&query).await, Err(refusal), "{query:?}");
        let answer = telegram.pre_checkout(&query).await;
        assert!(!answer.ok);
        assert_eq!(answer.error_message.as_deref(), Some(refusal.message()));
    }
}

#[tokio::test]
async fn a_failing_or_hanging_lookup_is_refused_within_the_budget() {
    let (h, telegram) = setup().await;
    h.orders.insert("o-1", payable("1000"));
    h.orders.fail_find(true);
    assert_eq!(
        telegram.check(&query("o-1", 100_000)).await,
        Err(Refusal::Unavailable)
    );
    h.orders.fail_find(false);
    // The lookup never returns while held: only the budget can answer.
    let held = h.orders.hold(Hook::Find);
    let telegram = telegram.answer_within(Duration::from_millis(50));
    let answer = telegram.pre_checkout(&query("o-1", 100_000)).await;
    assert!(!answer.ok);
    assert_eq!(
        answer.error_message.as_deref(),
        Some(Refusal::Unavailable.message())
    );
    held.release();
}

#[tokio::test]
async fn a_payment_is_delivered_once_and_then_refused_by_prepare() {
    let (h, telegram) = setup().await;
    h.orders.insert("o-1", payable("1000"));
    let first = telegram
        .record(&paid("o-1", 100_000, "tg-1"))
        .await
        .expect("recorded");
    let Recorded::Delivered(t) = &first else {
        panic!("{first:?}");
    };
    assert_eq!(t.amount, "1000".parse().expect("amount"));
    assert_eq!(t.click_paydoc_id.get(), 4_100_000_001);
    let again = telegram
        .record(&paid("o-1", 100_000, "tg-1"))
        .await
        .expect("recorded");
    assert_eq!(again, Recorded::Repeated(t.clone()));
    assert_eq!(h.orders.deliveries("o-1"), 1);
    // The order is paid: the pre-checkout of another invoice and Click's Prepare refuse it.
    assert_eq!(
        telegram.check(&query("o-1", 100_000)).await,
        Err(Refusal::Paid)
    );
    let prepare = h.prepare(h.next_click_trans_id(), "o-1", "1000").await;
    assert_eq!(code(&prepare), -4);
}

#[tokio::test]
async fn a_payment_of_an_order_paid_by_link_is_kept_for_reversal() {
    let (h, telegram) = setup().await;
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    let second = telegram
        .record(&paid("o-1", 100_000, "tg-1"))
        .await
        .expect("recorded");
    let Recorded::ReversalDue(t) = second else {
        panic!("{second:?}");
    };
    assert!(matches!(t.state, TransactionState::ReversalDue(_)));
    assert_eq!(h.orders.deliveries("o-1"), 1);
}

#[tokio::test]
async fn top_ups_are_recorded_as_top_ups() {
    let (h, telegram) = setup().await;
    h.orders.insert("acc", Order::account());
    for charge in ["tg-1", "tg-2"] {
        let recorded = telegram
            .record(&paid("acc", 50_000, charge))
            .await
            .expect("recorded");
        assert!(matches!(recorded, Recorded::Delivered(_)), "{recorded:?}");
        assert_eq!(recorded.transaction().kind, click_core::PaymentKind::TopUp);
    }
    assert_eq!(h.orders.deliveries("acc"), 2);
}

#[tokio::test]
async fn payments_that_are_not_this_shops_are_errors() {
    let (h, telegram) = setup().await;
    h.orders.insert("o-1", payable("1000"));
    let usd = SuccessfulPayment {
        currency: "USD".into(),
        ..paid("o-1", 100_000, "tg-1")
    };
    assert!(matches!(
        telegram.record(&usd).await,
        Err(PaymentError::Currency(c)) if c == "USD"
    ));
    assert!(matches!(
        telegram.record(&paid("", 100_000, "tg-2")).await,
        Err(PaymentError::Payload(_))
    ));
    assert!(matches!(
        telegram.record(&paid("o-1", 0, "tg-3")).await,
        Err(PaymentError::Amount(0))
    ));
    h.orders.fail_find(true);
    assert!(matches!(
        telegram.record(&paid("o-1", 100_000, "tg-4")).await,
        Err(PaymentError::Store(_))
    ));
    assert_eq!(h.orders.deliveries("o-1"), 0);
}

#[tokio::test]
async fn an_interrupted_delivery_is_finished_by_the_sweep() {
    let (h, telegram) = setup().await;
    h.orders.insert("o-1", payable("1000"));
    let held = h.orders.hold(Hook::Deliver);
    let recording = {
        let telegram = telegram.clone();
        tokio::spawn(async move { telegram.record(&paid("o-1", 100_000, "tg-1")).await })
    };
    held.arrived().await;
    recording.abort();
    assert!(recording.await.is_err(), "dropped mid-delivery");
    held.release();
    assert_eq!(h.orders.deliveries("o-1"), 0);
    let swept = telegram
        .deliver_received()
        .await
        .expect("the store answers");
    assert!(
        matches!(swept.as_slice(), [Recorded::Delivered(t)] if t.merchant_trans_id.as_str() == "o-1"),
        "{swept:?}"
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert!(
        telegram
            .deliver_received()
            .await
            .expect("answers")
            .is_empty()
    );
}
