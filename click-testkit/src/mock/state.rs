//! What the mock remembers: invoices, payments, card tokens, the confirm mode and OFD data.

use std::collections::{BTreeMap, HashMap};

use click_core::{Amount, ClickPaydocId, MerchantTransId, Tiyin};
use sha1::{Digest, Sha1};

use super::pay::PayInvoiceError;
use super::records::{Invoice, InvoiceStatus, OfdRecord, Payment};
use super::reply::{
    ALREADY_REVERSED, CONFIRM_TOO_LATE, INCORRECT_AMOUNT, INVOICE_NOT_FOUND, NOT_CONFIRMABLE,
    NOT_REVERSIBLE, OTP_USED, PAYMENT_NOT_FOUND, Refusal, TOKEN_NOT_FOUND, TOKEN_NOT_VERIFIED,
    WRONG_SMS_CODE,
};

/// The first invoice or payment id minus one: ids are beyond 32 bits, as Click's are.
const FIRST_ID: i64 = 4_300_000_000;
/// The first `click_trans_id` minus one.
const FIRST_CLICK_TRANS_ID: i64 = 3_600_000_000;
/// How long a Click Pass payment in confirm mode waits for its confirmation, in seconds.
const CONFIRM_WINDOW: i64 = 30;

/// The day (`YYYY-MM-DD`) in Tashkent (UTC+5, no daylight saving) at a Unix time.
pub(super) fn tashkent_day(unix_secs: i64) -> String {
    let tashkent = time::UtcOffset::from_hms(5, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let date = time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(tashkent)
        .date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A card token from `card_token/request`.
#[derive(Debug, Clone)]
pub(super) struct CardToken {
    /// The card number masked as Click shows it: `860055******3244`.
    pub(super) masked_card: String,
    pub(super) temporary: bool,
    pub(super) verified: bool,
    pub(super) sms_code: String,
}

/// Everything the mock remembers.
#[derive(Debug)]
pub(super) struct State {
    last_id: i64,
    last_click_trans_id: i64,
    tokens_issued: u64,
    invoices: HashMap<i64, Invoice>,
    /// Ordered by id, so the last one of a `merchant_trans_id` is the newest.
    payments: BTreeMap<ClickPaydocId, Payment>,
    tokens: HashMap<String, CardToken>,
    /// Whether Click Pass payments need `click_pass/confirm`.
    pub(super) confirm_mode: bool,
    ofd: HashMap<ClickPaydocId, OfdRecord>,
    /// Click Pass codes that paid: each pays once.
    used_otps: std::collections::HashSet<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            last_id: FIRST_ID,
            last_click_trans_id: FIRST_CLICK_TRANS_ID,
            tokens_issued: 0,
            invoices: HashMap::new(),
            payments: BTreeMap::new(),
            tokens: HashMap::new(),
            confirm_mode: false,
            ofd: HashMap::new(),
            used_otps: std::collections::HashSet::new(),
        }
    }
}

impl State {
    /// A fresh invoice or payment id.
    fn next_id(&mut self) -> i64 {
        self.last_id += 1;
        self.last_id
    }

    /// A fresh payment id, reserved for a payment created later.
    pub(super) fn next_payment_id(&mut self) -> ClickPaydocId {
        ClickPaydocId::new(self.next_id())
    }

    /// A fresh `click_trans_id` for a callback.
    pub(super) fn next_click_trans_id(&mut self) -> i64 {
        self.last_click_trans_id += 1;
        self.last_click_trans_id
    }

    /// Cancels every Click Pass payment whose confirmation window closed before `now`.
    pub(super) fn expire(&mut self, now: i64) {
        for payment in self.payments.values_mut() {
            if payment.needs_confirm
                && payment.status == Payment::PROCESSING
                && now - payment.created_at > CONFIRM_WINDOW
            {
                payment.status = Payment::CANCELLED;
            }
        }
    }

    pub(super) fn create_invoice(
        &mut self,
        amount: Amount,
        phone_number: String,
        merchant_trans_id: MerchantTransId,
    ) -> i64 {
        let id = self.next_id();
        let invoice = Invoice {
            id,
            amount,
            phone_number,
            merchant_trans_id,
            status: InvoiceStatus::Waiting,
        };
        self.invoices.insert(id, invoice);
        id
    }

    pub(super) fn invoice(&self, id: i64) -> Result<&Invoice, Refusal> {
        self.invoices.get(&id).ok_or(INVOICE_NOT_FOUND)
    }

    /// Marks an invoice deleted; false if there is no such invoice.
    pub(super) fn delete_invoice(&mut self, id: i64) -> bool {
        self.invoices
            .get_mut(&id)
            .map(|invoice| invoice.status = InvoiceStatus::Deleted)
            .is_some()
    }

    /// An invoice that waits for payment.
    pub(super) fn payable_invoice(&self, id: i64) -> Result<&Invoice, PayInvoiceError> {
        match self.invoices.get(&id) {
            None => Err(PayInvoiceError::UnknownInvoice(id)),
            Some(invoice) if invoice.status != InvoiceStatus::Waiting => {
                Err(PayInvoiceError::NotWaiting(id))
            }
            Some(invoice) => Ok(invoice),
        }
    }

    /// Marks a waiting invoice paid and records the paid payment `payment_id` for it.
    pub(super) fn pay_invoice(
        &mut self,
        now: i64,
        id: i64,
        payment_id: ClickPaydocId,
    ) -> Result<ClickPaydocId, PayInvoiceError> {
        let invoice = self.payable_invoice(id)?;
        let (amount, merchant_trans_id) = (invoice.amount, invoice.merchant_trans_id.clone());
        self.insert_payment(
            now,
            payment_id,
            amount,
            Some(merchant_trans_id),
            Payment::PAID,
        );
        if let Some(invoice) = self.invoices.get_mut(&id) {
            invoice.status = InvoiceStatus::Paid;
        }
        Ok(payment_id)
    }

    fn insert_payment(
        &mut self,
        now: i64,
        id: ClickPaydocId,
        amount: Amount,
        merchant_trans_id: Option<MerchantTransId>,
        status: i64,
    ) -> &Payment {
        self.payments.entry(id).or_insert(Payment {
            id,
            amount,
            reversed: Amount::ZERO,
            status,
            merchant_trans_id,
            created_at: now,
            needs_confirm: status == Payment::PROCESSING,
        })
    }

    pub(super) fn payment(&self, id: ClickPaydocId) -> Result<&Payment, Refusal> {
        self.payments.get(&id).ok_or(PAYMENT_NOT_FOUND)
    }

    pub(super) fn payment_mut(&mut self, id: ClickPaydocId) -> Result<&mut Payment, Refusal> {
        self.payments.get_mut(&id).ok_or(PAYMENT_NOT_FOUND)
    }

    /// The newest payment of a `merchant_trans_id` created on `date` (`YYYY-MM-DD`, Tashkent).
    pub(super) fn payment_by_mti(
        &self,
        id: &MerchantTransId,
        date: &str,
    ) -> Result<&Payment, Refusal> {
        self.payments
            .values()
            .rev()
            .find(|payment| {
                payment.merchant_trans_id.as_ref() == Some(id)
                    && tashkent_day(payment.created_at) == date
            })
            .ok_or(PAYMENT_NOT_FOUND)
    }

    /// Records a payment Click made through the SHOP-API (a debit), in `status`.
    pub(super) fn record_payment(
        &mut self,
        now: i64,
        amount: Amount,
        merchant_trans_id: MerchantTransId,
        status: i64,
    ) -> ClickPaydocId {
        let id = self.next_payment_id();
        self.insert_payment(now, id, amount, Some(merchant_trans_id), status);
        id
    }

    /// Reverses a paid payment: all of it, or `amount` of what is left of it. It is `REVERSED`
    /// once nothing is left.
    pub(super) fn reverse(
        &mut self,
        id: ClickPaydocId,
        amount: Option<Amount>,
    ) -> Result<(), Refusal> {
        let payment = self.payment_mut(id)?;
        match payment.status {
            Payment::PAID => {}
            Payment::REVERSED => return Err(ALREADY_REVERSED),
            _ => return Err(NOT_REVERSIBLE),
        }
        let left = payment.amount.tiyin().get() - payment.reversed.tiyin().get();
        let amount = amount.map_or(left, |amount| amount.tiyin().get());
        if amount == 0 || amount > left {
            return Err(INCORRECT_AMOUNT);
        }
        payment.reversed = Amount::from_tiyin(Tiyin(payment.reversed.tiyin().get() + amount))
            .map_err(|_| INCORRECT_AMOUNT)?;
        if amount == left {
            payment.status = Payment::REVERSED;
        }
        Ok(())
    }

    /// Issues a card token for a 16-digit card number, with `sms_code` as its SMS code (else one
    /// derived from the token); returns it.
    pub(super) fn request_token(
        &mut self,
        card_number: &str,
        temporary: bool,
        sms_code: Option<String>,
    ) -> String {
        self.tokens_issued += 1;
        let digest = Sha1::digest(format!("click-rs mock card token {}", self.tokens_issued));
        let hex = hex::encode_upper(digest);
        let token = format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        let code = u32::from_be_bytes([digest[16], digest[17], digest[18], digest[19]]);
        let masked_card = format!("{}******{}", &card_number[..6], &card_number[12..]);
        let card = CardToken {
            masked_card,
            temporary,
            verified: false,
            sms_code: sms_code.unwrap_or_else(|| format!("{:06}", code % 1_000_000)),
        };
        self.tokens.insert(token.clone(), card);
        token
    }

    pub(super) fn token(&self, token: &str) -> Result<&CardToken, Refusal> {
        self.tokens.get(token).ok_or(TOKEN_NOT_FOUND)
    }

    /// Verifies a token with its SMS code; returns the masked card number.
    /// A code sent as a JSON number has lost any leading zero, so it matches only a code without
    /// one; sent as digits, it must match them all.
    pub(super) fn verify_token(&mut self, token: &str, sms_code: &str) -> Result<String, Refusal> {
        let card = self.tokens.get_mut(token).ok_or(TOKEN_NOT_FOUND)?;
        if card.sms_code != sms_code {
            return Err(WRONG_SMS_CODE);
        }
        card.verified = true;
        Ok(card.masked_card.clone())
    }

    /// Pays with a verified token; a temporary token is deleted afterwards.
    pub(super) fn pay_with_token(
        &mut self,
        now: i64,
        token: &str,
        amount: Amount,
        merchant_trans_id: MerchantTransId,
    ) -> Result<ClickPaydocId, Refusal> {
        let card = self.token(token)?;
        if !card.verified {
            return Err(TOKEN_NOT_VERIFIED);
        }
        if card.temporary {
            self.tokens.remove(token);
        }
        let id = self.next_payment_id();
        self.insert_payment(now, id, amount, Some(merchant_trans_id), Payment::PAID);
        Ok(id)
    }

    pub(super) fn delete_token(&mut self, token: &str) -> Result<(), Refusal> {
        self.tokens.remove(token).map(drop).ok_or(TOKEN_NOT_FOUND)
    }

    /// A Click Pass payment: processing until confirmed in confirm mode, else paid.
    pub(super) fn pay_with_click_pass(
        &mut self,
        now: i64,
        otp_data: &str,
        amount: Amount,
        merchant_trans_id: Option<MerchantTransId>,
    ) -> Result<&Payment, Refusal> {
        if !self.used_otps.insert(otp_data.to_owned()) {
            return Err(OTP_USED);
        }
        let id = self.next_payment_id();
        let status = if self.confirm_mode {
            Payment::PROCESSING
        } else {
            Payment::PAID
        };
        Ok(self.insert_payment(now, id, amount, merchant_trans_id, status))
    }

    /// Sets a card token's SMS code (to test a code with a leading zero).
    pub(super) fn set_sms_code(&mut self, token: &str, code: &str) -> bool {
        self.tokens
            .get_mut(token)
            .map(|card| card.sms_code = code.to_owned())
            .is_some()
    }

    /// Confirms a Click Pass payment (expired ones were cancelled by [`State::expire`]). Confirming
    /// a confirmed payment again succeeds, so a client may retry.
    pub(super) fn confirm(&mut self, id: ClickPaydocId) -> Result<(), Refusal> {
        let payment = self.payment_mut(id)?;
        match payment.status {
            _ if !payment.needs_confirm => Err(NOT_CONFIRMABLE),
            Payment::PROCESSING | Payment::PAID => {
                payment.status = Payment::PAID;
                Ok(())
            }
            Payment::CANCELLED => Err(CONFIRM_TOO_LATE),
            _ => Err(NOT_CONFIRMABLE),
        }
    }

    /// The OFD data of an existing payment, created empty on first use.
    pub(super) fn ofd_mut(&mut self, id: ClickPaydocId) -> Result<&mut OfdRecord, Refusal> {
        self.payment(id)?;
        Ok(self.ofd.entry(id).or_default())
    }

    pub(super) fn ofd(&self, id: ClickPaydocId) -> Option<&OfdRecord> {
        self.ofd.get(&id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Amount {
        text.parse().unwrap_or_else(|_| panic!("{text}"))
    }

    fn paid(state: &mut State, text: &str) -> ClickPaydocId {
        let id = state.next_payment_id();
        state.insert_payment(0, id, amount(text), None, Payment::PAID);
        id
    }

    #[test]
    fn partial_reversals_add_up_to_a_full_one() {
        let mut state = State::default();
        let id = paid(&mut state, "1000");
        assert_eq!(state.reverse(id, Some(amount("0"))), Err(INCORRECT_AMOUNT));
        assert_eq!(
            state.reverse(id, Some(amount("1000.01"))),
            Err(INCORRECT_AMOUNT)
        );
        assert_eq!(state.reverse(id, Some(amount("400.50"))), Ok(()));
        assert_eq!(state.payment(id).map(|p| p.status), Ok(Payment::PAID));
        assert_eq!(
            state.reverse(id, Some(amount("600"))),
            Err(INCORRECT_AMOUNT)
        );
        assert_eq!(state.reverse(id, None), Ok(()));
        assert_eq!(
            state.payment(id).map(|p| (p.status, p.reversed)),
            Ok((Payment::REVERSED, amount("1000")))
        );
        assert_eq!(state.reverse(id, None), Err(ALREADY_REVERSED));
    }

    #[test]
    fn click_pass_in_confirm_mode_expires_after_30_seconds() {
        let mut state = State {
            confirm_mode: true,
            ..State::default()
        };
        let late = state
            .pay_with_click_pass(1000, "a", amount("5"), None)
            .map(|p| p.id);
        let early = state
            .pay_with_click_pass(1000, "b", amount("5"), None)
            .map(|p| p.id);
        let (late, early) = (late.expect("paid"), early.expect("paid"));
        state.expire(1030);
        assert_eq!(state.confirm(early), Ok(()));
        assert_eq!(state.confirm(early), Ok(()), "a retried confirm succeeds");
        state.expire(1031);
        assert_eq!(state.confirm(late), Err(CONFIRM_TOO_LATE));
        assert_eq!(
            state.payment(late).map(|p| p.status),
            Ok(Payment::CANCELLED)
        );
        state.confirm_mode = false;
        let plain = state
            .pay_with_click_pass(1000, "c", amount("5"), None)
            .map(|p| p.id)
            .expect("paid");
        assert_eq!(
            state
                .pay_with_click_pass(1000, "c", amount("5"), None)
                .err(),
            Some(OTP_USED),
            "a QR code pays once"
        );
        assert_eq!(state.confirm(plain), Err(NOT_CONFIRMABLE));
    }

    #[test]
    fn tokens_are_uuid_like_with_six_digit_codes() {
        let mut state = State::default();
        let token = state.request_token("8600551234563244", true, None);
        assert_eq!(token.len(), 36);
        assert_eq!(token.matches('-').count(), 4);
        let card = state.token(&token).cloned();
        assert_eq!(
            card.as_ref().map(|c| c.masked_card.as_str()),
            Ok("860055******3244")
        );
        assert_eq!(card.map(|c| c.sms_code.len()), Ok(6));
        assert_ne!(state.request_token("8600551234563244", true, None), token);
        let given = state.request_token("8600551234563244", false, Some("012345".into()));
        assert_eq!(
            state.token(&given).map(|c| c.sms_code.as_str()),
            Ok("012345")
        );
    }
}
