//! Reading request bodies and path segments; anything missing or malformed is a 400.

use std::collections::HashMap;

use click_core::{Amount, MerchantTransId, ServiceId};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use super::reply::{Failure, SERVICE_NOT_FOUND};

/// A JSON object body with its values kept as raw text, so amounts are read exactly.
pub(super) struct Fields(HashMap<String, Box<RawValue>>);

fn bad(note: impl Into<String>) -> Failure {
    Failure::BadRequest(note.into())
}

impl Fields {
    /// Parses a body that must be a JSON object.
    pub(super) fn parse(body: &[u8]) -> Result<Self, Failure> {
        serde_json::from_slice(body)
            .map(Fields)
            .map_err(|_| bad("the body is not a JSON object"))
    }

    /// A field's raw JSON, if present and not `null`.
    fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(|raw| raw.get())
            .filter(|raw| *raw != "null")
    }

    /// A required field of type `T`.
    pub(super) fn get<T: DeserializeOwned>(&self, name: &str, what: &str) -> Result<T, Failure> {
        self.optional(name, what)?
            .ok_or_else(|| bad(format!("missing field {name}")))
    }

    /// An optional field of type `T` (absent or `null` is `None`).
    pub(super) fn optional<T: DeserializeOwned>(
        &self,
        name: &str,
        what: &str,
    ) -> Result<Option<T>, Failure> {
        self.raw(name)
            .map(|raw| serde_json::from_str(raw).map_err(|_| bad(format!("{name} must be {what}"))))
            .transpose()
    }

    /// Checks `service_id`: a 400 if missing, Click's -5 if it is not the mock's.
    pub(super) fn service(&self, ours: ServiceId) -> Result<(), Failure> {
        let id: i64 = self.get("service_id", "an integer")?;
        same_service(ServiceId::new(id), ours)
    }

    /// An amount in so'm: a JSON number with at most two decimals, read from its text.
    pub(super) fn amount(&self, name: &str) -> Result<Amount, Failure> {
        let raw = self
            .raw(name)
            .ok_or_else(|| bad(format!("missing field {name}")))?;
        raw.parse().map_err(|_| {
            bad(format!(
                "{name} must be a JSON number of so'm with at most 2 decimals"
            ))
        })
    }

    /// A `merchant_trans_id`: a non-empty string of at most 255 bytes.
    pub(super) fn merchant_trans_id(&self, name: &str) -> Result<MerchantTransId, Failure> {
        let what = "a non-empty string of at most 255 bytes";
        MerchantTransId::new(self.get::<String>(name, what)?)
            .map_err(|_| bad(format!("{name} must be {what}")))
    }
}

/// Checks a `service_id` path segment: a 400 if it is not an id, Click's -5 if it is not the mock's.
pub(super) fn path_service(segment: &str, ours: ServiceId) -> Result<(), Failure> {
    let id: ServiceId = segment
        .parse()
        .map_err(|_| bad("service_id must be an integer"))?;
    same_service(id, ours)
}

/// Click's -5 for any service but the mock's.
fn same_service(id: ServiceId, ours: ServiceId) -> Result<(), Failure> {
    if id == ours {
        Ok(())
    } else {
        Err(SERVICE_NOT_FOUND.into())
    }
}

/// A numeric id path segment: ASCII digits, no sign, no leading zero, within `i64`.
pub(super) fn path_id(segment: &str, name: &str) -> Result<i64, Failure> {
    let canonical = !segment.is_empty()
        && segment.bytes().all(|b| b.is_ascii_digit())
        && !(segment.len() > 1 && segment.starts_with('0'));
    canonical
        .then(|| segment.parse().ok())
        .flatten()
        .ok_or_else(|| bad(format!("{name} must be an integer")))
}

/// A `YYYY-MM-DD` path segment with a plausible month and day.
pub(super) fn path_date(segment: &str) -> Result<(), Failure> {
    let number = |range: std::ops::Range<usize>| {
        segment
            .get(range)
            .filter(|part| part.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|part| part.parse::<u32>().ok())
    };
    let shaped = segment.len() == 10
        && segment.as_bytes().get(4) == Some(&b'-')
        && segment.as_bytes().get(7) == Some(&b'-');
    match (shaped, number(0..4), number(5..7), number(8..10)) {
        (true, Some(_), Some(1..=12), Some(1..=31)) => Ok(()),
        _ => Err(bad("the date must be YYYY-MM-DD")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Fields {
        Fields::parse(body.as_bytes()).unwrap_or_else(|_| panic!("{body}"))
    }

    #[test]
    fn amounts_are_read_from_their_text() {
        let body =
            fields(r#"{"a": 999999999999999.99, "b": 1500.5, "c": "1000", "d": 1e3, "e": 1.005}"#);
        assert_eq!(body.amount("a").ok(), Some(Amount::MAX));
        assert_eq!(body.amount("b").ok(), "1500.50".parse().ok());
        for name in ["c", "d", "e", "missing"] {
            assert!(body.amount(name).is_err(), "{name}");
        }
    }

    #[test]
    fn typed_fields_refuse_other_types() {
        let body = fields(r#"{"n": 12, "s": "12", "f": 12.0, "z": null}"#);
        assert_eq!(body.get::<i64>("n", "").ok(), Some(12));
        assert!(body.get::<i64>("s", "").is_err());
        assert!(body.get::<i64>("f", "").is_err());
        assert!(body.get::<String>("n", "").is_err());
        assert!(body.get::<i64>("z", "").is_err());
        assert_eq!(body.optional::<String>("z", "").ok(), Some(None));
        assert!(Fields::parse(b"[1]").is_err());
        assert!(Fields::parse(b"").is_err());
    }

    #[test]
    fn path_segments() {
        assert_eq!(path_id("4300000001", "id").ok(), Some(4_300_000_001));
        for bad in ["", "01", "-1", "+1", "1.0", "99999999999999999999"] {
            assert!(path_id(bad, "id").is_err(), "{bad:?}");
        }
        assert!(path_date("2024-01-31").is_ok());
        for bad in [
            "2024-1-31",
            "2024-13-01",
            "2024-01-32",
            "20240131",
            "2024-01-3x",
        ] {
            assert!(path_date(bad).is_err(), "{bad:?}");
        }
    }
}
