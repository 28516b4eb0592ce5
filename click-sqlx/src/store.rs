//! The store, written once for the three databases by [`sql_store!`].
//!
//! Every transition is one database transaction:
//!
//! - **Prepare** inserts the `click_transactions` row (the unique `click_trans_id` makes a
//!   concurrent duplicate wait for the first, then fail and read the first row back) and calls the
//!   reserve hook on the open transaction; a failing hook rolls everything back.
//! - **Complete** moves the row out of `state = 0` with a conditional `UPDATE … WHERE state = 0`:
//!   the database's row lock lets exactly one of any number of concurrent Completes match it; the
//!   others see zero affected rows and read the outcome. A confirm of a one-time order then inserts
//!   its `click_paid_orders` row, whose primary key lets only one transaction per order win (the
//!   loser becomes "reversal due"). The delivery hook runs on the same open transaction, inside a
//!   savepoint: the confirm and the merchant's own writes commit together or not at all, and a
//!   failing hook rolls back only its own writes before the transaction is marked "reversal due".
//!
//! A dropped request (a client that hung up) or a crash before the commit rolls the whole
//! transition back, with the delivery hook's database writes: Click's retry then finds the row as
//! it was and delivers again. Side effects outside the database (an e-mail, a call to a
//! warehouse) are not rolled back: send them from [`click_core::ShopEvent::Confirmed`], after the
//! commit, or make them idempotent per `click_trans_id`.

/// Is this the database refusing a duplicate key?
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Runs a transition again (up to three times in all) when the database aborted it as a deadlock
/// or serialization failure: the transaction rolled back whole, so trying again is safe. Such
/// aborts happen under contention, e.g. MySQL's three-way duplicate-insert deadlock.
pub(crate) async fn retry_conflicts<T, F, Fut>(mut attempt: F) -> Result<T, click_core::StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, click_core::StoreError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if tries < 3 && is_conflict(&error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "transaction aborted by a conflict; trying again"
                );
                tries += 1;
            }
            result => return result,
        }
    }
}

/// Deadlock (`40P01`) or serialization failure (`40001`, MySQL's 1213 deadlock included).
fn is_conflict(error: &click_core::StoreError) -> bool {
    let click_core::StoreError::Backend(source) = error else {
        return false;
    };
    matches!(
        source.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db)) if matches!(db.code().as_deref(), Some("40001" | "40P01"))
    )
}

/// A store failure, with its cause kept for the log.
pub(crate) fn backend(error: sqlx::Error) -> click_core::StoreError {
    click_core::StoreError::backend(error)
}

/// Implements a store for one database: `$store<H>` over a `$pool`, hooks receiving a `$conn`,
/// statements from `$sql`, write transactions opened by `$begin`. `$dialect` names a module of the
/// invoking file with the
/// two steps whose shape differs between databases:
///
/// - `inserted(conn, insert)`: runs the bound `insert_transaction`; the new `merchant_prepare_id`,
///   or `None` when the `click_trans_id` is taken (by a concurrent Prepare that committed first);
/// - `moved(conn, update, click_trans_id)`: runs the bound `confirm` or `cancel`; the row as it is
///   now, or `None` when it was no longer prepared.
macro_rules! sql_store {
    (
        $(#[$doc:meta])*
        $store:ident, $db:ty, $pool:ty, $conn:ty, $sql:expr, $schema:expr, $begin:literal, $migrations:literal, $dialect:ident
    ) => {
        $(#[$doc])*
        pub struct $store<H> {
            pool: $pool,
            hooks: H,
        }

        impl<H> $store<H> {
            /// A store over `pool`, calling the merchant's `hooks` inside its transactions. Call
            /// [`migrate`](Self::migrate) once before use.
            pub fn new(pool: $pool, hooks: H) -> Self {
                Self { pool, hooks }
            }

            /// The pool.
            pub fn pool(&self) -> &$pool {
                &self.pool
            }

            /// The hooks.
            pub fn hooks(&self) -> &H {
                &self.hooks
            }

            /// Creates or upgrades the tables (`click_transactions`, `click_paid_orders`), tracked
            /// in `click_migrations` so they never mix with the application's own migrations.
            /// Safe to call at every start, from several instances at once.
            ///
            /// # Errors
            ///
            /// The database refused a statement.
            pub async fn migrate(&self) -> Result<(), sqlx::Error> {
                use sqlx::Executor;
                static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!($migrations);
                let mut pooled = self.pool.acquire().await?;
                if $schema.session_lock {
                    // Interrupted mid-way, the connection closes and its session lock goes with it.
                    pooled.close_on_drop();
                }
                let conn = &mut *pooled;
                conn.execute($schema.begin).await?;
                let applied = async {
                    if let Some(lock) = $schema.lock {
                        let locked: Option<i64> = sqlx::query_scalar(lock).fetch_one(&mut *conn).await?;
                        if locked != Some(1) {
                            return Err(sqlx::Error::Protocol("could not take the migration lock".into()));
                        }
                    }
                    conn.execute($schema.create_table).await?;
                    for migration in MIGRATOR.iter() {
                        let checksum: Option<Vec<u8>> = sqlx::query_scalar($schema.select_checksum)
                            .bind(migration.version)
                            .fetch_optional(&mut *conn)
                            .await?;
                        match checksum {
                            Some(checksum) if checksum == *migration.checksum => continue,
                            Some(_) => {
                                return Err(sqlx::Error::Migrate(Box::new(
                                    sqlx::migrate::MigrateError::VersionMismatch(migration.version),
                                )));
                            }
                            None => {}
                        }
                        conn.execute(&*migration.sql).await?;
                        sqlx::query($schema.insert_applied)
                            .bind(migration.version)
                            .bind(&*migration.description)
                            .bind(&*migration.checksum)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                }
                .await;
                match applied {
                    Ok(()) => conn.execute($schema.commit).await.map(|_| ()),
                    Err(error) => {
                        conn.execute($schema.rollback).await.ok();
                        Err(error)
                    }
                }
            }

            /// Every transaction whose payment Click debited but the merchant did not deliver:
            /// each must be reversed through the Merchant API (`payment_id` is its
            /// `click_paydoc_id`).
            ///
            /// # Errors
            ///
            /// The database failed.
            pub async fn reversals_due(&self) -> Result<Vec<click_core::Transaction>, click_core::StoreError> {
                let rows: Vec<crate::row::TransactionRow> = sqlx::query_as($sql.select_reversals_due)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(crate::store::backend)?;
                rows.into_iter().map(click_core::Transaction::try_from).collect()
            }

            async fn begin(&self) -> Result<sqlx::Transaction<'static, $db>, click_core::StoreError> {
                self.pool.begin_with($begin).await.map_err(crate::store::backend)
            }

            async fn select(
                conn: &mut $conn,
                click_trans_id: click_core::ClickTransId,
            ) -> Result<Option<click_core::Transaction>, click_core::StoreError> {
                let row: Option<crate::row::TransactionRow> = sqlx::query_as($sql.select_transaction)
                    .bind(click_trans_id.get())
                    .fetch_optional(conn)
                    .await
                    .map_err(crate::store::backend)?;
                row.map(click_core::Transaction::try_from).transpose()
            }

            /// The row of a transaction that must exist at this point.
            async fn expect(
                conn: &mut $conn,
                click_trans_id: click_core::ClickTransId,
            ) -> Result<click_core::Transaction, click_core::StoreError> {
                Self::select(conn, click_trans_id)
                    .await?
                    .ok_or(click_core::StoreError::UnknownTransaction(click_trans_id))
            }
        }

        #[async_trait::async_trait]
        impl<H: click_core::OrderHooks<$conn>> click_core::OrderStore for $store<H> {
            async fn order(
                &self,
                service_id: click_core::ServiceId,
                merchant_trans_id: &click_core::MerchantTransId,
            ) -> Result<Option<click_core::Order>, click_core::StoreError> {
                let mut conn = self.pool.acquire().await.map_err(crate::store::backend)?;
                self.hooks
                    .find(&mut *conn, service_id, merchant_trans_id)
                    .await
                    .map_err(click_core::StoreError::Hook)
            }

            async fn transaction(
                &self,
                click_trans_id: click_core::ClickTransId,
            ) -> Result<Option<click_core::Transaction>, click_core::StoreError> {
                let mut conn = self.pool.acquire().await.map_err(crate::store::backend)?;
                Self::select(&mut *conn, click_trans_id).await
            }

            async fn prepare(
                &self,
                new: click_core::NewPrepare,
            ) -> Result<click_core::Prepared, click_core::StoreError> {
                crate::store::retry_conflicts(|| self.prepare_once(new.clone())).await
            }

            async fn complete(
                &self,
                click_trans_id: click_core::ClickTransId,
                to: click_core::Outcome,
            ) -> Result<click_core::Transition, click_core::StoreError> {
                crate::store::retry_conflicts(|| self.complete_once(click_trans_id, to)).await
            }
        }

        impl<H: click_core::OrderHooks<$conn>> $store<H> {
            async fn prepare_once(
                &self,
                new: click_core::NewPrepare,
            ) -> Result<click_core::Prepared, click_core::StoreError> {
                use click_core::{PaymentKind, Prepared};
                // The state machine has just looked for this `click_trans_id`; a concurrent
                // duplicate that committed since is caught by the insert below.
                let mut tx = self.begin().await?;
                if new.kind == PaymentKind::Order {
                    let paid: Option<i64> = sqlx::query_scalar($sql.select_paid_order)
                        .bind(new.service_id.get())
                        .bind(new.merchant_trans_id.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(crate::store::backend)?;
                    if paid.is_some() {
                        return Ok(Prepared::OrderAlreadyPaid);
                    }
                }
                let insert = sqlx::query($sql.insert_transaction)
                    .bind(new.click_trans_id.get())
                    .bind(new.service_id.get())
                    .bind(new.click_paydoc_id.get())
                    .bind(new.merchant_trans_id.as_str())
                    .bind(crate::row::amount_code(new.amount))
                    .bind(crate::row::kind_code(new.kind));
                let Some(prepare_id) = $dialect::inserted(&mut *tx, insert)
                    .await
                    .map_err(crate::store::backend)?
                else {
                    // A concurrent Prepare of the same attempt committed first: read it outside
                    // this transaction, whose snapshot may predate it.
                    tx.rollback().await.map_err(crate::store::backend)?;
                    let mut conn = self.pool.acquire().await.map_err(crate::store::backend)?;
                    return Ok(Prepared::Existing(Self::expect(&mut *conn, new.click_trans_id).await?));
                };
                let transaction = new.prepared(click_core::MerchantPrepareId::new(prepare_id));
                self.hooks
                    .reserve(&mut *tx, &transaction)
                    .await
                    .map_err(click_core::StoreError::Hook)?;
                tx.commit().await.map_err(crate::store::backend)?;
                Ok(Prepared::Created(transaction))
            }

            async fn complete_once(
                &self,
                click_trans_id: click_core::ClickTransId,
                to: click_core::Outcome,
            ) -> Result<click_core::Transition, click_core::StoreError> {
                use click_core::{Outcome, PaymentKind, ReversalReason, TransactionState, Transition};
                use sqlx::Acquire;
                let mut tx = self.begin().await?;
                let statement = match to {
                    Outcome::Confirm => $sql.confirm,
                    Outcome::Cancel => $sql.cancel,
                };
                let update = sqlx::query(statement).bind(click_trans_id.get());
                let Some(row) = $dialect::moved(&mut *tx, update, click_trans_id)
                    .await
                    .map_err(crate::store::backend)?
                else {
                    let current = Self::expect(&mut *tx, click_trans_id).await?;
                    tx.rollback().await.map_err(crate::store::backend)?;
                    return Ok(Transition::Unchanged(current));
                };
                let mut transaction = click_core::Transaction::try_from(row)?;
                if to == Outcome::Cancel {
                    let mut savepoint = tx.begin().await.map_err(crate::store::backend)?;
                    match self.hooks.release(&mut *savepoint, &transaction).await {
                        Ok(()) => savepoint.commit().await.map_err(crate::store::backend)?,
                        Err(error) => {
                            savepoint.rollback().await.map_err(crate::store::backend)?;
                            tracing::warn!(
                                %click_trans_id,
                                error = error.as_ref() as &dyn std::error::Error,
                                "release hook failed; the cancel stands"
                            );
                        }
                    }
                    tx.commit().await.map_err(crate::store::backend)?;
                    return Ok(Transition::Cancelled(transaction));
                }
                if transaction.kind == PaymentKind::Order {
                    let claimed = match sqlx::query($sql.claim_order)
                        .bind(transaction.service_id.get())
                        .bind(transaction.merchant_trans_id.as_str())
                        .bind(click_trans_id.get())
                        .execute(&mut *tx)
                        .await
                    {
                        Ok(result) => result.rows_affected() > 0,
                        Err(error) if crate::store::is_unique_violation(&error) => false,
                        Err(error) => return Err(crate::store::backend(error)),
                    };
                    if !claimed {
                        sqlx::query($sql.reversal_due)
                            .bind(crate::row::ORDER_ALREADY_PAID)
                            .bind(click_trans_id.get())
                            .execute(&mut *tx)
                            .await
                            .map_err(crate::store::backend)?;
                        let transaction = Self::expect(&mut *tx, click_trans_id).await?;
                        tx.commit().await.map_err(crate::store::backend)?;
                        return Ok(Transition::OrderAlreadyPaid(transaction));
                    }
                }
                let mut savepoint = tx.begin().await.map_err(crate::store::backend)?;
                match self.hooks.deliver(&mut *savepoint, &transaction).await {
                    Ok(()) => savepoint.commit().await.map_err(crate::store::backend)?,
                    Err(error) => {
                        savepoint.rollback().await.map_err(crate::store::backend)?;
                        tracing::error!(
                            %click_trans_id,
                            error = error.as_ref() as &dyn std::error::Error,
                            "delivery hook failed after Click debited the customer"
                        );
                        sqlx::query($sql.reversal_due)
                            .bind(crate::row::DELIVERY_FAILED)
                            .bind(click_trans_id.get())
                            .execute(&mut *tx)
                            .await
                            .map_err(crate::store::backend)?;
                        transaction.state = TransactionState::ReversalDue(ReversalReason::DeliveryFailed);
                    }
                }
                tx.commit().await.map_err(crate::store::backend)?;
                Ok(Transition::Confirmed(transaction))
            }
        }
    };
}

pub(crate) use sql_store;
