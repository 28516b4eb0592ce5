//! actix-web routes for Click's SHOP-API callbacks.
//!
//! **Not implemented yet.** This crate will hold `configure(shop)` for
//! `actix_web::App::configure`, with the same routes and behaviour as `click-axum`. All payment
//! logic stays in [`click_core::Shop`]; this crate will only carry bytes in and JSON out.

pub use click_core::{Endpoint, Shop};
