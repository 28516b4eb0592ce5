//! The callback form parser (through `Callback::parse`) and signature verification never panic,
//! whatever the body.
#![no_main]

use click_core::{Callback, Endpoint, Keyring, SecretKey, ServiceId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let keyring = Keyring::new().service(ServiceId::new(101), SecretKey::new("fuzz"));
    for endpoint in [Endpoint::Prepare, Endpoint::Complete, Endpoint::Any] {
        if let Ok(callback) = Callback::parse(body, endpoint) {
            let _ = callback.verify(&keyring);
            assert!(!callback.merchant_trans_id().as_str().is_empty());
        }
    }
});
