//! Sending one callback and recording the exchange.

use std::fmt;
use std::time::Duration;

use click_core::testing::CallbackForm;
use serde::Serialize;

/// One request the emulator sent and what came back.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// The URL posted to.
    pub url: String,
    /// The form body sent, with `sign_string` shortened.
    pub request: String,
    /// The body exactly as sent, to check the answer's echo.
    #[serde(skip)]
    pub(crate) sent: String,
    /// The HTTP status, if an answer came.
    pub status: Option<u16>,
    /// The answer body (or the transport error).
    pub answer: String,
    /// The `error` code of the JSON answer, if it was Click-shaped JSON.
    pub error: Option<i64>,
    /// The answer's JSON, if it parsed.
    #[serde(skip)]
    pub json: Option<serde_json::Value>,
}

impl Exchange {
    /// A field of the JSON answer as an integer.
    pub fn int(&self, field: &str) -> Option<i64> {
        self.json.as_ref()?.get(field)?.as_i64()
    }
}

impl fmt::Display for Exchange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "    POST {}", self.url)?;
        writeln!(f, "    {}", self.request)?;
        match self.status {
            Some(status) => write!(f, "    <- {status} {}", self.answer),
            None => write!(f, "    <- no answer: {}", self.answer),
        }
    }
}

/// An HTTP client that plays Click.
#[derive(Debug, Clone)]
pub struct Poster {
    client: reqwest::Client,
}

impl Poster {
    /// A client with a 10-second timeout, as Click would have.
    ///
    /// # Panics
    ///
    /// If the TLS backend cannot initialise.
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client builds");
        Self { client }
    }

    /// Posts a form to a URL.
    pub async fn post(&self, url: &str, form: &CallbackForm) -> Exchange {
        self.post_raw(
            url,
            form.encode(),
            Some("application/x-www-form-urlencoded"),
        )
        .await
    }

    /// Posts any body with any (or no) `Content-Type`.
    pub async fn post_raw(&self, url: &str, body: String, content_type: Option<&str>) -> Exchange {
        let mut request = self.client.post(url).body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let (status, answer) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.text().await {
                    Ok(text) => (Some(status), text),
                    Err(error) => (Some(status), format!("unreadable body: {error}")),
                }
            }
            Err(error) => (None, error.to_string()),
        };
        let redacted = redact(&body);
        let body_len = body.len();
        let shown = if redacted.len() > 300 {
            format!(
                "{}… ({} bytes)",
                &redacted[..redacted.floor_char_boundary(300)],
                body_len
            )
        } else {
            redacted
        };
        let json: Option<serde_json::Value> = serde_json::from_str(&answer).ok();
        let error = json
            .as_ref()
            .and_then(|json| json.get("error"))
            .and_then(serde_json::Value::as_i64);
        Exchange {
            url: url.to_owned(),
            request: shown,
            sent: body,
            status,
            answer,
            error,
            json,
        }
    }
}

/// The body with `sign_string` cut to its first 6 digits: a full digest beside the fields it
/// covers is an offline brute-force oracle for the secret.
fn redact(body: &str) -> String {
    body.split('&')
        .map(|pair| match pair.split_once('=') {
            Some(("sign_string", sign)) if sign.len() > 6 => {
                format!("sign_string={}…", &sign[..sign.floor_char_boundary(6)])
            }
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl Default for Poster {
    fn default() -> Self {
        Self::new()
    }
}
