//! The outbox's conformance cases ([`crate::outbox_conformance!`]): each takes a [`Harness`] over a
//! fresh store and panics on a violation.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;

use super::{Harness, Hook, code};
use crate::ids::{ClickPaydocId, MerchantPrepareId};
use crate::outbox::{
    Claim, ExpiryOutcome, Settled, Stage, TaskCounts, TaskFilter, TaskKind, TaskStatus, TaskUpdate,
};
use crate::shop::ShopEvent;
use crate::store::{Order, Outcome, ReversalOutcome, TransactionState, Transition};

const LEASE: Duration = Duration::from_secs(60);

fn payable(total: &str) -> Order {
    Order::Payable {
        amount: total.parse().expect("a test amount is valid"),
    }
}

fn later(seconds: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(seconds)
}

/// Pays an order whose delivery fails: a reversal due, and its `merchant_prepare_id`.
async fn failed_delivery(h: &Harness, order: &str) -> i64 {
    h.orders.insert(order, payable("1000"));
    let (id, prepare_id) = h.prepared(order, "1000").await;
    h.orders.fail_deliver(true);
    let answer = h.complete(id, order, prepare_id, "1000", 0).await;
    h.orders.fail_deliver(false);
    assert_eq!(code(&answer), 0, "{answer:?}");
    prepare_id
}

async fn claim(h: &Harness, now: SystemTime) -> Vec<Claim> {
    h.shop
        .store()
        .claim(now, LEASE, 100)
        .await
        .expect("the store answers")
}

async fn only_claim(h: &Harness, now: SystemTime) -> Claim {
    let mut claims = claim(h, now).await;
    assert_eq!(claims.len(), 1, "{claims:?}");
    claims.remove(0)
}

async fn update(h: &Harness, claim: &Claim, update: TaskUpdate) -> bool {
    h.shop
        .store()
        .update(claim, update)
        .await
        .expect("the store answers")
}

/// A delivery that fails and a second debited attempt each record one "reverse" task, in the
/// transition's own database transaction; a repeated Complete records no second one.
pub async fn a_reversal_due_records_one_reverse_task(h: Harness) {
    let failed = failed_delivery(&h, "o-1").await;
    h.orders.insert("o-2", payable("1000"));
    let (id_1, prepare_1) = h.prepared("o-2", "1000").await;
    let (id_2, prepare_2) = h.prepared("o-2", "1000").await;
    assert_eq!(
        code(&h.complete(id_1, "o-2", prepare_1, "1000", 0).await),
        0
    );
    assert_eq!(
        code(&h.complete(id_2, "o-2", prepare_2, "1000", 0).await),
        -4
    );
    assert_eq!(
        code(&h.complete(id_2, "o-2", prepare_2, "1000", 0).await),
        -4
    );
    let reverse = h.tasks(TaskKind::Reverse).await;
    let ids: Vec<i64> = reverse
        .iter()
        .map(|task| task.transaction.merchant_prepare_id.get())
        .collect();
    assert_eq!(ids, [failed, prepare_2]);
    assert!(
        reverse
            .iter()
            .all(|task| task.status == TaskStatus::Pending)
    );
    let due = h.shop.store().reversals_due().await.expect("answers");
    assert_eq!(due.len(), 2);
    assert!(h.tasks(TaskKind::Fiscalize).await.is_empty());
}

/// A delivered payment records a "fiscalize" task only when the hooks want a receipt; a failed
/// delivery records none (it is reversed instead).
pub async fn a_receipt_task_only_when_the_hooks_want_one(h: Harness) {
    h.orders.insert("plain", payable("1000"));
    let (id, prepare_id) = h.prepared("plain", "1000").await;
    assert_eq!(
        code(&h.complete(id, "plain", prepare_id, "1000", 0).await),
        0
    );
    assert!(h.tasks(TaskKind::Fiscalize).await.is_empty());
    h.orders.want_receipts(true);
    h.orders.insert("receipt", payable("1000"));
    let (id, prepare_id) = h.prepared("receipt", "1000").await;
    assert_eq!(
        code(&h.complete(id, "receipt", prepare_id, "1000", 0).await),
        0
    );
    failed_delivery(&h, "failed").await;
    let fiscalize = h.tasks(TaskKind::Fiscalize).await;
    assert_eq!(fiscalize.len(), 1, "{fiscalize:?}");
    assert_eq!(
        fiscalize[0].transaction.merchant_prepare_id.get(),
        prepare_id
    );
    assert_eq!(fiscalize[0].stage, Stage::Fresh);
}

/// A confirm interrupted inside its delivery hook rolls back: no task survives it; the retry
/// records exactly one.
pub async fn a_rolled_back_transition_records_no_task(h: Harness) {
    h.orders.want_receipts(true);
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    let deliver = h.orders.hold(Hook::Deliver);
    let confirm = {
        let h = h.clone();
        tokio::spawn(async move { h.complete(id, "o-1", prepare_id, "1000", 0).await })
    };
    deliver.arrived().await;
    confirm.abort();
    assert!(
        confirm.await.is_err(),
        "the request was dropped mid-delivery"
    );
    deliver.release();
    assert!(h.tasks(TaskKind::Fiscalize).await.is_empty());
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(h.tasks(TaskKind::Fiscalize).await.len(), 1);
}

/// A claim takes a due task and counts the attempt; a retry makes it due later, with its stage
/// kept; finishing it records the receipt on the transaction, and nothing is claimed after.
pub async fn claim_retry_and_finish(h: Harness) {
    h.orders.want_receipts(true);
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    let now = SystemTime::now();
    let first = only_claim(&h, now).await;
    assert_eq!(first.task.kind, TaskKind::Fiscalize);
    assert_eq!(first.task.attempts, 1);
    assert!(claim(&h, now).await.is_empty(), "a claimed task is held");
    assert!(update(&h, &first, TaskUpdate::Stage(Stage::Sent)).await);
    let retry = TaskUpdate::Retry {
        at: now + Duration::from_secs(30),
        error: "HTTP 502".into(),
    };
    assert!(update(&h, &first, retry).await);
    assert!(
        claim(&h, now + Duration::from_secs(29)).await.is_empty(),
        "not due yet"
    );
    let second = only_claim(&h, now + Duration::from_secs(30)).await;
    assert_eq!(second.task.attempts, 2);
    assert_eq!(second.task.stage, Stage::Sent, "the stage survives a retry");
    assert_eq!(second.task.note.as_deref(), Some("HTTP 502"));
    let url = "https://ofd.soliq.uz/check?t=1".to_owned();
    let done = TaskUpdate::Done(Settled::Receipt { url: url.clone() });
    assert!(update(&h, &second, done).await);
    assert!(claim(&h, later(3600)).await.is_empty());
    let transaction = h.prepared_as(prepare_id).await.expect("recorded");
    assert_eq!(transaction.receipt_url, Some(url));
    assert_eq!(
        h.tasks(TaskKind::Fiscalize).await[0].status,
        TaskStatus::Done
    );
    let store = h.shop.store();
    let all = store.task_counts().await.expect("answers");
    assert_eq!(all.get(TaskKind::Fiscalize, TaskStatus::Done), 1);
    let open = store.open_task_counts().await.expect("answers");
    assert_eq!(open, TaskCounts::default(), "a done task is not open");
}

/// A worker that dies holding a claim loses it when its lease runs out: the task comes back.
pub async fn a_dead_workers_claim_expires(h: Harness) {
    failed_delivery(&h, "o-1").await;
    let now = SystemTime::now();
    let dead = h
        .shop
        .store()
        .claim(now, Duration::from_secs(5), 10)
        .await
        .expect("answers");
    assert_eq!(dead.len(), 1);
    assert!(claim(&h, now + Duration::from_secs(4)).await.is_empty());
    let taken = only_claim(&h, now + Duration::from_secs(5)).await;
    assert_eq!(taken.task.id, dead[0].task.id);
    assert_ne!(taken.token, dead[0].token);
    assert_eq!(taken.task.attempts, 2);
}

/// Once another worker took a task over, the first worker's changes are refused.
pub async fn a_stale_claim_changes_nothing(h: Harness) {
    let prepare_id = failed_delivery(&h, "o-1").await;
    let now = SystemTime::now();
    let stale = h
        .shop
        .store()
        .claim(now, Duration::from_secs(1), 10)
        .await
        .expect("answers")
        .remove(0);
    let fresh = only_claim(&h, now + Duration::from_secs(2)).await;
    let reversed = TaskUpdate::Done(Settled::Reversal(ReversalOutcome::Reversed));
    assert!(!update(&h, &stale, reversed.clone()).await, "stale claim");
    assert!(!update(&h, &stale, TaskUpdate::Stage(Stage::Sent)).await);
    assert_eq!(
        h.prepared_as(prepare_id).await.and_then(|t| t.reversal),
        None
    );
    assert!(update(&h, &fresh, reversed.clone()).await);
    assert!(
        !update(&h, &fresh, reversed).await,
        "a done task is not pending"
    );
    assert_eq!(
        h.prepared_as(prepare_id).await.and_then(|t| t.reversal),
        Some(ReversalOutcome::Reversed)
    );
    assert!(
        h.shop
            .store()
            .reversals_due()
            .await
            .expect("answers")
            .is_empty()
    );
}

/// Eight workers claiming at once, three tasks at a time, never get the same task twice; between
/// them they get every task once; `rounds` times.
pub async fn concurrent_workers_never_hold_the_same_task(h: Harness) {
    let per_round = 12;
    for round in 0..h.rounds {
        for n in 0..per_round {
            failed_delivery(&h, &format!("r{round}-{n}")).await;
        }
        let now = SystemTime::now();
        let mut workers = JoinSet::new();
        for _ in 0..8 {
            let store = std::sync::Arc::clone(h.shop.store());
            workers.spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let claims = store.claim(now, LEASE, 3).await.expect("answers");
                    if claims.is_empty() {
                        return mine;
                    }
                    mine.extend(claims.into_iter().map(|claim| claim.task.id));
                }
            });
        }
        let claimed: Vec<_> = workers.join_all().await.into_iter().flatten().collect();
        let distinct: HashSet<_> = claimed.iter().collect();
        assert_eq!(distinct.len(), claimed.len(), "a task claimed twice");
        assert_eq!(claimed.len(), per_round, "round {round}");
        for claim in claim(&h, now + LEASE).await {
            let done = TaskUpdate::Done(Settled::Reversal(ReversalOutcome::NeverPaid));
            assert!(update(&h, &claim, done).await);
        }
    }
}

/// A parked task is no longer claimed, and what it did is kept on the transaction.
pub async fn a_parked_task_keeps_what_it_did(h: Harness) {
    let prepare_id = failed_delivery(&h, "o-1").await;
    let now = SystemTime::now();
    let claim_1 = only_claim(&h, now).await;
    let refused = ReversalOutcome::Refused { code: -31 };
    let park = TaskUpdate::Park {
        error: "Click refused the reversal".into(),
        settled: Some(Settled::Reversal(refused)),
    };
    assert!(update(&h, &claim_1, park).await);
    assert!(claim(&h, later(3600)).await.is_empty());
    assert_eq!(
        h.prepared_as(prepare_id).await.and_then(|t| t.reversal),
        Some(refused)
    );
    let parked = h.tasks(TaskKind::Reverse).await;
    assert_eq!(parked[0].status, TaskStatus::Parked);
    assert_eq!(
        parked[0].note.as_deref(),
        Some("Click refused the reversal")
    );
    let open = h.shop.store().open_task_counts().await.expect("answers");
    assert_eq!(
        open.get(TaskKind::Reverse, TaskStatus::Parked),
        1,
        "parked is open"
    );
}

/// A reversal held for approval is not claimed until a person approves it, once.
pub async fn a_held_reversal_runs_once_approved(h: Harness) {
    let prepare_id = MerchantPrepareId::new(failed_delivery(&h, "o-1").await);
    let now = SystemTime::now();
    let held = only_claim(&h, now).await;
    assert!(!held.task.approved);
    assert!(update(&h, &held, TaskUpdate::Hold).await);
    assert!(claim(&h, later(3600)).await.is_empty());
    let store = h.shop.store();
    for counts in [store.task_counts(), store.open_task_counts()] {
        let counts = counts.await.expect("answers");
        assert_eq!(
            counts.get(TaskKind::Reverse, TaskStatus::AwaitingApproval),
            1
        );
    }
    assert!(store.approve_reversal(prepare_id).await.expect("answers"));
    assert!(
        !store.approve_reversal(prepare_id).await.expect("answers"),
        "once"
    );
    let approved = only_claim(&h, now).await;
    assert!(approved.task.approved);
    assert!(
        !store
            .approve_reversal(MerchantPrepareId::new(999_999_999))
            .await
            .expect("answers")
    );
}

/// Attempts still prepared before the cut-off get one "expire" task each, once; final ones and
/// newer ones get none. Expiring one releases its reservation once.
pub async fn expiry_is_scheduled_once_per_stuck_attempt(h: Harness) {
    for order in ["a", "b", "c"] {
        h.orders.insert(order, payable("1000"));
    }
    let (_, stuck) = h.prepared("a", "1000").await;
    let (paid_id, paid) = h.prepared("b", "1000").await;
    assert_eq!(code(&h.complete(paid_id, "b", paid, "1000", 0).await), 0);
    let store = h.shop.store();
    assert_eq!(
        store
            .schedule_expiry(SystemTime::now() - Duration::from_secs(3600))
            .await
            .expect("answers"),
        0,
        "nothing is that old"
    );
    let cutoff = later(1);
    assert_eq!(store.schedule_expiry(cutoff).await.expect("answers"), 1);
    assert_eq!(
        store.schedule_expiry(cutoff).await.expect("answers"),
        0,
        "once"
    );
    h.prepared("c", "1000").await;
    let expire = h.tasks(TaskKind::Expire).await;
    assert_eq!(expire.len(), 1);
    assert_eq!(expire[0].transaction.merchant_prepare_id.get(), stuck);
    let releases = h.orders.releases();
    let expired = store
        .complete(MerchantPrepareId::new(stuck), Outcome::Expire, None)
        .await
        .expect("answers");
    assert!(
        matches!(&expired, Transition::Cancelled(t) if t.state == TransactionState::Expired),
        "{expired:?}"
    );
    assert_eq!(h.orders.releases(), releases + 1);
    let again = store
        .complete(MerchantPrepareId::new(stuck), Outcome::Expire, None)
        .await
        .expect("answers");
    assert!(matches!(again, Transition::Unchanged(_)), "{again:?}");
    assert_eq!(h.orders.releases(), releases + 1);
    let claim = only_claim(&h, SystemTime::now()).await;
    let done = TaskUpdate::Done(Settled::Expiry(ExpiryOutcome::Expired));
    assert!(update(&h, &claim, done).await);
    assert_eq!(
        h.tasks(TaskKind::Expire).await[0].note.as_deref(),
        Some(ExpiryOutcome::Expired.note())
    );
}

/// A Complete that confirms an expired attempt answers `-9` (Click cancels its debit), delivers
/// nothing and is reported; a cancel answers `-9` too.
pub async fn an_expired_attempt_answers_minus_9_to_a_late_confirm(h: Harness) {
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    h.shop
        .store()
        .complete(MerchantPrepareId::new(prepare_id), Outcome::Expire, None)
        .await
        .expect("answers");
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", 0).await),
        -9
    );
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", -5017).await),
        -9
    );
    assert_eq!(h.orders.deliveries("o-1"), 0);
    assert!(
        h.events()
            .iter()
            .any(|event| matches!(event, ShopEvent::ConfirmedAfterExpiry(t) if t.merchant_prepare_id.get() == prepare_id))
    );
    assert_eq!(h.state(id).await, Some(TransactionState::Expired));
    let (_, new_id) = h.prepared("o-1", "1000").await;
    assert_ne!(new_id, prepare_id, "a new attempt may follow");
}

/// `paydoc_debited` sees a debited transaction of the same Click payment, but not the one asked
/// about, not a prepared one, and not another service's.
pub async fn paydoc_debited_sees_other_debited_transactions(h: Harness) {
    h.orders.insert("login", Order::account());
    let (id, first) = h.prepared("login", "1000").await;
    let paydoc = ClickPaydocId::new(id + 1);
    let service = Harness::SERVICE_ID;
    let store = h.shop.store();
    let debited = |except| store.paydoc_debited(service, paydoc, MerchantPrepareId::new(except));
    assert!(!debited(0).await.expect("answers"), "only prepared");
    assert_eq!(code(&h.complete(id, "login", first, "1000", 0).await), 0);
    assert!(debited(0).await.expect("answers"));
    assert!(!debited(first).await.expect("answers"), "itself");
    let other = store
        .paydoc_debited(
            crate::ServiceId::new(999),
            paydoc,
            MerchantPrepareId::new(0),
        )
        .await
        .expect("answers");
    assert!(!other);
}

/// Tasks are listed oldest first, by kind and status, and counted.
pub async fn tasks_are_listed_and_counted(h: Harness) {
    h.orders.want_receipts(true);
    for n in 0..3 {
        let order = format!("paid-{n}");
        h.orders.insert(&order, payable("1000"));
        let (id, prepare_id) = h.prepared(&order, "1000").await;
        assert_eq!(
            code(&h.complete(id, &order, prepare_id, "1000", 0).await),
            0
        );
    }
    failed_delivery(&h, "failed").await;
    let store = h.shop.store();
    let counts = store.task_counts().await.expect("answers");
    assert_eq!(counts.get(TaskKind::Fiscalize, TaskStatus::Pending), 3);
    assert_eq!(counts.get(TaskKind::Reverse, TaskStatus::Pending), 1);
    assert_eq!(counts.in_status(TaskStatus::Pending), 4);
    assert_eq!(counts.in_status(TaskStatus::Done), 0);
    let open = store.open_task_counts().await.expect("answers");
    assert_eq!(open, counts, "no task is done yet: every one is open");
    let first_two = store
        .tasks(TaskFilter {
            kind: Some(TaskKind::Fiscalize),
            status: Some(TaskStatus::Pending),
            limit: Some(2),
        })
        .await
        .expect("answers");
    assert_eq!(first_two.len(), 2);
    assert!(first_two[0].id < first_two[1].id);
    assert!(
        first_two[0].transaction.merchant_prepare_id < first_two[1].transaction.merchant_prepare_id
    );
    let all = store.tasks(TaskFilter::default()).await.expect("answers");
    assert_eq!(all.len(), 4);
}
