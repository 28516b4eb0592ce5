//! Identifiers of the SHOP-API, as newtypes with the strict grammar of docs/protocol.md.
//!
//! Every numeric id Click sends is parsed by one rule: ASCII digits only, no sign, no leading zeros
//! (`0` itself is allowed), and within `i64`. Real `click_trans_id` values exceed 32 bits, so all ids
//! are 64-bit. The strictness matters because the signed parts are concatenated without separators:
//! a lenient parser would let digits move between fields of a captured request.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid id or `merchant_trans_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The text was empty.
    #[error("empty")]
    Empty,
    /// A character other than an ASCII digit, a sign or a leading zero.
    #[error("not a canonical non-negative integer")]
    NotCanonical,
    /// More than `i64::MAX`.
    #[error("out of the 64-bit range")]
    Overflow,
    /// A `merchant_trans_id` longer than [`MerchantTransId::MAX_LEN`] bytes.
    #[error("longer than {} bytes", MerchantTransId::MAX_LEN)]
    TooLong,
}

/// Parses a canonical non-negative decimal integer: `0|[1-9][0-9]*`, at most `i64::MAX`.
pub(crate) fn parse_canonical_i64(text: &str) -> Result<i64, IdError> {
    let bytes = text.as_bytes();
    match bytes {
        [] => return Err(IdError::Empty),
        [b'0', _, ..] => return Err(IdError::NotCanonical),
        _ => {}
    }
    let mut value: i64 = 0;
    for &byte in bytes {
        if !byte.is_ascii_digit() {
            return Err(IdError::NotCanonical);
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(byte - b'0')))
            .ok_or(IdError::Overflow)?;
    }
    Ok(value)
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Parsing (`str::parse`) accepts only `0|[1-9][0-9]*` within `i64`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw value, for example one read back from a database.
            pub const fn new(value: i64) -> Self {
                Self(value)
            }

            /// The raw value.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(text: &str) -> Result<Self, IdError> {
                parse_canonical_i64(text).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(value)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

numeric_id!(
    /// Click's id of one payment attempt (`click_trans_id`); several may exist per order.
    ClickTransId
);
numeric_id!(
    /// Click's id of the payment document (`click_paydoc_id`), shown to the customer by SMS. The
    /// Merchant API calls it `payment_id` (reversal, OFD).
    ClickPaydocId
);
numeric_id!(
    /// The id of one of the merchant's services at Click (`service_id`).
    ServiceId
);
numeric_id!(
    /// The merchant's id at Click (`merchant_id`), used in payment links.
    MerchantId
);
numeric_id!(
    /// The merchant's API user at Click (`merchant_user_id`), used in the Merchant API `Auth` header.
    MerchantUserId
);
numeric_id!(
    /// The merchant's id of a prepared payment (`merchant_prepare_id`), answered to Prepare and sent
    /// back by Click in Complete.
    MerchantPrepareId
);
numeric_id!(
    /// The merchant's id of a confirmed payment (`merchant_confirm_id`), answered to Complete.
    MerchantConfirmId
);
numeric_id!(
    /// Click's id of an invoice (`invoice_id` of the Merchant API).
    InvoiceId
);
numeric_id!(
    /// A store's id of a settlement task in its outbox.
    TaskId
);

/// The merchant's order id, account or login (`merchant_trans_id`; `transaction_param` in links).
///
/// Free text chosen by the merchant (and, through the payment link, by the customer): UUIDs, `42`,
/// `number|id` and Cyrillic logins all occur. It is never trusted: bind it as a query parameter and
/// escape it in HTML. It must be non-empty and at most [`MerchantTransId::MAX_LEN`] bytes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MerchantTransId(String);

impl MerchantTransId {
    /// The longest accepted `merchant_trans_id`, in bytes (a `varchar(255)` at Click).
    pub const MAX_LEN: usize = 255;

    /// Checks and wraps an id.
    ///
    /// # Errors
    ///
    /// [`IdError::Empty`] or [`IdError::TooLong`].
    pub fn new(id: impl Into<String>) -> Result<Self, IdError> {
        let id = id.into();
        if id.is_empty() {
            Err(IdError::Empty)
        } else if id.len() > Self::MAX_LEN {
            Err(IdError::TooLong)
        } else {
            Ok(Self(id))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for MerchantTransId {
    type Error = IdError;

    fn try_from(id: String) -> Result<Self, IdError> {
        Self::new(id)
    }
}

impl From<MerchantTransId> for String {
    fn from(id: MerchantTransId) -> String {
        id.0
    }
}

impl FromStr for MerchantTransId {
    type Err = IdError;

    fn from_str(id: &str) -> Result<Self, IdError> {
        Self::new(id)
    }
}

impl fmt::Display for MerchantTransId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for MerchantTransId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_canonical_ids_beyond_32_bits() {
        assert_eq!("0".parse::<ClickTransId>(), Ok(ClickTransId::new(0)));
        assert_eq!(
            "3600000001".parse::<ClickTransId>(),
            Ok(ClickTransId::new(3_600_000_001))
        );
        assert_eq!(
            "9223372036854775807".parse::<ClickPaydocId>(),
            Ok(ClickPaydocId::new(i64::MAX))
        );
    }

    /// docs/protocol.md, bad input 15: `abc`, `-1`, `0x10`, `+5` and values over i64 are not ids.
    #[test]
    fn rejects_non_canonical_ids() {
        for text in [
            "abc", "-1", "0x10", "+5", "01", " 1", "1 ", "1.0", "١٢", "1_0",
        ] {
            assert_eq!(
                text.parse::<ClickTransId>(),
                Err(IdError::NotCanonical),
                "{text:?}"
            );
        }
        assert_eq!("".parse::<ServiceId>(), Err(IdError::Empty));
        assert_eq!(
            "9223372036854775808".parse::<ServiceId>(),
            Err(IdError::Overflow)
        );
        assert_eq!(
            "12345678901234567890".parse::<ServiceId>(),
            Err(IdError::Overflow)
        );
    }

    #[test]
    fn merchant_trans_id_is_free_text_within_limits() {
        for text in [
            "42",
            "1234|56",
            "логин",
            "a b",
            "\"><script>",
            "e\u{202e}x",
            "😀",
        ] {
            assert_eq!(
                MerchantTransId::new(text).map(String::from),
                Ok(text.to_owned())
            );
        }
        assert_eq!(MerchantTransId::new(""), Err(IdError::Empty));
        assert!(MerchantTransId::new("x".repeat(255)).is_ok());
        assert_eq!(MerchantTransId::new("x".repeat(256)), Err(IdError::TooLong));
    }

    #[test]
    fn ids_serialize_as_json_numbers() {
        let json = serde_json::to_string(&ClickTransId::new(3_600_000_001)).ok();
        assert_eq!(json.as_deref(), Some("3600000001"));
    }
}
