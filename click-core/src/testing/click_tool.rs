//! Click's test tool, as merchants meet it before going live: 15 scenarios in three chains, each
//! scenario with its own fixed `click_trans_id`, the same on every run (see `docs/protocol.md`,
//! "Click's test tool").
//!
//! The tool asks for one `merchant_trans_id` and uses it in every scenario but the unknown-order
//! one; it stops after scenarios 7 and 11, where the user may enter another. Its Completes carry
//! the `merchant_prepare_id` answered to the chain's Prepare, under other `click_trans_id`s. With
//! one `merchant_trans_id` for all three chains it must be an account (top-up): chains 2 and 3 pay
//! it again.
//!
//! [`SCENARIOS`] is the tool's table; a [`ToolRun`] builds each scenario's request body and the
//! answer it expects, and learns the chains' `merchant_prepare_id`s from the answers. The
//! conformance suite replays it in process; `click-testkit check --click-tool` over HTTP.
//!
//! ```
//! use click_core::testing::Click;
//! use click_core::testing::click_tool::{SCENARIOS, ToolRun};
//! use click_core::{SecretKey, ServiceId};
//!
//! let click = Click::new(ServiceId::new(101), SecretKey::new("secret"));
//! let run = ToolRun::new(click, ["user-42".parse()?, "user-42".parse()?, "user-42".parse()?]);
//! let first = run.request(&SCENARIOS[0])?;
//! assert!(first.body.contains("click_trans_id=27147"));
//! assert!(first.body.contains("sign_time=2024-03-02 07:50:19"));
//! assert_eq!(run.expected(&SCENARIOS[0]), -1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::callback::Endpoint;
use crate::ids::MerchantTransId;
use crate::shop::CancelAfterConfirm;

use super::{CallbackForm, Click};

/// The tool's `sign_time`: a fixed date in the past.
pub const SIGN_TIME: &str = "2024-03-02 07:50:19";
/// The amount the tool pays.
pub const AMOUNT: &str = "500";
/// The amount of the wrong-amount Complete.
pub const WRONG_AMOUNT: &str = "499";
/// The `merchant_prepare_id` of the Complete that names no transaction (scenario 10), unless a run
/// sets another.
pub const UNKNOWN_PREPARE_ID: i64 = 999_999_999;

/// What a scenario sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A signed Prepare of the chain's order; its answer names the chain's `merchant_prepare_id`.
    Prepare,
    /// A Prepare with a wrong `sign_string`.
    PrepareWithBadSignature,
    /// A signed Prepare of an order that does not exist.
    PrepareOfUnknownOrder,
    /// A Complete with a wrong `sign_string`.
    CompleteWithBadSignature,
    /// A signed Complete carrying the chain's `merchant_prepare_id`.
    Complete {
        /// Whether it sends [`WRONG_AMOUNT`] instead of [`AMOUNT`].
        wrong_amount: bool,
        /// Click's `error`: `0` confirms, a negative code cancels.
        error: i64,
    },
    /// A signed confirming Complete with a `merchant_prepare_id` that names no transaction.
    CompleteOfUnknownPrepareId,
}

/// One row of the tool's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scenario {
    /// Its number, 1 to 15.
    pub number: usize,
    /// Its chain, 0 to 2 (the tool stops between chains).
    pub chain: usize,
    /// The tool's fixed `click_trans_id`.
    pub click_trans_id: i64,
    /// What it sends.
    pub step: Step,
    /// The answer it expects with [`CancelAfterConfirm::AlreadyPaid`] (the default).
    pub expected: i32,
    /// What it checks, in English.
    pub english: &'static str,
    /// What it checks, in Russian, as the tool's users read it.
    pub russian: &'static str,
}

const fn scenario(
    number: usize,
    chain: usize,
    click_trans_id: i64,
    step: Step,
    expected: i32,
    english: &'static str,
    russian: &'static str,
) -> Scenario {
    Scenario {
        number,
        chain,
        click_trans_id,
        step,
        expected,
        english,
        russian,
    }
}

const CONFIRM: Step = Step::Complete {
    wrong_amount: false,
    error: 0,
};

/// The tool's 15 scenarios, in its order.
pub const SCENARIOS: [Scenario; 15] = [
    scenario(
        1,
        0,
        27147,
        Step::PrepareWithBadSignature,
        -1,
        "Prepare with a wrong signature",
        "Prepare с неверной подписью",
    ),
    scenario(
        2,
        0,
        18409,
        Step::Prepare,
        0,
        "Prepare: the order is payable",
        "Prepare: успешная проверка заказа",
    ),
    scenario(
        3,
        0,
        26021,
        Step::CompleteWithBadSignature,
        -1,
        "Complete with a wrong signature",
        "Complete с неверной подписью",
    ),
    scenario(
        4,
        0,
        73907,
        Step::Complete {
            wrong_amount: true,
            error: 0,
        },
        -2,
        "Complete with a wrong amount (499 instead of 500)",
        "Complete с неверной суммой (499 вместо 500)",
    ),
    scenario(
        5,
        0,
        11994,
        CONFIRM,
        0,
        "Complete: the payment is confirmed",
        "Complete: успешное подтверждение платежа",
    ),
    scenario(
        6,
        0,
        64307,
        CONFIRM,
        -4,
        "Complete again: already paid",
        "Повторный Complete: платёж уже проведён",
    ),
    scenario(
        7,
        0,
        41357,
        Step::Complete {
            wrong_amount: false,
            error: -1,
        },
        -4,
        "Cancel (error -1) of the paid payment",
        "Отмена (error = -1) проведённого платежа",
    ),
    scenario(
        8,
        1,
        77816,
        Step::PrepareOfUnknownOrder,
        -5,
        "Prepare of an unknown merchant_trans_id",
        "Prepare с несуществующим merchant_trans_id",
    ),
    scenario(
        9,
        1,
        66675,
        Step::Prepare,
        0,
        "Prepare: the order is payable",
        "Prepare: успешная проверка заказа",
    ),
    scenario(
        10,
        1,
        26216,
        Step::CompleteOfUnknownPrepareId,
        -6,
        "Complete with an unknown merchant_prepare_id",
        "Complete с несуществующим merchant_prepare_id",
    ),
    scenario(
        11,
        1,
        27051,
        CONFIRM,
        0,
        "Complete: the payment is confirmed",
        "Complete: успешное подтверждение платежа",
    ),
    scenario(
        12,
        2,
        54679,
        Step::Prepare,
        0,
        "Prepare: the order is payable",
        "Prepare: успешная проверка заказа",
    ),
    scenario(
        13,
        2,
        19936,
        Step::Complete {
            wrong_amount: false,
            error: -5017,
        },
        -9,
        "Cancel (error -5017) of the prepared payment",
        "Отмена (error = -5017) платежа",
    ),
    scenario(
        14,
        2,
        57096,
        Step::Complete {
            wrong_amount: false,
            error: -5017,
        },
        -9,
        "Cancel again: already cancelled",
        "Повторная отмена платежа",
    ),
    scenario(
        15,
        2,
        16994,
        CONFIRM,
        -9,
        "Confirm (error 0) of the cancelled payment",
        "Подтверждение (error = 0) отменённого платежа",
    ),
];

/// A request a scenario sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The callback URL it goes to.
    pub endpoint: Endpoint,
    /// The form body, as the tool encodes it (`sign_time`'s space raw).
    pub body: String,
}

/// Why a scenario cannot be sent: its chain's Prepare answered no `merchant_prepare_id`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "scenario {scenario} needs the merchant_prepare_id of scenario {prepare}, which answered none"
)]
pub struct MissingPrepareId {
    /// The scenario that cannot be sent.
    pub scenario: usize,
    /// The Prepare it depends on.
    pub prepare: usize,
}

/// One run of the tool against a merchant: the `merchant_trans_id` of each chain (the same one
/// three times for an account), and the `merchant_prepare_id`s learnt so far.
#[derive(Debug, Clone)]
pub struct ToolRun {
    click: Click,
    orders: [MerchantTransId; 3],
    amounts: [(String, String); 3],
    id_offset: i64,
    unknown_order: String,
    unknown_prepare_id: i64,
    cancel_after_confirm: CancelAfterConfirm,
    prepare_ids: [Option<i64>; 3],
}

impl ToolRun {
    /// A run of the tool exactly as Click ships it, for the chains' orders.
    pub fn new(click: Click, orders: [MerchantTransId; 3]) -> Self {
        let unknown_order = format!("click-tool-unknown-{}", orders[1]);
        Self {
            click,
            orders,
            amounts: [(); 3].map(|()| (AMOUNT.to_owned(), WRONG_AMOUNT.to_owned())),
            id_offset: 0,
            unknown_order,
            unknown_prepare_id: UNKNOWN_PREPARE_ID,
            cancel_after_confirm: CancelAfterConfirm::default(),
            prepare_ids: [None; 3],
        }
    }

    /// Pays each chain this amount instead of [`AMOUNT`] (the wrong amount is one so'm less, or
    /// more for one so'm or less): the tool's table over a merchant's own orders.
    #[must_use]
    pub fn amounts(mut self, amounts: [crate::Amount; 3]) -> Self {
        self.amounts = amounts.map(|amount| {
            let tiyin = amount.tiyin().get();
            let wrong = if tiyin > 100 {
                tiyin - 100
            } else {
                tiyin + 100
            };
            let wrong = crate::Amount::from_tiyin(crate::Tiyin(wrong)).unwrap_or(amount);
            (amount.to_string(), wrong.to_string())
        });
        self
    }

    /// Adds `offset` to every fixed `click_trans_id` (fresh ids for a run that must not meet the
    /// tool's own).
    #[must_use]
    pub fn id_offset(mut self, offset: i64) -> Self {
        self.id_offset = offset;
        self
    }

    /// The `merchant_trans_id` of the unknown-order scenario, and the `merchant_prepare_id` of the
    /// unknown-transaction one (the tool draws both at random).
    #[must_use]
    pub fn unknown(
        mut self,
        merchant_trans_id: impl Into<String>,
        merchant_prepare_id: i64,
    ) -> Self {
        self.unknown_order = merchant_trans_id.into();
        self.unknown_prepare_id = merchant_prepare_id;
        self
    }

    /// The answer the merchant gives to a cancel of a confirmed payment (scenario 7).
    #[must_use]
    pub fn cancel_after_confirm(mut self, answer: CancelAfterConfirm) -> Self {
        self.cancel_after_confirm = answer;
        self
    }

    /// The `click_trans_id` a scenario sends in this run.
    pub fn click_trans_id(&self, scenario: &Scenario) -> i64 {
        scenario.click_trans_id.saturating_add(self.id_offset)
    }

    /// The answer a scenario expects from this merchant.
    pub fn expected(&self, scenario: &Scenario) -> i32 {
        match (scenario.number, self.cancel_after_confirm) {
            (7, CancelAfterConfirm::Cancelled) => -9,
            _ => scenario.expected,
        }
    }

    /// The request a scenario sends.
    ///
    /// # Errors
    ///
    /// The scenario is a Complete whose chain's Prepare answered no `merchant_prepare_id`.
    pub fn request(&self, scenario: &Scenario) -> Result<Request, MissingPrepareId> {
        let id = self.click_trans_id(scenario);
        let chain = scenario.chain;
        let order = self.orders[chain].as_str();
        let (amount, wrong) = &self.amounts[chain];
        let prepare_id = || {
            self.prepare_ids[chain].ok_or(MissingPrepareId {
                scenario: scenario.number,
                prepare: SCENARIOS
                    .iter()
                    .find(|s| s.chain == chain && s.step == Step::Prepare)
                    .map_or(0, |s| s.number),
            })
        };
        let (endpoint, form) = match scenario.step {
            Step::Prepare => (Endpoint::Prepare, self.prepare(id, order, amount)),
            Step::PrepareWithBadSignature => (
                Endpoint::Prepare,
                self.bad_signature(self.prepare(id, order, amount)),
            ),
            Step::PrepareOfUnknownOrder => (
                Endpoint::Prepare,
                self.prepare(id, &self.unknown_order, amount),
            ),
            Step::CompleteWithBadSignature => (
                Endpoint::Complete,
                self.bad_signature(self.complete(id, order, prepare_id()?, amount, 0)),
            ),
            Step::Complete {
                wrong_amount,
                error,
            } => {
                let amount = if wrong_amount { wrong } else { amount };
                (
                    Endpoint::Complete,
                    self.complete(id, order, prepare_id()?, amount, error),
                )
            }
            Step::CompleteOfUnknownPrepareId => (
                Endpoint::Complete,
                self.complete(id, order, self.unknown_prepare_id, amount, 0),
            ),
        };
        Ok(Request {
            endpoint,
            body: form.encode(),
        })
    }

    /// Records a scenario's answer: a Prepare's `merchant_prepare_id` is what the chain's
    /// Completes carry.
    pub fn answered(&mut self, scenario: &Scenario, merchant_prepare_id: Option<i64>) {
        if scenario.step == Step::Prepare {
            self.prepare_ids[scenario.chain] = merchant_prepare_id;
        }
    }

    fn prepare(&self, id: i64, order: &str, amount: &str) -> CallbackForm {
        self.tool_fields(self.click.prepare(id, order, amount))
            .set("merchant_prepare_id", "")
    }

    fn complete(
        &self,
        id: i64,
        order: &str,
        prepare_id: i64,
        amount: &str,
        error: i64,
    ) -> CallbackForm {
        self.tool_fields(self.click.complete(id, order, prepare_id, amount, error))
    }

    /// The tool's `sign_time`, sent with its space raw, `error_note=Ok`, and `click_paydoc_id`
    /// equal to `click_trans_id`; signed again.
    fn tool_fields(&self, form: CallbackForm) -> CallbackForm {
        let id = form.get("click_trans_id").unwrap_or_default().to_owned();
        self.click.sign(
            form.set("click_paydoc_id", id)
                .set("error_note", "Ok")
                .set("sign_time", SIGN_TIME)
                .unencoded("sign_time"),
        )
    }
}

impl ToolRun {
    /// The form signed with a secret that is not the merchant's: a well-formed, wrong digest.
    fn bad_signature(&self, form: CallbackForm) -> CallbackForm {
        let stranger = Click::new(
            self.click.service_id(),
            crate::SecretKey::new("not the merchant's secret"),
        );
        stranger.sign(form)
    }
}
