//! The Merchant API's `Auth` header: `merchant_user_id:sha1_hex(timestamp + secret_key):timestamp`.

use axum::http::HeaderValue;
use click_core::MerchantUserId;
use sha1::{Digest, Sha1};

use super::MockConfig;

/// Checks an `Auth` header against the mock's credentials at mock time `now` (unix seconds).
///
/// The error is the `error_note` of the 401 answer: it says what is wrong, never the expected digest.
pub(super) fn verify_auth(
    header: Option<&HeaderValue>,
    config: &MockConfig,
    now: i64,
) -> Result<(), String> {
    let header = header.ok_or("missing Auth header")?;
    let malformed =
        || "malformed Auth header: expected merchant_user_id:digest:timestamp".to_owned();
    let text = header.to_str().map_err(|_| malformed())?;
    let mut parts = text.split(':');
    let (Some(user), Some(digest), Some(timestamp), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let user: MerchantUserId = user.parse().map_err(|_| malformed())?;
    if timestamp.len() != 10 || !timestamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(
            "malformed Auth header: the timestamp must be 10 digits of unix seconds".into(),
        );
    }
    if user != config.merchant_user_id {
        return Err("unknown merchant_user_id".into());
    }
    if digest != auth_digest(timestamp, config.secret_key.expose()) {
        return Err("wrong digest".into());
    }
    let sent: i64 = timestamp.parse().map_err(|_| malformed())?;
    let skew = sent.abs_diff(now);
    if skew > config.max_skew.as_secs() {
        return Err(format!(
            "stale timestamp: {sent} is {skew} s away from the server's clock ({now})"
        ));
    }
    Ok(())
}

/// `sha1(timestamp + secret_key)` in lowercase hex.
fn auth_digest(timestamp: &str, secret: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(timestamp);
    sha.update(secret);
    hex::encode(sha.finalize())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use click_core::{SecretKey, ServiceId};

    use super::*;

    const NOW: i64 = 1_519_051_543;

    fn config() -> MockConfig {
        MockConfig {
            service_id: ServiceId::new(101),
            merchant_user_id: MerchantUserId::new(123),
            secret_key: SecretKey::new("secret"),
            max_skew: Duration::from_secs(300),
            sms_code: None,
        }
    }

    fn check(header: &str, now: i64) -> Result<(), String> {
        verify_auth(
            Some(&HeaderValue::from_str(header).expect("ASCII")),
            &config(),
            now,
        )
    }

    #[test]
    fn digest_is_sha1_of_timestamp_then_secret() {
        // `printf '%s' 1519051543secret | sha1sum`
        assert_eq!(
            auth_digest("1519051543", "secret"),
            "342712d77c0fe30bfe18e34b81dcb1833feb485e"
        );
    }

    #[test]
    fn accepts_a_fresh_header_within_the_skew() {
        let header = "123:342712d77c0fe30bfe18e34b81dcb1833feb485e:1519051543";
        assert_eq!(check(header, NOW), Ok(()));
        assert_eq!(check(header, NOW + 300), Ok(()));
        assert_eq!(check(header, NOW - 300), Ok(()));
    }

    #[test]
    fn refuses_every_wrong_part() {
        let refused = [
            "123:342712d77c0fe30bfe18e34b81dcb1833feb485e:1519051543:",
            "123:342712d77c0fe30bfe18e34b81dcb1833feb485e",
            "0123:342712d77c0fe30bfe18e34b81dcb1833feb485e:1519051543",
            "124:342712d77c0fe30bfe18e34b81dcb1833feb485e:1519051543",
            "123:342712D77C0FE30BFE18E34B81DCB1833FEB485E:1519051543",
            "123:342712d77c0fe30bfe18e34b81dcb1833feb485e:151905154",
            "123:342712d77c0fe30bfe18e34b81dcb1833feb485e:+519051543",
        ];
        for header in refused {
            assert!(check(header, NOW).is_err(), "{header}");
        }
        let header = "123:342712d77c0fe30bfe18e34b81dcb1833feb485e:1519051543";
        let stale = check(header, NOW + 301).err().unwrap_or_default();
        assert!(stale.contains("301 s away"), "{stale}");
        assert!(!stale.contains("342712"), "{stale}");
        assert_eq!(
            verify_auth(None, &config(), NOW),
            Err("missing Auth header".to_owned())
        );
    }
}
