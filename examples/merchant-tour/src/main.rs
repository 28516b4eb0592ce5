//! Run with `cargo run -p merchant-tour`: calls every Merchant API endpoint once against a mock of
//! Click it starts itself, and prints each request and its typed answer.
//!
//! `--base-url https://api.click.uz/v2/merchant/` with your credentials (flags or `CLICK_*`
//! variables) smoke-tests your account instead. There, calls that send an SMS or move money run
//! only when you give their inputs (`--phone`, `--card-number` with `--card-expiry`,
//! `--otp-data`, `--payment-id`); nothing is reversed unless you also pass `--reverse`.

use std::fmt::Debug;
use std::process::ExitCode;

use clap::Parser;
use click_core::{
    ClickPaydocId, Credentials, MerchantId, MerchantUserId, SecretKey, ServiceId, Tiyin,
};
use click_merchant::{
    CardNumber, ClickPassPayment, CommissionInfo, ConfirmWindow, CreateInvoice, MerchantClient,
    MerchantError, OfdItem, OfdReceipt, RequestCardToken, SmsCode,
};
use click_testkit::mock::{MockApi, MockConfig};

/// Calls every Merchant API endpoint once.
#[derive(Parser)]
#[command(about)]
struct Args {
    /// The API to call; by default a mock started here.
    #[arg(long)]
    base_url: Option<String>,
    /// The service id.
    #[arg(long, env = "CLICK_SERVICE_ID", default_value = "101")]
    service_id: ServiceId,
    /// The merchant user id.
    #[arg(long, env = "CLICK_MERCHANT_USER_ID", default_value = "303")]
    merchant_user_id: MerchantUserId,
    /// The secret key.
    #[arg(
        long,
        env = "CLICK_SECRET_KEY",
        default_value = "tour-secret",
        hide_env_values = true,
        hide_default_value = true
    )]
    secret_key: String,
    /// A phone to send a real invoice to.
    #[arg(long)]
    phone: Option<String>,
    /// A card to tokenize (the holder receives an SMS code, asked on stdin).
    #[arg(long)]
    card_number: Option<String>,
    /// The card's expiry, MMYY.
    #[arg(long, default_value = "0329")]
    card_expiry: String,
    /// A Click Pass QR code's contents, to charge 1 so'm.
    #[arg(long)]
    otp_data: Option<String>,
    /// An existing payment to read (status, OFD data).
    #[arg(long)]
    payment_id: Option<ClickPaydocId>,
    /// The day `--payment-id` was paid (Tashkent time), for the lookup by `merchant_trans_id`;
    /// today by default.
    #[arg(long)]
    payment_date: Option<click_merchant::PaymentDate>,
    /// Also reverse the payment the tour made (real API).
    #[arg(long)]
    reverse: bool,
}

fn show<T: Debug>(call: &str, result: &Result<T, MerchantError>) {
    match result {
        Ok(answer) => println!("{call}\n  -> {answer:?}\n"),
        Err(error) => println!("{call}\n  -> error: {error} ({error:?})\n"),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let credentials = Credentials::new(
        args.service_id,
        MerchantId::new(0),
        args.merchant_user_id,
        SecretKey::new(args.secret_key.clone()),
    );
    let mock = match &args.base_url {
        Some(_) => None,
        None => Some(MockApi::new(MockConfig::new(
            args.service_id,
            args.merchant_user_id,
            SecretKey::new(args.secret_key.clone()),
        ))),
    };
    let base = match (&args.base_url, &mock) {
        (Some(base), _) => base.clone(),
        (None, Some(mock)) => match mock.start().await {
            Ok(base) => base,
            Err(error) => {
                eprintln!("the mock did not start: {error}");
                return ExitCode::FAILURE;
            }
        },
        (None, None) => unreachable!("a mock is made when no base URL is given"),
    };
    println!(
        "Merchant API at {base}{}\n",
        if mock.is_some() {
            " (a local mock)"
        } else {
            ""
        }
    );
    let client = match MerchantClient::builder(credentials).base_url(&base).build() {
        Ok(client) => client,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut failures = 0;
    let mut check = |ok: bool| failures += usize::from(!ok);
    let amount = |text: &str| {
        text.parse::<click_core::Amount>()
            .unwrap_or(click_core::Amount::ZERO)
    };

    // Invoices.
    let phone = args
        .phone
        .clone()
        .or_else(|| mock.as_ref().map(|_| "998901234567".to_owned()));
    let mut payment_id = args.payment_id;
    if let Some(phone) = phone {
        let invoice = CreateInvoice {
            amount: amount("1000"),
            phone_number: phone,
            merchant_trans_id: "tour-1"
                .parse()
                .unwrap_or_else(|_| unreachable!("a valid id")),
        };
        let created = client.create_invoice(&invoice).await;
        show(&format!("create_invoice({invoice:?})"), &created);
        check(created.is_ok());
        if let Ok(created) = created {
            let status = client.invoice_status(created.invoice_id).await;
            show(&format!("invoice_status({})", created.invoice_id), &status);
            check(status.is_ok());
            if let Some(mock) = &mock {
                payment_id = mock.pay_invoice(created.invoice_id).ok();
                println!(
                    "(the mock's customer pays invoice {}: payment {payment_id:?})\n",
                    created.invoice_id
                );
            }
        }
    }

    // Payments.
    if let Some(id) = payment_id {
        let status = client.payment_status(id).await;
        show(&format!("payment_status({id})"), &status);
        check(status.is_ok());
        // The day the payment was made: today for the invoice just paid.
        let date = args
            .payment_date
            .unwrap_or_else(click_merchant::PaymentDate::today);
        let by_mti = client
            .payment_status_by_mti(
                &"tour-1"
                    .parse()
                    .unwrap_or_else(|_| unreachable!("a valid id")),
                date,
            )
            .await;
        show(&format!("payment_status_by_mti(tour-1, {date})"), &by_mti);
        check(mock.is_none() || by_mti.is_ok());

        let item = OfdItem::builder(
            "Tour item, pcs",
            "10202001001000000",
            "1234567",
            Tiyin(100_000),
            1,
            Tiyin(10_714),
            12,
            CommissionInfo::Tin("123456789".into()),
        )
        .build();
        if let Ok(item) = item {
            let receipt = OfdReceipt {
                items: vec![item],
                received_ecash: Tiyin(100_000),
                received_cash: Tiyin(0),
                received_card: Tiyin(0),
            };
            let submitted = client.submit_ofd_items(id, &receipt).await;
            show(&format!("submit_ofd_items({id}, {receipt:?})"), &submitted);
            check(mock.is_none() || submitted.is_ok());
            let qr = client
                .submit_ofd_qrcode(
                    id,
                    "https://ofd.soliq.uz/epi?t=EZ000000000030&r=1&c=20221028171340&s=1",
                )
                .await;
            show(&format!("submit_ofd_qrcode({id}, …)"), &qr);
            let data = client.ofd_data(id).await;
            show(&format!("ofd_data({id})"), &data);
            check(mock.is_none() || data.is_ok());
        }
        if mock.is_some() || args.reverse {
            let reversed = client.reverse(id).await;
            show(&format!("reverse({id})"), &reversed);
            check(reversed.is_ok());
            let partial = client.reverse_partially(id, amount("1")).await;
            show(
                &format!("reverse_partially({id}, 1.00) [undocumented by Click]"),
                &partial,
            );
        }
    }

    // Card tokens.
    let card = args
        .card_number
        .clone()
        .or_else(|| mock.as_ref().map(|_| "8600551234563244".to_owned()));
    if let Some(card) = card.and_then(|c| CardNumber::new(&c)) {
        let request = RequestCardToken {
            card_number: card,
            expire_date: args.card_expiry.clone(),
            temporary: false,
        };
        let issued = client.request_card_token(&request).await;
        show(&format!("request_card_token({request:?})"), &issued);
        check(issued.is_ok());
        if let Ok(issued) = issued {
            let code = match &mock {
                Some(mock) => mock.sms_code(issued.card_token.expose()),
                None => {
                    println!("SMS code sent to the card holder:");
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .ok()
                        .map(|_| line.trim().to_owned())
                }
            };
            let code = code.as_deref().and_then(SmsCode::new);
            let Some(code) = code else {
                eprintln!("no SMS code: expected its digits");
                return ExitCode::FAILURE;
            };
            let verified = client.verify_card_token(&issued.card_token, code).await;
            show("verify_card_token(token, SmsCode(..))", &verified);
            check(verified.is_ok());
            let paid = client
                .pay_with_card_token(&issued.card_token, amount("1"), "tour-2")
                .await;
            show("pay_with_card_token(token, 1.00, tour-2)", &paid);
            check(paid.is_ok());
            let deleted = client.delete_card_token(&issued.card_token).await;
            show("delete_card_token(token)", &deleted);
            check(deleted.is_ok());
        }
    }

    // Click Pass: a QR code pays once, so a code given on the command line pays once, in confirm
    // mode; the mock also shows a plain payment, with a second code.
    let otps = match (&args.otp_data, &mock) {
        (Some(otp), _) => vec![otp.clone()],
        (None, Some(_)) => vec!["1234567415821".to_owned(), "1234567415822".to_owned()],
        (None, None) => Vec::new(),
    };
    let payment = |otp_data: &str, transaction_id: &str| ClickPassPayment {
        otp_data: otp_data.to_owned(),
        amount: amount("1"),
        cashbox_code: Some("TOUR".into()),
        transaction_id: Some(transaction_id.into()),
    };
    if let Some(otp) = otps.first() {
        let confirmed_payment = payment(otp, "tour-3");
        let on = client.set_click_pass_confirm_mode(true).await;
        show("set_click_pass_confirm_mode(true)", &on);
        let paid = client
            .pay_with_click_pass_confirmed(&confirmed_payment, ConfirmWindow::default())
            .await;
        show(
            &format!("pay_with_click_pass_confirmed({confirmed_payment:?})"),
            &paid,
        );
        check(paid.is_ok());
        let off = client.set_click_pass_confirm_mode(false).await;
        show("set_click_pass_confirm_mode(false)", &off);
    }
    if let Some(otp) = otps.get(1) {
        let plain_payment = payment(otp, "tour-4");
        let plain = client.pay_with_click_pass(&plain_payment).await;
        show(&format!("pay_with_click_pass({plain_payment:?})"), &plain);
        check(plain.is_ok());
        if let Ok(plain) = plain {
            let confirmed = client.confirm_click_pass(plain.payment_id).await;
            show(
                &format!("confirm_click_pass({})", plain.payment_id),
                &confirmed,
            );
        }
    }

    println!(
        "{}",
        if failures == 0 {
            "tour complete"
        } else {
            "tour finished with failures"
        }
    );
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
