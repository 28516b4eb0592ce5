//! [`MerchantError`]: every way a Merchant API call can fail, and whether retrying is safe.

/// A failed Merchant API call.
///
/// `outcome_unknown` marks failures after which Click may or may not have acted on the request
/// (a payment may have been made): never repeat such a call blindly; reconcile with a status call
/// (for example `payment_status_by_mti`) first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MerchantError {
    /// The request never got an HTTP answer.
    #[error("transport error{}", if *.outcome_unknown { "; Click may have acted on the request" } else { "" })]
    Transport {
        /// The cause.
        #[source]
        source: reqwest::Error,
        /// Whether the call may have taken effect (the request may have reached Click and the call
        /// is not safe to repeat).
        outcome_unknown: bool,
    },
    /// No answer within the timeout.
    #[error("timed out{}", if *.outcome_unknown { "; Click may have acted on the request" } else { "" })]
    Timeout {
        /// Whether the call may have taken effect.
        outcome_unknown: bool,
    },
    /// 401: the `Auth` header was refused: a wrong secret or `merchant_user_id`, or a clock skew.
    #[error("unauthorized (401): check the credentials, and the clock: local time {local_time}{}", .server_delta.map(|d| format!(", {d:+} s from the server's Date")).unwrap_or_default())]
    Unauthorized {
        /// The local UNIX time the request was signed with.
        local_time: u64,
        /// Server time minus local time, from the answer's `Date` header, if any.
        server_delta: Option<i64>,
    },
    /// 403 Forbidden.
    #[error("forbidden (403)")]
    Forbidden,
    /// 404 Not Found.
    #[error("not found (404)")]
    NotFound,
    /// 406 Not Acceptable.
    #[error("not acceptable (406)")]
    NotAcceptable,
    /// 410 Gone: the call was retired.
    #[error("gone (410)")]
    Gone,
    /// Another HTTP status: 400, 500, 502 (down or being upgraded), a redirect.
    #[error("HTTP {status}{}", if *.outcome_unknown { "; Click may have acted on the request" } else { "" })]
    Http {
        /// The status.
        status: u16,
        /// Whether the call may have taken effect (a 5xx on a call that is not safe to repeat).
        outcome_unknown: bool,
    },
    /// Click answered a negative `error_code`.
    #[error("Click error {code}: {note}")]
    Business {
        /// The code (Click does not publish the list).
        code: i64,
        /// Click's note.
        note: String,
    },
    /// The answer could not be decoded.
    #[error("undecodable answer (HTTP {status}){}: {body_snippet}", if *.outcome_unknown { "; Click may have acted on the request" } else { "" })]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The start of the body (at most 512 bytes), for the log; withheld for calls whose
        /// answers carry card data.
        body_snippet: String,
        /// Whether the call may have taken effect (a success status on a call that is not safe
        /// to repeat: the charge probably happened).
        outcome_unknown: bool,
    },
    /// A `merchant_trans_id` of `.` or `..` cannot travel as a URL path segment (URL parsers
    /// resolve it, even percent-encoded); nothing was sent.
    #[error("merchant_trans_id {0:?} cannot be sent as a URL path segment")]
    UnsendableId(String),
    /// The request was refused before anything was sent.
    #[error("invalid request: {0}")]
    Invalid(#[from] crate::ofd::OfdError),
    /// A Click Pass payment in confirm mode could not be confirmed before its deadline, and a
    /// last status check did not show it paid. Click cancels an unconfirmed payment; when
    /// `status` is `None` (the check failed too) the outcome is unknown.
    #[error(
        "Click Pass payment {payment_id} was not confirmed before its deadline (status {status:?})"
    )]
    ConfirmDeadlineExceeded {
        /// The payment.
        payment_id: click_core::ClickPaydocId,
        /// Its status at the deadline, if Click answered.
        status: Option<crate::status::PaymentStatus>,
    },
}

impl MerchantError {
    /// Whether the same call may be repeated safely: the request never left, or the call is one
    /// that cannot charge twice and failed transiently.
    pub fn is_retryable(&self) -> bool {
        match self {
            MerchantError::Transport {
                outcome_unknown, ..
            }
            | MerchantError::Timeout { outcome_unknown } => !outcome_unknown,
            MerchantError::Http {
                status,
                outcome_unknown,
            } => *status >= 500 && !outcome_unknown,
            _ => false,
        }
    }

    /// Whether Click may have acted on the request although the call failed.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            MerchantError::Transport {
                outcome_unknown, ..
            }
            | MerchantError::Timeout { outcome_unknown }
            | MerchantError::Http {
                outcome_unknown, ..
            } => *outcome_unknown,
            _ => false,
        }
    }
}
