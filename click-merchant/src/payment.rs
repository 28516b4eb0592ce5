//! Payment status (by payment id and by `merchant_trans_id`) and reversal.

use std::fmt;
use std::str::FromStr;

use click_core::{Amount, ClickPaydocId, MerchantTransId};
use reqwest::Method;
use serde::Deserialize;

use crate::client::{MerchantClient, Safety, Shape};
use crate::error::MerchantError;
use crate::status::PaymentStatus;
use crate::wire;

/// The answer to a payment status call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentState {
    /// Click's payment id (`click_paydoc_id` in SHOP-API callbacks).
    #[serde(deserialize_with = "wire::flexible_id")]
    pub payment_id: ClickPaydocId,
    /// The status.
    #[serde(rename = "payment_status")]
    pub status: PaymentStatus,
    /// The order or account, on a lookup by `merchant_trans_id`.
    #[serde(default)]
    pub merchant_trans_id: Option<String>,
}

/// A calendar day, `YYYY-MM-DD`: the day a payment was created, which a lookup by
/// `merchant_trans_id` needs. Click's days are Tashkent's (UTC+05:00, no daylight saving).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PaymentDate(time::Date);

/// Why a text is not a `YYYY-MM-DD` date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a date YYYY-MM-DD, got {0:?}")]
pub struct PaymentDateError(String);

/// Tashkent's offset from UTC.
fn tashkent() -> time::UtcOffset {
    time::UtcOffset::from_hms(5, 0, 0).unwrap_or(time::UtcOffset::UTC)
}

impl PaymentDate {
    /// The day in Tashkent at a UNIX time.
    pub fn at_unix(seconds: u64) -> Self {
        let at = i64::try_from(seconds)
            .ok()
            .and_then(|seconds| time::OffsetDateTime::from_unix_timestamp(seconds).ok())
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        Self(at.to_offset(tashkent()).date())
    }

    /// The day in Tashkent at `time`: the day a payment made then is filed under.
    pub fn of(time: std::time::SystemTime) -> Self {
        Self(
            time::OffsetDateTime::from(time)
                .to_offset(tashkent())
                .date(),
        )
    }

    /// Today in Tashkent.
    pub fn today() -> Self {
        Self::of(std::time::SystemTime::now())
    }
}

impl FromStr for PaymentDate {
    type Err = PaymentDateError;

    fn from_str(text: &str) -> Result<Self, PaymentDateError> {
        let invalid = || PaymentDateError(text.to_owned());
        let digits = |range: std::ops::Range<usize>| {
            text.get(range)
                .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|part| part.parse::<u16>().ok())
                .ok_or_else(invalid)
        };
        if text.len() != 10 || text.as_bytes()[4] != b'-' || text.as_bytes()[7] != b'-' {
            return Err(invalid());
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let month = u8::try_from(month)
            .ok()
            .and_then(|month| time::Month::try_from(month).ok())
            .ok_or_else(invalid)?;
        let day = u8::try_from(day).map_err(|_| invalid())?;
        time::Date::from_calendar_date(i32::from(year), month, day)
            .map(Self)
            .map_err(|_| invalid())
    }
}

impl fmt::Display for PaymentDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

/// What a reversal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reversal {
    /// The payment was reversed now.
    Reversed {
        /// The payment.
        payment_id: ClickPaydocId,
    },
    /// Click refused, and the payment's status shows it is not paid: an earlier reversal (whose
    /// answer may have been lost) already went through, or the payment never succeeded. Either
    /// way there is nothing to reverse: do not try again.
    NotPaid {
        /// The payment.
        payment_id: ClickPaydocId,
        /// Its status now.
        status: PaymentStatus,
    },
}

#[derive(Deserialize)]
struct Reversed {
    #[serde(deserialize_with = "wire::flexible_id")]
    payment_id: ClickPaydocId,
}

impl MerchantClient {
    /// The status of a payment. Retried on transient failures.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn payment_status(
        &self,
        payment_id: ClickPaydocId,
    ) -> Result<PaymentState, MerchantError> {
        let (service, payment) = (self.service_id().to_string(), payment_id.to_string());
        self.call(
            Method::GET,
            &["payment", "status", &service, &payment],
            None,
            Safety::Repeatable,
            Shape::Checked,
        )
        .await
    }

    /// The payment of an order or account on the day it was created: the way to reconcile after
    /// a call whose outcome is unknown. `merchant_trans_id` travels as one percent-encoded path
    /// segment. Retried on transient failures.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn payment_status_by_mti(
        &self,
        merchant_trans_id: &MerchantTransId,
        date: PaymentDate,
    ) -> Result<PaymentState, MerchantError> {
        let (service, date) = (self.service_id().to_string(), date.to_string());
        let segments = [
            "payment",
            "status_by_mti",
            &service,
            merchant_trans_id.as_str(),
            &date,
        ];
        self.call(
            Method::GET,
            &segments,
            None,
            Safety::Repeatable,
            Shape::Checked,
        )
        .await
    }

    /// Reverses (refunds) a paid payment. Click allows it only for a successful payment of the
    /// current reporting month (of the previous month only on the 1st), for online cards; UZCARD
    /// may refuse. Never retried blindly: when Click refuses, the payment's status is checked, and
    /// a payment that is not paid is reported as [`Reversal::NotPaid`].
    ///
    /// # Errors
    ///
    /// [`MerchantError`]; a refusal for a payment that is still paid is
    /// [`MerchantError::Business`].
    pub async fn reverse(&self, payment_id: ClickPaydocId) -> Result<Reversal, MerchantError> {
        let (service, payment) = (self.service_id().to_string(), payment_id.to_string());
        let segments = ["payment", "reversal", &service, &payment];
        self.reversal_outcome(
            payment_id,
            self.call(
                Method::DELETE,
                &segments,
                None,
                Safety::Once,
                Shape::Checked,
            )
            .await,
        )
        .await
    }

    /// Reverses part of a paid payment. **Undocumented by Click**: `DELETE
    /// payment/partial_reversal/:service_id/:payment_id/:amount` is used by three independent
    /// clients but is not on Click's documentation pages; use it knowing it may change.
    ///
    /// A partial reversal leaves the payment paid, so its status cannot tell whether one went
    /// through: after an error whose outcome is unknown, do not repeat it; ask Click support.
    ///
    /// # Errors
    ///
    /// [`MerchantError`]; Click's refusal is [`MerchantError::Business`].
    pub async fn reverse_partially(
        &self,
        payment_id: ClickPaydocId,
        amount: Amount,
    ) -> Result<Reversal, MerchantError> {
        let (service, payment, amount) = (
            self.service_id().to_string(),
            payment_id.to_string(),
            amount.to_string(),
        );
        let segments = ["payment", "partial_reversal", &service, &payment, &amount];
        let reversed: Reversed = self
            .call(
                Method::DELETE,
                &segments,
                None,
                Safety::Once,
                Shape::Checked,
            )
            .await?;
        Ok(Reversal::Reversed {
            payment_id: reversed.payment_id,
        })
    }

    async fn reversal_outcome(
        &self,
        payment_id: ClickPaydocId,
        result: Result<Reversed, MerchantError>,
    ) -> Result<Reversal, MerchantError> {
        match result {
            Ok(reversed) => Ok(Reversal::Reversed {
                payment_id: reversed.payment_id,
            }),
            Err(refused @ MerchantError::Business { .. }) => {
                match self.payment_status(payment_id).await {
                    Ok(state) if matches!(state.status, PaymentStatus::Failed(_)) => {
                        Ok(Reversal::NotPaid {
                            payment_id,
                            status: state.status,
                        })
                    }
                    _ => Err(refused),
                }
            }
            Err(error) => Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_times_become_tashkent_days() {
        // date -u -d @1700000000 → 2023-11-14 22:13:20 UTC, 03:13 the next day in Tashkent.
        assert_eq!(
            PaymentDate::at_unix(1_700_000_000).to_string(),
            "2023-11-15"
        );
        assert_eq!(PaymentDate::at_unix(0).to_string(), "1970-01-01");
        // 2024-02-29 00:00 in Tashkent is 2024-02-28 19:00 UTC = 1709146800.
        assert_eq!(
            PaymentDate::at_unix(1_709_146_800).to_string(),
            "2024-02-29"
        );
        assert_eq!(
            PaymentDate::at_unix(1_709_146_799).to_string(),
            "2024-02-28"
        );
    }

    #[test]
    fn dates_are_real_days() {
        assert_eq!(
            "2024-02-29"
                .parse::<PaymentDate>()
                .map(|d| d.to_string())
                .ok()
                .as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024-01-32",
            "2024/01/01",
            "2024-01-0a",
        ] {
            assert!(bad.parse::<PaymentDate>().is_err(), "{bad}");
        }
    }
}
