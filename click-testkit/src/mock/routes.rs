//! The Merchant API's calls, one handler each.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::routing::{delete, get, post, put};
use click_core::{Amount, ClickPaydocId, MerchantTransId, Tiyin};
use serde_json::{Value, json};

use super::MockApi;
use super::fields::{Fields, path_date, path_id, path_service};
use super::gate::gate;
use super::ofd::check_item;
use super::records::{OfdReceipt, Payment};
use super::reply::{Answer, Failure, http_error, json_response, success};

/// The phone number the mock answers for card tokens and Click Pass, masked as Click masks it.
const MASKED_PHONE: &str = "99890***1234";
/// The card a Click Pass payment is made with, masked.
const CLICK_PASS_CARD: &str = "860055******3244";

/// Every call, behind [`gate`].
pub(super) fn router(mock: &MockApi) -> Router {
    Router::new()
        .route("/invoice/create", post(create_invoice))
        .route(
            "/invoice/status/{service_id}/{invoice_id}",
            get(invoice_status),
        )
        .route(
            "/payment/status/{service_id}/{payment_id}",
            get(payment_status),
        )
        .route(
            "/payment/status_by_mti/{service_id}/{merchant_trans_id}/{date}",
            get(status_by_mti),
        )
        .route(
            "/payment/reversal/{service_id}/{payment_id}",
            delete(reversal),
        )
        .route(
            "/payment/partial_reversal/{service_id}/{payment_id}/{amount}",
            delete(partial_reversal),
        )
        .route("/card_token/request", post(request_token))
        .route("/card_token/verify", post(verify_token))
        .route("/card_token/payment", post(pay_with_token))
        .route(
            "/card_token/{service_id}/{card_token}",
            delete(delete_token),
        )
        .route("/click_pass/payment", post(click_pass_payment))
        .route("/click_pass/confirm", post(click_pass_confirm))
        .route(
            "/click_pass/confirmation/{service_id}",
            put(confirm_mode_on).delete(confirm_mode_off),
        )
        .route("/payment/ofd_data/submit_items", post(submit_items))
        .route("/payment/ofd_data/submit_qrcode", post(submit_qrcode))
        .route("/payment/ofd_data/{service_id}/{payment_id}", get(ofd_data))
        .fallback(|| async { http_error(StatusCode::NOT_FOUND, "no such call") })
        .method_not_allowed_fallback(|| async {
            http_error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        })
        .layer(from_fn_with_state(mock.clone(), gate))
        .with_state(mock.clone())
}

/// Path segments, percent-decoded; an undecodable one is a 400.
type Segments<T> = Result<Path<T>, PathRejection>;

fn segments<T>(path: Segments<T>) -> Result<T, Failure> {
    path.map(|Path(segments)| segments)
        .map_err(|rejection| Failure::BadRequest(rejection.body_text()))
}

fn bad(note: &str) -> Failure {
    Failure::BadRequest(note.to_owned())
}

/// The payment of a `service_id` and a `payment_id` path segment.
fn payment_in_path(mock: &MockApi, service: &str, payment: &str) -> Result<ClickPaydocId, Failure> {
    let id = path_id(payment, "payment_id")?;
    path_service(service, mock.service_id())?;
    Ok(ClickPaydocId::new(id))
}

/// The `payment_id` field of a body: an integer.
fn payment_field(fields: &Fields) -> Result<ClickPaydocId, Failure> {
    fields
        .get("payment_id", "an integer")
        .map(ClickPaydocId::new)
}

async fn create_invoice(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let amount = fields.amount("amount")?;
    let phone_number: String = fields.get("phone_number", "a string")?;
    let merchant_trans_id = fields.merchant_trans_id("merchant_trans_id")?;
    fields.service(mock.service_id())?;
    let id =
        mock.with_state(|state, _| state.create_invoice(amount, phone_number, merchant_trans_id));
    success(json!({"invoice_id": id}))
}

async fn invoice_status(State(mock): State<MockApi>, path: Segments<(String, String)>) -> Answer {
    let (service, invoice) = segments(path)?;
    let id = path_id(&invoice, "invoice_id")?;
    path_service(&service, mock.service_id())?;
    let status = mock.with_state(|state, _| state.invoice(id).map(|invoice| invoice.status))?;
    success(json!({"invoice_status": status.code(), "invoice_status_note": status.note()}))
}

async fn payment_status(State(mock): State<MockApi>, path: Segments<(String, String)>) -> Answer {
    let (service, payment) = segments(path)?;
    let id = payment_in_path(&mock, &service, &payment)?;
    let status = mock.with_state(|state, _| state.payment(id).map(|payment| payment.status))?;
    success(json!({"payment_id": id, "payment_status": status}))
}

async fn status_by_mti(
    State(mock): State<MockApi>,
    path: Segments<(String, String, String)>,
) -> Answer {
    let (service, merchant_trans_id, date) = segments(path)?;
    let merchant_trans_id = MerchantTransId::new(merchant_trans_id)
        .map_err(|_| bad("merchant_trans_id must be 1 to 255 bytes"))?;
    path_date(&date)?;
    path_service(&service, mock.service_id())?;
    let (id, status) = mock.with_state(|state, _| {
        state
            .payment_by_mti(&merchant_trans_id, &date)
            .map(|payment| (payment.id, payment.status))
    })?;
    success(json!({
        "payment_id": id,
        "merchant_trans_id": merchant_trans_id,
        "payment_status": status,
    }))
}

async fn reversal(State(mock): State<MockApi>, path: Segments<(String, String)>) -> Answer {
    let (service, payment) = segments(path)?;
    let id = payment_in_path(&mock, &service, &payment)?;
    mock.with_state(|state, _| state.reverse(id, None))?;
    success(json!({"payment_id": id}))
}

async fn partial_reversal(
    State(mock): State<MockApi>,
    path: Segments<(String, String, String)>,
) -> Answer {
    let (service, payment, amount) = segments(path)?;
    let amount: Amount = amount
        .parse()
        .map_err(|_| bad("the amount must be so'm with at most 2 decimals"))?;
    let id = payment_in_path(&mock, &service, &payment)?;
    mock.with_state(|state, _| state.reverse(id, Some(amount)))?;
    success(json!({"payment_id": id}))
}

async fn request_token(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let card_number: String = fields.get("card_number", "a string")?;
    if card_number.len() != 16 || !card_number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("card_number must be 16 digits"));
    }
    let expire_date: String = fields.get("expire_date", "a string")?;
    let month = expire_date
        .get(..2)
        .and_then(|month| month.parse::<u8>().ok());
    if expire_date.len() != 4
        || !expire_date.bytes().all(|b| b.is_ascii_digit())
        || !matches!(month, Some(1..=12))
    {
        return Err(bad("expire_date must be MMYY"));
    }
    let temporary: i64 = fields.get("temporary", "0 or 1")?;
    if !matches!(temporary, 0 | 1) {
        return Err(bad("temporary must be 0 or 1"));
    }
    fields.service(mock.service_id())?;
    let sms_code = mock.inner.config.sms_code.clone();
    let token =
        mock.with_state(|state, _| state.request_token(&card_number, temporary == 1, sms_code));
    success(json!({"card_token": token, "phone_number": MASKED_PHONE, "temporary": temporary}))
}

async fn verify_token(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let token: String = fields.get("card_token", "a string")?;
    let sms_code: serde_json::Value = fields.get("sms_code", "digits")?;
    let sms_code = match sms_code {
        serde_json::Value::Number(number) => number.to_string(),
        serde_json::Value::String(digits) => digits,
        _ => return Err(bad("sms_code must be a number or its digits")),
    };
    fields.service(mock.service_id())?;
    let card_number = mock.with_state(|state, _| state.verify_token(&token, &sms_code))?;
    success(json!({"card_number": card_number}))
}

async fn pay_with_token(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let token: String = fields.get("card_token", "a string")?;
    let amount = fields.amount("amount")?;
    let merchant_trans_id = fields.merchant_trans_id("transaction_parameter")?;
    fields.service(mock.service_id())?;
    let id =
        mock.with_state(|state, now| state.pay_with_token(now, &token, amount, merchant_trans_id))?;
    // Click's sample answers this call's payment_id as a string.
    success(json!({"payment_id": id.to_string(), "payment_status": Payment::PAID}))
}

async fn delete_token(State(mock): State<MockApi>, path: Segments<(String, String)>) -> Answer {
    let (service, token) = segments(path)?;
    path_service(&service, mock.service_id())?;
    mock.with_state(|state, _| state.delete_token(&token))?;
    success(json!({}))
}

async fn click_pass_payment(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let otp_data: String = fields.get("otp_data", "a string")?;
    if otp_data.is_empty() {
        return Err(bad("otp_data must not be empty"));
    }
    let amount = fields.amount("amount")?;
    fields.optional::<String>("cashbox_code", "a string")?;
    let merchant_trans_id = fields
        .optional::<String>("transaction_id", "a string")?
        .map(|id| {
            MerchantTransId::new(id).map_err(|_| bad("transaction_id must be 1 to 255 bytes"))
        })
        .transpose()?;
    fields.service(mock.service_id())?;
    let (id, status, confirm_mode) = mock.with_state(|state, now| {
        let payment = state.pay_with_click_pass(now, &otp_data, amount, merchant_trans_id)?;
        Ok::<_, super::reply::Refusal>((payment.id, payment.status, payment.needs_confirm))
    })?;
    success(json!({
        "payment_id": id,
        "payment_status": status,
        "confirm_mode": u8::from(confirm_mode),
        "card_type": "private",
        "processing_type": "UZCARD",
        "card_number": CLICK_PASS_CARD,
        "phone_number": MASKED_PHONE,
    }))
}

async fn click_pass_confirm(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let id = payment_field(&fields)?;
    fields.service(mock.service_id())?;
    mock.with_state(|state, _| state.confirm(id))?;
    success(json!({}))
}

async fn confirm_mode_on(State(mock): State<MockApi>, path: Segments<String>) -> Answer {
    set_confirm_mode(&mock, path, true)
}

async fn confirm_mode_off(State(mock): State<MockApi>, path: Segments<String>) -> Answer {
    set_confirm_mode(&mock, path, false)
}

/// `PUT`/`DELETE click_pass/confirmation/{service_id}`: no body is needed (any is ignored).
fn set_confirm_mode(mock: &MockApi, path: Segments<String>, on: bool) -> Answer {
    path_service(&segments(path)?, mock.service_id())?;
    mock.with_state(|state, _| state.confirm_mode = on);
    success(json!({}))
}

async fn submit_items(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let id = payment_field(&fields)?;
    let items: Vec<Value> = fields.get("items", "an array")?;
    if items.is_empty() {
        return Err(bad("items must hold at least one item"));
    }
    items
        .iter()
        .try_for_each(check_item)
        .map_err(Failure::BadRequest)?;
    let tiyin = |name: &str| fields.get(name, "an integer of tiyin").map(Tiyin);
    let receipt = OfdReceipt {
        items,
        received_ecash: tiyin("received_ecash")?,
        received_cash: tiyin("received_cash")?,
        received_card: tiyin("received_card")?,
    };
    fields.service(mock.service_id())?;
    mock.with_state(|state, _| {
        state.ofd_mut(id).map(|ofd| {
            ofd.receipt = Some(receipt);
            ofd.submissions += 1;
            ofd.first_submitted_ms.get_or_insert_with(|| {
                click_core::outbox::unix_millis(std::time::SystemTime::now())
            });
            ofd.qrcode
                .get_or_insert_with(|| format!("https://ofd.soliq.uz/check?t=mock&r={id}"));
        })
    })?;
    success(json!({}))
}

async fn submit_qrcode(State(mock): State<MockApi>, body: Bytes) -> Answer {
    let fields = Fields::parse(&body)?;
    let id = payment_field(&fields)?;
    let qrcode: String = fields.get("qrcode", "a string")?;
    if qrcode.is_empty() {
        return Err(bad("qrcode must not be empty"));
    }
    fields.service(mock.service_id())?;
    mock.with_state(|state, _| state.ofd_mut(id).map(|ofd| ofd.qrcode = Some(qrcode)))?;
    success(json!({}))
}

/// Answers camelCase `paymentId` and `qrCodeURL` (`null` before a QR link was submitted) and no
/// `error_code`, as Click does; an unknown payment is Click's -5.
async fn ofd_data(State(mock): State<MockApi>, path: Segments<(String, String)>) -> Answer {
    let (service, payment) = segments(path)?;
    let id = payment_in_path(&mock, &service, &payment)?;
    let qrcode = mock.with_state(|state, _| {
        state
            .payment(id)
            .map(|_| state.ofd(id).and_then(|ofd| ofd.qrcode.clone()))
    })?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"paymentId": id, "qrCodeURL": qrcode}),
    ))
}
