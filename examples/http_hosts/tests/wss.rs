//! wss://: the axum_echo example behind rustls, with a certificate for `localhost` signed by a
//! test CA made here, and Python `websockets` as a client that checks it (Python's `ssl`
//! with that CA as its only extra trust, host name checked): messages both ways with
//! permessage-deflate over TLS; and the same client refusing the server when it trusts
//! another CA or asks for another name, which shows the check is made.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{python_echo_client, temp_dir, EchoServer};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A CA certificate and its key, written to `dir/name.pem`.
fn test_ca(dir: &Path, name: &str) -> (CertifiedIssuer<'static, KeyPair>, PathBuf) {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(DnType::CommonName, format!("sansws {name}"));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
    let path = dir.join(format!("{name}.pem"));
    fs::write(&path, ca.pem()).unwrap();
    (ca, path)
}

/// The server's certificate for `localhost`, signed by `ca`, and its key: (cert, key) files.
fn server_certificate(dir: &Path, ca: &CertifiedIssuer<'static, KeyPair>) -> (PathBuf, PathBuf) {
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca).unwrap();
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    fs::write(&cert_path, cert.pem()).unwrap();
    fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

#[test]
fn python_client_checks_the_certificate_and_talks_deflate() {
    let dir = temp_dir("wss");
    let (ca, ca_path) = test_ca(&dir, "test-ca");
    let (_, other_ca_path) = test_ca(&dir, "other-ca");
    let (cert, key) = server_certificate(&dir, &ca);
    let server = EchoServer::start(&["--tls", cert.to_str().unwrap(), key.to_str().unwrap()]);
    assert!(server.url.starts_with("wss://"), "{}", server.url);
    let by_name = format!("wss://localhost:{}/echo", server.port);
    let ca_arg = ca_path.to_str().unwrap();

    // Trusting the test CA, asking for localhost: every echo, deflate and the subprotocol.
    let (code, out, err) =
        python_echo_client(&by_name, &["--cafile", ca_arg, "--protocols", "chat"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        ["OPEN permessage-deflate|chat", "ECHOED 21", "CLOSED 1000"],
        "{err}"
    );

    // Trusting another CA: refused.
    let (code, out, err) =
        python_echo_client(&by_name, &["--cafile", other_ca_path.to_str().unwrap()]);
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.starts_with("TLSERROR "), "{out}");

    // The right CA, but a name the certificate does not carry: refused.
    let by_address = format!("wss://127.0.0.1:{}/echo", server.port);
    let (code, out, err) = python_echo_client(&by_address, &["--cafile", ca_arg]);
    assert_eq!(code, Some(3), "{out}{err}");
    assert!(out.contains("mismatch"), "{out}");

    let _ = fs::remove_dir_all(&dir);
}
