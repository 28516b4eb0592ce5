//! Paying an invoice, as the customer would in the Click app: directly, or through the merchant's
//! SHOP-API callbacks.

use click_core::testing::Click;
use click_core::{Amount, ClickPaydocId, InvoiceId, MerchantTransId, SecretKey};

use super::{MockApi, Payment};
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
    pub fn pay_invoice(&self, invoice_id: InvoiceId) -> Result<ClickPaydocId, PayInvoiceError> {
        self.with_state(|state, now| {
            let payment_id = state.next_payment_id();
            state.pay_invoice(now, invoice_id.get(), payment_id)
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
        invoice_id: InvoiceId,
        prepare_url: &str,
        complete_url: &str,
        secret: &SecretKey,
    ) -> Result<ClickPaydocId, PayInvoiceError> {
        let (payment_id, click_trans_id, merchant_trans_id, amount) =
            self.with_state(|state, _| {
                let invoice = state.payable_invoice(invoice_id.get())?;
                let (merchant_trans_id, amount) =
                    (invoice.merchant_trans_id.clone(), invoice.amount);
                Ok::<_, PayInvoiceError>((
                    state.next_payment_id(),
                    state.next_click_trans_id(),
                    merchant_trans_id,
                    amount,
                ))
            })?;
        let callbacks = Callbacks {
            click: Click::new(self.service_id(), secret.clone()),
            prepare_url,
            complete_url,
        };
        callbacks
            .pay(
                click_trans_id,
                payment_id,
                &merchant_trans_id,
                amount,
                || Ok(()),
            )
            .await?;
        self.with_state(|state, now| state.pay_invoice(now, invoice_id.get(), payment_id))
    }

    /// Pays an order the way Click does when a customer pays it (by link, QR or checkout.js): a
    /// payment is created, a signed Prepare goes to `prepare_url`; once it answers `0`, the
    /// payment is debited (paid, at the mock) and a Complete (`error=0`) goes to `complete_url`.
    /// Both callbacks carry the payment's id as `click_paydoc_id`.
    ///
    /// # Errors
    ///
    /// [`PayInvoiceError::Prepare`] (the payment is left cancelled) or
    /// [`PayInvoiceError::Complete`] (the payment stays paid: Click debited the customer, the
    /// merchant owes a delivery or a reversal).
    pub async fn pay_with_callbacks(
        &self,
        merchant_trans_id: &MerchantTransId,
        amount: Amount,
        prepare_url: &str,
        complete_url: &str,
        secret: &SecretKey,
    ) -> Result<ClickPaydocId, PayInvoiceError> {
        let (payment_id, click_trans_id) = self.with_state(|state, now| {
            let id = state.record_payment(now, amount, merchant_trans_id.clone(), Payment::CREATED);
            (id, state.next_click_trans_id())
        });
        let callbacks = Callbacks {
            click: Click::new(self.service_id(), secret.clone()),
            prepare_url,
            complete_url,
        };
        let debit = || {
            self.set_payment_status(payment_id, Payment::PAID);
            Ok(())
        };
        let paid = callbacks
            .pay(click_trans_id, payment_id, merchant_trans_id, amount, debit)
            .await;
        if matches!(paid, Err(PayInvoiceError::Prepare(_))) {
            self.set_payment_status(payment_id, Payment::CANCELLED);
        }
        paid.map(|()| payment_id)
    }
}

/// Where and how Click sends a payment's callbacks.
struct Callbacks<'a> {
    click: Click,
    prepare_url: &'a str,
    complete_url: &'a str,
}

impl Callbacks<'_> {
    /// Prepare, then `debit`, then Complete, each callback carrying `payment_id`.
    async fn pay(
        &self,
        click_trans_id: i64,
        payment_id: ClickPaydocId,
        merchant_trans_id: &MerchantTransId,
        amount: Amount,
        debit: impl FnOnce() -> Result<(), PayInvoiceError>,
    ) -> Result<(), PayInvoiceError> {
        let poster = Poster::new();
        let (paydoc, amount) = (payment_id.to_string(), amount.to_string());
        let prepare = self
            .click
            .prepare(click_trans_id, merchant_trans_id.as_str(), &amount)
            .set("click_paydoc_id", paydoc.as_str());
        let prepared = poster.post(self.prepare_url, &prepare).await;
        let prepare_id = match prepared.int("merchant_prepare_id") {
            Some(id) if prepared.status == Some(200) && prepared.error == Some(0) => id,
            _ => return Err(PayInvoiceError::Prepare(Box::new(prepared))),
        };
        debit()?;
        let complete = self
            .click
            .complete(
                click_trans_id,
                merchant_trans_id.as_str(),
                prepare_id,
                &amount,
                0,
            )
            .set("click_paydoc_id", paydoc);
        let completed = poster.post(self.complete_url, &complete).await;
        if completed.status != Some(200) || completed.error != Some(0) {
            return Err(PayInvoiceError::Complete(Box::new(completed)));
        }
        Ok(())
    }
}
