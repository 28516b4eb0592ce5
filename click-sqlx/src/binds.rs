//! The binds of the statements of [`crate::sql::Sql`], in the order its field docs give: one copy
//! for the sqlx stores and SQLite alike.

use std::time::SystemTime;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use click_core::PaymentKind;
use click_core::outbox::{TaskFilter, TaskKind, TaskStatus};
use click_core::{
    ClickPaydocId, ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, NewPrepare,
    ServiceId, Transaction, TransactionState,
};

use crate::row;

/// A value bound to a statement's placeholder. (`pub` for the sealed `Driver` of the sqlx
/// stores; unreachable from outside the crate.)
#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(unreachable_pub)
)]
pub enum Bind<'a> {
    /// An integer.
    Int(i64),
    /// An integer or `NULL`.
    OptionalInt(Option<i64>),
    /// Text.
    Text(&'a str),
    /// Text or `NULL`.
    OptionalText(Option<&'a str>),
    /// Bytes (a migration's checksum).
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    Bytes(&'a [u8]),
}

fn code(value: i32) -> Bind<'static> {
    Bind::Int(value.into())
}

/// `select_prepared_attempt` and `select_prepared_attempt_latest`.
pub(crate) fn prepared_attempt<'a>(
    service_id: ServiceId,
    click_trans_id: ClickTransId,
    merchant_trans_id: &'a MerchantTransId,
) -> [Bind<'a>; 3] {
    [
        Bind::Int(service_id.get()),
        Bind::Int(click_trans_id.get()),
        Bind::Text(merchant_trans_id.as_str()),
    ]
}

/// `select_paid_order`.
pub(crate) fn paid_order(
    service_id: ServiceId,
    merchant_trans_id: &MerchantTransId,
) -> [Bind<'_>; 2] {
    [
        Bind::Int(service_id.get()),
        Bind::Text(merchant_trans_id.as_str()),
    ]
}

/// `insert_transaction`.
pub(crate) fn insert_transaction(new: &NewPrepare) -> [Bind<'_>; 8] {
    [
        Bind::Int(new.click_trans_id.get()),
        Bind::Int(new.service_id.get()),
        Bind::Int(new.click_paydoc_id.get()),
        Bind::Text(new.merchant_trans_id.as_str()),
        Bind::Int(row::amount_code(new.amount)),
        code(row::kind_code(new.kind)),
        code(row::PREPARED),
        Bind::Int(row::millis(new.prepared_at)),
    ]
}

/// `insert_charge`: the row [`NewCharge::recorded`](click_core::NewCharge::recorded) makes.
pub(crate) fn insert_charge(row: &Transaction) -> [Bind<'_>; 10] {
    let charge = row.telegram.as_ref();
    [
        Bind::Int(row.click_trans_id.get()),
        Bind::Int(row.service_id.get()),
        Bind::Int(row.click_paydoc_id.get()),
        Bind::Text(row.merchant_trans_id.as_str()),
        Bind::Int(row::amount_code(row.amount)),
        code(row::kind_code(row.kind)),
        code(row::state_code(row.state)),
        Bind::Int(row::millis(row.prepared_at)),
        Bind::OptionalText(charge.map(|c| c.telegram_payment_charge_id.as_str())),
        Bind::OptionalText(charge.map(|c| c.provider_payment_charge_id.as_str())),
    ]
}

/// `insert_unless_paid`: `insert_transaction`'s, then the one-time order's kind code.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn insert_unless_paid(new: &NewPrepare) -> [Bind<'_>; 9] {
    let [a, b, c, d, e, f, g, h] = insert_transaction(new);
    [
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        h,
        code(row::kind_code(PaymentKind::Order)),
    ]
}

/// `confirm`: `update_state`'s from prepared to confirmed, then the one-time order's kind code.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn confirm(merchant_prepare_id: MerchantPrepareId) -> [Bind<'static>; 5] {
    let [a, b, c, d] = update_state(
        merchant_prepare_id,
        TransactionState::Prepared,
        TransactionState::Confirmed,
        Some(click_core::transition::confirm_id(merchant_prepare_id)),
    );
    [a, b, c, d, code(row::kind_code(PaymentKind::Order))]
}

/// `update_state`.
pub(crate) fn update_state(
    merchant_prepare_id: MerchantPrepareId,
    from: TransactionState,
    to: TransactionState,
    confirm_id: Option<MerchantConfirmId>,
) -> [Bind<'static>; 4] {
    [
        code(row::state_code(to)),
        Bind::OptionalInt(confirm_id.map(MerchantConfirmId::get)),
        Bind::Int(merchant_prepare_id.get()),
        code(row::state_code(from)),
    ]
}

/// `claim_order`.
pub(crate) fn claim_order(transaction: &Transaction) -> [Bind<'_>; 3] {
    [
        Bind::Int(transaction.service_id.get()),
        Bind::Text(transaction.merchant_trans_id.as_str()),
        Bind::Int(transaction.merchant_prepare_id.get()),
    ]
}

/// `insert_task`.
pub(crate) fn insert_task(
    kind: TaskKind,
    merchant_prepare_id: MerchantPrepareId,
) -> [Bind<'static>; 3] {
    [
        code(row::task_kind_code(kind)),
        Bind::Int(merchant_prepare_id.get()),
        code(row::task_status_code(TaskStatus::Pending)),
    ]
}

/// `insert_task_if_in`.
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) fn insert_task_if_in(
    kind: TaskKind,
    merchant_prepare_id: MerchantPrepareId,
    state: TransactionState,
) -> [Bind<'static>; 4] {
    let [kind, id, status] = insert_task(kind, merchant_prepare_id);
    [kind, id, status, code(row::state_code(state))]
}

/// `count_open_tasks`.
pub(crate) fn open_statuses() -> [Bind<'static>; 3] {
    TaskStatus::OPEN.map(|status| code(row::task_status_code(status)))
}

/// The select of [`ClaimTasks::SelectThenUpdate`](crate::sql::ClaimTasks::SelectThenUpdate).
pub(crate) fn due_tasks(now: i64, limit: usize) -> [Bind<'static>; 4] {
    [
        code(row::task_status_code(TaskStatus::Pending)),
        Bind::Int(now),
        Bind::Int(now),
        Bind::Int(i64::try_from(limit).unwrap_or(i64::MAX)),
    ]
}

/// `approve_reversal`.
pub(crate) fn approve_reversal(merchant_prepare_id: MerchantPrepareId) -> [Bind<'static>; 4] {
    [
        code(row::task_status_code(TaskStatus::Pending)),
        code(row::task_kind_code(TaskKind::Reverse)),
        Bind::Int(merchant_prepare_id.get()),
        code(row::task_status_code(TaskStatus::AwaitingApproval)),
    ]
}

/// `schedule_expiry`.
pub(crate) fn schedule_expiry(prepared_before: SystemTime) -> [Bind<'static>; 5] {
    let expire = code(row::task_kind_code(TaskKind::Expire));
    [
        expire,
        code(row::task_status_code(TaskStatus::Pending)),
        code(row::state_code(TransactionState::Prepared)),
        Bind::Int(row::millis(prepared_before)),
        expire,
    ]
}

/// `select_paydoc_debited`.
pub(crate) fn paydoc_debited(
    service_id: ServiceId,
    click_paydoc_id: ClickPaydocId,
    except: MerchantPrepareId,
) -> [Bind<'static>; 7] {
    let [a, b, c, d] = row::debited_codes().map(code);
    [
        Bind::Int(service_id.get()),
        Bind::Int(click_paydoc_id.get()),
        Bind::Int(except.get()),
        a,
        b,
        c,
        d,
    ]
}

/// `select_in_state`.
pub(crate) fn in_state(state: TransactionState) -> [Bind<'static>; 1] {
    [code(row::state_code(state))]
}

/// `select_tasks`.
pub(crate) fn tasks(filter: TaskFilter) -> [Bind<'static>; 5] {
    let kind = filter.kind.map(|kind| i64::from(row::task_kind_code(kind)));
    let status = filter
        .status
        .map(|status| i64::from(row::task_status_code(status)));
    let limit = filter
        .limit
        .map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
    [
        Bind::OptionalInt(kind),
        Bind::OptionalInt(kind),
        Bind::OptionalInt(status),
        Bind::OptionalInt(status),
        Bind::Int(limit),
    ]
}

/// `select_reversals_due`.
pub(crate) fn reversals_due() -> [Bind<'static>; 2] {
    row::reversal_due_codes().map(code)
}
