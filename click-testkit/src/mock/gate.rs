//! What every request goes through before its route: recording, fault injection, `Auth` and
//! `Accept`.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::auth::verify_auth;
use super::fault::Effect;
use super::reply::http_error;
use super::serve::Hangup;
use super::{MockApi, lock};

/// The largest request body the mock reads; a larger one is answered 400.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One request the mock received, whatever it was answered.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The HTTP method.
    pub method: Method,
    /// The path relative to the base URL, as sent (still percent-encoded), without the leading
    /// `/` or a query: `invoice/create`, `payment/status_by_mti/101/a%2Fb/2024-01-31`.
    pub path: String,
    /// The `Auth` header, if any.
    pub auth: Option<String>,
    /// Every header, to check `Accept` and `Content-Type`.
    pub headers: HeaderMap,
    /// The body (lossily decoded as UTF-8; empty if it could not be read).
    pub body: String,
}

/// Records the request, applies an injected fault, then checks `Auth` (401) and `Accept` (406)
/// before the route runs.
pub(super) async fn gate(State(mock): State<MockApi>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_BODY_BYTES).await;
    let path = parts.uri.path();
    let path = path.strip_prefix('/').unwrap_or(path).to_owned();
    lock(&mock.inner.requests).push(RecordedRequest {
        method: parts.method.clone(),
        path: path.clone(),
        auth: parts
            .headers
            .get("auth")
            .map(|auth| String::from_utf8_lossy(auth.as_bytes()).into_owned()),
        headers: parts.headers.clone(),
        body: body
            .as_ref()
            .map(|body| String::from_utf8_lossy(body).into_owned())
            .unwrap_or_default(),
    });
    let fault = lock(&mock.inner.faults).take(&path);
    let effect = fault.map(|fault| fault.effect());
    if let Some(Effect::Replace(response)) = effect {
        return response;
    }
    let hangup = parts.extensions.get::<Hangup>().cloned();
    let response = match (body, admit(&mock, &parts.headers)) {
        (Err(_), _) => http_error(
            StatusCode::BAD_REQUEST,
            "the body is unreadable or larger than 1 MiB",
        ),
        (_, Err((status, note))) => http_error(status, note),
        (Ok(body), Ok(())) => next.run(Request::from_parts(parts, Body::from(body))).await,
    };
    match effect {
        Some(Effect::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Effect::HangUp) => match hangup {
            Some(hangup) => {
                hangup.hang_up();
                // The connection's task drops this request with the connection.
                return std::future::pending().await;
            }
            None => {
                return http_error(
                    StatusCode::BAD_GATEWAY,
                    "injected fault: connection dropped",
                );
            }
        },
        Some(Effect::Replace(_)) | None => {}
    }
    response
}

/// Checks `Auth` (else 401), then `Accept` (else 406); the error is the status and its note.
fn admit(mock: &MockApi, headers: &HeaderMap) -> Result<(), (StatusCode, String)> {
    verify_auth(headers.get("auth"), &mock.inner.config, mock.now())
        .map_err(|note| (StatusCode::UNAUTHORIZED, note))?;
    if accepts_json(headers) {
        Ok(())
    } else {
        Err((
            StatusCode::NOT_ACCEPTABLE,
            "the Accept header must list application/json".to_owned(),
        ))
    }
}

/// Whether an `Accept` header lists `application/json` itself (`*/*` is not enough: Click's
/// documentation requires the header).
fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|media| media.split(';').next())
        .any(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn accept_must_list_json() {
        let accepts = |values: &[&'static str]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(header::ACCEPT, HeaderValue::from_static(value));
            }
            accepts_json(&headers)
        };
        assert!(accepts(&["application/json"]));
        assert!(accepts(&["text/html, Application/JSON; q=0.9"]));
        assert!(accepts(&["text/html", "application/json"]));
        assert!(!accepts(&[]));
        assert!(!accepts(&["*/*"]));
        assert!(!accepts(&["application/xml"]));
    }
}
