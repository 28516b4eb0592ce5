//! What tests can inspect: invoices, payments and OFD data, as the mock holds them.

use click_core::{Amount, ClickPaydocId, MerchantTransId, Tiyin};
use serde_json::Value;

/// An invoice created by `invoice/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Invoice {
    /// Its id (one counter with payment ids, so the two never collide).
    pub id: i64,
    /// The amount to pay.
    pub amount: Amount,
    /// The phone number it was sent to.
    pub phone_number: String,
    /// The merchant's order or account.
    pub merchant_trans_id: MerchantTransId,
    /// Where it stands.
    pub status: InvoiceStatus,
}

/// An invoice's `invoice_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvoiceStatus {
    /// `0`: waiting for payment.
    Waiting,
    /// `1`: paid.
    Paid,
    /// `-99`: deleted.
    Deleted,
}

impl InvoiceStatus {
    /// Click's code.
    pub fn code(self) -> i64 {
        match self {
            InvoiceStatus::Waiting => 0,
            InvoiceStatus::Paid => 1,
            InvoiceStatus::Deleted => -99,
        }
    }

    /// The `invoice_status_note` the mock answers.
    pub fn note(self) -> &'static str {
        match self {
            InvoiceStatus::Waiting => "waiting for payment",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Deleted => "deleted",
        }
    }
}

/// A payment: from a paid invoice, a card token or Click Pass.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Payment {
    /// Its `payment_id` (the SHOP-API's `click_paydoc_id`).
    pub id: ClickPaydocId,
    /// The amount paid.
    pub amount: Amount,
    /// How much of it partial reversals returned so far.
    pub reversed: Amount,
    /// Click's `payment_status`: [`Payment::CREATED`], [`Payment::PROCESSING`], [`Payment::PAID`], [`Payment::REVERSED`],
    /// [`Payment::CANCELLED`], or whatever [`MockApi::set_payment_status`](super::MockApi::set_payment_status) set.
    pub status: i64,
    /// The merchant's order or account, if the payment names one.
    pub merchant_trans_id: Option<MerchantTransId>,
    /// When it was created, in mock time (unix seconds).
    pub created_at: i64,
    /// A Click Pass payment made in confirm mode: it needs `click_pass/confirm` within 30 s.
    pub needs_confirm: bool,
}

impl Payment {
    /// `payment_status` 0: created (Click has not debited yet).
    pub const CREATED: i64 = 0;
    /// `payment_status` 1: processing (a Click Pass payment awaiting its confirmation).
    pub const PROCESSING: i64 = 1;
    /// `payment_status` 2: paid.
    pub const PAID: i64 = 2;
    /// `payment_status` -1: reversed.
    pub const REVERSED: i64 = -1;
    /// `payment_status` -2: cancelled (not confirmed in time).
    pub const CANCELLED: i64 = -2;
}

/// The fiscal (OFD) data submitted for a payment.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct OfdRecord {
    /// The last `submit_items` call's data.
    pub receipt: Option<OfdReceipt>,
    /// The fiscal receipt's link: from the first `submit_items` (the mock fiscalizes at once),
    /// or the last `submit_qrcode` call.
    pub qrcode: Option<String>,
    /// How many `submit_items` calls were accepted.
    pub submissions: u32,
    /// When the first one was (Unix milliseconds, real time).
    pub first_submitted_ms: Option<u64>,
}

/// The body of a `payment/ofd_data/submit_items` call.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OfdReceipt {
    /// The items, as sent (PascalCase keys).
    pub items: Vec<Value>,
    /// `received_ecash`.
    pub received_ecash: Tiyin,
    /// `received_cash`.
    pub received_cash: Tiyin,
    /// `received_card`.
    pub received_card: Tiyin,
}
