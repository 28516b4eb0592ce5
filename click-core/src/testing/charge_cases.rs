//! The conformance cases of Telegram payments ([`OrderStore::record_charge`](crate::OrderStore::record_charge)), run by
//! [`crate::order_store_conformance!`] with the others: one debited transaction per one-time order
//! across the SHOP-API and Telegram, one record per `telegram_payment_charge_id`.

use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;

use super::{Harness, Hook, code};
use crate::amount::Amount;
use crate::ids::ClickPaydocId;
use crate::outbox::{TaskKind, to_the_millisecond};
use crate::store::{
    NewCharge, Order, PaymentKind, ReversalReason, TelegramCharge, Transaction, TransactionState,
    Transition,
};

fn amount(text: &str) -> Amount {
    text.parse().expect("a test amount is valid")
}

fn payable(total: &str) -> Order {
    Order::Payable {
        amount: amount(total),
    }
}

/// A Telegram payment of `total` for `order`, under charge `charge` (its provider id is Click's
/// payment id `900` + the charge's number when the charge is `tg-N`).
fn charge(order: &str, total: &str, charge: &str, kind: PaymentKind) -> NewCharge {
    let number = charge.trim_start_matches("tg-");
    NewCharge {
        service_id: Harness::SERVICE_ID,
        merchant_trans_id: order.parse().expect("a test order id is valid"),
        amount: amount(total),
        kind,
        charge: TelegramCharge {
            telegram_payment_charge_id: charge.to_owned(),
            provider_payment_charge_id: format!("900{number}"),
        },
        // To the millisecond, as stores keep it.
        paid_at: to_the_millisecond(SystemTime::now()),
    }
}

async fn record(h: &Harness, new: NewCharge) -> Transition {
    h.shop
        .store()
        .record_charge(new)
        .await
        .expect("the store answers")
}

async fn recorded(h: &Harness, charge: &str) -> Transaction {
    h.shop
        .store()
        .charge(charge)
        .await
        .expect("the store answers")
        .expect("the charge is recorded")
}

/// A Telegram payment is recorded, delivered once and found by its charge id with both
/// of Telegram's ids; the same update again records and delivers nothing.
pub async fn a_telegram_payment_is_recorded_and_delivered_once(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let first = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    let Transition::Confirmed(paid) = first else {
        panic!("the first record confirms: {first:?}");
    };
    assert_eq!(paid.state, TransactionState::Confirmed);
    assert_eq!(paid.merchant_trans_id.as_str(), "o-1");
    assert_eq!(paid.amount, amount("1000"));
    assert_eq!(paid.click_paydoc_id, ClickPaydocId::new(9001));
    assert_eq!(h.orders.deliveries("o-1"), 1);
    let stored = recorded(&h, "tg-1").await;
    assert_eq!(stored, paid);
    let ids = stored.telegram.expect("a Telegram payment keeps its ids");
    assert_eq!(ids.telegram_payment_charge_id, "tg-1");
    assert_eq!(ids.provider_payment_charge_id, "9001");

    let again = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    assert_eq!(again, Transition::Unchanged(paid), "a repeated update");
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert!(h.transactions_of(0).await.is_empty(), "no click_trans_id");
}

/// An order paid through the SHOP-API first: a Telegram payment of it is kept as reversal due
/// (with a "reverse" task), not delivered; a Prepare of the order Telegram paid answers `-4`.
pub async fn a_second_payment_across_channels_is_kept_for_reversal(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    let second = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    let Transition::OrderAlreadyPaid(kept) = second else {
        panic!("the order is paid already: {second:?}");
    };
    assert_eq!(
        kept.state,
        TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid)
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert_eq!(h.tasks(TaskKind::Reverse).await.len(), 1);

    h.orders.insert("o-2", payable("1000"));
    let paid = record(&h, charge("o-2", "1000", "tg-2", PaymentKind::Order)).await;
    assert!(matches!(paid, Transition::Confirmed(_)), "{paid:?}");
    // Even if the merchant's book still calls it payable, the store knows it is paid.
    h.orders.insert("o-2", payable("1000"));
    assert_eq!(
        code(&h.prepare(h.next_click_trans_id(), "o-2", "1000").await),
        -4
    );
}

/// A Click attempt prepared before a Telegram payment of the same order: its Complete, after the
/// Telegram payment, answers `-4` and is kept for reversal; one delivery in all.
pub async fn a_complete_after_a_telegram_payment_is_minus_4_with_reversal(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    let paid = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    assert!(matches!(paid, Transition::Confirmed(_)), "{paid:?}");
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", 0).await),
        -4
    );
    assert_eq!(
        h.state(id).await,
        Some(TransactionState::ReversalDue(
            ReversalReason::OrderAlreadyPaid
        ))
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
}

/// A failing delivery hook keeps the Telegram payment as reversal due (delivery failed), with a
/// "reverse" task; the hook's failure is not retried by a repeated update.
pub async fn a_failed_delivery_of_a_telegram_payment_is_kept_for_reversal(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    h.orders.fail_deliver(true);
    let first = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    h.orders.fail_deliver(false);
    let Transition::Confirmed(kept) = first else {
        panic!("recorded: {first:?}");
    };
    assert_eq!(
        kept.state,
        TransactionState::ReversalDue(ReversalReason::DeliveryFailed)
    );
    assert_eq!(h.orders.deliveries("o-1"), 0);
    assert_eq!(h.tasks(TaskKind::Reverse).await.len(), 1);
    let again = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    assert!(matches!(again, Transition::Unchanged(_)), "{again:?}");
    assert_eq!(h.orders.deliveries("o-1"), 0);
}

/// Telegram payments top an account up once each; a receipt wanted is one "fiscalize" task per
/// payment, recorded with it.
pub async fn telegram_top_ups_are_each_delivered_with_a_receipt(h: Harness) {
    h.orders.insert("acc-1", Order::account());
    h.orders.want_receipts(true);
    for n in 1..=3 {
        let paid = record(
            &h,
            charge("acc-1", "500", &format!("tg-{n}"), PaymentKind::TopUp),
        )
        .await;
        assert!(matches!(paid, Transition::Confirmed(_)), "{paid:?}");
    }
    assert_eq!(h.orders.deliveries("acc-1"), 3);
    assert_eq!(h.tasks(TaskKind::Fiscalize).await.len(), 3);
}

/// One update delivered to several handlers at once records one payment and delivers it once:
/// the first one's delivery is held until every other has arrived at the store.
pub async fn concurrent_records_of_one_charge_deliver_once(h: Harness) {
    for round in 0..h.rounds {
        let order = format!("o-{round}");
        h.orders.insert(&order, payable("1000"));
        let new = charge(&order, "1000", &format!("tg-{round}"), PaymentKind::Order);
        let held = h.orders.hold(Hook::Deliver);
        let mut set = JoinSet::new();
        for _ in 0..4 {
            let (store, new) = (h.shop.store().clone(), new.clone());
            set.spawn(async move { store.record_charge(new).await });
        }
        held.arrived().await;
        // The others wait for the held delivery (a row lock, the order's lock, the writer).
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(
            set.len(),
            4,
            "round {round}: nothing finishes while a delivery is held"
        );
        held.release();
        let mut confirmed = 0;
        while let Some(joined) = set.join_next().await {
            match joined.expect("no panic").expect("the store answers") {
                Transition::Confirmed(_) => confirmed += 1,
                Transition::Unchanged(_) => {}
                other => panic!("round {round}: {other:?}"),
            }
        }
        assert_eq!(confirmed, 1, "round {round}");
        assert_eq!(h.orders.deliveries(&order), 1, "round {round}");
    }
}

/// A Complete and a Telegram payment of one order racing: the Complete's delivery is held until
/// the Telegram payment has come in and waits; the Complete wins, the Telegram payment is kept
/// for reversal, and one delivery is made.
pub async fn a_complete_racing_a_telegram_payment_delivers_once(h: Harness) {
    for round in 0..h.rounds {
        let order = format!("o-{round}");
        h.orders.insert(&order, payable("1000"));
        let (id, prepare_id) = h.prepared(&order, "1000").await;
        let held = h.orders.hold(Hook::Deliver);
        let complete = {
            let h = h.clone();
            let order = order.clone();
            tokio::spawn(async move { code(&h.complete(id, &order, prepare_id, "1000", 0).await) })
        };
        held.arrived().await;
        let telegram = {
            let store = h.shop.store().clone();
            let new = charge(&order, "1000", &format!("tg-{round}"), PaymentKind::Order);
            tokio::spawn(async move { store.record_charge(new).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(
            !telegram.is_finished(),
            "round {round}: waits for the held confirm"
        );
        held.release();
        assert_eq!(complete.await.expect("no panic"), 0, "round {round}");
        let telegram = telegram
            .await
            .expect("no panic")
            .expect("the store answers");
        let Transition::OrderAlreadyPaid(kept) = telegram else {
            panic!("round {round}: {telegram:?}");
        };
        assert_eq!(
            kept.state,
            TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid)
        );
        assert_eq!(h.orders.deliveries(&order), 1, "round {round}");
    }
}

/// A delivery interrupted mid-way (the handler dropped: a crash) keeps the payment, received and
/// listed as such; the repeated update, or a later delivery, delivers it once.
pub async fn an_interrupted_telegram_delivery_keeps_the_payment(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    h.orders.insert("o-2", payable("1000"));
    for (order, number) in [("o-1", "tg-1"), ("o-2", "tg-2")] {
        let held = h.orders.hold(Hook::Deliver);
        let recording = {
            let store = h.shop.store().clone();
            let new = charge(order, "1000", number, PaymentKind::Order);
            tokio::spawn(async move { store.record_charge(new).await })
        };
        held.arrived().await;
        recording.abort();
        assert!(recording.await.is_err(), "dropped mid-delivery");
        held.release();
        assert_eq!(recorded(&h, number).await.state, TransactionState::Received);
    }
    let store = h.shop.store();
    let received = store.received_charges().await.expect("the store answers");
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(h.orders.deliveries("o-1") + h.orders.deliveries("o-2"), 0);
    // Telegram repeats the first update; the second is found by the bot's sweep.
    let again = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    assert!(matches!(again, Transition::Confirmed(_)), "{again:?}");
    let swept = store
        .deliver_charge(received[1].merchant_prepare_id)
        .await
        .expect("the store answers");
    assert!(matches!(swept, Transition::Confirmed(_)), "{swept:?}");
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert_eq!(h.orders.deliveries("o-2"), 1);
    assert!(store.received_charges().await.expect("answers").is_empty());
    let late = store
        .deliver_charge(received[1].merchant_prepare_id)
        .await
        .expect("the store answers");
    assert!(matches!(late, Transition::Unchanged(_)), "{late:?}");
}

/// A charge id that comes back with another order or amount is an error, never a second record
/// nor the first one's answer.
pub async fn a_charge_id_reused_for_another_payment_is_refused(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    h.orders.insert("o-2", payable("1000"));
    record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    let store = h.shop.store();
    for other in [
        charge("o-2", "1000", "tg-1", PaymentKind::Order),
        charge("o-1", "999", "tg-1", PaymentKind::Order),
    ] {
        assert!(store.record_charge(other).await.is_err());
    }
    assert_eq!(h.orders.deliveries("o-2"), 0);
}

/// A Complete that names a Telegram payment's id is `-6`: Click never prepared it.
pub async fn a_complete_naming_a_telegram_payment_is_minus_6(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let paid = record(&h, charge("o-1", "1000", "tg-1", PaymentKind::Order)).await;
    let Transition::Confirmed(paid) = paid else {
        panic!("{paid:?}");
    };
    let id = paid.merchant_prepare_id.get();
    let answer = h
        .complete(h.next_click_trans_id(), "o-1", id, "1000", 0)
        .await;
    assert_eq!(code(&answer), -6, "{answer:?}");
}
