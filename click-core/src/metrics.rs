//! What click-rs measures, through the [`metrics`](https://docs.rs/metrics) facade: no exporter is forced on
//! the application. Install a recorder (`metrics-exporter-prometheus`, say) and these appear;
//! without one, recording costs next to nothing.
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `click_callbacks_total` | counter | `endpoint` (`prepare`, `complete`, `single`), `code` (`0`, `-1` … `-9`) | callbacks answered, by the `error` code answered; those an adapter answered without the shop (a body too large, too slow or unreadable: `-8`; a handler that panicked: `-7`) included |
//! | `click_callback_duration_seconds` | histogram | `endpoint` | time from the body read to the shop's answer |
//! | `click_store_errors_total` | counter | | store failures (each answered `-7`, so Click retries) |
//! | `click_reversals_due_total` | counter | `reason` (`delivery_failed`, `order_already_paid`) | payments Click debited that must be reversed |
//! | `click_settle_attempts_total` | counter | `kind` (`reverse`, `fiscalize`, `expire`), `outcome` (`done`, `parked`, `awaiting_approval`, `retry`) | settlement attempts (`click-settle`) |
//! | `click_settle_tasks` | gauge | `status` (`pending`, `awaiting_approval`, `parked`) | the outbox's tasks, as a settlement worker last counted them |
//! | `click_settle_payment_to_receipt_seconds` | histogram | | from a payment's Prepare to its fiscal receipt (the Complete follows the Prepare within seconds) |
//! | `click_telegram_pre_checkouts_total` | counter | `answer` (`ok`, `currency`, `unknown_order`, `paid`, `closed`, `wrong_amount`, `unavailable`) | Telegram pre-checkout queries answered (`click-telegram`) |
//! | `click_telegram_payments_total` | counter | `outcome` (`delivered`, `reversal_due`, `repeated`) | Telegram payments recorded (`click-telegram`) |
//!
//! Names follow Prometheus' conventions: a `click_` prefix, base units (seconds), `_total` on
//! counters. [`describe`] registers their help texts and units with the installed recorder.

use std::time::Duration;

use crate::answer::ErrorCode;
use crate::callback::Endpoint;
use crate::outbox::{TaskKind, TaskStatus};
use crate::store::ReversalReason;

/// Callbacks answered: `click_callbacks_total{endpoint, code}`.
pub const CALLBACKS: &str = "click_callbacks_total";
/// Callback latency: `click_callback_duration_seconds{endpoint}`.
pub const CALLBACK_DURATION: &str = "click_callback_duration_seconds";
/// Store failures: `click_store_errors_total`.
pub const STORE_ERRORS: &str = "click_store_errors_total";
/// Reversals due: `click_reversals_due_total{reason}`.
pub const REVERSALS_DUE: &str = "click_reversals_due_total";
/// Settlement attempts: `click_settle_attempts_total{kind, outcome}`.
pub const SETTLE_ATTEMPTS: &str = "click_settle_attempts_total";
/// Outbox tasks by status: `click_settle_tasks{status}`.
pub const SETTLE_TASKS: &str = "click_settle_tasks";
/// Prepare to receipt: `click_settle_payment_to_receipt_seconds`.
pub const PAYMENT_TO_RECEIPT: &str = "click_settle_payment_to_receipt_seconds";
/// Telegram pre-checkouts answered: `click_telegram_pre_checkouts_total{answer}`.
pub const TELEGRAM_PRE_CHECKOUTS: &str = "click_telegram_pre_checkouts_total";
/// Telegram payments recorded: `click_telegram_payments_total{outcome}`.
pub const TELEGRAM_PAYMENTS: &str = "click_telegram_payments_total";

/// Registers every metric's help text and unit with the installed recorder; call it once after
/// installing one.
pub fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        CALLBACKS,
        "Click callbacks answered, by endpoint and answered error code"
    );
    describe_histogram!(
        CALLBACK_DURATION,
        Unit::Seconds,
        "Time to answer a Click callback, by endpoint"
    );
    describe_counter!(STORE_ERRORS, "Order store failures (answered -7)");
    describe_counter!(
        REVERSALS_DUE,
        "Payments Click debited that must be reversed"
    );
    describe_counter!(
        SETTLE_ATTEMPTS,
        "Settlement attempts, by task kind and outcome"
    );
    describe_gauge!(SETTLE_TASKS, "Settlement outbox tasks, by status");
    describe_histogram!(
        PAYMENT_TO_RECEIPT,
        Unit::Seconds,
        "Time from a payment's Prepare to its fiscal receipt"
    );
    describe_counter!(
        TELEGRAM_PRE_CHECKOUTS,
        "Telegram pre-checkout queries answered, by answer"
    );
    describe_counter!(TELEGRAM_PAYMENTS, "Telegram payments recorded, by outcome");
}

/// Records one callback the shop answered.
pub(crate) fn callback(endpoint: Endpoint, code: ErrorCode, took: Duration) {
    answered(endpoint, code);
    ::metrics::histogram!(CALLBACK_DURATION, "endpoint" => endpoint_label(endpoint)).record(took);
}

/// Records one answered callback: the shop's, or an adapter's to a callback the shop could not
/// handle.
pub(crate) fn answered(endpoint: Endpoint, code: ErrorCode) {
    let (endpoint, code) = (endpoint_label(endpoint), code_label(code));
    ::metrics::counter!(CALLBACKS, "endpoint" => endpoint, "code" => code).increment(1);
}

/// Records a store failure.
pub(crate) fn store_error() {
    ::metrics::counter!(STORE_ERRORS).increment(1);
}

/// Records a payment becoming due for reversal (for `click-telegram` too).
pub fn reversal_due(reason: ReversalReason) {
    let reason = match reason {
        ReversalReason::DeliveryFailed => "delivery_failed",
        ReversalReason::OrderAlreadyPaid => "order_already_paid",
    };
    ::metrics::counter!(REVERSALS_DUE, "reason" => reason).increment(1);
}

/// Records one Telegram pre-checkout answered (for `click-telegram`).
pub fn telegram_pre_checkout(answer: &'static str) {
    ::metrics::counter!(TELEGRAM_PRE_CHECKOUTS, "answer" => answer).increment(1);
}

/// Records one Telegram payment (for `click-telegram`): `outcome` is `delivered`,
/// `reversal_due` or `repeated`.
pub fn telegram_payment(outcome: &'static str) {
    ::metrics::counter!(TELEGRAM_PAYMENTS, "outcome" => outcome).increment(1);
}

/// Records one settlement attempt (for `click-settle`): `outcome` is `done`, `parked`,
/// `awaiting_approval` or `retry`.
pub fn settle_attempt(kind: TaskKind, outcome: &'static str) {
    let kind = match kind {
        TaskKind::Reverse => "reverse",
        TaskKind::Fiscalize => "fiscalize",
        TaskKind::Expire => "expire",
    };
    ::metrics::counter!(SETTLE_ATTEMPTS, "kind" => kind, "outcome" => outcome).increment(1);
}

/// Sets the count of outbox tasks in `status` (for `click-settle`; done tasks are not a gauge).
pub fn settle_tasks(status: TaskStatus, count: u64) {
    let status = match status {
        TaskStatus::Pending => "pending",
        TaskStatus::AwaitingApproval => "awaiting_approval",
        TaskStatus::Parked => "parked",
        TaskStatus::Done => return,
    };
    #[allow(clippy::cast_precision_loss)] // a task count is far below 2^52
    ::metrics::gauge!(SETTLE_TASKS, "status" => status).set(count as f64);
}

/// Records the time from a payment's Prepare to its receipt (for `click-settle`).
pub fn payment_to_receipt(took: Duration) {
    ::metrics::histogram!(PAYMENT_TO_RECEIPT).record(took);
}

fn endpoint_label(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Prepare => "prepare",
        Endpoint::Complete => "complete",
        Endpoint::Any => "single",
    }
}

fn code_label(code: ErrorCode) -> &'static str {
    const LABELS: [&str; 10] = ["0", "-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9"];
    usize::try_from(-code.code())
        .ok()
        .and_then(|index| LABELS.get(index))
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_has_its_own_label() {
        for code in [
            ErrorCode::Success,
            ErrorCode::SignCheckFailed,
            ErrorCode::IncorrectAmount,
            ErrorCode::ActionNotFound,
            ErrorCode::AlreadyPaid,
            ErrorCode::UserDoesNotExist,
            ErrorCode::TransactionDoesNotExist,
            ErrorCode::FailedToUpdateUser,
            ErrorCode::BadRequest,
            ErrorCode::TransactionCancelled,
        ] {
            assert_eq!(code_label(code), code.code().to_string());
        }
    }
}
