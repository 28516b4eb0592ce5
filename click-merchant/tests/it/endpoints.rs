//! Every endpoint once, with its typed answer.

use click_core::Tiyin;
use click_merchant::{
    CardNumber, ClickPassPayment, CommissionInfo, ConfirmWindow, CreateInvoice, InvoiceStatus,
    OfdItem, OfdReceipt, PaymentStatus, RequestCardToken, Reversal, SmsCode,
};

use super::{client, mock};

/// The mock files a payment under the day it was made, in Tashkent: today.
fn today() -> click_merchant::PaymentDate {
    click_merchant::PaymentDate::today()
}

#[tokio::test]
async fn invoices_statuses_and_reversals() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let invoice = client
        .create_invoice(&CreateInvoice {
            amount: "25000.50".parse().expect("amount"),
            phone_number: "998901234567".into(),
            merchant_trans_id: "order/42?x".parse().expect("id"),
        })
        .await
        .expect("created");
    let state = client
        .invoice_status(invoice.invoice_id)
        .await
        .expect("status");
    assert_eq!(state.status, InvoiceStatus::Waiting);
    assert_eq!(
        mock.invoice(invoice.invoice_id)
            .map(|i| i.amount.to_string())
            .as_deref(),
        Some("25000.50"),
        "the amount arrived exactly"
    );

    let payment_id = mock.pay_invoice(invoice.invoice_id).expect("paid");
    assert_eq!(
        client
            .invoice_status(invoice.invoice_id)
            .await
            .map(|s| s.status)
            .ok(),
        Some(InvoiceStatus::Paid)
    );
    let status = client.payment_status(payment_id).await.expect("status");
    assert_eq!(
        (status.payment_id, status.status),
        (payment_id, PaymentStatus::Paid)
    );
    let by_mti = client
        .payment_status_by_mti(&"order/42?x".parse().expect("id"), today())
        .await
        .expect("found by merchant_trans_id");
    assert_eq!(by_mti.payment_id, payment_id);
    let another_day = client
        .payment_status_by_mti(
            &"order/42?x".parse().expect("id"),
            "2020-01-01".parse().expect("a date"),
        )
        .await;
    assert!(
        another_day.is_err(),
        "the lookup is by the payment's day: {another_day:?}"
    );

    assert_eq!(
        client.reverse(payment_id).await.ok(),
        Some(Reversal::Reversed { payment_id })
    );
    // Bad input 85: a repeated reversal is recognised, not reported as a fresh failure.
    assert!(matches!(
        client.reverse(payment_id).await,
        Ok(Reversal::NotPaid { .. })
    ));
    assert!(matches!(
        client.payment_status(payment_id).await.map(|s| s.status),
        Ok(PaymentStatus::Failed(_))
    ));
}

#[tokio::test]
async fn partial_reversal() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let invoice = client
        .create_invoice(&CreateInvoice {
            amount: "1000".parse().expect("amount"),
            phone_number: "998901234567".into(),
            merchant_trans_id: "o-1".parse().expect("id"),
        })
        .await
        .expect("created");
    let payment_id = mock.pay_invoice(invoice.invoice_id).expect("paid");
    let reversal = client
        .reverse_partially(payment_id, "400".parse().expect("amount"))
        .await;
    assert_eq!(reversal.ok(), Some(Reversal::Reversed { payment_id }));
    let left = mock.payment(payment_id).map(|p| p.reversed.to_string());
    assert_eq!(left.as_deref(), Some("400.00"));
}

#[tokio::test]
async fn card_tokens() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let card = CardNumber::new("8600 5512 3456 3244").expect("a card number");
    let issued = client
        .request_card_token(&RequestCardToken {
            card_number: card.clone(),
            expire_date: "0329".into(),
            temporary: false,
        })
        .await
        .expect("issued");
    // A code with a leading zero keeps it all the way (a JSON number would drop it).
    assert!(mock.set_sms_code(issued.card_token.expose(), "012345"));
    let wrong = SmsCode::new("12345").expect("digits");
    assert!(
        client
            .verify_card_token(&issued.card_token, wrong)
            .await
            .is_err(),
        "a wrong code is refused, the same number without its zero included"
    );
    let verified = client
        .verify_card_token(&issued.card_token, SmsCode::new("012345").expect("digits"))
        .await
        .expect("verified");
    assert!(
        verified
            .card_number
            .is_some_and(|masked| masked.contains('*'))
    );
    let payment = client
        .pay_with_card_token(
            &issued.card_token,
            "1500.5".parse().expect("amount"),
            "order-7",
        )
        .await
        .expect("paid");
    assert_eq!(payment.status, PaymentStatus::Paid);
    assert!(
        payment.payment_id.get() > 0,
        "a numeric-string payment id decodes (bad input 81)"
    );
    client
        .delete_card_token(&issued.card_token)
        .await
        .expect("deleted");

    let temporary = client
        .request_card_token(&RequestCardToken {
            card_number: card,
            expire_date: "0329".into(),
            temporary: true,
        })
        .await
        .expect("issued");
    let code = mock
        .sms_code(temporary.card_token.expose())
        .and_then(|c| SmsCode::new(&c))
        .expect("an SMS code");
    client
        .verify_card_token(&temporary.card_token, code)
        .await
        .expect("verified");
    client
        .pay_with_card_token(
            &temporary.card_token,
            "10".parse().expect("amount"),
            "order-8",
        )
        .await
        .expect("paid");
    assert!(
        matches!(
            client.delete_card_token(&temporary.card_token).await,
            Err(click_merchant::MerchantError::Business { .. })
        ),
        "a temporary token is gone after its payment"
    );
}

#[tokio::test]
async fn click_pass_with_and_without_confirm_mode() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let payment = ClickPassPayment {
        otp_data: "1234567415821".into(),
        amount: "500".parse().expect("amount"),
        cashbox_code: Some("KASSA-1".into()),
        transaction_id: Some("sale-1".into()),
    };
    let plain = client.pay_with_click_pass(&payment).await.expect("paid");
    assert_eq!(
        (plain.status, plain.needs_confirmation()),
        (PaymentStatus::Paid, false)
    );

    client
        .set_click_pass_confirm_mode(true)
        .await
        .expect("confirm mode on");
    let reused = client.pay_with_click_pass(&payment).await;
    assert!(reused.is_err(), "a QR code pays once: {reused:?}");
    let payment = ClickPassPayment {
        otp_data: "1234567415822".into(),
        ..payment
    };
    let pending = client
        .pay_with_click_pass(&payment)
        .await
        .expect("accepted");
    assert!(pending.needs_confirmation());
    client
        .confirm_click_pass(pending.payment_id)
        .await
        .expect("confirmed");
    assert_eq!(mock.payment(pending.payment_id).map(|p| p.status), Some(2));

    let payment = ClickPassPayment {
        otp_data: "1234567415823".into(),
        ..payment
    };
    let confirmed = client
        .pay_with_click_pass_confirmed(&payment, ConfirmWindow::default())
        .await
        .expect("paid and confirmed");
    assert_eq!(confirmed.status, PaymentStatus::Paid);
    client
        .set_click_pass_confirm_mode(false)
        .await
        .expect("confirm mode off");
    let payment = ClickPassPayment {
        otp_data: "1234567415824".into(),
        ..payment
    };
    assert!(
        !client
            .pay_with_click_pass(&payment)
            .await
            .expect("paid")
            .needs_confirmation()
    );
}

#[tokio::test]
async fn ofd_items_qr_link_and_data() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let invoice = client
        .create_invoice(&CreateInvoice {
            amount: "25000".parse().expect("amount"),
            phone_number: "998901234567".into(),
            merchant_trans_id: "o-9".parse().expect("id"),
        })
        .await
        .expect("created");
    let payment_id = mock.pay_invoice(invoice.invoice_id).expect("paid");
    let item = OfdItem::builder(
        "Coffee, pcs",
        "10202001001000000",
        "1234567",
        Tiyin(2_500_000),
        1,
        Tiyin(267_857),
        12,
        CommissionInfo::Tin("123456789".into()),
    )
    .barcode("4780000000010")
    .build()
    .expect("a valid item");
    let receipt = OfdReceipt {
        items: vec![item],
        received_ecash: Tiyin(2_500_000),
        received_cash: Tiyin(0),
        received_card: Tiyin(0),
    };
    client
        .submit_ofd_items(payment_id, &receipt)
        .await
        .expect("submitted");
    assert!(mock.ofd(payment_id).is_some());
    let fiscalized = client
        .ofd_data(payment_id)
        .await
        .map(|d| d.qr_code_url)
        .expect("read");
    assert!(
        fiscalized.is_some_and(|url| url.contains(&payment_id.to_string())),
        "the mock fiscalizes submitted items at once"
    );
    let link =
        "https://ofd.soliq.uz/epi?t=EZ000000000030&r=123456789&c=20221028171340&s=854971301623";
    client
        .submit_ofd_qrcode(payment_id, link)
        .await
        .expect("submitted");
    let data = client.ofd_data(payment_id).await.expect("read");
    assert_eq!(
        (data.payment_id, data.qr_code_url.as_deref()),
        (payment_id, Some(link))
    );
}
