//! The `/fake/…` routes: the customer's and Telegram's side of [`FakeBotApi`], for a test written
//! in any language.
//!
//! | route | body | answer |
//! |---|---|---|
//! | `POST /fake/message` | `{"user": 7, "text": "/buy o-1"}` | `{"update_id": 1}` |
//! | `POST /fake/press_pay` | `{"user": 7}` | `{"query_id": "pcq-2"}` |
//! | `POST /fake/complete_payment` | `{"query_id": "pcq-2"}` | the charge: `update_id`, `telegram_payment_charge_id`, `provider_payment_charge_id` |
//! | `POST /fake/deliver_again` | `{"update_id": 3}` | `{"update_id": 4}` |
//! | `GET /fake/state` | | `invoices`, `answers`, `messages`, `charges`, `drained` |
//!
//! A refused action answers 409 with `{"error": "…"}`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::{FakeBotApi, FakeError};

pub(super) fn router(api: &FakeBotApi) -> Router {
    Router::new()
        .route("/fake/message", post(message))
        .route("/fake/press_pay", post(press_pay))
        .route("/fake/complete_payment", post(complete_payment))
        .route("/fake/deliver_again", post(deliver_again))
        .route("/fake/state", get(state))
        .with_state(api.clone())
}

#[derive(Deserialize)]
struct Message {
    user: i64,
    text: String,
}

#[derive(Deserialize)]
struct User {
    user: i64,
}

#[derive(Deserialize)]
struct QueryId {
    query_id: String,
}

#[derive(Deserialize)]
struct UpdateId {
    update_id: i64,
}

fn refused(error: &FakeError) -> Response {
    let body = json!({ "error": error.to_string() });
    (StatusCode::CONFLICT, Json(body)).into_response()
}

async fn message(State(api): State<FakeBotApi>, Json(body): Json<Message>) -> Response {
    Json(json!({ "update_id": api.message(body.user, &body.text) })).into_response()
}

async fn press_pay(State(api): State<FakeBotApi>, Json(body): Json<User>) -> Response {
    match api.press_pay(body.user) {
        Ok(query_id) => Json(json!({ "query_id": query_id })).into_response(),
        Err(error) => refused(&error),
    }
}

async fn complete_payment(State(api): State<FakeBotApi>, Json(body): Json<QueryId>) -> Response {
    match api.complete_payment(&body.query_id) {
        Ok(charge) => Json(charge).into_response(),
        Err(error) => refused(&error),
    }
}

async fn deliver_again(State(api): State<FakeBotApi>, Json(body): Json<UpdateId>) -> Response {
    match api.deliver_again(body.update_id) {
        Ok(update_id) => Json(json!({ "update_id": update_id })).into_response(),
        Err(error) => refused(&error),
    }
}

async fn state(State(api): State<FakeBotApi>) -> Response {
    Json(json!({
        "invoices": api.invoices(),
        "answers": api.answers(),
        "messages": api.messages(),
        "charges": api.charges(),
        "drained": api.drained(),
    }))
    .into_response()
}
