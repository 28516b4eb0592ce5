//! The MD5 `sign_string` of Prepare and Complete callbacks.
//!
//! ```text
//! Prepare:  md5(click_trans_id + service_id + secret_key + merchant_trans_id + amount + action + sign_time)
//! Complete: md5(click_trans_id + service_id + secret_key + merchant_trans_id + merchant_prepare_id
//!               + amount + action + sign_time)
//! ```
//!
//! The parts are concatenated without separators, each exactly as it arrived (`1000.00` and `1000`
//! hash differently). Verification decodes the received hex (either case) into 16 bytes and compares
//! them with [`subtle`]'s constant-time equality; a received text that is not 32 hex digits simply
//! fails to verify.

use std::fmt;

use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use crate::credentials::SecretKey;

/// An MD5 digest as Click sends it in `sign_string`. `==` compares in constant time.
#[derive(Clone, Copy)]
pub struct Signature([u8; 16]);

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other)
    }
}

impl Eq for Signature {}

impl Signature {
    /// Sixteen zero bytes: what malformed received hex is compared as (it never matches a real
    /// MD5 output by chance in practice, and verification also requires the hex to decode).
    pub(crate) const ZERO: Signature = Signature([0; 16]);

    /// Decodes 32 hex digits, upper or lower case. Anything else (empty, 31 or 33 digits, non-hex)
    /// is `None`.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// The digest as 32 lowercase hex digits, the form Click sends.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Compares two digests in constant time.
    pub fn matches(&self, other: &Signature) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A digest with the fields it covers is an offline brute-force oracle for the secret
        // (docs/protocol.md, bad input 91): never print it in full.
        f.write_str("Signature(..)")
    }
}

/// The wire form, 32 lowercase hex digits, for building requests. Never log it beside the fields
/// it covers.
impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The `sign_string` of a Prepare callback (action `0`), over the given exact strings.
///
/// ```
/// use click_core::{sign_prepare, SecretKey};
///
/// // printf '%s' '12345101s3cr3torder-11000.0002024-01-31 12:30:00' | md5sum
/// let sign = sign_prepare(
///     &SecretKey::new("s3cr3t"),
///     "12345",
///     "101",
///     "order-1",
///     "1000.00",
///     "2024-01-31 12:30:00",
/// );
/// assert_eq!(sign.to_hex(), "87190ad0e23d1f5a293b7d9f278a6c22");
/// ```
pub fn sign_prepare(
    secret: &SecretKey,
    click_trans_id: &str,
    service_id: &str,
    merchant_trans_id: &str,
    amount: &str,
    sign_time: &str,
) -> Signature {
    digest(&[
        click_trans_id,
        service_id,
        secret.expose(),
        merchant_trans_id,
        amount,
        "0",
        sign_time,
    ])
}

/// The `sign_string` of a Complete callback (action `1`), over the given exact strings.
pub fn sign_complete(
    secret: &SecretKey,
    click_trans_id: &str,
    service_id: &str,
    merchant_trans_id: &str,
    merchant_prepare_id: &str,
    amount: &str,
    sign_time: &str,
) -> Signature {
    digest(&[
        click_trans_id,
        service_id,
        secret.expose(),
        merchant_trans_id,
        merchant_prepare_id,
        amount,
        "1",
        sign_time,
    ])
}

fn digest(parts: &[&str]) -> Signature {
    let mut md5 = Md5::new();
    for part in parts {
        md5.update(part.as_bytes());
    }
    Signature(md5.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected digests below were computed outside this crate, with Python's hashlib:
    //   python3 -c "import hashlib; print(hashlib.md5(b'...').hexdigest())"
    // over the concatenation shown in each comment.

    const SECRET: &str = "s3cr3t_KEY";

    fn secret() -> SecretKey {
        SecretKey::new(SECRET)
    }

    #[test]
    fn prepare_vector() {
        // md5(b"3600000001" b"101" b"s3cr3t_KEY" b"order-42" b"1000.00" b"0" b"2024-01-31 12:30:00")
        let sign = sign_prepare(
            &secret(),
            "3600000001",
            "101",
            "order-42",
            "1000.00",
            "2024-01-31 12:30:00",
        );
        assert_eq!(sign.to_hex(), "3acb0ed2e10d3b06e6effeebc891d266");
    }

    #[test]
    fn complete_vector() {
        // md5(b"3600000001" b"101" b"s3cr3t_KEY" b"order-42" b"7" b"1000.00" b"1" b"2024-01-31 12:30:05")
        let sign = sign_complete(
            &secret(),
            "3600000001",
            "101",
            "order-42",
            "7",
            "1000.00",
            "2024-01-31 12:30:05",
        );
        assert_eq!(sign.to_hex(), "84bdf3dd038a85e9cce454890411891a");
    }

    /// docs/protocol.md, bad input 25: each amount form hashes its own raw text.
    #[test]
    fn amount_text_is_hashed_as_received() {
        // md5(b"1" b"101" b"s3cr3t_KEY" b"A" b"1000" b"0" b"2024-01-31 12:30:00")
        let plain = sign_prepare(&secret(), "1", "101", "A", "1000", "2024-01-31 12:30:00");
        // md5(b"1" b"101" b"s3cr3t_KEY" b"A" b"1000.00" b"0" b"2024-01-31 12:30:00")
        let padded = sign_prepare(&secret(), "1", "101", "A", "1000.00", "2024-01-31 12:30:00");
        assert_eq!(plain.to_hex(), "3cf9f7ecf3f0d6e81c27496601519688");
        assert_eq!(padded.to_hex(), "7d11d6b9fb934f045cd283ed82aad410");
    }

    /// docs/protocol.md, bad inputs 22, 23 and 32: hex in either case decodes to the same 16 bytes, which
    /// compare in constant time; malformed texts never decode.
    #[test]
    fn decodes_and_compares_sixteen_bytes() {
        let sign = sign_prepare(&secret(), "1", "101", "A", "1000", "2024-01-31 12:30:00");
        let upper = Signature::from_hex(&sign.to_hex().to_uppercase());
        assert_eq!(upper, Some(sign));
        assert!(upper.is_some_and(|upper| upper.matches(&sign)));
        let mut flipped = *sign.as_bytes();
        flipped[15] ^= 1;
        assert!(!Signature(flipped).matches(&sign));
        let zeros = format!("0e{}", "1".repeat(30));
        assert!(Signature::from_hex(&zeros).is_some_and(|z| !z.matches(&sign)));
        for bad in [
            "",
            "0",
            "0e0",
            &"a".repeat(31),
            &"a".repeat(33),
            &"g".repeat(32),
        ] {
            assert_eq!(Signature::from_hex(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_hides_the_digest() {
        let sign = sign_prepare(&secret(), "1", "101", "A", "1000", "2024-01-31 12:30:00");
        assert_eq!(format!("{sign:?}"), "Signature(..)");
    }
}
