//! A local emulator of Click: it plays Click's side of the SHOP-API against any merchant's
//! Prepare and Complete URLs, in any language, with correctly signed requests.
//!
//! From the command line:
//!
//! ```text
//! click-testkit check --prepare-url http://127.0.0.1:8080/click/prepare \
//!     --complete-url http://127.0.0.1:8080/click/complete --service-id 101 --secret-key … \
//!     --order o-1:1000 --order o-2:1000 … [--paid-order o-0:1000] [--cancel-after-confirm -9] [--json]
//! click-testkit pay --prepare-url … --complete-url … --service-id 101 --secret-key … --order o-1:1000
//! ```
//!
//! From Rust tests:
//!
//! ```no_run
//! use click_testkit::{Options, OrderSpec, Target, check};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let target = Target {
//!     prepare_url: "http://127.0.0.1:8080/click/prepare".into(),
//!     complete_url: "http://127.0.0.1:8080/click/complete".into(),
//!     service_id: click_core::ServiceId::new(101),
//!     secret_key: click_core::SecretKey::new("secret"),
//! };
//! let orders: Vec<OrderSpec> = (1..=7).map(|n| format!("o-{n}:1000").parse()).collect::<Result<_, _>>()?;
//! let report = check(&target, &orders, None, Options::default()).await;
//! assert!(report.passed(), "{report}");
//! # Ok(()) }
//! ```
//!
//! The scenarios are Click's own 15 test-tool scenarios, in order, then the checks of the
//! project's docs/protocol.md (see [`scenarios`]); [`transport`] adds HTTP-level checks (body size,
//! content types, methods, slow clients).
//!
//! [`mock`] is the other direction: a mock of Click's Merchant API (invoices, payment status,
//! reversals, card tokens, Click Pass, OFD) for testing a Merchant API client, with fault injection
//! and a test clock.

pub mod bot_api;
pub mod fixtures;
pub mod http;
pub mod load;
pub mod mock;
pub mod report;
pub mod scenarios;
pub mod target;
pub mod transport;

pub use http::Exchange;
pub use report::{Report, ScenarioResult};
pub use scenarios::{ORDERS_NEEDED, Options, ToolOrders, check, check_click_tool, pay};
pub use target::{OrderSpec, Target};
