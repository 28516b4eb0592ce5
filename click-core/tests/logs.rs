//! docs/protocol.md, bad inputs 90 and 91: the logs of a run hold no secret and no `sign_string`,
//! as text and as JSON (what an operator ships).
//!
//! A test binary of its own: it installs a global subscriber, and tracing's callsite cache is
//! process-wide, so sharing a process with other tests would make the capture racy.

use std::io::Write;
use std::sync::{Arc, Mutex};

use click_core::testing::{CallbackForm, Harness};
use click_core::{Endpoint, MemoryStore, Order};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Bad inputs 90 and 91: every log line of a run through success, retries, failures and reversals, at
/// TRACE level, as text and as JSON, holds neither the secret nor any `sign_string` sent.
#[tokio::test]
async fn g90_g91_logs_never_hold_the_secret_or_a_signature() {
    use tracing_subscriber::layer::SubscriberExt;

    let (capture, json_capture) = (Capture::default(), Capture::default());
    let (writer, json_writer) = (capture.clone(), json_capture.clone());
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::TRACE)
        .with(
            tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(move || writer.clone()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_writer(move || json_writer.clone()),
        );
    tracing::subscriber::set_global_default(subscriber)
        .expect("the only subscriber of this binary");

    let h = Harness::new(|hooks| async move { MemoryStore::new(hooks) }, 1).await;
    h.orders.insert(
        "o-1",
        Order::Payable {
            amount: "1000".parse().expect("amount"),
        },
    );
    let mut sent: Vec<CallbackForm> = Vec::new();
    let prepare = h.click.prepare(1, "o-1", "1000");
    sent.push(prepare.clone());
    let answer = h.send(Endpoint::Prepare, &prepare).await;
    let prepare_id = answer.merchant_prepare_id().expect("prepared").get();
    let prepare_2 = h.click.prepare(2, "o-1", "1000");
    sent.push(prepare_2.clone());
    h.send(Endpoint::Prepare, &prepare_2).await;
    for form in [
        h.click.complete(1, "o-1", prepare_id, "1000", 0),
        h.click.complete(1, "o-1", prepare_id, "1000", 0),
        h.click.complete(2, "o-1", prepare_id + 1, "1000", 0),
        h.click
            .complete(1, "o-1\r\nINFO forged", prepare_id, "1000", 0),
        h.click
            .prepare(3, "o-1", "1000")
            .set("sign_string", "f".repeat(32)),
        h.click.prepare(4, "o-1", "1000").append("amount", "1"),
    ] {
        h.send(Endpoint::Any, &form).await;
        sent.push(form);
    }
    h.orders.fail_find(true);
    let failing = h.click.prepare(5, "o-1", "1000");
    h.send(Endpoint::Prepare, &failing).await;
    sent.push(failing);

    let json = String::from_utf8(json_capture.0.lock().expect("logs").clone()).expect("UTF-8");
    check_json(&json, &sent);
    let logs = String::from_utf8(capture.0.lock().expect("logs").clone()).expect("UTF-8 logs");
    assert!(logs.contains("click_callback"), "spans are logged:\n{logs}");
    assert!(
        logs.contains("reverse it"),
        "the reversal is logged:\n{logs}"
    );
    assert!(
        logs.contains("order hook failed"),
        "the store failure is logged:\n{logs}"
    );
    assert!(
        !logs.contains(Harness::SECRET),
        "the secret leaked:\n{logs}"
    );
    for form in &sent {
        let sign = form.get("sign_string").expect("signed");
        assert!(!logs.contains(sign), "a sign_string leaked:\n{logs}");
    }
    assert!(
        logs.lines().all(|line| !line.starts_with("INFO forged")),
        "a hostile merchant_trans_id split a log line:\n{logs}"
    );
}

/// The JSON lines: each one an object, none holding a secret or a signature, and one line per
/// callback carrying the span's fields.
fn check_json(json: &str, sent: &[CallbackForm]) {
    assert!(
        !json.contains(Harness::SECRET),
        "the secret leaked:\n{json}"
    );
    for form in sent {
        let sign = form.get("sign_string").expect("signed");
        assert!(!json.contains(sign), "a sign_string leaked:\n{json}");
    }
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let answered: Vec<_> = lines
        .iter()
        .filter(|line| line["fields"]["message"] == "answered Click")
        .collect();
    assert_eq!(answered.len(), sent.len(), "one line per callback:\n{json}");
    let first = &answered[0]["span"];
    assert_eq!(first["name"], "click_callback", "{first}");
    assert_eq!(first["click_trans_id"], 1, "{first}");
    assert_eq!(first["merchant_trans_id"], "\"o-1\"", "{first}");
    assert!(
        answered.iter().any(|line| line["fields"]["error"] == -1),
        "the forged signature's answer is logged:\n{json}"
    );
}
