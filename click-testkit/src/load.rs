//! A load generator that plays Click: every worker takes the next order, sends a signed Prepare
//! with a never-repeated `click_trans_id`, then the Complete, over keep-alive HTTP/1.1 (hyper's bare
//! connection), and records each request's latency and every answer that is
//! not `0`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use click_core::Amount;
use click_core::testing::Click;

use crate::target::Target;
use connections::Connections;

mod connections;

/// How a load run goes.
#[derive(Debug, Clone)]
pub struct LoadPlan {
    /// The merchant's instances (one or more, sharing one store): each pair's Prepare and its
    /// Completes go to different instances in turn.
    pub targets: Vec<Target>,
    /// Identical Completes sent at once per pair (1: no duplicates): exactly one must answer `0`
    /// and the others `-4`, as when Click's retries race across instances.
    pub duplicates: usize,
    /// How many orders exist (`{prefix}{0..orders}`), each paid once.
    pub orders: usize,
    /// The orders' id prefix (`load-` matches the demo's `--orders-file` convention).
    pub prefix: String,
    /// Every order's amount.
    pub amount: Amount,
    /// Concurrent workers (each one keep-alive connection).
    pub concurrency: usize,
    /// How long to run at most (the run also ends when the orders run out).
    pub duration: Duration,
    /// Like Click, resend a callback that got no answer (a dead or restarting server) until it
    /// is answered, for at most this long. A Complete answered `-4` after a resend counts as paid:
    /// the first one was confirmed before its answer was lost.
    pub resend_for: Option<Duration>,
}

/// What a run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Prepare+Complete pairs that both answered `0`.
    pub pairs: usize,
    /// Requests sent.
    pub requests: usize,
    /// The run's wall time.
    pub elapsed: Duration,
    /// Latencies of every request, sorted.
    latencies: Vec<Duration>,
    /// Answers that were not `0`, by code (or `transport` failures), with a count.
    pub failures: BTreeMap<String, usize>,
    /// Requests never sent because the connection was refused (or closed before they were
    /// written): each went to the next instance, or again after a pause.
    pub refused: usize,
    /// Requests sent that got no answer (a connection reset or closed mid-flight, a timeout).
    pub lost: usize,
    /// Answers that were not Click's JSON.
    pub not_json: usize,
}

impl LoadReport {
    /// Pairs per second.
    pub fn pairs_per_second(&self) -> f64 {
        per_second(self.pairs, self.elapsed)
    }

    /// Requests per second.
    pub fn requests_per_second(&self) -> f64 {
        per_second(self.requests, self.elapsed)
    }

    /// The latency at a quantile (0.5 for the median).
    pub fn latency(&self, quantile: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            clippy::float_arithmetic
        )]
        let index = ((self.latencies.len() - 1) as f64 * quantile).round() as usize;
        self.latencies[index.min(self.latencies.len() - 1)]
    }
}

impl LoadReport {
    /// Adds a partial report's counts to this one.
    fn add(&mut self, partial: LoadReport) {
        self.pairs += partial.pairs;
        self.requests += partial.requests;
        self.refused += partial.refused;
        self.lost += partial.lost;
        self.not_json += partial.not_json;
        self.latencies.extend(partial.latencies);
        for (code, count) in partial.failures {
            *self.failures.entry(code).or_default() += count;
        }
    }
}

#[allow(clippy::cast_precision_loss, clippy::float_arithmetic)]
fn per_second(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64().max(f64::EPSILON)
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "pairs:     {} in {:.2?} = {:.0} pairs/s",
            self.pairs,
            self.elapsed,
            self.pairs_per_second()
        )?;
        writeln!(
            f,
            "requests:  {} = {:.0} requests/s",
            self.requests,
            self.requests_per_second()
        )?;
        writeln!(
            f,
            "latency:   p50 {:.2?}  p99 {:.2?}  max {:.2?}",
            self.latency(0.5),
            self.latency(0.99),
            self.latencies.last().copied().unwrap_or_default()
        )?;
        writeln!(
            f,
            "refused:   {} (sent elsewhere or again)  sent, unanswered: {}  not JSON: {}",
            self.refused, self.lost, self.not_json
        )?;
        if self.failures.is_empty() {
            write!(f, "non-zero answers: none")
        } else {
            write!(f, "non-zero answers: {:?}", self.failures)
        }
    }
}

/// Runs a load plan.
pub async fn run(plan: LoadPlan) -> LoadReport {
    let plan = Arc::new(plan);
    let next_order = Arc::new(AtomicUsize::new(0));
    // Microseconds since 1970 times 1000: unique across runs against the same server.
    let base = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(0));
    let next_attempt = Arc::new(AtomicI64::new(base));
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..plan.concurrency.max(1) {
        let (plan, next_order, next_attempt) = (
            Arc::clone(&plan),
            Arc::clone(&next_order),
            Arc::clone(&next_attempt),
        );
        workers.spawn(async move { worker(&plan, &next_order, &next_attempt, deadline).await });
    }
    let mut report = LoadReport::default();
    for partial in workers.join_all().await {
        report.add(partial);
    }
    report.elapsed = started.elapsed();
    report.latencies.sort_unstable();
    report
}

async fn worker(
    plan: &LoadPlan,
    next_order: &AtomicUsize,
    next_attempt: &AtomicI64,
    deadline: Instant,
) -> LoadReport {
    let mut connections = Connections::default();
    // One set of connections per racing duplicate, lent to its task and given back.
    let mut racers: Vec<Connections> = (0..plan.duplicates)
        .map(|_| Connections::default())
        .collect();
    let Some(first) = plan.targets.first() else {
        return LoadReport::default();
    };
    let click = Click::new(first.service_id, first.secret_key.clone());
    let amount = plan.amount.to_string();
    let mut report = LoadReport::default();
    while Instant::now() < deadline {
        let index = next_order.fetch_add(1, Ordering::Relaxed);
        if index >= plan.orders {
            break;
        }
        let order = format!("{}{index}", plan.prefix);
        let attempt = next_attempt.fetch_add(1, Ordering::Relaxed);
        let instance = |n: usize| &plan.targets[(index + n) % plan.targets.len()];
        let in_turn = |first: usize, url: fn(&Target) -> &str| InTurn {
            targets: &plan.targets,
            first: index + first,
            url,
        };
        let prepare = click.prepare(attempt, &order, &amount).encode();
        let Some(answer) = deliver(
            plan,
            &mut connections,
            in_turn(0, |t| &t.prepare_url),
            prepare,
            &mut report,
        )
        .await
        else {
            continue;
        };
        let Some(prepare_id) = answer
            .get("merchant_prepare_id")
            .and_then(serde_json::Value::as_i64)
        else {
            continue;
        };
        let complete = click
            .complete(attempt, &order, prepare_id, &amount, 0)
            .encode();
        if plan.duplicates <= 1 {
            if deliver(
                plan,
                &mut connections,
                in_turn(1, |t| &t.complete_url),
                complete,
                &mut report,
            )
            .await
            .is_some()
            {
                report.pairs += 1;
            }
            continue;
        }
        let mut racing = tokio::task::JoinSet::new();
        for (n, mut racer) in std::mem::take(&mut racers).into_iter().enumerate() {
            let (url, body) = (instance(1 + n).complete_url.clone(), complete.clone());
            racing.spawn(async move {
                let mut partial = LoadReport::default();
                let zero = match send(&mut racer, &url, body, &mut partial).await {
                    Reply::Code(0, _) => true,
                    // The duplicates' -4 is the expected answer; anything else is a failure.
                    Reply::Code(-4, _) => false,
                    Reply::Code(code, _) => fail(&mut partial, &code.to_string()).is_some(),
                    Reply::NotJson => fail(&mut partial, NOT_JSON).is_some(),
                    Reply::Unanswered => fail(&mut partial, UNANSWERED).is_some(),
                    Reply::Refused => fail(&mut partial, REFUSED).is_some(),
                };
                (zero, partial, racer)
            });
        }
        let mut zeros = 0;
        for (zero, partial, racer) in racing.join_all().await {
            racers.push(racer);
            zeros += usize::from(zero);
            report.add(partial);
        }
        match zeros {
            1 => report.pairs += 1,
            other => {
                *report
                    .failures
                    .entry(format!("{other} zero answers to one payment's duplicates"))
                    .or_default() += 1
            }
        }
    }
    report
}

/// A callback's URL on its instance, then on the others in turn, for when its connection is
/// refused.
#[derive(Clone, Copy)]
struct InTurn<'a> {
    targets: &'a [Target],
    /// The callback's instance (an index, taken modulo the number of instances).
    first: usize,
    url: fn(&Target) -> &str,
}

impl<'a> InTurn<'a> {
    /// The `n`th instance's URL, counting from the callback's own.
    fn get(self, n: usize) -> &'a str {
        (self.url)(&self.targets[(self.first + n) % self.targets.len()])
    }
}

/// Sends one callback to the first of `urls` (its instance, then the others in turn): a refused
/// connection sends it to the next one at once; with [`LoadPlan::resend_for`], one that got no
/// answer is resent, as Click does, after a pause. The answer when it was `0` (or `-4` to a
/// resent Complete), else `None` (and the failure counted).
async fn deliver(
    plan: &LoadPlan,
    connections: &mut Connections,
    urls: InTurn<'_>,
    body: String,
    report: &mut LoadReport,
) -> Option<serde_json::Value> {
    let instances = urls.targets.len();
    let give_up = plan
        .resend_for
        .map(|resend_for| Instant::now() + resend_for);
    let resending = || give_up.is_some_and(|at| Instant::now() < at);
    let mut resent = false;
    let mut next = 0;
    loop {
        let url = urls.get(next);
        match send(connections, url, body.clone(), report).await {
            Reply::Code(0, json) => return json,
            // The first one was confirmed before its answer was lost.
            Reply::Code(-4, _) if resent && url.ends_with("complete") => {
                return Some(serde_json::json!({"error": -4}));
            }
            Reply::Code(code, _) => return fail(report, &code.to_string()),
            Reply::NotJson => return fail(report, NOT_JSON),
            Reply::Refused => {
                next += 1;
                if next % instances == 0 {
                    if !resending() {
                        return fail(report, REFUSED);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            Reply::Unanswered => {
                if !resending() {
                    return fail(report, UNANSWERED);
                }
                resent = true;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The failure key of a callback sent that got no answer.
const UNANSWERED: &str = "sent, no answer";
/// The failure key of a callback whose every instance refused the connection.
const REFUSED: &str = "refused everywhere";
/// The failure key of an answer that is not Click's JSON.
const NOT_JSON: &str = "not JSON";

/// Counts a failure under `key`; no answer to use.
fn fail(report: &mut LoadReport, key: &str) -> Option<serde_json::Value> {
    *report.failures.entry(key.to_owned()).or_default() += 1;
    None
}

/// How one request went.
enum Reply {
    /// Click's JSON with this `error` code.
    Code(i64, Option<serde_json::Value>),
    /// An answer that is not Click's JSON.
    NotJson,
    /// Sent, and no answer came.
    Unanswered,
    /// Never sent: the connection was refused or closed first.
    Refused,
}

/// Sends one callback, counting it (sent, refused, lost, not JSON) and its latency.
async fn send(
    connections: &mut Connections,
    url: &str,
    body: String,
    report: &mut LoadReport,
) -> Reply {
    let started = Instant::now();
    let text = match connections.post(url, body).await {
        Err(error) if error.before_sending() => {
            report.refused += 1;
            return Reply::Refused;
        }
        Err(_) => {
            report.requests += 1;
            report.lost += 1;
            return Reply::Unanswered;
        }
        Ok(text) => text,
    };
    report.latencies.push(started.elapsed());
    report.requests += 1;
    let json: Option<serde_json::Value> = serde_json::from_slice(&text).ok();
    match json
        .as_ref()
        .and_then(|json| json.get("error"))
        .and_then(serde_json::Value::as_i64)
    {
        Some(code) => Reply::Code(code, json),
        None => {
            report.not_json += 1;
            Reply::NotJson
        }
    }
}
