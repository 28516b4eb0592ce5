//! Bad input 88, TLS: a server whose certificate comes from an authority nobody trusts is
//! refused; the same server is accepted once the caller trusts that authority.

use std::sync::Arc;

use click_core::{ClickPaydocId, Credentials, MerchantId, SecretKey};
use click_merchant::{MerchantClient, MerchantError, PaymentStatus};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

/// An HTTPS server on localhost that answers every request with a paid payment; the PEM of the
/// authority that signed its certificate.
async fn server() -> (String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("a key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca.self_signed(&ca_key).expect("a CA");
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &ca, &ca_key)
        .expect("a certificate");
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .expect("a TLS config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let port = listener.local_addr().expect("an address").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let body =
                    r#"{"error_code":0,"error_note":"Success","payment_id":7,"payment_status":2}"#;
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (format!("https://localhost:{port}/"), ca.pem())
}

fn credentials() -> Credentials {
    Credentials::new(
        super::SERVICE,
        MerchantId::new(202),
        super::USER,
        SecretKey::new(super::SECRET),
    )
}

#[tokio::test]
async fn f88_an_unknown_authority_is_refused_and_a_trusted_one_accepted() {
    let (base, authority) = server().await;
    let stranger = MerchantClient::builder(credentials())
        .base_url(&base)
        .build()
        .expect("builds");
    let refused = stranger.payment_status(ClickPaydocId::new(7)).await;
    assert!(
        matches!(refused, Err(MerchantError::Transport { .. })),
        "{refused:?}"
    );
    let trusting = MerchantClient::builder(credentials())
        .base_url(&base)
        .add_root_certificate_pem(authority)
        .build()
        .expect("builds");
    let state = trusting
        .payment_status(ClickPaydocId::new(7))
        .await
        .expect("accepted");
    assert_eq!(state.status, PaymentStatus::Paid);
}
