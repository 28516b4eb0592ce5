//! The store's work on SQLite: [`SqliteSteps`], click-core's primitive steps on the writer's
//! connection, and the lookups the reader runs. Transitions run on the writer thread inside a
//! transaction that holds SQLite's write lock: nothing else writes between a read and the write
//! that depends on it, in this process or any other, so every check here is also the guarantee.

use click_core::transition::{Inserted, Steps};
use click_core::{
    ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, NewPrepare, Order,
    OrderHooks, ServiceId, StoreError, Transaction, TransactionState,
};
use rusqlite::{Connection, Params, params};

use super::worker::Waiter;
use crate::row::{self, TransactionRow};

macro_rules! select {
    ($condition:literal) => {
        concat!(
            "SELECT click_trans_id, service_id, click_paydoc_id, merchant_trans_id, amount_tiyin, \
             kind, state, merchant_prepare_id, merchant_confirm_id FROM click_transactions WHERE ",
            $condition
        )
    };
}

const SELECT_TRANSACTION: &str = select!("merchant_prepare_id = ?1");
const SELECT_ATTEMPT: &str =
    select!("service_id = ?1 AND click_trans_id = ?2 AND merchant_trans_id = ?3 AND state = ?4");
const SELECT_TRANSACTIONS_OF: &str = select!("click_trans_id = ?1 ORDER BY merchant_prepare_id");
const SELECT_IN_STATES: &str = select!("state IN (?1, ?2) ORDER BY merchant_prepare_id");
const SELECT_PAID_ORDER: &str =
    "SELECT 1 FROM click_paid_orders WHERE service_id = ?1 AND merchant_trans_id = ?2";
const INSERT_TRANSACTION: &str = "INSERT INTO click_transactions (click_trans_id, service_id, \
     click_paydoc_id, merchant_trans_id, amount_tiyin, kind, state) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const UPDATE_STATE: &str = "UPDATE click_transactions SET state = ?1, merchant_confirm_id = ?2, \
     updated_at = CURRENT_TIMESTAMP WHERE merchant_prepare_id = ?3 AND state = ?4";
const CLAIM_ORDER: &str = "INSERT INTO click_paid_orders (service_id, merchant_trans_id, \
     merchant_prepare_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";

/// A statement failed.
fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::backend(error)
}

/// Reads the columns of the selects above.
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

/// The transactions a select finds.
fn select(
    conn: &Connection,
    sql: &str,
    params: impl Params,
) -> Result<Vec<Transaction>, StoreError> {
    let rows = conn
        .prepare_cached(sql)
        .and_then(|mut select| {
            select
                .query_map(params, transaction_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend)?;
    rows.into_iter().map(Transaction::try_from).collect()
}

/// Runs a cached statement; the number of rows it changed.
fn update(conn: &Connection, sql: &str, params: impl Params) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute(params))
        .map_err(backend)
}

/// The transaction of a `merchant_prepare_id`, if any.
pub(crate) fn transaction(
    conn: &Connection,
    merchant_prepare_id: MerchantPrepareId,
) -> Result<Option<Transaction>, StoreError> {
    Ok(select(conn, SELECT_TRANSACTION, [merchant_prepare_id.get()])?.pop())
}

/// The prepared attempt of (`service_id`, `click_trans_id`, `merchant_trans_id`), if any.
pub(crate) fn prepared_attempt(
    conn: &Connection,
    service_id: ServiceId,
    click_trans_id: ClickTransId,
    merchant_trans_id: &MerchantTransId,
) -> Result<Option<Transaction>, StoreError> {
    let params = params![
        service_id.get(),
        click_trans_id.get(),
        merchant_trans_id.as_str(),
        row::PREPARED
    ];
    Ok(select(conn, SELECT_ATTEMPT, params)?.pop())
}

/// Every transaction of a `click_trans_id`, oldest first.
pub(crate) fn transactions_of(
    conn: &Connection,
    click_trans_id: ClickTransId,
) -> Result<Vec<Transaction>, StoreError> {
    select(conn, SELECT_TRANSACTIONS_OF, [click_trans_id.get()])
}

/// Every transaction in a reversal-due state.
pub(crate) fn reversals_due(conn: &Connection) -> Result<Vec<Transaction>, StoreError> {
    let due = [
        click_core::ReversalReason::DeliveryFailed,
        click_core::ReversalReason::OrderAlreadyPaid,
    ]
    .map(|reason| row::state_code(TransactionState::ReversalDue(reason)));
    select(conn, SELECT_IN_STATES, due)
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

/// One transition on the writer's connection, inside a savepoint of its own (nested in the
/// writer's job savepoint) so that it can roll itself back.
pub(crate) struct SqliteSteps<'a> {
    conn: &'a mut Connection,
}

impl<'a> SqliteSteps<'a> {
    /// Opens the transition's savepoint.
    pub(crate) fn begin(conn: &'a mut Connection) -> Result<Self, StoreError> {
        update(conn, "SAVEPOINT click_transition", [])?;
        Ok(Self { conn })
    }
}

impl Steps for SqliteSteps<'_> {
    type Cx = Connection;

    fn cx(&mut self) -> &mut Connection {
        self.conn
    }

    async fn order_paid(
        &mut self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(SELECT_PAID_ORDER)
            .and_then(|mut select| {
                select.exists(params![service_id.get(), merchant_trans_id.as_str()])
            })
            .map_err(backend)
    }

    async fn insert_attempt(&mut self, new: &NewPrepare) -> Result<Inserted, StoreError> {
        let existing = prepared_attempt(
            self.conn,
            new.service_id,
            new.click_trans_id,
            &new.merchant_trans_id,
        )?;
        if let Some(existing) = existing {
            return Ok(Inserted::Existing(existing));
        }
        let params = params![
            new.click_trans_id.get(),
            new.service_id.get(),
            new.click_paydoc_id.get(),
            new.merchant_trans_id.as_str(),
            row::amount_code(new.amount),
            row::kind_code(new.kind),
            row::PREPARED,
        ];
        update(self.conn, INSERT_TRANSACTION, params)?;
        Ok(Inserted::New(MerchantPrepareId::new(
            self.conn.last_insert_rowid(),
        )))
    }

    async fn update_state(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
        from: TransactionState,
        to: TransactionState,
        confirm_id: Option<MerchantConfirmId>,
    ) -> Result<Option<Transaction>, StoreError> {
        let params = params![
            row::state_code(to),
            confirm_id.map(MerchantConfirmId::get),
            merchant_prepare_id.get(),
            row::state_code(from),
        ];
        if update(self.conn, UPDATE_STATE, params)? == 0 {
            return Ok(None);
        }
        transaction(self.conn, merchant_prepare_id)
    }

    async fn transaction(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<Option<Transaction>, StoreError> {
        transaction(self.conn, merchant_prepare_id)
    }

    async fn claim_order(&mut self, transaction: &Transaction) -> Result<bool, StoreError> {
        let params = params![
            transaction.service_id.get(),
            transaction.merchant_trans_id.as_str(),
            transaction.merchant_prepare_id.get()
        ];
        Ok(update(self.conn, CLAIM_ORDER, params)? > 0)
    }

    async fn savepoint(&mut self) -> Result<(), StoreError> {
        update(self.conn, crate::sql::SAVEPOINT, []).map(drop)
    }

    async fn release_savepoint(&mut self) -> Result<(), StoreError> {
        update(self.conn, crate::sql::RELEASE_SAVEPOINT, []).map(drop)
    }

    async fn rollback_to_savepoint(&mut self) -> Result<(), StoreError> {
        update(self.conn, crate::sql::ROLLBACK_TO_SAVEPOINT, [])?;
        update(self.conn, crate::sql::RELEASE_SAVEPOINT, []).map(drop)
    }

    async fn commit(self) -> Result<(), StoreError> {
        update(self.conn, "RELEASE click_transition", []).map(drop)
    }

    async fn rollback(self) -> Result<(), StoreError> {
        update(self.conn, "ROLLBACK TO click_transition", [])?;
        update(self.conn, "RELEASE click_transition", []).map(drop)
    }
}
