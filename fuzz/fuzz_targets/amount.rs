//! The amount parser accepts exactly `^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$`, and what it accepts
//! round-trips through its `N.NN` form and its tiyin.
#![no_main]

use click_core::Amount;
use libfuzzer_sys::fuzz_target;

/// The grammar, written independently of the parser.
fn grammar(text: &str) -> bool {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(int)
        && int.len() <= 15
        && (int == "0" || !int.starts_with('0'))
        && frac.is_none_or(|f| digits(f) && f.len() <= 2)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = text.parse::<Amount>();
    assert_eq!(parsed.is_ok(), grammar(text), "{text:?}");
    if let Ok(amount) = parsed {
        assert_eq!(amount.to_string().parse::<Amount>(), Ok(amount));
        assert_eq!(Amount::from_tiyin(amount.tiyin()), Ok(amount));
    }
});
