//! Money: [`Amount`] in so'm with at most two decimals, and [`Tiyin`] for fiscal data.
//!
//! Click sends amounts as the literal text of the payment link (`1000`, `1000.0`, `1000.00`,
//! `1500.5`). [`Amount`]'s parser accepts exactly `^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$` *before* any
//! decimal arithmetic, because `Decimal::from_str` alone accepts `1e3`, `+1000`, `.5` and `1_000`
//! and silently rounds over-precise input. Amounts compare by value, so `1000 == 1000.00`; a signature
//! is computed over the received text, which [`crate::callback`] keeps beside the value.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Why a text or a decimal is not a valid amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// The text was empty.
    #[error("empty amount")]
    Empty,
    /// A negative value.
    #[error("negative amount")]
    Negative,
    /// More than two decimal places (tiyin are the smallest unit).
    #[error("more than two decimal places")]
    TooPrecise,
    /// More than 15 integer digits.
    #[error("amount too large")]
    TooLarge,
    /// Anything else that is not `digits[.d[d]]`: exponents, signs, spaces, separators, non-ASCII
    /// digits, `NaN`, `inf`, leading zeros.
    #[error("malformed amount")]
    Malformed,
}

/// A non-negative amount of so'm with at most two decimals (whole tiyin).
///
/// ```
/// use click_core::Amount;
///
/// let a: Amount = "1500.5".parse()?;
/// assert_eq!(a, "1500.50".parse()?);
/// assert_eq!(a.to_string(), "1500.50"); // `N.NN`, as payment links want it
/// assert_eq!(a.tiyin().get(), 150_050);
/// assert!("1e3".parse::<Amount>().is_err());
/// # Ok::<(), click_core::AmountError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount {
    /// The value in tiyin; the amount is `tiyin / 100` so'm.
    tiyin: u64,
}

impl Amount {
    /// The largest amount: fifteen integer digits.
    pub const MAX: Amount = Amount {
        tiyin: 99_999_999_999_999_999,
    };

    /// Zero so'm.
    pub const ZERO: Amount = Amount { tiyin: 0 };

    /// The smallest positive amount, one tiyin.
    pub const ONE_TIYIN: Amount = Amount { tiyin: 1 };

    /// An amount of whole so'm.
    ///
    /// # Errors
    ///
    /// [`AmountError::TooLarge`] past [`Amount::MAX`].
    pub fn from_som(som: u64) -> Result<Self, AmountError> {
        som.checked_mul(100)
            .map(Tiyin)
            .ok_or(AmountError::TooLarge)
            .and_then(Self::from_tiyin)
    }

    /// An amount of tiyin (1 so'm = 100 tiyin).
    ///
    /// # Errors
    ///
    /// [`AmountError::TooLarge`] past [`Amount::MAX`].
    pub fn from_tiyin(tiyin: Tiyin) -> Result<Self, AmountError> {
        if tiyin.0 > Self::MAX.tiyin {
            Err(AmountError::TooLarge)
        } else {
            Ok(Self { tiyin: tiyin.0 })
        }
    }

    /// The value as a decimal number of so'm, with scale 2.
    pub fn value(self) -> Decimal {
        // `tiyin` is at most 10^17, far inside the 96-bit mantissa.
        Decimal::from_i128_with_scale(i128::from(self.tiyin), 2)
    }

    /// The value in tiyin, for OFD fiscal data. Every valid amount converts exactly.
    pub fn tiyin(self) -> Tiyin {
        Tiyin(self.tiyin)
    }
}

impl TryFrom<Decimal> for Amount {
    type Error = AmountError;

    /// Checks a decimal: non-negative, at most two decimals, at most [`Amount::MAX`].
    fn try_from(value: Decimal) -> Result<Self, AmountError> {
        Tiyin::try_from(value).and_then(Self::from_tiyin)
    }
}

impl FromStr for Amount {
    type Err = AmountError;

    /// Parses the strict grammar `^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$`.
    fn from_str(text: &str) -> Result<Self, AmountError> {
        let (int, frac) = match text.split_once('.') {
            Some((int, frac)) => (int, Some(frac)),
            None => (text, None),
        };
        if text.is_empty() {
            return Err(AmountError::Empty);
        }
        if text.starts_with('-') && text.len() > 1 {
            return Err(AmountError::Negative);
        }
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int) || (int.len() > 1 && int.starts_with('0')) {
            return Err(AmountError::Malformed);
        }
        let frac = match frac {
            None => "",
            Some(frac) if !all_digits(frac) => return Err(AmountError::Malformed),
            Some(frac) if frac.len() > 2 => return Err(AmountError::TooPrecise),
            Some(frac) => frac,
        };
        if int.len() > 15 {
            return Err(AmountError::TooLarge);
        }
        let digits = |s: &str| {
            s.bytes()
                .fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0'))
        };
        let cents = match frac.len() {
            0 => 0,
            1 => digits(frac) * 10,
            _ => digits(frac),
        };
        // At most 15 digits times 100 plus 99: no overflow.
        Ok(Self {
            tiyin: digits(int) * 100 + cents,
        })
    }
}

impl fmt::Display for Amount {
    /// Formats as `N.NN`, the form payment links ask for.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.tiyin / 100, self.tiyin % 100)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({self})")
    }
}

/// An amount in tiyin (1 so'm = 100 tiyin), the unit of OFD fiscal data.
///
/// ```
/// use click_core::Tiyin;
/// use rust_decimal::Decimal;
///
/// assert_eq!(Tiyin::try_from(Decimal::new(150_050, 2)).map(Tiyin::get), Ok(150_050));
/// assert!(Tiyin::try_from(Decimal::new(10_001, 3)).is_err()); // 10.001 so'm
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tiyin(pub u64);

impl Tiyin {
    /// The number of tiyin.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl TryFrom<Decimal> for Tiyin {
    type Error = AmountError;

    /// Converts so'm to tiyin, refusing negative values, more than two decimals and overflow.
    fn try_from(som: Decimal) -> Result<Self, AmountError> {
        if som.is_sign_negative() && !som.is_zero() {
            return Err(AmountError::Negative);
        }
        let scaled = som
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or(AmountError::TooLarge)?;
        if !scaled.fract().is_zero() {
            return Err(AmountError::TooPrecise);
        }
        scaled.to_u64().map(Tiyin).ok_or(AmountError::TooLarge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Result<Amount, AmountError> {
        text.parse()
    }

    /// docs/protocol.md, bad input 33: every form Click sends compares equal by value.
    #[test]
    fn parses_every_form_click_sends() {
        assert_eq!(amount("1000"), amount("1000.0"));
        assert_eq!(amount("1000"), amount("1000.00"));
        assert_eq!(amount("1500.5"), amount("1500.50"));
        assert_eq!(amount("0").map(Amount::tiyin), Ok(Tiyin(0)));
        assert_eq!(amount("0.01").map(Amount::tiyin), Ok(Tiyin(1)));
        assert_eq!(amount("999999999999999.99"), Ok(Amount::MAX));
        assert_eq!(
            amount("1000.00").map(Amount::value),
            Ok(Decimal::new(100_000, 2))
        );
    }

    /// docs/protocol.md, bad inputs 37–41: negative, exotic and over-precise forms are refused, including
    /// every form that `Decimal::from_str` would accept.
    #[test]
    fn rejects_what_click_never_sends() {
        for text in ["-0", "-1000", "-0.5"] {
            assert_eq!(amount(text), Err(AmountError::Negative), "{text:?}");
        }
        for text in ["1000.001", "1000.0000000000000000000000000001"] {
            assert_eq!(amount(text), Err(AmountError::TooPrecise), "{text:?}");
        }
        for text in [
            "1e3", "1E3", "1_000", "+1000", ".5", "1000.", "00001000", " 1000", "1000 ",
            "1,000.00", "١٠٠٠", "0x3E8", "NaN", "nan", "inf", "-", "1..0", "1.2.3", "1.-1", "1.+1",
            "0.1e1",
        ] {
            assert_eq!(amount(text), Err(AmountError::Malformed), "{text:?}");
        }
        assert_eq!(amount(""), Err(AmountError::Empty));
        assert_eq!(amount("1234567890123456"), Err(AmountError::TooLarge));
        assert_eq!(
            amount(&"9".repeat(29)),
            Err(AmountError::TooLarge),
            "bad input 40: 29 digits"
        );
    }

    /// docs/protocol.md, bad input 93: links want `N.NN`.
    #[test]
    fn formats_two_decimals() {
        assert_eq!(
            amount("1000").map(|a| a.to_string()).as_deref(),
            Ok("1000.00")
        );
        assert_eq!(
            amount("1500.5").map(|a| a.to_string()).as_deref(),
            Ok("1500.50")
        );
        assert_eq!(amount("0.07").map(|a| a.to_string()).as_deref(), Ok("0.07"));
    }

    #[test]
    fn converts_decimals_with_checks() {
        assert_eq!(
            Amount::try_from(Decimal::new(150_050, 2)),
            amount("1500.50")
        );
        assert_eq!(Amount::try_from(Decimal::new(15_005, 1)), amount("1500.5"));
        assert_eq!(
            Amount::try_from(Decimal::new(1_500_500, 3)),
            amount("1500.5"),
            "trailing zero decimals are exact"
        );
        assert_eq!(
            Amount::try_from(Decimal::new(-1, 0)),
            Err(AmountError::Negative)
        );
        assert_eq!(
            Amount::try_from(Decimal::new(1, 3)),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(Amount::try_from(Decimal::MAX), Err(AmountError::TooLarge));
        assert_eq!(Tiyin::try_from(Decimal::ZERO), Ok(Tiyin(0)));
        assert_eq!(
            Tiyin::try_from(Decimal::NEGATIVE_ONE),
            Err(AmountError::Negative)
        );
        assert_eq!(
            Amount::from_som(1000).map(Amount::tiyin),
            Ok(Tiyin(100_000))
        );
        assert_eq!(Amount::from_som(u64::MAX), Err(AmountError::TooLarge));
        assert_eq!(
            Amount::from_tiyin(Tiyin(Amount::MAX.tiyin().get() + 1)),
            Err(AmountError::TooLarge)
        );
    }

    #[test]
    fn orders_by_value() {
        assert!(amount("999.99").ok() < amount("1000").ok());
        assert_ne!(amount("999.99"), amount("1000.00"));
    }
}
