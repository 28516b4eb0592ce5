//! HTTP-level checks (docs/protocol.md, bad inputs section A) that any merchant endpoint must pass: whatever
//! arrives, the answer is HTTP 200 with Click's JSON (or 405 with JSON for other methods), never
//! an HTML error page, and a slow client cannot hold a connection.

use std::time::{Duration, Instant};

use click_core::testing::{Click, Hook, TestOrders};
use tokio::io::AsyncWriteExt;

use crate::http::{Exchange, Poster};
use crate::report::{Report, ScenarioResult};
use crate::target::Target;

fn verdict(
    exchange: &Exchange,
    statuses: &[u16],
    codes: &[i64],
) -> Result<(), (String, Vec<Exchange>)> {
    let status_ok = exchange
        .status
        .is_some_and(|status| statuses.contains(&status));
    let code_ok = exchange.error.is_some_and(|error| codes.contains(&error));
    if status_ok && code_ok {
        Ok(())
    } else {
        Err((
            format!("expected HTTP {statuses:?} with error {codes:?}"),
            vec![exchange.clone()],
        ))
    }
}

/// Runs the transport checks against the Prepare URL. An unknown order is used, so nothing is paid.
pub async fn check(target: &Target) -> Report {
    let poster = Poster::new();
    let click = Click::new(target.service_id, target.secret_key.clone());
    let url = target.prepare_url.as_str();
    let probe = click
        .prepare(3_600_000_000, "click-testkit-transport-probe", "1000")
        .encode();
    let mut report = Report::default();
    let mut record = |name: &str, outcome: Result<(), (String, Vec<Exchange>)>| {
        let number = report.results.len() + 1;
        report.results.push(match outcome {
            Ok(()) => ScenarioResult::passed(number, name),
            Err((message, exchanges)) => ScenarioResult::failed(number, name, message, exchanges),
        });
    };

    let exchange = poster
        .post_raw(
            url,
            String::new(),
            Some("application/x-www-form-urlencoded"),
        )
        .await;
    record("A1. Empty body: 200, -8", verdict(&exchange, &[200], &[-8]));

    let huge = format!("{probe}&padding={}", "x".repeat(1 << 20));
    let started = Instant::now();
    let exchange = poster
        .post_raw(url, huge, Some("application/x-www-form-urlencoded"))
        .await;
    let outcome = verdict(&exchange, &[200], &[-8]).and_then(|()| {
        (started.elapsed() < Duration::from_secs(5))
            .then_some(())
            .ok_or_else(|| ("a 1 MiB body was not refused promptly".to_owned(), vec![]))
    });
    record("A2. A 1 MiB body: 200, -8, promptly", outcome);

    for (name, content_type) in [
        (
            "A11. No Content-Type: processed (-5 for an unknown order)",
            None,
        ),
        (
            "A11. Content-Type text/plain: processed",
            Some("text/plain"),
        ),
        (
            "A11. Content-Type application/json with a form body: processed",
            Some("application/json"),
        ),
    ] {
        let exchange = poster.post_raw(url, probe.clone(), content_type).await;
        record(name, verdict(&exchange, &[200], &[-5]));
    }

    let json = r#"{"click_trans_id":1,"service_id":101,"action":0}"#.to_owned();
    let exchange = poster.post_raw(url, json, Some("application/json")).await;
    record(
        "A11. A JSON body: 200, -8",
        verdict(&exchange, &[200], &[-8]),
    );

    let outcome = match reqwest::get(url).await {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            let json = serde_json::from_str::<serde_json::Value>(&body).is_ok();
            if (status == 405 || status == 200) && json {
                Ok(())
            } else {
                Err((
                    format!("GET answered {status} with a non-JSON body: {body:.200}"),
                    vec![],
                ))
            }
        }
        Err(error) => Err((format!("GET failed: {error}"), vec![])),
    };
    record("A12. GET: 405 or 200, with a JSON body", outcome);
    report
}

/// docs/protocol.md, bad input 13: a client that sends its request one byte at a time is disconnected
/// within `within`, and meanwhile a normal callback still answers promptly.
///
/// # Errors
///
/// A description of what went wrong.
pub async fn slow_client_is_cut_off(target: &Target, within: Duration) -> Result<(), String> {
    let (url, address) = plain_http(&target.prepare_url)?;
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nX-Slow: ",
        url.path()
    );
    // A valid request head that never ends: one more header byte every 200 ms.
    let drip = async {
        for byte in head.bytes().chain(std::iter::repeat(b'a')) {
            if stream.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let started = Instant::now();
    let legit = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let click = Click::new(target.service_id, target.secret_key.clone());
        let form = click.prepare(3_600_000_000, "click-testkit-slow-probe", "1000");
        let begun = Instant::now();
        let exchange = Poster::new().post(&target.prepare_url, &form).await;
        (exchange.status, begun.elapsed())
    };
    let ((status, latency), cut) = tokio::join!(legit, tokio::time::timeout(within, drip));
    if cut.is_err() {
        return Err(format!(
            "the slow client was still connected after {:?}",
            started.elapsed()
        ));
    }
    if status != Some(200) || latency > Duration::from_secs(2) {
        return Err(format!(
            "a normal callback meanwhile answered {status:?} after {latency:?}"
        ));
    }
    Ok(())
}

/// An `http://` URL and its `host:port`, for the checks that speak plain HTTP on a socket.
fn plain_http(url: &str) -> Result<(reqwest::Url, String), String> {
    let url: reqwest::Url = url.parse().map_err(|e| format!("bad URL: {e}"))?;
    if url.scheme() != "http" {
        return Err("this check speaks plain HTTP; give it an http:// URL".to_owned());
    }
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(host) => host.to_string(),
        None => return Err("the URL has no host".to_owned()),
    };
    let address = format!("{host}:{}", url.port_or_known_default().ok_or("no port")?);
    Ok((url, address))
}

/// A stop with a callback in flight, for an adapter's tests: prepares `order` (payable for
/// `1000` in `orders`, the server's hooks), holds its delivery hook, sends the Complete, calls
/// `stop` once the hook holds it, waits (up to 5 s) until a new connection is refused, calls
/// `while_held`, then lets the hook go. The Complete's answer, whatever it is.
///
/// # Errors
///
/// The Prepare was not answered with a `merchant_prepare_id`, new connections were still
/// accepted 5 s after the stop, or the Complete got no answer.
pub async fn stop_with_a_callback_in_flight(
    target: &Target,
    orders: &TestOrders,
    order: &str,
    stop: impl FnOnce(),
    while_held: impl FnOnce(),
) -> Result<reqwest::Response, String> {
    let (_, address) = plain_http(&target.complete_url)?;
    let click = Click::new(target.service_id, target.secret_key.clone());
    let prepared = Poster::new()
        .post(&target.prepare_url, &click.prepare(1, order, "1000"))
        .await;
    let prepare_id = prepared
        .int("merchant_prepare_id")
        .ok_or_else(|| format!("the Prepare was answered {}", prepared.answer))?;
    let delivering = orders.hold(Hook::Deliver);
    let complete = click.complete(1, order, prepare_id, "1000", 0).encode();
    let url = target.complete_url.clone();
    let in_flight =
        tokio::spawn(async move { reqwest::Client::new().post(url).body(complete).send().await });
    delivering.arrived().await;
    stop();
    let refused = async {
        while tokio::net::TcpStream::connect(&address).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), refused)
        .await
        .map_err(|_| "new connections were still accepted 5 s after the stop".to_owned())?;
    while_held();
    delivering.release();
    in_flight
        .await
        .map_err(|e| format!("the Complete's task failed: {e}"))?
        .map_err(|e| format!("the Complete got no answer: {e}"))
}
