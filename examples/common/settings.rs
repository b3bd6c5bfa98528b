//! The configuration the conformance examples run with: the suite sends messages up to
//! 16 MiB, so the limits are raised above the defaults; permessage-deflate is offered and
//! accepted with every parameter the suite tries.
#![allow(dead_code)]

use std::sync::Arc;

use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::HandshakeConfig;
use sansws::Config;

pub fn config() -> Config {
    Config::default()
        .max_frame_size(64 << 20)
        .max_message_size(64 << 20)
}

pub fn handshake() -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(DeflateConfig::default())))
}
