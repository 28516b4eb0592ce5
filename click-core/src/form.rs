//! A strict `application/x-www-form-urlencoded` reader for the fields of a callback.
//!
//! It differs from lenient decoders on purpose:
//! - a field that appears twice is an error (sign over one value, act on the other);
//! - a value that does not decode to valid UTF-8 is an error (lenient decoders substitute U+FFFD,
//!   which would turn a malformed request into a signature failure);
//! - `+` decodes to a space, `%XX` to a byte, and an invalid escape such as `%zz` stays literal text,
//!   as the WHATWG URL standard's decoder does;
//! - unknown fields are skipped (forward compatibility) and never decoded.

use std::borrow::Cow;

/// A field of a callback form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    ClickTransId,
    ServiceId,
    ClickPaydocId,
    MerchantTransId,
    MerchantPrepareId,
    Amount,
    Action,
    Error,
    ErrorNote,
    SignTime,
    SignString,
}

impl Field {
    const ALL: [Field; 11] = [
        Field::ClickTransId,
        Field::ServiceId,
        Field::ClickPaydocId,
        Field::MerchantTransId,
        Field::MerchantPrepareId,
        Field::Amount,
        Field::Action,
        Field::Error,
        Field::ErrorNote,
        Field::SignTime,
        Field::SignString,
    ];

    /// The field's name in the form.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Field::ClickTransId => "click_trans_id",
            Field::ServiceId => "service_id",
            Field::ClickPaydocId => "click_paydoc_id",
            Field::MerchantTransId => "merchant_trans_id",
            Field::MerchantPrepareId => "merchant_prepare_id",
            Field::Amount => "amount",
            Field::Action => "action",
            Field::Error => "error",
            Field::ErrorNote => "error_note",
            Field::SignTime => "sign_time",
            Field::SignString => "sign_string",
        }
    }

    fn from_name(name: &[u8]) -> Option<Field> {
        Field::ALL
            .into_iter()
            .find(|field| field.name().as_bytes() == name)
    }
}

/// Why a body is not a well-formed form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormError {
    /// The field appears more than once.
    Duplicate(Field),
    /// The field's value does not decode to UTF-8.
    NotUtf8(Field),
}

/// The known fields of one form body, decoded.
#[derive(Debug, Default)]
pub(crate) struct Form<'a> {
    values: [Option<Cow<'a, str>>; Field::ALL.len()],
}

impl<'a> Form<'a> {
    /// Reads a body. Known fields are decoded; unknown ones are skipped.
    pub(crate) fn parse(body: &'a [u8]) -> Result<Self, FormError> {
        let mut form = Form::default();
        for pair in body.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            let (name, value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &pair[..0]),
            };
            let Some(field) = Field::from_name(&decode(name)) else {
                continue;
            };
            let slot = &mut form.values[field as usize];
            if slot.is_some() {
                return Err(FormError::Duplicate(field));
            }
            let value = match decode(value) {
                Cow::Borrowed(bytes) => std::str::from_utf8(bytes).map(Cow::Borrowed).ok(),
                Cow::Owned(bytes) => String::from_utf8(bytes).map(Cow::Owned).ok(),
            };
            *slot = Some(value.ok_or(FormError::NotUtf8(field))?);
        }
        Ok(form)
    }

    /// The decoded value of a field, if it was present (possibly empty).
    pub(crate) fn get(&self, field: Field) -> Option<&str> {
        self.values[field as usize].as_deref()
    }

    /// Takes a field's value out of the form, reusing its buffer when it was decoded.
    pub(crate) fn take(&mut self, field: Field) -> Option<String> {
        self.values[field as usize].take().map(Cow::into_owned)
    }
}

/// Percent-decodes bytes, borrowing when there is nothing to decode.
fn decode(input: &[u8]) -> Cow<'_, [u8]> {
    if !input.iter().any(|&b| b == b'+' || b == b'%') {
        return Cow::Borrowed(input);
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                input.get(i + 1).and_then(hex),
                input.get(i + 2).and_then(hex),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    Cow::Owned(out)
}

fn hex(byte: &u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(body: &str, field: Field) -> Option<String> {
        Form::parse(body.as_bytes())
            .ok()
            .and_then(|form| form.get(field).map(str::to_owned))
    }

    #[test]
    fn decodes_plus_and_escapes() {
        assert_eq!(
            get("sign_time=2024-01-31+12%3A30%3A00", Field::SignTime).as_deref(),
            Some("2024-01-31 12:30:00")
        );
        assert_eq!(
            get("merchant_trans_id=A%2BB", Field::MerchantTransId).as_deref(),
            Some("A+B")
        );
        assert_eq!(
            get("merchant_trans_id=A%20B", Field::MerchantTransId).as_deref(),
            Some("A B")
        );
        assert_eq!(
            get(
                "merchant_trans_id=%D0%BB%D0%BE%D0%B3",
                Field::MerchantTransId
            )
            .as_deref(),
            Some("лог")
        );
    }

    /// docs/protocol.md, bad input 8: an invalid escape stays literal text.
    #[test]
    fn keeps_invalid_escapes_literally() {
        assert_eq!(
            get("merchant_trans_id=a%zz", Field::MerchantTransId).as_deref(),
            Some("a%zz")
        );
        assert_eq!(
            get("merchant_trans_id=a%2", Field::MerchantTransId).as_deref(),
            Some("a%2")
        );
        assert_eq!(
            get("merchant_trans_id=%", Field::MerchantTransId).as_deref(),
            Some("%")
        );
    }

    /// docs/protocol.md, bad inputs 5 and 7.
    #[test]
    fn rejects_duplicates_and_invalid_utf8() {
        assert_eq!(
            Form::parse(b"amount=1000&amount=1").err(),
            Some(FormError::Duplicate(Field::Amount))
        );
        assert_eq!(
            Form::parse(b"amount=1000&am%6Funt=1").err(),
            Some(FormError::Duplicate(Field::Amount)),
            "an encoded name is the same field"
        );
        assert_eq!(
            Form::parse(b"merchant_trans_id=%FF").err(),
            Some(FormError::NotUtf8(Field::MerchantTransId))
        );
        assert_eq!(
            Form::parse(b"merchant_trans_id=\xff").err(),
            Some(FormError::NotUtf8(Field::MerchantTransId))
        );
    }

    /// docs/protocol.md, bad input 10: unknown fields are skipped, even duplicated or not UTF-8.
    #[test]
    fn skips_unknown_fields() {
        let form = Form::parse(b"foo=bar&foo=%FF&&=&action=0&bare").ok();
        assert_eq!(form.as_ref().and_then(|f| f.get(Field::Action)), Some("0"));
        assert_eq!(get("error_note", Field::ErrorNote).as_deref(), Some(""));
        assert_eq!(get("", Field::Action), None);
    }
}
