//! `settle-soak`: Click (the testkit's mock, with faults injected) pays many orders at the demo
//! shop while settlement workers in other processes (which a script kills and restarts) settle
//! them; then the verdict, from Click's side and the store's, and the figures.
//!
//! Every tenth payment of each kind: a sold-out order (reversal due), two debited attempts of one
//! order (the second is reversal due), an attempt Click failed to debit and whose Complete never
//! came (it must be expired), one Click debited whose Complete comes only after the expiry time
//! (left for Click, then delivered); the rest are plain payments, each fiscalized once.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use click_core::outbox::unix_millis;
use click_core::testing::Click;
use click_core::{
    Amount, ClickPaydocId, MerchantTransId, Order, OrderStore, ReversalOutcome, TransactionState,
};
use click_testkit::http::Poster;
use click_testkit::mock::{Fault, MockApi, MockConfig, Payment};
use futures_util::StreamExt;

use crate::settle::{DemoOrders, SOLD_OUT};
use crate::{ShopArgs, start};

/// What one payment of the soak is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Plain,
    SoldOut,
    Twice,
    Stuck,
    LateComplete,
}

impl Kind {
    fn of(n: usize) -> Self {
        match n % 10 {
            0 => Kind::SoldOut,
            1 => Kind::Twice,
            2 => Kind::Stuck,
            3 => Kind::LateComplete,
            _ => Kind::Plain,
        }
    }

    fn order(self, n: usize) -> String {
        match self {
            Kind::SoldOut => format!("{SOLD_OUT}soak-{n}"),
            _ => format!("soak-{n}"),
        }
    }
}

/// One Click payment the soak made, and what must become of it.
#[derive(Debug, Clone)]
struct Paid {
    kind: Kind,
    order: MerchantTransId,
    click_trans_id: i64,
    paydoc: ClickPaydocId,
    prepare_id: i64,
    /// Whether the merchant owes a reversal of it.
    reversal_due: bool,
    /// When its Complete was answered `0` (Unix ms), for the time to its receipt.
    delivered_ms: Option<u64>,
}

/// The soak's settings.
pub(crate) struct Soak {
    pub(crate) mock_addr: SocketAddr,
    pub(crate) payments: usize,
    pub(crate) concurrency: usize,
    pub(crate) expire_after: Duration,
    pub(crate) timeout: Duration,
}

/// Runs the soak; whether every check held.
pub(crate) async fn run(args: &ShopArgs, soak: Soak) -> Result<bool, Box<dyn std::error::Error>> {
    let credentials = args.credentials();
    let mock = MockApi::new(MockConfig::new(
        credentials.service_id,
        credentials.merchant_user_id,
        credentials.secret_key.clone(),
    ));
    let base = mock.start_on(soak.mock_addr).await?;
    println!("mock Merchant API at {base}");
    let faults = (soak.payments / 40).max(1);
    mock.inject_on(
        "payment/reversal",
        Fault::Hang(Duration::from_secs(6)),
        faults,
    );
    mock.inject_on("payment/reversal", Fault::Drop, faults);
    mock.inject_on("payment/status", Fault::Status(500), faults);
    mock.inject_on(
        "payment/ofd_data/submit_items",
        Fault::Hang(Duration::from_secs(6)),
        faults,
    );
    mock.inject_on("payment/ofd_data/submit_items", Fault::Drop, faults);
    mock.inject_on("payment/ofd_data/", Fault::Garbled, faults);
    mock.inject_on("payment/ofd_data/submit_items", Fault::Status(502), faults);

    let orders = DemoOrders::default();
    let amount: Amount = "1000".parse()?;
    for n in 0..soak.payments {
        orders
            .book
            .insert(Kind::of(n).order(n).parse()?, Order::Payable { amount });
    }
    let shop = start(
        args,
        &orders,
        "127.0.0.1:0".parse()?,
        false,
        std::future::pending(),
    )
    .await?;
    let (prepare_url, complete_url) = (
        shop.urls.prepare.to_string(),
        shop.urls.complete.to_string(),
    );
    let click = Click::new(credentials.service_id, credentials.secret_key.clone());
    let poster = Poster::new();
    let payer = Payer {
        mock: &mock,
        click: &click,
        poster: &poster,
        prepare_url: &prepare_url,
        complete_url: &complete_url,
        amount,
    };

    let started = Instant::now();
    let paid: Vec<Paid> = futures_util::stream::iter(0..soak.payments)
        .map(|n| payer.pay(n))
        .buffer_unordered(soak.concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .flatten()
        .collect();
    println!(
        "{} Click payments made in {:.1?} ({} attempts in all)",
        soak.payments,
        started.elapsed(),
        paid.len()
    );
    tokio::time::sleep(soak.expire_after + Duration::from_secs(1)).await;
    // Click's retry of the Complete it got no answer to, after the expiry time.
    let mut paid = paid;
    for payment in paid.iter_mut().filter(|p| p.kind == Kind::LateComplete) {
        let answer = payer.complete(payment, 0).await;
        if answer == Some(0) {
            payment.delivered_ms = Some(unix_millis(SystemTime::now()));
        } else {
            println!(
                "FAIL late Complete of {} answered {answer:?}",
                payment.order
            );
        }
    }

    let store = &shop.store;
    let settled = tokio::time::timeout(soak.timeout, async {
        loop {
            if settled(&mock, store.as_ref(), &paid).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .is_ok();
    let elapsed = started.elapsed();
    verdict(
        &mock,
        store.as_ref(),
        &payer,
        &paid,
        &orders,
        settled,
        elapsed,
    )
    .await
}

/// Pays through the shop's callbacks as Click does.
struct Payer<'a> {
    mock: &'a MockApi,
    click: &'a Click,
    poster: &'a Poster,
    prepare_url: &'a str,
    complete_url: &'a str,
    amount: Amount,
}

impl Payer<'_> {
    /// One payment of kind `Kind::of(n)`: its attempts.
    async fn pay(&self, n: usize) -> Vec<Paid> {
        let kind = Kind::of(n);
        let Ok(order) = kind.order(n).parse::<MerchantTransId>() else {
            return Vec::new();
        };
        let attempts = if kind == Kind::Twice { 2 } else { 1 };
        let mut paid = Vec::new();
        for attempt in 0..attempts {
            let click_trans_id = 3_600_000_000 + i64::try_from(n * 2 + attempt).unwrap_or(0);
            let paydoc = self
                .mock
                .record_payment(self.amount, order.clone(), Payment::CREATED);
            let Some(prepare_id) = self.prepare(&order, click_trans_id, paydoc).await else {
                println!("FAIL Prepare of {order} refused");
                continue;
            };
            paid.push(Paid {
                kind,
                order: order.clone(),
                click_trans_id,
                paydoc,
                prepare_id,
                reversal_due: kind == Kind::SoldOut || attempt == 1,
                delivered_ms: None,
            });
        }
        for payment in &mut paid {
            if kind == Kind::Stuck {
                // Click could not debit, and its cancelling Complete never arrived.
                self.mock
                    .set_payment_status(payment.paydoc, Payment::CANCELLED);
                continue;
            }
            self.mock.set_payment_status(payment.paydoc, Payment::PAID);
            if kind == Kind::LateComplete {
                continue;
            }
            let answer = self.complete(payment, 0).await;
            let expected = if payment.reversal_due && kind == Kind::Twice {
                -4
            } else {
                0
            };
            if answer != Some(expected) {
                println!(
                    "FAIL Complete of {} answered {answer:?}, not {expected}",
                    payment.order
                );
            }
            if answer == Some(0) && !payment.reversal_due {
                payment.delivered_ms = Some(unix_millis(SystemTime::now()));
            }
        }
        paid
    }

    async fn prepare(
        &self,
        order: &MerchantTransId,
        id: i64,
        paydoc: ClickPaydocId,
    ) -> Option<i64> {
        let form = self
            .click
            .prepare(id, order.as_str(), &self.amount.to_string())
            .set("click_paydoc_id", paydoc.to_string());
        let exchange = self.poster.post(self.prepare_url, &form).await;
        exchange
            .int("merchant_prepare_id")
            .filter(|_| exchange.error == Some(0))
    }

    async fn complete(&self, payment: &Paid, error: i64) -> Option<i64> {
        let form = self
            .click
            .complete(
                payment.click_trans_id,
                payment.order.as_str(),
                payment.prepare_id,
                &self.amount.to_string(),
                error,
            )
            .set("click_paydoc_id", payment.paydoc.to_string());
        self.poster.post(self.complete_url, &form).await.error
    }
}

/// Whether everything the soak expects to happen has happened, at Click and in the store.
async fn settled(mock: &MockApi, store: &dyn OrderStore, paid: &[Paid]) -> bool {
    for payment in paid {
        let id = click_core::MerchantPrepareId::new(payment.prepare_id);
        let Ok(Some(transaction)) = store.transaction(id).await else {
            return false;
        };
        let done = if payment.reversal_due {
            mock.payment(payment.paydoc).map(|p| p.status) == Some(Payment::REVERSED)
                && transaction.reversal.is_some()
        } else if payment.kind == Kind::Stuck {
            transaction.state == TransactionState::Expired
        } else {
            transaction.receipt_url.is_some()
        };
        if !done {
            return false;
        }
    }
    true
}

/// Checks every expectation; prints the figures and the verdict.
async fn verdict(
    mock: &MockApi,
    store: &dyn OrderStore,
    payer: &Payer<'_>,
    paid: &[Paid],
    orders: &DemoOrders,
    settled: bool,
    elapsed: Duration,
) -> Result<bool, Box<dyn std::error::Error>> {
    let mut failures = Vec::new();
    if !settled {
        failures.push("not everything was settled before the timeout".to_owned());
    }
    let mut reversal_requests: HashMap<String, usize> = HashMap::new();
    for request in mock.requests() {
        if let Some(id) = request
            .path
            .strip_prefix("payment/reversal/")
            .and_then(|p| p.split('/').nth(1))
        {
            *reversal_requests.entry(id.to_owned()).or_default() += 1;
        }
    }
    let mut latencies = Vec::new();
    let (mut reversed, mut fiscalized, mut expired) = (0, 0, 0);
    for payment in paid {
        let transaction = store
            .transaction(click_core::MerchantPrepareId::new(payment.prepare_id))
            .await?
            .ok_or("a transaction is missing")?;
        let at_click = mock.payment(payment.paydoc).map(|p| p.status);
        let requests = reversal_requests
            .get(&payment.paydoc.to_string())
            .copied()
            .unwrap_or(0);
        let submissions = mock.ofd(payment.paydoc).map_or(0, |ofd| ofd.submissions);
        if payment.reversal_due {
            reversed += 1;
            if at_click != Some(Payment::REVERSED) || requests != 1 {
                failures.push(format!(
                    "{}: reversal due, at Click {at_click:?} after {requests} requests",
                    payment.order
                ));
            }
            if transaction.reversal != Some(ReversalOutcome::Reversed) {
                failures.push(format!(
                    "{}: reversal recorded as {:?}",
                    payment.order, transaction.reversal
                ));
            }
        } else if requests > 0 || at_click == Some(Payment::REVERSED) {
            failures.push(format!(
                "{}: reversed, though nothing was owed",
                payment.order
            ));
        }
        match payment.kind {
            Kind::Stuck => {
                expired += 1;
                if transaction.state != TransactionState::Expired {
                    failures.push(format!(
                        "{}: stuck attempt left {:?}",
                        payment.order, transaction.state
                    ));
                }
                let late = payer.complete(payment, 0).await;
                if late != Some(-9) || orders.book.delivery_count(&payment.order) != 0 {
                    failures.push(format!(
                        "{}: a late confirm answered {late:?}",
                        payment.order
                    ));
                }
            }
            _ if !payment.reversal_due => {
                fiscalized += 1;
                if submissions != 1 || transaction.receipt_url.is_none() {
                    failures.push(format!(
                        "{}: {submissions} submissions, receipt {:?}",
                        payment.order, transaction.receipt_url
                    ));
                }
                let first = mock
                    .ofd(payment.paydoc)
                    .and_then(|ofd| ofd.first_submitted_ms);
                if let (Some(first), Some(delivered)) = (first, payment.delivered_ms) {
                    latencies.push(first.saturating_sub(delivered));
                }
            }
            _ => {
                if submissions != 0 {
                    failures.push(format!(
                        "{}: a reversed payment was fiscalized",
                        payment.order
                    ));
                }
            }
        }
    }
    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    let tasks = reversed + fiscalized + expired;
    let millis = u64::try_from(elapsed.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    println!(
        "settled {tasks} tasks ({reversed} reversals, {fiscalized} receipts, {expired} expiries) \
         in {elapsed:.1?}: {} tasks/s",
        u64::try_from(tasks).unwrap_or(0) * 1000 / millis
    );
    println!(
        "confirm to receipt: p50 {} ms, p99 {} ms, max {} ms",
        percentile(50),
        percentile(99),
        latencies.last().copied().unwrap_or(0)
    );
    for failure in &failures {
        println!("FAIL {failure}");
    }
    println!(
        "verdict: {}",
        if failures.is_empty() {
            "every reversal due reversed exactly once, every delivered payment fiscalized exactly \
             once, every stuck attempt expired, nothing reversed that Click did not pay"
        } else {
            "FAILED"
        }
    );
    Ok(failures.is_empty())
}
