//! The tour as a merchant runs it against a real account, every input given (`--phone`,
//! `--card-number`, `--otp-data`, `--payment-id`, `--reverse`), against a mock that pays a Click
//! Pass code once and answers `status_by_mti` only on the payment's day.

use std::io::Write;
use std::process::{Command, Stdio};

use click_core::{Amount, MerchantUserId, SecretKey, ServiceId};
use click_merchant::PaymentDate;
use click_testkit::mock::{MockApi, MockConfig, Payment};

const OTP: &str = "1234567415821";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_every_input_exits_zero_and_pays_each_code_once() {
    let config = MockConfig {
        sms_code: Some("012345".into()),
        ..MockConfig::new(
            ServiceId::new(101),
            MerchantUserId::new(303),
            SecretKey::new("tour-secret"),
        )
    };
    let mock = MockApi::new(config);
    let base = mock.start().await.expect("the mock starts");
    let amount: Amount = "1000".parse().expect("amount");
    let paid = mock.record_payment(amount, "tour-1".parse().expect("id"), Payment::PAID);

    let payment_id = paid.to_string();
    let tour = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_merchant-tour"))
            .args(["--base-url", &base, "--phone", "998901234567"])
            .args(["--card-number", "8600551234563244", "--otp-data", OTP])
            .args(["--payment-id", &payment_id, "--reverse"])
            .env_remove("CLICK_SERVICE_ID")
            .env_remove("CLICK_MERCHANT_USER_ID")
            .env_remove("CLICK_SECRET_KEY")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the tour starts");
        // The card holder types the SMS code, leading zero included.
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"012345\n")
            .expect("the code is typed");
        child.wait_with_output().expect("the tour ends")
    })
    .await
    .expect("joined");
    let stdout = String::from_utf8_lossy(&tour.stdout);
    assert!(tour.status.success(), "{}\n{stdout}", tour.status);
    assert!(stdout.contains("tour complete"), "{stdout}");

    let requests = mock.requests();
    let to = |prefix: &str| {
        requests
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .collect::<Vec<_>>()
    };
    assert_eq!(to("click_pass/payment").len(), 1, "a QR code pays once");
    let by_mti = to("payment/status_by_mti/");
    assert_eq!(by_mti.len(), 1);
    assert!(
        by_mti[0]
            .path
            .ends_with(&format!("/tour-1/{}", PaymentDate::today())),
        "looked up at the payment's day: {}",
        by_mti[0].path
    );
    assert!(to("card_token/verify")[0].body.contains("012345"));
    assert_eq!(
        mock.payment(paid).map(|p| p.status),
        Some(Payment::REVERSED)
    );
}
