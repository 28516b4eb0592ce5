//! Answers: Click's JSON shapes, HTTP-level errors and business refusals.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A JSON body with a status.
pub(super) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// An HTTP-level error in Click's shape: `{"error_code": -status, "error_note": note}`.
pub(super) fn http_error(status: StatusCode, note: impl Into<String>) -> Response {
    json_response(
        status,
        &json!({"error_code": -i64::from(status.as_u16()), "error_note": note.into()}),
    )
}

/// What a handler answers: a success, or a [`Failure`].
pub(super) type Answer = Result<Response, Failure>;

/// HTTP 200 with `error_code` 0, `error_note` "Success" and the given fields.
pub(super) fn success(fields: Value) -> Answer {
    let mut body = json!({"error_code": 0, "error_note": "Success"});
    if let (Some(body), Value::Object(fields)) = (body.as_object_mut(), fields) {
        body.extend(fields);
    }
    Ok(json_response(StatusCode::OK, &body))
}

/// Why a call did not succeed.
#[derive(Debug)]
pub(super) enum Failure {
    /// HTTP 400: an unparseable body, a missing or malformed field or path segment.
    BadRequest(String),
    /// HTTP 200 with a negative `error_code`.
    Refused(Refusal),
}

impl From<Refusal> for Failure {
    fn from(refusal: Refusal) -> Self {
        Failure::Refused(refusal)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Failure::BadRequest(note) => http_error(StatusCode::BAD_REQUEST, note),
            Failure::Refused(Refusal { code, note }) => json_response(
                StatusCode::OK,
                &json!({"error_code": code, "error_note": note}),
            ),
        }
    }
}

/// A Click business error: a negative `error_code` and its note.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) code: i64,
    pub(super) note: &'static str,
}

/// The request's `service_id` is not the mock's.
pub(super) const SERVICE_NOT_FOUND: Refusal = Refusal {
    code: -5,
    note: "service not found",
};
/// No invoice with this id.
pub(super) const INVOICE_NOT_FOUND: Refusal = Refusal {
    code: -5,
    note: "invoice not found",
};
/// No payment with this id (or this `merchant_trans_id`).
pub(super) const PAYMENT_NOT_FOUND: Refusal = Refusal {
    code: -5,
    note: "payment not found",
};
/// No card token with this value.
pub(super) const TOKEN_NOT_FOUND: Refusal = Refusal {
    code: -5,
    note: "card token not found",
};
/// `card_token/verify` with a wrong `sms_code`.
pub(super) const WRONG_SMS_CODE: Refusal = Refusal {
    code: -3,
    note: "wrong SMS code",
};
/// `card_token/payment` with a token not verified yet.
pub(super) const TOKEN_NOT_VERIFIED: Refusal = Refusal {
    code: -3,
    note: "card token is not verified",
};
/// `click_pass/confirm` more than 30 s after the payment: it is cancelled.
pub(super) const CONFIRM_TOO_LATE: Refusal = Refusal {
    code: -2,
    note: "payment cancelled: not confirmed within 30 seconds",
};
/// `click_pass/confirm` of a payment that awaits no confirmation.
pub(super) const NOT_CONFIRMABLE: Refusal = Refusal {
    code: -6,
    note: "payment does not await confirmation",
};
/// A reversal of a payment that is not paid.
pub(super) const NOT_REVERSIBLE: Refusal = Refusal {
    code: -6,
    note: "only a paid payment can be reversed",
};
/// A reversal of a payment already reversed.
pub(super) const ALREADY_REVERSED: Refusal = Refusal {
    code: -9,
    note: "already reversed",
};
/// A Click Pass QR code that already paid: each code pays once.
pub(super) const OTP_USED: Refusal = Refusal {
    code: -7,
    note: "this QR code was used already",
};
/// A partial reversal of zero or of more than what is left of the payment.
pub(super) const INCORRECT_AMOUNT: Refusal = Refusal {
    code: -2,
    note: "incorrect amount: more than the payment has left, or zero",
};
