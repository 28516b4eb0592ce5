//! Seeds for a shop under test: an in-memory order book holding what [`check`](crate::check)
//! needs, and the matching order list.

use click_core::{Amount, MemoryOrders, Order};

use crate::scenarios::ORDERS_NEEDED;
use crate::target::OrderSpec;

/// The orders of a full run: payable ones and one already paid.
#[derive(Debug, Clone)]
pub struct Seed {
    /// The book to give the shop's store.
    pub book: MemoryOrders,
    /// The payable orders, for `check`.
    pub orders: Vec<OrderSpec>,
    /// The paid order, for `check`.
    pub paid: OrderSpec,
}

/// A book with [`ORDERS_NEEDED`] payable orders `{prefix}-1…` of `amount` and one paid order
/// `{prefix}-paid`.
///
/// # Panics
///
/// If `prefix` makes an invalid `merchant_trans_id` (over 240 bytes).
pub fn seed(prefix: &str, amount: Amount) -> Seed {
    let book = MemoryOrders::new();
    let spec = |suffix: &str| OrderSpec {
        id: format!("{prefix}-{suffix}")
            .parse()
            .expect("a short prefix makes valid ids"),
        amount,
    };
    let orders: Vec<OrderSpec> = (1..=ORDERS_NEEDED).map(|n| spec(&n.to_string())).collect();
    for order in &orders {
        book.insert(order.id.clone(), Order::Payable { amount });
    }
    let paid = spec("paid");
    book.insert(paid.id.clone(), Order::Paid);
    Seed { book, orders, paid }
}
