//! How a transaction is stored: one row of `click_transactions`, and the codes of its `state` and
//! `kind` columns.
//!
//! | `state` | meaning |
//! |---|---|
//! | 0 | prepared |
//! | 1 | confirmed and delivered |
//! | 2 | cancelled |
//! | 3 | debited, delivery failed: reversal due |
//! | 4 | debited, the order was already paid: reversal due |
//!
//! `kind` is 0 for a one-time order and 1 for an account top-up. `amount_tiyin` is the amount in
//! integer tiyin (1 so'm = 100 tiyin): exact, never a float.

use click_core::{
    Amount, ClickPaydocId, ClickTransId, MerchantConfirmId, MerchantPrepareId, MerchantTransId,
    PaymentKind, ReversalReason, ServiceId, StoreError, Tiyin, Transaction, TransactionState,
};

/// The `state` code of a prepared transaction.
pub(crate) const PREPARED: i32 = 0;
/// The `state` code of a confirmed transaction.
pub(crate) const CONFIRMED: i32 = 1;
/// The `state` code of a cancelled transaction.
pub(crate) const CANCELLED: i32 = 2;
/// The `state` code of a transaction whose delivery failed.
pub(crate) const DELIVERY_FAILED: i32 = 3;
/// The `state` code of a transaction that paid an already paid order.
pub(crate) const ORDER_ALREADY_PAID: i32 = 4;

/// The `kind` code of a one-time order.
pub(crate) const ORDER: i32 = 0;
/// The `kind` code of an account top-up.
pub(crate) const TOP_UP: i32 = 1;

/// The columns every query selects, in this order.
#[derive(Debug, sqlx::FromRow)]
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
}

/// The stored code of a state.
pub(crate) fn state_code(state: TransactionState) -> i32 {
    match state {
        TransactionState::Prepared => PREPARED,
        TransactionState::Confirmed => CONFIRMED,
        TransactionState::Cancelled => CANCELLED,
        TransactionState::ReversalDue(ReversalReason::DeliveryFailed) => DELIVERY_FAILED,
        TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid) => ORDER_ALREADY_PAID,
    }
}

/// The stored code of a kind.
pub(crate) fn kind_code(kind: PaymentKind) -> i32 {
    match kind {
        PaymentKind::Order => ORDER,
        PaymentKind::TopUp => TOP_UP,
    }
}

/// The stored amount of an amount: tiyin fit `i64` (an amount has at most 17 digits).
pub(crate) fn amount_code(amount: Amount) -> i64 {
    i64::try_from(amount.tiyin().get()).unwrap_or(i64::MAX)
}

impl TryFrom<TransactionRow> for Transaction {
    type Error = StoreError;

    fn try_from(row: TransactionRow) -> Result<Self, StoreError> {
        let corrupt =
            |what: &str| StoreError::backend(format!("corrupt click_transactions row: {what}"));
        let state = match row.state {
            PREPARED => TransactionState::Prepared,
            CONFIRMED => TransactionState::Confirmed,
            CANCELLED => TransactionState::Cancelled,
            DELIVERY_FAILED => TransactionState::ReversalDue(ReversalReason::DeliveryFailed),
            ORDER_ALREADY_PAID => TransactionState::ReversalDue(ReversalReason::OrderAlreadyPaid),
            _ => return Err(corrupt("state")),
        };
        let kind = match row.kind {
            ORDER => PaymentKind::Order,
            TOP_UP => PaymentKind::TopUp,
            _ => return Err(corrupt("kind")),
        };
        let amount = u64::try_from(row.amount_tiyin)
            .ok()
            .and_then(|tiyin| Amount::from_tiyin(Tiyin(tiyin)).ok())
            .ok_or_else(|| corrupt("amount_tiyin"))?;
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::PREPARED;

    /// The unique index of prepared attempts is DDL, where no bind exists: it spells the code of
    /// [`PREPARED`] as text, and must spell this one.
    #[test]
    fn the_migrations_spell_the_prepared_code() {
        for sql in [
            include_str!("../migrations/postgres/2_attempts_by_merchant_prepare_id.sql"),
            include_str!("../migrations/mysql/2_attempts_by_merchant_prepare_id.sql"),
            include_str!("../migrations/sqlite/2_attempts_by_merchant_prepare_id.sql"),
        ] {
            let condition = format!("state = {PREPARED}");
            assert!(sql.contains(&condition), "{condition} in {sql}");
            assert_eq!(
                sql.matches("state = ").count(),
                sql.matches(&condition).count()
            );
        }
    }
}
