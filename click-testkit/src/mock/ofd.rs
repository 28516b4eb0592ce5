//! The shape of OFD (fiscal) items, as docs/protocol.md lists them.

use serde_json::{Map, Value};

/// What a key of an item holds.
#[derive(Clone, Copy)]
enum Kind {
    /// A string of at most this many characters.
    Text(usize),
    /// A non-negative integer (tiyin, a quantity, a percentage or a unit code).
    Count,
    /// At most 300 marking codes of at most 21 characters.
    Labels,
    /// `{"TIN": …}` (at most 9 characters) or `{"PINFL": …}` (at most 14).
    Commission,
}

/// Every key an item may have: its name, whether it is required, and what it holds.
const KEYS: &[(&str, bool, Kind)] = &[
    ("Name", true, Kind::Text(63)),
    ("SPIC", true, Kind::Text(17)),
    ("PackageCode", true, Kind::Text(20)),
    ("Price", true, Kind::Count),
    ("Amount", true, Kind::Count),
    ("VAT", true, Kind::Count),
    ("VATPercent", true, Kind::Count),
    ("CommissionInfo", true, Kind::Commission),
    ("Barcode", false, Kind::Text(13)),
    ("Labels", false, Kind::Labels),
    ("Units", false, Kind::Count),
    ("GoodPrice", false, Kind::Count),
    ("Discount", false, Kind::Count),
    ("Other", false, Kind::Count),
];

/// Checks one item; the error says which key is wrong. Optional keys may be `null`; unknown keys
/// (a snake_case spelling, say) are refused.
pub(super) fn check_item(item: &Value) -> Result<(), String> {
    let item = item.as_object().ok_or("each item must be a JSON object")?;
    if let Some(key) = item
        .keys()
        .find(|key| KEYS.iter().all(|(name, ..)| name != key))
    {
        return Err(format!("unknown item key {key}"));
    }
    for &(name, required, kind) in KEYS {
        match item.get(name) {
            None | Some(Value::Null) if required => {
                return Err(format!("missing item key {name}"));
            }
            None | Some(Value::Null) => {}
            Some(value) if !fits(value, kind) => return Err(format!("invalid item key {name}")),
            Some(_) => {}
        }
    }
    Ok(())
}

fn fits(value: &Value, kind: Kind) -> bool {
    let text = |value: &Value, max: usize| value.as_str().is_some_and(|s| s.chars().count() <= max);
    match kind {
        Kind::Text(max) => text(value, max),
        Kind::Count => value.as_u64().is_some(),
        Kind::Labels => value
            .as_array()
            .is_some_and(|labels| labels.len() <= 300 && labels.iter().all(|l| text(l, 21))),
        Kind::Commission => value.as_object().is_some_and(|info| commission(info, text)),
    }
}

/// `TIN` or `PINFL` (or both), nothing else.
fn commission(info: &Map<String, Value>, text: impl Fn(&Value, usize) -> bool) -> bool {
    let known = info.keys().all(|key| key == "TIN" || key == "PINFL");
    let tin = info.get("TIN").filter(|v| !v.is_null());
    let pinfl = info.get("PINFL").filter(|v| !v.is_null());
    known
        && (tin.is_some() || pinfl.is_some())
        && tin.is_none_or(|tin| text(tin, 9))
        && pinfl.is_none_or(|pinfl| text(pinfl, 14))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn item() -> Value {
        json!({
            "Name": "Чай зелёный, 100 г шт", "SPIC": "10902001001000000", "PackageCode": "1234567",
            "Price": 1_500_000, "Amount": 1, "VAT": 160_714, "VATPercent": 12,
            "CommissionInfo": {"TIN": "123456789"}, "Barcode": null
        })
    }

    fn with(key: &str, value: Value) -> Value {
        let mut item = item();
        if let Some(object) = item.as_object_mut() {
            object.insert(key.to_owned(), value);
        }
        item
    }

    #[test]
    fn accepts_a_full_item() {
        assert_eq!(check_item(&item()), Ok(()));
        let full = with("Labels", json!(["x".repeat(21)]));
        assert_eq!(check_item(&full), Ok(()));
        assert_eq!(
            check_item(&with("CommissionInfo", json!({"PINFL": "12345678901234"}))),
            Ok(())
        );
    }

    #[test]
    fn refuses_missing_oversized_and_unknown_keys() {
        let bad = [
            with("CommissionInfo", json!({})),
            with("CommissionInfo", json!({"TIN": "1234567890"})),
            with("CommissionInfo", json!({"tin": "123456789"})),
            with("Name", json!("x".repeat(64))),
            with("Price", json!(-1)),
            with("Price", json!(1.5)),
            with("Price", json!("1500000")),
            with("Labels", json!(["x".repeat(22)])),
            with("spic", json!("1")),
            with("SPIC", Value::Null),
            json!([]),
        ];
        for item in bad {
            assert!(check_item(&item).is_err(), "{item}");
        }
    }
}
