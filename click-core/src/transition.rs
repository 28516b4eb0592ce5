//! The Prepare and Complete transitions (and the record of a Telegram payment), written once for every store over [`Steps`]: the
//! primitive steps of one unit of work (a database transaction, or the memory store's lock on one
//! order).
//!
//! A store supplies the steps and its own way of opening a unit of work; [`prepare`] and
//! [`complete`] do the rest, in the same order everywhere:
//!
//! - **Prepare**: the lookup hook finds the order, on the unit's connection; a missing or
//!   unpayable order ([`Order::payment_kind`](crate::Order::payment_kind)) records nothing, and
//!   neither does a one-time order that is already paid; otherwise the attempt is inserted (or
//!   the prepared attempt of the same `service_id`, `click_trans_id` and `merchant_trans_id` is
//!   returned unchanged), the reserve hook runs, and the unit commits. A failing lookup or
//!   reservation rolls everything back.
//! - **Complete**: the transaction leaves [`TransactionState::Prepared`] (or, if it already left,
//!   nothing changes). If it is not the payment the Complete names ([`crate::Expected`]), the unit
//!   is undone before any hook runs, and nothing changes. A cancel (or an expiry) runs the release
//!   hook (its failure is logged, the cancel stands). A confirm of a one-time order claims the
//!   order in the same step — a claim held by another transaction makes this one
//!   [`ReversalReason::OrderAlreadyPaid`] — then runs the delivery hook. A failing hook's own
//!   writes are undone by starting the unit over ([`Steps::restart`]) and doing the transition
//!   again without the hook: the cancel stands, and a failed delivery makes the transaction
//!   [`ReversalReason::DeliveryFailed`]. (No savepoint: the common path costs no round trip for
//!   it.)
//! - **A Telegram payment** is recorded received under its `telegram_payment_charge_id` and
//!   committed ([`receive_charge`]; recorded already, nothing changes), so a crash cannot lose it;
//!   its delivery ([`deliver_charge`]) is then the confirm's path, from
//!   [`TransactionState::Received`] instead of `Prepared`: the same rule, the same hook, the same
//!   reversals, and the same safety when interrupted.
//! - **Settlement tasks** ([`crate::outbox`]) are recorded in the same unit: "reverse" whenever a
//!   transaction becomes reversal due, "fiscalize" for a delivered payment whose hooks want a
//!   receipt.
//!
//! A unit of work dropped before [`Steps::commit`] (a dropped request, a panic in a hook, a process
//! killed) must change nothing: that is what makes an interrupted delivery safe to deliver again
//! on Click's retry. (The one exception: a Prepare whose hooks reserve nothing may run in
//! autocommit, where its single insert commits by itself; a dropped Prepare then leaves a
//! prepared attempt, which Click's retry finds and answers the same.) After the delivery hook the
//! confirm is checked before the commit ([`Steps::still_in`]), so a hook that swallowed an error
//! of its database work (leaving the transaction aborted or rolled back) fails the Complete
//! instead of losing it.
//!
//! A store's [`OrderStore::complete`](crate::OrderStore::complete) is then, in essence,
//! `transition::complete(self.begin().await?, &self.hooks, merchant_prepare_id, to, expected)`;
//! [`crate::MemoryStore`] is the shortest complete example.

use std::future::Future;

use crate::ids::{MerchantConfirmId, MerchantPrepareId, MerchantTransId, ServiceId};
use crate::outbox::TaskKind;
use crate::store::{
    Attempt, Expected, NewCharge, NewPrepare, OrderHooks, Outcome, PaymentKind, Prepared,
    ReversalReason, StoreError, Transaction, TransactionState, Transition,
};

/// What [`Steps::insert_attempt`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// The attempt was inserted, prepared, under this new id.
    New(MerchantPrepareId),
    /// A prepared attempt of the same (`service_id`, `click_trans_id`, `merchant_trans_id`)
    /// holds the place: nothing was inserted.
    Existing(Transaction),
}

/// The primitive steps of one unit of work of a store. Everything a unit does is kept only if
/// [`commit`](Self::commit) succeeds; dropped without it, the unit changes nothing.
///
/// The guarantees come from the store, not from the order of the steps:
/// [`insert_attempt`](Self::insert_attempt) must refuse a second prepared attempt of one (`service_id`,
/// `click_trans_id`, `merchant_trans_id`), [`update_state`](Self::update_state) must move a row
/// only if it is in the expected state, and [`claim_order`](Self::claim_order) must let one
/// transaction per one-time order win — each atomically against concurrent units (a unique key, a
/// row lock, a lock on the order). A store that overrides [`confirm`](Self::confirm) or
/// [`insert_unless_paid`](Self::insert_unless_paid) keeps the same guarantees in its one
/// statement; one that overrides [`still_in`](Self::still_in) fails, or answers `false`, on a
/// unit a hook aborted or rolled back, and records the task only for a row in that state.
pub trait Steps: Send {
    /// What the merchant's hooks receive: the open database transaction, or `()`.
    type Cx: ?Sized + Send;

    /// The hooks' context.
    fn cx(&mut self) -> &mut Self::Cx;

    /// Whether a one-time order already has a debited transaction.
    fn order_paid(
        &mut self,
        service_id: ServiceId,
        merchant_trans_id: &MerchantTransId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Inserts a prepared attempt, or finds the prepared attempt of the same (`service_id`,
    /// `click_trans_id`, `merchant_trans_id`) that a concurrent unit committed first.
    fn insert_attempt(
        &mut self,
        new: &NewPrepare,
    ) -> impl Future<Output = Result<Inserted, StoreError>> + Send;

    /// Moves a transaction from state `from` to state `to`, with `merchant_confirm_id` set to
    /// `confirm_id`; the row as it is now, or `None` if it was not in state `from`.
    fn update_state(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
        from: TransactionState,
        to: TransactionState,
        confirm_id: Option<MerchantConfirmId>,
    ) -> impl Future<Output = Result<Option<Transaction>, StoreError>> + Send;

    /// The transaction as this unit sees it.
    fn transaction(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> impl Future<Output = Result<Option<Transaction>, StoreError>> + Send;

    /// Inserts a Telegram payment, received ([`NewCharge::recorded`]); `None` if its
    /// `telegram_payment_charge_id` is recorded already (by this unit's store, a concurrent unit
    /// included: a unique key).
    fn insert_charge(
        &mut self,
        new: &NewCharge,
    ) -> impl Future<Output = Result<Option<Transaction>, StoreError>> + Send;

    /// The Telegram payment of a `telegram_payment_charge_id`, as this unit sees it.
    fn charge(
        &mut self,
        telegram_payment_charge_id: &str,
    ) -> impl Future<Output = Result<Option<Transaction>, StoreError>> + Send;

    /// Claims the transaction's one-time order for it; `false` if another transaction holds it.
    fn claim_order(
        &mut self,
        transaction: &Transaction,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a settlement task of `kind` for a transaction, due now (see [`crate::outbox`]); a
    /// task of that kind the transaction already has is kept.
    fn enqueue(
        &mut self,
        kind: TaskKind,
        merchant_prepare_id: MerchantPrepareId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Undoes everything the unit did, a hook's writes included, and leaves it open as if just
    /// begun (on the path where a hook failed).
    fn restart(&mut self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Inserts a prepared attempt as [`insert_attempt`](Self::insert_attempt) does, unless it is
    /// for a one-time order that already has a debited transaction (`None`). By default
    /// [`insert_unless_paid_by_steps`]; a store may do it in one statement.
    fn insert_unless_paid(
        &mut self,
        new: &NewPrepare,
    ) -> impl Future<Output = Result<Option<Inserted>, StoreError>> + Send
    where
        Self: Sized,
    {
        insert_unless_paid_by_steps(self, new)
    }

    /// Moves a prepared transaction to confirmed and, for a one-time order, claims the order for
    /// it: the row as moved and whether it holds its order (always, for a top-up), or `None` if
    /// it was not prepared. By default [`confirm_by_steps`]; a store may do it in one statement.
    fn confirm(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
    ) -> impl Future<Output = Result<Option<(Transaction, bool)>, StoreError>> + Send
    where
        Self: Sized,
    {
        confirm_by_steps(self, merchant_prepare_id)
    }

    /// Whether a transaction is still in `state` after a hook ran on the unit's connection, and,
    /// if it is and `task` is given, records that settlement task for it as
    /// [`enqueue`](Self::enqueue) does. By default [`still_in_by_steps`]; a store may do it in
    /// one statement.
    fn still_in(
        &mut self,
        merchant_prepare_id: MerchantPrepareId,
        state: TransactionState,
        task: Option<TaskKind>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send
    where
        Self: Sized,
    {
        still_in_by_steps(self, merchant_prepare_id, state, task)
    }

    /// Makes everything the unit did durable and visible.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send
    where
        Self: Sized;

    /// Undoes everything the unit did.
    fn rollback(self) -> impl Future<Output = Result<(), StoreError>> + Send
    where
        Self: Sized;
}

/// [`Steps::insert_unless_paid`] from the primitive steps: [`Steps::order_paid`] for a one-time
/// order, then [`Steps::insert_attempt`].
///
/// # Errors
///
/// A step failed.
pub async fn insert_unless_paid_by_steps<S: Steps>(
    steps: &mut S,
    new: &NewPrepare,
) -> Result<Option<Inserted>, StoreError> {
    if new.kind == PaymentKind::Order
        && steps
            .order_paid(new.service_id, &new.merchant_trans_id)
            .await?
    {
        return Ok(None);
    }
    steps.insert_attempt(new).await.map(Some)
}

/// [`Steps::confirm`] from the primitive steps: [`Steps::update_state`], then
/// [`Steps::claim_order`] for a one-time order.
///
/// # Errors
///
/// A step failed.
pub async fn confirm_by_steps<S: Steps>(
    steps: &mut S,
    merchant_prepare_id: MerchantPrepareId,
) -> Result<Option<(Transaction, bool)>, StoreError> {
    let from = TransactionState::Prepared;
    let confirm_id = Some(confirm_id(merchant_prepare_id));
    confirm_from(steps, merchant_prepare_id, from, confirm_id).await
}

/// [`Steps::still_in`] from the primitive steps: [`Steps::transaction`], then [`Steps::enqueue`]
/// if the transaction is in `state` and a task is given.
///
/// # Errors
///
/// A step failed.
pub async fn still_in_by_steps<S: Steps>(
    steps: &mut S,
    merchant_prepare_id: MerchantPrepareId,
    state: TransactionState,
    task: Option<TaskKind>,
) -> Result<bool, StoreError> {
    let current = steps.transaction(merchant_prepare_id).await?;
    if current.is_none_or(|transaction| transaction.state != state) {
        return Ok(false);
    }
    if let Some(kind) = task {
        steps.enqueue(kind, merchant_prepare_id).await?;
    }
    Ok(true)
}

/// Moves a transaction from `from` to confirmed and, for a one-time order, claims the order for
/// it: the row as moved and whether it holds its order, or `None` if it was not in `from`.
async fn confirm_from<S: Steps>(
    steps: &mut S,
    merchant_prepare_id: MerchantPrepareId,
    from: TransactionState,
    confirm_id: Option<MerchantConfirmId>,
) -> Result<Option<(Transaction, bool)>, StoreError> {
    let to = TransactionState::Confirmed;
    let moved = steps
        .update_state(merchant_prepare_id, from, to, confirm_id)
        .await?;
    let Some(transaction) = moved else {
        return Ok(None);
    };
    let holds = transaction.kind != PaymentKind::Order || steps.claim_order(&transaction).await?;
    Ok(Some((transaction, holds)))
}

/// The `merchant_confirm_id` of a confirmed transaction: its `merchant_prepare_id`.
pub fn confirm_id(merchant_prepare_id: MerchantPrepareId) -> MerchantConfirmId {
    MerchantConfirmId::new(merchant_prepare_id.get())
}

/// Looks the attempt's order up through `hooks`, records the Prepare in `steps` and reserves the
/// order, then commits. The lookup runs in the same unit of work, on its connection.
///
/// # Errors
///
/// A step failed, or the lookup or reserve hook did ([`StoreError::Hook`]); nothing was
/// recorded.
pub async fn prepare<S, H>(
    mut steps: S,
    hooks: &H,
    attempt: Attempt,
) -> Result<Prepared, StoreError>
where
    S: Steps,
    H: OrderHooks<S::Cx> + ?Sized,
{
    let found = hooks
        .find(steps.cx(), attempt.service_id, &attempt.merchant_trans_id)
        .await;
    let verdict = match found {
        Ok(Some(order)) => order
            .payment_kind(attempt.amount)
            .map_err(Prepared::Unpayable),
        Ok(None) => Err(Prepared::NoOrder),
        Err(error) => {
            // Rolling back is best effort: dropping the unit undoes it as well.
            let _ = steps.rollback().await;
            return Err(StoreError::Hook(error));
        }
    };
    let new = match verdict {
        Ok(kind) => attempt.of_kind(kind),
        Err(refused) => {
            steps.rollback().await?;
            return Ok(refused);
        }
    };
    let merchant_prepare_id = match steps.insert_unless_paid(&new).await? {
        Some(Inserted::New(id)) => id,
        Some(Inserted::Existing(existing)) => {
            steps.rollback().await?;
            return Ok(Prepared::Existing(existing));
        }
        None => {
            steps.rollback().await?;
            return Ok(Prepared::OrderAlreadyPaid);
        }
    };
    let transaction = new.prepared(merchant_prepare_id);
    // Hooks that reserve nothing are not asked to: a store may run this unit in autocommit.
    if hooks.reserves_orders()
        && let Err(error) = hooks.reserve(steps.cx(), &transaction).await
    {
        // Rolling back is best effort: dropping the unit undoes it as well.
        let _ = steps.rollback().await;
        return Err(StoreError::Hook(error));
    }
    steps.commit().await?;
    Ok(Prepared::Created(transaction))
}

/// Moves a prepared transaction to confirmed (delivering it) or cancelled (releasing it) in
/// `steps`, then commits; says what it found and did. A transaction that is not the `expected`
/// payment is left as it was, before any hook runs.
///
/// # Errors
///
/// [`StoreError::UnknownTransaction`] if there is no such transaction; otherwise a step failed.
/// Nothing was changed.
pub async fn complete<S, H>(
    steps: S,
    hooks: &H,
    merchant_prepare_id: MerchantPrepareId,
    to: Outcome,
    expected: Option<&Expected>,
) -> Result<Transition, StoreError>
where
    S: Steps,
    H: OrderHooks<S::Cx> + ?Sized,
{
    let state = match to {
        Outcome::Confirm => {
            return debit(steps, hooks, Debit::Complete(merchant_prepare_id, expected)).await;
        }
        Outcome::Cancel => TransactionState::Cancelled,
        Outcome::Expire => TransactionState::Expired,
    };
    cancel(steps, hooks, merchant_prepare_id, state, expected).await
}

/// Records a Telegram payment in `steps`, received and not delivered, then commits: the new row,
/// or the one recorded under its `telegram_payment_charge_id` already (nothing changed).
///
/// # Errors
///
/// A step failed, or the charge id is recorded for another order or amount; nothing was
/// recorded.
pub async fn receive_charge<S: Steps>(
    mut steps: S,
    new: &NewCharge,
) -> Result<Transaction, StoreError> {
    if let Some(received) = steps.insert_charge(new).await? {
        steps.commit().await?;
        return Ok(received);
    }
    let id = &new.charge.telegram_payment_charge_id;
    let existing = steps.charge(id).await?;
    steps.rollback().await?;
    match existing {
        Some(first)
            if first.merchant_trans_id == new.merchant_trans_id && first.amount == new.amount =>
        {
            Ok(first)
        }
        Some(_) => Err(StoreError::backend(format!(
            "Telegram charge {id} is recorded for another order or amount"
        ))),
        None => Err(StoreError::backend(format!(
            "Telegram charge {id} was refused but is not recorded"
        ))),
    }
}

/// Delivers a received Telegram payment in `steps` through `hooks`, under the confirm's rules
/// (one debited transaction per one-time order), then commits; a payment no longer received
/// changes nothing.
///
/// # Errors
///
/// A step failed; nothing was changed.
pub async fn deliver_charge<S, H>(
    steps: S,
    hooks: &H,
    merchant_prepare_id: MerchantPrepareId,
) -> Result<Transition, StoreError>
where
    S: Steps,
    H: OrderHooks<S::Cx> + ?Sized,
{
    debit(steps, hooks, Debit::Charge(merchant_prepare_id)).await
}

/// A debit to take: a Complete confirming a prepared attempt (of the payment it names, if
/// given), or the delivery of a received Telegram payment.
#[derive(Clone, Copy)]
enum Debit<'a> {
    Complete(MerchantPrepareId, Option<&'a Expected>),
    Charge(MerchantPrepareId),
}

impl<'a> Debit<'a> {
    fn id(self) -> MerchantPrepareId {
        match self {
            Debit::Complete(id, _) | Debit::Charge(id) => id,
        }
    }

    fn expected(self) -> Option<&'a Expected> {
        match self {
            Debit::Complete(_, expected) => expected,
            Debit::Charge(_) => None,
        }
    }

    /// Moves the row to confirmed and claims its one-time order: the row and whether it holds
    /// the order, or `None` if the row was not in the state the debit starts from.
    async fn take<S: Steps>(
        self,
        steps: &mut S,
    ) -> Result<Option<(Transaction, bool)>, StoreError> {
        match self {
            Debit::Complete(id, _) => steps.confirm(id).await,
            // A Telegram payment has no Complete, so no `merchant_confirm_id`.
            Debit::Charge(id) => confirm_from(steps, id, TransactionState::Received, None).await,
        }
    }
}

/// Takes a debit, then delivers it, or keeps it for reversal when its order is paid already or
/// the delivery hook fails.
async fn debit<S, H>(mut steps: S, hooks: &H, debit: Debit<'_>) -> Result<Transition, StoreError>
where
    S: Steps,
    H: OrderHooks<S::Cx> + ?Sized,
{
    let merchant_prepare_id = debit.id();
    let Some((mut transaction, holds)) = debit.take(&mut steps).await? else {
        return unchanged(steps, merchant_prepare_id).await;
    };
    if is_unexpected(debit.expected(), &transaction) {
        return undo(steps, merchant_prepare_id).await;
    }
    if !holds {
        let reason = ReversalReason::OrderAlreadyPaid;
        mark_reversal_due(&mut steps, &mut transaction, reason).await?;
        steps.commit().await?;
        return Ok(Transition::OrderAlreadyPaid(transaction));
    }
    // Decided before the hook runs, on what the hook will be given.
    let receipt = hooks.wants_receipt(&transaction);
    if let Err(error) = hooks.deliver(steps.cx(), &transaction).await {
        tracing::error!(
            merchant_prepare_id = merchant_prepare_id.get(),
            error = error.as_ref() as &dyn std::error::Error,
            "delivery hook failed after the customer was debited"
        );
        // Undo the hook's writes, then take the debit again, without it, as due for reversal.
        steps.restart().await?;
        let Some((mut transaction, holds)) = debit.take(&mut steps).await? else {
            return unchanged(steps, merchant_prepare_id).await;
        };
        let reason = if holds {
            ReversalReason::DeliveryFailed
        } else {
            ReversalReason::OrderAlreadyPaid
        };
        mark_reversal_due(&mut steps, &mut transaction, reason).await?;
        steps.commit().await?;
        return Ok(if holds {
            Transition::Confirmed(transaction)
        } else {
            Transition::OrderAlreadyPaid(transaction)
        });
    }
    // A hook that swallowed an error of its own database work has left the transaction aborted
    // (PostgreSQL) or rolled back (MySQL, on a deadlock): committing would silently keep nothing
    // while the payment is reported as taken. Check the debit is still there first (with the
    // receipt's task, in one statement where the store can); a failure here is an error, and a
    // retry delivers again.
    let task = receipt.then_some(TaskKind::Fiscalize);
    let confirmed = TransactionState::Confirmed;
    if !steps.still_in(merchant_prepare_id, confirmed, task).await? {
        return Err(StoreError::backend(
            "the confirm did not survive the delivery hook: the hook's database work failed \
             and the hook did not say so",
        ));
    }
    steps.commit().await?;
    Ok(Transition::Confirmed(transaction))
}

/// Cancels (or expires) a prepared transaction, releasing its reservation.
async fn cancel<S, H>(
    mut steps: S,
    hooks: &H,
    merchant_prepare_id: MerchantPrepareId,
    state: TransactionState,
    expected: Option<&Expected>,
) -> Result<Transition, StoreError>
where
    S: Steps,
    H: OrderHooks<S::Cx> + ?Sized,
{
    let from = TransactionState::Prepared;
    let moved = steps
        .update_state(merchant_prepare_id, from, state, None)
        .await?;
    let Some(transaction) = moved else {
        return unchanged(steps, merchant_prepare_id).await;
    };
    if is_unexpected(expected, &transaction) {
        return undo(steps, merchant_prepare_id).await;
    }
    if let Err(error) = hooks.release(steps.cx(), &transaction).await {
        tracing::warn!(
            merchant_prepare_id = merchant_prepare_id.get(),
            error = error.as_ref() as &dyn std::error::Error,
            "release hook failed; the cancel stands"
        );
        // Undo the hook's writes; the cancel stands without them.
        steps.restart().await?;
        let moved = steps
            .update_state(merchant_prepare_id, from, state, None)
            .await?;
        if moved.is_none() {
            return unchanged(steps, merchant_prepare_id).await;
        }
    }
    steps.commit().await?;
    Ok(Transition::Cancelled(transaction))
}

/// Whether a moved transaction is not the payment `expected`. (Moving first and undoing on the
/// rare mismatch spares every Complete a read of the row before it is moved.)
fn is_unexpected(expected: Option<&Expected>, moved: &Transaction) -> bool {
    expected.is_some_and(|expected| expected.mismatch(moved).is_some())
}

/// Undoes a move of a transaction that was not the payment expected: nothing changes.
async fn undo<S: Steps>(
    mut steps: S,
    merchant_prepare_id: MerchantPrepareId,
) -> Result<Transition, StoreError> {
    steps.restart().await?;
    unchanged(steps, merchant_prepare_id).await
}

/// A transaction that had already left [`TransactionState::Prepared`]: nothing changes.
async fn unchanged<S: Steps>(
    mut steps: S,
    merchant_prepare_id: MerchantPrepareId,
) -> Result<Transition, StoreError> {
    let current = steps
        .transaction(merchant_prepare_id)
        .await?
        .ok_or(StoreError::UnknownTransaction(merchant_prepare_id))?;
    steps.rollback().await?;
    Ok(Transition::Unchanged(current))
}

async fn mark_reversal_due<S: Steps>(
    steps: &mut S,
    transaction: &mut Transaction,
    reason: ReversalReason,
) -> Result<(), StoreError> {
    let state = TransactionState::ReversalDue(reason);
    let moved = steps
        .update_state(
            transaction.merchant_prepare_id,
            TransactionState::Confirmed,
            state,
            transaction.merchant_confirm_id,
        )
        .await?;
    *transaction = moved.ok_or_else(|| {
        StoreError::backend(format!(
            "transaction {} left confirmed in the middle of its transition",
            transaction.merchant_prepare_id
        ))
    })?;
    steps
        .enqueue(TaskKind::Reverse, transaction.merchant_prepare_id)
        .await
}
