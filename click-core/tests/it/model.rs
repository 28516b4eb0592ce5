//! A property test: random sequences of Prepares, confirms, cancels and retries against the state
//! machine on `MemoryStore`, checked step by step against a small reference model.

use std::collections::HashMap;

use click_core::testing::{Harness, code};
use click_core::{MemoryStore, Order};
use proptest::prelude::*;

/// Orders the attempts pay: two one-time orders and one account.
const ORDERS: [&str; 3] = ["order-a", "order-b", "account"];

/// A payment attempt: which order, and whether it sends the right amount.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    order: usize,
    right_amount: bool,
}

impl Attempt {
    /// A wrong top-up sends `0`, which fails before any lookup.
    fn sends_zero(self) -> bool {
        self.order == 2 && !self.right_amount
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Prepare(usize),
    /// A Prepare of a prepared attempt with another amount: a conflicting retry.
    ConflictingPrepare(usize),
    Confirm(usize),
    Cancel(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Prepared,
    Confirmed,
    Cancelled,
    ReversalDue,
}

#[derive(Default)]
struct Model {
    states: HashMap<usize, (State, i64)>,
    paid: [bool; 2],
    deliveries: [usize; 3],
}

impl Model {
    /// The expected code of a Prepare, updating the model: `states` holds each attempt's latest
    /// transaction.
    fn prepare(&mut self, index: usize, attempt: Attempt, prepare_id: Option<i64>) -> i32 {
        if attempt.sends_zero() {
            return -2;
        }
        // A retry while prepared replays; once final, the same ids start a new attempt.
        if let Some((State::Prepared, _)) = self.states.get(&index) {
            return 0;
        }
        if attempt.order < 2 && self.paid[attempt.order] {
            return -4;
        }
        if !attempt.right_amount {
            return -2;
        }
        let id = prepare_id.expect("a successful Prepare answers an id");
        self.states.insert(index, (State::Prepared, id));
        0
    }

    fn confirm(&mut self, index: usize, attempt: Attempt) -> i32 {
        if attempt.sends_zero() {
            return -2;
        }
        match self.states.get(&index).copied() {
            None => -6,
            Some(_) if !attempt.right_amount => -2,
            Some((State::Prepared, id)) => {
                if attempt.order < 2 && self.paid[attempt.order] {
                    self.states.insert(index, (State::ReversalDue, id));
                    return -4;
                }
                if attempt.order < 2 {
                    self.paid[attempt.order] = true;
                }
                self.deliveries[attempt.order] += 1;
                self.states.insert(index, (State::Confirmed, id));
                0
            }
            Some((State::Confirmed | State::ReversalDue, _)) => -4,
            Some((State::Cancelled, _)) => -9,
        }
    }

    fn cancel(&mut self, index: usize, attempt: Attempt) -> i32 {
        if attempt.sends_zero() {
            return -2;
        }
        match self.states.get(&index).copied() {
            None => -9,
            Some(_) if !attempt.right_amount => -2,
            Some((State::Prepared, id)) => {
                self.states.insert(index, (State::Cancelled, id));
                -9
            }
            Some((State::Confirmed | State::ReversalDue, _)) => -4,
            Some((State::Cancelled, _)) => -9,
        }
    }
}

fn attempts() -> impl Strategy<Value = Vec<Attempt>> {
    prop::collection::vec(
        (0..ORDERS.len(), prop::bool::weighted(0.85)).prop_map(|(order, right_amount)| Attempt {
            order,
            right_amount,
        }),
        1..6,
    )
}

fn steps(attempts: usize) -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0..attempts).prop_map(Step::Prepare),
            1 => (0..attempts).prop_map(Step::ConflictingPrepare),
            3 => (0..attempts).prop_map(Step::Confirm),
            1 => (0..attempts).prop_map(Step::Cancel),
        ],
        1..25,
    )
}

async fn check(attempts: Vec<Attempt>, steps: Vec<Step>) {
    let h = Harness::new(|hooks| async move { MemoryStore::new(hooks) }, 1).await;
    h.orders.insert(
        ORDERS[0],
        Order::Payable {
            amount: "1000".parse().expect("amount"),
        },
    );
    h.orders.insert(
        ORDERS[1],
        Order::Payable {
            amount: "2500.50".parse().expect("amount"),
        },
    );
    h.orders.insert(ORDERS[2], Order::account());
    let amount = |attempt: Attempt| match (attempt.order, attempt.right_amount) {
        (0, true) => "1000.00",
        (1, true) => "2500.5",
        (2, true) => "777",
        (2, false) => "0",
        _ => "999.99",
    };
    let click_trans_id = |index: usize| 3_600_000_000 + i64::try_from(index).expect("small");
    let mut model = Model::default();
    for (n, step) in steps.into_iter().enumerate() {
        let (index, got, expected) = match step {
            Step::Prepare(index) => {
                let attempt = attempts[index];
                let answer = h
                    .prepare(
                        click_trans_id(index),
                        ORDERS[attempt.order],
                        amount(attempt),
                    )
                    .await;
                let id = answer.merchant_prepare_id().map(|id| id.get());
                match model.states.get(&index) {
                    Some((State::Prepared, known)) => {
                        assert_eq!(id, Some(*known), "step {n}: a retry replays the same id");
                    }
                    Some((_, old)) if code(&answer) == 0 => {
                        assert_ne!(id, Some(*old), "step {n}: a new attempt gets a new id");
                    }
                    _ => {}
                }
                (index, code(&answer), model.prepare(index, attempt, id))
            }
            Step::ConflictingPrepare(index) => {
                if !matches!(model.states.get(&index), Some((State::Prepared, _))) {
                    continue;
                }
                let attempt = attempts[index];
                let answer = h
                    .prepare(click_trans_id(index), ORDERS[attempt.order], "1.23")
                    .await;
                (index, code(&answer), -8)
            }
            Step::Confirm(index) | Step::Cancel(index) => {
                let attempt = attempts[index];
                let prepare_id = model.states.get(&index).map_or(999_999_999, |(_, id)| *id);
                let error = if matches!(step, Step::Confirm(_)) {
                    0
                } else {
                    -5017
                };
                let answer = h
                    .complete(
                        click_trans_id(index),
                        ORDERS[attempt.order],
                        prepare_id,
                        amount(attempt),
                        error,
                    )
                    .await;
                let expected = match step {
                    Step::Confirm(_) => model.confirm(index, attempt),
                    _ => model.cancel(index, attempt),
                };
                (index, code(&answer), expected)
            }
        };
        assert_eq!(
            got, expected,
            "step {n} ({step:?}) of attempt {index} {:?}",
            attempts[index]
        );
    }
    for (order, expected) in ORDERS.iter().zip(model.deliveries) {
        assert_eq!(
            h.orders.deliveries(order),
            expected,
            "deliveries of {order}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_state_machine_follows_the_reference_model(
        (attempts, steps) in attempts().prop_flat_map(|a| { let n = a.len(); (Just(a), steps(n)) })
    ) {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(check(attempts, steps));
    }
}
