//! A client for Click's Merchant API (`https://api.click.uz/v2/merchant/`): the calls a merchant
//! makes to Click.
//!
//! ```no_run
//! use click_core::{Credentials, MerchantId, MerchantUserId, SecretKey, ServiceId};
//! use click_merchant::{CreateInvoice, MerchantClient};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let credentials = Credentials::new(
//!     ServiceId::new(101),
//!     MerchantId::new(202),
//!     MerchantUserId::new(303),
//!     SecretKey::new(std::env::var("CLICK_SECRET_KEY")?),
//! );
//! let client = MerchantClient::builder(credentials).build()?;
//! let invoice = client
//!     .create_invoice(&CreateInvoice {
//!         amount: "25000".parse()?,
//!         phone_number: "998901234567".into(),
//!         merchant_trans_id: "order-42".parse()?,
//!     })
//!     .await?;
//! let state = client.invoice_status(invoice.invoice_id).await?;
//! println!("invoice {}: {:?}", invoice.invoice_id, state.status);
//! # Ok(()) }
//! ```
//!
//! | area | calls |
//! |---|---|
//! | invoices | [`create_invoice`](MerchantClient::create_invoice), [`invoice_status`](MerchantClient::invoice_status) |
//! | payments | [`payment_status`](MerchantClient::payment_status), [`payment_status_by_mti`](MerchantClient::payment_status_by_mti), [`reverse`](MerchantClient::reverse), [`reverse_partially`](MerchantClient::reverse_partially) (undocumented by Click) |
//! | card tokens | [`request_card_token`](MerchantClient::request_card_token), [`verify_card_token`](MerchantClient::verify_card_token), [`pay_with_card_token`](MerchantClient::pay_with_card_token), [`delete_card_token`](MerchantClient::delete_card_token) |
//! | Click Pass | [`pay_with_click_pass`](MerchantClient::pay_with_click_pass), [`confirm_click_pass`](MerchantClient::confirm_click_pass), [`pay_with_click_pass_confirmed`](MerchantClient::pay_with_click_pass_confirmed), [`set_click_pass_confirm_mode`](MerchantClient::set_click_pass_confirm_mode) |
//! | OFD | [`submit_ofd_items`](MerchantClient::submit_ofd_items), [`submit_ofd_qrcode`](MerchantClient::submit_ofd_qrcode), [`ofd_data`](MerchantClient::ofd_data) |
//!
//! Every request carries `Auth: merchant_user_id:sha1(timestamp + secret_key):timestamp`,
//! computed for each attempt. Failures are one [`MerchantError`]; `is_retryable()` says whether
//! repeating the call is safe. The client itself retries, with bounded exponential backoff, only
//! calls that cannot charge twice (status reads, token deletion, confirms, confirm-mode switches)
//! and requests that provably never left (connection refused). It never retries invoice
//! creation, payments or reversals after the request may have reached Click: a repeat could bill
//! or refund twice; reconcile with [`payment_status_by_mti`](MerchantClient::payment_status_by_mti)
//! instead. Answers are capped at 1 MiB, redirects are not followed, and a plain `http://` base
//! URL is accepted only for loopback (a mock). No secret, digest, full card number, card token or
//! SMS code appears in any `Debug` output or error.

mod auth;
mod card_token;
mod click_pass;
mod client;
mod error;
mod invoice;
pub mod ofd;
mod payment;
mod status;
mod wire;

pub use auth::{Clock, auth_header};
pub use card_token::{
    CardNumber, CardToken, CardTokenIssued, CardVerified, Payment, RequestCardToken, SmsCode,
};
pub use click_pass::{ClickPassPayment, ClickPassResult, ConfirmWindow};
pub use client::{
    BuildError, DEFAULT_BASE_URL, MerchantClient, MerchantClientBuilder, RetryPolicy,
};
pub use error::MerchantError;
pub use invoice::{CreateInvoice, InvoiceCreated, InvoiceState};
pub use ofd::{CommissionInfo, OfdData, OfdError, OfdItem, OfdItemBuilder, OfdReceipt};
pub use payment::{PaymentDate, PaymentDateError, PaymentState, Reversal};
pub use status::{InvoiceStatus, PaymentStatus};
