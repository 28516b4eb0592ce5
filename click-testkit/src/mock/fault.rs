//! Fault injection: answers that a client of the Merchant API must survive.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::reply::http_error;

/// A fault to answer with, set by [`MockApi::inject`](super::MockApi::inject) or
/// [`MockApi::inject_on`](super::MockApi::inject_on).
///
/// Every faulted request is still recorded. Only [`Fault::Hang`] and [`Fault::Drop`] let the
/// request take effect (before the answer is delayed or lost); every other fault answers without
/// touching the mock's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer this HTTP status with Click's JSON error shape
    /// (`{"error_code": -status, "error_note": …}`); an invalid status code answers 500.
    Status(u16),
    /// Handle the request normally (its effect applies), then sleep this long before answering:
    /// a client timeout after the request took effect.
    Hang(Duration),
    /// Handle the request normally (its effect applies), then close the connection without
    /// answering: the client sees the connection reset after Click acted. Only on a mock served
    /// by [`MockApi::start`](super::MockApi::start); under another server (its
    /// [`router`](super::MockApi::router) mounted elsewhere) the request is answered 502 instead.
    Drop,
    /// HTTP 200 with a truncated JSON body: `{"error_code": 0, "invoice_id": `.
    Garbled,
    /// HTTP 200 with an HTML page, as a proxy in front of Click would answer.
    Html,
    /// HTTP 200 with an empty body.
    Empty,
    /// HTTP 200 with a body of this many bytes, streamed in chunks (no `Content-Length`).
    Huge(usize),
    /// HTTP 200 with a JSON answer sent one byte every 200 ms.
    Drip,
    /// HTTP 200 with Click's business refusal: `error_code` this (negative) code.
    Refuse(i64),
}

/// What a fault does to a request.
pub(super) enum Effect {
    /// Handle the request, then wait this long before answering.
    Delay(Duration),
    /// Handle the request, then close the connection without answering.
    HangUp,
    /// Answer this instead of handling the request.
    Replace(Response),
}

impl Fault {
    /// The fault's effect on the request it applies to.
    pub(super) fn effect(self) -> Effect {
        Effect::Replace(match self {
            Fault::Hang(delay) => return Effect::Delay(delay),
            Fault::Drop => return Effect::HangUp,
            Fault::Status(status) => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                http_error(status, "injected fault")
            }
            Fault::Garbled => with_type("application/json", Body::from(GARBLED)),
            Fault::Html => with_type("text/html; charset=utf-8", Body::from(HTML)),
            Fault::Empty => with_type("application/json", Body::empty()),
            Fault::Huge(size) => with_type("application/json", huge(size)),
            Fault::Drip => with_type("application/json", drip()),
            Fault::Refuse(code) => super::reply::json_response(
                StatusCode::OK,
                &serde_json::json!({"error_code": code, "error_note": "injected refusal"}),
            ),
        })
    }
}

const GARBLED: &str = r#"{"error_code": 0, "invoice_id": "#;

const HTML: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
    <body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>\n";

/// The answer [`Fault::Drip`] sends, byte by byte.
const DRIPPED: &[u8] = br#"{"error_code":0,"error_note":"Success"}"#;

/// The pause between two dripped bytes.
const DRIP_INTERVAL: Duration = Duration::from_millis(200);

/// The chunk size of [`Fault::Huge`].
const CHUNK: usize = 64 * 1024;

fn with_type(content_type: &'static str, body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// `size` bytes: the start of a JSON answer, then filler that never closes it.
fn huge(size: usize) -> Body {
    let chunks = futures_util::stream::unfold(0usize, move |sent| async move {
        let left = size.saturating_sub(sent);
        (left > 0).then(|| {
            let len = left.min(CHUNK);
            let mut chunk = vec![b'x'; len];
            if sent == 0 {
                let start = br#"{"error_code":0,"error_note":""#;
                let n = start.len().min(len);
                chunk[..n].copy_from_slice(&start[..n]);
            }
            (
                Ok::<_, std::convert::Infallible>(Bytes::from(chunk)),
                sent + len,
            )
        })
    });
    Body::from_stream(chunks)
}

/// [`DRIPPED`], one byte per [`DRIP_INTERVAL`].
fn drip() -> Body {
    let bytes = futures_util::stream::unfold(0usize, |sent| async move {
        let byte = *DRIPPED.get(sent)?;
        if sent > 0 {
            tokio::time::sleep(DRIP_INTERVAL).await;
        }
        Some((
            Ok::<_, std::convert::Infallible>(Bytes::copy_from_slice(&[byte])),
            sent + 1,
        ))
    });
    Body::from_stream(bytes)
}

/// The faults waiting for requests, in the order they were injected.
#[derive(Debug, Default)]
pub(super) struct Injections(Vec<Injection>);

#[derive(Debug)]
struct Injection {
    prefix: String,
    fault: Fault,
    remaining: usize,
}

impl Injections {
    /// Applies `fault` to the next `times` requests whose path starts with `prefix`.
    pub(super) fn add(&mut self, prefix: &str, fault: Fault, times: usize) {
        if times > 0 {
            self.0.push(Injection {
                prefix: prefix.trim_start_matches('/').to_owned(),
                fault,
                remaining: times,
            });
        }
    }

    /// The fault for a request to `path` (relative to the base URL), consuming one use of it.
    pub(super) fn take(&mut self, path: &str) -> Option<Fault> {
        let index = self.0.iter().position(|i| path.starts_with(&i.prefix))?;
        let injection = &mut self.0[index];
        injection.remaining -= 1;
        let fault = injection.fault;
        if injection.remaining == 0 {
            self.0.remove(index);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injections_apply_in_order_and_run_out() {
        let mut injections = Injections::default();
        injections.add("/invoice/", Fault::Empty, 1);
        injections.add("", Fault::Html, 2);
        injections.add("payment/", Fault::Garbled, 0);
        assert_eq!(injections.take("payment/status/1/2"), Some(Fault::Html));
        assert_eq!(injections.take("invoice/create"), Some(Fault::Empty));
        assert_eq!(injections.take("invoice/create"), Some(Fault::Html));
        assert_eq!(injections.take("invoice/create"), None);
    }
}
