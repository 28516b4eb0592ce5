//! The store's work on SQLite. Transitions run on the writer thread inside a transaction that holds
//! SQLite's write lock: nothing else writes between a read and the write that depends on it, in this
//! process or any other, so every check here is also the guarantee. Lookups run on the reader.

use click_core::{
    BoxError, ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, NewPrepare,
    Order, OrderHooks, Outcome, PaymentKind, Prepared, ReversalReason, ServiceId, StoreError,
    Transaction, TransactionState, Transition,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::worker::Waiter;
use crate::row::{self, TransactionRow};

const SELECT_TRANSACTION: &str = "SELECT click_trans_id, service_id, click_paydoc_id, \
     merchant_trans_id, amount_tiyin, kind, state, merchant_prepare_id, merchant_confirm_id \
     FROM click_transactions WHERE click_trans_id = ?1";
const SELECT_REVERSALS_DUE: &str = "SELECT click_trans_id, service_id, click_paydoc_id, \
     merchant_trans_id, amount_tiyin, kind, state, merchant_prepare_id, merchant_confirm_id \
     FROM click_transactions WHERE state IN (3, 4) ORDER BY merchant_prepare_id";
const SELECT_PAID_ORDER: &str =
    "SELECT 1 FROM click_paid_orders WHERE service_id = ?1 AND merchant_trans_id = ?2";
const INSERT_TRANSACTION: &str = "INSERT INTO click_transactions (click_trans_id, service_id, \
     click_paydoc_id, merchant_trans_id, amount_tiyin, kind, state) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)";
const CONFIRM: &str = "UPDATE click_transactions SET state = 1, \
     merchant_confirm_id = merchant_prepare_id, updated_at = CURRENT_TIMESTAMP \
     WHERE click_trans_id = ?1 AND state = 0";
const CANCEL: &str = "UPDATE click_transactions SET state = 2, updated_at = CURRENT_TIMESTAMP \
     WHERE click_trans_id = ?1 AND state = 0";
const REVERSAL_DUE: &str = "UPDATE click_transactions SET state = ?1, \
     updated_at = CURRENT_TIMESTAMP WHERE click_trans_id = ?2";
const CLAIM_ORDER: &str = "INSERT INTO click_paid_orders (service_id, merchant_trans_id, \
     click_trans_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";

/// A statement failed.
fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::backend(error)
}

/// Reads the columns of [`SELECT_TRANSACTION`].
fn transaction_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TransactionRow> {
    Ok(TransactionRow {
        click_trans_id: row.get(0)?,
        service_id: row.get(1)?,
        click_paydoc_id: row.get(2)?,
        merchant_trans_id: row.get(3)?,
        amount_tiyin: row.get(4)?,
        kind: row.get(5)?,
        state: row.get(6)?,
        merchant_prepare_id: row.get(7)?,
        merchant_confirm_id: row.get(8)?,
    })
}

/// The transaction of a `click_trans_id`, if any.
pub(crate) fn transaction(
    conn: &Connection,
    click_trans_id: ClickTransId,
) -> Result<Option<Transaction>, StoreError> {
    conn.prepare_cached(SELECT_TRANSACTION)
        .and_then(|mut select| {
            select
                .query_row([click_trans_id.get()], transaction_row)
                .optional()
        })
        .map_err(backend)?
        .map(Transaction::try_from)
        .transpose()
}

/// Every transaction in a reversal-due state.
pub(crate) fn reversals_due(conn: &Connection) -> Result<Vec<Transaction>, StoreError> {
    let rows = conn
        .prepare_cached(SELECT_REVERSALS_DUE)
        .and_then(|mut select| {
            select
                .query_map([], transaction_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend)?;
    rows.into_iter().map(Transaction::try_from).collect()
}

/// The merchant's lookup.
pub(crate) fn order<H: OrderHooks<Connection>>(
    conn: &mut Connection,
    hooks: &H,
    waiter: &mut Waiter<'_>,
    service_id: ServiceId,
    merchant_trans_id: &MerchantTransId,
) -> Result<Option<Order>, StoreError> {
    waiter
        .wait(hooks.find(conn, service_id, merchant_trans_id))?
        .map_err(StoreError::Hook)
}

/// Records a Prepare and reserves the order; a failing reserve hook fails the job, whose savepoint
/// then takes the row back.
pub(crate) fn prepare<H: OrderHooks<Connection>>(
    conn: &mut Connection,
    hooks: &H,
    waiter: &mut Waiter<'_>,
    new: NewPrepare,
) -> Result<Prepared, StoreError> {
    if let Some(existing) = transaction(conn, new.click_trans_id)? {
        return Ok(Prepared::Existing(existing));
    }
    if new.kind == PaymentKind::Order {
        let paid = conn
            .prepare_cached(SELECT_PAID_ORDER)
            .and_then(|mut select| {
                select.exists(params![
                    new.service_id.get(),
                    new.merchant_trans_id.as_str()
                ])
            })
            .map_err(backend)?;
        if paid {
            return Ok(Prepared::OrderAlreadyPaid);
        }
    }
    conn.prepare_cached(INSERT_TRANSACTION)
        .and_then(|mut insert| {
            insert.execute(params![
                new.click_trans_id.get(),
                new.service_id.get(),
                new.click_paydoc_id.get(),
                new.merchant_trans_id.as_str(),
                row::amount_code(new.amount),
                row::kind_code(new.kind),
            ])
        })
        .map_err(backend)?;
    let transaction = new.prepared(MerchantPrepareId::new(conn.last_insert_rowid()));
    waiter
        .wait(hooks.reserve(conn, &transaction))?
        .map_err(StoreError::Hook)?;
    Ok(Prepared::Created(transaction))
}

/// Moves a prepared transaction to confirmed (delivering) or cancelled (releasing).
pub(crate) fn complete<H: OrderHooks<Connection>>(
    conn: &mut Connection,
    hooks: &H,
    waiter: &mut Waiter<'_>,
    click_trans_id: ClickTransId,
    to: Outcome,
) -> Result<Transition, StoreError> {
    let mut transaction =
        transaction(conn, click_trans_id)?.ok_or(StoreError::UnknownTransaction(click_trans_id))?;
    if transaction.state != TransactionState::Prepared {
        return Ok(Transition::Unchanged(transaction));
    }
    if to == Outcome::Cancel {
        update(conn, CANCEL, params![click_trans_id.get()])?;
        transaction.state = TransactionState::Cancelled;
        if let Err(error) =
            in_savepoint(conn, |conn| waiter.wait(hooks.release(conn, &transaction)))?
        {
            tracing::warn!(
                %click_trans_id,
                error = error.as_ref() as &dyn std::error::Error,
                "release hook failed; the cancel stands"
            );
        }
        return Ok(Transition::Cancelled(transaction));
    }
    update(conn, CONFIRM, params![click_trans_id.get()])?;
    transaction.state = TransactionState::Confirmed;
    transaction.merchant_confirm_id = Some(MerchantConfirmId::new(
        transaction.merchant_prepare_id.get(),
    ));
    if transaction.kind == PaymentKind::Order {
        let claimed = update(
            conn,
            CLAIM_ORDER,
            params![
                transaction.service_id.get(),
                transaction.merchant_trans_id.as_str(),
                click_trans_id.get()
            ],
        )? > 0;
        if !claimed {
            let reason = ReversalReason::OrderAlreadyPaid;
            mark_reversal_due(conn, &mut transaction, reason)?;
            return Ok(Transition::OrderAlreadyPaid(transaction));
        }
    }
    if let Err(error) = in_savepoint(conn, |conn| waiter.wait(hooks.deliver(conn, &transaction)))? {
        tracing::error!(
            %click_trans_id,
            error = error.as_ref() as &dyn std::error::Error,
            "delivery hook failed after Click debited the customer"
        );
        mark_reversal_due(conn, &mut transaction, ReversalReason::DeliveryFailed)?;
    }
    Ok(Transition::Confirmed(transaction))
}

/// Runs a hook inside a savepoint that keeps its writes only if it succeeds. The outer error
/// (the caller went away, a statement failed) fails the whole job.
fn in_savepoint(
    conn: &mut Connection,
    hook: impl FnOnce(&mut Connection) -> Result<Result<(), BoxError>, StoreError>,
) -> Result<Result<(), BoxError>, StoreError> {
    update(conn, "SAVEPOINT click_hook", [])?;
    let outcome = hook(conn)?;
    if outcome.is_err() {
        update(conn, "ROLLBACK TO click_hook", [])?;
    }
    update(conn, "RELEASE click_hook", [])?;
    Ok(outcome)
}

fn mark_reversal_due(
    conn: &Connection,
    transaction: &mut Transaction,
    reason: ReversalReason,
) -> Result<(), StoreError> {
    let code = match reason {
        ReversalReason::DeliveryFailed => row::DELIVERY_FAILED,
        ReversalReason::OrderAlreadyPaid => row::ORDER_ALREADY_PAID,
    };
    update(
        conn,
        REVERSAL_DUE,
        params![code, transaction.click_trans_id.get()],
    )?;
    transaction.state = TransactionState::ReversalDue(reason);
    Ok(())
}

/// Runs a cached statement; the number of rows it changed.
fn update(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute(params))
        .map_err(backend)
}
