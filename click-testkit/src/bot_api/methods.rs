//! The Bot API methods the fake speaks, at `/bot<TOKEN>/<method>`, with JSON, form or query
//! parameters, answering `{"ok": true, "result": …}` or Telegram's error shape.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::{Map, Value, json};

use super::{FakeBotApi, PreCheckoutAnswer, SentInvoice, SentMessage, objects};

pub(super) fn router(api: &FakeBotApi) -> axum::Router {
    axum::Router::new()
        .route("/{bot}/{method}", any(call))
        .with_state(api.clone())
}

/// A method's parameters, however they were sent.
struct Params(Map<String, Value>);

impl Params {
    /// The parameters; `None` for a JSON body that is not an object.
    fn parse(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Option<Self> {
        let mut params = Map::new();
        let form = |text: &[u8], params: &mut Map<String, Value>| {
            for (name, value) in url::form_urlencoded::parse(text) {
                params.insert(name.into_owned(), Value::String(value.into_owned()));
            }
        };
        if let Some(query) = query {
            form(query.as_bytes(), &mut params);
        }
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/json"));
        if json && !body.is_empty() {
            match serde_json::from_slice(body) {
                Ok(Value::Object(object)) => params.extend(object),
                _ => return None,
            }
        } else {
            form(body, &mut params);
        }
        Some(Self(params))
    }

    fn int(&self, name: &str) -> Option<i64> {
        match self.0.get(name)? {
            Value::Number(number) => number.as_i64(),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }

    fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name)?.as_str()
    }

    fn flag(&self, name: &str) -> Option<bool> {
        match self.0.get(name)? {
            Value::Bool(flag) => Some(*flag),
            Value::String(text) => text.parse().ok(),
            _ => None,
        }
    }

    /// An array, sent as JSON or (in a form) as a JSON string.
    fn array(&self, name: &str) -> Option<Vec<Value>> {
        match self.0.get(name)? {
            Value::Array(items) => Some(items.clone()),
            Value::String(text) => serde_json::from_str(text).ok(),
            _ => None,
        }
    }
}

fn ok(result: Value) -> Response {
    axum::Json(json!({ "ok": true, "result": result })).into_response()
}

fn error(code: u16, description: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    let body = json!({ "ok": false, "error_code": code, "description": description });
    (status, axum::Json(body)).into_response()
}

fn missing(name: &str) -> Response {
    error(
        400,
        &format!("Bad Request: parameter \"{name}\" is required"),
    )
}

async fn call(
    State(api): State<FakeBotApi>,
    Path((bot, method)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot.strip_prefix("bot") != Some(api.inner.token.as_str()) {
        return error(401, "Unauthorized");
    }
    let Some(params) = Params::parse(&headers, query.as_deref(), &body) else {
        return error(400, "Bad Request: can't parse JSON object");
    };
    // Method names are case-insensitive (teloxide sends `GetMe`).
    match method.to_ascii_lowercase().as_str() {
        "getme" => ok(objects::me()),
        "getwebhookinfo" => ok(json!({
            "url": "",
            "has_custom_certificate": false,
            "pending_update_count": api.state().pending.len()
        })),
        "deletewebhook" | "setmycommands" | "deletemycommands" | "close" | "logout" => {
            ok(Value::Bool(true))
        }
        "getupdates" => get_updates(&api, &params).await,
        "sendmessage" => send_message(&api, &params),
        "sendinvoice" => send_invoice(&api, &params),
        "answerprecheckoutquery" => answer_pre_checkout_query(&api, &params),
        _ => error(404, "Not Found: method not found"),
    }
}

async fn get_updates(api: &FakeBotApi, params: &Params) -> Response {
    let offset = params.int("offset").unwrap_or(0);
    let limit = usize::try_from(params.int("limit").unwrap_or(100).clamp(1, 100)).unwrap_or(100);
    let wait = Duration::from_secs(
        params
            .int("timeout")
            .unwrap_or(0)
            .clamp(0, 50)
            .unsigned_abs(),
    );
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let changed = api.inner.changed.notified();
        let (confirmed, updates) = {
            let mut state = api.state();
            // An offset confirms every update before it.
            let before = state.pending.len();
            state
                .pending
                .retain(|update| update["update_id"].as_i64() >= Some(offset));
            let updates: Vec<Value> = state.pending.iter().take(limit).cloned().collect();
            (state.pending.len() < before, updates)
        };
        if confirmed {
            // Tell those waiting for the bot to catch up (this loop too: it looks once more).
            api.changed();
        }
        if !updates.is_empty() || tokio::time::timeout_at(deadline, changed).await.is_err() {
            return ok(Value::Array(updates));
        }
    }
}

fn send_message(api: &FakeBotApi, params: &Params) -> Response {
    let Some(chat_id) = params.int("chat_id") else {
        return missing("chat_id");
    };
    let Some(text) = params.text("text").filter(|text| !text.is_empty()) else {
        return error(400, "Bad Request: message text is empty");
    };
    let mut state = api.state();
    let message_id = state.message_id();
    state.messages.push(SentMessage {
        chat_id,
        text: text.to_owned(),
    });
    drop(state);
    api.changed();
    ok(objects::bot_message(
        message_id,
        chat_id,
        "text",
        Value::from(text),
    ))
}

fn send_invoice(api: &FakeBotApi, params: &Params) -> Response {
    let Some(chat_id) = params.int("chat_id") else {
        return missing("chat_id");
    };
    let title = params.text("title").unwrap_or_default();
    if !(1..=32).contains(&title.chars().count()) {
        return error(400, "Bad Request: invoice title must be 1-32 characters");
    }
    let description = params.text("description").unwrap_or_default();
    if !(1..=255).contains(&description.chars().count()) {
        return error(
            400,
            "Bad Request: invoice description must be 1-255 characters",
        );
    }
    let payload = params.text("payload").unwrap_or_default();
    if !(1..=128).contains(&payload.len()) {
        return error(400, "Bad Request: invoice payload must be 1-128 bytes");
    }
    let Some(provider_token) = params.text("provider_token").filter(|t| !t.is_empty()) else {
        return error(400, "Bad Request: PAYMENT_PROVIDER_INVALID");
    };
    let currency = params.text("currency").unwrap_or_default();
    if currency.len() != 3 {
        return error(400, "Bad Request: CURRENCY_INVALID");
    }
    let prices = params.array("prices").unwrap_or_default();
    let amounts: Option<Vec<i64>> = prices
        .iter()
        .map(|price| price["label"].as_str().and(price["amount"].as_i64()))
        .collect();
    let total: i64 = match amounts {
        Some(amounts) if !amounts.is_empty() => amounts.iter().sum(),
        _ => return error(400, "Bad Request: can't parse prices JSON object"),
    };
    if total <= 0 {
        return error(400, "Bad Request: CURRENCY_TOTAL_AMOUNT_INVALID");
    }
    let mut state = api.state();
    let message_id = state.message_id();
    let invoice = SentInvoice {
        message_id,
        chat_id,
        title: title.to_owned(),
        payload: payload.to_owned(),
        currency: currency.to_owned(),
        total_amount: total,
        provider_token: provider_token.to_owned(),
    };
    let content = objects::invoice(&invoice, description);
    state.invoices.push(invoice);
    drop(state);
    api.changed();
    ok(objects::bot_message(
        message_id, chat_id, "invoice", content,
    ))
}

fn answer_pre_checkout_query(api: &FakeBotApi, params: &Params) -> Response {
    let Some(query_id) = params.text("pre_checkout_query_id") else {
        return missing("pre_checkout_query_id");
    };
    let Some(approved) = params.flag("ok") else {
        return missing("ok");
    };
    let error_message = params.text("error_message").map(str::to_owned);
    if !approved && error_message.as_deref().is_none_or(str::is_empty) {
        return error(
            400,
            "Bad Request: error_message is required when ok is false",
        );
    }
    let mut state = api.state();
    let deadline = api.inner.deadline;
    let Some(query) = state.queries.get_mut(query_id) else {
        return error(400, "Bad Request: QUERY_ID_INVALID");
    };
    if query.answered_ok_in_time.is_some() {
        return error(400, "Bad Request: query is already answered");
    }
    let after = query.sent.elapsed();
    let late = after > deadline;
    query.answered_ok_in_time = Some(approved && !late);
    state.answers.push(PreCheckoutAnswer {
        query_id: query_id.to_owned(),
        ok: approved,
        error_message,
        after,
        late,
    });
    drop(state);
    api.changed();
    if late {
        return error(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        );
    }
    ok(Value::Bool(true))
}
