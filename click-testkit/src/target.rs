//! What the emulator talks to: a merchant's callback URLs, its service and secret, and the orders
//! it may pay.

use std::fmt;
use std::str::FromStr;

use click_core::{Amount, CallbackUrls, MerchantTransId, SecretKey, ServiceId};

/// A merchant's callback endpoints and credentials.
#[derive(Debug, Clone)]
pub struct Target {
    /// The Prepare URL registered with Click.
    pub prepare_url: String,
    /// The Complete URL registered with Click.
    pub complete_url: String,
    /// The service being paid.
    pub service_id: ServiceId,
    /// The service's secret, to sign callbacks.
    pub secret_key: SecretKey,
}

impl Target {
    /// The target of a merchant's callback routes, as [`CallbackPaths::urls`] gives them
    /// (a single route, when mounted, is not used: Prepare and Complete go to their own URLs).
    ///
    /// [`CallbackPaths::urls`]: click_core::CallbackPaths::urls
    pub fn new(urls: &CallbackUrls, service_id: ServiceId, secret_key: SecretKey) -> Self {
        Self {
            prepare_url: urls.prepare.to_string(),
            complete_url: urls.complete.to_string(),
            service_id,
            secret_key,
        }
    }
}

/// An order the merchant seeded for the emulator: `ID:AMOUNT` on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderSpec {
    /// The `merchant_trans_id`.
    pub id: MerchantTransId,
    /// The order's total.
    pub amount: Amount,
}

/// Why an `ID:AMOUNT` is not an order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected ID:AMOUNT (e.g. order-42:1000.00), got {0:?}")]
pub struct OrderSpecError(String);

impl FromStr for OrderSpec {
    type Err = OrderSpecError;

    /// Splits at the last `:`, so an id may itself contain colons.
    fn from_str(text: &str) -> Result<Self, OrderSpecError> {
        let invalid = || OrderSpecError(text.to_owned());
        let (id, amount) = text.rsplit_once(':').ok_or_else(invalid)?;
        Ok(Self {
            id: id.parse().map_err(|_| invalid())?,
            amount: amount.parse().map_err(|_| invalid())?,
        })
    }
}

impl fmt::Display for OrderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.id, self.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_id_and_amount() {
        let spec: Result<OrderSpec, _> = "shop:order-42:1500.5".parse();
        assert_eq!(spec.as_ref().map(|s| s.id.as_str()), Ok("shop:order-42"));
        assert_eq!(spec.map(|s| s.amount.to_string()), Ok("1500.50".to_owned()));
        for bad in ["", "order", ":1000", "order:", "order:1e3", "order:-1"] {
            assert!(bad.parse::<OrderSpec>().is_err(), "{bad:?}");
        }
    }
}
