//! Click Pass: charge the QR code a customer shows in the Click app, with optional confirm mode.

use std::fmt;
use std::time::Duration;

use click_core::{Amount, ClickPaydocId};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{MerchantClient, Safety, Shape};
use crate::error::MerchantError;
use crate::status::PaymentStatus;
use crate::wire;

/// `POST click_pass/payment`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClickPassPayment {
    /// The QR code's contents. Its `Debug` hides it: it authorises a payment.
    pub otp_data: String,
    /// The amount.
    pub amount: Amount,
    /// The cash desk, if any.
    pub cashbox_code: Option<String>,
    /// The merchant's own id of the payment, if any.
    pub transaction_id: Option<String>,
}

impl fmt::Debug for ClickPassPayment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClickPassPayment")
            .field("otp_data", &"..")
            .field("amount", &self.amount)
            .field("cashbox_code", &self.cashbox_code)
            .field("transaction_id", &self.transaction_id)
            .finish()
    }
}

#[derive(Serialize)]
struct PaymentBody<'a> {
    service_id: i64,
    otp_data: &'a str,
    #[serde(serialize_with = "wire::amount")]
    amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    cashbox_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<&'a str>,
}

/// The answer to a Click Pass payment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClickPassResult {
    /// Click's payment id.
    #[serde(deserialize_with = "wire::flexible_id")]
    pub payment_id: ClickPaydocId,
    /// The status.
    #[serde(rename = "payment_status")]
    pub status: PaymentStatus,
    /// Whether the service is in confirm mode: the payment must then be confirmed within 30 s.
    #[serde(default, deserialize_with = "wire::flexible_option_i64")]
    pub confirm_mode: Option<i64>,
    /// `private` or `corporate`.
    #[serde(default)]
    pub card_type: Option<String>,
    /// `UZCARD`, `HUMO` or `WALLET`.
    #[serde(default)]
    pub processing_type: Option<String>,
    /// The card, masked by Click.
    #[serde(default)]
    pub card_number: Option<String>,
    /// The customer's phone.
    #[serde(default)]
    pub phone_number: Option<String>,
}

impl ClickPassResult {
    /// Whether the payment waits for [`MerchantClient::confirm_click_pass`].
    pub fn needs_confirmation(&self) -> bool {
        self.confirm_mode == Some(1)
    }
}

/// How long a confirm-mode payment may wait: Click cancels it 30 s after creation; the client
/// stops trying `margin` earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmWindow {
    /// Click's window (30 s).
    pub window: Duration,
    /// The safety margin before its end (default 5 s).
    pub margin: Duration,
}

impl Default for ConfirmWindow {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(30),
            margin: Duration::from_secs(5),
        }
    }
}

impl MerchantClient {
    /// Charges a Click Pass QR code. Never retried: a repeat could charge twice.
    ///
    /// In confirm mode the payment must then be confirmed; [`pay_with_click_pass_confirmed`]
    /// does both.
    ///
    /// [`pay_with_click_pass_confirmed`]: Self::pay_with_click_pass_confirmed
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn pay_with_click_pass(
        &self,
        payment: &ClickPassPayment,
    ) -> Result<ClickPassResult, MerchantError> {
        let body = PaymentBody {
            service_id: self.service_id().get(),
            otp_data: &payment.otp_data,
            amount: payment.amount,
            cashbox_code: payment.cashbox_code.as_deref(),
            transaction_id: payment.transaction_id.as_deref(),
        };
        self.call(
            Method::POST,
            &["click_pass", "payment"],
            Some(&body),
            Safety::Once,
            Shape::Private,
        )
        .await
    }

    /// Confirms a confirm-mode payment. Confirming twice is harmless, so it is retried.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn confirm_click_pass(&self, payment_id: ClickPaydocId) -> Result<(), MerchantError> {
        #[derive(Serialize)]
        struct Body {
            service_id: i64,
            payment_id: ClickPaydocId,
        }
        let body = Body {
            service_id: self.service_id().get(),
            payment_id,
        };
        let _: wire::Empty = self
            .call(
                Method::POST,
                &["click_pass", "confirm"],
                Some(&body),
                Safety::Repeatable,
                Shape::Checked,
            )
            .await?;
        Ok(())
    }

    /// Charges a QR code and, in confirm mode, confirms it before `window` runs out (measured
    /// from the moment the payment was sent), retrying the confirm on transient failures with
    /// each attempt bounded to a third of the time left. Because a confirm that timed out may
    /// still have reached Click, the payment's status is checked before any failure is reported.
    ///
    /// # Errors
    ///
    /// [`MerchantError`]; [`MerchantError::ConfirmDeadlineExceeded`] (with the status found at the
    /// deadline) when no confirm succeeded in time; Click then cancels the payment.
    pub async fn pay_with_click_pass_confirmed(
        &self,
        payment: &ClickPassPayment,
        window: ConfirmWindow,
    ) -> Result<ClickPassResult, MerchantError> {
        let deadline = tokio::time::Instant::now() + window.window.saturating_sub(window.margin);
        let result = self.pay_with_click_pass(payment).await?;
        if !result.needs_confirmation() {
            return Ok(result);
        }
        let payment_id = result.payment_id;
        loop {
            let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
            if remaining.is_zero() {
                break;
            }
            // A third of what is left, so a hanging attempt leaves room for more.
            let attempt = (remaining / 3)
                .max(Duration::from_millis(200))
                .min(remaining);
            match tokio::time::timeout(attempt, self.confirm_click_pass(payment_id)).await {
                Ok(Ok(())) => {
                    return Ok(ClickPassResult {
                        status: PaymentStatus::Paid,
                        ..result
                    });
                }
                Ok(Err(error)) if !error.is_retryable() => {
                    // Refused outright: unless an earlier attempt got through, report the refusal.
                    return match self.payment_status(payment_id).await {
                        Ok(state) if state.status == PaymentStatus::Paid => Ok(ClickPassResult {
                            status: PaymentStatus::Paid,
                            ..result
                        }),
                        _ => Err(error),
                    };
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, %payment_id, "confirm failed; trying again before the deadline")
                }
                Err(_) => tracing::warn!(
                    %payment_id,
                    "confirm attempt timed out; trying again before the deadline"
                ),
            }
            let pause = Duration::from_millis(100)
                .min(deadline.saturating_duration_since(tokio::time::Instant::now()));
            tokio::time::sleep(pause).await;
        }
        // A confirm that timed out may still have reached Click: ask once before giving up.
        match self.payment_status(payment_id).await {
            Ok(state) if state.status == PaymentStatus::Paid => Ok(ClickPassResult {
                status: PaymentStatus::Paid,
                ..result
            }),
            Ok(state) => Err(MerchantError::ConfirmDeadlineExceeded {
                payment_id,
                status: Some(state.status),
            }),
            Err(_) => Err(MerchantError::ConfirmDeadlineExceeded {
                payment_id,
                status: None,
            }),
        }
    }

    /// Turns the service's confirm mode on or off (`PUT`/`DELETE click_pass/confirmation`).
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn set_click_pass_confirm_mode(&self, on: bool) -> Result<(), MerchantError> {
        let service = self.service_id().to_string();
        let method = if on { Method::PUT } else { Method::DELETE };
        let _: wire::Empty = self
            .call(
                method,
                &["click_pass", "confirmation", &service],
                None,
                Safety::Repeatable,
                Shape::Checked,
            )
            .await?;
        Ok(())
    }
}
