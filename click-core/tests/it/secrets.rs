//! docs/protocol.md, bad input 89: no secret, digest or `sign_string` in `Debug` or errors. Items 90 and 91
//! (logs) are in `tests/logs.rs`.

use click_core::{
    Callback, Credentials, Endpoint, Keyring, MemoryStore, MerchantId, MerchantUserId, SecretKey,
    ServiceId, StoreError,
};

/// Bad input 89: `Debug` and `Display` of credentials, keyrings, shops, requests and errors.
#[test]
fn g89_debug_and_errors_hold_no_secret_or_signature() {
    let secret = "very-secret-key";
    let credentials = Credentials::new(
        ServiceId::new(101),
        MerchantId::new(2),
        MerchantUserId::new(3),
        SecretKey::new(secret),
    );
    let keyring = Keyring::from(&credentials);
    let shop = click_core::Shop::new(keyring.clone(), MemoryStore::default());
    let click = click_core::testing::Click::new(ServiceId::new(101), SecretKey::new(secret));
    let form = click.complete(1, "o-1", 7, "1000", 0);
    let sign = form.get("sign_string").expect("signed").to_owned();
    let callback = Callback::parse(form.encode().as_bytes(), Endpoint::Any).expect("parses");
    let signature = click_core::Signature::from_hex(&sign).expect("hex");
    let store_error = StoreError::backend(std::io::Error::other("db down"));
    let texts = [
        format!("{credentials:?}"),
        format!("{keyring:?}"),
        format!("{shop:?}"),
        format!("{click:?}"),
        format!("{callback:?}"),
        format!("{callback:#?}"),
        format!("{signature:?}"),
        format!("{store_error:?} {store_error}"),
        format!("{:?}", Callback::parse(b"amount=1&amount=2", Endpoint::Any)),
    ];
    for text in texts {
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains(&sign), "{text}");
    }
}
