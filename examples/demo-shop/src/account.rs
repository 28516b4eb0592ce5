//! `--account ID[:MIN-MAX]`: an account topped up by any number of payments.

use std::str::FromStr;

use click_core::{Amount, MerchantTransId, Order};

/// An account the demo accepts top-ups for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountSpec {
    /// The `merchant_trans_id` (a login, a personal account).
    pub(crate) id: MerchantTransId,
    /// What the lookup answers: an account with its limits.
    pub(crate) order: Order,
}

impl FromStr for AccountSpec {
    type Err = String;

    /// `ID` accepts any positive amount; `ID:MIN-MAX` a range. An id may itself contain colons:
    /// only a last part that reads as a range is one.
    fn from_str(text: &str) -> Result<Self, String> {
        let limits = text.rsplit_once(':').and_then(|(id, range)| {
            let (min, max) = range.split_once('-')?;
            Some((id, min.parse::<Amount>().ok()?, max.parse::<Amount>().ok()?))
        });
        let (id, order) = match limits {
            Some((_, min, max)) if min > max => {
                return Err(format!(
                    "{text:?}: the smallest top-up is above the largest"
                ));
            }
            Some((id, min, max)) => (id, Order::Account { min, max }),
            None => (text, Order::account()),
        };
        let id = id
            .parse()
            .map_err(|error| format!("{text:?}: not a merchant_trans_id: {error}"))?;
        Ok(Self { id, order })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_an_id_and_optional_limits() {
        let any: AccountSpec = "123".parse().expect("an account");
        assert_eq!(any.order, Order::account());
        let ranged: AccountSpec = "shop:user:1000-50000.50".parse().expect("an account");
        assert_eq!(ranged.id.as_str(), "shop:user");
        assert_eq!(
            ranged.order,
            Order::Account {
                min: "1000".parse().expect("amount"),
                max: "50000.50".parse().expect("amount"),
            }
        );
        let colon: AccountSpec = "a:b".parse().expect("an account");
        assert_eq!(colon.id.as_str(), "a:b");
        assert!("x:500-100".parse::<AccountSpec>().is_err());
        assert!("".parse::<AccountSpec>().is_err());
    }
}
