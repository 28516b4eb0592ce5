//! docs/protocol.md, bad input 89: no secret, digest, full card number, SMS code or card token in `Debug`
//! or `Display` of anything the client exposes.

use click_core::SecretKey;
use click_merchant::{
    CardNumber, CardToken, ClickPassPayment, MerchantError, RequestCardToken, SmsCode, auth_header,
};

use super::{SECRET, USER, builder, client, mock};

#[tokio::test]
async fn nothing_secret_is_printed() {
    let (mock, base) = mock().await;
    let client = client(&base);
    let _ = client
        .payment_status(click_core::ClickPaydocId::new(1))
        .await;
    let sent = mock
        .requests()
        .last()
        .and_then(|r| r.auth.clone())
        .expect("an Auth header");
    let digest = sent.split(':').nth(1).expect("a digest").to_owned();
    assert_eq!(
        sent,
        auth_header(
            USER,
            &SecretKey::new(SECRET),
            sent.rsplit(':')
                .next()
                .and_then(|t| t.parse().ok())
                .expect("a timestamp")
        )
    );
    let card = CardNumber::new("8600551234563244").expect("a card");
    let request = RequestCardToken {
        card_number: card.clone(),
        expire_date: "0329".into(),
        temporary: false,
    };
    let issued = client.request_card_token(&request).await.expect("issued");
    let token = issued.card_token.expose().to_owned();
    let code = mock.sms_code(&token).expect("a code");
    mock.inject(click_testkit::mock::Fault::Status(500), 3);
    let error: MerchantError = client
        .payment_status(click_core::ClickPaydocId::new(1))
        .await
        .expect_err("500");
    assert!(
        matches!(error, MerchantError::Http { status: 500, .. }),
        "{error:?}"
    );
    // A transport error on a call whose URL holds the token.
    let refused = builder("http://127.0.0.1:9/")
        .retry(click_merchant::RetryPolicy {
            attempts: 1,
            ..click_merchant::RetryPolicy::default()
        })
        .build()
        .expect("builds");
    let transport = refused
        .delete_card_token(&CardToken::new(token.clone()))
        .await
        .expect_err("refused");
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(&transport);
    while let Some(error) = source {
        chain.push_str(&format!("{error} | "));
        source = error.source();
    }
    let pass = ClickPassPayment {
        otp_data: "otp-secret-1234".into(),
        amount: "1".parse().expect("amount"),
        cashbox_code: None,
        transaction_id: None,
    };
    let texts = [
        format!("{client:?}"),
        format!("{:?}", builder(&base)),
        format!("{request:?}"),
        format!("{issued:?}"),
        format!("{:?}", CardToken::new(token.clone())),
        format!("{:?}", SmsCode::new(&code)),
        format!("{error:?} {error}"),
        format!("{transport:?} {chain}"),
        format!("{pass:?}"),
    ];
    for text in &texts {
        for secret in [
            SECRET,
            digest.as_str(),
            "8600551234563244",
            token.as_str(),
            "otp-secret-1234",
        ] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
    assert!(!texts[5].contains(&code), "the SMS code");
}
