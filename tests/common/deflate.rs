//! permessage-deflate helpers: negotiated connection pairs, the wire split into messages with
//! their RSV1 bit, and the strict zlib oracle (tests/peers/zlib_oracle.py).

use std::io::Write;
use std::process::{Command, Stdio};

use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{Extension, ExtensionNegotiator, ExtensionOffer};
use sansws::handshake::Negotiated;
use sansws::{Config, Connection};

/// The client's and the server's permessage-deflate extensions, negotiated from the given
/// configurations the way a handshake would (the client's offers, the server's answer, the
/// client's confirmation), or `None` if the server declines every offer.
pub fn negotiate(
    client_cfg: DeflateConfig,
    server_cfg: DeflateConfig,
) -> Option<(Box<dyn Extension>, Box<dyn Extension>)> {
    let client_neg = PerMessageDeflate::new(client_cfg);
    let offers = client_neg.offers();
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    let (answer, server_ext) = PerMessageDeflate::new(server_cfg).accept(&refs)?;
    let client_ext = client_neg
        .confirm(&answer)
        .expect("the client confirms the answer");
    Some((client_ext, server_ext))
}

/// What a handshake that negotiated `extension` hands to the connection.
pub fn negotiated(extension: Box<dyn Extension>) -> Negotiated {
    Negotiated {
        subprotocol: None,
        extension: Some(extension),
    }
}

/// A client and a server with permessage-deflate negotiated from the given configurations.
pub fn deflate_pair(
    client_cfg: DeflateConfig,
    server_cfg: DeflateConfig,
    config: Config,
) -> (Connection, Connection) {
    let (client_ext, server_ext) = negotiate(client_cfg, server_cfg).expect("accepted");
    let client = crate::common::client_seeded(config.clone(), 77)
        .after_handshake(negotiated(client_ext), &[]);
    let server = Connection::server(config).after_handshake(negotiated(server_ext), &[]);
    (client, server)
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// One data message as it went over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireMessage {
    /// RSV1 on its first frame: compressed.
    pub compressed: bool,
    /// Opcode of its first frame.
    pub opcode: u8,
    /// How many frames carried it.
    pub frames: usize,
    /// The frame payloads (unmasked), concatenated.
    pub payload: Vec<u8>,
}

/// Splits `wire` into its data messages (control frames are skipped), checking on the way
/// that RSV1 appears on first frames only.
pub fn wire_messages(wire: &[u8]) -> Vec<WireMessage> {
    let mut out: Vec<WireMessage> = Vec::new();
    let mut open = false;
    for (h, payload) in crate::common::decoded_frames(wire) {
        let opcode = h.opcode.bits();
        if opcode >= 0x8 {
            assert_eq!(h.rsv, 0, "reserved bits on a control frame");
            continue;
        }
        if opcode == 0 {
            assert!(open, "continuation without a message");
            assert_eq!(h.rsv, 0, "reserved bits on a continuation frame");
            let m = out.last_mut().unwrap();
            m.frames += 1;
            m.payload.extend_from_slice(&payload);
        } else {
            assert!(!open, "a new message inside a fragmented one");
            assert_eq!(h.rsv & !0x40, 0, "reserved bits other than RSV1");
            out.push(WireMessage {
                compressed: h.rsv & 0x40 != 0,
                opcode,
                frames: 1,
                payload,
            });
        }
        open = !h.fin;
    }
    assert!(!open, "the last message is unfinished");
    out
}

/// Runs the zlib oracle with a `bits`-bit window on (compressed, original) pairs, all from
/// one stream (context takeover: one decompressor for all, as the peer would have); returns
/// whether it accepted every one, and what it said.
pub fn zlib_accepts(bits: u8, pairs: &[(Vec<u8>, Vec<u8>)]) -> (bool, String) {
    let mut input = format!("{bits}\n");
    for (c, m) in pairs {
        input.push_str(&format!("{}:{}\n", hex(c), hex(m)));
    }
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/zlib_oracle.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// JSON-like text of exactly `size` bytes.
pub fn json(size: usize, seed: usize) -> Vec<u8> {
    let mut s = String::new();
    let mut i = seed;
    while s.len() < size {
        s.push_str(&format!(
            "{{\"id\":{i},\"user\":\"user{}\",\"score\":{},\"tags\":[\"a\",\"b\"]}},",
            i % 97,
            i * 7 % 1000
        ));
        i += 1;
    }
    s.truncate(size);
    s.into_bytes()
}
