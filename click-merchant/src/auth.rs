//! The `Auth` header: `merchant_user_id:sha1(timestamp + secret_key):timestamp`.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use click_core::{MerchantUserId, SecretKey};
use sha1::{Digest, Sha1};

/// The `Auth` header value for a request made at `timestamp` (UNIX seconds).
///
/// ```
/// use click_core::{MerchantUserId, SecretKey};
///
/// // printf '%s' '1519051543secret' | sha1sum
/// assert_eq!(
///     click_merchant::auth_header(MerchantUserId::new(123), &SecretKey::new("secret"), 1519051543),
///     "123:342712d77c0fe30bfe18e34b81dcb1833feb485e:1519051543"
/// );
/// ```
pub fn auth_header(merchant_user_id: MerchantUserId, secret: &SecretKey, timestamp: u64) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(timestamp.to_string().as_bytes());
    sha1.update(secret.expose().as_bytes());
    format!(
        "{merchant_user_id}:{}:{timestamp}",
        hex::encode(sha1.finalize())
    )
}

/// Where the client reads the time for `Auth` headers and deadlines: the system clock, or a test's.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> u64 + Send + Sync>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs())
        }))
    }

    /// A clock that reads `now` (UNIX seconds) each time: for tests.
    pub fn from_fn(now: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The current UNIX time in seconds.
    pub fn now(&self) -> u64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock(..)")
    }
}
