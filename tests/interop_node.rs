//! Interoperability with Node's `ws` (permessage-deflate on Node's zlib), a peer nobody here
//! wrote: our server against its client and our client against its server, over each
//! permessage-deflate parameter combination below (no extension, context takeover on and off
//! in each direction, window bits 8 to 15, thresholds, compression off on our side, offers
//! and answers from either end). Every connection carries the script of
//! tests/common/interop.rs (empty, small, 64 KiB and 1 MiB messages (128 KiB in the lighter
//! combinations), text and binary, compressible and random), fragmented both ways (ours
//! streamed with a ping and an empty fragment inside, theirs in three fragments), pings both
//! ways, and a close handshake with a code and a reason. Both sides check every byte: ws
//! against the same script, we against it too, and each checks its echoes. Both ends report
//! the negotiated parameters, which are checked exactly.
//!
//! Needs `node` and the `ws` package installed by `scripts/setup-test-peers.sh` (scripts/test.sh
//! runs it).

mod common;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::interop::{assert_same, describe, script, send_streamed, Guard};
use sansws::entropy::OsEntropy;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, ClientRequest, HandshakeConfig};
use sansws::{CloseCode, CloseFrame, Config, Connection, Event, MessageKind};

/// How long one connection (the whole script, up to 3.3 MiB each way) may take.
const PER_CONNECTION: Duration = Duration::from_secs(60);

fn peer_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

fn node() -> Command {
    common::interop::require_peer(
        &peer_dir().join("node/node_modules/ws/package.json"),
        "Node's ws package",
    );
    let mut cmd = Command::new("node");
    cmd.arg(peer_dir().join("ws_peer.js"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    cmd
}

fn spawn(cmd: &mut Command) -> std::process::Child {
    cmd.spawn().unwrap_or_else(|e| {
        panic!("cannot run node ({e}): install Node.js, then run scripts/setup-test-peers.sh")
    })
}

/// The size of the script's three large messages: 1 MiB for the combinations marked
/// [`full`], 128 KiB for the others (tests are built without optimisation, and a megabyte
/// through miniz_oxide costs time there).
const FULL: usize = 1 << 20;
const LIGHT: usize = 128 << 10;

/// One parameter combination: ws's `perMessageDeflate` options (JSON, `null` for none), our
/// configuration, the parameters ws reports as negotiated when it is the client and when it
/// is the server (`null`: no extension), and the size of the large messages.
struct Combination {
    ws: &'static str,
    ours: DeflateConfig,
    ws_client_sees: &'static str,
    ws_server_sees: &'static str,
    big: usize,
}

impl Combination {
    /// For failure messages: several combinations share ws's options.
    fn label(&self) -> String {
        format!("ws {} / ours {:?}", self.ws, self.ours)
    }
}

fn full(c: Combination) -> Combination {
    Combination { big: FULL, ..c }
}

fn combinations() -> Vec<Combination> {
    let d = DeflateConfig::default();
    let c = |ws, ours, ws_client_sees, ws_server_sees| Combination {
        ws,
        ours,
        ws_client_sees,
        ws_server_sees,
        big: LIGHT,
    };
    vec![
        // ws declines permessage-deflate; we offer it (client) or would accept it (server).
        c("null", d, "null", "null"),
        full(c("{}", d, "{}", "{}")),
        c(
            r#"{"serverNoContextTakeover":true}"#,
            d,
            r#"{"server_no_context_takeover":true}"#,
            r#"{"server_no_context_takeover":true}"#,
        ),
        c(
            r#"{"clientNoContextTakeover":true}"#,
            d,
            r#"{"client_no_context_takeover":true}"#,
            r#"{"client_no_context_takeover":true}"#,
        ),
        full(c(
            r#"{"serverNoContextTakeover":true,"clientNoContextTakeover":true,"zlibDeflateOptions":{"level":9,"memLevel":9}}"#,
            d.level(9),
            r#"{"server_no_context_takeover":true,"client_no_context_takeover":true}"#,
            r#"{"server_no_context_takeover":true,"client_no_context_takeover":true}"#,
        )),
        c(
            r#"{"serverMaxWindowBits":9}"#,
            d,
            r#"{"server_max_window_bits":9}"#,
            r#"{"server_max_window_bits":9}"#,
        ),
        c(
            r#"{"clientMaxWindowBits":9}"#,
            d,
            r#"{"client_max_window_bits":9}"#,
            r#"{"client_max_window_bits":9}"#,
        ),
        // 8 bits: zlib inflates with a 256-byte window, so every distance we emit is checked.
        full(c(
            r#"{"serverMaxWindowBits":8,"clientMaxWindowBits":8}"#,
            d,
            r#"{"server_max_window_bits":8,"client_max_window_bits":8}"#,
            r#"{"client_max_window_bits":8,"server_max_window_bits":8}"#,
        )),
        c(
            r#"{"serverMaxWindowBits":12,"clientMaxWindowBits":11,"serverNoContextTakeover":true}"#,
            d,
            r#"{"server_no_context_takeover":true,"server_max_window_bits":12,"client_max_window_bits":11}"#,
            r#"{"client_max_window_bits":11,"server_no_context_takeover":true,"server_max_window_bits":12}"#,
        ),
        // We ask for (client) or impose (server) small windows and no client context takeover.
        c(
            "{}",
            d.server_max_window_bits(10)
                .client_max_window_bits(9)
                .client_no_context_takeover(true),
            r#"{"client_no_context_takeover":true,"server_max_window_bits":10,"client_max_window_bits":9}"#,
            r#"{"client_no_context_takeover":true,"server_max_window_bits":10,"client_max_window_bits":9}"#,
        ),
        // Small messages go uncompressed both ways, in a compressed session.
        c(
            r#"{"threshold":1024,"serverNoContextTakeover":true,"clientNoContextTakeover":true}"#,
            d.threshold(1024),
            r#"{"server_no_context_takeover":true,"client_no_context_takeover":true}"#,
            r#"{"server_no_context_takeover":true,"client_no_context_takeover":true}"#,
        ),
        // Our client asks for a 10-bit server window; ws's server wants 13, so it turns down
        // that offer and takes our plain fallback offer, answering 13. Our server answers 10.
        c(
            r#"{"serverMaxWindowBits":13}"#,
            d.server_max_window_bits(10),
            r#"{"server_max_window_bits":10}"#,
            r#"{"server_max_window_bits":13}"#,
        ),
        // 8-bit windows asked for (client) or imposed (server) by us. Our server never
        // answers client_max_window_bits=8 (zlib cannot compress with 256 bytes): it asks 9.
        c(
            "{}",
            d.server_max_window_bits(8).client_max_window_bits(8),
            r#"{"server_max_window_bits":8,"client_max_window_bits":9}"#,
            r#"{"server_max_window_bits":8,"client_max_window_bits":8}"#,
        ),
        // Level 0: we send stored blocks.
        c("{}", d.level(0), "{}", "{}"),
        // We decompress but never compress.
        c("{}", d.compress_outgoing(false), "{}", "{}"),
    ]
}

fn handshake(ours: DeflateConfig) -> HandshakeConfig {
    HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(ours)))
}

fn config() -> Config {
    Config::default()
        .max_frame_size(8 << 20)
        .max_message_size(8 << 20)
}

/// Which of the script's messages we send streamed (ws fragments 1, 4, 7, ...).
fn streamed(i: usize) -> bool {
    i % 3 == 2 || i == 6
}

fn mid_message_ping(i: usize) -> Vec<u8> {
    format!("ping inside message {i}").into_bytes()
}

/// What our side saw on one connection.
#[derive(Default)]
struct Seen {
    messages: usize,
    pings: Vec<Bytes>,
    pongs: Vec<Bytes>,
    close: Option<Option<CloseFrame>>,
    extension: Option<String>,
}

/// The first line ws printed that starts with `prefix`, without the prefix.
fn line<'a>(output: &'a str, prefix: &str) -> Option<&'a str> {
    output
        .lines()
        .find_map(|l| l.strip_prefix(prefix).map(str::trim_end))
}

/// Every line ws printed that starts with `prefix`, without the prefix.
fn lines<'a>(output: &'a str, prefix: &'a str) -> Vec<&'a str> {
    output
        .lines()
        .filter_map(|l| l.strip_prefix(prefix))
        .collect()
}

/// The pings we send: one at the start, one inside each streamed message.
fn our_pings(first: &str, messages: usize) -> Vec<String> {
    let mut pings = vec![first.to_string()];
    pings.extend(
        (0..messages)
            .filter(|&i| streamed(i))
            .map(|i| String::from_utf8(mid_message_ping(i)).unwrap()),
    );
    pings
}

fn as_strings(v: &[Bytes]) -> Vec<String> {
    v.iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect()
}

fn our_server_run(combo: &Combination) {
    let ws = &combo.label();
    let deadline = Instant::now() + PER_CONNECTION;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = spawn(node().args([
        "client",
        &format!("ws://127.0.0.1:{port}/"),
        combo.ws,
        &combo.big.to_string(),
    ]));
    let output = common::interop::collect(child.stdout.take().unwrap());
    let mut child = Guard(child);

    let stream = common::interop::accept_until(&listener, deadline, "ws's client");
    let expected = script(combo.big);
    let mut conn = Connection::server_upgrade(config(), handshake(combo.ours));
    let mut seen = Seen::default();
    let result =
        common::blocking::drive_until(
            stream,
            &mut conn,
            Some(deadline),
            |conn, event| match event {
                Event::UpgradeRequest => {
                    conn.accept(AcceptOptions::new()).unwrap();
                    conn.send_ping(b"ping from sansws server").unwrap();
                }
                Event::Text(_) | Event::Binary(_) => {
                    let (kind, data) = message(event);
                    let i = seen.messages;
                    let want = expected
                        .get(i)
                        .unwrap_or_else(|| panic!("{ws}: message {i} beyond the script"));
                    assert_eq!(
                        describe(kind, &data),
                        describe(want.kind, &want.data),
                        "{ws}: message {i}"
                    );
                    assert_same(&data, &want.data, &format!("{ws}: message {i}"));
                    if streamed(i) {
                        send_streamed(conn, want.kind, &data, Some(&mid_message_ping(i)));
                    } else {
                        conn.send(want.kind, &data).unwrap();
                    }
                    seen.messages += 1;
                }
                Event::Ping(p) => seen.pings.push(p),
                Event::Pong(p) => seen.pongs.push(p),
                Event::Close(frame) => seen.close = Some(frame),
                other => panic!("{ws}: unexpected {other:?}"),
            },
        );
    seen.extension = conn.extension().map(|e| e.name().to_string());
    let status = if result.is_ok() {
        Some(child.wait_until(deadline, "ws's client"))
    } else {
        None
    };
    drop(child);
    let out = output.join().unwrap();
    let failure = result.unwrap_or_else(|_| panic!("{ws}: timed out; ws's client said:\n{out}"));
    assert!(
        status.is_some_and(|s| s.success()),
        "{ws}: ws's client failed ({status:?}):\n{out}"
    );
    assert!(failure.is_none(), "{ws}: {failure:?}\n{out}");
    assert_eq!(
        line(&out, "OK "),
        Some(expected.len().to_string().as_str()),
        "{ws}:\n{out}"
    );
    assert_eq!(seen.messages, expected.len(), "{ws}");

    // Negotiation, as both ends see it.
    assert_eq!(
        line(&out, "EXT "),
        Some(combo.ws_client_sees),
        "{ws}:\n{out}"
    );
    let want_ext = (combo.ws_client_sees != "null").then(|| "permessage-deflate".to_string());
    assert_eq!(seen.extension, want_ext, "{ws}");

    // Pings both ways, answered with their payloads.
    assert_eq!(as_strings(&seen.pings), ["ping from ws client"], "{ws}");
    assert_eq!(
        lines(&out, "PING "),
        our_pings("ping from sansws server", expected.len()),
        "{ws}:\n{out}"
    );
    assert_eq!(
        as_strings(&seen.pongs),
        our_pings("ping from sansws server", expected.len()),
        "{ws}"
    );
    assert_eq!(
        lines(&out, "PONG "),
        ["ping from ws client"],
        "{ws}:\n{out}"
    );

    // ws closed with 4001 and a reason; we answered with its code.
    let frame = seen
        .close
        .unwrap_or_else(|| panic!("{ws}: no close frame"))
        .unwrap_or_else(|| panic!("{ws}: a close frame without a code"));
    assert_eq!(frame.code, CloseCode(4001), "{ws}");
    assert_eq!(frame.reason.as_str(), "client done ✓", "{ws}");
    assert_eq!(line(&out, "CLOSE "), Some("4001"), "{ws}:\n{out}");
}

/// The kind and payload of a data message event.
fn message(event: Event) -> (MessageKind, Bytes) {
    match event {
        Event::Text(text) => (MessageKind::Text, text.into_bytes()),
        Event::Binary(data) => (MessageKind::Binary, data),
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn our_server_with_their_client() {
    for combo in combinations() {
        our_server_run(&combo);
    }
}

fn our_client_run(combo: &Combination) {
    let ws = &combo.label();
    let deadline = Instant::now() + PER_CONNECTION;
    let mut child = spawn(node().args(["server", combo.ws, &combo.big.to_string()]));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut child = Guard(child);
    let mut ready = String::new();
    stdout.read_line(&mut ready).unwrap();
    let port: u16 = ready
        .trim()
        .strip_prefix("READY ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{ws}: ws's server did not start: {ready:?}"));
    let output = common::interop::collect(stdout);

    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    let host = format!("127.0.0.1:{port}");
    let request = ClientRequest::new(host.as_str(), "/");
    let mut conn = Connection::client_upgrade(
        config(),
        &handshake(combo.ours),
        &request,
        Box::new(OsEntropy::new()),
    )
    .unwrap();
    let expected = script(combo.big);
    let send = |conn: &mut Connection, i: usize| {
        let m = &expected[i];
        if streamed(i) {
            send_streamed(conn, m.kind, &m.data, Some(&mid_message_ping(i)));
        } else {
            conn.send(m.kind, &m.data).unwrap();
        }
    };
    let mut seen = Seen::default();
    let result =
        common::blocking::drive_until(
            stream,
            &mut conn,
            Some(deadline),
            |conn, event| match event {
                Event::Open { .. } => {
                    conn.send_ping(b"ping from sansws client").unwrap();
                    send(conn, 0);
                }
                Event::Text(_) | Event::Binary(_) => {
                    let (kind, data) = message(event);
                    let i = seen.messages;
                    let want = expected
                        .get(i)
                        .unwrap_or_else(|| panic!("{ws}: echo {i} beyond the script"));
                    assert!(
                        !data.starts_with(b"MISMATCH"),
                        "{ws}: ws's server says {}",
                        String::from_utf8_lossy(&data)
                    );
                    assert_eq!(
                        describe(kind, &data),
                        describe(want.kind, &want.data),
                        "{ws}: echo {i}"
                    );
                    assert_same(&data, &want.data, &format!("{ws}: echo {i}"));
                    seen.messages += 1;
                    if seen.messages < expected.len() {
                        send(conn, seen.messages);
                    } else {
                        conn.close(CloseCode(4002), "sansws client done ✓").unwrap();
                    }
                }
                Event::Ping(p) => seen.pings.push(p),
                Event::Pong(p) => seen.pongs.push(p),
                Event::Close(frame) => seen.close = Some(frame),
                other => panic!("{ws}: unexpected {other:?}"),
            },
        );
    seen.extension = conn.extension().map(|e| e.name().to_string());
    let status = if result.is_ok() {
        Some(child.wait_until(deadline, "ws's server"))
    } else {
        None
    };
    drop(child);
    let out = output.join().unwrap();
    let failure = result.unwrap_or_else(|_| panic!("{ws}: timed out; ws's server said:\n{out}"));
    assert!(
        status.is_some_and(|s| s.success()),
        "{ws}: ws's server failed ({status:?}):\n{out}"
    );
    assert!(failure.is_none(), "{ws}: {failure:?}\n{out}");
    assert_eq!(
        line(&out, "OK "),
        Some(expected.len().to_string().as_str()),
        "{ws}:\n{out}"
    );
    assert_eq!(seen.messages, expected.len(), "{ws}");

    assert_eq!(
        line(&out, "EXT "),
        Some(combo.ws_server_sees),
        "{ws}:\n{out}"
    );
    let want_ext = (combo.ws_server_sees != "null").then(|| "permessage-deflate".to_string());
    assert_eq!(seen.extension, want_ext, "{ws}");

    assert_eq!(as_strings(&seen.pings), ["ping from ws server"], "{ws}");
    assert_eq!(
        as_strings(&seen.pongs),
        our_pings("ping from sansws client", expected.len()),
        "{ws}"
    );
    assert_eq!(
        lines(&out, "PING "),
        our_pings("ping from sansws client", expected.len()),
        "{ws}:\n{out}"
    );
    assert_eq!(
        lines(&out, "PONG "),
        ["ping from ws server"],
        "{ws}:\n{out}"
    );

    // We closed with 4002 and a reason; ws saw both and answered with both.
    assert_eq!(
        line(&out, "CLOSE "),
        Some("4002 sansws client done ✓"),
        "{ws}:\n{out}"
    );
    let frame = seen
        .close
        .unwrap_or_else(|| panic!("{ws}: no close frame"))
        .unwrap_or_else(|| panic!("{ws}: a close frame without a code"));
    assert_eq!(frame.code, CloseCode(4002), "{ws}");
    assert_eq!(frame.reason.as_str(), "sansws client done ✓", "{ws}");
}

#[test]
fn our_client_with_their_server() {
    for combo in combinations() {
        our_client_run(&combo);
    }
}
