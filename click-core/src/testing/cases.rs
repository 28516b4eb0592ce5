//! The conformance cases: each takes a [`Harness`] over a fresh store and panics on a violation.
//! Bad-input numbers refer to the catalogue at the end of `docs/protocol.md`.

use std::collections::HashSet;
use std::time::Duration;

use tokio::task::JoinSet;

use super::click_tool::{SCENARIOS, ToolRun};
use super::{Harness, Hook, code};
use crate::amount::Amount;
use crate::answer::Answer;
use crate::shop::{CancelAfterConfirm, ShopEvent};
use crate::store::{Order, PaymentKind, ReversalReason, TransactionState};

fn amount(text: &str) -> Amount {
    text.parse().expect("a test amount is valid")
}

fn payable(total: &str) -> Order {
    Order::Payable {
        amount: amount(total),
    }
}

fn reversals(h: &Harness, reason: ReversalReason) -> usize {
    h.events()
        .iter()
        .filter(|event| matches!(event, ShopEvent::ReversalDue { reason: r, .. } if *r == reason))
        .count()
}

/// A successful Prepare answers a `merchant_prepare_id`, reserves once and freezes the amount.
pub async fn prepare_answers_a_prepare_id_and_reserves(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let id = h.next_click_trans_id();
    let answer = h.prepare(id, "o-1", "1000.00").await;
    assert_eq!(code(&answer), 0, "{answer:?}");
    let prepare_id = answer.merchant_prepare_id().expect("a prepare id");
    assert!(prepare_id.get() > 0);
    assert_eq!(h.orders.reserves(), 1);
    let transaction = h.transaction(id).await.expect("recorded");
    assert_eq!(transaction.state, TransactionState::Prepared);
    assert_eq!(transaction.merchant_prepare_id, prepare_id);
    assert_eq!(transaction.amount, amount("1000"));
    assert_eq!(transaction.kind, PaymentKind::Order);
    assert_eq!(transaction.merchant_trans_id.as_str(), "o-1");
    assert!(matches!(h.events().as_slice(), [ShopEvent::Prepared(_)]));
}

/// Bad input 47: a retried Prepare gets the same id and byte-identical JSON; one reservation.
pub async fn prepare_retry_replays_the_same_answer(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let id = h.next_click_trans_id();
    let first = h.prepare(id, "o-1", "1000").await;
    let again = h.prepare(id, "o-1", "1000").await;
    assert_eq!(code(&first), 0);
    assert_eq!(first.to_json(), again.to_json());
    assert_eq!(h.orders.reserves(), 1);
}

/// Bad input 43: an unknown order answers `-5` and records nothing.
pub async fn prepare_unknown_order_is_minus_5(h: Harness) {
    let id = h.next_click_trans_id();
    assert_eq!(code(&h.prepare(id, "nope", "1000").await), -5);
    assert_eq!(h.transaction(id).await, None);
    assert_eq!(h.orders.reserves(), 0);
}

/// Bad inputs 34–36: an amount other than the order's answers `-2` and records nothing.
pub async fn prepare_wrong_amount_is_minus_2(h: Harness) {
    h.orders.insert("o-1000", payable("1000"));
    h.orders.insert("o-100000", payable("100000"));
    for (order, sent) in [
        ("o-1000", "999.99"),
        ("o-100000", "1"),
        ("o-100000", "100001"),
    ] {
        let id = h.next_click_trans_id();
        assert_eq!(
            code(&h.prepare(id, order, sent).await),
            -2,
            "{sent} for {order}"
        );
        assert_eq!(h.transaction(id).await, None);
    }
    assert_eq!(h.orders.reserves(), 0);
}

/// Bad input 50: Prepare of a paid one-time order answers `-4`.
pub async fn prepare_paid_order_is_minus_4(h: Harness) {
    h.orders.insert("paid", Order::Paid);
    let id = h.next_click_trans_id();
    assert_eq!(code(&h.prepare(id, "paid", "1000").await), -4);
    assert_eq!(h.transaction(id).await, None);
}

/// Bad input 51: Prepare of a cancelled or unpayable order answers `-9`; Click's cancelling Complete
/// that follows also answers `-9`.
pub async fn prepare_closed_order_is_minus_9(h: Harness) {
    h.orders.insert("closed", Order::Closed);
    let id = h.next_click_trans_id();
    assert_eq!(code(&h.prepare(id, "closed", "1000").await), -9);
    assert_eq!(h.transaction(id).await, None);
    assert_eq!(code(&h.complete(id, "closed", 1, "1000", -5017).await), -9);
    assert_eq!(h.transaction(id).await, None);
}

/// Bad input 48: a retried Prepare of a prepared attempt with another amount answers `-8` and
/// changes nothing; the same `click_trans_id` for another order is a new attempt of that order.
pub async fn prepare_conflicting_retry_is_minus_8(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    h.orders.insert("o-2", payable("2000"));
    let id = h.next_click_trans_id();
    let first = h.prepare(id, "o-1", "1000").await;
    assert_eq!(code(&first), 0);
    let before = h.transaction(id).await;
    assert_eq!(code(&h.prepare(id, "o-1", "999").await), -8);
    assert_eq!(h.transaction(id).await, before);
    let other = h.prepare(id, "o-2", "2000").await;
    assert_eq!(code(&other), 0, "{other:?}");
    assert_ne!(other.merchant_prepare_id(), first.merchant_prepare_id());
    assert_eq!(h.transactions_of(id).await.len(), 2);
    assert_eq!(h.orders.reserves(), 2);
}

/// Bad input 29: once an attempt is final, a Prepare of the same (`service_id`, `click_trans_id`,
/// `merchant_trans_id`) is a new attempt judged on its own merits: after a cancel, a still payable
/// order answers `0` with a new `merchant_prepare_id`; after a confirm, an account does too (Click's
/// test tool sends the same fixed ids on every run); a closed order answers `-9`.
pub async fn prepare_of_a_final_attempt_is_a_new_attempt(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", -5017).await),
        -9
    );
    let again = h.prepare(id, "o-1", "1000").await;
    assert_eq!(code(&again), 0, "{again:?}");
    let new_id = again.merchant_prepare_id().expect("a prepare id").get();
    assert_ne!(new_id, prepare_id);
    assert_eq!(
        h.prepared_as(prepare_id).await.map(|t| t.state),
        Some(TransactionState::Cancelled)
    );
    assert_eq!(code(&h.complete(id, "o-1", new_id, "1000", 0).await), 0);
    assert_eq!(h.orders.deliveries("o-1"), 1);

    h.orders.insert("login", Order::account());
    let (id, prepare_id) = h.prepared("login", "1000").await;
    assert_eq!(
        code(&h.complete(id, "login", prepare_id, "1000", 0).await),
        0
    );
    let again = h.prepare(id, "login", "1000").await;
    assert_eq!(code(&again), 0, "{again:?}");
    let new_id = again.merchant_prepare_id().expect("a prepare id").get();
    assert_eq!(code(&h.complete(id, "login", new_id, "1000", 0).await), 0);
    assert_eq!(h.orders.deliveries("login"), 2);

    h.orders.insert("closed", payable("1000"));
    let (id, prepare_id) = h.prepared("closed", "1000").await;
    assert_eq!(
        code(&h.complete(id, "closed", prepare_id, "1000", -5017).await),
        -9
    );
    h.orders.insert("closed", Order::Closed);
    assert_eq!(code(&h.prepare(id, "closed", "1000").await), -9);
    assert_eq!(h.transactions_of(id).await.len(), 1);
}

/// A replayed Prepare of a confirmed transaction, and a new Prepare of the paid order, answer
/// `-4` — the latter even when the merchant's lookup still says payable (the store knows).
pub async fn prepare_after_confirm_is_minus_4(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(code(&h.prepare(id, "o-1", "1000").await), -4);
    let fresh = h.next_click_trans_id();
    assert_eq!(
        code(&h.prepare(fresh, "o-1", "1000").await),
        -4,
        "book says paid"
    );
    h.orders.insert("o-1", payable("1000"));
    assert_eq!(
        code(&h.prepare(fresh, "o-1", "1000").await),
        -4,
        "store says paid"
    );
    assert_eq!(h.transaction(fresh).await, None);
}

/// Step 8 of the decision table: a debit confirms, delivers once and answers a confirm id.
pub async fn complete_confirms_and_delivers_once(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    let answer = h.complete(id, "o-1", prepare_id, "1000", 0).await;
    assert_eq!(code(&answer), 0, "{answer:?}");
    assert!(answer.merchant_confirm_id().is_some());
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert_eq!(h.state(id).await, Some(TransactionState::Confirmed));
    assert_eq!(
        h.orders.book().get(&"o-1".parse().expect("id")),
        Some(Order::Paid)
    );
    assert!(matches!(h.events().last(), Some(ShopEvent::Confirmed(_))));
}

/// Bad inputs 28 and 56: a repeated Complete answers `-4` and delivers nothing more, even when the
/// unsigned `error` of the replay says cancel.
pub async fn complete_retry_is_minus_4_without_second_delivery(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", 0).await),
        -4
    );
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", -5017).await),
        -4
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert_eq!(h.state(id).await, Some(TransactionState::Confirmed));
}

/// Bad inputs 44 and 45: a Complete whose `merchant_prepare_id` names no transaction, or one of
/// another order, answers `-6` and changes nothing: no hook runs, no order stays claimed, and
/// the right Completes then confirm both.
pub async fn complete_of_unknown_transaction_is_minus_6(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    h.orders.insert("o-2", payable("1000"));
    let (id_1, prepare_1) = h.prepared("o-1", "1000").await;
    let (id_2, prepare_2) = h.prepared("o-2", "1000").await;
    let unknown = h.next_click_trans_id();
    assert_eq!(
        code(&h.complete(unknown, "o-1", 999_999_999, "1000", 0).await),
        -6
    );
    assert_eq!(h.transaction(unknown).await, None);
    assert_eq!(
        code(&h.complete(id_1, "o-1", prepare_2, "1000", 0).await),
        -6
    );
    assert_eq!(
        code(&h.complete(id_1, "o-2", prepare_1, "1000", 0).await),
        -6
    );
    assert_eq!(
        code(&h.complete(id_1, "o-2", prepare_1, "1000", -5017).await),
        -6
    );
    assert_eq!(h.state(id_1).await, Some(TransactionState::Prepared));
    assert_eq!(h.state(id_2).await, Some(TransactionState::Prepared));
    assert_eq!(h.orders.deliveries("o-1") + h.orders.deliveries("o-2"), 0);
    assert_eq!(h.orders.releases(), 0);
    assert_eq!(
        code(&h.complete(id_1, "o-1", prepare_1, "1000", 0).await),
        0
    );
    assert_eq!(
        code(&h.complete(id_2, "o-2", prepare_2, "1000", 0).await),
        0
    );
    assert_eq!(
        (h.orders.deliveries("o-1"), h.orders.deliveries("o-2")),
        (1, 1)
    );
}

/// A Complete names its transaction by `merchant_prepare_id`: under another `click_trans_id` than
/// the Prepare's (as Click's test tool sends it), it confirms that transaction once; the repeat
/// answers `-4`, and the transaction keeps its Prepare's `click_trans_id`.
pub async fn complete_names_its_transaction_by_prepare_id(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    let (other, again) = (h.next_click_trans_id(), h.next_click_trans_id());
    assert_eq!(
        code(&h.complete(other, "o-1", prepare_id, "1000", 0).await),
        0
    );
    assert_eq!(
        code(&h.complete(again, "o-1", prepare_id, "1000", 0).await),
        -4
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
    let transaction = h.prepared_as(prepare_id).await.expect("recorded");
    assert_eq!(transaction.state, TransactionState::Confirmed);
    assert_eq!(transaction.click_trans_id.get(), id);
    assert!(h.transactions_of(other).await.is_empty());
}

/// Click's test-tool step 5: a Complete with a different amount answers `-2` (a cancel too, and
/// releases nothing) and a correct one still succeeds.
pub async fn complete_wrong_amount_is_minus_2_and_changes_nothing(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "999.99", 0).await),
        -2
    );
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1", 0).await), -2);
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "999.99", -5017).await),
        -2
    );
    assert_eq!(h.state(id).await, Some(TransactionState::Prepared));
    assert_eq!(h.orders.releases(), 0);
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000.00", 0).await),
        0
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
}

/// Bad inputs 52 and 53: every negative `error` cancels: `-9`, released, no delivery; again `-9`.
pub async fn cancel_releases_and_answers_minus_9(h: Harness) {
    for (n, error) in [-5017, -1, -9, -30000].into_iter().enumerate() {
        let order = format!("o-{n}");
        h.orders.insert(&order, payable("1000"));
        let (id, prepare_id) = h.prepared(&order, "1000").await;
        assert_eq!(
            code(&h.complete(id, &order, prepare_id, "1000", error).await),
            -9
        );
        assert_eq!(h.state(id).await, Some(TransactionState::Cancelled));
        assert_eq!(h.orders.releases(), n + 1);
        assert_eq!(
            code(&h.complete(id, &order, prepare_id, "1000", error).await),
            -9
        );
        assert_eq!(h.orders.releases(), n + 1, "released once");
        assert_eq!(h.orders.deliveries(&order), 0);
    }
}

/// Bad input 54: `error=0` after a cancel answers `-9` and delivers nothing.
pub async fn confirm_after_cancel_is_minus_9(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", -5017).await),
        -9
    );
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", 0).await),
        -9
    );
    assert_eq!(h.orders.deliveries("o-1"), 0);
    assert_eq!(h.state(id).await, Some(TransactionState::Cancelled));
}

/// Bad input 55: a cancel after a confirm answers `-4` by default, `-9` when configured so; the
/// payment stands either way.
pub async fn cancel_after_confirm_keeps_the_payment(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", -5017).await),
        -4
    );
    let strict = Harness {
        shop: h
            .shop
            .clone()
            .cancel_after_confirm(CancelAfterConfirm::Cancelled),
        ..h.clone()
    };
    assert_eq!(
        code(&strict.complete(id, "o-1", prepare_id, "1000", -5017).await),
        -9
    );
    assert_eq!(h.state(id).await, Some(TransactionState::Confirmed));
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert_eq!(h.orders.releases(), 0);
}

/// Bad input 49: two attempts of one order, both debited: the first delivers, the second answers `-4`
/// and is reported for reversal.
pub async fn second_debited_attempt_is_minus_4_with_reversal(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id_1, prepare_1) = h.prepared("o-1", "1000").await;
    let (id_2, prepare_2) = h.prepared("o-1", "1000").await;
    assert_eq!(
        code(&h.complete(id_1, "o-1", prepare_1, "1000", 0).await),
        0
    );
    assert_eq!(
        code(&h.complete(id_2, "o-1", prepare_2, "1000", 0).await),
        -4
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert_eq!(
        h.state(id_2).await,
        Some(TransactionState::ReversalDue(
            ReversalReason::OrderAlreadyPaid
        ))
    );
    assert_eq!(reversals(&h, ReversalReason::OrderAlreadyPaid), 1);
    assert_eq!(
        code(&h.complete(id_2, "o-1", prepare_2, "1000", 0).await),
        -4
    );
    assert_eq!(
        reversals(&h, ReversalReason::OrderAlreadyPaid),
        1,
        "reported once"
    );
}

/// Bad input 58: a failing delivery after the debit answers `0` and is reported for reversal.
pub async fn delivery_failure_answers_0_with_reversal(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    h.orders.fail_deliver(true);
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    h.orders.fail_deliver(false);
    assert_eq!(
        h.state(id).await,
        Some(TransactionState::ReversalDue(
            ReversalReason::DeliveryFailed
        ))
    );
    assert_eq!(reversals(&h, ReversalReason::DeliveryFailed), 1);
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", 0).await),
        -4
    );
    assert_eq!(h.orders.deliveries("o-1"), 0);
}

/// Bad input 50 (top-up mode): an account accepts any number of payments within its limits.
pub async fn accounts_accept_repeated_top_ups(h: Harness) {
    h.orders.insert(
        "login",
        Order::Account {
            min: amount("1000"),
            max: amount("50000"),
        },
    );
    let (id_1, prepare_1) = h.prepared("login", "1000").await;
    assert_eq!(
        code(&h.complete(id_1, "login", prepare_1, "1000", 0).await),
        0
    );
    let (id_2, prepare_2) = h.prepared("login", "25000.50").await;
    assert_eq!(
        code(&h.complete(id_2, "login", prepare_2, "25000.50", 0).await),
        0
    );
    assert_eq!(h.orders.deliveries("login"), 2);
    assert_eq!(
        h.transaction(id_2).await.map(|t| t.kind),
        Some(PaymentKind::TopUp)
    );
    for outside in ["999.99", "50000.01"] {
        let id = h.next_click_trans_id();
        assert_eq!(
            code(&h.prepare(id, "login", outside).await),
            -2,
            "{outside}"
        );
    }
}

/// Bad input 42: the amount is frozen at Prepare: the Complete of the old amount succeeds after the
/// merchant edited the order; a new Prepare of the old amount does not.
pub async fn amount_is_frozen_at_prepare(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    h.orders.insert("o-1", payable("2000"));
    let fresh = h.next_click_trans_id();
    assert_eq!(code(&h.prepare(fresh, "o-1", "1000").await), -2);
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(h.orders.deliveries("o-1"), 1);
}

/// Bad input 60: a failing lookup answers `-7` and records nothing; Click's retry then succeeds.
pub async fn failed_lookup_is_minus_7_and_records_nothing(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let id = h.next_click_trans_id();
    h.orders.fail_find(true);
    assert_eq!(code(&h.prepare(id, "o-1", "1000").await), -7);
    h.orders.fail_find(false);
    assert_eq!(h.transaction(id).await, None);
    assert_eq!(code(&h.prepare(id, "o-1", "1000").await), 0);
}

/// Bad input 60: a failing reservation answers `-7` and records nothing; Click's retry then succeeds
/// and the payment is delivered once.
pub async fn failed_reserve_is_minus_7_and_records_nothing(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let id = h.next_click_trans_id();
    h.orders.fail_reserve(true);
    assert_eq!(code(&h.prepare(id, "o-1", "1000").await), -7);
    h.orders.fail_reserve(false);
    assert_eq!(h.transaction(id).await, None);
    let answer = h.prepare(id, "o-1", "1000").await;
    assert_eq!(code(&answer), 0);
    let prepare_id = answer.merchant_prepare_id().expect("a prepare id").get();
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(h.orders.deliveries("o-1"), 1);
}

/// A resent Prepare that arrives while the first one's reservation is still running (and then
/// fails) does not see the unfinished attempt, and no answer names a prepare id that does not exist
/// afterwards (Click would debit and then get `-6`). The first Prepare is held inside its reserve
/// hook while the resent one runs: the resent one waits for the first (on the order's lock, or on
/// the unique key of the prepared attempt) and does not answer meanwhile.
pub async fn a_resent_prepare_never_sees_a_failing_reservation(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let id = h.next_click_trans_id();
    h.orders.fail_reserve(true);
    let reserve = h.orders.hold(Hook::Reserve);
    let spawn = || {
        let h = h.clone();
        tokio::spawn(async move { h.prepare(id, "o-1", "1000").await })
    };
    let first = spawn();
    reserve.arrived().await;
    let mut resent = spawn();
    let early = tokio::time::timeout(Duration::from_millis(300), &mut resent).await;
    assert!(
        early.is_err(),
        "the resent Prepare answered while the first was unfinished: {early:?}"
    );
    reserve.release();
    let first = first.await.expect("the task finishes");
    let resent = resent.await.expect("the task finishes");
    h.orders.fail_reserve(false);
    for answer in [&first, &resent] {
        assert_eq!(code(answer), -7, "{answer:?}");
    }
    assert_eq!(h.transaction(id).await, None);
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
}

/// A confirm whose request is dropped while the delivery hook runs (Click hung up, the process
/// died) changes nothing, in every store: the transaction stays prepared, nothing is delivered or
/// reported, and Click's retry delivers once.
pub async fn an_interrupted_delivery_changes_nothing(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    let deliver = h.orders.hold(Hook::Deliver);
    let confirm = {
        let h = h.clone();
        tokio::spawn(async move { h.complete(id, "o-1", prepare_id, "1000", 0).await })
    };
    deliver.arrived().await;
    confirm.abort();
    let dropped = confirm.await;
    assert!(
        dropped.is_err(),
        "the request was dropped mid-delivery: {dropped:?}"
    );
    deliver.release();
    assert_eq!(h.state(id).await, Some(TransactionState::Prepared));
    assert_eq!(h.orders.deliveries("o-1"), 0);
    let retry = h.complete(id, "o-1", prepare_id, "1000", 0).await;
    assert_eq!(code(&retry), 0, "{retry:?}");
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", 0).await),
        -4
    );
    assert_eq!(h.orders.deliveries("o-1"), 1);
    assert_eq!(h.state(id).await, Some(TransactionState::Confirmed));
    assert_eq!(reversals(&h, ReversalReason::DeliveryFailed), 0);
}

/// Replays Click's test tool once: every scenario answers what the tool expects.
async fn replay_click_tool(
    h: &Harness,
    orders: [&str; 3],
    cancel_after_confirm: CancelAfterConfirm,
) {
    let mut run = ToolRun::new(
        h.click.clone(),
        orders.map(|order| order.parse().expect("a test merchant_trans_id is valid")),
    )
    .cancel_after_confirm(cancel_after_confirm);
    for scenario in &SCENARIOS {
        let request = run
            .request(scenario)
            .expect("the chain's Prepare answered an id");
        let answer = h
            .shop
            .handle(request.endpoint, request.body.as_bytes())
            .await;
        assert_eq!(
            code(&answer),
            run.expected(scenario),
            "scenario {} ({}), {orders:?}: {answer:?}",
            scenario.number,
            scenario.english
        );
        run.answered(scenario, answer.merchant_prepare_id().map(|id| id.get()));
    }
}

/// Click's test tool with one `merchant_trans_id` for all three chains, an account: it passes
/// three runs in a row (the tool sends the same `click_trans_id`s every time), the third with
/// `-9` configured for a cancel after confirm; each run tops the account up twice.
pub async fn click_tool_on_one_account_three_runs(h: Harness) {
    h.orders.insert("user-42", Order::account());
    for run in 1..=3 {
        let answer = if run == 3 {
            CancelAfterConfirm::Cancelled
        } else {
            CancelAfterConfirm::AlreadyPaid
        };
        let h = Harness {
            shop: h.shop.clone().cancel_after_confirm(answer),
            ..h.clone()
        };
        replay_click_tool(&h, ["user-42"; 3], answer).await;
        assert_eq!(h.orders.deliveries("user-42"), 2 * run, "run {run}");
    }
}

/// Click's test tool with a fresh one-time order of 500 so'm per chain: it passes three runs in a
/// row with the same `click_trans_id`s; chains 1 and 2 pay their orders once, chain 3 cancels.
pub async fn click_tool_on_three_orders_three_runs(h: Harness) {
    for run in 1..=3 {
        let orders = ["a", "b", "c"].map(|chain| format!("tool-{run}-{chain}"));
        for order in &orders {
            h.orders.insert(order, payable("500"));
        }
        let ids = [&orders[0], &orders[1], &orders[2]].map(String::as_str);
        replay_click_tool(&h, ids, CancelAfterConfirm::AlreadyPaid).await;
        let deliveries = orders.each_ref().map(|order| h.orders.deliveries(order));
        assert_eq!(deliveries, [1, 1, 0], "run {run}");
    }
}

/// Bad input 61: 50 identical concurrent Completes: one `0`, 49 `-4`, one delivery, the transaction
/// confirmed and nothing reported for reversal; `rounds` times, alternating one-time orders and
/// account top-ups (which have no per-order claim to fall back on).
pub async fn concurrent_identical_completes_deliver_once(h: Harness) {
    for round in 0..h.rounds {
        let order = format!("c50-{round}");
        let top_up = round % 2 == 1;
        h.orders.insert(
            &order,
            if top_up {
                Order::account()
            } else {
                payable("1000")
            },
        );
        let (id, prepare_id) = h.prepared(&order, "1000").await;
        let mut tasks = JoinSet::new();
        for _ in 0..50 {
            let h = h.clone();
            let order = order.clone();
            tasks.spawn(async move { code(&h.complete(id, &order, prepare_id, "1000", 0).await) });
        }
        let codes = tasks.join_all().await;
        assert_eq!(codes.iter().filter(|c| **c == 0).count(), 1, "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == -4).count(), 49, "{codes:?}");
        assert_eq!(h.orders.deliveries(&order), 1, "top-up: {top_up}");
        assert_eq!(
            h.state(id).await,
            Some(TransactionState::Confirmed),
            "top-up: {top_up}"
        );
    }
    assert_eq!(reversals(&h, ReversalReason::OrderAlreadyPaid), 0);
    assert_eq!(reversals(&h, ReversalReason::DeliveryFailed), 0);
}

/// Bad input 62: concurrent Completes of two prepared attempts of one order: one `0`, one `-4` with a
/// reversal, one delivery; `rounds` times.
pub async fn concurrent_completes_of_two_attempts_deliver_once(h: Harness) {
    for round in 0..h.rounds {
        let order = format!("two-{round}");
        h.orders.insert(&order, payable("1000"));
        let attempts = [
            h.prepared(&order, "1000").await,
            h.prepared(&order, "1000").await,
        ];
        let mut tasks = JoinSet::new();
        for (id, prepare_id) in attempts {
            let h = h.clone();
            let order = order.clone();
            tasks.spawn(async move { code(&h.complete(id, &order, prepare_id, "1000", 0).await) });
        }
        let mut codes = tasks.join_all().await;
        codes.sort_unstable();
        assert_eq!(codes, [-4, 0]);
        assert_eq!(h.orders.deliveries(&order), 1);
    }
    assert_eq!(reversals(&h, ReversalReason::OrderAlreadyPaid), h.rounds);
}

/// Bad input 63: a concurrent confirm and cancel of one transaction: exactly one wins and the final
/// state agrees with both answers; `rounds` times.
pub async fn concurrent_confirm_and_cancel_agree(h: Harness) {
    for round in 0..h.rounds {
        let order = format!("race-{round}");
        h.orders.insert(&order, payable("1000"));
        let (id, prepare_id) = h.prepared(&order, "1000").await;
        let spawn = |error| {
            let h = h.clone();
            let order = order.clone();
            tokio::spawn(
                async move { code(&h.complete(id, &order, prepare_id, "1000", error).await) },
            )
        };
        let (confirm, cancel) = (spawn(0), spawn(-5017));
        let codes = (
            confirm.await.expect("the task finishes"),
            cancel.await.expect("the task finishes"),
        );
        match h.state(id).await {
            Some(TransactionState::Confirmed) => {
                assert_eq!(codes, (0, -4));
                assert_eq!(h.orders.deliveries(&order), 1);
            }
            Some(TransactionState::Cancelled) => {
                assert_eq!(codes, (-9, -9));
                assert_eq!(h.orders.deliveries(&order), 0);
            }
            other => panic!("unexpected state {other:?} with answers {codes:?}"),
        }
    }
}

/// Bad input 64: 20 concurrent identical Prepares: one record, one reservation, the same id in all 20
/// answers; `rounds` times.
pub async fn concurrent_identical_prepares_share_one_prepare_id(h: Harness) {
    for round in 0..h.rounds {
        let order = format!("p20-{round}");
        h.orders.insert(&order, payable("1000"));
        let id = h.next_click_trans_id();
        let reserves = h.orders.reserves();
        let mut tasks = JoinSet::new();
        for _ in 0..20 {
            let h = h.clone();
            let order = order.clone();
            tasks.spawn(async move { h.prepare(id, &order, "1000").await });
        }
        let answers: Vec<Answer> = tasks.join_all().await;
        assert!(answers.iter().all(|a| code(a) == 0), "{answers:?}");
        let ids: HashSet<_> = answers.iter().map(Answer::merchant_prepare_id).collect();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(h.orders.reserves(), reserves + 1);
    }
}

/// Hooks that reserve nothing let a SQL store record a Prepare outside a database transaction;
/// the guarantees stand: 20 concurrent identical Prepares share one record, a paid order records
/// nothing, a retry replays, and the payment completes and delivers once.
pub async fn prepares_without_reservations_keep_their_guarantees(h: Harness) {
    h.orders.reserve_nothing(true);
    h.orders.insert("no-reservation", payable("1000"));
    let id = h.next_click_trans_id();
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let h = h.clone();
        tasks.spawn(async move { h.prepare(id, "no-reservation", "1000").await });
    }
    let answers: Vec<Answer> = tasks.join_all().await;
    assert!(answers.iter().all(|a| code(a) == 0), "{answers:?}");
    let ids: HashSet<_> = answers.iter().map(Answer::merchant_prepare_id).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let prepare_id = answers[0].merchant_prepare_id().expect("prepared").get();
    assert_eq!(code(&h.prepare(id, "no-reservation", "1000").await), 0);
    assert_eq!(
        code(
            &h.complete(id, "no-reservation", prepare_id, "1000", 0)
                .await
        ),
        0
    );
    assert_eq!(h.orders.deliveries("no-reservation"), 1);
    let again = h.next_click_trans_id();
    assert_eq!(code(&h.prepare(again, "no-reservation", "1000").await), -4);
    assert_eq!(h.transaction(again).await, None);
    assert_eq!(h.orders.reserves(), 0, "nothing was reserved");
}
