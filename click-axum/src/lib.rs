//! axum routes for Click's SHOP-API callbacks.
//!
//! **Not implemented yet.** This crate will hold `routes(shop)`, an `axum::Router` with POST routes
//! for Prepare and Complete (and an optional single route that dispatches on `action`), a body
//! limit, and HTTP 200 JSON for every answer. All payment logic stays in [`click_core::Shop`]; this
//! crate will only carry bytes in and JSON out.

pub use click_core::{Endpoint, Shop};
