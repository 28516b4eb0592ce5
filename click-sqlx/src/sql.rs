//! The statements of the sqlx stores, per SQL dialect: PostgreSQL uses `$N` placeholders; MySQL
//! uses `?` and reads the `VARBINARY` `merchant_trans_id` back as UTF-8 text.

/// Every statement a store runs.
pub(crate) struct Sql {
    /// One transaction by `click_trans_id` (binds: click_trans_id).
    pub(crate) select_transaction: &'static str,
    /// Every transaction in a reversal-due state.
    pub(crate) select_reversals_due: &'static str,
    /// Whether a one-time order is claimed (binds: service_id, merchant_trans_id).
    pub(crate) select_paid_order: &'static str,
    /// A new prepared transaction (binds: click_trans_id, service_id, click_paydoc_id,
    /// merchant_trans_id, amount_tiyin, kind); on PostgreSQL, returns its `merchant_prepare_id`
    /// unless the `click_trans_id` is taken.
    pub(crate) insert_transaction: &'static str,
    /// Prepared → confirmed, with the confirm id (binds: click_trans_id); on PostgreSQL, returns
    /// the row.
    pub(crate) confirm: &'static str,
    /// Prepared → cancelled (binds: click_trans_id); on PostgreSQL, returns the row.
    pub(crate) cancel: &'static str,
    /// Confirmed → a reversal-due state (binds: state, click_trans_id).
    pub(crate) reversal_due: &'static str,
    /// Claims a one-time order (binds: service_id, merchant_trans_id, click_trans_id). If it is
    /// claimed already, PostgreSQL affects 0 rows and MySQL fails with a duplicate key
    /// (which, unlike PostgreSQL, leaves its transaction usable).
    pub(crate) claim_order: &'static str,
}

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

/// PostgreSQL: `insert_transaction`, `confirm` and `cancel` return what the store needs, so no
/// statement re-reads a row.
#[cfg(feature = "postgres")]
pub(crate) const DOLLAR: Sql = Sql {
    select_transaction: select_by!(pg_columns!(), "click_trans_id = $1"),
    select_reversals_due: select_by!(
        pg_columns!(),
        "state IN (3, 4) ORDER BY merchant_prepare_id"
    ),
    select_paid_order: "SELECT click_trans_id FROM click_paid_orders \
                        WHERE service_id = $1 AND merchant_trans_id = $2",
    insert_transaction: "INSERT INTO click_transactions \
                         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                          amount_tiyin, kind, state) VALUES ($1, $2, $3, $4, $5, $6, 0) \
                         ON CONFLICT (click_trans_id) DO NOTHING RETURNING merchant_prepare_id",
    confirm: concat!(
        "UPDATE click_transactions SET state = 1, merchant_confirm_id = merchant_prepare_id, \
         updated_at = CURRENT_TIMESTAMP WHERE click_trans_id = $1 AND state = 0 RETURNING ",
        pg_columns!()
    ),
    cancel: concat!(
        "UPDATE click_transactions SET state = 2, updated_at = CURRENT_TIMESTAMP \
         WHERE click_trans_id = $1 AND state = 0 RETURNING ",
        pg_columns!()
    ),
    reversal_due: "UPDATE click_transactions SET state = $1, updated_at = CURRENT_TIMESTAMP \
                   WHERE click_trans_id = $2",
    claim_order: "INSERT INTO click_paid_orders (service_id, merchant_trans_id, click_trans_id) \
                  VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
};

/// MySQL and MariaDB.
#[cfg(feature = "mysql")]
pub(crate) const QUESTION: Sql = Sql {
    select_transaction: select_by!(
        "click_trans_id, service_id, click_paydoc_id, \
         CONVERT(merchant_trans_id USING utf8mb4) AS merchant_trans_id, amount_tiyin, kind, \
         state, merchant_prepare_id, merchant_confirm_id",
        "click_trans_id = ?"
    ),
    select_reversals_due: select_by!(
        "click_trans_id, service_id, click_paydoc_id, \
         CONVERT(merchant_trans_id USING utf8mb4) AS merchant_trans_id, amount_tiyin, kind, \
         state, merchant_prepare_id, merchant_confirm_id",
        "state IN (3, 4) ORDER BY merchant_prepare_id"
    ),
    select_paid_order: "SELECT click_trans_id FROM click_paid_orders \
                        WHERE service_id = ? AND merchant_trans_id = ?",
    insert_transaction: "INSERT INTO click_transactions \
                         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                          amount_tiyin, kind, state) VALUES (?, ?, ?, ?, ?, ?, 0)",
    confirm: "UPDATE click_transactions SET state = 1, merchant_confirm_id = merchant_prepare_id, \
              updated_at = CURRENT_TIMESTAMP(6) WHERE click_trans_id = ? AND state = 0",
    cancel: "UPDATE click_transactions SET state = 2, updated_at = CURRENT_TIMESTAMP(6) \
             WHERE click_trans_id = ? AND state = 0",
    reversal_due: "UPDATE click_transactions SET state = ?, updated_at = CURRENT_TIMESTAMP(6) \
                   WHERE click_trans_id = ?",
    claim_order: "INSERT INTO click_paid_orders (service_id, merchant_trans_id, click_trans_id) \
                  VALUES (?, ?, ?)",
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
