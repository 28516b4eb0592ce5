//! Typed Prepare and Complete callbacks, parsed from the raw form body with strict grammars.
//!
//! Parsing checks, in this order, and stops at the first failure:
//! 1. the body is a well-formed form: no duplicated field, every value valid UTF-8 (`-8`);
//! 2. each field common to both callbacks is present and matches its grammar (`-8`):
//!    ids are canonical non-negative integers within `i64`, `merchant_trans_id` is 1 to 255 bytes,
//!    `amount` is non-empty, `error` is `0` or a negative integer, `sign_time` is exactly
//!    `YYYY-MM-DD HH:MM:SS` and a real date, `sign_string` is present;
//! 3. `action` is exactly `0` or `1`, and the one the endpoint expects (`-3`);
//! 4. on Complete, `merchant_prepare_id` is present and canonical (`-8`).
//!
//! [`crate::Shop`] then checks the signature, and only after it the amount's grammar: an unsigned
//! request with a bad amount answers `-1`, a signed one `-2`.
//! `error_note` is free text outside the signature: missing or empty is fine. On Prepare,
//! `merchant_prepare_id` is not part of the signature and is ignored (Click's test tool sends it
//! empty).

use std::fmt;

use crate::amount::{Amount, AmountError};
use crate::credentials::Keyring;
use crate::form::{Field, Form, FormError};
use crate::ids::{
    ClickPaydocId, ClickTransId, IdError, MerchantPrepareId, MerchantTransId, ServiceId,
    parse_canonical_i64,
};
use crate::signature::{Signature, sign_complete, sign_prepare};

/// Which callback URL a body arrived at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The Prepare URL: only `action=0` is accepted.
    Prepare,
    /// The Complete URL: only `action=1` is accepted.
    Complete,
    /// One URL registered for both: dispatch on `action`.
    Any,
}

/// The `action` of a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `action=0`.
    Prepare,
    /// `action=1`.
    Complete,
}

/// Why a body is not a well-formed callback. [`ParseError::code`] tells the Click answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A field appears more than once (`-8`).
    #[error("field {0} appears more than once")]
    Duplicate(&'static str),
    /// A field's value is not valid UTF-8 once decoded (`-8`).
    #[error("field {0} is not valid UTF-8")]
    NotUtf8(&'static str),
    /// A required field is missing (`-8`).
    #[error("field {0} is missing")]
    Missing(&'static str),
    /// A required field is present but empty (`-8`).
    #[error("field {0} is empty")]
    Empty(&'static str),
    /// A field does not match its grammar (`-8`).
    #[error("field {0} is malformed")]
    Malformed(&'static str),
    /// `action` is not exactly `0` or `1`, or not the endpoint's (`-3`).
    #[error("action not found")]
    UnknownAction,
}

impl ParseError {
    /// The answer code: `-3` for an unknown action, `-8` for everything else.
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            ParseError::UnknownAction => crate::ErrorCode::ActionNotFound,
            _ => crate::ErrorCode::BadRequest,
        }
    }
}

impl From<FormError> for ParseError {
    fn from(error: FormError) -> Self {
        match error {
            FormError::Duplicate(field) => ParseError::Duplicate(field.name()),
            FormError::NotUtf8(field) => ParseError::NotUtf8(field.name()),
        }
    }
}

/// The `error` a callback carries: what happened at Click. Not signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClickStatus(i64);

impl ClickStatus {
    /// `0`: success (on Complete: the money was debited).
    pub const SUCCESS: ClickStatus = ClickStatus(0);

    /// Wraps a code; only `0` and negative codes occur in a parsed callback.
    pub const fn new(code: i64) -> Self {
        Self(code)
    }

    /// The code.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// Whether Click cancels the payment: every negative code (`-5017` is the common one).
    pub const fn is_cancel(self) -> bool {
        self.0 < 0
    }
}

/// A Prepare callback (`action=0`): "is this order payable for this amount?".
#[derive(Clone, PartialEq, Eq)]
pub struct PrepareRequest {
    /// Click's id of this payment attempt.
    pub click_trans_id: ClickTransId,
    /// The service being paid.
    pub service_id: ServiceId,
    /// Click's payment document id.
    pub click_paydoc_id: ClickPaydocId,
    /// The merchant's order, account or login.
    pub merchant_trans_id: MerchantTransId,
    /// What Click reports (`0` on Prepare).
    pub error: ClickStatus,
    /// Click's free-text note; untrusted.
    pub error_note: String,
    /// When Click signed the request, `YYYY-MM-DD HH:MM:SS`.
    pub sign_time: String,
    amount: String,
    sign_string: String,
}

/// A Complete callback (`action=1`): "the money was debited" (`error=0`) or "cancel" (`error<0`).
#[derive(Clone, PartialEq, Eq)]
pub struct CompleteRequest {
    /// Click's id of this payment attempt.
    pub click_trans_id: ClickTransId,
    /// The service being paid.
    pub service_id: ServiceId,
    /// Click's payment document id.
    pub click_paydoc_id: ClickPaydocId,
    /// The merchant's order, account or login.
    pub merchant_trans_id: MerchantTransId,
    /// The id the merchant answered to Prepare.
    pub merchant_prepare_id: MerchantPrepareId,
    /// `0`: debited, deliver; negative: cancelled at Click.
    pub error: ClickStatus,
    /// Click's free-text note; untrusted.
    pub error_note: String,
    /// When Click signed the request, `YYYY-MM-DD HH:MM:SS`.
    pub sign_time: String,
    amount: String,
    sign_string: String,
}

/// A parsed callback of either kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// `action=0`.
    Prepare(PrepareRequest),
    /// `action=1`.
    Complete(CompleteRequest),
}

/// The fields both callbacks share, parsed.
struct Common {
    click_trans_id: ClickTransId,
    service_id: ServiceId,
    click_paydoc_id: ClickPaydocId,
    merchant_trans_id: MerchantTransId,
    error: ClickStatus,
    error_note: String,
    sign_time: String,
    amount: String,
    sign_string: String,
}

/// What a parse error can still echo back to Click.
#[derive(Debug, Default)]
pub(crate) struct Echo {
    pub(crate) click_trans_id: Option<ClickTransId>,
    pub(crate) merchant_trans_id: Option<MerchantTransId>,
    pub(crate) action: Option<Action>,
}

impl Callback {
    /// Parses a raw form body that arrived at `endpoint`.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] for the first check that fails (see the [module docs](self)).
    pub fn parse(body: &[u8], endpoint: Endpoint) -> Result<Self, ParseError> {
        Self::parse_with_echo(body, endpoint).map_err(|(error, _)| error)
    }

    pub(crate) fn parse_with_echo(
        body: &[u8],
        endpoint: Endpoint,
    ) -> Result<Self, (ParseError, Echo)> {
        let mut form = Form::parse(body).map_err(|e| (e.into(), Echo::default()))?;
        let echo = |form: &Form<'_>| Echo {
            click_trans_id: form.get(Field::ClickTransId).and_then(|v| v.parse().ok()),
            merchant_trans_id: form
                .get(Field::MerchantTransId)
                .and_then(|v| v.parse().ok()),
            action: form.get(Field::Action).and_then(parse_action),
        };
        let common = Common::parse(&mut form).map_err(|e| (e, echo(&form)))?;
        let action =
            form.get(Field::Action)
                .and_then(parse_action)
                .filter(|action| match endpoint {
                    Endpoint::Prepare => *action == Action::Prepare,
                    Endpoint::Complete => *action == Action::Complete,
                    Endpoint::Any => true,
                });
        let echo_common = |common: &Common| Echo {
            click_trans_id: Some(common.click_trans_id),
            merchant_trans_id: Some(common.merchant_trans_id.clone()),
            action,
        };
        match action {
            None => Err((ParseError::UnknownAction, echo_common(&common))),
            Some(Action::Prepare) => Ok(Callback::Prepare(PrepareRequest::from(common))),
            Some(Action::Complete) => match required(&form, Field::MerchantPrepareId)
                .and_then(|text| id(text, Field::MerchantPrepareId))
            {
                Ok(merchant_prepare_id) => Ok(Callback::Complete(CompleteRequest::from_common(
                    common,
                    merchant_prepare_id,
                ))),
                Err(error) => Err((error, echo_common(&common))),
            },
        }
    }

    /// Checks the signature against the service's secrets in `keyring`.
    pub fn verify(&self, keyring: &Keyring) -> bool {
        match self {
            Callback::Prepare(request) => request.verify(keyring),
            Callback::Complete(request) => request.verify(keyring),
        }
    }

    /// Click's id of the payment attempt.
    pub fn click_trans_id(&self) -> ClickTransId {
        match self {
            Callback::Prepare(request) => request.click_trans_id,
            Callback::Complete(request) => request.click_trans_id,
        }
    }

    /// The merchant's order, account or login.
    pub fn merchant_trans_id(&self) -> &MerchantTransId {
        match self {
            Callback::Prepare(request) => &request.merchant_trans_id,
            Callback::Complete(request) => &request.merchant_trans_id,
        }
    }

    /// The action.
    pub fn action(&self) -> Action {
        match self {
            Callback::Prepare(_) => Action::Prepare,
            Callback::Complete(_) => Action::Complete,
        }
    }
}

impl Common {
    fn parse(form: &mut Form<'_>) -> Result<Self, ParseError> {
        let click_trans_id =
            required(form, Field::ClickTransId).and_then(|v| id(v, Field::ClickTransId))?;
        let service_id = required(form, Field::ServiceId).and_then(|v| id(v, Field::ServiceId))?;
        let click_paydoc_id =
            required(form, Field::ClickPaydocId).and_then(|v| id(v, Field::ClickPaydocId))?;
        let merchant_trans_id = required(form, Field::MerchantTransId).and_then(|v| {
            v.parse()
                .map_err(|_| ParseError::Malformed(Field::MerchantTransId.name()))
        })?;
        required(form, Field::Amount)?;
        // `action`'s value is checked after the common fields (-3), but its absence is -8.
        required(form, Field::Action)?;
        let error = required(form, Field::Error).and_then(parse_status)?;
        let sign_time = required(form, Field::SignTime)?;
        if !is_sign_time(sign_time) {
            return Err(ParseError::Malformed(Field::SignTime.name()));
        }
        if form.get(Field::SignString).is_none() {
            return Err(ParseError::Missing(Field::SignString.name()));
        }
        Ok(Common {
            click_trans_id,
            service_id,
            click_paydoc_id,
            merchant_trans_id,
            error,
            error_note: form.take(Field::ErrorNote).unwrap_or_default(),
            sign_time: form.take(Field::SignTime).unwrap_or_default(),
            amount: form.take(Field::Amount).unwrap_or_default(),
            sign_string: form.take(Field::SignString).unwrap_or_default(),
        })
    }
}

/// A required field's value: present and non-empty.
fn required<'f>(form: &'f Form<'_>, field: Field) -> Result<&'f str, ParseError> {
    match form.get(field) {
        None => Err(ParseError::Missing(field.name())),
        Some("") => Err(ParseError::Empty(field.name())),
        Some(value) => Ok(value),
    }
}

fn id<T: std::str::FromStr<Err = IdError>>(text: &str, field: Field) -> Result<T, ParseError> {
    text.parse()
        .map_err(|_| ParseError::Malformed(field.name()))
}

fn parse_action(text: &str) -> Option<Action> {
    match text {
        "0" => Some(Action::Prepare),
        "1" => Some(Action::Complete),
        _ => None,
    }
}

/// `0` or a negative canonical integer.
fn parse_status(text: &str) -> Result<ClickStatus, ParseError> {
    let malformed = || ParseError::Malformed(Field::Error.name());
    match text.strip_prefix('-') {
        None if text == "0" => Ok(ClickStatus::SUCCESS),
        Some(digits) if digits != "0" => parse_canonical_i64(digits)
            .map(|code| ClickStatus(-code))
            .map_err(|_| malformed()),
        _ => Err(malformed()),
    }
}

/// Exactly `YYYY-MM-DD HH:MM:SS`, ASCII digits, a real calendar date and time.
fn is_sign_time(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return false;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second)) = (
        number(0..4),
        number(5..7),
        number(8..10),
        number(11..13),
        number(14..16),
        number(17..19),
    ) else {
        return false;
    };
    year >= 1970
        && crate::calendar::is_valid_date(year, month, day)
        && hour < 24
        && minute < 60
        && second < 60
}

/// Verifies `sign_string` against every secret of the service. The digest is computed and compared
/// as 16 bytes whatever was received: malformed hex compares as all zeros and then fails.
fn verify_any(
    keyring: &Keyring,
    service_id: ServiceId,
    sign_string: &str,
    sign: impl Fn(&crate::SecretKey) -> Signature,
) -> bool {
    let received = Signature::from_hex(sign_string);
    let compared = received.unwrap_or(Signature::ZERO);
    let matched = keyring
        .secrets(service_id)
        .iter()
        .fold(false, |found, secret| {
            found | sign(secret).matches(&compared)
        });
    matched & received.is_some()
}
impl From<Common> for PrepareRequest {
    fn from(c: Common) -> Self {
        PrepareRequest {
            click_trans_id: c.click_trans_id,
            service_id: c.service_id,
            click_paydoc_id: c.click_paydoc_id,
            merchant_trans_id: c.merchant_trans_id,
            error: c.error,
            error_note: c.error_note,
            sign_time: c.sign_time,
            amount: c.amount,
            sign_string: c.sign_string,
        }
    }
}

impl PrepareRequest {
    /// Parses a body that must be a Prepare (`action=0`).
    ///
    /// # Errors
    ///
    /// A [`ParseError`]; `action=1` is [`ParseError::UnknownAction`].
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        match Callback::parse(body, Endpoint::Prepare)? {
            Callback::Prepare(request) => Ok(request),
            Callback::Complete(_) => Err(ParseError::UnknownAction),
        }
    }

    /// Checks `sign_string` against the service's secrets in `keyring`, over the exact received text.
    pub fn verify(&self, keyring: &Keyring) -> bool {
        let click_trans_id = self.click_trans_id.to_string();
        let service_id = self.service_id.to_string();
        verify_any(keyring, self.service_id, &self.sign_string, |secret| {
            sign_prepare(
                secret,
                &click_trans_id,
                &service_id,
                self.merchant_trans_id.as_str(),
                &self.amount,
                &self.sign_time,
            )
        })
    }
}

impl CompleteRequest {
    fn from_common(c: Common, merchant_prepare_id: MerchantPrepareId) -> Self {
        CompleteRequest {
            click_trans_id: c.click_trans_id,
            service_id: c.service_id,
            click_paydoc_id: c.click_paydoc_id,
            merchant_trans_id: c.merchant_trans_id,
            merchant_prepare_id,
            error: c.error,
            error_note: c.error_note,
            sign_time: c.sign_time,
            amount: c.amount,
            sign_string: c.sign_string,
        }
    }

    /// Parses a body that must be a Complete (`action=1`).
    ///
    /// # Errors
    ///
    /// A [`ParseError`]; `action=0` is [`ParseError::UnknownAction`].
    pub fn parse(body: &[u8]) -> Result<Self, ParseError> {
        match Callback::parse(body, Endpoint::Complete)? {
            Callback::Complete(request) => Ok(request),
            Callback::Prepare(_) => Err(ParseError::UnknownAction),
        }
    }

    /// Checks `sign_string` against the service's secrets in `keyring`, over the exact received text.
    pub fn verify(&self, keyring: &Keyring) -> bool {
        let click_trans_id = self.click_trans_id.to_string();
        let service_id = self.service_id.to_string();
        let merchant_prepare_id = self.merchant_prepare_id.to_string();
        verify_any(keyring, self.service_id, &self.sign_string, |secret| {
            sign_complete(
                secret,
                &click_trans_id,
                &service_id,
                self.merchant_trans_id.as_str(),
                &merchant_prepare_id,
                &self.amount,
                &self.sign_time,
            )
        })
    }
}

/// The received amount, for both request types.
macro_rules! received_amount {
    ($($name:ident),*) => {$(
        impl $name {
            /// The amount exactly as received: the text that was signed.
            pub fn amount_text(&self) -> &str {
                &self.amount
            }

            /// The amount as a value.
            ///
            /// # Errors
            ///
            /// [`AmountError`] when the received text is not `digits[.d[d]]` (answered `-2`).
            pub fn amount(&self) -> Result<Amount, AmountError> {
                self.amount.parse()
            }
        }
    )*};
}

received_amount!(PrepareRequest, CompleteRequest);

/// Debug output leaves out `sign_string` (docs/protocol.md, bad input 91).
macro_rules! debug_without_signature {
    ($name:ident { $($field:ident),* }) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($field), &self.$field))*
                    .field("amount", &self.amount)
                    .finish_non_exhaustive()
            }
        }
    };
}

debug_without_signature!(PrepareRequest {
    click_trans_id,
    service_id,
    click_paydoc_id,
    merchant_trans_id,
    error,
    error_note,
    sign_time
});
debug_without_signature!(CompleteRequest {
    click_trans_id,
    service_id,
    click_paydoc_id,
    merchant_trans_id,
    merchant_prepare_id,
    error,
    error_note,
    sign_time
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_time_is_a_real_date() {
        for ok in [
            "2024-01-31 12:30:00",
            "2024-02-29 23:59:59",
            "2000-02-29 00:00:00",
        ] {
            assert!(is_sign_time(ok), "{ok}");
        }
        for bad in [
            "2024-13-45 25:61:61",
            "",
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00",
            "2024-01-31 12:30:00\u{80}",
            "2024-01-31 12:30:00 ",
            "2023-02-29 00:00:00",
            "1900-02-29 00:00:00",
            "2024-04-31 00:00:00",
            "2024-00-10 00:00:00",
            "2024-01-00 00:00:00",
            "2024-1-031 00:00:00",
            "+024-01-31 12:30:00",
            "2024-01-31 12:30:6０",
        ] {
            assert!(!is_sign_time(bad), "{bad:?}");
        }
    }

    /// docs/protocol.md, bad input 57: `0` or negative only.
    #[test]
    fn status_is_zero_or_negative() {
        assert_eq!(parse_status("0"), Ok(ClickStatus::SUCCESS));
        assert_eq!(parse_status("-5017"), Ok(ClickStatus(-5017)));
        assert!(parse_status("-5017").is_ok_and(ClickStatus::is_cancel));
        for bad in [
            "1",
            "abc",
            "-0",
            "-",
            "--1",
            "+1",
            "-01",
            "00",
            " 0",
            "-99999999999999999999",
        ] {
            assert!(parse_status(bad).is_err(), "{bad:?}");
        }
    }
}
