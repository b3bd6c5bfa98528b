//! What the examples here run with, shared by their tests so that a test compares against
//! exactly the configuration the example serves.

use std::sync::Arc;
use std::time::Duration;

use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{Config, Connection, Event};

/// The subprotocols the echo servers speak, most preferred first. A client that offers
/// some of them gets the first of its own offers that is listed here.
pub const SUBPROTOCOLS: &[&str] = &["echo", "chat"];

/// Limits a public echo server might choose: frames up to 4 MiB, messages up to 16 MiB
/// (a compressed message is held to this once inflated), a ping after 30 s of silence.
pub fn config() -> Config {
    Config::default()
        .max_frame_size(4 << 20)
        .max_message_size(16 << 20)
        .keepalive(Some(Duration::from_secs(30)))
}

/// permessage-deflate (RFC 7692) with the default settings, for every client that offers it.
pub fn handshake() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}

/// The answer to the client's subprotocol offer (in the client's order of preference).
pub fn accept_options(offered: &[String]) -> AcceptOptions {
    match offered.iter().find(|p| SUBPROTOCOLS.contains(&p.as_str())) {
        Some(p) => AcceptOptions::new().subprotocol(p.as_str()),
        None => AcceptOptions::new(),
    }
}

/// Echoes every data message back (the connection answers pings and closes by itself).
pub fn echo(conn: &mut Connection, event: Event) {
    match event {
        Event::Text(text) => {
            let _ = conn.send_text(&text);
        }
        Event::Binary(data) => {
            let _ = conn.send_binary(&data);
        }
        _ => {}
    }
}
