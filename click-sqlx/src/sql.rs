//! The statements of the sqlx stores, per SQL dialect: PostgreSQL uses `$N` placeholders and
//! `RETURNING`; MySQL uses `?`, reads the `VARBINARY` `merchant_trans_id` back as UTF-8 text, and
//! re-reads what it wrote. State and kind codes are always bound from [`crate::row`], never
//! written into the text.

/// Every statement a store runs.
pub struct Sql {
    /// One transaction by `merchant_prepare_id` (binds: merchant_prepare_id).
    pub(crate) select_transaction: &'static str,
    /// The attempt of (service_id, click_trans_id, merchant_trans_id) in a state (binds: those
    /// three, state).
    pub(crate) select_attempt: &'static str,
    /// [`select_attempt`](Self::select_attempt) as a locking read, which sees the latest
    /// committed row even inside an older snapshot.
    pub(crate) select_attempt_latest: &'static str,
    /// Every transaction of a `click_trans_id`, oldest first (binds: click_trans_id).
    pub(crate) select_transactions_of: &'static str,
    /// Every transaction in either of two states, oldest first (binds: state, state).
    pub(crate) select_in_states: &'static str,
    /// Whether a one-time order is claimed (binds: service_id, merchant_trans_id).
    pub(crate) select_paid_order: &'static str,
    /// A new transaction (binds: click_trans_id, service_id, click_paydoc_id, merchant_trans_id,
    /// amount_tiyin, kind, state). On PostgreSQL it returns its `merchant_prepare_id`, or nothing
    /// when a unique index refused it.
    pub(crate) insert_transaction: &'static str,
    /// Moves a transaction from one state to another (binds: state, merchant_confirm_id,
    /// merchant_prepare_id, expected state). On PostgreSQL it returns the row.
    pub(crate) update_state: &'static str,
    /// Whether [`update_state`](Self::update_state) returns the row it moved.
    pub(crate) update_returns_row: bool,
    /// Claims a one-time order (binds: service_id, merchant_trans_id, merchant_prepare_id). If it
    /// is claimed already, PostgreSQL affects 0 rows and MySQL fails with a duplicate key
    /// (which, unlike PostgreSQL, leaves its transaction usable).
    pub(crate) claim_order: &'static str,
}

/// The savepoint around a merchant's hook (the same words on every database).
pub(crate) const SAVEPOINT: &str = "SAVEPOINT click_hook";
/// Keeps the hook's writes.
pub(crate) const RELEASE_SAVEPOINT: &str = "RELEASE SAVEPOINT click_hook";
/// Undoes the hook's writes.
pub(crate) const ROLLBACK_TO_SAVEPOINT: &str = "ROLLBACK TO SAVEPOINT click_hook";

macro_rules! select_by {
    ($columns:expr, $condition:literal) => {
        concat!(
            "SELECT ",
            $columns,
            " FROM click_transactions WHERE ",
            $condition
        )
    };
}

/// The columns of a [`crate::row::TransactionRow`], as PostgreSQL reads them.
#[cfg(feature = "postgres")]
macro_rules! pg_columns {
    () => {
        "click_trans_id, service_id, click_paydoc_id, merchant_trans_id, amount_tiyin, kind, \
         state, merchant_prepare_id, merchant_confirm_id"
    };
}

/// PostgreSQL.
#[cfg(feature = "postgres")]
pub(crate) const DOLLAR: Sql = Sql {
    select_transaction: select_by!(pg_columns!(), "merchant_prepare_id = $1"),
    select_attempt: select_by!(
        pg_columns!(),
        "service_id = $1 AND click_trans_id = $2 AND merchant_trans_id = $3 AND state = $4"
    ),
    // READ COMMITTED: every statement sees what committed before it.
    select_attempt_latest: select_by!(
        pg_columns!(),
        "service_id = $1 AND click_trans_id = $2 AND merchant_trans_id = $3 AND state = $4"
    ),
    select_transactions_of: select_by!(
        pg_columns!(),
        "click_trans_id = $1 ORDER BY merchant_prepare_id"
    ),
    select_in_states: select_by!(
        pg_columns!(),
        "state IN ($1, $2) ORDER BY merchant_prepare_id"
    ),
    select_paid_order: "SELECT merchant_prepare_id FROM click_paid_orders \
                        WHERE service_id = $1 AND merchant_trans_id = $2",
    insert_transaction: "INSERT INTO click_transactions \
                         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                          amount_tiyin, kind, state) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT DO NOTHING RETURNING merchant_prepare_id",
    update_state: concat!(
        "UPDATE click_transactions SET state = $1, merchant_confirm_id = $2, \
         updated_at = CURRENT_TIMESTAMP WHERE merchant_prepare_id = $3 AND state = $4 RETURNING ",
        pg_columns!()
    ),
    update_returns_row: true,
    claim_order: "INSERT INTO click_paid_orders (service_id, merchant_trans_id, \
                  merchant_prepare_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
};

/// The columns of a [`crate::row::TransactionRow`], as MySQL reads them.
#[cfg(feature = "mysql")]
macro_rules! mysql_columns {
    () => {
        "click_trans_id, service_id, click_paydoc_id, \
         CONVERT(merchant_trans_id USING utf8mb4) AS merchant_trans_id, amount_tiyin, kind, \
         state, merchant_prepare_id, merchant_confirm_id"
    };
}

/// MySQL and MariaDB.
#[cfg(feature = "mysql")]
pub(crate) const QUESTION: Sql = Sql {
    select_transaction: select_by!(mysql_columns!(), "merchant_prepare_id = ?"),
    select_attempt: select_by!(
        mysql_columns!(),
        "service_id = ? AND click_trans_id = ? AND merchant_trans_id = ? AND state = ?"
    ),
    // REPEATABLE READ keeps the transaction's first snapshot; a locking read sees past it.
    select_attempt_latest: select_by!(
        mysql_columns!(),
        "service_id = ? AND click_trans_id = ? AND merchant_trans_id = ? AND state = ? \
         LOCK IN SHARE MODE"
    ),
    select_transactions_of: select_by!(
        mysql_columns!(),
        "click_trans_id = ? ORDER BY merchant_prepare_id"
    ),
    select_in_states: select_by!(
        mysql_columns!(),
        "state IN (?, ?) ORDER BY merchant_prepare_id"
    ),
    select_paid_order: "SELECT merchant_prepare_id FROM click_paid_orders \
                        WHERE service_id = ? AND merchant_trans_id = ?",
    insert_transaction: "INSERT INTO click_transactions \
                         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                          amount_tiyin, kind, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
    update_state: "UPDATE click_transactions SET state = ?, merchant_confirm_id = ?, \
                   updated_at = CURRENT_TIMESTAMP(6) WHERE merchant_prepare_id = ? AND state = ?",
    update_returns_row: false,
    claim_order: "INSERT INTO click_paid_orders (service_id, merchant_trans_id, \
                  merchant_prepare_id) VALUES (?, ?, ?)",
};

#[cfg(test)]
mod tests {
    const COLUMNS: &str = "click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                           amount_tiyin, kind, state, merchant_prepare_id, merchant_confirm_id";

    /// The column lists spelled out in the macros are the row's columns.
    #[test]
    fn selects_name_every_column() {
        for sql in [
            #[cfg(feature = "postgres")]
            super::DOLLAR.select_transaction,
            #[cfg(feature = "mysql")]
            super::QUESTION.select_transaction,
        ] {
            for column in COLUMNS.split(", ") {
                assert!(sql.contains(column.trim()), "{column} in {sql}");
            }
        }
    }
}
