//! [`Invoice`]: a `sendInvoice` for an order, in so'm, and the [`ProviderToken`] it is sent with.

use std::fmt;

use click_core::{Amount, MerchantTransId};

use crate::bot_api::{CURRENCY, LabeledPrice, MAX_PAYLOAD_BYTES, SendInvoice};

/// The CLICK Terminal token @BotFather gives a bot (Settings → Payments → CLICK Uzbekistan):
/// `…:TEST:…` for CLICK Terminal Test, `…:LIVE:…` for CLICK Terminal Live. A secret: never
/// printed (`Debug` shows which kind it is only).
#[derive(Clone, PartialEq, Eq)]
pub struct ProviderToken(String);

impl ProviderToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// Whether it is a live token (`:LIVE:` in the middle): real money.
    pub fn is_live(&self) -> bool {
        self.0.contains(":LIVE:")
    }

    /// The token, to send.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ProviderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_live() { "live" } else { "test" };
        write!(f, "ProviderToken({kind}, ..)")
    }
}

/// Why an invoice cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvoiceError {
    /// The order's `merchant_trans_id` is longer than Telegram's 128-byte payload.
    #[error("merchant_trans_id is {0} bytes; a Telegram invoice payload holds at most 128")]
    PayloadTooLong(usize),
    /// The title is empty or longer than 32 characters.
    #[error("an invoice title has 1 to 32 characters")]
    Title,
    /// The description is empty or longer than 255 characters.
    #[error("an invoice description has 1 to 255 characters")]
    Description,
    /// An amount of zero.
    #[error("an invoice's amount is more than zero")]
    ZeroAmount,
    /// More tiyin than the Bot API's integer holds.
    #[error("the amount does not fit the Bot API's integer")]
    AmountTooLarge,
}

/// An invoice for one order or account payment, in so'm.
///
/// ```
/// use click_core::Amount;
/// use click_telegram::{Invoice, ProviderToken};
///
/// let token = ProviderToken::new("123:TEST:abc");
/// let invoice = Invoice::new("order-42".parse()?, Amount::from_som(15_000)?, "Plov", "One portion")
///     .send_to(998_901_234_567, &token)?;
/// assert_eq!(invoice.payload, "order-42");
/// assert_eq!(invoice.currency, "UZS");
/// assert_eq!(invoice.prices[0].amount, 1_500_000); // tiyin
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    merchant_trans_id: MerchantTransId,
    amount: Amount,
    title: String,
    description: String,
    photo_url: Option<String>,
}

impl Invoice {
    /// An invoice of `amount` for the order or account `merchant_trans_id`.
    pub fn new(
        merchant_trans_id: MerchantTransId,
        amount: Amount,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            merchant_trans_id,
            amount,
            title: title.into(),
            description: description.into(),
            photo_url: None,
        }
    }

    /// Shows a product photo with the invoice.
    #[must_use]
    pub fn photo_url(mut self, url: impl Into<String>) -> Self {
        self.photo_url = Some(url.into());
        self
    }

    /// The `sendInvoice` parameters for the customer's private chat: one price line (the title)
    /// of the whole amount, in tiyin; the payload is the `merchant_trans_id`.
    ///
    /// # Errors
    ///
    /// The `merchant_trans_id` does not fit the payload, the title or description is out of
    /// Telegram's bounds, or the amount is zero.
    pub fn send_to(
        &self,
        chat_id: i64,
        provider_token: &ProviderToken,
    ) -> Result<SendInvoice, InvoiceError> {
        let payload = self.merchant_trans_id.as_str();
        if payload.len() > MAX_PAYLOAD_BYTES {
            return Err(InvoiceError::PayloadTooLong(payload.len()));
        }
        if !(1..=32).contains(&self.title.chars().count()) {
            return Err(InvoiceError::Title);
        }
        if !(1..=255).contains(&self.description.chars().count()) {
            return Err(InvoiceError::Description);
        }
        if self.amount == Amount::ZERO {
            return Err(InvoiceError::ZeroAmount);
        }
        let tiyin =
            i64::try_from(self.amount.tiyin().get()).map_err(|_| InvoiceError::AmountTooLarge)?;
        Ok(SendInvoice {
            chat_id,
            title: self.title.clone(),
            description: self.description.clone(),
            payload: payload.to_owned(),
            provider_token: provider_token.expose().to_owned(),
            currency: CURRENCY.to_owned(),
            prices: vec![LabeledPrice {
                label: self.title.clone(),
                amount: tiyin,
            }],
            photo_url: self.photo_url.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invoice(id: &str, title: &str, description: &str) -> Invoice {
        Invoice::new(
            id.parse().expect("a valid id"),
            Amount::from_som(1000).expect("an amount"),
            title,
            description,
        )
    }

    #[test]
    fn the_payload_is_bounded_to_128_bytes() {
        let token = ProviderToken::new("1:TEST:x");
        let longest = "a".repeat(128);
        let sent = invoice(&longest, "t", "d")
            .send_to(1, &token)
            .expect("128 bytes fit");
        assert_eq!(sent.payload, longest);
        assert_eq!(
            invoice(&"a".repeat(129), "t", "d").send_to(1, &token),
            Err(InvoiceError::PayloadTooLong(129))
        );
        // Bytes, not characters: 43 Cyrillic letters are 86 bytes, 65 are 130.
        assert_eq!(
            invoice(&"ж".repeat(65), "t", "d").send_to(1, &token),
            Err(InvoiceError::PayloadTooLong(130))
        );
    }

    #[test]
    fn title_and_description_follow_telegram_bounds() {
        let token = ProviderToken::new("1:TEST:x");
        assert_eq!(
            invoice("o", "", "d").send_to(1, &token),
            Err(InvoiceError::Title)
        );
        assert_eq!(
            invoice("o", &"т".repeat(33), "d").send_to(1, &token),
            Err(InvoiceError::Title)
        );
        assert!(
            invoice("o", &"т".repeat(32), "d")
                .send_to(1, &token)
                .is_ok()
        );
        assert_eq!(
            invoice("o", "t", &"d".repeat(256)).send_to(1, &token),
            Err(InvoiceError::Description)
        );
    }

    #[test]
    fn amounts_are_sent_in_tiyin() {
        let token = ProviderToken::new("1:TEST:x");
        let sent = Invoice::new(
            "o".parse().expect("id"),
            "1234.56".parse().expect("amount"),
            "t",
            "d",
        )
        .send_to(7, &token)
        .expect("sent");
        assert_eq!(sent.prices.iter().map(|p| p.amount).sum::<i64>(), 123_456);
        assert_eq!(sent.chat_id, 7);
        let zero = Invoice::new("o".parse().expect("id"), Amount::ZERO, "t", "d");
        assert_eq!(zero.send_to(7, &token), Err(InvoiceError::ZeroAmount));
    }

    #[test]
    fn the_token_is_never_printed() {
        let live = ProviderToken::new("123:LIVE:secret-part");
        assert!(live.is_live());
        assert_eq!(format!("{live:?}"), "ProviderToken(live, ..)");
        let test = ProviderToken::new("123:TEST:secret-part");
        assert!(!test.is_live());
        assert!(!format!("{test:?}").contains("secret"));
    }
}
