//! click-settle against the testkit's mock of the Merchant API: a shop over a store takes
//! payments from the Click simulator (each with a payment the mock holds), and a worker settles
//! them, with faults injected where Click may act without answering.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use click_core::outbox::{ExpiryOutcome, Settled, TaskKind, TaskStatus};
use click_core::testing::{Harness, code};
use click_core::{
    BoxError, ClickPaydocId, MemoryStore, MerchantId, MerchantPrepareId, NewCharge, Order,
    PaymentKind, ReversalOutcome, SecretKey, TelegramCharge, Transaction, TransactionState,
    Transition,
};
use click_merchant::{CommissionInfo, MerchantClient, OfdItem, OfdReceipt, RetryPolicy};
use click_settle::{Approve, Policy, SettleEvent, Worker};
use click_testkit::mock::{Fault, MockApi, MockConfig, Payment};

const USER: click_core::MerchantUserId = click_core::MerchantUserId::new(303);
const API_SECRET: &str = "merchant-api-secret";

/// A one-item receipt for every payment.
struct OneItem;

#[async_trait]
impl click_settle::Receipts for OneItem {
    async fn receipt(&self, payment: &Transaction) -> Result<OfdReceipt, BoxError> {
        let tiyin = payment.amount.tiyin();
        let item = OfdItem::builder(
            "Demo order, pcs",
            "10899001001000000",
            "1517893",
            tiyin,
            1,
            click_core::Tiyin(0),
            0,
            CommissionInfo::Tin("123456789".into()),
        )
        .build()?;
        Ok(OfdReceipt {
            items: vec![item],
            received_ecash: tiyin,
            received_cash: click_core::Tiyin(0),
            received_card: click_core::Tiyin(0),
        })
    }
}

struct Setup {
    h: Harness,
    mock: MockApi,
    client: MerchantClient,
    events: Arc<Mutex<Vec<SettleEvent>>>,
}

impl Setup {
    async fn new() -> Self {
        let h = Harness::new(|hooks| async move { MemoryStore::new(hooks) }, 1).await;
        let mock = MockApi::new(MockConfig::new(
            Harness::SERVICE_ID,
            USER,
            SecretKey::new(API_SECRET),
        ));
        let base = mock.start().await.expect("the mock starts");
        let credentials = click_core::Credentials::new(
            Harness::SERVICE_ID,
            MerchantId::new(202),
            USER,
            SecretKey::new(API_SECRET),
        );
        let client = MerchantClient::builder(credentials)
            .base_url(base)
            .timeout(Duration::from_millis(500))
            .retry(RetryPolicy {
                attempts: 2,
                initial_backoff: Duration::from_millis(10),
                max_backoff: Duration::from_millis(20),
            })
            .build()
            .expect("the client builds");
        Self {
            h,
            mock,
            client,
            events: Arc::default(),
        }
    }

    fn worker(&self, policy: Policy) -> Worker {
        let events = Arc::clone(&self.events);
        Worker::new(Arc::clone(self.h.shop.store()), self.client.clone(), policy)
            .receipts(OneItem)
            .on_event(move |event| events.lock().expect("events").push(event.clone()))
    }

    /// Pays `order` as Click does: a payment at Click in `status`, Prepare and Complete carrying
    /// its id. The Complete's answer, the transaction's id and Click's payment.
    async fn pay(&self, order: &str, status: i64) -> (i32, i64, ClickPaydocId) {
        let paydoc = self.mock.record_payment(
            "1000".parse().expect("amount"),
            order.parse().expect("order id"),
            status,
        );
        let id = self.h.next_click_trans_id();
        let prepare = self
            .h
            .click
            .prepare(id, order, "1000")
            .set("click_paydoc_id", paydoc.to_string());
        let answer = self.h.send(click_core::Endpoint::Prepare, &prepare).await;
        assert_eq!(code(&answer), 0, "{answer:?}");
        let prepare_id = answer.merchant_prepare_id().expect("an id").get();
        let complete = self
            .h
            .click
            .complete(id, order, prepare_id, "1000", 0)
            .set("click_paydoc_id", paydoc.to_string());
        let answer = self.h.send(click_core::Endpoint::Complete, &complete).await;
        (code(&answer), prepare_id, paydoc)
    }

    async fn transaction(&self, prepare_id: i64) -> Transaction {
        self.h.prepared_as(prepare_id).await.expect("recorded")
    }

    fn requests(&self, path: &str) -> usize {
        self.mock
            .requests()
            .iter()
            .filter(|request| request.path.starts_with(path))
            .count()
    }
}

/// A Telegram payment of 1 000 so'm for a one-time order, with the provider's id.
fn telegram_payment(order: &str, charge: &str, provider: &str) -> NewCharge {
    NewCharge {
        service_id: Harness::SERVICE_ID,
        merchant_trans_id: order.parse().expect("order id"),
        amount: "1000".parse().expect("amount"),
        kind: PaymentKind::Order,
        charge: TelegramCharge {
            telegram_payment_charge_id: charge.into(),
            provider_payment_charge_id: provider.into(),
        },
        paid_at: std::time::SystemTime::now(),
    }
}

fn policy() -> Policy {
    Policy {
        backoff: Duration::ZERO,
        max_backoff: Duration::ZERO,
        ..Policy::default()
    }
}

fn payable() -> Order {
    Order::Payable {
        amount: "1000".parse().expect("amount"),
    }
}

/// Steps until nothing is claimed; how many steps that took.
async fn drain(worker: &Worker) -> usize {
    for steps in 1..50 {
        let step = worker.step().await.expect("the store answers");
        if step.claimed == 0 {
            return steps;
        }
    }
    panic!("the outbox never drained");
}

/// A failed delivery of a paid payment is reversed once at Click, and the outcome recorded.
#[tokio::test]
async fn a_failed_delivery_is_reversed_once() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    s.h.orders.fail_deliver(true);
    let (answer, prepare_id, paydoc) = s.pay("o-1", Payment::PAID).await;
    assert_eq!(answer, 0);
    drain(&s.worker(policy())).await;
    assert_eq!(
        s.mock.payment(paydoc).map(|p| p.status),
        Some(Payment::REVERSED)
    );
    assert_eq!(
        s.transaction(prepare_id).await.reversal,
        Some(ReversalOutcome::Reversed)
    );
    assert_eq!(s.requests("payment/reversal"), 1);
    drain(&s.worker(policy())).await;
    assert_eq!(s.requests("payment/reversal"), 1, "never twice");
    assert!(
        s.h.shop
            .store()
            .reversals_due()
            .await
            .expect("answers")
            .is_empty()
    );
}

/// A second debited attempt of a paid order is reversed; the first one is not.
#[tokio::test]
async fn the_second_debit_of_an_order_is_reversed() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    let first = s.mock.record_payment(
        "1000".parse().expect("a"),
        "o-1".parse().expect("o"),
        Payment::PAID,
    );
    let (id_1, id_2) = (s.h.next_click_trans_id(), s.h.next_click_trans_id());
    let mut prepare_ids = Vec::new();
    for (id, paydoc) in [(id_1, first), (id_2, ClickPaydocId::new(0))] {
        let paydoc = if paydoc.get() == 0 {
            s.mock.record_payment(
                "1000".parse().expect("a"),
                "o-1".parse().expect("o"),
                Payment::PAID,
            )
        } else {
            paydoc
        };
        let form =
            s.h.click
                .prepare(id, "o-1", "1000")
                .set("click_paydoc_id", paydoc.to_string());
        let answer = s.h.send(click_core::Endpoint::Prepare, &form).await;
        prepare_ids.push((id, answer.merchant_prepare_id().expect("id").get(), paydoc));
    }
    let mut answers = Vec::new();
    for (id, prepare_id, paydoc) in &prepare_ids {
        let form =
            s.h.click
                .complete(*id, "o-1", *prepare_id, "1000", 0)
                .set("click_paydoc_id", paydoc.to_string());
        answers.push(code(&s.h.send(click_core::Endpoint::Complete, &form).await));
    }
    assert_eq!(answers, [0, -4]);
    drain(&s.worker(policy())).await;
    assert_eq!(
        s.mock.payment(prepare_ids[0].2).map(|p| p.status),
        Some(Payment::PAID)
    );
    assert_eq!(
        s.mock.payment(prepare_ids[1].2).map(|p| p.status),
        Some(Payment::REVERSED)
    );
}

/// A Telegram payment of an order paid through the SHOP-API is reversed at Click by its provider
/// id, when that is Click's payment id; one whose provider id is not is parked for a person, and
/// nothing is sent to Click for it.
#[tokio::test]
async fn a_second_payment_by_telegram_is_reversed_by_its_provider_id() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    assert_eq!(s.pay("o-1", Payment::PAID).await.0, 0);
    let telegram = s.mock.record_payment(
        "1000".parse().expect("amount"),
        "o-1".parse().expect("order id"),
        Payment::PAID,
    );
    let store = s.h.shop.store();
    for (charge, provider) in [
        ("tg-1", telegram.to_string()),
        ("tg-2", "not-a-number".into()),
    ] {
        let recorded = store
            .record_charge(telegram_payment("o-1", charge, &provider))
            .await
            .expect("recorded");
        assert!(
            matches!(recorded, Transition::OrderAlreadyPaid(_)),
            "{recorded:?}"
        );
    }
    drain(&s.worker(policy())).await;
    assert_eq!(
        s.mock.payment(telegram).map(|p| p.status),
        Some(Payment::REVERSED)
    );
    let reversed = store.charge("tg-1").await.expect("answers").expect("kept");
    assert_eq!(reversed.reversal, Some(ReversalOutcome::Reversed));
    assert_eq!(
        s.requests("payment/reversal"),
        1,
        "only the one with Click's id"
    );
    let report = click_settle::report(store.as_ref()).await.expect("answers");
    assert_eq!(report.parked.len(), 1, "{report}");
    assert_eq!(
        report.parked[0]
            .transaction
            .telegram
            .as_ref()
            .map(|c| c.telegram_payment_charge_id.as_str()),
        Some("tg-2")
    );
    assert!(report.to_string().contains("settle it by hand"), "{report}");
}

/// A Telegram payment whose provider id is the Click payment of a SHOP-API transaction already
/// debited (CLICK Terminal reporting one payment both ways) is never reversed blindly: parked.
#[tokio::test]
async fn a_telegram_payment_sharing_a_click_payment_is_not_reversed() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    let (answer, _, paydoc) = s.pay("o-1", Payment::PAID).await;
    assert_eq!(answer, 0);
    let store = s.h.shop.store();
    let new = telegram_payment("o-1", "tg-1", &paydoc.to_string());
    let kept = store.record_charge(new).await.expect("recorded");
    assert!(matches!(kept, Transition::OrderAlreadyPaid(_)), "{kept:?}");
    drain(&s.worker(policy())).await;
    assert_eq!(
        s.mock.payment(paydoc).map(|p| p.status),
        Some(Payment::PAID)
    );
    assert_eq!(s.requests("payment/reversal"), 0);
    let report = click_settle::report(store.as_ref()).await.expect("answers");
    assert!(report.to_string().contains("by hand"), "{report}");
}

/// A reversal whose answer is lost after Click reversed (a timeout) is recognised on the next
/// attempt by the payment's status, and never sent twice.
#[tokio::test]
async fn a_reversal_whose_answer_was_lost_is_not_repeated() {
    for lost in [Fault::Hang(Duration::from_secs(2)), Fault::Drop] {
        let s = Setup::new().await;
        s.h.orders.insert("o-1", payable());
        s.h.orders.fail_deliver(true);
        let (_, prepare_id, paydoc) = s.pay("o-1", Payment::PAID).await;
        s.mock.inject_on("payment/reversal", lost, 1);
        drain(&s.worker(policy())).await;
        assert_eq!(
            s.mock.payment(paydoc).map(|p| p.status),
            Some(Payment::REVERSED),
            "{lost:?}"
        );
        assert_eq!(s.requests("payment/reversal"), 1, "{lost:?}");
        assert_eq!(
            s.transaction(prepare_id).await.reversal,
            Some(ReversalOutcome::Reversed),
            "{lost:?}"
        );
    }
}

/// A reversal due for a payment Click does not have as paid reverses nothing.
#[tokio::test]
async fn a_payment_click_never_had_as_paid_is_not_reversed() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    s.h.orders.fail_deliver(true);
    let (_, prepare_id, _) = s.pay("o-1", Payment::CANCELLED).await;
    drain(&s.worker(policy())).await;
    assert_eq!(s.requests("payment/reversal"), 0);
    assert_eq!(
        s.transaction(prepare_id).await.reversal,
        Some(ReversalOutcome::NeverPaid)
    );
}

/// A reversal Click refuses is parked with Click's code, for a person.
#[tokio::test]
async fn a_refused_reversal_is_parked_with_its_code() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    s.h.orders.fail_deliver(true);
    let (_, prepare_id, _) = s.pay("o-1", Payment::PAID).await;
    s.mock.inject_on("payment/reversal", Fault::Refuse(-31), 1);
    drain(&s.worker(policy())).await;
    assert_eq!(
        s.transaction(prepare_id).await.reversal,
        Some(ReversalOutcome::Refused { code: -31 })
    );
    let report = click_settle::report(s.h.shop.store().as_ref())
        .await
        .expect("answers");
    assert_eq!(report.parked.len(), 1);
    assert!(
        report.to_string().contains("Click refused the reversal"),
        "{report}"
    );
}

/// Under manual approval a reversal waits; once approved it runs.
#[tokio::test]
async fn a_manual_reversal_waits_for_approval() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    s.h.orders.fail_deliver(true);
    let (_, prepare_id, paydoc) = s.pay("o-1", Payment::PAID).await;
    let worker = s.worker(policy().reversals(Approve::Manual));
    drain(&worker).await;
    assert_eq!(s.requests("payment/reversal"), 0);
    let report = click_settle::report(s.h.shop.store().as_ref())
        .await
        .expect("answers");
    assert_eq!(report.awaiting_approval.len(), 1);
    let store = s.h.shop.store();
    assert!(
        click_settle::approve_reversal(store.as_ref(), MerchantPrepareId::new(prepare_id))
            .await
            .expect("answers")
    );
    drain(&worker).await;
    assert_eq!(
        s.mock.payment(paydoc).map(|p| p.status),
        Some(Payment::REVERSED)
    );
}

/// A delivered payment that wants a receipt is fiscalized once, even when the first submission's
/// answer is lost: the retry reads the fiscal data before submitting again.
#[tokio::test]
async fn a_payment_is_fiscalized_once_despite_a_lost_answer() {
    for lost in [Fault::Hang(Duration::from_secs(2)), Fault::Drop] {
        fiscalized_once_despite(lost).await;
    }
}

async fn fiscalized_once_despite(lost: Fault) {
    let s = Setup::new().await;
    s.h.orders.want_receipts(true);
    s.h.orders.insert("o-1", payable());
    let (answer, prepare_id, paydoc) = s.pay("o-1", Payment::PAID).await;
    assert_eq!(answer, 0);
    s.mock.inject_on("payment/ofd_data/submit_items", lost, 1);
    drain(&s.worker(policy())).await;
    let url = s
        .transaction(prepare_id)
        .await
        .receipt_url
        .expect("a receipt");
    assert!(url.contains(&paydoc.to_string()), "{url}");
    assert_eq!(s.mock.ofd(paydoc).map(|o| o.submissions), Some(1));
    assert!(
        s.events
            .lock()
            .expect("events")
            .iter()
            .any(|event| matches!(
                event,
                SettleEvent::Settled {
                    settled: Settled::Receipt { .. },
                    ..
                }
            ))
    );
}

/// 500s and garbled answers are retried until the fiscal data comes.
#[tokio::test]
async fn transient_failures_are_retried() {
    let s = Setup::new().await;
    s.h.orders.want_receipts(true);
    s.h.orders.insert("o-1", payable());
    let (_, prepare_id, paydoc) = s.pay("o-1", Payment::PAID).await;
    s.mock
        .inject_on("payment/ofd_data/submit_items", Fault::Status(500), 1);
    s.mock.inject_on("payment/ofd_data/", Fault::Garbled, 2);
    drain(&s.worker(policy())).await;
    assert!(s.transaction(prepare_id).await.receipt_url.is_some());
    assert_eq!(s.mock.ofd(paydoc).map(|o| o.submissions), Some(1));
}

/// An attempt no Complete came for is expired when Click has no paid payment for it (its
/// reservation released; a late confirm answers -9), left for Click when Click has it as paid.
#[tokio::test]
async fn stuck_attempts_are_expired_or_left_for_click() {
    let s = Setup::new().await;
    for order in ["unpaid", "paid"] {
        s.h.orders.insert(order, payable());
    }
    let mut attempts = Vec::new();
    for (order, status) in [("unpaid", Payment::CANCELLED), ("paid", Payment::PAID)] {
        let paydoc = s.mock.record_payment(
            "1000".parse().expect("a"),
            order.parse().expect("o"),
            status,
        );
        let id = s.h.next_click_trans_id();
        let form =
            s.h.click
                .prepare(id, order, "1000")
                .set("click_paydoc_id", paydoc.to_string());
        let answer = s.h.send(click_core::Endpoint::Prepare, &form).await;
        attempts.push((id, order, answer.merchant_prepare_id().expect("id").get()));
    }
    let worker = s.worker(Policy {
        expire_after: Duration::ZERO,
        ..policy()
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    drain(&worker).await;
    let (id, order, prepare_id) = attempts[0];
    assert_eq!(
        s.transaction(prepare_id).await.state,
        TransactionState::Expired
    );
    assert_eq!(s.h.orders.releases(), 1);
    assert_eq!(
        code(&s.h.complete(id, order, prepare_id, "1000", 0).await),
        -9
    );
    let paid = s.transaction(attempts[1].2).await;
    assert_eq!(paid.state, TransactionState::Prepared, "left for Click");
    let tasks =
        s.h.shop
            .store()
            .tasks(click_core::outbox::TaskFilter {
                kind: Some(TaskKind::Expire),
                ..Default::default()
            })
            .await
            .expect("answers");
    assert!(tasks.iter().all(|task| task.status == TaskStatus::Done));
    let notes: Vec<_> = tasks
        .iter()
        .filter_map(|task| task.note.as_deref())
        .collect();
    assert!(
        notes.contains(&ExpiryOutcome::LeftForClick.note()),
        "{notes:?}"
    );
    assert!(notes.contains(&ExpiryOutcome::Expired.note()), "{notes:?}");
}

/// A late duplicate Prepare of a payment another transaction holds as debited is expired.
#[tokio::test]
async fn a_late_duplicate_prepare_is_expired() {
    let s = Setup::new().await;
    s.h.orders.insert("login", Order::account());
    let (answer, _, paydoc) = s.pay("login", Payment::PAID).await;
    assert_eq!(answer, 0);
    let id = s.h.next_click_trans_id();
    let form =
        s.h.click
            .prepare(id, "login", "1000")
            .set("click_paydoc_id", paydoc.to_string());
    let late = s.h.send(click_core::Endpoint::Prepare, &form).await;
    let late = late.merchant_prepare_id().expect("a new attempt").get();
    tokio::time::sleep(Duration::from_millis(5)).await;
    drain(&s.worker(Policy {
        expire_after: Duration::ZERO,
        ..policy()
    }))
    .await;
    assert_eq!(s.transaction(late).await.state, TransactionState::Expired);
    assert_eq!(s.h.orders.deliveries("login"), 1);
}

/// Workers that keep failing park the task after the policy's attempts.
#[tokio::test]
async fn a_task_that_keeps_failing_is_parked() {
    let s = Setup::new().await;
    s.h.orders.insert("o-1", payable());
    s.h.orders.fail_deliver(true);
    let (_, prepare_id, _) = s.pay("o-1", Payment::PAID).await;
    s.mock.inject_on("payment/status", Fault::Status(502), 100);
    let worker = s.worker(Policy {
        max_attempts: 3,
        ..policy()
    });
    drain(&worker).await;
    let report = click_settle::report(s.h.shop.store().as_ref())
        .await
        .expect("answers");
    assert_eq!(report.parked.len(), 1, "{report}");
    assert!(
        report.parked[0]
            .note
            .as_deref()
            .is_some_and(|note| note.contains("gave up after 3"))
    );
    assert_eq!(s.transaction(prepare_id).await.reversal, None);
    assert_eq!(s.requests("payment/reversal"), 0);
}

/// Four workers draining one store at once reverse every payment once and fiscalize every other
/// one once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_settle_everything_once() {
    let s = Setup::new().await;
    s.h.orders.want_receipts(true);
    let mut paydocs = Vec::new();
    for n in 0..40 {
        let order = format!("o-{n}");
        s.h.orders.insert(&order, payable());
        s.h.orders.fail_deliver(n % 2 == 0);
        let (answer, _, paydoc) = s.pay(&order, Payment::PAID).await;
        assert_eq!(answer, 0);
        paydocs.push((n % 2 == 0, paydoc));
    }
    s.h.orders.fail_deliver(false);
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let worker = s.worker(Policy {
                batch: 3,
                ..policy()
            });
            tokio::spawn(async move { drain(&worker).await })
        })
        .collect();
    for worker in workers {
        worker.await.expect("the worker finishes");
    }
    for (reversed, paydoc) in paydocs {
        let status = s.mock.payment(paydoc).map(|p| p.status);
        let submissions = s.mock.ofd(paydoc).map_or(0, |o| o.submissions);
        if reversed {
            assert_eq!((status, submissions), (Some(Payment::REVERSED), 0));
        } else {
            assert_eq!((status, submissions), (Some(Payment::PAID), 1));
        }
    }
    assert_eq!(s.requests("payment/reversal"), 20);
}
