//! Invoices: a bill Click sends to a customer's phone.

use click_core::{Amount, InvoiceId, MerchantTransId};
use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{MerchantClient, Safety, Shape};
use crate::error::MerchantError;
use crate::status::InvoiceStatus;
use crate::wire;

/// `POST invoice/create`: bill a customer's phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateInvoice {
    /// The amount in so'm.
    pub amount: Amount,
    /// The customer's phone number, e.g. `998901234567`.
    pub phone_number: String,
    /// The order or account the payment is for.
    pub merchant_trans_id: MerchantTransId,
}

#[derive(Serialize)]
struct CreateBody<'a> {
    service_id: i64,
    #[serde(serialize_with = "wire::amount")]
    amount: Amount,
    phone_number: &'a str,
    merchant_trans_id: &'a str,
}

/// The answer to [`CreateInvoice`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InvoiceCreated {
    /// Click's id of the invoice.
    #[serde(deserialize_with = "wire::flexible_id")]
    pub invoice_id: InvoiceId,
}

/// The answer to [`MerchantClient::invoice_status`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InvoiceState {
    /// The status.
    #[serde(rename = "invoice_status")]
    pub status: InvoiceStatus,
    /// Click's note on it.
    #[serde(rename = "invoice_status_note", default)]
    pub note: Option<String>,
}

impl MerchantClient {
    /// Creates an invoice. Never retried: a repeat could bill twice; after an unknown outcome,
    /// look the payment up with [`payment_status_by_mti`](Self::payment_status_by_mti).
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn create_invoice(
        &self,
        invoice: &CreateInvoice,
    ) -> Result<InvoiceCreated, MerchantError> {
        let body = CreateBody {
            service_id: self.service_id().get(),
            amount: invoice.amount,
            phone_number: &invoice.phone_number,
            merchant_trans_id: invoice.merchant_trans_id.as_str(),
        };
        self.call(
            Method::POST,
            &["invoice", "create"],
            Some(&body),
            Safety::Once,
            Shape::Checked,
        )
        .await
    }

    /// The status of an invoice. Retried on transient failures.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn invoice_status(
        &self,
        invoice_id: InvoiceId,
    ) -> Result<InvoiceState, MerchantError> {
        let (service, invoice) = (self.service_id().to_string(), invoice_id.to_string());
        self.call(
            Method::GET,
            &["invoice", "status", &service, &invoice],
            None,
            Safety::Repeatable,
            Shape::Checked,
        )
        .await
    }
}
