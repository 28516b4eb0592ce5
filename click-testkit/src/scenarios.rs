//! The scenario suite: Click's own 15 test-tool scenarios in order, then the checks docs/protocol.md
//! adds. Every answer must be HTTP 200 with Click-shaped JSON and the expected `error`.
//!
//! Each scenario that pays takes a fresh one-time order from the list it is given (a one-time
//! order can be paid once): [`ORDERS_NEEDED`] of them, all payable, plus one already paid order.
//! Expectations follow docs/protocol.md's decisions (e.g. `-8` for a missing field, checked before the
//! signature); a merchant that decides otherwise where Click is silent sees those scenarios fail,
//! with the request and answer shown.

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use click_core::testing::Click;
use click_core::testing::click_tool::{SCENARIOS, Step, ToolRun, UNKNOWN_PREPARE_ID};
use click_core::{Amount, CancelAfterConfirm, Endpoint, MerchantTransId, Tiyin};

use crate::http::{Exchange, Poster};
use crate::report::{Report, ScenarioResult};
use crate::target::{OrderSpec, Target};

/// The content type of every callback.
const FORM: &str = "application/x-www-form-urlencoded";

/// Microseconds since 1970 (about 1.8e15): beyond 32 bits and unique per run.
fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(3_600_000_001, |elapsed| {
            i64::try_from(elapsed.as_micros()).unwrap_or(i64::MAX / 4)
        })
}

/// How many payable orders a full run consumes.
pub const ORDERS_NEEDED: usize = 7;

/// Choices the merchant makes where Click is ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The answer expected to a cancel of a confirmed payment (scenario 8): `-4` (Click's
    /// documentation, the default) or `-9` (Click's newer test generator).
    pub cancel_after_confirm: i64,
    /// How many identical Completes the concurrency scenario sends at once.
    pub concurrency: usize,
}

impl Options {
    /// The merchant's setting that [`cancel_after_confirm`](Self::cancel_after_confirm) expects.
    fn cancel_after_confirm(&self) -> CancelAfterConfirm {
        if self.cancel_after_confirm == -9 {
            CancelAfterConfirm::Cancelled
        } else {
            CancelAfterConfirm::AlreadyPaid
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            cancel_after_confirm: -4,
            concurrency: 20,
        }
    }
}

/// A failed expectation, with the exchanges that show it.
struct Failure {
    message: String,
    exchanges: Vec<Exchange>,
}

type Outcome = Result<(), Failure>;

/// Checks that an exchange is HTTP 200 JSON with one of the expected codes, an `error_note`, and
/// the request's `click_trans_id` and `merchant_trans_id` echoed back (required on success; when
/// present, they must match).
fn expect(exchange: &Exchange, codes: &[i64]) -> Outcome {
    let fail = |message: String| {
        Err(Failure {
            message,
            exchanges: vec![exchange.clone()],
        })
    };
    match (exchange.status, exchange.error) {
        (Some(200), Some(error)) if codes.contains(&error) => {
            match echo_mismatch(exchange, error == 0) {
                None => Ok(()),
                Some(problem) => fail(problem),
            }
        }
        (Some(200), Some(error)) => fail(format!("expected error {codes:?}, got {error}")),
        (Some(200), None) => fail("the answer is not Click's JSON".to_owned()),
        (Some(status), _) => fail(format!("expected HTTP 200, got {status}")),
        (None, _) => fail("no answer".to_owned()),
    }
}

/// What is wrong with an answer's echo of the request, if anything.
fn echo_mismatch(exchange: &Exchange, required: bool) -> Option<String> {
    let json = exchange.json.as_ref()?;
    if json
        .get("error_note")
        .and_then(|note| note.as_str())
        .is_none()
    {
        return Some("the answer has no error_note".to_owned());
    }
    let sent = |field: &str| {
        url::form_urlencoded::parse(exchange.sent.as_bytes())
            .find(|(key, _)| key == field)
            .map(|(_, value)| value.into_owned())
    };
    let matches = |answered: &serde_json::Value, sent: &str| match answered {
        serde_json::Value::Number(number) => number.to_string() == sent,
        serde_json::Value::String(text) => text == sent,
        _ => false,
    };
    for field in ["click_trans_id", "merchant_trans_id"] {
        match (json.get(field), sent(field)) {
            (Some(answered), Some(sent)) if !matches(answered, &sent) => {
                return Some(format!("{field} echoed as {answered}, sent {sent:?}"));
            }
            (None, Some(_)) if required => {
                return Some(format!("the answer does not echo {field}"));
            }
            _ => {}
        }
    }
    None
}

struct Run<'a> {
    target: &'a Target,
    poster: Poster,
    click: Click,
    next_id: i64,
    orders: VecDeque<OrderSpec>,
    paid: Option<OrderSpec>,
    options: Options,
    report: Report,
}

impl Run<'_> {
    /// A fresh `click_trans_id` above 32 bits, unique across runs against a long-lived server.
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn order(&mut self) -> Result<OrderSpec, Failure> {
        self.orders.pop_front().ok_or_else(|| Failure {
            message: format!("out of payable orders: pass at least {ORDERS_NEEDED} with --order"),
            exchanges: Vec::new(),
        })
    }

    async fn prepare(&self, id: i64, order: &str, amount: &str) -> Exchange {
        self.poster
            .post(
                &self.target.prepare_url,
                &self.click.prepare(id, order, amount),
            )
            .await
    }

    async fn complete(
        &self,
        id: i64,
        order: &str,
        prepare_id: i64,
        amount: &str,
        error: i64,
    ) -> Exchange {
        let form = self.click.complete(id, order, prepare_id, amount, error);
        self.poster.post(&self.target.complete_url, &form).await
    }

    /// Prepares and expects `0` with a prepare id.
    async fn prepared(&self, id: i64, order: &str, amount: &str) -> Result<i64, Failure> {
        let exchange = self.prepare(id, order, amount).await;
        expect(&exchange, &[0])?;
        exchange.int("merchant_prepare_id").ok_or_else(|| Failure {
            message: "a successful Prepare answered no merchant_prepare_id".to_owned(),
            exchanges: vec![exchange],
        })
    }

    fn record(&mut self, name: &str, outcome: Outcome) {
        let number = self.report.results.len() + 1;
        self.report.results.push(match outcome {
            Ok(()) => ScenarioResult::passed(number, name),
            Err(failure) => {
                ScenarioResult::failed(number, name, failure.message, failure.exchanges)
            }
        });
    }
}

/// Runs the whole suite against a merchant.
pub async fn check(
    target: &Target,
    orders: &[OrderSpec],
    paid: Option<&OrderSpec>,
    options: Options,
) -> Report {
    let micros = now_micros();
    let mut run = Run {
        target,
        poster: Poster::new(),
        click: Click::new(target.service_id, target.secret_key.clone()),
        next_id: micros,
        orders: orders.iter().cloned().collect(),
        paid: paid.cloned(),
        options,
        report: Report::default(),
    };
    click_test_tool(&mut run).await;
    protocol_checks(&mut run).await;
    run.report
}

/// Click's test tool, on the first three orders (the tool itself takes one account, or one fresh
/// order per chain), with this run's own `click_trans_id`s and the orders' amounts.
async fn click_test_tool(run: &mut Run<'_>) {
    let (a, b, c) = match (run.order(), run.order(), run.order()) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(failure), ..) | (_, Err(failure), _) | (.., Err(failure)) => {
            run.record("Click test tool (needs three orders)", Err(failure));
            return;
        }
    };
    let offset = run.id();
    // Past the tool's largest id, so that the checks that follow take ids of their own.
    run.next_id += 100_000;
    let tool = ToolRun::new(
        run.click.clone(),
        [a.id.clone(), b.id.clone(), c.id.clone()],
    )
    .amounts([a.amount, b.amount, c.amount])
    .id_offset(offset)
    .unknown(
        format!("click-testkit-unknown-{offset}"),
        UNKNOWN_PREPARE_ID,
    )
    .cancel_after_confirm(run.options.cancel_after_confirm());
    replay(run, tool).await;
    // The cancelled order stays payable: later scenarios reuse it for checks that pay nothing.
    run.orders.push_back(c);
    run.paid.get_or_insert(a);
}

/// Sends the tool's 15 scenarios in order, each checked against the answer the tool expects.
async fn replay(run: &mut Run<'_>, mut tool: ToolRun) {
    for scenario in &SCENARIOS {
        let expected = tool.expected(scenario);
        let name = format!("{}: {expected}  |  {}", scenario.english, scenario.russian);
        let outcome = match tool.request(scenario) {
            Err(missing) => Err(Failure {
                message: missing.to_string(),
                exchanges: Vec::new(),
            }),
            Ok(request) => {
                let url = match request.endpoint {
                    Endpoint::Prepare => &run.target.prepare_url,
                    Endpoint::Complete | Endpoint::Any => &run.target.complete_url,
                };
                let exchange = run.poster.post_raw(url, request.body, Some(FORM)).await;
                let prepare_id = exchange
                    .int("merchant_prepare_id")
                    .filter(|_| exchange.error == Some(0));
                tool.answered(scenario, prepare_id);
                expect(&exchange, &[i64::from(expected)]).and_then(|()| {
                    match (scenario.step, prepare_id) {
                        (Step::Prepare, None) => Err(Failure {
                            message: "a successful Prepare answered no merchant_prepare_id".into(),
                            exchanges: vec![exchange],
                        }),
                        _ => Ok(()),
                    }
                })
            }
        };
        run.record(&name, outcome);
    }
}

/// The orders a replay of Click's test tool pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolOrders {
    /// One `merchant_trans_id` for every chain, as the tool is usually run: it must be an account,
    /// which chains 2 and 3 top up again.
    Account(MerchantTransId),
    /// A fresh one-time order of 500 so'm per chain.
    PerChain([MerchantTransId; 3]),
}

/// Replays Click's test tool exactly as Click ships it: its 15 scenarios in its order, its fixed
/// `click_trans_id`s (the same on every run), its old `sign_time`, 500 so'm (499 for the
/// wrong-amount Complete), `error_note=Ok` and an empty `merchant_prepare_id` on Prepare. A
/// merchant that passes it twice in a row with the same account passes Click's tool.
pub async fn check_click_tool(target: &Target, orders: &ToolOrders, options: Options) -> Report {
    let orders = match orders {
        ToolOrders::Account(id) => [id.clone(), id.clone(), id.clone()],
        ToolOrders::PerChain(ids) => ids.clone(),
    };
    let click = Click::new(target.service_id, target.secret_key.clone());
    let random = now_micros();
    // The tool draws these two at random; beyond 32 bits, they name nothing a shop holds.
    let tool = ToolRun::new(click.clone(), orders)
        .unknown(
            format!("click-tool-unknown-{random}"),
            (1 << 40) + random % (1 << 40),
        )
        .cancel_after_confirm(options.cancel_after_confirm());
    let mut run = Run {
        target,
        poster: Poster::new(),
        click,
        next_id: random,
        orders: VecDeque::new(),
        paid: None,
        options,
        report: Report::default(),
    };
    replay(&mut run, tool).await;
    run.report
}

/// The checks docs/protocol.md adds to Click's tool.
async fn protocol_checks(run: &mut Run<'_>) {
    let outcome = success(run).await;
    run.record("Success: Prepare 0, Complete 0", outcome);

    let Some(spare) = run.orders.back().cloned() else {
        run.record(
            "Checks that pay nothing",
            Err(Failure {
                message: "out of orders".into(),
                exchanges: vec![],
            }),
        );
        return;
    };
    let (spare_id, spare_amount) = (spare.id.to_string(), spare.amount.to_string());

    let id = run.id();
    let sign = run.click.prepare(id, &spare_id, &spare_amount);
    let flipped = flip_last_digit(sign.get("sign_string").unwrap_or_default());
    let exchange = run
        .poster
        .post(&run.target.prepare_url, &sign.set("sign_string", flipped))
        .await;
    run.record(
        "Bad signature (one digit flipped): -1",
        expect(&exchange, &[-1]),
    );

    let wrong = Amount::from_tiyin(Tiyin(spare.amount.tiyin().get() + 100))
        .unwrap_or(Amount::ZERO)
        .to_string();
    let id = run.id();
    let exchange = run.prepare(id, &spare_id, &wrong).await;
    run.record("Wrong amount: -2", expect(&exchange, &[-2]));

    let id = run.id();
    let form = run.click.sign(
        run.click
            .prepare(id, &spare_id, &spare_amount)
            .set("action", "2"),
    );
    let exchange = run.poster.post(&run.target.prepare_url, &form).await;
    run.record("Unknown action 2: -3", expect(&exchange, &[-3]));

    let id = run.id();
    let exchange = run
        .prepare(
            id,
            &format!("click-testkit-no-such-order-{id}"),
            &spare_amount,
        )
        .await;
    run.record("Unknown order: -5", expect(&exchange, &[-5]));

    let id = run.id();
    let outcome = async {
        let prepare_id = run.prepared(id, &spare_id, &spare_amount).await?;
        let exchange = run
            .complete(id, &spare_id, prepare_id + 1_000_000, &spare_amount, 0)
            .await;
        expect(&exchange, &[-6])?;
        // Click cancels the attempt it could not complete, which releases the order again.
        let cancel = run
            .complete(id, &spare_id, prepare_id, &spare_amount, -5017)
            .await;
        expect(&cancel, &[-9])
    }
    .await;
    run.record("Unknown merchant_prepare_id: -6", outcome);

    let id = run.id();
    let mut outcome = Ok(());
    for field in [
        "click_trans_id",
        "service_id",
        "click_paydoc_id",
        "merchant_trans_id",
        "amount",
        "action",
        "error",
        "sign_time",
        "sign_string",
    ] {
        let form = run
            .click
            .prepare(id, &spare_id, &spare_amount)
            .remove(field);
        let exchange = run.poster.post(&run.target.prepare_url, &form).await;
        if let Err(mut failure) = expect(&exchange, &[-8]) {
            failure.message = format!("without {field}: {}", failure.message);
            outcome = Err(failure);
            break;
        }
    }
    run.record("Missing fields, each in turn: -8", outcome);

    let id = run.id();
    let outcome = async {
        let prepare_id = run.prepared(id, &spare_id, &spare_amount).await?;
        expect(
            &run.complete(id, &spare_id, prepare_id, &spare_amount, -5017)
                .await,
            &[-9],
        )?;
        expect(
            &run.complete(id, &spare_id, prepare_id, &spare_amount, 0)
                .await,
            &[-9],
        )
    }
    .await;
    run.record("Click-side cancel, then confirm: -9, -9", outcome);

    let outcome = repeated_complete(run).await;
    run.record("Repeated Complete: 0, then -4", outcome);

    let outcome = match run.paid.clone() {
        Some(paid) => {
            let id = run.id();
            expect(
                &run.prepare(id, paid.id.as_str(), &paid.amount.to_string())
                    .await,
                &[-4],
            )
        }
        None => Err(Failure {
            message: "no paid order: pass --paid-order".into(),
            exchanges: vec![],
        }),
    };
    run.record("Prepare of a paid order: -4", outcome);

    let outcome = short_amount(run).await;
    run.record(
        "Amount written as in the link without decimals (1000 vs 1000.00): 0, 0",
        outcome,
    );

    let outcome = concurrent_completes(run).await;
    let name = format!(
        "{} identical Completes at once: one 0, the rest -4",
        run.options.concurrency
    );
    run.record(&name, outcome);

    let outcome = hostile_ids(run, &spare_amount).await;
    run.record(
        "Hostile merchant_trans_ids: -5 or -8, JSON-escaped",
        outcome,
    );
}

async fn success(run: &mut Run<'_>) -> Outcome {
    let order = run.order()?;
    let (order_id, amount) = (order.id.to_string(), order.amount.to_string());
    let id = run.id();
    let prepare_id = run.prepared(id, &order_id, &amount).await?;
    let exchange = run.complete(id, &order_id, prepare_id, &amount, 0).await;
    expect(&exchange, &[0])?;
    match exchange
        .json
        .as_ref()
        .and_then(|json| json.get("merchant_confirm_id"))
    {
        Some(_) => Ok(()),
        None => Err(Failure {
            message: "Complete answered no merchant_confirm_id".into(),
            exchanges: vec![exchange],
        }),
    }
}

async fn repeated_complete(run: &mut Run<'_>) -> Outcome {
    let order = run.order()?;
    let (order_id, amount) = (order.id.to_string(), order.amount.to_string());
    let id = run.id();
    let prepare_id = run.prepared(id, &order_id, &amount).await?;
    expect(
        &run.complete(id, &order_id, prepare_id, &amount, 0).await,
        &[0],
    )?;
    expect(
        &run.complete(id, &order_id, prepare_id, &amount, 0).await,
        &[-4],
    )
}

/// Click signs the amount exactly as the link had it: `1000`, not `1000.00`.
async fn short_amount(run: &mut Run<'_>) -> Outcome {
    let order = run.order()?;
    let tiyin = order.amount.tiyin().get();
    let amount = if tiyin % 100 == 0 {
        (tiyin / 100).to_string()
    } else {
        order.amount.to_string().trim_end_matches('0').to_owned()
    };
    let order_id = order.id.to_string();
    let id = run.id();
    let prepare_id = run.prepared(id, &order_id, &amount).await?;
    expect(
        &run.complete(id, &order_id, prepare_id, &amount, 0).await,
        &[0],
    )
}

async fn concurrent_completes(run: &mut Run<'_>) -> Outcome {
    let order = run.order()?;
    let (order_id, amount) = (order.id.to_string(), order.amount.to_string());
    let id = run.id();
    let prepare_id = run.prepared(id, &order_id, &amount).await?;
    let form = run.click.complete(id, &order_id, prepare_id, &amount, 0);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..run.options.concurrency.max(2) {
        let (poster, url, form) = (
            run.poster.clone(),
            run.target.complete_url.clone(),
            form.clone(),
        );
        tasks.spawn(async move { poster.post(&url, &form).await });
    }
    let exchanges = tasks.join_all().await;
    let count = |code| {
        exchanges
            .iter()
            .filter(|e| e.status == Some(200) && e.error == Some(code))
            .count()
    };
    if count(0) == 1 && count(-4) == exchanges.len() - 1 {
        Ok(())
    } else {
        let codes: Vec<_> = exchanges.iter().map(|e| e.error).collect();
        Err(Failure {
            message: format!("answers {codes:?}"),
            exchanges,
        })
    }
}

async fn hostile_ids(run: &mut Run<'_>, amount: &str) -> Outcome {
    let long = "x".repeat(300);
    for hostile in [
        "1' OR '1'='1",
        "1; DROP TABLE orders--",
        "\"><script>alert(1)</script>",
        "a\r\nb",
        "a\u{202e}b",
        long.as_str(),
    ] {
        let id = run.id();
        let exchange = run.prepare(id, hostile, amount).await;
        expect(&exchange, &[-5, -8])?;
        let echoed = exchange
            .json
            .as_ref()
            .and_then(|json| json.get("merchant_trans_id"))
            .and_then(|v| v.as_str());
        if echoed.is_some_and(|echoed| echoed != hostile) {
            return Err(Failure {
                message: "merchant_trans_id was not echoed back intact".into(),
                exchanges: vec![exchange],
            });
        }
    }
    Ok(())
}

fn flip_last_digit(sign: &str) -> String {
    let mut flipped = sign.to_owned();
    match flipped.pop() {
        Some('0') => flipped.push('1'),
        Some(_) => flipped.push('0'),
        None => flipped.push('0'),
    }
    flipped
}

/// Performs one full payment of an order (Prepare, then Complete) and returns the exchanges.
pub async fn pay(target: &Target, order: &OrderSpec) -> Vec<Exchange> {
    let click = Click::new(target.service_id, target.secret_key.clone());
    let poster = Poster::new();
    let id = now_micros();
    let (order_id, amount) = (order.id.to_string(), order.amount.to_string());
    let prepare = poster
        .post(&target.prepare_url, &click.prepare(id, &order_id, &amount))
        .await;
    let Some(prepare_id) = prepare
        .int("merchant_prepare_id")
        .filter(|_| prepare.error == Some(0))
    else {
        return vec![prepare];
    };
    let complete = poster
        .post(
            &target.complete_url,
            &click.complete(id, &order_id, prepare_id, &amount, 0),
        )
        .await;
    vec![prepare, complete]
}
