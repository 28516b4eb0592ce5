//! Statuses Click reports, as enums that never fail to decode: a code Click adds later arrives as
//! `Unknown`.

use serde::{Deserialize, Deserializer};

/// The status of a payment (`payment_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentStatus {
    /// `< 0`: failed or cancelled (Click's `error_note` says why).
    Failed(i64),
    /// `0`: created.
    Created,
    /// `1`: being processed.
    Processing,
    /// `2`: paid.
    Paid,
    /// Any other code.
    Unknown(i64),
}

impl From<i64> for PaymentStatus {
    fn from(code: i64) -> Self {
        match code {
            code if code < 0 => Self::Failed(code),
            0 => Self::Created,
            1 => Self::Processing,
            2 => Self::Paid,
            code => Self::Unknown(code),
        }
    }
}

impl<'de> Deserialize<'de> for PaymentStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::wire::flexible_i64(deserializer).map(Self::from)
    }
}

/// The status of an invoice (`invoice_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvoiceStatus {
    /// `0`: waiting for payment.
    Waiting,
    /// `1`: paid.
    Paid,
    /// `-99`: deleted.
    Deleted,
    /// Any other code.
    Unknown(i64),
}

impl From<i64> for InvoiceStatus {
    fn from(code: i64) -> Self {
        match code {
            0 => Self::Waiting,
            1 => Self::Paid,
            -99 => Self::Deleted,
            code => Self::Unknown(code),
        }
    }
}

impl<'de> Deserialize<'de> for InvoiceStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::wire::flexible_i64(deserializer).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/protocol.md, bad input 80: unknown codes decode.
    #[test]
    fn every_code_decodes() {
        assert_eq!(PaymentStatus::from(2), PaymentStatus::Paid);
        assert_eq!(PaymentStatus::from(-5017), PaymentStatus::Failed(-5017));
        assert_eq!(PaymentStatus::from(7), PaymentStatus::Unknown(7));
        assert_eq!(InvoiceStatus::from(-99), InvoiceStatus::Deleted);
        assert_eq!(InvoiceStatus::from(5), InvoiceStatus::Unknown(5));
        let decoded: Result<PaymentStatus, _> = serde_json::from_str("\"2\"");
        assert_eq!(decoded.ok(), Some(PaymentStatus::Paid));
    }
}
