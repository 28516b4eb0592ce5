//! A merchant's credentials at Click, and the [`Keyring`] of services a shop accepts callbacks for.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::ids::{IdError, MerchantId, MerchantUserId, ServiceId};

/// A service's `secret_key`. Its `Debug` prints `SecretKey(..)`; it has no `Display`, and no error
/// or log line of this crate contains it. `==` compares in constant time (for equal lengths).
#[derive(Clone)]
pub struct SecretKey(String);

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretKey {}

impl SecretKey {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for computing a signature or digest. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// What Click issues a merchant for one service.
///
/// ```
/// use click_core::{Credentials, MerchantId, MerchantUserId, SecretKey, ServiceId};
///
/// let credentials = Credentials::new(
///     ServiceId::new(101),
///     MerchantId::new(202),
///     MerchantUserId::new(303),
///     SecretKey::new("s3cr3t"),
/// );
/// assert!(!format!("{credentials:?}").contains("s3cr3t"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The service callbacks and links are about.
    pub service_id: ServiceId,
    /// The merchant, for payment links and checkout.js.
    pub merchant_id: MerchantId,
    /// The API user, for the Merchant API `Auth` header.
    pub merchant_user_id: MerchantUserId,
    /// The service's secret, for signatures and the `Auth` digest.
    pub secret_key: SecretKey,
}

impl Credentials {
    /// Bundles the four values Click issues.
    pub fn new(
        service_id: ServiceId,
        merchant_id: MerchantId,
        merchant_user_id: MerchantUserId,
        secret_key: SecretKey,
    ) -> Self {
        Self {
            service_id,
            merchant_id,
            merchant_user_id,
            secret_key,
        }
    }

    /// Reads `CLICK_SERVICE_ID`, `CLICK_MERCHANT_ID`, `CLICK_MERCHANT_USER_ID` and
    /// `CLICK_SECRET_KEY` from the environment.
    ///
    /// # Errors
    ///
    /// [`CredentialsError`] naming the first variable that is missing or not a valid id.
    pub fn from_env() -> Result<Self, CredentialsError> {
        fn var(name: &'static str) -> Result<String, CredentialsError> {
            std::env::var(name).map_err(|_| CredentialsError::Missing(name))
        }
        fn id<T: std::str::FromStr<Err = IdError>>(
            name: &'static str,
        ) -> Result<T, CredentialsError> {
            var(name)?
                .parse()
                .map_err(|source| CredentialsError::Invalid { name, source })
        }
        Ok(Self {
            service_id: id("CLICK_SERVICE_ID")?,
            merchant_id: id("CLICK_MERCHANT_ID")?,
            merchant_user_id: id("CLICK_MERCHANT_USER_ID")?,
            secret_key: SecretKey::new(var("CLICK_SECRET_KEY")?),
        })
    }
}

/// Why [`Credentials::from_env`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The variable is not set (or not Unicode).
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    /// The variable does not hold a valid id.
    #[error("environment variable {name} is not a valid id")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// Why its value is refused.
        source: IdError,
    },
}

/// The services a shop accepts callbacks for, each with its secrets.
///
/// A callback whose `service_id` is not in the keyring fails the signature check (`-1`). During a
/// secret rotation a service holds the new secret and the retired one; a signature made with either
/// verifies until the retired one is removed.
///
/// ```
/// use click_core::{Keyring, SecretKey, ServiceId};
///
/// let keyring = Keyring::new()
///     .service(ServiceId::new(101), SecretKey::new("new"))
///     .retired_secret(ServiceId::new(101), SecretKey::new("old"))
///     .service(ServiceId::new(102), SecretKey::new("other"));
/// assert_eq!(keyring.secrets(ServiceId::new(101)).len(), 2);
/// assert!(keyring.secrets(ServiceId::new(7)).is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    services: Vec<ServiceKeys>,
}

#[derive(Debug, Clone)]
struct ServiceKeys {
    service_id: ServiceId,
    /// The current secret first, then retired ones.
    secrets: Vec<SecretKey>,
    /// Whether `secrets[0]` is the current secret (not only retired ones were added).
    has_current: bool,
}

impl Keyring {
    /// An empty keyring: every callback fails the signature check.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a service with its current secret, or replaces the current secret of a known one,
    /// keeping its retired secrets.
    #[must_use]
    pub fn service(mut self, service_id: ServiceId, secret: SecretKey) -> Self {
        let keys = self.entry(service_id);
        if keys.has_current {
            keys.secrets[0] = secret;
        } else {
            keys.secrets.insert(0, secret);
            keys.has_current = true;
        }
        self
    }

    /// Adds a retired secret that still verifies during a rotation.
    #[must_use]
    pub fn retired_secret(mut self, service_id: ServiceId, secret: SecretKey) -> Self {
        self.entry(service_id).secrets.push(secret);
        self
    }

    /// The secrets of a service, current first; empty for an unknown service.
    pub fn secrets(&self, service_id: ServiceId) -> &[SecretKey] {
        self.services
            .iter()
            .find(|keys| keys.service_id == service_id)
            .map_or(&[], |keys| keys.secrets.as_slice())
    }

    /// The services in the keyring.
    pub fn service_ids(&self) -> impl Iterator<Item = ServiceId> + '_ {
        self.services.iter().map(|keys| keys.service_id)
    }

    fn entry(&mut self, service_id: ServiceId) -> &mut ServiceKeys {
        let at = match self
            .services
            .iter()
            .position(|k| k.service_id == service_id)
        {
            Some(at) => at,
            None => {
                self.services.push(ServiceKeys {
                    service_id,
                    secrets: Vec::new(),
                    has_current: false,
                });
                self.services.len() - 1
            }
        };
        &mut self.services[at]
    }
}

impl From<Credentials> for Keyring {
    fn from(credentials: Credentials) -> Self {
        Self::new().service(credentials.service_id, credentials.secret_key)
    }
}

impl From<&Credentials> for Keyring {
    fn from(credentials: &Credentials) -> Self {
        Self::from(credentials.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/protocol.md, bad input 89: no secret in `Debug`.
    #[test]
    fn debug_never_shows_the_secret() {
        let credentials = Credentials::new(
            ServiceId::new(1),
            MerchantId::new(2),
            MerchantUserId::new(3),
            SecretKey::new("top-secret-value"),
        );
        let keyring = Keyring::from(&credentials);
        for text in [
            format!("{credentials:?}"),
            format!("{keyring:?}"),
            format!("{credentials:#?}"),
        ] {
            assert!(!text.contains("top-secret-value"), "{text}");
            assert!(text.contains("SecretKey(..)"), "{text}");
        }
    }

    #[test]
    fn rotation_keeps_the_current_secret_first() {
        let service = ServiceId::new(5);
        let keyring = Keyring::new()
            .service(service, SecretKey::new("a"))
            .retired_secret(service, SecretKey::new("old"))
            .service(service, SecretKey::new("b"));
        let secrets: Vec<&str> = keyring
            .secrets(service)
            .iter()
            .map(SecretKey::expose)
            .collect();
        assert_eq!(secrets, ["b", "old"]);
        assert_eq!(keyring.service_ids().collect::<Vec<_>>(), [service]);
        let retired_first = Keyring::new()
            .retired_secret(service, SecretKey::new("old"))
            .service(service, SecretKey::new("new"));
        let secrets: Vec<&str> = retired_first
            .secrets(service)
            .iter()
            .map(SecretKey::expose)
            .collect();
        assert_eq!(
            secrets,
            ["new", "old"],
            "adding the current secret last keeps the retired one"
        );
    }
}
