//! How values cross the wire: amounts as exact JSON numbers, ids that Click sometimes sends as
//! strings, and the `error_code`/`error_note` every answer carries.

use click_core::Amount;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

/// Serializes an amount as a JSON number with two decimals (`1500.50`), written from its decimal
/// text, never through a binary float.
pub(crate) fn amount<S: Serializer>(amount: &Amount, serializer: S) -> Result<S::Ok, S::Error> {
    RawValue::from_string(amount.to_string())
        .map_err(serde::ser::Error::custom)?
        .serialize(serializer)
}

/// An integer that may arrive as a JSON number, a numeric string, or (for flags) a boolean.
pub(crate) fn flexible_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flexible {
        Number(i64),
        Text(String),
        Flag(bool),
    }
    match Flexible::deserialize(deserializer)? {
        Flexible::Number(n) => Ok(n),
        Flexible::Text(text) => text.trim().parse().map_err(de::Error::custom),
        Flexible::Flag(flag) => Ok(i64::from(flag)),
    }
}

/// An id (`payment_id`, `invoice_id`) as [`flexible_i64`] reads it.
pub(crate) fn flexible_id<'de, D: Deserializer<'de>, T: From<i64>>(
    deserializer: D,
) -> Result<T, D::Error> {
    flexible_i64(deserializer).map(T::from)
}

/// Like [`flexible_i64`], for a field that may be missing or `null`.
pub(crate) fn flexible_option_i64<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrapper(#[serde(deserialize_with = "flexible_i64")] i64);
    Ok(Option::<Wrapper>::deserialize(deserializer)?.map(|Wrapper(n)| n))
}

/// The part every answer has.
#[derive(Debug, Deserialize)]
pub(crate) struct Status {
    #[serde(deserialize_with = "flexible_i64")]
    pub(crate) error_code: i64,
    #[serde(default)]
    pub(crate) error_note: Option<String>,
}

/// An answer with nothing beyond `error_code` and `error_note`.
#[derive(Deserialize)]
pub(crate) struct Empty {}
