//! The bot end to end against the testkit's fake Bot API: invoice, pre-checkout within Telegram's
//! deadline, one payment per order across Telegram and the SHOP-API, repeated updates.

use std::time::Duration;

use click_core::testing::Hook;
use click_core::{ReversalReason, TransactionState};
use click_telegram::{PRE_CHECKOUT_BUDGET, Refusal};
use click_testkit::bot_api::{FakeError, PRE_CHECKOUT_DEADLINE};
use telegram_shop::demo::{Demo, PROVIDER_TOKEN};

const CUSTOMER: i64 = 7;

async fn demo(budget: Duration, deadline: Duration) -> Demo {
    Demo::start(&[("o-1", "15000"), ("o-2", "42000")], budget, deadline)
        .await
        .expect("the fake Bot API starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_is_recorded_and_delivered_once_when_its_update_comes_twice() {
    let d = demo(PRE_CHECKOUT_BUDGET, PRE_CHECKOUT_DEADLINE).await;
    let invoice = d.buy(CUSTOMER, "o-1").await.expect("an invoice");
    assert_eq!(invoice.payload, "o-1");
    assert_eq!(invoice.currency, "UZS");
    assert_eq!(invoice.total_amount, 1_500_000, "15 000 so'm in tiyin");
    assert_eq!(invoice.provider_token, PROVIDER_TOKEN);

    let answer = d.press_pay(CUSTOMER).await.expect("answered");
    assert!(answer.ok && !answer.late, "{answer:?}");
    let seen = d.messages_to(CUSTOMER);
    let charge = d.telegram.complete_payment(&answer.query_id).expect("paid");
    let thanks = d.next_message(CUSTOMER, seen).await.expect("thanked");
    assert!(thanks.starts_with("Paid: order o-1"), "{thanks}");

    d.telegram
        .deliver_again(charge.update_id)
        .expect("delivered again");
    // The bot handles a chat's updates in order: /terms answered, the repeat was handled.
    d.say(CUSTOMER, "/terms").await.expect("terms");
    assert_eq!(d.shop.orders.deliveries("o-1"), 1);
    assert_eq!(
        d.messages_to(CUSTOMER),
        seen + 2,
        "thanked once, then the terms"
    );
    let recorded = d
        .recorded(&charge.telegram_payment_charge_id)
        .await
        .expect("recorded");
    assert_eq!(recorded.state, TransactionState::Confirmed);
    let ids = recorded.telegram.expect("Telegram's ids");
    assert_eq!(
        ids.provider_payment_charge_id,
        charge.provider_payment_charge_id
    );
    // Paid: another invoice for it is refused at once.
    let again = d.say(CUSTOMER, "/buy o-1").await.expect("answered");
    assert!(again.contains("already paid"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_order_lookup_answers_an_error_rather_than_miss_the_deadline() {
    let d = demo(Duration::from_millis(300), PRE_CHECKOUT_DEADLINE).await;
    d.buy(CUSTOMER, "o-1").await.expect("an invoice");
    // The lookup hangs until released: only the bot's budget can answer.
    let held = d.shop.orders.hold(Hook::Find);
    let answer = d.press_pay(CUSTOMER).await.expect("answered");
    held.release();
    assert!(!answer.ok, "{answer:?}");
    assert!(
        !answer.late,
        "answered within Telegram's deadline: {answer:?}"
    );
    assert_eq!(
        answer.error_message.as_deref(),
        Some(Refusal::Unavailable.message())
    );
    assert_eq!(
        d.telegram.complete_payment(&answer.query_id),
        Err(FakeError::NotApproved(answer.query_id.clone())),
        "no money taken"
    );
    assert_eq!(d.shop.orders.deliveries("o-1"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_slower_than_telegram_gets_no_payment() {
    // The fake's deadline is shorter than the bot's budget: the answer comes too late.
    let d = demo(Duration::from_secs(3), Duration::from_millis(300)).await;
    d.buy(CUSTOMER, "o-1").await.expect("an invoice");
    let held = d.shop.orders.hold(Hook::Find);
    let answer = d.press_pay(CUSTOMER).await.expect("answered, late");
    held.release();
    assert!(answer.late, "{answer:?}");
    assert!(d.telegram.complete_payment(&answer.query_id).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_paid_by_link_first_is_refused_at_pre_checkout() {
    let d = demo(PRE_CHECKOUT_BUDGET, PRE_CHECKOUT_DEADLINE).await;
    d.buy(CUSTOMER, "o-2").await.expect("an invoice");
    assert_eq!(d.pay_by_link("o-2", "42000").await, 0);
    let answer = d.press_pay(CUSTOMER).await.expect("answered");
    assert!(!answer.ok, "{answer:?}");
    assert_eq!(
        answer.error_message.as_deref(),
        Some(Refusal::Paid.message())
    );
    assert_eq!(
        d.shop.orders.deliveries("o-2"),
        1,
        "the link's payment only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_after_the_link_paid_the_order_is_kept_for_reversal() {
    let d = demo(PRE_CHECKOUT_BUDGET, PRE_CHECKOUT_DEADLINE).await;
    d.buy(CUSTOMER, "o-2").await.expect("an invoice");
    let answer = d.press_pay(CUSTOMER).await.expect("answered");
    assert!(answer.ok, "{answer:?}");
    // Between the pre-checkout and Telegram's payment, the customer paid by link too.
    assert_eq!(d.pay_by_link("o-2", "42000").await, 0);
    let seen = d.messages_to(CUSTOMER);
    let charge = d.telegram.complete_payment(&answer.query_id).expect("paid");
    let told = d.next_message(CUSTOMER, seen).await.expect("told");
    assert!(told.contains("returned"), "{told}");
    let kept = d
        .recorded(&charge.telegram_payment_charge_id)
        .await
        .expect("recorded");
    assert_eq!(
        kept.state,
        TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid)
    );
    assert_eq!(d.shop.orders.deliveries("o-2"), 1);
}
