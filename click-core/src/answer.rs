//! The JSON answers the merchant sends Click, and their error codes.

use serde::Serialize;

use crate::callback::Endpoint;
use crate::ids::{ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId};

/// The codes a merchant answers Click with (`error` in the JSON), with Click's notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `0`: success.
    Success,
    /// `-1`: the signature does not verify.
    SignCheckFailed,
    /// `-2`: the amount differs from the order's or the prepared one, or is malformed.
    IncorrectAmount,
    /// `-3`: `action` is not `0` or `1`, or not the endpoint's.
    ActionNotFound,
    /// `-4`: the transaction was already confirmed, or the order already paid.
    AlreadyPaid,
    /// `-5`: no such order, account or login.
    UserDoesNotExist,
    /// `-6`: no such prepared transaction.
    TransactionDoesNotExist,
    /// `-7`: the merchant's storage failed; Click retries.
    FailedToUpdateUser,
    /// `-8`: the request is malformed.
    BadRequest,
    /// `-9`: the transaction was cancelled.
    TransactionCancelled,
}

impl ErrorCode {
    /// The numeric code.
    pub const fn code(self) -> i32 {
        match self {
            ErrorCode::Success => 0,
            ErrorCode::SignCheckFailed => -1,
            ErrorCode::IncorrectAmount => -2,
            ErrorCode::ActionNotFound => -3,
            ErrorCode::AlreadyPaid => -4,
            ErrorCode::UserDoesNotExist => -5,
            ErrorCode::TransactionDoesNotExist => -6,
            ErrorCode::FailedToUpdateUser => -7,
            ErrorCode::BadRequest => -8,
            ErrorCode::TransactionCancelled => -9,
        }
    }

    /// The code for a number, if it is one of Click's.
    pub const fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            0 => ErrorCode::Success,
            -1 => ErrorCode::SignCheckFailed,
            -2 => ErrorCode::IncorrectAmount,
            -3 => ErrorCode::ActionNotFound,
            -4 => ErrorCode::AlreadyPaid,
            -5 => ErrorCode::UserDoesNotExist,
            -6 => ErrorCode::TransactionDoesNotExist,
            -7 => ErrorCode::FailedToUpdateUser,
            -8 => ErrorCode::BadRequest,
            -9 => ErrorCode::TransactionCancelled,
            _ => return None,
        })
    }

    /// Click's `error_note` for the code, as its documentation spells it.
    pub const fn note(self) -> &'static str {
        match self {
            ErrorCode::Success => "Success",
            ErrorCode::SignCheckFailed => "SIGN CHECK FAILED!",
            ErrorCode::IncorrectAmount => "Incorrect parameter amount",
            ErrorCode::ActionNotFound => "Action not found",
            ErrorCode::AlreadyPaid => "Already paid",
            ErrorCode::UserDoesNotExist => "User does not exist",
            ErrorCode::TransactionDoesNotExist => "Transaction does not exist",
            ErrorCode::FailedToUpdateUser => "Failed to update user",
            ErrorCode::BadRequest => "Error in request from click",
            ErrorCode::TransactionCancelled => "Transaction cancelled",
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i32(self.code())
    }
}

/// The answer to a Prepare.
///
/// `click_trans_id` and `merchant_trans_id` echo the request; they are left out only when the
/// request was too malformed to read them. `merchant_prepare_id` is present when a transaction
/// exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrepareAnswer {
    /// Echo of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click_trans_id: Option<ClickTransId>,
    /// Echo of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_trans_id: Option<MerchantTransId>,
    /// The merchant's id of the prepared transaction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_prepare_id: Option<MerchantPrepareId>,
    /// The code.
    pub error: ErrorCode,
    /// The code's note.
    pub error_note: &'static str,
}

/// The answer to a Complete. `merchant_confirm_id` is always present, `null` when there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompleteAnswer {
    /// Echo of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub click_trans_id: Option<ClickTransId>,
    /// Echo of the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_trans_id: Option<MerchantTransId>,
    /// The merchant's id of the confirmed transaction.
    pub merchant_confirm_id: Option<MerchantConfirmId>,
    /// The code.
    pub error: ErrorCode,
    /// The code's note.
    pub error_note: &'static str,
}

/// The answer to a callback: serialize it with [`Answer::to_json`] and send it with HTTP 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// The answer to a Prepare.
    Prepare(PrepareAnswer),
    /// The answer to a Complete.
    Complete(CompleteAnswer),
}

impl Answer {
    /// The code of the answer.
    pub fn error(&self) -> ErrorCode {
        match self {
            Answer::Prepare(answer) => answer.error,
            Answer::Complete(answer) => answer.error,
        }
    }

    /// An answer that echoes nothing, in the shape of `endpoint`'s answers: for a body an adapter
    /// could not read at all (too large, too slow) or a handler that failed.
    pub fn bare(endpoint: Endpoint, error: ErrorCode) -> Answer {
        match endpoint {
            Endpoint::Complete => Answer::Complete(CompleteAnswer {
                click_trans_id: None,
                merchant_trans_id: None,
                merchant_confirm_id: None,
                error,
                error_note: error.note(),
            }),
            Endpoint::Prepare | Endpoint::Any => Answer::Prepare(PrepareAnswer {
                click_trans_id: None,
                merchant_trans_id: None,
                merchant_prepare_id: None,
                error,
                error_note: error.note(),
            }),
        }
    }

    /// The `merchant_prepare_id` of a Prepare answer.
    pub fn merchant_prepare_id(&self) -> Option<MerchantPrepareId> {
        match self {
            Answer::Prepare(answer) => answer.merchant_prepare_id,
            Answer::Complete(_) => None,
        }
    }

    /// The `merchant_confirm_id` of a Complete answer.
    pub fn merchant_confirm_id(&self) -> Option<MerchantConfirmId> {
        match self {
            Answer::Prepare(_) => None,
            Answer::Complete(answer) => answer.merchant_confirm_id,
        }
    }

    /// The JSON body, UTF-8.
    ///
    /// ```
    /// use click_core::{Answer, CompleteAnswer, ErrorCode};
    ///
    /// let answer = Answer::Complete(CompleteAnswer {
    ///     click_trans_id: None,
    ///     merchant_trans_id: None,
    ///     merchant_confirm_id: None,
    ///     error: ErrorCode::BadRequest,
    ///     error_note: ErrorCode::BadRequest.note(),
    /// });
    /// assert_eq!(
    ///     answer.to_json(),
    ///     br#"{"merchant_confirm_id":null,"error":-8,"error_note":"Error in request from click"}"#
    /// );
    /// ```
    pub fn to_json(&self) -> Vec<u8> {
        let mut json = Vec::with_capacity(160);
        match serde_json::to_writer(&mut json, self) {
            Ok(()) => json,
            // Unreachable: every field serializes infallibly. Never leave Click without JSON.
            Err(_) => br#"{"error":-7,"error_note":"Failed to update user"}"#.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_notes_match_the_documentation() {
        let all = [
            (0, "Success"),
            (-1, "SIGN CHECK FAILED!"),
            (-2, "Incorrect parameter amount"),
            (-3, "Action not found"),
            (-4, "Already paid"),
            (-5, "User does not exist"),
            (-6, "Transaction does not exist"),
            (-7, "Failed to update user"),
            (-8, "Error in request from click"),
            (-9, "Transaction cancelled"),
        ];
        for (code, note) in all {
            let error = ErrorCode::from_code(code);
            assert_eq!(error.map(ErrorCode::code), Some(code));
            assert_eq!(error.map(ErrorCode::note), Some(note));
        }
        assert_eq!(ErrorCode::from_code(-10), None);
    }

    #[test]
    fn prepare_answer_is_exactly_the_json_click_expects() {
        let answer = Answer::Prepare(PrepareAnswer {
            click_trans_id: Some(ClickTransId::new(3_600_000_001)),
            merchant_trans_id: MerchantTransId::new("\"><script>\u{2028}").ok(),
            merchant_prepare_id: Some(MerchantPrepareId::new(7)),
            error: ErrorCode::Success,
            error_note: ErrorCode::Success.note(),
        });
        assert_eq!(
            String::from_utf8(answer.to_json()).ok().as_deref(),
            Some(
                "{\"click_trans_id\":3600000001,\"merchant_trans_id\":\"\\\"><script>\u{2028}\",\
                 \"merchant_prepare_id\":7,\"error\":0,\"error_note\":\"Success\"}"
            )
        );
    }

    #[test]
    fn complete_answer_has_a_nullable_confirm_id() {
        let answer = Answer::Complete(CompleteAnswer {
            click_trans_id: Some(ClickTransId::new(1)),
            merchant_trans_id: MerchantTransId::new("a\r\nb").ok(),
            merchant_confirm_id: None,
            error: ErrorCode::TransactionCancelled,
            error_note: ErrorCode::TransactionCancelled.note(),
        });
        assert_eq!(
            answer.to_json(),
            br#"{"click_trans_id":1,"merchant_trans_id":"a\r\nb","merchant_confirm_id":null,"error":-9,"error_note":"Transaction cancelled"}"#
        );
    }
}
