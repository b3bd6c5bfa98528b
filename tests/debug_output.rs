//! `Debug` output of the public stateful types, as it lands in logs: it names the state a
//! reader needs (role, state, limits, subprotocols, extensions, how much is buffered) and never
//! prints header values, keys or buffered bytes, which can hold credentials.

mod common;

use std::sync::Arc;

use common::drain;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{h2, ClientHandshake, ClientRequest, HandshakeConfig, ServerHandshake};
use sansws::{Config, Connection, Event};

const SECRET: &str = "Bearer s3cr3t-t0k3n";

fn config() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

fn request() -> ClientRequest {
    ClientRequest::new("example.com", "/chat")
        .origin("https://example.com")
        .subprotocol("chat")
        .header("Authorization", SECRET)
}

#[test]
fn connection_shows_role_state_extension_and_buffered_lengths() {
    let mut entropy = |b: &mut [u8]| b.fill(3);
    let (_, request_bytes) = ClientHandshake::new(&request(), &config(), &mut entropy).unwrap();
    let mut server = Connection::server_upgrade(Config::default(), config());
    server.receive(&request_bytes);
    server.receive(b"\x81"); // the first byte of a pipelined frame
    assert_eq!(server.next_event(), Some(Ok(Event::UpgradeRequest)));
    server.accept(Default::default()).unwrap();
    let pending = server.pending_output_len();
    let shown = format!("{server:?}");
    assert_eq!(
        shown,
        format!(
            "Connection {{ role: Server, state: Open, extension: Some(\"permessage-deflate\"), \
             pending_input_len: 1, pending_output_len: {pending} }}"
        )
    );
    drain(&mut server);
    assert!(format!("{server:?}").contains("pending_output_len: 0"));
}

#[test]
fn a_server_handshake_and_its_request_hide_header_values_and_leftover_bytes() {
    let mut entropy = |b: &mut [u8]| b.fill(3);
    let (client, mut bytes) = ClientHandshake::new(&request(), &config(), &mut entropy).unwrap();
    let client_shown = format!("{client:?}");
    assert_eq!(
        client_shown,
        "ClientHandshake { subprotocols: [\"chat\"], offered_extensions: \
         [\"permessage-deflate\"], started: false, done: false }"
    );
    let key = "AwMDAwMDAwMDAwMDAwMDAw==";
    assert!(String::from_utf8_lossy(&bytes).contains(key));
    assert!(!client_shown.contains(key), "the key is not shown");

    let mut server = ServerHandshake::new(config().max_headers(20));
    assert!(format!("{server:?}").contains("started: false, done: false"));
    assert!(format!("{server:?}").contains("max_headers: 20"));
    bytes.extend_from_slice(SECRET.as_bytes()); // bytes after the head: leftover
    let request = server.receive(&bytes).unwrap().unwrap();
    let shown = format!("{request:?}");
    assert!(shown.starts_with("UpgradeRequest { target: \"/chat\", host: \"example.com\""));
    assert!(shown.contains("subprotocols: [\"chat\"]"), "{shown}");
    assert!(shown.contains("permessage-deflate"), "{shown}");
    assert!(
        shown.contains(&format!("leftover: {}", SECRET.len())),
        "{shown}"
    );
    assert!(
        !shown.contains("s3cr3t"),
        "no header value or leftover byte: {shown}"
    );
    assert!(format!("{server:?}").contains("started: true, done: true"));
}

#[test]
fn extended_connect_types_hide_header_values() {
    let (client, fields) = h2::client_request(&request(), "https", &config()).unwrap();
    assert_eq!(
        format!("{client:?}"),
        "H2ClientHandshake { subprotocols: [\"chat\"] }"
    );
    let request = h2::parse_request(fields, &config()).unwrap();
    let shown = format!("{request:?}");
    assert!(
        shown.starts_with(
            "H2UpgradeRequest { scheme: \"https\", authority: \"example.com\", path: \"/chat\", \
             origin: Some(\"https://example.com\"), subprotocols: [\"chat\"]"
        ),
        "{shown}"
    );
    assert!(shown.contains("permessage-deflate"), "{shown}");
    assert!(!shown.contains("s3cr3t"), "{shown}");
}
