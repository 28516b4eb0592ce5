//! The store's work on SQLite: [`SqliteSteps`], click-core's primitive steps on the writer's
//! connection, the outbox's work on the writer, and the lookups the reader runs. Transitions run
//! on the writer thread inside a transaction that holds SQLite's write lock: nothing else writes
//! between a read and the write that depends on it, in this process or any other, so every check
//! here is also the guarantee.

use std::time::{Duration, SystemTime};

use click_core::outbox::{Claim, Task, TaskCounts, TaskFilter, TaskKind, TaskUpdate};
use click_core::transition::{Inserted, Steps};
use click_core::{
    ClickPaydocId, ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId, NewCharge,
    NewPrepare, Order, OrderHooks, ServiceId, StoreError, Transaction, TransactionState,
};
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, ToSql};

use super::worker::Waiter;
use crate::binds;
use crate::binds::Bind;
use crate::row::{TaskRow, TransactionRow, millis};
use crate::sql::{ClaimTasks, SQLITE};
use crate::tasks::{TaskChange, claim_token, counts, settlement};

impl ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Bind::Int(value) => ToSqlOutput::Owned(Value::Integer(value)),
            Bind::OptionalInt(value) => {
                ToSqlOutput::Owned(value.map_or(Value::Null, Value::Integer))
            }
            Bind::Text(value) => ToSqlOutput::from(value),
            Bind::OptionalText(value) => {
                value.map_or(ToSqlOutput::Owned(Value::Null), ToSqlOutput::from)
            }
            #[cfg(any(feature = "postgres", feature = "mysql"))]
            Bind::Bytes(value) => ToSqlOutput::from(value),
        })
    }
}

/// A statement failed.
fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::backend(error)
}

/// Reads the columns of a transaction, from column `at` on.
fn transaction_row(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<TransactionRow> {
    Ok(TransactionRow {
        click_trans_id: row.get(at)?,
        service_id: row.get(at + 1)?,
        click_paydoc_id: row.get(at + 2)?,
        merchant_trans_id: row.get(at + 3)?,
        amount_tiyin: row.get(at + 4)?,
        kind: row.get(at + 5)?,
        state: row.get(at + 6)?,
        merchant_prepare_id: row.get(at + 7)?,
        merchant_confirm_id: row.get(at + 8)?,
        prepared_at_ms: row.get(at + 9)?,
        reversal_outcome: row.get(at + 10)?,
        reversal_code: row.get(at + 11)?,
        receipt_url: row.get(at + 12)?,
        telegram_payment_charge_id: row.get(at + 13)?,
        provider_payment_charge_id: row.get(at + 14)?,
    })
}

/// Reads the columns of a task, then its transaction's.
fn task_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow {
        task_id: row.get(0)?,
        task_kind: row.get(1)?,
        task_status: row.get(2)?,
        attempts: row.get(3)?,
        stage: row.get(4)?,
        due_at_ms: row.get(5)?,
        approved: row.get(6)?,
        note: row.get(7)?,
        transaction: transaction_row(row, 8)?,
    })
}

/// The rows a cached select finds.
fn rows<T>(
    conn: &Connection,
    sql: &str,
    binds: &[Bind<'_>],
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut select| {
            select
                .query_map(rusqlite::params_from_iter(binds), read)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend)
}

/// The transactions a select finds.
fn select(
    conn: &Connection,
    sql: &str,
    binds: &[Bind<'_>],
) -> Result<Vec<Transaction>, StoreError> {
    rows(conn, sql, binds, |row| transaction_row(row, 0))?
        .into_iter()
        .map(Transaction::try_from)
        .collect()
}

/// The tasks a select finds.
fn tasks(conn: &Connection, sql: &str, binds: &[Bind<'_>]) -> Result<Vec<Task>, StoreError> {
    rows(conn, sql, binds, task_row)?
        .into_iter()
        .map(Task::try_from)
        .collect()
}

/// Runs a cached statement; the number of rows it changed.
fn update(conn: &Connection, sql: &str, binds: &[Bind<'_>]) -> Result<usize, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute(rusqlite::params_from_iter(binds)))
        .map_err(backend)
}

/// The Telegram payment of a `telegram_payment_charge_id`, if any.
pub(crate) fn charge(
    conn: &Connection,
    telegram_payment_charge_id: &str,
) -> Result<Option<Transaction>, StoreError> {
    let binds = [Bind::Text(telegram_payment_charge_id)];
    Ok(select(conn, SQLITE.select_charge, &binds)?.pop())
}

/// Every transaction in a state, oldest first.
pub(crate) fn in_state(
    conn: &Connection,
    state: TransactionState,
) -> Result<Vec<Transaction>, StoreError> {
    select(conn, SQLITE.select_in_state, &binds::in_state(state))
}

/// The transaction of a `merchant_prepare_id`, if any.
pub(crate) fn transaction(
    conn: &Connection,
    merchant_prepare_id: MerchantPrepareId,
) -> Result<Option<Transaction>, StoreError> {
    let binds = [Bind::Int(merchant_prepare_id.get())];
    Ok(select(conn, SQLITE.select_transaction, &binds)?.pop())
}

/// The prepared attempt of (`service_id`, `click_trans_id`, `merchant_trans_id`), if any.
pub(crate) fn prepared_attempt(
    conn: &Connection,
    service_id: ServiceId,
    click_trans_id: ClickTransId,
    merchant_trans_id: &MerchantTransId,
) -> Result<Option<Transaction>, StoreError> {
    let binds = binds::prepared_attempt(service_id, click_trans_id, merchant_trans_id);
    Ok(select(conn, SQLITE.select_prepared_attempt, &binds)?.pop())
}

/// Every transaction of a `click_trans_id`, oldest first.
pub(crate) fn transactions_of(
    conn: &Connection,
    click_trans_id: ClickTransId,
) -> Result<Vec<Transaction>, StoreError> {
    select(
        conn,
        SQLITE.select_transactions_of,
        &[Bind::Int(click_trans_id.get())],
    )
}

/// Every transaction in a reversal-due state whose reversal is not settled.
pub(crate) fn reversals_due(conn: &Connection) -> Result<Vec<Transaction>, StoreError> {
    select(conn, SQLITE.select_reversals_due, &binds::reversals_due())
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

/// [`click_core::Outbox::claim`], on the writer.
pub(crate) fn claim(
    conn: &Connection,
    now: SystemTime,
    lease: Duration,
    limit: usize,
) -> Result<Vec<Claim>, StoreError> {
    let ClaimTasks::SelectThenUpdate {
        select: due,
        update: mark,
    } = SQLITE.claim_tasks
    else {
        return Err(StoreError::backend("SQLite claims by select, then update"));
    };
    let token = claim_token();
    let now = millis(now);
    let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
    let binds = binds::due_tasks(now, limit);
    for id in rows(conn, due, &binds, |row| row.get::<_, i64>(0))? {
        update(
            conn,
            mark,
            &[Bind::Int(token), Bind::Int(until), Bind::Int(id)],
        )?;
    }
    Ok(tasks(conn, SQLITE.select_claimed, &[Bind::Int(token)])?
        .into_iter()
        .map(|task| Claim { task, token })
        .collect())
}

/// [`click_core::Outbox::update`], on the writer.
pub(crate) fn update_task(
    conn: &Connection,
    claim: &Claim,
    task_update: &TaskUpdate,
) -> Result<bool, StoreError> {
    let change = TaskChange::new(claim, task_update);
    if update(conn, SQLITE.update_task, &change.binds)? == 0 {
        return Ok(false);
    }
    let id = claim.task.transaction.merchant_prepare_id;
    if let Some((sql, binds)) = change
        .settled
        .and_then(|settled| settlement(&SQLITE, settled, id))
    {
        update(conn, sql, &binds)?;
    }
    Ok(true)
}

/// [`click_core::Outbox::approve_reversal`], on the writer.
pub(crate) fn approve_reversal(
    conn: &Connection,
    merchant_prepare_id: MerchantPrepareId,
) -> Result<bool, StoreError> {
    let binds = binds::approve_reversal(merchant_prepare_id);
    Ok(update(conn, SQLITE.approve_reversal, &binds)? > 0)
}

/// [`click_core::Outbox::schedule_expiry`], on the writer.
pub(crate) fn schedule_expiry(
    conn: &Connection,
    prepared_before: SystemTime,
) -> Result<u64, StoreError> {
    let binds = binds::schedule_expiry(prepared_before);
    let scheduled = update(conn, SQLITE.schedule_expiry, &binds)?;
    Ok(u64::try_from(scheduled).unwrap_or(u64::MAX))
}

/// [`click_core::Outbox::paydoc_debited`], on the reader.
pub(crate) fn paydoc_debited(
    conn: &Connection,
    service_id: ServiceId,
    click_paydoc_id: ClickPaydocId,
    except: MerchantPrepareId,
) -> Result<bool, StoreError> {
    let binds = binds::paydoc_debited(service_id, click_paydoc_id, except);
    let found = rows(conn, SQLITE.select_paydoc_debited, &binds, |row| {
        row.get::<_, i64>(0)
    })?;
    Ok(!found.is_empty())
}

/// [`click_core::Outbox::tasks`], on the reader.
pub(crate) fn list_tasks(conn: &Connection, filter: TaskFilter) -> Result<Vec<Task>, StoreError> {
    tasks(conn, SQLITE.select_tasks, &binds::tasks(filter))
}

/// [`click_core::Outbox::task_counts`], on the reader.
pub(crate) fn task_counts(conn: &Connection) -> Result<TaskCounts, StoreError> {
    count(conn, SQLITE.count_tasks, &[])
}

/// [`click_core::Outbox::open_task_counts`], on the reader.
pub(crate) fn open_task_counts(conn: &Connection) -> Result<TaskCounts, StoreError> {
    count(conn, SQLITE.count_open_tasks, &binds::open_statuses())
}

/// Tasks counted by kind and status.
fn count(conn: &Connection, sql: &str, binds: &[Bind<'_>]) -> Result<TaskCounts, StoreError> {
    counts(rows(conn, sql, binds, |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })?)
}

/// One transition on the writer's connection, inside a savepoint of its own (nested in the
/// writer's job savepoint) so that it can roll itself back.
pub(crate) struct SqliteSteps<'a> {
    conn: &'a mut Connection,
}

impl<'a> SqliteSteps<'a> {
    /// Opens the transition's savepoint.
    pub(crate) fn begin(conn: &'a mut Connection) -> Result<Self, StoreError> {
        update(conn, "SAVEPOINT click_transition", &[])?;
        Ok(Self { conn })
    }

    fn run(&self, sql: &str) -> Result<(), StoreError> {
        update(self.conn, sql, &[]).map(drop)
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
        let binds = binds::paid_order(service_id, merchant_trans_id);
        let paid = rows(self.conn, SQLITE.select_paid_order, &binds, |row| {
            row.get::<_, i64>(0)
        })?;
        Ok(!paid.is_empty())
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
        update(
            self.conn,
            SQLITE.insert_transaction,
            &binds::insert_transaction(new),
        )?;
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
        let binds = binds::update_state(merchant_prepare_id, from, to, confirm_id);
        if update(self.conn, SQLITE.update_state, &binds)? == 0 {
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

    async fn insert_charge(&mut self, new: &NewCharge) -> Result<Option<Transaction>, StoreError> {
        let row = new.clone().recorded(MerchantPrepareId::new(0));
        if update(self.conn, SQLITE.insert_charge, &binds::insert_charge(&row))? == 0 {
            return Ok(None);
        }
        Ok(Some(Transaction {
            merchant_prepare_id: MerchantPrepareId::new(self.conn.last_insert_rowid()),
            ..row
        }))
    }

    async fn charge(
        &mut self,
        telegram_payment_charge_id: &str,
    ) -> Result<Option<Transaction>, StoreError> {
        charge(self.conn, telegram_payment_charge_id)
    }

    async fn claim_order(&mut self, transaction: &Transaction) -> Result<bool, StoreError> {
        Ok(update(
            self.conn,
            SQLITE.claim_order,
            &binds::claim_order(transaction),
        )? > 0)
    }

    async fn enqueue(
        &mut self,
        kind: TaskKind,
        merchant_prepare_id: MerchantPrepareId,
    ) -> Result<(), StoreError> {
        let binds = binds::insert_task(kind, merchant_prepare_id);
        update(self.conn, SQLITE.insert_task, &binds).map(drop)
    }

    async fn restart(&mut self) -> Result<(), StoreError> {
        // Back to the start of the transition's savepoint, which stays open.
        self.run(SQLITE.restart)
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.run("RELEASE click_transition")
    }

    async fn rollback(self) -> Result<(), StoreError> {
        self.run(SQLITE.restart)?;
        self.run("RELEASE click_transition")
    }
}
