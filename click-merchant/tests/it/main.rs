//! click-merchant against the testkit's mock of Click's Merchant API, over real HTTP: every
//! endpoint, every fault of docs/protocol.md, bad inputs section F, and section G's secrets.

mod endpoints;
mod faults;
mod secrets;
mod tls;

use std::time::Duration;

use click_core::{Credentials, MerchantId, MerchantUserId, SecretKey, ServiceId};
use click_merchant::{MerchantClient, MerchantClientBuilder, RetryPolicy};
use click_testkit::mock::{MockApi, MockConfig};

const SERVICE: ServiceId = ServiceId::new(101);
const USER: MerchantUserId = MerchantUserId::new(303);
const SECRET: &str = "merchant-api-test-secret";

fn credentials(secret: &str) -> Credentials {
    Credentials::new(SERVICE, MerchantId::new(202), USER, SecretKey::new(secret))
}

/// A started mock and its base URL.
async fn mock() -> (MockApi, String) {
    let mock = MockApi::new(MockConfig::new(SERVICE, USER, SecretKey::new(SECRET)));
    let base = mock.start().await.expect("the mock starts");
    (mock, base)
}

/// A builder for the mock, with quick retries.
fn builder(base: &str) -> MerchantClientBuilder {
    MerchantClient::builder(credentials(SECRET))
        .base_url(base)
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy {
            attempts: 3,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(100),
        })
}

fn client(base: &str) -> MerchantClient {
    builder(base).build().expect("the client builds")
}
