//! How a transaction and a settlement task are stored: one row of `click_transactions` (or of
//! `click_outbox` joined with it), and the codes of their small-integer columns.
//!
//! | `click_transactions.state` | meaning |
//! |---|---|
//! | 0 | prepared |
//! | 1 | confirmed and delivered |
//! | 2 | cancelled |
//! | 3 | debited, delivery failed: reversal due |
//! | 4 | debited, the order was already paid: reversal due |
//! | 5 | expired by the settlement worker |
//! | 6 | a Telegram payment received, not yet delivered |
//!
//! `kind` is 0 for a one-time order and 1 for an account top-up. `amount_tiyin` is the amount in
//! integer tiyin (1 so'm = 100 tiyin): exact, never a float. `prepared_at_ms` and the outbox's
//! times are Unix milliseconds. `reversal_outcome` is 0 reversed, 1 never paid, 2 refused (with
//! Click's code in `reversal_code`). `telegram_payment_charge_id` and `provider_payment_charge_id`
//! are both set on a Telegram payment (`click_trans_id` 0) and both `NULL` on a SHOP-API attempt.
//!
//! | `click_outbox` column | codes |
//! |---|---|
//! | `kind` | 0 reverse, 1 fiscalize, 2 expire |
//! | `status` | 0 pending, 1 awaiting approval, 2 done, 3 parked |
//! | `stage` | 0 nothing sent, 1 sent (outcome unknown), 2 acknowledged |

use click_core::outbox::{Stage, Task, TaskKind, TaskStatus, from_unix_millis};
use click_core::{
    Amount, ClickPaydocId, ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId,
    PaymentKind, ReversalOutcome, ReversalReason, ServiceId, StoreError, TaskId, TelegramCharge,
    Tiyin, Transaction, TransactionState,
};

/// The `state` code of a prepared transaction.
pub(crate) const PREPARED: i32 = 0;
const CONFIRMED: i32 = 1;
const CANCELLED: i32 = 2;
const DELIVERY_FAILED: i32 = 3;
const ORDER_ALREADY_PAID: i32 = 4;
const EXPIRED: i32 = 5;
const RECEIVED: i32 = 6;

/// The `kind` code of a one-time order.
const ORDER: i32 = 0;
/// The `kind` code of an account top-up.
const TOP_UP: i32 = 1;

/// Codes of a column: each value's code, and the value of a code.
struct Codes<T: 'static>(&'static [(T, i32)]);

impl<T: Copy + PartialEq> Codes<T> {
    fn code(&self, value: T) -> i32 {
        self.0
            .iter()
            .find(|(v, _)| *v == value)
            .map_or(-1, |(_, code)| *code)
    }

    fn value(&self, code: i32) -> Option<T> {
        self.0.iter().find(|(_, c)| *c == code).map(|(v, _)| *v)
    }
}

const STATES: Codes<TransactionState> = Codes(&[
    (TransactionState::Prepared, PREPARED),
    (TransactionState::Confirmed, CONFIRMED),
    (TransactionState::Cancelled, CANCELLED),
    (
        TransactionState::ReversalDue(ReversalReason::DeliveryFailed),
        DELIVERY_FAILED,
    ),
    (
        TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid),
        ORDER_ALREADY_PAID,
    ),
    (TransactionState::Expired, EXPIRED),
    (TransactionState::Received, RECEIVED),
]);

const KINDS: Codes<PaymentKind> =
    Codes(&[(PaymentKind::Order, ORDER), (PaymentKind::TopUp, TOP_UP)]);

const TASK_KINDS: Codes<TaskKind> = Codes(&[
    (TaskKind::Reverse, 0),
    (TaskKind::Fiscalize, 1),
    (TaskKind::Expire, 2),
]);

const TASK_STATUSES: Codes<TaskStatus> = Codes(&[
    (TaskStatus::Pending, 0),
    (TaskStatus::AwaitingApproval, 1),
    (TaskStatus::Done, 2),
    (TaskStatus::Parked, 3),
]);

const STAGES: Codes<Stage> = Codes(&[
    (Stage::Fresh, 0),
    (Stage::Sent, 1),
    (Stage::Acknowledged, 2),
]);

/// The stored code of a state.
pub(crate) fn state_code(state: TransactionState) -> i32 {
    STATES.code(state)
}

/// The stored codes of the states whose payment Click debited.
pub(crate) fn debited_codes() -> [i32; 4] {
    [
        TransactionState::Confirmed,
        TransactionState::ReversalDue(ReversalReason::DeliveryFailed),
        TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid),
        TransactionState::Received,
    ]
    .map(state_code)
}

/// The stored codes of the reversal-due states.
pub(crate) fn reversal_due_codes() -> [i32; 2] {
    [
        ReversalReason::DeliveryFailed,
        ReversalReason::OrderAlreadyPaid,
    ]
    .map(|reason| state_code(TransactionState::ReversalDue(reason)))
}

/// The stored code of a kind.
pub(crate) fn kind_code(kind: PaymentKind) -> i32 {
    KINDS.code(kind)
}

/// The stored code of a task's kind.
pub(crate) fn task_kind_code(kind: TaskKind) -> i32 {
    TASK_KINDS.code(kind)
}

/// The stored code of a task's status.
pub(crate) fn task_status_code(status: TaskStatus) -> i32 {
    TASK_STATUSES.code(status)
}

/// The stored code of a task's stage.
pub(crate) fn stage_code(stage: Stage) -> i32 {
    STAGES.code(stage)
}

/// The stored `reversal_outcome` and `reversal_code` of an outcome.
pub(crate) fn reversal_codes(outcome: ReversalOutcome) -> (i32, Option<i64>) {
    match outcome {
        ReversalOutcome::Reversed => (0, None),
        ReversalOutcome::NeverPaid => (1, None),
        ReversalOutcome::Refused { code } => (2, Some(code)),
    }
}

/// A time as the stores keep it: Unix milliseconds.
pub(crate) fn millis(time: std::time::SystemTime) -> i64 {
    i64::try_from(click_core::outbox::unix_millis(time)).unwrap_or(i64::MAX)
}

/// The stored amount of an amount: tiyin fit `i64` (an amount has at most 17 digits).
pub(crate) fn amount_code(amount: Amount) -> i64 {
    i64::try_from(amount.tiyin().get()).unwrap_or(i64::MAX)
}

/// The columns of a transaction, in this order, as every query selects them.
#[derive(Debug)]
#[cfg_attr(any(feature = "postgres", feature = "mysql"), derive(sqlx::FromRow))]
pub struct TransactionRow {
    pub(crate) click_trans_id: i64,
    pub(crate) service_id: i64,
    pub(crate) click_paydoc_id: i64,
    pub(crate) merchant_trans_id: String,
    pub(crate) amount_tiyin: i64,
    pub(crate) kind: i32,
    pub(crate) state: i32,
    pub(crate) merchant_prepare_id: i64,
    pub(crate) merchant_confirm_id: Option<i64>,
    pub(crate) prepared_at_ms: i64,
    pub(crate) reversal_outcome: Option<i32>,
    pub(crate) reversal_code: Option<i64>,
    pub(crate) receipt_url: Option<String>,
    pub(crate) telegram_payment_charge_id: Option<String>,
    pub(crate) provider_payment_charge_id: Option<String>,
}

/// A transaction moved to confirmed, and whether it holds its one-time order.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[derive(Debug, sqlx::FromRow)]
pub struct ConfirmedRow {
    #[sqlx(flatten)]
    pub(crate) transaction: TransactionRow,
    pub(crate) holds: bool,
}

/// The columns of a task, then its transaction's.
#[derive(Debug)]
#[cfg_attr(any(feature = "postgres", feature = "mysql"), derive(sqlx::FromRow))]
pub struct TaskRow {
    pub(crate) task_id: i64,
    pub(crate) task_kind: i32,
    pub(crate) task_status: i32,
    pub(crate) attempts: i32,
    pub(crate) stage: i32,
    pub(crate) due_at_ms: i64,
    pub(crate) approved: i32,
    pub(crate) note: Option<String>,
    #[cfg_attr(any(feature = "postgres", feature = "mysql"), sqlx(flatten))]
    pub(crate) transaction: TransactionRow,
}

fn corrupt(table: &str, what: &str) -> StoreError {
    StoreError::backend(format!("corrupt {table} row: {what}"))
}

fn time_of(value: i64, table: &str, what: &str) -> Result<std::time::SystemTime, StoreError> {
    u64::try_from(value)
        .map(from_unix_millis)
        .map_err(|_| corrupt(table, what))
}

impl TryFrom<TransactionRow> for Transaction {
    type Error = StoreError;

    fn try_from(row: TransactionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| corrupt("click_transactions", what);
        let state = STATES.value(row.state).ok_or_else(|| corrupt("state"))?;
        let kind = KINDS.value(row.kind).ok_or_else(|| corrupt("kind"))?;
        let amount = u64::try_from(row.amount_tiyin)
            .ok()
            .and_then(|tiyin| Amount::from_tiyin(Tiyin(tiyin)).ok())
            .ok_or_else(|| corrupt("amount_tiyin"))?;
        let reversal = match (row.reversal_outcome, row.reversal_code) {
            (None, _) => None,
            (Some(0), _) => Some(ReversalOutcome::Reversed),
            (Some(1), _) => Some(ReversalOutcome::NeverPaid),
            (Some(2), Some(code)) => Some(ReversalOutcome::Refused { code }),
            _ => return Err(corrupt("reversal_outcome")),
        };
        let telegram = match (
            row.telegram_payment_charge_id,
            row.provider_payment_charge_id,
        ) {
            (None, None) => None,
            (Some(telegram_payment_charge_id), Some(provider_payment_charge_id)) => {
                Some(TelegramCharge {
                    telegram_payment_charge_id,
                    provider_payment_charge_id,
                })
            }
            _ => return Err(corrupt("telegram_payment_charge_id")),
        };
        Ok(Transaction {
            click_trans_id: ClickTransId::new(row.click_trans_id),
            service_id: ServiceId::new(row.service_id),
            click_paydoc_id: ClickPaydocId::new(row.click_paydoc_id),
            merchant_trans_id: MerchantTransId::new(row.merchant_trans_id)
                .map_err(|_| corrupt("merchant_trans_id"))?,
            amount,
            kind,
            merchant_prepare_id: MerchantPrepareId::new(row.merchant_prepare_id),
            merchant_confirm_id: row.merchant_confirm_id.map(MerchantConfirmId::new),
            state,
            prepared_at: time_of(row.prepared_at_ms, "click_transactions", "prepared_at_ms")?,
            reversal,
            receipt_url: row.receipt_url,
            telegram,
        })
    }
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;

    fn try_from(row: TaskRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| corrupt("click_outbox", what);
        Ok(Task {
            id: TaskId::new(row.task_id),
            kind: TASK_KINDS
                .value(row.task_kind)
                .ok_or_else(|| corrupt("kind"))?,
            status: TASK_STATUSES
                .value(row.task_status)
                .ok_or_else(|| corrupt("status"))?,
            attempts: u32::try_from(row.attempts).map_err(|_| corrupt("attempts"))?,
            stage: STAGES.value(row.stage).ok_or_else(|| corrupt("stage"))?,
            due_at: time_of(row.due_at_ms, "click_outbox", "due_at_ms")?,
            approved: row.approved != 0,
            note: row.note,
            transaction: Transaction::try_from(row.transaction)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PREPARED;

    /// The unique index of prepared attempts is DDL, where no bind exists, and the lookups of a
    /// prepared attempt must match it even in a generic plan: they spell the code of
    /// [`PREPARED`] as text, and must spell this one.
    #[test]
    fn the_migrations_and_lookups_spell_the_prepared_code() {
        #[allow(unused_mut)]
        let mut lookups: Vec<&str> = Vec::new();
        #[cfg(feature = "postgres")]
        lookups.extend([
            crate::sql::DOLLAR.select_prepared_attempt,
            crate::sql::DOLLAR.select_prepared_attempt_latest,
        ]);
        #[cfg(feature = "mysql")]
        lookups.extend([
            crate::sql::QUESTION.select_prepared_attempt,
            crate::sql::QUESTION.select_prepared_attempt_latest,
        ]);
        #[cfg(feature = "sqlite")]
        lookups.extend([
            crate::sql::SQLITE.select_prepared_attempt,
            crate::sql::SQLITE.select_prepared_attempt_latest,
        ]);
        for sql in lookups {
            assert!(sql.contains(&format!("t.state = {PREPARED}")), "{sql}");
        }
        for sql in [
            include_str!("../migrations/postgres/2_attempts_by_merchant_prepare_id.sql"),
            include_str!("../migrations/mysql/2_attempts_by_merchant_prepare_id.sql"),
            include_str!("../migrations/sqlite/2_attempts_by_merchant_prepare_id.sql"),
            include_str!("../migrations/postgres/3_settlement_outbox.sql"),
            include_str!("../migrations/mysql/3_settlement_outbox.sql"),
            include_str!("../migrations/sqlite/3_settlement_outbox.sql"),
            include_str!("../migrations/postgres/4_telegram_payments.sql"),
            include_str!("../migrations/mysql/4_telegram_payments.sql"),
            include_str!("../migrations/sqlite/4_telegram_payments.sql"),
        ] {
            let condition = format!("state = {PREPARED}");
            assert_eq!(
                sql.matches("state = ").count(),
                sql.matches(&condition).count()
            );
        }
    }
}
