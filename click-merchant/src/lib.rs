//! Client for Click's Merchant API (`https://api.click.uz/v2/merchant/`): the calls a merchant makes
//! to Click.
//!
//! **Not implemented yet.** This crate will hold `MerchantClient`: invoices, payment status (by
//! payment id and by `merchant_trans_id`), reversal, card tokens (request, verify, pay, delete),
//! Click Pass payments with confirm mode, and OFD fiscalization, with typed requests, answers and
//! errors and the SHA1 `Auth` header. Until then it only re-exports the shared types of
//! [`click_core`] that the client will speak.

pub use click_core::{Amount, Credentials, SecretKey};
