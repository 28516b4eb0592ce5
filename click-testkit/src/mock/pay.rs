//! Paying an invoice, as the customer would in the Click app: directly, or through the merchant's
//! SHOP-API callbacks.

use click_core::testing::Click;
use click_core::{ClickPaydocId, SecretKey};

use super::MockApi;
use crate::http::{Exchange, Poster};

/// Why an invoice could not be paid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayInvoiceError {
    /// No invoice has this id.
    #[error("no invoice {0}")]
    UnknownInvoice(i64),
    /// The invoice is already paid, or deleted.
    #[error("invoice {0} is not waiting for payment")]
    NotWaiting(i64),
    /// The merchant did not answer Prepare with HTTP 200, `error` 0 and a `merchant_prepare_id`.
    #[error("the merchant did not accept Prepare:\n{0}")]
    Prepare(Box<Exchange>),
    /// The merchant did not answer Complete with HTTP 200 and `error` 0.
    #[error("the merchant did not accept Complete:\n{0}")]
    Complete(Box<Exchange>),
}

impl MockApi {
    /// Pays a waiting invoice, as if the customer paid it in the Click app: the invoice becomes
    /// paid and a paid payment of its amount and `merchant_trans_id` appears. Sends no callback.
    ///
    /// # Errors
    ///
    /// [`PayInvoiceError::UnknownInvoice`] or [`PayInvoiceError::NotWaiting`].
    pub fn pay_invoice(&self, invoice_id: i64) -> Result<ClickPaydocId, PayInvoiceError> {
        self.with_state(|state, now| {
            let payment_id = state.next_payment_id();
            state.pay_invoice(now, invoice_id, payment_id)
        })
    }

    /// Pays a waiting invoice the way Click does: a signed SHOP-API Prepare to `prepare_url`, then
    /// a Complete (`error=0`) to `complete_url`, both form-encoded with `click_paydoc_id` set to
    /// the new payment's id and the amount as `N.NN`. Only when both answer `error` 0 is the
    /// invoice marked paid and the payment recorded.
    ///
    /// `secret` is the service's SHOP-API secret the merchant checks signatures with.
    ///
    /// # Errors
    ///
    /// [`PayInvoiceError::UnknownInvoice`] or [`PayInvoiceError::NotWaiting`] (nothing is sent);
    /// [`PayInvoiceError::Prepare`] or [`PayInvoiceError::Complete`] with the exchange the merchant
    /// refused (the invoice stays waiting).
    pub async fn pay_invoice_with_callbacks(
        &self,
        invoice_id: i64,
        prepare_url: &str,
        complete_url: &str,
        secret: &SecretKey,
    ) -> Result<ClickPaydocId, PayInvoiceError> {
        let (payment_id, click_trans_id, merchant_trans_id, amount) =
            self.with_state(|state, _| {
                let invoice = state.payable_invoice(invoice_id)?;
                let (merchant_trans_id, amount) = (
                    invoice.merchant_trans_id.clone(),
                    invoice.amount.to_string(),
                );
                Ok::<_, PayInvoiceError>((
                    state.next_payment_id(),
                    state.next_click_trans_id(),
                    merchant_trans_id,
                    amount,
                ))
            })?;
        let click = Click::new(self.service_id(), secret.clone());
        let poster = Poster::new();
        let paydoc = payment_id.to_string();

        let prepare = click
            .prepare(click_trans_id, merchant_trans_id.as_str(), &amount)
            .set("click_paydoc_id", paydoc.as_str());
        let prepared = poster.post(prepare_url, &prepare).await;
        let prepare_id = match prepared.int("merchant_prepare_id") {
            Some(id) if prepared.status == Some(200) && prepared.error == Some(0) => id,
            _ => return Err(PayInvoiceError::Prepare(Box::new(prepared))),
        };

        let complete = click
            .complete(
                click_trans_id,
                merchant_trans_id.as_str(),
                prepare_id,
                &amount,
                0,
            )
            .set("click_paydoc_id", paydoc);
        let completed = poster.post(complete_url, &complete).await;
        if completed.status != Some(200) || completed.error != Some(0) {
            return Err(PayInvoiceError::Complete(Box::new(completed)));
        }
        self.with_state(|state, now| state.pay_invoice(now, invoice_id, payment_id))
    }
}
