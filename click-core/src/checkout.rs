//! Checkout helpers: send the customer to Click's payment page.
//!
//! Every way of starting a payment carries the same fields: `service_id`, `merchant_id`, an optional
//! `merchant_user_id`, the `amount`, the `transaction_param` (the order's `merchant_trans_id`, which
//! Click sends back in Prepare and Complete), an optional `return_url` and an optional `card_type`.
//! A [`Checkout`] holds them once and writes them out in each form Click accepts:
//!
//! | method | gives |
//! |---|---|
//! | [`Checkout::link`] | the payment link to [`PAY_URL`]; on a phone Click's app intercepts it (deep link) |
//! | [`Checkout::html_form`] | a GET form to [`PAY_URL`] with hidden inputs and a pay button |
//! | [`Checkout::checkout_js_button`] | the [`CHECKOUT_JS_URL`] `<script>` that draws a pay button inside the merchant's POST form |
//! | [`Checkout::create_payment_request_js`] | a script opening Click's payment window when an element is clicked |
//! | [`Checkout::qr_svg`], [`Checkout::qr_terminal`] | a QR code of the link, to pay from a phone while shopping on a desktop |
//!
//! The old POST form to `my.click.uz/pay/` was shut down; only these work.
//!
//! The amount is always written `N.NN`, as Click asks. Click signs the amount literally as it
//! appears in the link, so the callbacks of a `1000.00` link carry `amount=1000.00`.
//!
//! `merchant_trans_id` and `return_url` are free text and may come from the customer. Each value is
//! encoded for the place it goes to: URL-encoded in the link, HTML-escaped in attributes and text,
//! and a JavaScript string literal that cannot end the surrounding `<script>` element in the script.
//!
//! ```
//! use click_core::checkout::{CardType, Checkout};
//! use click_core::{MerchantId, ServiceId};
//!
//! let checkout = Checkout::new(
//!     ServiceId::new(101),
//!     MerchantId::new(202),
//!     "1500.5".parse()?,
//!     "order 42/№7".parse()?,
//! )
//! .return_url("https://shop.example/orders/42")
//! .card_type(CardType::Humo);
//!
//! assert_eq!(
//!     checkout.link().as_str(),
//!     "https://my.click.uz/services/pay?service_id=101&merchant_id=202&amount=1500.50\
//!      &transaction_param=order+42%2F%E2%84%967\
//!      &return_url=https%3A%2F%2Fshop.example%2Forders%2F42&card_type=humo",
//! );
//! assert!(checkout.html_form("Pay with Click").contains(r#"name="amount" value="1500.50""#));
//! assert!(checkout.qr_svg()?.contains("<svg"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use qrcode::QrCode;
use qrcode::render::svg;
use qrcode::render::unicode::Dense1x2;
use url::Url;

use crate::{Amount, Credentials, MerchantId, MerchantTransId, MerchantUserId, ServiceId};

/// Click's payment page; [`Checkout::link`] and [`Checkout::html_form`] point here.
pub const PAY_URL: &str = "https://my.click.uz/services/pay";

/// Click's checkout.js, loaded by [`Checkout::checkout_js_button`] and
/// [`Checkout::create_payment_request_js`].
pub const CHECKOUT_JS_URL: &str = "https://my.click.uz/pay/checkout.js";

/// The DOM event [`Checkout::create_payment_request_js`] dispatches on the trigger element when
/// Click's payment window closes.
///
/// It bubbles, and its `detail` is the object checkout.js hands its callback: `detail.status` is
/// below 0 on an error, 0 when the payment was created, 1 while it is processed and 2 once paid.
/// The status is only a hint for the page: the order is paid when Complete says so.
pub const PAYMENT_CLOSED_EVENT: &str = "click-payment-closed";

/// Which card network the payment page should offer (`card_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardType {
    /// Uzcard cards.
    Uzcard,
    /// Humo cards.
    Humo,
}

impl CardType {
    /// The value Click expects: `uzcard` or `humo`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Uzcard => "uzcard",
            Self::Humo => "humo",
        }
    }
}

/// Why no QR code of a payment link could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The link holds more than a QR code can (2331 bytes at the error correction level M used).
    #[error("the payment link ({len} bytes) is too long for a QR code")]
    TooLong {
        /// The length of the link in bytes.
        len: usize,
    },
    /// The QR encoder refused the link for another reason.
    #[error("the QR encoder refused the payment link")]
    Encoding(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// One payment to start at Click: the fields of the payment link, form and checkout.js.
///
/// Build it with [`Checkout::new`] or [`Checkout::from_credentials`], add the optional fields with
/// the builder methods, then write it out with any of the methods listed in the
/// [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    service_id: ServiceId,
    merchant_id: MerchantId,
    merchant_user_id: Option<MerchantUserId>,
    amount: Amount,
    transaction_param: MerchantTransId,
    return_url: Option<String>,
    card_type: Option<CardType>,
}

impl Checkout {
    /// A payment of `amount` for the order `transaction_param` (its `merchant_trans_id`).
    pub fn new(
        service_id: ServiceId,
        merchant_id: MerchantId,
        amount: Amount,
        transaction_param: MerchantTransId,
    ) -> Self {
        Self {
            service_id,
            merchant_id,
            merchant_user_id: None,
            amount,
            transaction_param,
            return_url: None,
            card_type: None,
        }
    }

    /// A payment to the service of `credentials`, with their `merchant_user_id` set.
    pub fn from_credentials(
        credentials: &Credentials,
        amount: Amount,
        transaction_param: MerchantTransId,
    ) -> Self {
        Self::new(
            credentials.service_id,
            credentials.merchant_id,
            amount,
            transaction_param,
        )
        .merchant_user_id(credentials.merchant_user_id)
    }

    /// Sets `merchant_user_id`.
    #[must_use]
    pub fn merchant_user_id(mut self, id: MerchantUserId) -> Self {
        self.merchant_user_id = Some(id);
        self
    }

    /// Sets `return_url`, the page the customer lands on after paying.
    ///
    /// Used by the link and the form; checkout.js has no such field (it submits the surrounding
    /// form or calls back instead).
    #[must_use]
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Restricts the payment page to one card network.
    #[must_use]
    pub fn card_type(mut self, card_type: CardType) -> Self {
        self.card_type = Some(card_type);
        self
    }

    /// The payment link, which is also the deep link Click's app opens on a phone.
    ///
    /// Parameters come in the order `service_id`, `merchant_id`, `merchant_user_id`, `amount`,
    /// `transaction_param`, `return_url`, `card_type`; unset optional ones are left out. Values are
    /// form-URL-encoded (a space becomes `+`).
    pub fn link(&self) -> Url {
        // A constant that parses, as every test of this module checks: this cannot panic.
        let mut link = Url::parse(PAY_URL).expect("PAY_URL is an absolute URL");
        link.query_pairs_mut().extend_pairs(self.query_params());
        link
    }

    /// A GET form to [`PAY_URL`] with one hidden input per link parameter and a submit button
    /// showing `label`.
    ///
    /// The form submits in UTF-8 whatever the page's encoding, so it sends the same bytes as the
    /// link. The button has Click's class `click_logo` and an empty `<i>` for the logo, so Click's
    /// button CSS styles it. All values and the label are HTML-escaped.
    pub fn html_form(&self, label: &str) -> String {
        let inputs: String = self
            .query_params()
            .iter()
            .map(|(name, value)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                    escape_html(name),
                    escape_html(value)
                )
            })
            .collect();
        format!(
            "<form action=\"{PAY_URL}\" method=\"get\" accept-charset=\"UTF-8\">\n{inputs}\
             <button type=\"submit\" class=\"click_logo\"><i></i>{}</button>\n</form>\n",
            escape_html(label)
        )
    }

    /// The checkout.js `<script>` element that draws a pay button labelled `label`.
    ///
    /// Put it inside the merchant's `<form method="post" action="…">`: once the payment window
    /// closes, checkout.js submits that form with an extra `status` field. Optional attributes
    /// appear only when set; `return_url` does not apply. All values are HTML-escaped.
    pub fn checkout_js_button(&self, label: &str) -> String {
        let mut data = vec![
            ("data-service-id", self.service_id.to_string()),
            ("data-merchant-id", self.merchant_id.to_string()),
            (
                "data-transaction-param",
                self.transaction_param.as_str().to_owned(),
            ),
        ];
        if let Some(id) = self.merchant_user_id {
            data.push(("data-merchant-user-id", id.to_string()));
        }
        data.push(("data-amount", self.amount.to_string()));
        if let Some(card_type) = self.card_type {
            data.push(("data-card-type", card_type.as_str().to_owned()));
        }
        data.push(("data-label", label.to_owned()));
        let attributes: String = data
            .iter()
            .map(|(name, value)| format!(" {name}=\"{}\"", escape_html(value)))
            .collect();
        format!(
            "<script src=\"{CHECKOUT_JS_URL}\" class=\"uzcard_payment_button\"{attributes}></script>\n"
        )
    }

    /// Two `<script>` elements: one loading checkout.js, one making a click on the first element
    /// matching the CSS selector `trigger_selector` open Click's payment window through
    /// `createPaymentRequest`.
    ///
    /// The click's default action is prevented, so the trigger can be a plain link to
    /// [`Checkout::link`] that still works without JavaScript. When the window closes, a
    /// [`PAYMENT_CLOSED_EVENT`] is dispatched on the trigger. `service_id`, `merchant_id` and
    /// `amount` (`N.NN`) are JavaScript numbers, the rest strings, as in Click's sample; every
    /// string, the selector included, is a literal that cannot end the `<script>` element.
    pub fn create_payment_request_js(&self, trigger_selector: &str) -> String {
        let mut fields = vec![
            format!("service_id: {}", self.service_id),
            format!("merchant_id: {}", self.merchant_id),
            format!("amount: {}", self.amount),
            format!(
                "transaction_param: {}",
                js_string_literal(self.transaction_param.as_str())
            ),
        ];
        if let Some(id) = self.merchant_user_id {
            fields.push(format!(
                "merchant_user_id: {}",
                js_string_literal(&id.to_string())
            ));
        }
        if let Some(card_type) = self.card_type {
            fields.push(format!(
                "card_type: {}",
                js_string_literal(card_type.as_str())
            ));
        }
        let fields = fields.join(",\n        ");
        let selector = js_string_literal(trigger_selector);
        let event = js_string_literal(PAYMENT_CLOSED_EVENT);
        format!(
            r#"<script src="{CHECKOUT_JS_URL}"></script>
<script>
(function () {{
  function bind() {{
    var trigger = document.querySelector({selector});
    trigger.addEventListener("click", function (event) {{
      event.preventDefault();
      createPaymentRequest({{
        {fields}
      }}, function (data) {{
        trigger.dispatchEvent(new CustomEvent({event}, {{ bubbles: true, detail: data }}));
      }});
    }});
  }}
  if (document.readyState === "loading") {{
    document.addEventListener("DOMContentLoaded", bind);
  }} else {{
    bind();
  }}
}})();
</script>
"#
        )
    }

    /// A QR code of [`Checkout::link`] as an SVG document at least 200×200 pixels.
    ///
    /// The SVG holds only the QR modules, no text from the link, so it can be inlined in a page.
    ///
    /// # Errors
    ///
    /// [`QrError::TooLong`] when the link does not fit a QR code (a very long `return_url`).
    pub fn qr_svg(&self) -> Result<String, QrError> {
        Ok(self
            .qr_code()?
            .render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .build())
    }

    /// A QR code of [`Checkout::link`] drawn with Unicode half blocks, two modules per character
    /// row, for printing in a terminal.
    ///
    /// Colours are inverted (light modules are drawn as blocks) so the code scans on a terminal with
    /// a dark background.
    ///
    /// # Errors
    ///
    /// [`QrError::TooLong`] when the link does not fit a QR code (a very long `return_url`).
    pub fn qr_terminal(&self) -> Result<String, QrError> {
        Ok(self
            .qr_code()?
            .render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .build())
    }

    /// The link parameters, in the order of Click's documentation, unset optional ones left out.
    fn query_params(&self) -> Vec<(&'static str, String)> {
        let mut params = vec![
            ("service_id", self.service_id.to_string()),
            ("merchant_id", self.merchant_id.to_string()),
        ];
        if let Some(id) = self.merchant_user_id {
            params.push(("merchant_user_id", id.to_string()));
        }
        params.push(("amount", self.amount.to_string()));
        params.push((
            "transaction_param",
            self.transaction_param.as_str().to_owned(),
        ));
        if let Some(url) = &self.return_url {
            params.push(("return_url", url.clone()));
        }
        if let Some(card_type) = self.card_type {
            params.push(("card_type", card_type.as_str().to_owned()));
        }
        params
    }

    /// Encodes the link as a QR code at error correction level M.
    fn qr_code(&self) -> Result<QrCode, QrError> {
        let link = self.link();
        QrCode::new(link.as_str()).map_err(|error| match error {
            qrcode::types::QrError::DataTooLong => QrError::TooLong {
                len: link.as_str().len(),
            },
            other => QrError::Encoding(Box::new(other)),
        })
    }
}

/// Escapes text for an HTML attribute value or element content (`&`, `<`, `>`, `"`, `'`), as
/// every helper of this module does.
///
/// ```
/// assert_eq!(click_core::checkout::escape_html("<a href='x'>"), "&lt;a href=&#x27;x&#x27;&gt;");
/// ```
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// A JavaScript string literal of `text` that is safe inside an HTML `<script>` element.
///
/// JSON string syntax is valid JavaScript; on top of JSON's escapes, `<`, `>` and `&` are written
/// as `\u` escapes so that no `</script>` or `<!--` can appear, and U+2028 and U+2029 because older
/// JavaScript engines end a line at them.
fn js_string_literal(text: &str) -> String {
    let json = serde_json::Value::from(text).to_string();
    let mut literal = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => literal.push_str("\\u003c"),
            '>' => literal.push_str("\\u003e"),
            '&' => literal.push_str("\\u0026"),
            '\u{2028}' => literal.push_str("\\u2028"),
            '\u{2029}' => literal.push_str("\\u2029"),
            _ => literal.push(c),
        }
    }
    literal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretKey;

    const HOSTILE: &str = "\"><script>alert(1)</script>'";

    fn checkout(amount: &str, transaction_param: &str) -> Checkout {
        Checkout::new(
            ServiceId::new(101),
            MerchantId::new(202),
            amount.parse().expect("a test amount is valid"),
            MerchantTransId::new(transaction_param).expect("a test merchant_trans_id is valid"),
        )
    }

    fn full_checkout(transaction_param: &str, return_url: &str) -> Checkout {
        checkout("1000", transaction_param)
            .merchant_user_id(MerchantUserId::new(303))
            .return_url(return_url)
            .card_type(CardType::Uzcard)
    }

    fn link_pairs(checkout: &Checkout) -> Vec<(String, String)> {
        checkout
            .link()
            .query_pairs()
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|&(name, value)| (name.to_owned(), value.to_owned()))
            .collect()
    }

    #[test]
    fn link_lists_parameters_in_documented_order() {
        let checkout = full_checkout("order-42", "https://shop.example/done");
        assert_eq!(
            checkout.link().as_str(),
            "https://my.click.uz/services/pay?service_id=101&merchant_id=202\
             &merchant_user_id=303&amount=1000.00&transaction_param=order-42\
             &return_url=https%3A%2F%2Fshop.example%2Fdone&card_type=uzcard"
        );
    }

    #[test]
    fn link_leaves_out_unset_optional_parameters() {
        assert_eq!(
            checkout("1000", "order-42").link().as_str(),
            "https://my.click.uz/services/pay?service_id=101&merchant_id=202\
             &amount=1000.00&transaction_param=order-42"
        );
    }

    #[test]
    fn from_credentials_sets_merchant_user_id() {
        let credentials = Credentials::new(
            ServiceId::new(101),
            MerchantId::new(202),
            MerchantUserId::new(303),
            SecretKey::new("never in a link"),
        );
        let from_credentials = Checkout::from_credentials(
            &credentials,
            "1000".parse().expect("a test amount is valid"),
            MerchantTransId::new("order-42").expect("a test merchant_trans_id is valid"),
        );
        assert_eq!(
            from_credentials,
            checkout("1000", "order-42").merchant_user_id(MerchantUserId::new(303))
        );
        assert!(!from_credentials.link().as_str().contains("never"));
    }

    #[test]
    fn card_type_values_are_clicks() {
        assert_eq!(CardType::Uzcard.as_str(), "uzcard");
        assert_eq!(CardType::Humo.as_str(), "humo");
    }

    /// docs/protocol.md, bad input 92: `&`, `=`, `#`, a space or Cyrillic in `transaction_param` (and in
    /// `return_url`) are URL-encoded, and the link parses back to exactly what went in.
    #[test]
    fn link_round_trips_reserved_and_cyrillic_characters() {
        for param in ["a&b", "a=b", "a#b", "a b", "заказ-42", "x&y=z #№ 1+1%20"] {
            let return_url = format!("https://shop.example/done?order={param}#top");
            let checkout = full_checkout(param, &return_url);
            let link = checkout.link();
            assert_eq!(link.fragment(), None, "{param:?}");
            assert_eq!(
                link_pairs(&checkout),
                pairs(&[
                    ("service_id", "101"),
                    ("merchant_id", "202"),
                    ("merchant_user_id", "303"),
                    ("amount", "1000.00"),
                    ("transaction_param", param),
                    ("return_url", &return_url),
                    ("card_type", "uzcard"),
                ]),
                "{param:?}"
            );
            let reparsed = Url::parse(link.as_str()).ok();
            assert_eq!(reparsed.as_ref(), Some(&link), "{param:?}");
        }
    }

    /// docs/protocol.md, bad input 93: `1000` is written `1000.00` and `1500.5` is written `1500.50` in
    /// the link, the form, `data-amount` and the script.
    #[test]
    fn amount_is_written_n_nn_everywhere() {
        for (amount, written) in [("1000", "1000.00"), ("1500.5", "1500.50")] {
            let checkout = checkout(amount, "order-42");
            assert!(
                checkout
                    .link()
                    .as_str()
                    .contains(&format!("&amount={written}&")),
                "{amount}"
            );
            assert!(
                checkout
                    .html_form("Pay")
                    .contains(&format!(r#"name="amount" value="{written}""#)),
                "{amount}"
            );
            assert!(
                checkout
                    .checkout_js_button("Pay")
                    .contains(&format!(r#"data-amount="{written}""#)),
                "{amount}"
            );
            assert!(
                checkout
                    .create_payment_request_js("#pay")
                    .contains(&format!("amount: {written},")),
                "{amount}"
            );
        }
    }

    #[test]
    fn html_form_has_one_hidden_input_per_parameter() {
        let form = full_checkout("order-42", "https://shop.example/done").html_form("Pay");
        assert_eq!(
            form,
            "<form action=\"https://my.click.uz/services/pay\" method=\"get\" accept-charset=\"UTF-8\">\n\
             <input type=\"hidden\" name=\"service_id\" value=\"101\">\n\
             <input type=\"hidden\" name=\"merchant_id\" value=\"202\">\n\
             <input type=\"hidden\" name=\"merchant_user_id\" value=\"303\">\n\
             <input type=\"hidden\" name=\"amount\" value=\"1000.00\">\n\
             <input type=\"hidden\" name=\"transaction_param\" value=\"order-42\">\n\
             <input type=\"hidden\" name=\"return_url\" value=\"https://shop.example/done\">\n\
             <input type=\"hidden\" name=\"card_type\" value=\"uzcard\">\n\
             <button type=\"submit\" class=\"click_logo\"><i></i>Pay</button>\n\
             </form>\n"
        );
    }

    /// docs/protocol.md, bad input 94: `"><script>` and `'` in every free-text attribute of the form and
    /// in the button label come out escaped and inert.
    #[test]
    fn html_form_escapes_hostile_values_and_label() {
        let form = full_checkout(HOSTILE, HOSTILE).html_form(HOSTILE);
        let escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;";
        assert!(form.contains(&format!(r#"name="transaction_param" value="{escaped}""#)));
        assert!(form.contains(&format!(r#"name="return_url" value="{escaped}""#)));
        assert!(form.contains(&format!("<i></i>{escaped}</button>")));
        assert!(!form.contains("<script"));
        assert!(!form.contains("\"><script"));
        assert!(!form.contains('\''));
    }

    #[test]
    fn checkout_js_button_sets_optional_attributes_only_when_given() {
        assert_eq!(
            checkout("1000", "order-42").checkout_js_button("Pay"),
            "<script src=\"https://my.click.uz/pay/checkout.js\" class=\"uzcard_payment_button\" \
             data-service-id=\"101\" data-merchant-id=\"202\" data-transaction-param=\"order-42\" \
             data-amount=\"1000.00\" data-label=\"Pay\"></script>\n"
        );
        let full = full_checkout("order-42", "https://shop.example/done").checkout_js_button("Pay");
        assert!(full.contains(r#" data-merchant-user-id="303""#));
        assert!(full.contains(r#" data-card-type="uzcard""#));
        assert!(!full.contains("shop.example"));
    }

    /// docs/protocol.md, bad input 94: `"><script>` and `'` in `data-transaction-param` and `data-label`
    /// come out escaped and inert.
    #[test]
    fn checkout_js_button_escapes_hostile_values_and_label() {
        let button = full_checkout(HOSTILE, HOSTILE).checkout_js_button(HOSTILE);
        let escaped = "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;";
        assert!(button.contains(&format!(r#" data-transaction-param="{escaped}""#)));
        assert!(button.contains(&format!(r#" data-label="{escaped}""#)));
        assert_eq!(button.matches("<script").count(), 1);
        assert_eq!(button.matches("</script>").count(), 1);
        assert!(!button.contains("<script>alert"));
        assert!(!button.contains("\"><script"));
        assert!(!button.contains('\''));
    }

    #[test]
    fn create_payment_request_js_passes_every_field() {
        let script = full_checkout("order-42", "https://shop.example/done")
            .create_payment_request_js("#pay");
        assert!(script.starts_with(
            "<script src=\"https://my.click.uz/pay/checkout.js\"></script>\n<script>\n"
        ));
        assert!(script.contains("document.querySelector(\"#pay\")"));
        assert!(script.contains(
            "createPaymentRequest({\n        service_id: 101,\n        merchant_id: 202,\n        \
             amount: 1000.00,\n        transaction_param: \"order-42\",\n        \
             merchant_user_id: \"303\",\n        card_type: \"uzcard\"\n      }, function (data) {"
        ));
        assert!(script.contains("new CustomEvent(\"click-payment-closed\""));
        assert!(!script.contains("shop.example"));
    }

    /// docs/protocol.md, bad input 94, for the script: a `transaction_param` or selector holding
    /// `</script>`, quotes, `&` or line separators cannot end the element or the string.
    #[test]
    fn create_payment_request_js_cannot_be_broken_out_of() {
        let hostile = "</script><script>alert(1)</script>'\"\\&\u{2028}\u{2029}<!--";
        let script = full_checkout(hostile, hostile).create_payment_request_js(hostile);
        assert_eq!(script.matches("</script>").count(), 2);
        assert_eq!(script.matches("<script").count(), 2);
        assert!(!script.contains("<!--"));
        assert!(!script.contains('\u{2028}'));
        assert!(!script.contains('\u{2029}'));
        assert!(!script.contains("<script>alert"));
        let literal = js_string_literal(hostile);
        assert!(script.contains(&format!("transaction_param: {literal},")));
        assert!(script.contains(&format!("document.querySelector({literal})")));
    }

    #[test]
    fn js_string_literal_decodes_to_the_input() {
        for text in [
            "plain",
            "</script>",
            "a\"b'c\\d",
            "&amp;",
            "\u{2028}\u{2029}",
            "\n\t\0",
            "заказ",
        ] {
            let literal = js_string_literal(text);
            assert!(
                !literal.contains(['<', '>', '&', '\u{2028}', '\u{2029}']),
                "{literal}"
            );
            let decoded: Option<String> = serde_json::from_str(&literal).ok();
            assert_eq!(decoded.as_deref(), Some(text), "{literal}");
        }
    }

    #[test]
    fn escape_html_escapes_the_five_special_characters() {
        assert_eq!(
            escape_html("a&b<c>d\"e'f"),
            "a&amp;b&lt;c&gt;d&quot;e&#x27;f"
        );
        assert_eq!(escape_html("заказ 42"), "заказ 42");
    }

    #[test]
    fn qr_svg_renders_an_svg_document() {
        let svg = full_checkout("order-42", "https://shop.example/done").qr_svg();
        assert!(svg.as_deref().is_ok_and(|svg| svg.contains("<svg")));
    }

    #[test]
    fn qr_terminal_draws_half_blocks() {
        let text = full_checkout("order-42", "https://shop.example/done").qr_terminal();
        assert!(text.as_deref().is_ok_and(|text| {
            !text.is_empty()
                && text
                    .chars()
                    .all(|c| matches!(c, ' ' | '\u{2580}' | '\u{2584}' | '\u{2588}' | '\n'))
        }));
    }

    /// The longest `merchant_trans_id` (255 bytes, each percent-encoded to three) still fits.
    #[test]
    fn qr_fits_the_longest_transaction_param() {
        let longest = "ж".repeat(MerchantTransId::MAX_LEN / 2);
        let checkout = full_checkout(&longest, "https://shop.example/done");
        assert!(checkout.qr_svg().is_ok());
    }

    /// A link longer than a QR code holds (here through a 3000-byte `return_url`, since
    /// `merchant_trans_id` is capped at 255 bytes) is a typed error, not a panic.
    #[test]
    fn qr_of_too_long_link_is_a_typed_error() {
        let return_url = format!("https://shop.example/{}", "a".repeat(3000));
        let checkout = full_checkout("order-42", &return_url);
        let len = checkout.link().as_str().len();
        assert!(matches!(checkout.qr_svg(), Err(QrError::TooLong { len: l }) if l == len));
        assert!(matches!(
            checkout.qr_terminal(),
            Err(QrError::TooLong { .. })
        ));
    }
}
