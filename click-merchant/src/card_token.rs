//! Card tokens: save a card (confirmed by an SMS code), then charge it without the customer.

use std::fmt;

use click_core::{Amount, ClickPaydocId};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{MerchantClient, Safety, Shape};
use crate::error::MerchantError;
use crate::status::PaymentStatus;
use crate::wire;

/// A full card number: ASCII digits only (spaces are dropped), 16 to 19 of them. Its `Debug`
/// shows the first 6 and last 4 digits only.
#[derive(Clone, PartialEq, Eq)]
pub struct CardNumber(String);

impl CardNumber {
    /// Checks and wraps a card number.
    pub fn new(number: &str) -> Option<Self> {
        let digits: String = number.chars().filter(|c| *c != ' ').collect();
        ((16..=19).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
            .then_some(Self(digits))
    }

    /// The masked form, `860055******3244`.
    pub fn masked(&self) -> String {
        let (head, tail) = (&self.0[..6], &self.0[self.0.len() - 4..]);
        format!("{head}{}{tail}", "*".repeat(self.0.len() - 10))
    }
}

impl fmt::Debug for CardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CardNumber({})", self.masked())
    }
}

/// A saved card's token. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CardToken(String);

impl CardToken {
    /// Wraps a stored token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token, to store it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for CardToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CardToken(..)")
    }
}

/// `POST card_token/request`: ask Click to tokenize a card; Click sends the holder an SMS code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestCardToken {
    /// The card.
    pub card_number: CardNumber,
    /// Its expiry, `MMYY`.
    pub expire_date: String,
    /// Whether the token is deleted after its first payment.
    pub temporary: bool,
}

#[derive(Serialize)]
struct RequestBody<'a> {
    service_id: i64,
    card_number: &'a str,
    expire_date: &'a str,
    temporary: u8,
}

/// The answer to [`RequestCardToken`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CardTokenIssued {
    /// The token, usable once verified.
    pub card_token: CardToken,
    /// The holder's phone, masked by Click, where the SMS code went.
    #[serde(default)]
    pub phone_number: Option<String>,
    /// Whether the token is temporary.
    #[serde(default, deserialize_with = "wire::flexible_option_i64")]
    pub temporary: Option<i64>,
}

/// The SMS code a card holder received, kept as its digits (`012345` stays `012345`). Its
/// `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmsCode(String);

impl SmsCode {
    /// The code, from the 4 to 8 digits the holder read (spaces around them ignored).
    pub fn new(digits: &str) -> Option<Self> {
        let digits = digits.trim();
        ((4..=8).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self(digits.to_owned()))
    }
}

impl Serialize for SmsCode {
    /// Click's field is an integer: a code without a leading zero is sent as a JSON number; one
    /// with a leading zero, which a JSON number cannot carry, as its digits in a string.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<u64>() {
            Ok(number) if !self.0.starts_with('0') => serializer.serialize_u64(number),
            _ => serializer.serialize_str(&self.0),
        }
    }
}

impl fmt::Debug for SmsCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmsCode(..)")
    }
}

/// The answer to [`MerchantClient::verify_card_token`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CardVerified {
    /// The card number, masked by Click.
    #[serde(default)]
    pub card_number: Option<String>,
}

/// The answer to a payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Payment {
    /// Click's payment id (it sometimes arrives as a string).
    #[serde(deserialize_with = "wire::flexible_id")]
    pub payment_id: ClickPaydocId,
    /// The status.
    #[serde(rename = "payment_status")]
    pub status: PaymentStatus,
}

impl MerchantClient {
    /// Requests a card token; Click texts the holder a code for
    /// [`verify_card_token`](Self::verify_card_token). Never retried.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn request_card_token(
        &self,
        request: &RequestCardToken,
    ) -> Result<CardTokenIssued, MerchantError> {
        let body = RequestBody {
            service_id: self.service_id().get(),
            card_number: &request.card_number.0,
            expire_date: &request.expire_date,
            temporary: u8::from(request.temporary),
        };
        self.call(
            Method::POST,
            &["card_token", "request"],
            Some(&body),
            Safety::Once,
            Shape::Private,
        )
        .await
    }

    /// Confirms a token with the holder's SMS code.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn verify_card_token(
        &self,
        token: &CardToken,
        sms_code: SmsCode,
    ) -> Result<CardVerified, MerchantError> {
        #[derive(Serialize)]
        struct Body<'a> {
            service_id: i64,
            card_token: &'a str,
            sms_code: &'a SmsCode,
        }
        let body = Body {
            service_id: self.service_id().get(),
            card_token: &token.0,
            sms_code: &sms_code,
        };
        self.call(
            Method::POST,
            &["card_token", "verify"],
            Some(&body),
            Safety::Once,
            Shape::Private,
        )
        .await
    }

    /// Charges a verified card. Never retried: a repeat could charge twice; after an unknown
    /// outcome, reconcile with [`payment_status_by_mti`](Self::payment_status_by_mti).
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn pay_with_card_token(
        &self,
        token: &CardToken,
        amount: Amount,
        transaction_parameter: &str,
    ) -> Result<Payment, MerchantError> {
        #[derive(Serialize)]
        struct Body<'a> {
            service_id: i64,
            card_token: &'a str,
            #[serde(serialize_with = "wire::amount")]
            amount: Amount,
            transaction_parameter: &'a str,
        }
        let body = Body {
            service_id: self.service_id().get(),
            card_token: &token.0,
            amount,
            transaction_parameter,
        };
        self.call(
            Method::POST,
            &["card_token", "payment"],
            Some(&body),
            Safety::Once,
            Shape::Private,
        )
        .await
    }

    /// Deletes a card token. Safe to repeat, so retried on transient failures.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn delete_card_token(&self, token: &CardToken) -> Result<(), MerchantError> {
        let service = self.service_id().to_string();
        let _: wire::Empty = self
            .call(
                Method::DELETE,
                &["card_token", &service, &token.0],
                None,
                Safety::Repeatable,
                Shape::Checked,
            )
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/protocol.md, bad input 89: no full card number, token or SMS code in `Debug`.
    #[test]
    fn debug_hides_card_data() {
        let card = CardNumber::new("8600 5512 3456 3244");
        assert_eq!(
            card.as_ref().map(CardNumber::masked).as_deref(),
            Some("860055******3244")
        );
        let text = format!(
            "{card:?} {:?} {:?}",
            CardToken::new("3B1DF3F1-7358"),
            SmsCode::new("123456")
        );
        for secret in ["8600551234563244", "3B1DF3F1", "123456"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(CardNumber::new("8600 55").is_none());
        assert!(CardNumber::new("8600-5512-3456-3244").is_none());
    }
}
