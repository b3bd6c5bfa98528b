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

/// Compresses `msgs` as a zlib-based peer does (tests/peers/zlib_compress.py): raw deflate
/// with a `bits`-bit window at `level` and `mem_level`, a sync flush per message with its
/// `00 00 ff ff` removed, one stream for all (context takeover) or one per message.
pub fn zlib_compress(
    bits: u8,
    level: u8,
    mem_level: u8,
    takeover: bool,
    msgs: &[Vec<u8>],
) -> Vec<Vec<u8>> {
    let mut input = format!("{bits} {level} {mem_level} {}\n", u8::from(takeover));
    for m in msgs {
        input.push_str(&hex(m));
        input.push('\n');
    }
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/peers/zlib_compress.py"
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
    assert!(out.status.success(), "zlib_compress.py failed");
    let compressed: Vec<Vec<u8>> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(unhex)
        .collect();
    assert_eq!(compressed.len(), msgs.len());
    compressed
}

/// JSON-like event records of exactly `size` bytes with varied values (symbols, user names,
/// prices, quantities, timestamps drawn from `seed`): keys and vocabulary recur across
/// messages, values rarely do, unlike [`json`], whose records differ only by counters.
pub fn json_events(size: usize, seed: u64) -> Vec<u8> {
    const SYMBOLS: [&str; 12] = [
        "AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META", "NFLX", "INTC", "AMD", "ORCL",
        "IBM",
    ];
    const KINDS: [&str; 4] = ["trade", "quote", "cancel", "fill"];
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = |n: u64| {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    };
    let mut s = String::new();
    while s.len() < size {
        s.push_str(&format!(
            "{{\"type\":\"{}\",\"symbol\":\"{}\",\"price\":{}.{:02},\"qty\":{},\"user\":\"trader{}\",\"ts\":{},\"venue\":\"X{}\"}},",
            KINDS[next(4) as usize],
            SYMBOLS[next(12) as usize],
            50 + next(400),
            next(100),
            1 + next(500),
            next(300),
            1_764_000_000_000u64 + next(10_000_000),
            next(8)
        ));
    }
    s.truncate(size);
    s.into_bytes()
}

/// A JSON-like text generator: (size, seed) to bytes.
pub type TextGen = fn(usize, u64) -> Vec<u8>;

/// Both JSON-like generators, named: repetitive records ([`json`]) and varied event records
/// ([`json_events`]).
pub fn json_generators() -> [(&'static str, TextGen); 2] {
    [
        ("records", |n, seed| json(n, seed as usize)),
        ("events", json_events),
    ]
}
