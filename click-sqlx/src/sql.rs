//! The statements of the sqlx stores, per SQL dialect: PostgreSQL uses `$N` placeholders and
//! `RETURNING`; MySQL uses `?`, reads the `VARBINARY` `merchant_trans_id` back as UTF-8 text, and
//! re-reads what it wrote. State, kind and status codes are always bound from [`crate::row`], never
//! written into the text. `click_transactions` is `t` and `click_outbox` is `o` in every query.
//!
//! On PostgreSQL, a statement that finds its row by a key and only checks the row's state (a
//! task's status) writes `state + 0` (`status + 0`), which no index serves. Otherwise, when the
//! table's statistics say that no row is in that state (a young table analyzed before any confirm;
//! an outbox analyzed when every task was done), the planner takes `click_transactions_stuck` or
//! `click_outbox_due` (state first), or the partial index of prepared attempts, to be as cheap as
//! the key, and scans every row in that state instead: a Complete (or a task's update, during a
//! backlog) then grows slower with the table until the next `ANALYZE` (measured: four times the
//! database's CPU per payment after 10 000 payments on a new schema).

/// Every statement a store runs. (`pub` for the sealed `Driver` of the sqlx stores; a few fields
/// only they read.)
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(unreachable_pub, dead_code)
)]
pub struct Sql {
    /// One transaction by `merchant_prepare_id` (binds: merchant_prepare_id).
    pub(crate) select_transaction: &'static str,
    /// The prepared attempt of (service_id, click_trans_id, merchant_trans_id) (binds: those
    /// three). It spells the prepared state's code, as the partial unique index does, so that
    /// even a generic plan made on an empty table looks the row up by that index.
    pub(crate) select_prepared_attempt: &'static str,
    /// [`select_prepared_attempt`](Self::select_prepared_attempt) as a locking read, which sees
    /// the latest committed row even inside an older snapshot.
    pub(crate) select_prepared_attempt_latest: &'static str,
    /// The Telegram payment of a `telegram_payment_charge_id` (binds: it). On MySQL a locking
    /// read, which sees a concurrent record committed after the transaction's snapshot.
    pub(crate) select_charge: &'static str,
    /// A Telegram payment (binds: [`insert_transaction`](Self::insert_transaction)'s, then
    /// telegram_payment_charge_id, provider_payment_charge_id). On PostgreSQL it returns its
    /// `merchant_prepare_id`, or nothing when the charge is recorded already.
    pub(crate) insert_charge: &'static str,
    /// Every transaction in one state, oldest first (binds: state).
    pub(crate) select_in_state: &'static str,
    /// Every SHOP-API transaction of a `click_trans_id`, oldest first (binds: click_trans_id).
    pub(crate) select_transactions_of: &'static str,
    /// Every transaction in either of two states whose reversal is not settled, oldest first
    /// (binds: state, state).
    pub(crate) select_reversals_due: &'static str,
    /// Whether a one-time order is claimed (binds: service_id, merchant_trans_id).
    pub(crate) select_paid_order: &'static str,
    /// A new transaction (binds: click_trans_id, service_id, click_paydoc_id, merchant_trans_id,
    /// amount_tiyin, kind, state, prepared_at_ms). On PostgreSQL it returns its
    /// `merchant_prepare_id`, or nothing when a unique index refused it.
    pub(crate) insert_transaction: &'static str,
    /// Moves a transaction from one state to another (binds: state, merchant_confirm_id,
    /// merchant_prepare_id, expected state). On PostgreSQL it returns the row.
    pub(crate) update_state: &'static str,
    /// [`insert_transaction`](Self::insert_transaction) unless the one-time order is claimed, in
    /// one statement (binds: insert_transaction's, then the one-time order's kind); `None` where
    /// it takes two.
    pub(crate) insert_unless_paid: Option<&'static str>,
    /// Moves a prepared transaction to confirmed and claims its one-time order, in one statement
    /// that returns the row and `holds` (binds: update_state's, then the one-time order's kind);
    /// `None` where it takes two.
    pub(crate) confirm: Option<&'static str>,
    /// Undoes an open transaction and opens another (one script).
    pub(crate) restart: &'static str,
    /// Whether [`update_state`](Self::update_state) returns the row it moved.
    pub(crate) update_returns_row: bool,
    /// Claims a one-time order (binds: service_id, merchant_trans_id, merchant_prepare_id). If it
    /// is claimed already, PostgreSQL affects 0 rows and MySQL fails with a duplicate key
    /// (which, unlike PostgreSQL, leaves its transaction usable).
    pub(crate) claim_order: &'static str,
    /// A task, unless the transaction has one of its kind (binds: kind, merchant_prepare_id,
    /// pending status).
    pub(crate) insert_task: &'static str,
    /// [`insert_task`](Self::insert_task) if the transaction is in a state, in one statement
    /// that affects one row when it inserted the task (binds: insert_task's, then the state);
    /// `None` where it takes two.
    pub(crate) insert_task_if_in: Option<&'static str>,
    /// How a worker claims tasks.
    pub(crate) claim_tasks: ClaimTasks,
    /// The tasks of a claim, oldest due first (binds: claim_token).
    pub(crate) select_claimed: &'static str,
    /// Changes a claimed, pending task (binds: status, stage or `NULL` to keep it, due_at_ms or
    /// `NULL`, claim_token or `NULL` to let the claim go, 1 to keep the lease or 0, note or
    /// `NULL`, task_id, claim_token, pending status). Returns nothing.
    pub(crate) update_task: &'static str,
    /// Records a reversal's outcome (binds: reversal_outcome, reversal_code, merchant_prepare_id).
    pub(crate) settle_reversal: &'static str,
    /// Records a receipt's link (binds: receipt_url, merchant_prepare_id).
    pub(crate) settle_receipt: &'static str,
    /// Lets a held reversal run (binds: pending status, kind, merchant_prepare_id, awaiting
    /// status).
    pub(crate) approve_reversal: &'static str,
    /// Records an expire task for every stuck attempt without one (binds: kind, pending status,
    /// prepared state, prepared_at_ms cut-off, kind).
    pub(crate) schedule_expiry: &'static str,
    /// Whether another transaction debited a payment (binds: service_id, click_paydoc_id,
    /// merchant_prepare_id, the four debited states). A Telegram payment without Click's payment
    /// id (0) is no such payment.
    pub(crate) select_paydoc_debited: &'static str,
    /// Tasks, oldest first (binds: kind or `NULL` twice, status or `NULL` twice, limit).
    pub(crate) select_tasks: &'static str,
    /// `(kind, status, count)` of every task, as three `BIGINT`s.
    pub(crate) count_tasks: &'static str,
    /// [`count_tasks`](Self::count_tasks) of the tasks in three statuses (binds: those), through
    /// `click_outbox_due`, without reading the done ones.
    pub(crate) count_open_tasks: &'static str,
}

/// How a worker claims due tasks.
pub(crate) enum ClaimTasks {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    /// One statement that marks the claim (binds: claim_token, claimed_until_ms, pending status,
    /// now, now, limit).
    Update(&'static str),
    /// A locking select of the task ids (binds: pending status, now, now, limit), then an update
    /// of each (binds: claim_token, claimed_until_ms, task_id): MySQL cannot update a table it
    /// selects from in one statement.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    SelectThenUpdate {
        /// The select.
        select: &'static str,
        /// The update of one task.
        update: &'static str,
    },
}

/// The columns of a transaction, from `t`, every dialect but MySQL's `merchant_trans_id`.
macro_rules! columns {
    ($merchant_trans_id:literal, $telegram_payment_charge_id:literal, $provider_payment_charge_id:literal) => {
        concat!(
            "t.click_trans_id, t.service_id, t.click_paydoc_id, ",
            $merchant_trans_id,
            ", t.amount_tiyin, t.kind, t.state, t.merchant_prepare_id, t.merchant_confirm_id, \
             t.prepared_at_ms, t.reversal_outcome, t.reversal_code, t.receipt_url, ",
            $telegram_payment_charge_id,
            ", ",
            $provider_payment_charge_id
        )
    };
}

/// The columns of a task, from `o`, before its transaction's.
macro_rules! task_columns {
    () => {
        "o.task_id, o.kind AS task_kind, o.status AS task_status, o.attempts, o.stage, \
         o.due_at_ms, o.approved, o.note, "
    };
}

/// The columns of a transaction, as PostgreSQL and SQLite read them.
#[cfg(any(feature = "postgres", feature = "sqlite"))]
macro_rules! plain_columns {
    () => {
        columns!(
            "t.merchant_trans_id",
            "t.telegram_payment_charge_id",
            "t.provider_payment_charge_id"
        )
    };
}

#[cfg(feature = "postgres")]
macro_rules! pg_select {
    ($condition:literal) => {
        concat!(
            "SELECT ",
            plain_columns!(),
            " FROM click_transactions t WHERE ",
            $condition
        )
    };
}

/// PostgreSQL.
#[cfg(feature = "postgres")]
pub(crate) const DOLLAR: Sql = Sql {
    select_transaction: pg_select!("t.merchant_prepare_id = $1"),
    select_prepared_attempt: pg_select!(
        "t.service_id = $1 AND t.click_trans_id = $2 AND t.merchant_trans_id = $3 AND t.state = 0"
    ),
    // READ COMMITTED: every statement sees what committed before it.
    select_prepared_attempt_latest: pg_select!(
        "t.service_id = $1 AND t.click_trans_id = $2 AND t.merchant_trans_id = $3 AND t.state = 0"
    ),
    select_charge: pg_select!("t.telegram_payment_charge_id = $1"),
    insert_charge: "INSERT INTO click_transactions \
                    (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                     amount_tiyin, kind, state, prepared_at_ms, telegram_payment_charge_id, \
                     provider_payment_charge_id) \
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                    ON CONFLICT (telegram_payment_charge_id) \
                    WHERE telegram_payment_charge_id IS NOT NULL DO NOTHING \
                    RETURNING merchant_prepare_id",
    select_in_state: pg_select!("t.state = $1 ORDER BY t.merchant_prepare_id"),
    select_transactions_of: pg_select!(
        "t.click_trans_id = $1 AND t.telegram_payment_charge_id IS NULL \
         ORDER BY t.merchant_prepare_id"
    ),
    select_reversals_due: pg_select!(
        "t.state IN ($1, $2) AND t.reversal_outcome IS NULL ORDER BY t.merchant_prepare_id"
    ),
    select_paid_order: "SELECT merchant_prepare_id FROM click_paid_orders \
                        WHERE service_id = $1 AND merchant_trans_id = $2",
    insert_transaction: "INSERT INTO click_transactions \
                         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                          amount_tiyin, kind, state, prepared_at_ms) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                         ON CONFLICT DO NOTHING RETURNING merchant_prepare_id",
    update_state: concat!(
        "UPDATE click_transactions AS t SET state = $1, merchant_confirm_id = $2, \
         updated_at = CURRENT_TIMESTAMP WHERE t.merchant_prepare_id = $3 AND t.state + 0 = $4 \
         RETURNING ",
        plain_columns!()
    ),
    insert_unless_paid: Some(
        "INSERT INTO click_transactions \
         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
          amount_tiyin, kind, state, prepared_at_ms) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE $6 <> $9 OR NOT EXISTS \
         (SELECT 1 FROM click_paid_orders p WHERE p.service_id = $2 AND p.merchant_trans_id = $4) \
         ON CONFLICT DO NOTHING RETURNING merchant_prepare_id",
    ),
    confirm: Some(concat!(
        "WITH moved AS (UPDATE click_transactions AS t SET state = $1, merchant_confirm_id = $2, \
         updated_at = CURRENT_TIMESTAMP WHERE t.merchant_prepare_id = $3 AND t.state + 0 = $4 \
         RETURNING ",
        plain_columns!(),
        "), claimed AS (INSERT INTO click_paid_orders \
         (service_id, merchant_trans_id, merchant_prepare_id) \
         SELECT service_id, merchant_trans_id, merchant_prepare_id FROM moved WHERE kind = $5 \
         ON CONFLICT DO NOTHING RETURNING merchant_prepare_id) \
         SELECT moved.*, (moved.kind <> $5 OR EXISTS (SELECT 1 FROM claimed)) AS holds FROM moved"
    )),
    restart: "ROLLBACK; BEGIN",
    update_returns_row: true,
    claim_order: "INSERT INTO click_paid_orders (service_id, merchant_trans_id, \
                  merchant_prepare_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    insert_task: "INSERT INTO click_outbox (kind, merchant_prepare_id, status, due_at_ms) \
                  VALUES ($1, $2, $3, 0) ON CONFLICT DO NOTHING",
    insert_task_if_in: Some(
        "INSERT INTO click_outbox (kind, merchant_prepare_id, status, due_at_ms) \
         SELECT $1, t.merchant_prepare_id, $3, 0 FROM click_transactions t \
         WHERE t.merchant_prepare_id = $2 AND t.state + 0 = $4 ON CONFLICT DO NOTHING",
    ),
    claim_tasks: ClaimTasks::Update(
        "UPDATE click_outbox SET claim_token = $1, claimed_until_ms = $2, \
         attempts = attempts + 1, updated_at = CURRENT_TIMESTAMP \
         WHERE task_id IN (SELECT task_id FROM click_outbox WHERE status = $3 \
         AND due_at_ms <= $4 AND (claimed_until_ms IS NULL OR claimed_until_ms <= $5) \
         ORDER BY due_at_ms, task_id LIMIT $6 FOR UPDATE SKIP LOCKED)",
    ),
    select_claimed: concat!(
        "SELECT ",
        task_columns!(),
        plain_columns!(),
        " FROM click_outbox o JOIN click_transactions t \
         ON t.merchant_prepare_id = o.merchant_prepare_id \
         WHERE o.claim_token = $1 ORDER BY o.due_at_ms, o.task_id"
    ),
    update_task: "UPDATE click_outbox SET status = $1, stage = COALESCE($2, stage), \
                  due_at_ms = COALESCE($3, due_at_ms), claim_token = $4, \
                  claimed_until_ms = CASE WHEN $5 = 1 THEN claimed_until_ms END, \
                  note = COALESCE($6, note), updated_at = CURRENT_TIMESTAMP \
                  WHERE task_id = $7 AND claim_token = $8 AND status + 0 = $9",
    settle_reversal: "UPDATE click_transactions SET reversal_outcome = $1, reversal_code = $2, \
                      updated_at = CURRENT_TIMESTAMP WHERE merchant_prepare_id = $3",
    settle_receipt: "UPDATE click_transactions SET receipt_url = $1, \
                     updated_at = CURRENT_TIMESTAMP WHERE merchant_prepare_id = $2",
    approve_reversal: "UPDATE click_outbox SET status = $1, approved = 1, due_at_ms = 0, \
                       updated_at = CURRENT_TIMESTAMP \
                       WHERE kind = $2 AND merchant_prepare_id = $3 AND status + 0 = $4",
    schedule_expiry: "INSERT INTO click_outbox (kind, merchant_prepare_id, status, due_at_ms) \
                      SELECT $1, t.merchant_prepare_id, $2, 0 FROM click_transactions t \
                      WHERE t.state = $3 AND t.prepared_at_ms < $4 AND NOT EXISTS \
                      (SELECT 1 FROM click_outbox o WHERE o.kind = $5 \
                      AND o.merchant_prepare_id = t.merchant_prepare_id) \
                      ON CONFLICT DO NOTHING",
    select_paydoc_debited: "SELECT merchant_prepare_id FROM click_transactions \
                            WHERE service_id = $1 AND click_paydoc_id = $2 AND click_paydoc_id <> 0 \
                            AND merchant_prepare_id <> $3 AND state + 0 IN ($4, $5, $6, $7) LIMIT 1",
    select_tasks: concat!(
        "SELECT ",
        task_columns!(),
        plain_columns!(),
        " FROM click_outbox o JOIN click_transactions t \
         ON t.merchant_prepare_id = o.merchant_prepare_id \
         WHERE ($1::BIGINT IS NULL OR o.kind = $2) AND ($3::BIGINT IS NULL OR o.status = $4) \
         ORDER BY o.task_id LIMIT $5"
    ),
    count_tasks: "SELECT CAST(kind AS BIGINT), CAST(status AS BIGINT), COUNT(*) \
                  FROM click_outbox GROUP BY kind, status",
    count_open_tasks: "SELECT CAST(kind AS BIGINT), CAST(status AS BIGINT), COUNT(*) \
                       FROM click_outbox WHERE status IN ($1, $2, $3) GROUP BY kind, status",
};

#[cfg(feature = "mysql")]
macro_rules! mysql_select {
    ($condition:literal) => {
        concat!(
            "SELECT ",
            mysql_columns!(),
            " FROM click_transactions t WHERE ",
            $condition
        )
    };
}

/// The columns of a transaction, as MySQL reads them.
#[cfg(feature = "mysql")]
macro_rules! mysql_columns {
    () => {
        columns!(
            "CONVERT(t.merchant_trans_id USING utf8mb4) AS merchant_trans_id",
            "CONVERT(t.telegram_payment_charge_id USING utf8mb4) AS telegram_payment_charge_id",
            "CONVERT(t.provider_payment_charge_id USING utf8mb4) AS provider_payment_charge_id"
        )
    };
}

/// MySQL and MariaDB.
#[cfg(feature = "mysql")]
pub(crate) const QUESTION: Sql = Sql {
    select_transaction: mysql_select!("t.merchant_prepare_id = ?"),
    select_prepared_attempt: mysql_select!(
        "t.service_id = ? AND t.click_trans_id = ? AND t.merchant_trans_id = ? AND t.state = 0"
    ),
    // REPEATABLE READ keeps the transaction's first snapshot; a locking read sees past it.
    select_prepared_attempt_latest: mysql_select!(
        "t.service_id = ? AND t.click_trans_id = ? AND t.merchant_trans_id = ? AND t.state = 0 \
         LOCK IN SHARE MODE"
    ),
    select_charge: mysql_select!("t.telegram_payment_charge_id = ? LOCK IN SHARE MODE"),
    insert_charge: "INSERT INTO click_transactions \
                    (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                     amount_tiyin, kind, state, prepared_at_ms, telegram_payment_charge_id, \
                     provider_payment_charge_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    select_in_state: mysql_select!("t.state = ? ORDER BY t.merchant_prepare_id"),
    select_transactions_of: mysql_select!(
        "t.click_trans_id = ? AND t.telegram_payment_charge_id IS NULL \
         ORDER BY t.merchant_prepare_id"
    ),
    select_reversals_due: mysql_select!(
        "t.state IN (?, ?) AND t.reversal_outcome IS NULL ORDER BY t.merchant_prepare_id"
    ),
    select_paid_order: "SELECT merchant_prepare_id FROM click_paid_orders \
                        WHERE service_id = ? AND merchant_trans_id = ?",
    insert_transaction: "INSERT INTO click_transactions \
                         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                          amount_tiyin, kind, state, prepared_at_ms) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    update_state: "UPDATE click_transactions SET state = ?, merchant_confirm_id = ?, \
                   updated_at = CURRENT_TIMESTAMP(6) WHERE merchant_prepare_id = ? AND state = ?",
    insert_unless_paid: None,
    confirm: None,
    restart: "ROLLBACK; BEGIN",
    update_returns_row: false,
    claim_order: "INSERT INTO click_paid_orders (service_id, merchant_trans_id, \
                  merchant_prepare_id) VALUES (?, ?, ?)",
    insert_task: "INSERT IGNORE INTO click_outbox (kind, merchant_prepare_id, status, due_at_ms) \
                  VALUES (?, ?, ?, 0)",
    insert_task_if_in: None,
    claim_tasks: ClaimTasks::SelectThenUpdate {
        select: "SELECT task_id FROM click_outbox WHERE status = ? AND due_at_ms <= ? \
                 AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?) \
                 ORDER BY due_at_ms, task_id LIMIT ? FOR UPDATE SKIP LOCKED",
        update: "UPDATE click_outbox SET claim_token = ?, claimed_until_ms = ?, \
                 attempts = attempts + 1, updated_at = CURRENT_TIMESTAMP(6) WHERE task_id = ?",
    },
    select_claimed: concat!(
        "SELECT ",
        task_columns!(),
        mysql_columns!(),
        " FROM click_outbox o JOIN click_transactions t \
         ON t.merchant_prepare_id = o.merchant_prepare_id \
         WHERE o.claim_token = ? ORDER BY o.due_at_ms, o.task_id"
    ),
    update_task: "UPDATE click_outbox SET status = ?, stage = COALESCE(?, stage), \
                  due_at_ms = COALESCE(?, due_at_ms), claim_token = ?, \
                  claimed_until_ms = CASE WHEN ? = 1 THEN claimed_until_ms END, \
                  note = COALESCE(?, note), updated_at = CURRENT_TIMESTAMP(6) \
                  WHERE task_id = ? AND claim_token = ? AND status = ?",
    settle_reversal: "UPDATE click_transactions SET reversal_outcome = ?, reversal_code = ?, \
                      updated_at = CURRENT_TIMESTAMP(6) WHERE merchant_prepare_id = ?",
    settle_receipt: "UPDATE click_transactions SET receipt_url = ?, \
                     updated_at = CURRENT_TIMESTAMP(6) WHERE merchant_prepare_id = ?",
    approve_reversal: "UPDATE click_outbox SET status = ?, approved = 1, due_at_ms = 0, \
                       updated_at = CURRENT_TIMESTAMP(6) \
                       WHERE kind = ? AND merchant_prepare_id = ? AND status = ?",
    schedule_expiry: "INSERT IGNORE INTO click_outbox (kind, merchant_prepare_id, status, \
                      due_at_ms) SELECT ?, t.merchant_prepare_id, ?, 0 FROM click_transactions t \
                      WHERE t.state = ? AND t.prepared_at_ms < ? AND NOT EXISTS \
                      (SELECT 1 FROM click_outbox o WHERE o.kind = ? \
                      AND o.merchant_prepare_id = t.merchant_prepare_id)",
    select_paydoc_debited: "SELECT merchant_prepare_id FROM click_transactions \
                            WHERE service_id = ? AND click_paydoc_id = ? AND click_paydoc_id <> 0 \
                            AND merchant_prepare_id <> ? AND state IN (?, ?, ?, ?) LIMIT 1",
    select_tasks: concat!(
        "SELECT ",
        task_columns!(),
        mysql_columns!(),
        " FROM click_outbox o JOIN click_transactions t \
         ON t.merchant_prepare_id = o.merchant_prepare_id \
         WHERE (? IS NULL OR o.kind = ?) AND (? IS NULL OR o.status = ?) \
         ORDER BY o.task_id LIMIT ?"
    ),
    count_tasks: "SELECT CAST(kind AS SIGNED), CAST(status AS SIGNED), COUNT(*) \
                  FROM click_outbox GROUP BY kind, status",
    count_open_tasks: "SELECT CAST(kind AS SIGNED), CAST(status AS SIGNED), COUNT(*) \
                       FROM click_outbox WHERE status IN (?, ?, ?) GROUP BY kind, status",
};

#[cfg(feature = "sqlite")]
macro_rules! sqlite_select {
    ($condition:literal) => {
        concat!(
            "SELECT ",
            plain_columns!(),
            " FROM click_transactions t WHERE ",
            $condition
        )
    };
}

/// SQLite: one writer at a time, so no locking reads; `?N` placeholders.
#[cfg(feature = "sqlite")]
pub(crate) const SQLITE: Sql = Sql {
    select_transaction: sqlite_select!("t.merchant_prepare_id = ?1"),
    select_prepared_attempt: sqlite_select!(
        "t.service_id = ?1 AND t.click_trans_id = ?2 AND t.merchant_trans_id = ?3 AND t.state = 0"
    ),
    select_prepared_attempt_latest: sqlite_select!(
        "t.service_id = ?1 AND t.click_trans_id = ?2 AND t.merchant_trans_id = ?3 AND t.state = 0"
    ),
    select_charge: sqlite_select!("t.telegram_payment_charge_id = ?1"),
    insert_charge: "INSERT INTO click_transactions \
                    (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                     amount_tiyin, kind, state, prepared_at_ms, telegram_payment_charge_id, \
                     provider_payment_charge_id) \
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                    ON CONFLICT (telegram_payment_charge_id) \
                    WHERE telegram_payment_charge_id IS NOT NULL DO NOTHING",
    select_in_state: sqlite_select!("t.state = ?1 ORDER BY t.merchant_prepare_id"),
    select_transactions_of: sqlite_select!(
        "t.click_trans_id = ?1 AND t.telegram_payment_charge_id IS NULL \
         ORDER BY t.merchant_prepare_id"
    ),
    select_reversals_due: sqlite_select!(
        "t.state IN (?1, ?2) AND t.reversal_outcome IS NULL ORDER BY t.merchant_prepare_id"
    ),
    select_paid_order: "SELECT merchant_prepare_id FROM click_paid_orders \
                        WHERE service_id = ?1 AND merchant_trans_id = ?2",
    insert_transaction: "INSERT INTO click_transactions \
                         (click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                          amount_tiyin, kind, state, prepared_at_ms) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    update_state: "UPDATE click_transactions SET state = ?1, merchant_confirm_id = ?2, \
                   updated_at = CURRENT_TIMESTAMP WHERE merchant_prepare_id = ?3 AND state = ?4",
    insert_unless_paid: None,
    confirm: None,
    // A transition is a savepoint inside the writer's transaction.
    restart: "ROLLBACK TO click_transition",
    update_returns_row: false,
    claim_order: "INSERT INTO click_paid_orders (service_id, merchant_trans_id, \
                  merchant_prepare_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    insert_task: "INSERT INTO click_outbox (kind, merchant_prepare_id, status, due_at_ms) \
                  VALUES (?1, ?2, ?3, 0) ON CONFLICT DO NOTHING",
    insert_task_if_in: None,
    claim_tasks: ClaimTasks::SelectThenUpdate {
        select: "SELECT task_id FROM click_outbox WHERE status = ?1 AND due_at_ms <= ?2 \
                 AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?3) \
                 ORDER BY due_at_ms, task_id LIMIT ?4",
        update: "UPDATE click_outbox SET claim_token = ?1, claimed_until_ms = ?2, \
                 attempts = attempts + 1, updated_at = CURRENT_TIMESTAMP WHERE task_id = ?3",
    },
    select_claimed: concat!(
        "SELECT ",
        task_columns!(),
        plain_columns!(),
        " FROM click_outbox o JOIN click_transactions t \
         ON t.merchant_prepare_id = o.merchant_prepare_id \
         WHERE o.claim_token = ?1 ORDER BY o.due_at_ms, o.task_id"
    ),
    update_task: "UPDATE click_outbox SET status = ?1, stage = COALESCE(?2, stage), \
                  due_at_ms = COALESCE(?3, due_at_ms), claim_token = ?4, \
                  claimed_until_ms = CASE WHEN ?5 = 1 THEN claimed_until_ms END, \
                  note = COALESCE(?6, note), updated_at = CURRENT_TIMESTAMP \
                  WHERE task_id = ?7 AND claim_token = ?8 AND status = ?9",
    settle_reversal: "UPDATE click_transactions SET reversal_outcome = ?1, reversal_code = ?2, \
                      updated_at = CURRENT_TIMESTAMP WHERE merchant_prepare_id = ?3",
    settle_receipt: "UPDATE click_transactions SET receipt_url = ?1, \
                     updated_at = CURRENT_TIMESTAMP WHERE merchant_prepare_id = ?2",
    approve_reversal: "UPDATE click_outbox SET status = ?1, approved = 1, due_at_ms = 0, \
                       updated_at = CURRENT_TIMESTAMP \
                       WHERE kind = ?2 AND merchant_prepare_id = ?3 AND status = ?4",
    schedule_expiry: "INSERT OR IGNORE INTO click_outbox (kind, merchant_prepare_id, status, \
                      due_at_ms) SELECT ?1, t.merchant_prepare_id, ?2, 0 FROM click_transactions t \
                      WHERE t.state = ?3 AND t.prepared_at_ms < ?4 AND NOT EXISTS \
                      (SELECT 1 FROM click_outbox o WHERE o.kind = ?5 \
                      AND o.merchant_prepare_id = t.merchant_prepare_id)",
    select_paydoc_debited: "SELECT merchant_prepare_id FROM click_transactions \
                            WHERE service_id = ?1 AND click_paydoc_id = ?2 AND click_paydoc_id <> 0 \
                            AND merchant_prepare_id <> ?3 AND state IN (?4, ?5, ?6, ?7) LIMIT 1",
    select_tasks: concat!(
        "SELECT ",
        task_columns!(),
        plain_columns!(),
        " FROM click_outbox o JOIN click_transactions t \
         ON t.merchant_prepare_id = o.merchant_prepare_id \
         WHERE (?1 IS NULL OR o.kind = ?2) AND (?3 IS NULL OR o.status = ?4) \
         ORDER BY o.task_id LIMIT ?5"
    ),
    count_tasks: "SELECT kind, status, COUNT(*) FROM click_outbox GROUP BY kind, status",
    count_open_tasks: "SELECT kind, status, COUNT(*) FROM click_outbox \
                       WHERE status IN (?1, ?2, ?3) GROUP BY kind, status",
};

#[cfg(test)]
mod tests {
    const COLUMNS: &str = "click_trans_id, service_id, click_paydoc_id, merchant_trans_id, \
                           amount_tiyin, kind, state, merchant_prepare_id, merchant_confirm_id, \
                           prepared_at_ms, reversal_outcome, reversal_code, receipt_url, \
                           telegram_payment_charge_id, provider_payment_charge_id";

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
