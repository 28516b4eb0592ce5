//! The mock Merchant API over real HTTP: every call, the `Auth`, `Accept` and body checks, each
//! fault, the mock clock, and invoices paid through a merchant's SHOP-API callbacks.
//!
//! The `Auth` header is computed here, independently of the mock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use click_core::{
    Amount, ClickPaydocId, Endpoint, InvoiceId, Keyring, MemoryOrders, MemoryStore, MerchantUserId,
    Order, SecretKey, ServiceId, Shop,
};
use click_testkit::mock::{Fault, InvoiceStatus, MockApi, MockConfig, PayInvoiceError, Payment};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

const SERVICE: i64 = 101;
const USER: i64 = 202;
const SECRET: &str = "mock-test-secret";
/// The mock's first invoice id: while it is unknown, no invoice was created.
const FIRST_INVOICE: i64 = 4_300_000_001;

fn real_now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    i64::try_from(secs).expect("within i64")
}

/// `merchant_user_id:sha1_hex(timestamp + secret):timestamp`.
fn auth(user: i64, secret: &str, timestamp: i64) -> String {
    let digest = hex::encode(Sha1::digest(format!("{timestamp}{secret}")));
    format!("{user}:{digest}:{timestamp}")
}

fn amount(text: &str) -> Amount {
    text.parse().expect("a valid amount")
}

/// A mock served on a free port, and a client that signs its requests.
struct Api {
    mock: MockApi,
    base: String,
    http: reqwest::Client,
}

async fn api() -> Api {
    let mock = MockApi::new(MockConfig::new(
        ServiceId::new(SERVICE),
        MerchantUserId::new(USER),
        SecretKey::new(SECRET),
    ));
    let base = mock.start().await.expect("binds a port");
    Api {
        mock,
        base,
        http: reqwest::Client::new(),
    }
}

/// The status and the JSON body (`Null` if the body is not JSON).
async fn send(request: RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

impl Api {
    /// A request without `Auth` or `Accept`.
    fn bare(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// A request as a correct client sends it, signed with the real clock.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.bare(method, path)
            .header("Accept", "application/json")
            .header("Auth", auth(USER, SECRET, real_now()))
    }

    /// Sends a raw JSON body; returns the status and the JSON answer.
    async fn raw(&self, method: Method, path: &str, body: &str) -> (u16, Value) {
        send(
            self.request(method, path)
                .header("Content-Type", "application/json")
                .body(body.to_owned()),
        )
        .await
    }

    /// A call expected to answer HTTP 200 with JSON.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = match body {
            Some(body) => self.raw(method, path, &body.to_string()).await,
            None => send(self.request(method, path)).await,
        };
        assert_eq!(status, 200, "{path}: {answer}");
        answer
    }

    async fn get(&self, path: &str) -> Value {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn delete(&self, path: &str) -> Value {
        self.call(Method::DELETE, path, None).await
    }

    async fn create_invoice(&self, amount: Value, merchant_trans_id: &str) -> InvoiceId {
        let answer = self
            .post(
                "invoice/create",
                json!({"service_id": SERVICE, "amount": amount, "phone_number": "998901234567",
                       "merchant_trans_id": merchant_trans_id}),
            )
            .await;
        assert_eq!(answer["error_code"], 0, "{answer}");
        InvoiceId::new(answer["invoice_id"].as_i64().expect("an invoice_id"))
    }

    /// An invoice created and paid; returns the payment id.
    async fn paid_payment(&self, amount: Value, merchant_trans_id: &str) -> ClickPaydocId {
        let invoice = self.create_invoice(amount, merchant_trans_id).await;
        self.mock.pay_invoice(invoice).expect("a waiting invoice")
    }

    async fn payment_status(&self, id: impl std::fmt::Display) -> Value {
        self.get(&format!("payment/status/{SERVICE}/{id}")).await["payment_status"].clone()
    }

    /// A verified card token.
    async fn verified_token(&self, temporary: u8) -> String {
        let token = self.request_token(temporary).await;
        let code: i64 = self
            .mock
            .sms_code(&token)
            .expect("a code")
            .parse()
            .expect("digits");
        let answer = self
            .post(
                "card_token/verify",
                json!({"service_id": SERVICE, "card_token": token, "sms_code": code}),
            )
            .await;
        assert_eq!(answer["error_code"], 0, "{answer}");
        token
    }

    async fn request_token(&self, temporary: u8) -> String {
        let answer = self
            .post(
                "card_token/request",
                json!({"service_id": SERVICE, "card_number": "8600551234563244",
                       "expire_date": "0330", "temporary": temporary}),
            )
            .await;
        assert_eq!(answer["error_code"], 0, "{answer}");
        answer["card_token"]
            .as_str()
            .expect("a card_token")
            .to_owned()
    }

    /// A Click Pass payment, each with a QR code of its own (a code pays once).
    async fn click_pass(&self) -> Value {
        static CODES: std::sync::atomic::AtomicU64 =
            std::sync::atomic::AtomicU64::new(1_234_567_415_821);
        let otp = CODES
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            .to_string();
        self.post(
            "click_pass/payment",
            json!({"service_id": SERVICE, "otp_data": otp, "amount": 500,
                   "cashbox_code": "KASSA-1", "transaction_id": "cp-1"}),
        )
        .await
    }

    async fn confirm(&self, payment_id: &Value) -> Value {
        self.post(
            "click_pass/confirm",
            json!({"service_id": SERVICE, "payment_id": payment_id}),
        )
        .await
    }

    async fn confirm_mode(&self, method: Method) -> Value {
        self.call(method, &format!("click_pass/confirmation/{SERVICE}"), None)
            .await
    }
}

/// Percent-encodes one path segment (everything but unreserved characters).
fn segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn invoices_are_created_paid_and_deleted() {
    let api = api().await;
    let invoice = api.create_invoice(json!(1500.5), "order-1").await;
    assert!(
        invoice.get() > 4_294_967_295,
        "ids exceed 32 bits: {invoice}"
    );
    let stored = api.mock.invoice(invoice).expect("stored");
    assert_eq!(
        (
            stored.amount,
            stored.status,
            stored.merchant_trans_id.as_str()
        ),
        (amount("1500.50"), InvoiceStatus::Waiting, "order-1")
    );
    let path = format!("invoice/status/{SERVICE}/{invoice}");
    let answer = api.get(&path).await;
    assert_eq!(
        (&answer["error_code"], &answer["invoice_status"]),
        (&json!(0), &json!(0))
    );
    assert!(answer["invoice_status_note"].is_string(), "{answer}");

    let payment = api.mock.pay_invoice(invoice).expect("payable");
    assert_eq!(api.get(&path).await["invoice_status"], 1);
    assert!(matches!(
        api.mock.pay_invoice(invoice),
        Err(PayInvoiceError::NotWaiting(_))
    ));
    let answer = api
        .get(&format!("payment/status/{SERVICE}/{payment}"))
        .await;
    assert_eq!(
        answer,
        json!({"error_code": 0, "error_note": "Success",
                              "payment_id": payment.get(), "payment_status": 2})
    );
    let stored = api.mock.payment(payment).expect("stored");
    assert_eq!(
        (stored.amount, stored.merchant_trans_id.map(String::from)),
        (amount("1500.5"), Some("order-1".to_owned()))
    );

    let deleted = api.create_invoice(json!(10), "order-2").await;
    assert!(api.mock.delete_invoice(deleted));
    let answer = api
        .get(&format!("invoice/status/{SERVICE}/{deleted}"))
        .await;
    assert_eq!(answer["invoice_status"], -99);
    assert!(matches!(
        api.mock.pay_invoice(deleted),
        Err(PayInvoiceError::NotWaiting(_))
    ));

    assert_eq!(
        api.get(&format!("invoice/status/{SERVICE}/1")).await["error_code"],
        -5
    );
    assert_eq!(
        api.get(&format!("invoice/status/999/{invoice}")).await["error_code"],
        -5
    );
    assert!(matches!(
        api.mock.pay_invoice(InvoiceId::new(1)),
        Err(PayInvoiceError::UnknownInvoice(1))
    ));
}

/// Amounts are parsed from the number's text, never through `f64`.
#[tokio::test]
async fn amounts_are_read_exactly() {
    let api = api().await;
    let body = |amount: &str| {
        format!(
            r#"{{"service_id": {SERVICE}, "amount": {amount}, "phone_number": "998901234567",
                 "merchant_trans_id": "order"}}"#
        )
    };
    let (status, answer) = api
        .raw(Method::POST, "invoice/create", &body("999999999999999.99"))
        .await;
    assert_eq!(status, 200, "{answer}");
    let invoice = InvoiceId::new(answer["invoice_id"].as_i64().expect("an id"));
    assert_eq!(
        api.mock.invoice(invoice).map(|i| i.amount),
        Some(Amount::MAX)
    );
    for bad in ["1000.001", "\"1000\"", "1e3", "-5", "null"] {
        let (status, answer) = api.raw(Method::POST, "invoice/create", &body(bad)).await;
        assert_eq!(
            (status, &answer["error_code"]),
            (400, &json!(-400)),
            "{bad}: {answer}"
        );
    }
}

/// Today in Tashkent (UTC+5), the day the mock files a payment made now under.
fn today() -> String {
    let offset = time::UtcOffset::from_hms(5, 0, 0).expect("an offset");
    let date = time::OffsetDateTime::now_utc().to_offset(offset).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// docs/protocol.md, bad input 87: a `merchant_trans_id` with `/`, `?`, `#`, dots or Cyrillic is one
/// percent-encoded segment; the mock records it as sent and decodes it.
#[tokio::test]
async fn status_by_mti_decodes_one_segment() {
    let api = api().await;
    for mti in ["../invoice/create", "a/b?c#d", "логин 7", "plain"] {
        let payment = api.paid_payment(json!(1000), mti).await;
        let path = format!(
            "payment/status_by_mti/{SERVICE}/{}/{}",
            segment(mti),
            today()
        );
        let answer = api.get(&path).await;
        assert_eq!(
            answer,
            json!({"error_code": 0, "error_note": "Success", "payment_id": payment.get(),
                   "merchant_trans_id": mti, "payment_status": 2}),
            "{mti}"
        );
        let recorded = api.mock.requests().pop().expect("recorded");
        assert_eq!(recorded.path, path);
    }
    let newer = api.paid_payment(json!(5), "plain").await;
    let answer = api
        .get(&format!(
            "payment/status_by_mti/{SERVICE}/plain/{}",
            today()
        ))
        .await;
    assert_eq!(answer["payment_id"], newer.get(), "the newest payment");
    let answer = api
        .get(&format!("payment/status_by_mti/{SERVICE}/plain/2024-01-31"))
        .await;
    assert_eq!(answer["error_code"], -5, "another day has none: {answer}");
    let answer = api
        .get(&format!(
            "payment/status_by_mti/{SERVICE}/unknown/2024-01-31"
        ))
        .await;
    assert_eq!(answer["error_code"], -5);
    let (status, _) = send(api.request(
        Method::GET,
        &format!("payment/status_by_mti/{SERVICE}/plain/31-01-2024"),
    ))
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn payment_status_shows_any_status_a_test_sets() {
    let api = api().await;
    let payment = api.paid_payment(json!(1000), "order").await;
    for status in [0, 1, 7, -5017] {
        assert!(api.mock.set_payment_status(payment, status));
        assert_eq!(api.payment_status(payment).await, status);
    }
    assert!(!api.mock.set_payment_status(ClickPaydocId::new(1), 2));
    assert_eq!(
        api.get(&format!("payment/status/{SERVICE}/1")).await["error_code"],
        -5
    );
    let (status, _) = send(api.request(Method::GET, &format!("payment/status/{SERVICE}/x1"))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_reversal_twice_answers_already_reversed() {
    let api = api().await;
    let payment = api.paid_payment(json!(1000), "order").await;
    let path = format!("payment/reversal/{SERVICE}/{payment}");
    let answer = api.delete(&path).await;
    assert_eq!(
        answer,
        json!({"error_code": 0, "error_note": "Success", "payment_id": payment.get()})
    );
    assert_eq!(api.payment_status(payment).await, -1);
    let again = api.delete(&path).await;
    assert_eq!(
        (&again["error_code"], &again["error_note"]),
        (&json!(-9), &json!("already reversed"))
    );
    assert_eq!(
        api.delete(&format!("payment/reversal/{SERVICE}/1")).await["error_code"],
        -5
    );

    let processing = api.paid_payment(json!(1000), "order-2").await;
    api.mock.set_payment_status(processing, Payment::PROCESSING);
    let answer = api
        .delete(&format!("payment/reversal/{SERVICE}/{processing}"))
        .await;
    assert_eq!(answer["error_code"], -6, "only a paid payment is reversed");
}

#[tokio::test]
async fn partial_reversals_add_up() {
    let api = api().await;
    let payment = api.paid_payment(json!(1000), "order").await;
    let partial = |amount: &str| format!("payment/partial_reversal/{SERVICE}/{payment}/{amount}");
    assert_eq!(api.delete(&partial("1000.01")).await["error_code"], -2);
    assert_eq!(api.delete(&partial("0")).await["error_code"], -2);
    let answer = api.delete(&partial("400.5")).await;
    assert_eq!(
        answer,
        json!({"error_code": 0, "error_note": "Success", "payment_id": payment.get()})
    );
    assert_eq!(api.payment_status(payment).await, 2);
    assert_eq!(api.delete(&partial("600")).await["error_code"], -2);
    assert_eq!(api.delete(&partial("599.50")).await["error_code"], 0);
    assert_eq!(api.payment_status(payment).await, -1);
    assert_eq!(api.delete(&partial("1")).await["error_code"], -9);
    let stored = api.mock.payment(payment).expect("stored");
    assert_eq!(stored.reversed, amount("1000"));
    let (status, _) = send(api.request(Method::DELETE, &partial("1e3"))).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn card_tokens_are_requested_verified_used_and_deleted() {
    let api = api().await;
    let answer = api
        .post(
            "card_token/request",
            json!({"service_id": SERVICE, "card_number": "8600551234563244",
                   "expire_date": "0330", "temporary": 0}),
        )
        .await;
    assert_eq!(
        (
            &answer["error_code"],
            &answer["phone_number"],
            &answer["temporary"]
        ),
        (&json!(0), &json!("99890***1234"), &json!(0))
    );
    let token = answer["card_token"].as_str().expect("a token").to_owned();
    assert_eq!(token.len(), 36, "UUID-like: {token}");
    let code: i64 = api
        .mock
        .sms_code(&token)
        .expect("a code")
        .parse()
        .expect("digits");

    let pay = json!({"service_id": SERVICE, "card_token": token, "amount": 2500.75,
                     "transaction_parameter": "user-9"});
    assert_eq!(
        api.post("card_token/payment", pay.clone()).await["error_code"],
        -3,
        "unverified"
    );
    let verify = |code: i64| json!({"service_id": SERVICE, "card_token": token, "sms_code": code});
    assert_eq!(
        api.post("card_token/verify", verify(code + 1)).await["error_code"],
        -3
    );
    let answer = api.post("card_token/verify", verify(code)).await;
    assert_eq!(
        answer,
        json!({"error_code": 0, "error_note": "Success", "card_number": "860055******3244"})
    );

    let answer = api.post("card_token/payment", pay.clone()).await;
    assert_eq!(answer["payment_status"], 2);
    let id = answer["payment_id"].as_str().expect("a numeric string");
    let payment = ClickPaydocId::new(id.parse().expect("digits"));
    assert_eq!(api.payment_status(payment).await, 2);
    let stored = api.mock.payment(payment).expect("stored");
    assert_eq!(stored.amount, amount("2500.75"));
    assert_eq!(
        api.post("card_token/payment", pay.clone()).await["error_code"],
        0,
        "reusable"
    );

    let delete = format!("card_token/{SERVICE}/{token}");
    assert_eq!(
        api.delete(&delete).await,
        json!({"error_code": 0, "error_note": "Success"})
    );
    assert_eq!(api.delete(&delete).await["error_code"], -5);
    assert_eq!(api.post("card_token/payment", pay).await["error_code"], -5);
    assert_eq!(api.mock.sms_code(&token), None);

    for (card, expiry, temporary) in [
        ("860055123456324", "0330", 0),
        ("8600 5512 3456 3244", "0330", 0),
        ("8600551234563244", "1330", 0),
        ("8600551234563244", "330", 0),
        ("8600551234563244", "0330", 2),
    ] {
        let body = json!({"service_id": SERVICE, "card_number": card, "expire_date": expiry,
                          "temporary": temporary});
        let (status, _) = api
            .raw(Method::POST, "card_token/request", &body.to_string())
            .await;
        assert_eq!(status, 400, "{body}");
    }
}

#[tokio::test]
async fn a_temporary_token_is_deleted_after_a_payment() {
    let api = api().await;
    let token = api.verified_token(1).await;
    let pay = json!({"service_id": SERVICE, "card_token": token, "amount": 100,
                     "transaction_parameter": "user-9"});
    assert_eq!(
        api.post("card_token/payment", pay.clone()).await["error_code"],
        0
    );
    assert_eq!(api.post("card_token/payment", pay).await["error_code"], -5);
    assert_eq!(
        api.delete(&format!("card_token/{SERVICE}/{token}")).await["error_code"],
        -5
    );
}

#[tokio::test]
async fn click_pass_without_confirm_mode_is_paid_at_once() {
    let api = api().await;
    let answer = api.click_pass().await;
    let payment = answer["payment_id"].as_i64().expect("a numeric payment_id");
    assert_eq!(
        answer,
        json!({"error_code": 0, "error_note": "Success", "payment_id": payment,
               "payment_status": 2, "confirm_mode": 0, "card_type": "private",
               "processing_type": "UZCARD", "card_number": "860055******3244",
               "phone_number": "99890***1234"})
    );
    assert_eq!(api.payment_status(payment).await, 2);
    let by_mti = api
        .get(&format!("payment/status_by_mti/{SERVICE}/cp-1/{}", today()))
        .await;
    assert_eq!(
        by_mti["payment_id"], payment,
        "transaction_id is the merchant_trans_id"
    );
    assert_eq!(api.confirm(&json!(payment)).await["error_code"], -6);
}

#[tokio::test]
async fn click_pass_in_confirm_mode_waits_for_its_confirmation() {
    let api = api().await;
    assert_eq!(
        api.confirm_mode(Method::PUT).await,
        json!({"error_code": 0, "error_note": "Success"})
    );
    let answer = api.click_pass().await;
    assert_eq!(
        (&answer["payment_status"], &answer["confirm_mode"]),
        (&json!(1), &json!(1))
    );
    let payment = answer["payment_id"].clone();
    assert_eq!(api.payment_status(&payment).await, 1);
    assert_eq!(
        api.confirm(&payment).await,
        json!({"error_code": 0, "error_note": "Success"})
    );
    assert_eq!(api.payment_status(&payment).await, 2);
    assert_eq!(
        api.confirm(&payment).await["error_code"],
        0,
        "a retry succeeds"
    );
    assert_eq!(api.confirm(&json!(1)).await["error_code"], -5);

    assert_eq!(api.confirm_mode(Method::DELETE).await["error_code"], 0);
    let answer = api.click_pass().await;
    assert_eq!(
        (&answer["payment_status"], &answer["confirm_mode"]),
        (&json!(2), &json!(0))
    );
    let other_service = api
        .call(Method::PUT, "click_pass/confirmation/999", None)
        .await;
    assert_eq!(other_service["error_code"], -5);
}

/// docs/protocol.md, bad input 84, without waiting: the mock clock moves 31 s.
#[tokio::test]
async fn click_pass_is_cancelled_after_30_seconds_of_mock_time() {
    let api = api().await;
    api.confirm_mode(Method::PUT).await;
    let on_time = api.click_pass().await["payment_id"].clone();
    let late = api.click_pass().await["payment_id"].clone();
    api.mock.advance(30);
    assert_eq!(api.confirm(&on_time).await["error_code"], 0);
    assert_eq!(api.payment_status(&late).await, 1);
    api.mock.advance(1);
    assert_eq!(api.payment_status(&late).await, -2, "cancelled on access");
    let answer = api.confirm(&late).await;
    assert_eq!(answer["error_code"], -2, "{answer}");
    assert_eq!(api.payment_status(&on_time).await, 2);
}

fn ofd_item() -> Value {
    json!({"Name": "Чай зелёный 100 г, шт", "SPIC": "10902001001000000", "PackageCode": "1234567",
           "Price": 150_000, "Amount": 1, "VAT": 16_071, "VATPercent": 12,
           "CommissionInfo": {"TIN": "123456789"}, "Labels": ["01047800000000002"]})
}

#[tokio::test]
async fn ofd_data_is_stored_and_returned_in_camel_case() {
    let api = api().await;
    let payment = api.paid_payment(json!(1500), "order").await;
    let items = |items: Value| {
        json!({"service_id": SERVICE, "payment_id": payment.get(), "items": items,
               "received_ecash": 150_000, "received_cash": 0, "received_card": 0})
    };
    let get = format!("payment/ofd_data/{SERVICE}/{payment}");
    assert_eq!(
        api.get(&get).await,
        json!({"paymentId": payment.get(), "qrCodeURL": null})
    );
    let answer = api
        .post("payment/ofd_data/submit_items", items(json!([ofd_item()])))
        .await;
    assert_eq!(answer, json!({"error_code": 0, "error_note": "Success"}));
    let receipt = api
        .mock
        .ofd(payment)
        .and_then(|ofd| ofd.receipt)
        .expect("stored");
    assert_eq!(
        (receipt.items, receipt.received_ecash.get()),
        (vec![ofd_item()], 150_000)
    );

    let qrcode =
        "https://ofd.soliq.uz/epi?t=EZ000000000030&r=123456789&c=20221028171340&s=854971301623";
    let answer = api
        .post(
            "payment/ofd_data/submit_qrcode",
            json!({"service_id": SERVICE, "payment_id": payment.get(), "qrcode": qrcode}),
        )
        .await;
    assert_eq!(answer["error_code"], 0);
    assert_eq!(
        api.get(&get).await,
        json!({"paymentId": payment.get(), "qrCodeURL": qrcode})
    );

    let mut snake = ofd_item();
    snake["vat_percent"] = json!(12);
    let mut anonymous = ofd_item();
    anonymous["CommissionInfo"] = json!({});
    for bad in [
        json!([]),
        json!([snake]),
        json!([anonymous]),
        json!(ofd_item()),
    ] {
        let (status, answer) = api
            .raw(
                Method::POST,
                "payment/ofd_data/submit_items",
                &items(bad.clone()).to_string(),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
    let unknown = json!({"service_id": SERVICE, "payment_id": 1, "items": [ofd_item()],
                         "received_ecash": 0, "received_cash": 0, "received_card": 0});
    assert_eq!(
        api.post("payment/ofd_data/submit_items", unknown).await["error_code"],
        -5
    );
    assert_eq!(
        api.get(&format!("payment/ofd_data/{SERVICE}/1")).await["error_code"],
        -5
    );
}

/// docs/protocol.md, bad inputs 72 and 83: missing, malformed, wrong user, wrong digest, stale or
/// future timestamps are 401 with Click's JSON, and have no effect.
#[tokio::test]
async fn auth_failures_are_401() {
    let api = api().await;
    let now = real_now();
    let body = json!({"service_id": SERVICE, "amount": 10, "phone_number": "998901234567",
                      "merchant_trans_id": "order"})
    .to_string();
    let headers = [
        None,
        Some("garbage".to_owned()),
        Some(format!("{USER}:{}", auth(USER, SECRET, now))),
        Some(auth(USER + 1, SECRET, now)),
        Some(auth(USER, "another-secret", now)),
        Some(auth(USER, SECRET, now).to_uppercase()),
        Some(auth(USER, SECRET, now - 301)),
        Some(auth(USER, SECRET, now + 301)),
        Some(auth(USER, SECRET, now / 10)),
    ];
    for header in &headers {
        let mut request = api
            .bare(Method::POST, "invoice/create")
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .body(body.clone());
        if let Some(header) = header {
            request = request.header("Auth", header);
        }
        let (status, answer) = send(request).await;
        assert_eq!(
            (status, &answer["error_code"]),
            (401, &json!(-401)),
            "{header:?}"
        );
        let note = answer["error_note"].as_str().expect("a note");
        assert!(!note.contains(SECRET), "{note}");
    }
    let recorded = api.mock.requests();
    assert_eq!(
        recorded.len(),
        headers.len(),
        "every rejected request is recorded"
    );
    assert_eq!(
        recorded.iter().map(|r| r.auth.clone()).collect::<Vec<_>>(),
        headers
    );
    let answer = api
        .get(&format!("invoice/status/{SERVICE}/{FIRST_INVOICE}"))
        .await;
    assert_eq!(answer["error_code"], -5, "no invoice was created");

    // The mock's clock decides staleness.
    api.mock.set_time(now + 1000);
    let (status, answer) =
        send(api.request(Method::GET, &format!("payment/status/{SERVICE}/1"))).await;
    assert_eq!(status, 401);
    assert!(
        answer["error_note"]
            .as_str()
            .is_some_and(|n| n.contains("stale")),
        "{answer}"
    );
    let (status, _) = send(
        api.bare(Method::GET, &format!("payment/status/{SERVICE}/1"))
            .header("Accept", "application/json")
            .header("Auth", auth(USER, SECRET, api.mock.now())),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn accept_must_list_json() {
    let api = api().await;
    let path = format!("payment/status/{SERVICE}/1");
    let signed = || {
        api.bare(Method::GET, &path)
            .header("Auth", auth(USER, SECRET, real_now()))
    };
    for request in [
        signed(),
        signed().header("Accept", "*/*"),
        signed().header("Accept", "application/xml"),
    ] {
        let (status, answer) = send(request).await;
        assert_eq!((status, &answer["error_code"]), (406, &json!(-406)));
    }
    let (status, _) = send(signed().header("Accept", "application/json; charset=utf-8")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_bodies_are_400_and_other_services_minus_5() {
    let api = api().await;
    let bodies = [
        "",
        "not json",
        "[1, 2]",
        r#"{"service_id": 101, "amount": 10, "phone_number": "998901234567"}"#,
        r#"{"service_id": 101, "amount": 10, "phone_number": null, "merchant_trans_id": "o"}"#,
        r#"{"service_id": "101", "amount": 10, "phone_number": "9989", "merchant_trans_id": "o"}"#,
        r#"{"amount": 10, "phone_number": "998901234567", "merchant_trans_id": "o"}"#,
        r#"{"service_id": 101, "amount": 10, "phone_number": "9989", "merchant_trans_id": ""}"#,
    ];
    for body in bodies {
        let (status, answer) = api.raw(Method::POST, "invoice/create", body).await;
        assert_eq!(
            (status, &answer["error_code"]),
            (400, &json!(-400)),
            "{body}"
        );
        assert!(answer["error_note"].is_string());
    }
    let missing = api.raw(Method::POST, "invoice/create", bodies[3]).await.1;
    assert_eq!(missing["error_note"], "missing field merchant_trans_id");
    let other = json!({"service_id": 999, "amount": 10, "phone_number": "998901234567",
                       "merchant_trans_id": "o"});
    assert_eq!(
        api.post("invoice/create", other).await,
        json!({"error_code": -5, "error_note": "service not found"})
    );
    for (method, path) in [
        (Method::GET, "invoice/create"),
        (Method::POST, "no/such/call"),
    ] {
        let (status, answer) = send(api.request(method, path)).await;
        assert!(matches!(status, 404 | 405), "{path}: {status}");
        assert_eq!(answer["error_code"], -i64::from(status));
    }
}

#[tokio::test]
async fn requests_are_recorded_in_order_rejected_ones_included() {
    let api = api().await;
    let invoice = api.create_invoice(json!(10), "order").await;
    send(api.bare(Method::GET, "invoice/status/101/1")).await;
    api.mock.inject(Fault::Empty, 1);
    send(api.request(Method::DELETE, "card_token/101/abc")).await;
    let recorded = api.mock.requests();
    let summary: Vec<_> = recorded
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str(), r.auth.is_some()))
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", "invoice/create", true),
            ("GET", "invoice/status/101/1", false),
            ("DELETE", "card_token/101/abc", true),
        ]
    );
    let body: Value = serde_json::from_str(&recorded[0].body).expect("JSON");
    assert_eq!(body["merchant_trans_id"], "order");
    assert_eq!(recorded[0].headers["content-type"], "application/json");
    assert_eq!(recorded[0].headers["accept"], "application/json");
    assert!(api.mock.invoice(invoice).is_some());
}

/// docs/protocol.md, bad inputs 74 and 75: a status fault answers Click's JSON and has no effect; the
/// request is seen exactly once.
#[tokio::test]
async fn a_status_fault_answers_without_effect() {
    let api = api().await;
    api.mock
        .inject_on("/click_pass/confirmation", Fault::Status(502), 1);
    let (status, answer) =
        send(api.request(Method::PUT, &format!("click_pass/confirmation/{SERVICE}"))).await;
    assert_eq!((status, &answer["error_code"]), (502, &json!(-502)));
    assert_eq!(api.mock.requests().len(), 1);
    assert_eq!(api.click_pass().await["confirm_mode"], 0, "no effect");

    api.mock.inject(Fault::Status(500), 2);
    for _ in 0..2 {
        let (status, _) = send(api.request(Method::GET, "payment/status/101/1")).await;
        assert_eq!(status, 500);
    }
    let (status, _) = send(api.request(Method::GET, "payment/status/101/1")).await;
    assert_eq!(status, 200, "the fault ran out");
}

/// docs/protocol.md, bad input 77: the request takes effect, then the answer hangs past the client's
/// timeout.
#[tokio::test]
async fn a_hang_applies_the_request_then_delays_the_answer() {
    let api = api().await;
    api.mock.inject(Fault::Hang(Duration::from_secs(5)), 1);
    let started = std::time::Instant::now();
    let error = api
        .request(Method::PUT, &format!("click_pass/confirmation/{SERVICE}"))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .expect_err("the client times out");
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(api.mock.requests().len(), 1);
    assert_eq!(
        api.click_pass().await["confirm_mode"],
        1,
        "the effect applied"
    );

    api.mock.inject(Fault::Hang(Duration::from_millis(300)), 1);
    let started = std::time::Instant::now();
    let answer = api.get(&format!("payment/status/{SERVICE}/1")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer["error_code"], -5, "answered normally");
}

/// docs/protocol.md, bad inputs 78 and 79.
#[tokio::test]
async fn garbled_html_and_empty_bodies() {
    let api = api().await;
    for (fault, content_type, expected) in [
        (
            Fault::Garbled,
            "application/json",
            r#"{"error_code": 0, "invoice_id": "#,
        ),
        (Fault::Empty, "application/json", ""),
        (Fault::Html, "text/html; charset=utf-8", "<!DOCTYPE html>"),
    ] {
        api.mock.inject_on("invoice/create", fault, 1);
        let response = api
            .request(Method::POST, "invoice/create")
            .header("Content-Type", "application/json")
            .body(r#"{"service_id": 101, "amount": 10, "phone_number": "9989", "merchant_trans_id": "o"}"#)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], content_type);
        let body = response.text().await.expect("a body");
        assert!(body.starts_with(expected), "{fault:?}: {body}");
        assert!(serde_json::from_str::<Value>(&body).is_err(), "{fault:?}");
    }
    let answer = api
        .get(&format!("invoice/status/{SERVICE}/{FIRST_INVOICE}"))
        .await;
    assert_eq!(answer["error_code"], -5, "no faulted create took effect");
}

/// docs/protocol.md, bad input 82: a huge body is streamed, with no `Content-Length` to refuse it early.
#[tokio::test]
async fn a_huge_body_is_streamed() {
    let api = api().await;
    let size = 3 * 1024 * 1024 + 7;
    api.mock.inject(Fault::Huge(size), 1);
    let mut response = api
        .request(Method::GET, "payment/status/101/1")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    assert!(response.content_length().is_none());
    let mut received = 0;
    let mut first = None;
    while let Some(chunk) = response.chunk().await.expect("a chunk") {
        first.get_or_insert_with(|| chunk.clone());
        received += chunk.len();
    }
    assert_eq!(received, size);
    let first = first.expect("some bytes");
    assert!(first.starts_with(br#"{"error_code":0"#));
    assert!(first.len() < size, "chunked");
}

/// docs/protocol.md, bad input 82: a dripping body outlasts a total timeout.
#[tokio::test]
async fn a_drip_sends_one_byte_at_a_time() {
    let api = api().await;
    api.mock.inject(Fault::Drip, 1);
    let mut response = api
        .request(Method::GET, "payment/status/101/1")
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let first = response.chunk().await.expect("a chunk").expect("a byte");
    assert_eq!(&first[..], b"{");
    let started = std::time::Instant::now();
    let second = response.chunk().await.expect("a chunk").expect("a byte");
    assert_eq!(&second[..], b"\"");
    assert!(started.elapsed() >= Duration::from_millis(150));
    let rest = tokio::time::timeout(Duration::from_millis(500), response.text()).await;
    assert!(rest.is_err(), "the whole body takes seconds");
}

const MERCHANT_SECRET: &str = "shop-api-secret";

/// A merchant answering Prepare and Complete with click-core's `Shop`; returns its two URLs.
async fn merchant(orders: MemoryOrders) -> (String, String) {
    let shop = Shop::new(
        Keyring::new().service(ServiceId::new(SERVICE), SecretKey::new(MERCHANT_SECRET)),
        MemoryStore::new(orders),
    );
    async fn answer(shop: &Shop, endpoint: Endpoint, body: &Bytes) -> Vec<u8> {
        shop.handle(endpoint, body).await.to_json()
    }
    let router = axum::Router::new()
        .route(
            "/click/prepare",
            post(|State(shop): State<Shop>, body: Bytes| async move {
                answer(&shop, Endpoint::Prepare, &body).await
            }),
        )
        .route(
            "/click/complete",
            post(|State(shop): State<Shop>, body: Bytes| async move {
                answer(&shop, Endpoint::Complete, &body).await
            }),
        )
        .with_state(shop);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    (
        format!("http://{address}/click/prepare"),
        format!("http://{address}/click/complete"),
    )
}

#[tokio::test]
async fn pay_invoice_with_callbacks_pays_through_the_merchant() {
    let api = api().await;
    let orders = MemoryOrders::new();
    let order = "order-77".parse().expect("an id");
    orders.insert(
        "order-77".parse().expect("an id"),
        Order::Payable {
            amount: amount("1500.5"),
        },
    );
    let (prepare, complete) = merchant(orders.clone()).await;
    let invoice = api.create_invoice(json!(1500.5), "order-77").await;
    let secret = SecretKey::new(MERCHANT_SECRET);

    let payment = api
        .mock
        .pay_invoice_with_callbacks(invoice, &prepare, &complete, &secret)
        .await
        .expect("the merchant accepts both callbacks");
    assert_eq!(
        api.mock.invoice(invoice).map(|i| i.status),
        Some(InvoiceStatus::Paid)
    );
    assert_eq!(api.payment_status(payment).await, 2);
    let deliveries = orders.deliveries();
    assert_eq!(orders.delivery_count(&order), 1);
    assert_eq!(
        deliveries[0].click_paydoc_id, payment,
        "click_paydoc_id is the payment id"
    );
    assert_eq!(deliveries[0].amount, amount("1500.50"));

    let again = api
        .mock
        .pay_invoice_with_callbacks(invoice, &prepare, &complete, &secret)
        .await;
    assert!(
        matches!(again, Err(PayInvoiceError::NotWaiting(_))),
        "{again:?}"
    );
}

#[tokio::test]
async fn pay_invoice_with_callbacks_leaves_a_refused_invoice_waiting() {
    let api = api().await;
    let (prepare, complete) = merchant(MemoryOrders::new()).await;
    let invoice = api.create_invoice(json!(100), "no-such-order").await;
    let refused = api
        .mock
        .pay_invoice_with_callbacks(
            invoice,
            &prepare,
            &complete,
            &SecretKey::new(MERCHANT_SECRET),
        )
        .await;
    match refused {
        Err(PayInvoiceError::Prepare(exchange)) => assert_eq!(exchange.error, Some(-5)),
        other => panic!("expected a refused Prepare, got {other:?}"),
    }
    let wrong_secret = api
        .mock
        .pay_invoice_with_callbacks(invoice, &prepare, &complete, &SecretKey::new("wrong"))
        .await;
    assert!(
        matches!(&wrong_secret, Err(PayInvoiceError::Prepare(e)) if e.error == Some(-1)),
        "{wrong_secret:?}"
    );
    assert_eq!(
        api.mock.invoice(invoice).map(|i| i.status),
        Some(InvoiceStatus::Waiting)
    );
    let by_mti = api
        .get(&format!(
            "payment/status_by_mti/{SERVICE}/no-such-order/2024-01-31"
        ))
        .await;
    assert_eq!(by_mti["error_code"], -5, "no payment was recorded");
}
