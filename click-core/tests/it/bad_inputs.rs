//! The bad inputs of `docs/protocol.md` (sections A–D) that click-core answers, each test named by
//! its section and number.
//!
//! The conformance suite (`click_core::testing::cases`, run in `conformance.rs`) covers: 28 and 56
//! `complete_retry_is_minus_4_without_second_delivery`; 29 `prepare_of_a_final_attempt_is_a_new_attempt`;
//! 42 `amount_is_frozen_at_prepare`; 43 `prepare_unknown_order_is_minus_5`; 44 and 45
//! `complete_of_unknown_transaction_is_minus_6` and `complete_names_its_transaction_by_prepare_id`; 47 `prepare_retry_replays_the_same_answer`; 48
//! `prepare_conflicting_retry_is_minus_8`; 49 `second_debited_attempt_is_minus_4_with_reversal`; 50
//! `prepare_paid_order_is_minus_4` and `accounts_accept_repeated_top_ups`; 51
//! `prepare_closed_order_is_minus_9`; 52 and 53 `cancel_releases_and_answers_minus_9`; 54
//! `confirm_after_cancel_is_minus_9`; 55 `cancel_after_confirm_keeps_the_payment`; 58
//! `delivery_failure_answers_0_with_reversal`; 60 `failed_lookup_is_minus_7_and_records_nothing`
//! and `failed_reserve_is_minus_7_and_records_nothing`; 61–64 the `concurrent_*` cases.
//!
//! Left to the crates they concern: the adapters (2's byte limit, 11's headers, 12, 13) and the
//! database stores (65–70).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use click_core::outbox::{Claim, Outbox, Task, TaskCounts, TaskFilter, TaskUpdate};
use click_core::testing::{CallbackForm, Click, Harness, TestOrders, code};
use click_core::{
    Attempt, ClickPaydocId, ClickTransId, Endpoint, Expected, Keyring, MemoryStore,
    MerchantPrepareId, MerchantTransId, NewCharge, Order, OrderStore, Outcome, Prepared, SecretKey,
    ServiceId, Shop, StoreError, Transaction, TransactionState, Transition,
};
use md5::{Digest, Md5};

async fn harness() -> Harness {
    Harness::new(|hooks| async move { MemoryStore::new(hooks) }, 1).await
}

fn payable(total: &str) -> Order {
    Order::Payable {
        amount: total.parse().expect("valid amount"),
    }
}

/// Sends a raw body to an endpoint and returns the code.
async fn raw(h: &Harness, endpoint: Endpoint, body: &str) -> i32 {
    code(&h.shop.handle(endpoint, body.as_bytes()).await)
}

async fn send(h: &Harness, endpoint: Endpoint, form: &CallbackForm) -> i32 {
    code(&h.send(endpoint, form).await)
}

const COMMON: [&str; 9] = [
    "click_trans_id",
    "service_id",
    "click_paydoc_id",
    "merchant_trans_id",
    "amount",
    "action",
    "error",
    "sign_time",
    "sign_string",
];

#[tokio::test]
async fn a01_empty_body_is_minus_8() {
    let h = harness().await;
    for endpoint in [Endpoint::Prepare, Endpoint::Complete, Endpoint::Any] {
        assert_eq!(raw(&h, endpoint, "").await, -8);
    }
}

/// Bad input 2 at the core's level (the adapters enforce the byte limit): a megabyte in a signed field,
/// or a megabyte of separators, is a plain `-8`.
#[tokio::test]
async fn a02_a_megabyte_body_is_minus_8() {
    let h = harness().await;
    let huge = "x".repeat(1 << 20);
    assert_eq!(
        send(&h, Endpoint::Prepare, &h.click.prepare(1, &huge, "1000")).await,
        -8
    );
    let escaped = h
        .click
        .prepare(1, "PLACEHOLDER", "1000")
        .encode()
        .replace("PLACEHOLDER", &"%41".repeat(350_000));
    assert_eq!(raw(&h, Endpoint::Prepare, &escaped).await, -8);
    assert_eq!(raw(&h, Endpoint::Prepare, &"&".repeat(1 << 20)).await, -8);
}

#[tokio::test]
async fn a03_each_missing_required_field_is_minus_8() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let without = |form: CallbackForm, field| match field {
        "sign_string" => form.remove(field),
        _ => h.click.sign(form.remove(field)),
    };
    for field in COMMON {
        let form = without(h.click.prepare(1, "o-1", "1000"), field);
        assert_eq!(
            send(&h, Endpoint::Prepare, &form).await,
            -8,
            "Prepare without {field}"
        );
        let form = without(h.click.complete(1, "o-1", 1, "1000", 0), field);
        assert_eq!(
            send(&h, Endpoint::Complete, &form).await,
            -8,
            "Complete without {field}"
        );
    }
    let form = h.click.sign(
        h.click
            .complete(1, "o-1", 1, "1000", 0)
            .remove("merchant_prepare_id"),
    );
    assert_eq!(send(&h, Endpoint::Complete, &form).await, -8);
}

#[tokio::test]
async fn a04_error_note_empty_or_missing_is_processed_normally() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let form = h.click.prepare(1, "o-1", "1000").set("error_note", "");
    assert_eq!(send(&h, Endpoint::Prepare, &form).await, 0);
    let form = h.click.prepare(2, "o-1", "1000").remove("error_note");
    assert_eq!(send(&h, Endpoint::Prepare, &form).await, 0);
}

#[tokio::test]
async fn a05_a_duplicated_field_is_minus_8() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    for field in COMMON.into_iter().chain(["error_note"]) {
        let form = h.click.prepare(1, "o-1", "1000");
        let value = form.get(field).unwrap_or_default().to_owned();
        let form = form.append(field, value);
        assert_eq!(
            send(&h, Endpoint::Prepare, &form).await,
            -8,
            "{field} twice"
        );
    }
    let form = h.click.prepare(1, "o-1", "1000").append("amount", "1");
    assert_eq!(send(&h, Endpoint::Prepare, &form).await, -8);
    assert_eq!(h.transaction(1).await, None);
}

#[tokio::test]
async fn a06_a_required_field_present_but_empty_is_minus_8() {
    let h = harness().await;
    for field in COMMON.into_iter().filter(|f| *f != "sign_string") {
        let form = h
            .click
            .sign(h.click.prepare(1, "o-1", "1000").set(field, ""));
        assert_eq!(
            send(&h, Endpoint::Prepare, &form).await,
            -8,
            "empty {field}"
        );
    }
    let form = h.click.sign(
        h.click
            .complete(1, "o-1", 1, "1000", 0)
            .set("merchant_prepare_id", ""),
    );
    assert_eq!(send(&h, Endpoint::Complete, &form).await, -8);
}

#[tokio::test]
async fn a07_a_non_utf8_escape_is_minus_8() {
    let h = harness().await;
    let body = h
        .click
        .prepare(1, "PLACEHOLDER", "1000")
        .encode()
        .replace("PLACEHOLDER", "%FF");
    assert_eq!(raw(&h, Endpoint::Prepare, &body).await, -8);
}

/// Bad input 8: an invalid escape is literal text: unsigned `-1`; signed over the literal text it is
/// processed (here an unknown order, `-5`).
#[tokio::test]
async fn a08_an_invalid_escape_stays_literal() {
    let h = harness().await;
    let signed_other = h
        .click
        .prepare(1, "a-zz", "1000")
        .encode()
        .replace("a-zz", "a%zz");
    assert_eq!(raw(&h, Endpoint::Prepare, &signed_other).await, -1);
    let signed_literal = h
        .click
        .prepare(1, "a%zz", "1000")
        .encode()
        .replace("a%25zz", "a%zz");
    assert!(signed_literal.contains("a%zz"));
    assert_eq!(raw(&h, Endpoint::Prepare, &signed_literal).await, -5);
}

#[tokio::test]
async fn a09_plus_and_space_encodings() {
    let h = harness().await;
    h.orders.insert("A B", payable("1000"));
    h.orders.insert("A+B", payable("1000"));
    let space = h.click.prepare(1, "A B", "1000").encode();
    assert!(space.contains("A+B"));
    assert_eq!(raw(&h, Endpoint::Prepare, &space).await, 0);
    assert_eq!(
        raw(&h, Endpoint::Prepare, &space.replace("A+B", "A%20B")).await,
        0
    );
    let plus = h.click.prepare(2, "A+B", "1000").encode();
    assert!(plus.contains("A%2BB"));
    assert_eq!(raw(&h, Endpoint::Prepare, &plus).await, 0);
    assert_eq!(
        raw(&h, Endpoint::Prepare, &plus.replace("A%2BB", "A+B")).await,
        -1
    );
}

#[tokio::test]
async fn a10_unknown_fields_are_ignored() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let form = h
        .click
        .prepare(1, "o-1", "1000")
        .append("foo", "bar")
        .append("foo", "%FF");
    assert_eq!(send(&h, Endpoint::Prepare, &form).await, 0);
}

/// Bad input 11, body side: a JSON body is not a form (`-8`); a form body is a form whatever the
/// `Content-Type` (the core never sees headers).
#[tokio::test]
async fn a11_a_json_body_is_minus_8() {
    let h = harness().await;
    let json = r#"{"click_trans_id":1,"service_id":101,"action":0}"#;
    assert_eq!(raw(&h, Endpoint::Prepare, json).await, -8);
}

#[tokio::test]
async fn a14_action_other_than_0_or_1_is_minus_3() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    for action in ["2", "-1", "01", "1.0", " 1", "abc", "00"] {
        let form = h
            .click
            .sign(h.click.prepare(1, "o-1", "1000").set("action", action));
        for endpoint in [Endpoint::Prepare, Endpoint::Complete, Endpoint::Any] {
            assert_eq!(send(&h, endpoint, &form).await, -3, "action {action:?}");
        }
    }
    let complete = h.click.complete(1, "o-1", 1, "1000", 0);
    assert_eq!(send(&h, Endpoint::Prepare, &complete).await, -3);
    let prepare = h.click.prepare(1, "o-1", "1000");
    assert_eq!(send(&h, Endpoint::Complete, &prepare).await, -3);
    assert_eq!(
        send(&h, Endpoint::Any, &prepare).await,
        0,
        "single URL dispatches"
    );
}

#[tokio::test]
async fn a15_non_canonical_ids_are_minus_8() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    for id in ["abc", "-1", "0x10", "+5", "12345678901234567890", "01"] {
        for field in ["click_trans_id", "service_id", "click_paydoc_id"] {
            let form = h
                .click
                .sign(h.click.prepare(1, "o-1", "1000").set(field, id));
            assert_eq!(send(&h, Endpoint::Prepare, &form).await, -8, "{field}={id}");
        }
    }
}

#[tokio::test]
async fn a16_an_overlong_merchant_trans_id_is_minus_8() {
    let h = harness().await;
    let long = "x".repeat(10_000);
    assert_eq!(
        send(&h, Endpoint::Prepare, &h.click.prepare(1, &long, "1000")).await,
        -8
    );
    let longest = "x".repeat(255);
    assert_eq!(
        send(&h, Endpoint::Prepare, &h.click.prepare(1, &longest, "1000")).await,
        -5
    );
}

#[tokio::test]
async fn a17_injection_shaped_ids_are_just_unknown_orders() {
    let h = harness().await;
    h.orders.insert("1", payable("1000"));
    for id in ["1' OR '1'='1", "1; DROP TABLE orders--", "1 OR SLEEP(5)"] {
        assert_eq!(
            send(&h, Endpoint::Prepare, &h.click.prepare(1, id, "1000")).await,
            -5
        );
    }
    assert_eq!(
        h.orders.book().get(&"1".parse().expect("id")),
        Some(payable("1000"))
    );
}

/// Bad inputs 18 and 19: control characters, bidi overrides, emoji and markup are unknown orders, or
/// paid normally when an order has that id; the JSON echo is escaped and round-trips.
#[tokio::test]
async fn a18_a19_hostile_ids_are_echoed_escaped() {
    let h = harness().await;
    let hostile = [
        "a\0b",
        "a\r\nb",
        "a\u{202e}b",
        "pay 😀",
        "\"><script>alert(1)</script>",
    ];
    for (n, id) in hostile.into_iter().enumerate() {
        let answer = h
            .send(Endpoint::Prepare, &h.click.prepare(1, id, "1000"))
            .await;
        assert_eq!(code(&answer), -5);
        let json: serde_json::Value = serde_json::from_slice(&answer.to_json()).expect("JSON");
        assert_eq!(json["merchant_trans_id"], id);
        let text = String::from_utf8(answer.to_json()).expect("UTF-8");
        assert!(!text.contains('\r') && !text.contains('\n') && !text.contains('\0'));
        h.orders.insert(id, payable("1000"));
        let click_trans_id = 100 + i64::try_from(n).expect("small");
        assert_eq!(
            send(
                &h,
                Endpoint::Prepare,
                &h.click.prepare(click_trans_id, id, "1000")
            )
            .await,
            0
        );
    }
}

#[tokio::test]
async fn a20_malformed_sign_time_is_minus_8() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    for time in [
        "2024-13-45 25:61:61",
        "2024-01-01T10:00:00Z",
        "2024-01-31 12:30:00\u{1}ext",
        "2024-01-31 12:30:00 ",
        "2024-02-30 12:30:00",
    ] {
        let form = h
            .click
            .sign(h.click.prepare(1, "o-1", "1000").set("sign_time", time));
        assert_eq!(send(&h, Endpoint::Prepare, &form).await, -8, "{time:?}");
    }
}

/// A `MemoryStore` whose every call first runs `before`: to count calls, or to fail them.
struct Instrumented {
    inner: MemoryStore<TestOrders>,
    before: Box<dyn Fn() -> Result<(), StoreError> + Send + Sync>,
}

#[async_trait]
impl OrderStore for Instrumented {
    async fn order(
        &self,
        service_id: ServiceId,
        id: &MerchantTransId,
    ) -> Result<Option<Order>, StoreError> {
        (self.before)()?;
        self.inner.order(service_id, id).await
    }
    async fn prepared_attempt(
        &self,
        service_id: ServiceId,
        click_trans_id: ClickTransId,
        id: &MerchantTransId,
    ) -> Result<Option<Transaction>, StoreError> {
        (self.before)()?;
        self.inner
            .prepared_attempt(service_id, click_trans_id, id)
            .await
    }
    async fn transaction(&self, id: MerchantPrepareId) -> Result<Option<Transaction>, StoreError> {
        (self.before)()?;
        self.inner.transaction(id).await
    }
    async fn transactions_of(&self, id: ClickTransId) -> Result<Vec<Transaction>, StoreError> {
        (self.before)()?;
        self.inner.transactions_of(id).await
    }
    async fn prepare(&self, attempt: Attempt) -> Result<Prepared, StoreError> {
        (self.before)()?;
        self.inner.prepare(attempt).await
    }
    async fn complete(
        &self,
        id: MerchantPrepareId,
        to: Outcome,
        expected: Option<&Expected>,
    ) -> Result<Transition, StoreError> {
        (self.before)()?;
        self.inner.complete(id, to, expected).await
    }
    async fn charge(&self, id: &str) -> Result<Option<Transaction>, StoreError> {
        (self.before)()?;
        self.inner.charge(id).await
    }
    async fn receive_charge(&self, new: NewCharge) -> Result<Transaction, StoreError> {
        (self.before)()?;
        self.inner.receive_charge(new).await
    }
    async fn deliver_charge(&self, id: MerchantPrepareId) -> Result<Transition, StoreError> {
        (self.before)()?;
        self.inner.deliver_charge(id).await
    }
    async fn received_charges(&self) -> Result<Vec<Transaction>, StoreError> {
        (self.before)()?;
        self.inner.received_charges().await
    }
}

/// The outbox is not under test here: straight to the memory store's.
#[async_trait]
impl Outbox for Instrumented {
    async fn claim(
        &self,
        now: SystemTime,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<Claim>, StoreError> {
        self.inner.claim(now, lease, limit).await
    }
    async fn update(&self, claim: &Claim, update: TaskUpdate) -> Result<bool, StoreError> {
        self.inner.update(claim, update).await
    }
    async fn approve_reversal(&self, id: MerchantPrepareId) -> Result<bool, StoreError> {
        self.inner.approve_reversal(id).await
    }
    async fn schedule_expiry(&self, before: SystemTime) -> Result<u64, StoreError> {
        self.inner.schedule_expiry(before).await
    }
    async fn paydoc_debited(
        &self,
        service_id: ServiceId,
        paydoc: ClickPaydocId,
        except: MerchantPrepareId,
    ) -> Result<bool, StoreError> {
        self.inner.paydoc_debited(service_id, paydoc, except).await
    }
    async fn tasks(&self, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
        self.inner.tasks(filter).await
    }
    async fn task_counts(&self) -> Result<TaskCounts, StoreError> {
        self.inner.task_counts().await
    }
    async fn reversals_due(&self) -> Result<Vec<Transaction>, StoreError> {
        self.inner.reversals_due().await
    }
}

/// A harness over an [`Instrumented`] store.
async fn instrumented(
    before: impl Fn() -> Result<(), StoreError> + Send + Sync + 'static,
) -> Harness {
    Harness::new(
        move |hooks| async move {
            Instrumented {
                inner: MemoryStore::new(hooks),
                before: Box::new(before),
            }
        },
        1,
    )
    .await
}

#[tokio::test]
async fn b21_a_flipped_signature_digit_is_minus_1_with_no_lookup() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let h = instrumented(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    })
    .await;
    h.orders.insert("o-1", payable("1000"));
    for form in [
        h.click.prepare(1, "o-1", "1000"),
        h.click.complete(1, "o-1", 1, "1000", 0),
    ] {
        let sign = form.get("sign_string").expect("signed").to_owned();
        let flipped = if sign.starts_with('0') { "1" } else { "0" }.to_owned() + &sign[1..];
        let endpoint = if form.get("action") == Some("0") {
            Endpoint::Prepare
        } else {
            Endpoint::Complete
        };
        assert_eq!(
            send(&h, endpoint, &form.set("sign_string", flipped)).await,
            -1
        );
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no store call before the signature verifies"
    );
}

#[tokio::test]
async fn b22_an_upper_case_signature_verifies() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let form = h.click.prepare(1, "o-1", "1000");
    let upper = form.get("sign_string").expect("signed").to_uppercase();
    assert_eq!(
        send(&h, Endpoint::Prepare, &form.set("sign_string", upper)).await,
        0
    );
}

#[tokio::test]
async fn b23_malformed_signatures_are_minus_1() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let form = h.click.prepare(1, "o-1", "1000");
    let sign = form.get("sign_string").expect("signed").to_owned();
    let magic = format!("0e{}", "1".repeat(30));
    for bad in [
        "",
        &sign[..31],
        &(sign.clone() + "0"),
        &"g".repeat(32),
        "0",
        "0e0",
        &magic,
    ] {
        assert_eq!(
            send(&h, Endpoint::Prepare, &form.clone().set("sign_string", bad)).await,
            -1,
            "{bad:?}"
        );
    }
}

fn md5_hex(parts: &[&str]) -> String {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(part.as_bytes());
    }
    hex::encode(md5.finalize())
}

/// Bad input 24: the prepare id belongs to Complete's signature only.
#[tokio::test]
async fn b24_the_prepare_id_is_signed_on_complete_only() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let secret = Harness::SECRET;
    let time = click_core::testing::SIGN_TIME;
    let with_id = md5_hex(&["1", "101", secret, "o-1", "5", "1000", "0", time]);
    let form = h
        .click
        .prepare(1, "o-1", "1000")
        .set("merchant_prepare_id", "5")
        .set("sign_string", with_id);
    assert_eq!(send(&h, Endpoint::Prepare, &form).await, -1);
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    let without_id = md5_hex(&[&id.to_string(), "101", secret, "o-1", "1000", "1", time]);
    let form = h
        .click
        .complete(id, "o-1", prepare_id, "1000", 0)
        .set("sign_string", without_id);
    assert_eq!(send(&h, Endpoint::Complete, &form).await, -1);
    assert_eq!(h.state(id).await, Some(TransactionState::Prepared));
}

/// Bad inputs 25 and 33: each amount form, signed over its own raw text, is accepted.
#[tokio::test]
async fn b25_c33_every_amount_form_verifies_over_its_raw_text() {
    let h = harness().await;
    h.orders.insert("o-1000", payable("1000"));
    h.orders.insert("o-1500", payable("1500.50"));
    for (n, (order, sent)) in [
        ("o-1000", "1000"),
        ("o-1000", "1000.0"),
        ("o-1000", "1000.00"),
        ("o-1500", "1500.5"),
        ("o-1500", "1500.50"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = 10 + i64::try_from(n).expect("small");
        let answer = h.prepare(id, order, sent).await;
        assert_eq!(code(&answer), 0, "{sent}");
        let prepare_id = answer.merchant_prepare_id().expect("id").get();
        let cancel = h.complete(id, order, prepare_id, sent, -5017).await;
        assert_eq!(code(&cancel), -9, "Complete of {sent} verifies too");
    }
}

/// Bad inputs 26 and 27: several services, each with its secrets; rotation.
#[tokio::test]
async fn b26_b27_services_and_secret_rotation() {
    let orders = TestOrders::new();
    orders.insert("o-1", payable("1000"));
    let (first, second) = (ServiceId::new(101), ServiceId::new(102));
    let keyring = Keyring::new()
        .service(first, SecretKey::new("new"))
        .retired_secret(first, SecretKey::new("old"))
        .service(second, SecretKey::new("second"));
    let shop = Shop::new(keyring, MemoryStore::new(orders.clone()));
    let ask = |click: Click, id: i64| {
        let shop = shop.clone();
        async move {
            let body = click.prepare(id, "o-1", "1000").encode();
            code(&shop.handle(Endpoint::Prepare, body.as_bytes()).await)
        }
    };
    assert_eq!(ask(Click::new(first, SecretKey::new("new")), 1).await, 0);
    assert_eq!(
        ask(Click::new(first, SecretKey::new("old")), 2).await,
        0,
        "retired secret"
    );
    assert_eq!(
        ask(Click::new(second, SecretKey::new("second")), 3).await,
        0
    );
    assert_eq!(
        ask(Click::new(second, SecretKey::new("new")), 4).await,
        -1,
        "other service's secret"
    );
    assert_eq!(
        ask(Click::new(ServiceId::new(7), SecretKey::new("new")), 5).await,
        -1,
        "unknown service"
    );
    let rotated = Shop::new(
        Keyring::new().service(first, SecretKey::new("new")),
        MemoryStore::new(orders),
    );
    let body = Click::new(first, SecretKey::new("old"))
        .prepare(6, "o-1", "1000")
        .encode();
    assert_eq!(
        code(&rotated.handle(Endpoint::Prepare, body.as_bytes()).await),
        -1,
        "removed secret"
    );
}

/// Bad input 30: every re-split of a captured signed Complete's `merchant_trans_id ‖ merchant_prepare_id
/// ‖ amount` keeps a valid signature, and none is accepted.
#[tokio::test]
async fn b30_field_boundary_resplits_never_succeed() {
    let h = harness().await;
    h.orders.insert("A1", payable("1000"));
    h.orders.insert("A11", payable("1000"));
    let (id, prepare_id) = h.prepared("A1", "1000").await;
    let joined = format!("A1{prepare_id}1000");
    let mut tried = 0;
    for i in 1..joined.len() {
        for j in i..joined.len() {
            let (mti, pid, amount) = (&joined[..i], &joined[i..j], &joined[j..]);
            if (mti, pid, amount) == ("A1", &*prepare_id.to_string(), "1000") {
                continue;
            }
            let form = h
                .click
                .complete(id, "A1", prepare_id, "1000", 0)
                .set("merchant_trans_id", mti)
                .set("merchant_prepare_id", pid)
                .set("amount", amount);
            let answer = send(&h, Endpoint::Complete, &form).await;
            assert!(
                [-8, -6, -5, -2].contains(&answer),
                "{mti}|{pid}|{amount}: {answer}"
            );
            tried += 1;
        }
    }
    assert!(tried > 10);
    assert_eq!(h.state(id).await, Some(TransactionState::Prepared));
    assert_eq!(h.orders.deliveries("A1") + h.orders.deliveries("A11"), 0);
}

/// Bad input 31: a digest over `m ‖ padding ‖ ext` puts MD5 padding bytes and `ext` into `sign_time`,
/// which its grammar refuses.
#[tokio::test]
async fn b31_length_extension_shapes_are_minus_8() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let form = h.click.prepare(1, "o-1", "1000");
    let extended = form.encode().replace(
        "sign_time=2024-01-31+12%3A30%3A00",
        "sign_time=2024-01-31+12%3A30%3A00%80%00%00%00%00%00%00%00%B8%01%00%00%00%00%00%00ext",
    );
    assert_eq!(raw(&h, Endpoint::Prepare, &extended).await, -8);
    let printable = h
        .click
        .sign(form.set("sign_time", "2024-01-31 12:30:00ext"));
    assert_eq!(send(&h, Endpoint::Prepare, &printable).await, -8);
}

/// Bad inputs 34–41: amounts that are wrong, negative, exotic or over-precise answer `-2` when signed
/// (and `-1` when not: the grammar is checked after the signature).
#[tokio::test]
async fn c34_c41_bad_amounts_are_minus_2() {
    let h = harness().await;
    h.orders.insert("o-1000", payable("1000"));
    let many_digits = "9".repeat(29);
    for sent in [
        "999.99",
        "1",
        "100001",
        "0",
        "0.00",
        "-0",
        "-1000",
        "1e3",
        "1E3",
        "1_000",
        "+1000",
        ".5",
        "1000.",
        "00001000",
        "1000.001",
        "1000.0000000000000000000000000001",
        &many_digits,
        " 1000",
        "1000 ",
        "1,000.00",
        "١٠٠٠",
        "0x3E8",
        "NaN",
        "inf",
    ] {
        let form = h.click.prepare(1, "o-1000", sent);
        assert_eq!(send(&h, Endpoint::Prepare, &form).await, -2, "{sent:?}");
        let unsigned = form.set("sign_string", "0".repeat(32));
        assert_eq!(
            send(&h, Endpoint::Prepare, &unsigned).await,
            -1,
            "{sent:?} unsigned"
        );
    }
    assert_eq!(h.transaction(1).await, None);
}

#[tokio::test]
async fn d46_malformed_or_unknown_prepare_ids() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    for bad in ["abc", "-1", "12345678901234567890", "01", " 1"] {
        let form = h.click.sign(
            h.click
                .complete(id, "o-1", prepare_id, "1000", 0)
                .set("merchant_prepare_id", bad),
        );
        assert_eq!(send(&h, Endpoint::Complete, &form).await, -8, "{bad:?}");
    }
    assert_eq!(code(&h.complete(id, "o-1", 0, "1000", 0).await), -6);
    assert_eq!(h.state(id).await, Some(TransactionState::Prepared));
}

#[tokio::test]
async fn d57_error_must_be_zero_or_negative() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    for bad in ["abc", "1", "", "-0", "+0"] {
        let form = h
            .click
            .complete(id, "o-1", prepare_id, "1000", 0)
            .set("error", bad);
        assert_eq!(
            send(&h, Endpoint::Complete, &form).await,
            -8,
            "error={bad:?}"
        );
    }
    let form = h
        .click
        .complete(id, "o-1", prepare_id, "1000", 0)
        .remove("error");
    assert_eq!(send(&h, Endpoint::Complete, &form).await, -8);
    assert_eq!(h.state(id).await, Some(TransactionState::Prepared));
}

/// Bad input 59: reservations never expire inside the SDK, so a late Complete of a prepared payment is
/// confirmed (`0`); if the goods went elsewhere, the delivery hook fails and the payment is reported
/// for reversal (the conformance case `delivery_failure_answers_0_with_reversal`).
#[tokio::test]
async fn d59_a_late_complete_is_still_confirmed() {
    let h = harness().await;
    h.orders.insert("o-1", payable("1000"));
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    h.orders.insert("o-1", Order::Closed);
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(h.orders.deliveries("o-1"), 1);
}

/// Bad input 60 with the store itself failing (not a hook): `-7` on both callbacks, state unchanged,
/// then Click's retry succeeds.
#[tokio::test]
async fn d60_store_failure_is_minus_7_and_recoverable() {
    let down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let switch = Arc::clone(&down);
    let h = instrumented(move || {
        if switch.load(Ordering::SeqCst) {
            Err(StoreError::backend(std::io::Error::other(
                "connection refused",
            )))
        } else {
            Ok(())
        }
    })
    .await;
    h.orders.insert("o-1", payable("1000"));
    down.store(true, Ordering::SeqCst);
    assert_eq!(code(&h.prepare(1, "o-1", "1000").await), -7);
    down.store(false, Ordering::SeqCst);
    let (id, prepare_id) = h.prepared("o-1", "1000").await;
    down.store(true, Ordering::SeqCst);
    assert_eq!(
        code(&h.complete(id, "o-1", prepare_id, "1000", 0).await),
        -7
    );
    down.store(false, Ordering::SeqCst);
    assert_eq!(h.state(id).await, Some(TransactionState::Prepared));
    assert_eq!(code(&h.complete(id, "o-1", prepare_id, "1000", 0).await), 0);
    assert_eq!(h.orders.deliveries("o-1"), 1);
}
