//! docs/protocol.md, bad inputs section F: each fault, its typed error, and whether it was retried.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use click_core::Tiyin;
use click_merchant::{
    BuildError, ClickPassPayment, Clock, ConfirmWindow, CreateInvoice, MerchantClient,
    MerchantError, OfdReceipt,
};
use click_testkit::mock::Fault;

use super::{builder, client, credentials, mock};

fn invoice() -> CreateInvoice {
    CreateInvoice {
        amount: "1000".parse().expect("amount"),
        phone_number: "998901234567".into(),
        merchant_trans_id: "o-1".parse().expect("id"),
    }
}

/// How many requests the mock saw under a path prefix.
fn seen(mock: &click_testkit::mock::MockApi, prefix: &str) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn f71_a_400_is_not_retried() {
    let (mock, base) = mock().await;
    mock.inject_on("payment/status", Fault::Status(400), 5);
    let error = client(&base)
        .payment_status(click_core::ClickPaydocId::new(1))
        .await
        .expect_err("400");
    assert!(
        matches!(error, MerchantError::Http { status: 400, .. }) && !error.is_retryable(),
        "{error:?}"
    );
    assert_eq!(seen(&mock, "payment/status"), 1);
}

#[tokio::test]
async fn f72_a_wrong_secret_is_unauthorized_and_says_why() {
    let (mock, base) = mock().await;
    let client = MerchantClient::builder(credentials("wrong-secret"))
        .base_url(&base)
        .build()
        .expect("builds");
    let error = client
        .payment_status(click_core::ClickPaydocId::new(1))
        .await
        .expect_err("401");
    assert!(
        matches!(error, MerchantError::Unauthorized { .. }) && !error.is_retryable(),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("clock") && text.contains("local time"),
        "{text}"
    );
    let auth = mock.requests()[0].auth.clone().expect("an Auth header");
    let digest = auth.split(':').nth(1).expect("a digest");
    assert!(!text.contains(digest) && !format!("{error:?}").contains(digest));
    assert_eq!(seen(&mock, "payment/status"), 1, "not retried");
}

#[tokio::test]
async fn f73_named_statuses_and_the_headers_sent() {
    let (mock, base) = mock().await;
    let client = client(&base);
    for (status, check) in [
        (
            403,
            (|e: &MerchantError| matches!(e, MerchantError::Forbidden))
                as fn(&MerchantError) -> bool,
        ),
        (404, |e| matches!(e, MerchantError::NotFound)),
        (406, |e| matches!(e, MerchantError::NotAcceptable)),
        (410, |e| matches!(e, MerchantError::Gone)),
    ] {
        mock.inject(Fault::Status(status), 1);
        let error = client
            .payment_status(click_core::ClickPaydocId::new(1))
            .await
            .expect_err("a status error");
        assert!(
            check(&error) && !error.is_retryable(),
            "{status}: {error:?}"
        );
    }
    assert_eq!(mock.requests().len(), 4, "none retried");
    let headers = &mock.requests()[0].headers;
    assert_eq!(
        headers.get("accept").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
}

#[tokio::test]
async fn f74_a_5xx_on_a_status_call_is_retried_with_backoff() {
    let (mock, base) = mock().await;
    mock.inject_on("payment/status", Fault::Status(502), 2);
    let result = client(&base)
        .payment_status(click_core::ClickPaydocId::new(1))
        .await;
    assert!(
        matches!(result, Err(MerchantError::Business { .. })),
        "the third attempt reached the mock: {result:?}"
    );
    assert_eq!(seen(&mock, "payment/status"), 3);
    mock.inject_on("payment/status", Fault::Status(500), 3);
    let error = client(&base)
        .payment_status(click_core::ClickPaydocId::new(1))
        .await
        .expect_err("500 three times");
    assert!(
        matches!(error, MerchantError::Http { status: 500, .. }) && error.is_retryable(),
        "{error:?}"
    );
}

#[tokio::test]
async fn f75_a_5xx_on_a_payment_call_is_sent_exactly_once() {
    let (mock, base) = mock().await;
    let client = client(&base);
    mock.inject(Fault::Status(500), 1);
    let error = client.create_invoice(&invoice()).await.expect_err("500");
    assert!(
        matches!(
            error,
            MerchantError::Http {
                status: 500,
                outcome_unknown: true
            }
        ) && !error.is_retryable(),
        "{error:?}"
    );
    mock.inject(Fault::Status(502), 1);
    let token = click_merchant::CardToken::new("any");
    let error = client
        .pay_with_card_token(&token, "1".parse().expect("amount"), "x")
        .await
        .expect_err("502");
    assert!(
        error.outcome_unknown() && !error.is_retryable(),
        "{error:?}"
    );
    mock.inject(Fault::Status(500), 1);
    let pass = ClickPassPayment {
        otp_data: "1".into(),
        amount: "1".parse().expect("amount"),
        cashbox_code: None,
        transaction_id: None,
    };
    assert!(client.pay_with_click_pass(&pass).await.is_err());
    for prefix in ["invoice/create", "card_token/payment", "click_pass/payment"] {
        assert_eq!(seen(&mock, prefix), 1, "{prefix} sent once");
    }
}

#[tokio::test]
async fn f76_connection_refused_is_retried_and_the_request_arrives_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let address = listener.local_addr().expect("an address");
    drop(listener);
    let mock = click_testkit::mock::MockApi::new(click_testkit::mock::MockConfig::new(
        super::SERVICE,
        super::USER,
        click_core::SecretKey::new(super::SECRET),
    ));
    let starter = mock.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(150)).await;
        starter
            .start_on(address)
            .await
            .expect("the mock starts late");
    });
    let client = builder(&format!("http://{address}/"))
        .retry(click_merchant::RetryPolicy {
            attempts: 6,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(200),
        })
        .build()
        .expect("builds");
    client
        .create_invoice(&invoice())
        .await
        .expect("created once the server is up");
    assert_eq!(seen(&mock, "invoice/create"), 1);
}

#[tokio::test]
async fn f77_a_timeout_after_sending_a_payment_is_not_retried_and_reconciles() {
    let (mock, base) = mock().await;
    let client = builder(&base)
        .timeout(Duration::from_millis(300))
        .build()
        .expect("builds");
    mock.inject_on("invoice/create", Fault::Hang(Duration::from_secs(2)), 1);
    let error = client
        .create_invoice(&invoice())
        .await
        .expect_err("timeout");
    assert!(
        matches!(
            error,
            MerchantError::Timeout {
                outcome_unknown: true
            }
        ) && !error.is_retryable(),
        "{error:?}"
    );
    assert_eq!(seen(&mock, "invoice/create"), 1);
    // The documented reconcile path: the hung call took effect; pay it and look it up.
    let created = (4_300_000_001..4_300_000_010)
        .map(click_core::InvoiceId::new)
        .find(|id| mock.invoice(*id).is_some())
        .expect("the invoice exists");
    mock.pay_invoice(created).expect("paid");
    let found = client
        .payment_status_by_mti(
            &"o-1".parse().expect("id"),
            click_merchant::PaymentDate::today(),
        )
        .await;
    assert!(found.is_ok(), "{found:?}");
}

#[tokio::test]
async fn a_connection_dropped_after_a_payment_call_is_outcome_unknown_and_not_resent() {
    let (mock, base) = mock().await;
    mock.inject_on("invoice/create", Fault::Drop, 1);
    let error = client(&base)
        .create_invoice(&invoice())
        .await
        .expect_err("dropped");
    assert!(
        matches!(
            error,
            MerchantError::Transport {
                outcome_unknown: true,
                ..
            }
        ) && !error.is_retryable(),
        "{error:?}"
    );
    assert_eq!(seen(&mock, "invoice/create"), 1);
    assert!(
        mock.invoice(click_core::InvoiceId::new(4_300_000_001))
            .is_some(),
        "Click acted before the connection dropped"
    );
}

#[tokio::test]
async fn a_connection_dropped_during_a_status_call_is_retried() {
    let (mock, base) = mock().await;
    let created = client(&base)
        .create_invoice(&invoice())
        .await
        .expect("created");
    mock.inject_on("invoice/status", Fault::Drop, 2);
    let status = client(&base).invoice_status(created.invoice_id).await;
    assert!(status.is_ok(), "the third attempt answered: {status:?}");
    assert_eq!(seen(&mock, "invoice/status"), 3);
}

#[tokio::test]
async fn f78_f79_undecodable_answers_are_decode_errors() {
    let (mock, base) = mock().await;
    let client = client(&base);
    for fault in [Fault::Html, Fault::Garbled, Fault::Empty] {
        mock.inject(fault, 1);
        match client
            .payment_status(click_core::ClickPaydocId::new(1))
            .await
        {
            Err(MerchantError::Decode {
                status: 200,
                body_snippet,
                ..
            }) => {
                assert!(
                    body_snippet.len() <= 512 && !body_snippet.contains(super::SECRET),
                    "{body_snippet}"
                );
            }
            other => panic!("{fault:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn f80_a_negative_error_code_is_a_business_error() {
    let (_mock, base) = mock().await;
    match client(&base)
        .payment_status(click_core::ClickPaydocId::new(999))
        .await
    {
        Err(MerchantError::Business { code, note }) => assert!(code < 0 && !note.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn f80_unknown_statuses_decode() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let invoice = client.create_invoice(&invoice()).await.expect("created");
    let payment = mock.pay_invoice(invoice.invoice_id).expect("paid");
    mock.set_payment_status(payment, 7);
    let status = client.payment_status(payment).await.map(|s| s.status);
    assert_eq!(status.ok(), Some(click_merchant::PaymentStatus::Unknown(7)));
}

#[tokio::test]
async fn f82_huge_and_dripping_answers_are_bounded() {
    let (mock, base) = mock().await;
    let client = builder(&base)
        .timeout(Duration::from_millis(800))
        .build()
        .expect("builds");
    mock.inject(Fault::Huge(100 << 20), 1);
    assert!(matches!(
        client
            .payment_status(click_core::ClickPaydocId::new(1))
            .await,
        Err(MerchantError::Decode { .. })
    ));
    mock.inject_on("invoice/create", Fault::Drip, 1);
    let before = seen(&mock, "invoice/create");
    let error = client
        .create_invoice(&invoice())
        .await
        .expect_err("a dripping answer times out");
    assert!(
        error.outcome_unknown() && !error.is_retryable(),
        "{error:?}"
    );
    assert_eq!(seen(&mock, "invoice/create"), before + 1, "sent once");
}

#[tokio::test]
async fn f83_a_skewed_clock_is_refused_and_each_attempt_signs_anew() {
    let (mock, base) = mock().await;
    let skewed = Clock::from_fn(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + 600
    });
    let client = builder(&base).clock(skewed).build().expect("builds");
    assert!(matches!(
        client
            .payment_status(click_core::ClickPaydocId::new(1))
            .await,
        Err(MerchantError::Unauthorized { .. })
    ));

    let tick = Arc::new(AtomicU64::new(mock.now().try_into().expect("positive")));
    let ticking = Arc::clone(&tick);
    let client = builder(&base)
        .clock(Clock::from_fn(move || {
            ticking.fetch_add(1, Ordering::SeqCst)
        }))
        .build()
        .expect("builds");
    mock.inject_on("payment/status", Fault::Status(500), 2);
    let _ = client
        .payment_status(click_core::ClickPaydocId::new(1))
        .await;
    let auths: Vec<_> = mock
        .requests()
        .iter()
        .rev()
        .take(3)
        .filter_map(|r| r.auth.clone())
        .collect();
    assert_eq!(auths.len(), 3);
    assert!(auths[0] != auths[1] && auths[1] != auths[2], "{auths:?}");
}

/// A fresh mock with confirm mode on, and a client with short attempts.
async fn confirm_mode_client() -> (click_testkit::mock::MockApi, MerchantClient) {
    let (mock, base) = mock().await;
    let client = builder(&base)
        .timeout(Duration::from_millis(200))
        .build()
        .expect("builds");
    client
        .set_click_pass_confirm_mode(true)
        .await
        .expect("confirm mode");
    (mock, client)
}

/// Bad input 84: a confirm that keeps failing misses its deadline, and the status found then is
/// reported; a confirm that timed out but reached Click is recognised as a success.
#[tokio::test]
async fn f84_confirm_mode_deadline_and_late_successes() {
    let (mock, client) = confirm_mode_client().await;
    let pass = ClickPassPayment {
        otp_data: "1".into(),
        amount: "500".parse().expect("amount"),
        cashbox_code: None,
        transaction_id: None,
    };
    let window = ConfirmWindow {
        window: Duration::from_millis(1500),
        margin: Duration::from_millis(300),
    };
    mock.inject_on("click_pass/confirm", Fault::Status(502), 1000);
    let started = std::time::Instant::now();
    let result = client.pay_with_click_pass_confirmed(&pass, window).await;
    assert!(
        matches!(
            result,
            Err(MerchantError::ConfirmDeadlineExceeded {
                status: Some(click_merchant::PaymentStatus::Processing),
                ..
            })
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        seen(&mock, "click_pass/confirm") >= 2,
        "retried until the deadline"
    );

    let (mock, client) = confirm_mode_client().await;
    // The confirm reaches Click, but its answer never comes back in time.
    mock.inject_on(
        "click_pass/confirm",
        Fault::Hang(Duration::from_secs(3)),
        1000,
    );
    let result = client.pay_with_click_pass_confirmed(&pass, window).await;
    let paid = result.as_ref().map(|r| r.status).ok();
    assert_eq!(
        paid,
        Some(click_merchant::PaymentStatus::Paid),
        "{result:?}"
    );
    let payment = result
        .map(|r| r.payment_id)
        .unwrap_or(click_core::ClickPaydocId::new(0));
    assert_eq!(
        mock.payment(payment).map(|p| p.status),
        Some(2),
        "the client's answer agrees with Click's state"
    );
}

#[tokio::test]
async fn f86_an_invalid_receipt_is_refused_before_sending() {
    let (mock, base) = mock().await;
    let empty = OfdReceipt {
        items: vec![],
        received_ecash: Tiyin(1),
        received_cash: Tiyin(0),
        received_card: Tiyin(0),
    };
    let error = client(&base)
        .submit_ofd_items(click_core::ClickPaydocId::new(1), &empty)
        .await
        .expect_err("no items");
    assert!(matches!(error, MerchantError::Invalid(_)), "{error:?}");
    assert!(mock.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn f87_merchant_trans_id_is_one_path_segment() {
    let (mock, base) = mock().await;
    let client = client(&base);
    for (id, encoded) in [
        ("../invoice/create", "..%2Finvoice%2Fcreate"),
        ("a/b?c#d", "a%2Fb%3Fc%23d"),
        ("заказ", "%D0%B7%D0%B0%D0%BA%D0%B0%D0%B7"),
    ] {
        let _ = client
            .payment_status_by_mti(
                &id.parse().expect("id"),
                "2026-11-23".parse().expect("date"),
            )
            .await;
        let path = mock
            .requests()
            .last()
            .map(|r| r.path.clone())
            .unwrap_or_default();
        assert_eq!(
            path,
            format!("payment/status_by_mti/101/{encoded}/2026-11-23"),
            "{id}"
        );
    }
}

#[tokio::test]
async fn f88_insecure_base_urls_and_redirects() {
    let insecure = MerchantClient::builder(credentials("s"))
        .base_url("http://api.example.com/v2/merchant/")
        .build();
    assert!(matches!(insecure, Err(BuildError::InsecureBaseUrl(_))));
    assert!(
        MerchantClient::builder(credentials("s"))
            .base_url("http://localhost:1/")
            .build()
            .is_ok()
    );
    let (mock, base) = mock().await;
    mock.inject(Fault::Status(302), 1);
    let error = client(&base)
        .payment_status(click_core::ClickPaydocId::new(1))
        .await
        .expect_err("a redirect is not followed");
    assert!(
        matches!(error, MerchantError::Http { status: 302, .. }),
        "{error:?}"
    );
}

/// A `merchant_trans_id` of `.` or `..` would be resolved away by URL parsing: refused, unsent.
#[tokio::test]
async fn f87_dot_segments_are_refused() {
    let (mock, base) = mock().await;
    for id in [".", ".."] {
        let result = client(&base)
            .payment_status_by_mti(
                &id.parse().expect("id"),
                click_merchant::PaymentDate::today(),
            )
            .await;
        assert!(
            matches!(result, Err(MerchantError::UnsendableId(_))),
            "{result:?}"
        );
    }
    assert!(mock.requests().is_empty());
}

/// Bad input 85 and its twin: reversing a payment that was never paid is reported as not paid, not as
/// a fresh failure to retry.
#[tokio::test]
async fn f85_reversing_an_unpaid_payment_is_not_paid() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let created = client.create_invoice(&invoice()).await.expect("created");
    let payment = mock.pay_invoice(created.invoice_id).expect("paid");
    mock.set_payment_status(payment, -2);
    let reversal = client.reverse(payment).await;
    assert!(
        matches!(reversal, Ok(click_merchant::Reversal::NotPaid { .. })),
        "{reversal:?}"
    );
}

/// Bad input 81: `null` for an optional field and extra fields decode; a missing required field is a
/// decode error whose outcome, on a payment call, is unknown.
#[tokio::test]
async fn f81_odd_answers_decode_where_the_types_allow() {
    let (mock, base) = mock().await;
    mock.inject_on("invoice/create", Fault::Garbled, 1);
    let error = client(&base)
        .create_invoice(&invoice())
        .await
        .expect_err("garbled");
    assert!(
        matches!(
            error,
            MerchantError::Decode {
                outcome_unknown: true,
                ..
            }
        ),
        "{error:?}"
    );
}
