//! `/orders/{id}`: the page a shop would show, with every way to pay.

use axum::extract::{Path, State};
use axum::response::Html;
use click_core::checkout::{Checkout, escape_html as escape};
use click_core::{Credentials, MemoryOrders, MerchantTransId, Order};

/// What the page handler needs.
#[derive(Clone)]
pub(crate) struct Pages {
    pub(crate) credentials: Credentials,
    pub(crate) orders: MemoryOrders,
}

/// The order page, or a 404 page.
pub(crate) async fn order_page(
    State(pages): State<Pages>,
    Path(id): Path<String>,
) -> (axum::http::StatusCode, Html<String>) {
    use axum::http::StatusCode;
    let order = id
        .parse::<MerchantTransId>()
        .ok()
        .and_then(|id| Some((pages.orders.get(&id)?, id)));
    let Some((order, id)) = order else {
        return (
            StatusCode::NOT_FOUND,
            Html("<!doctype html><title>Not found</title><p>No such order.</p>".to_owned()),
        );
    };
    let Order::Payable { amount } = order else {
        let state = if order == Order::Paid {
            "paid"
        } else {
            "not payable"
        };
        return (
            StatusCode::OK,
            Html(format!(
                "<!doctype html><title>Order</title><p>This order is {state}.</p>"
            )),
        );
    };
    let checkout = Checkout::from_credentials(&pages.credentials, amount, id.clone());
    let qr = checkout.qr_svg().unwrap_or_default();
    let title = escape(id.as_str());
    let body = format!(
        "<!doctype html><meta charset=\"utf-8\"><title>Order {title}</title>\
         <h1>Order {title}: {amount} so'm</h1>\
         <p><a href=\"{link}\">Pay with Click</a> (on a phone this opens the Click app)</p>\
         <h2>Payment form</h2>{form}\
         <h2>checkout.js button</h2><form method=\"post\">{button}</form>\
         <h2>Pay from your phone</h2>{qr}",
        link = escape(checkout.link().as_str()),
        form = checkout.html_form("Pay with Click"),
        button = checkout.checkout_js_button("Pay with Click"),
    );
    (StatusCode::OK, Html(body))
}
