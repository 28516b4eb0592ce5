//! OFD fiscal data: receipt items for the tax authority's fiscal module, in integer tiyin.
//!
//! Items are validated when built ([`OfdItem::builder`]), so an invalid item is a typed error
//! before anything is sent.

use click_core::{ClickPaydocId, Tiyin};
use reqwest::Method;
use serde::{Deserialize, Serialize, Serializer};

use crate::client::{MerchantClient, Safety, Shape};
use crate::error::MerchantError;
use crate::wire;

/// Why an item or receipt is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OfdError {
    /// A text field is empty or longer than its limit.
    #[error("{field} must be 1 to {max} characters")]
    Length {
        /// The field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// More than 300 marking codes.
    #[error("at most 300 labels")]
    TooManyLabels,
    /// A TIN is not 9 digits at most, or a PINFL not 14 at most.
    #[error("{0} must be digits within its length")]
    TaxId(&'static str),
    /// A receipt without items.
    #[error("a receipt needs at least one item")]
    NoItems,
}

fn text(field: &'static str, value: &str, max: usize) -> Result<(), OfdError> {
    let length = value.chars().count();
    if (1..=max).contains(&length) {
        Ok(())
    } else {
        Err(OfdError::Length { field, max })
    }
}

fn tiyin<S: Serializer>(amount: &Tiyin, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(amount.get())
}

fn optional_tiyin<S: Serializer>(amount: &Option<Tiyin>, serializer: S) -> Result<S::Ok, S::Error> {
    match amount {
        Some(amount) => serializer.serialize_some(&amount.get()),
        None => serializer.serialize_none(),
    }
}

/// Whose commission receipt it is: a company's TIN or a person's PINFL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CommissionInfo {
    /// A TIN (ИНН), at most 9 digits.
    #[serde(rename = "TIN")]
    Tin(String),
    /// A PINFL (ПИНФЛ), at most 14 digits.
    #[serde(rename = "PINFL")]
    Pinfl(String),
}

impl CommissionInfo {
    fn check(&self) -> Result<(), OfdError> {
        let (name, value, max) = match self {
            CommissionInfo::Tin(value) => ("TIN", value, 9),
            CommissionInfo::Pinfl(value) => ("PINFL", value, 14),
        };
        let digits =
            !value.is_empty() && value.len() <= max && value.bytes().all(|b| b.is_ascii_digit());
        if digits {
            Ok(())
        } else {
            Err(OfdError::TaxId(name))
        }
    }
}

/// One receipt position, serialized with Click's PascalCase field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OfdItem {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    barcode: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<String>,
    #[serde(rename = "SPIC")]
    spic: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    units: Option<u64>,
    package_code: String,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_tiyin"
    )]
    good_price: Option<Tiyin>,
    #[serde(serialize_with = "tiyin")]
    price: Tiyin,
    amount: u64,
    #[serde(rename = "VAT", serialize_with = "tiyin")]
    vat: Tiyin,
    #[serde(rename = "VATPercent")]
    vat_percent: u32,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_tiyin"
    )]
    discount: Option<Tiyin>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_tiyin"
    )]
    other: Option<Tiyin>,
    commission_info: CommissionInfo,
}

/// Builds an [`OfdItem`] from its required fields; optional ones are set by methods.
#[derive(Debug, Clone)]
pub struct OfdItemBuilder {
    item: OfdItem,
}

impl OfdItem {
    /// Starts an item: `name` (≤ 63 characters, unit of measure at the end), `spic` (the IKPU
    /// code, ≤ 17), `package_code` (≤ 20), `price` (the position's total with quantity, before
    /// discounts), `quantity`, `vat` and `vat_percent`, and the commission info.
    #[allow(clippy::too_many_arguments)]
    pub fn builder(
        name: impl Into<String>,
        spic: impl Into<String>,
        package_code: impl Into<String>,
        price: Tiyin,
        quantity: u64,
        vat: Tiyin,
        vat_percent: u32,
        commission_info: CommissionInfo,
    ) -> OfdItemBuilder {
        OfdItemBuilder {
            item: OfdItem {
                name: name.into(),
                barcode: None,
                labels: Vec::new(),
                spic: spic.into(),
                units: None,
                package_code: package_code.into(),
                good_price: None,
                price,
                amount: quantity,
                vat,
                vat_percent,
                discount: None,
                other: None,
                commission_info,
            },
        }
    }
}

impl OfdItemBuilder {
    /// The barcode (≤ 13 characters).
    #[must_use]
    pub fn barcode(mut self, barcode: impl Into<String>) -> Self {
        self.item.barcode = Some(barcode.into());
        self
    }

    /// Marking codes (≤ 300, each ≤ 21 characters).
    #[must_use]
    pub fn labels(mut self, labels: Vec<String>) -> Self {
        self.item.labels = labels;
        self
    }

    /// The unit-of-measure code.
    #[must_use]
    pub fn units(mut self, units: u64) -> Self {
        self.item.units = Some(units);
        self
    }

    /// The price of one unit.
    #[must_use]
    pub fn good_price(mut self, price: Tiyin) -> Self {
        self.item.good_price = Some(price);
        self
    }

    /// The discount.
    #[must_use]
    pub fn discount(mut self, discount: Tiyin) -> Self {
        self.item.discount = Some(discount);
        self
    }

    /// Another discount (insurance and the like).
    #[must_use]
    pub fn other(mut self, other: Tiyin) -> Self {
        self.item.other = Some(other);
        self
    }

    /// The item, validated.
    ///
    /// # Errors
    ///
    /// [`OfdError`] for a field over its limit or invalid tax ids.
    pub fn build(self) -> Result<OfdItem, OfdError> {
        let item = self.item;
        text("Name", &item.name, 63)?;
        text("SPIC", &item.spic, 17)?;
        text("PackageCode", &item.package_code, 20)?;
        if let Some(barcode) = &item.barcode {
            text("Barcode", barcode, 13)?;
        }
        if item.labels.len() > 300 {
            return Err(OfdError::TooManyLabels);
        }
        for label in &item.labels {
            text("Labels", label, 21)?;
        }
        item.commission_info.check()?;
        Ok(item)
    }
}

/// A receipt: its items and how it was paid, in tiyin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfdReceipt {
    /// The positions; at least one.
    pub items: Vec<OfdItem>,
    /// Paid in electronic cash (the Click payment, usually).
    pub received_ecash: Tiyin,
    /// Paid in cash.
    pub received_cash: Tiyin,
    /// Paid by card.
    pub received_card: Tiyin,
}

/// The answer to [`MerchantClient::ofd_data`] (camelCase at Click, and no `error_code`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OfdData {
    /// The payment.
    #[serde(rename = "paymentId", deserialize_with = "wire::flexible_id")]
    pub payment_id: ClickPaydocId,
    /// The fiscal receipt's link.
    #[serde(rename = "qrCodeURL", default)]
    pub qr_code_url: Option<String>,
}

impl MerchantClient {
    /// Submits a payment's receipt items. `payment_id` is the SHOP-API `click_paydoc_id`.
    ///
    /// # Errors
    ///
    /// [`MerchantError::Invalid`] for a receipt without items, before anything is sent; else
    /// [`MerchantError`].
    pub async fn submit_ofd_items(
        &self,
        payment_id: ClickPaydocId,
        receipt: &OfdReceipt,
    ) -> Result<(), MerchantError> {
        #[derive(Serialize)]
        struct Body<'a> {
            service_id: i64,
            payment_id: ClickPaydocId,
            items: &'a [OfdItem],
            #[serde(serialize_with = "tiyin")]
            received_ecash: Tiyin,
            #[serde(serialize_with = "tiyin")]
            received_cash: Tiyin,
            #[serde(serialize_with = "tiyin")]
            received_card: Tiyin,
        }
        if receipt.items.is_empty() {
            return Err(OfdError::NoItems.into());
        }
        let body = Body {
            service_id: self.service_id().get(),
            payment_id,
            items: &receipt.items,
            received_ecash: receipt.received_ecash,
            received_cash: receipt.received_cash,
            received_card: receipt.received_card,
        };
        let _: wire::Empty = self
            .call(
                Method::POST,
                &["payment", "ofd_data", "submit_items"],
                Some(&body),
                Safety::Once,
                Shape::Checked,
            )
            .await?;
        Ok(())
    }

    /// Submits the link of a receipt fiscalized elsewhere.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn submit_ofd_qrcode(
        &self,
        payment_id: ClickPaydocId,
        qrcode: &str,
    ) -> Result<(), MerchantError> {
        #[derive(Serialize)]
        struct Body<'a> {
            service_id: i64,
            payment_id: ClickPaydocId,
            qrcode: &'a str,
        }
        let body = Body {
            service_id: self.service_id().get(),
            payment_id,
            qrcode,
        };
        let _: wire::Empty = self
            .call(
                Method::POST,
                &["payment", "ofd_data", "submit_qrcode"],
                Some(&body),
                Safety::Once,
                Shape::Checked,
            )
            .await?;
        Ok(())
    }

    /// A payment's fiscal data. Retried on transient failures.
    ///
    /// # Errors
    ///
    /// [`MerchantError`].
    pub async fn ofd_data(&self, payment_id: ClickPaydocId) -> Result<OfdData, MerchantError> {
        let (service, payment) = (self.service_id().to_string(), payment_id.to_string());
        self.call(
            Method::GET,
            &["payment", "ofd_data", &service, &payment],
            None,
            Safety::Repeatable,
            Shape::Plain,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item() -> OfdItemBuilder {
        OfdItem::builder(
            "Coffee, pcs",
            "10202001001000000",
            "1234567",
            Tiyin(2_500_000),
            1,
            Tiyin(267_857),
            12,
            CommissionInfo::Tin("123456789".into()),
        )
    }

    /// docs/protocol.md, bad input 86: over-long fields and missing tax ids are refused when building.
    #[test]
    fn validates_limits() {
        assert!(item().barcode("4780000000010").build().is_ok());
        assert_eq!(
            item().barcode("12345678901234").build().err(),
            Some(OfdError::Length {
                field: "Barcode",
                max: 13
            })
        );
        let long_name = OfdItem::builder(
            "x".repeat(64),
            "1",
            "1",
            Tiyin(1),
            1,
            Tiyin(0),
            0,
            CommissionInfo::Pinfl("12345678901234".into()),
        );
        assert_eq!(
            long_name.build().err(),
            Some(OfdError::Length {
                field: "Name",
                max: 63
            })
        );
        let bad_tin = OfdItem::builder(
            "n",
            "1",
            "1",
            Tiyin(1),
            1,
            Tiyin(0),
            0,
            CommissionInfo::Tin("1234567890".into()),
        );
        assert_eq!(bad_tin.build().err(), Some(OfdError::TaxId("TIN")));
        let empty_pinfl = OfdItem::builder(
            "n",
            "1",
            "1",
            Tiyin(1),
            1,
            Tiyin(0),
            0,
            CommissionInfo::Pinfl(String::new()),
        );
        assert_eq!(empty_pinfl.build().err(), Some(OfdError::TaxId("PINFL")));
        assert_eq!(
            item().labels(vec!["x".into(); 301]).build().err(),
            Some(OfdError::TooManyLabels)
        );
        assert_eq!(
            item().labels(vec!["x".repeat(22)]).build().err(),
            Some(OfdError::Length {
                field: "Labels",
                max: 21
            })
        );
    }

    #[test]
    fn serializes_click_field_names() {
        let json = item().build().map(|item| serde_json::to_value(item).ok());
        let json = json.ok().flatten().unwrap_or_default();
        assert_eq!(json["Name"], "Coffee, pcs");
        assert_eq!(json["SPIC"], "10202001001000000");
        assert_eq!(json["Price"], 2_500_000);
        assert_eq!(json["VAT"], 267_857);
        assert_eq!(json["VATPercent"], 12);
        assert_eq!(json["CommissionInfo"]["TIN"], "123456789");
        assert!(json.get("Barcode").is_none());
    }
}
