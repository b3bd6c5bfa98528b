//! Interoperability with a browser: headless Chromium's own WebSocket client (its handshake,
//! its permessage-deflate offer with `client_max_window_bits`, its zlib) against our server.
//!
//! The test serves on 127.0.0.1 (ephemeral port) and opens tests/peers/chromium_peer.html
//! from a fresh temporary directory as a file:// page. The page connects once per run, one
//! run after the other: each run's server has its own permessage-deflate configuration
//! (default; no context takeover with small windows both ways; no extension). In each run
//! the page sends non-ASCII text, an ArrayBuffer of every byte value, 1 MiB of compressible
//! text, an empty text and an empty binary message and 64 KiB of random bytes; we check them
//! and echo each (the large one streamed, with a ping inside), then send our own messages
//! (1 MiB streamed text, 64 KiB random, empty text and binary, a short text). The page checks
//! everything it received, sends its verdict with the extensions it negotiated as a last text
//! message, and closes with 1000 and a reason. Chromium is killed at the end; the whole test
//! is bounded by a deadline.
//!
//! Needs Chromium at /usr/bin/chromium, installed by `scripts/setup-test-peers.sh`
//! (scripts/test.sh runs it).
#![cfg(unix)]

mod common;

use std::fs;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use common::interop::{assert_same, describe, random, send_streamed, words, Message};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::handshake::{AcceptOptions, HandshakeConfig};
use sansws::{CloseCode, CloseFrame, Config, Connection, Event, MessageKind};

const CHROMIUM: &str = "/usr/bin/chromium";

/// The whole test, Chromium's start included.
const DEADLINE: Duration = Duration::from_secs(60);

/// One connection from the page: our permessage-deflate configuration (`None`: the
/// extension is not configured) and the `WebSocket.extensions` the page should report.
struct Run {
    deflate: Option<DeflateConfig>,
    browser_sees: &'static str,
}

fn runs() -> Vec<Run> {
    let d = DeflateConfig::default();
    vec![
        Run {
            deflate: Some(d),
            browser_sees: "permessage-deflate",
        },
        Run {
            deflate: Some(
                d.server_no_context_takeover(true)
                    .client_no_context_takeover(true)
                    .server_max_window_bits(9)
                    .client_max_window_bits(10),
            ),
            browser_sees: "permessage-deflate; server_no_context_takeover; \
                           client_no_context_takeover; server_max_window_bits=9; \
                           client_max_window_bits=10",
        },
        Run {
            deflate: None,
            browser_sees: "",
        },
    ]
}

fn text(s: &str) -> Message {
    Message {
        kind: MessageKind::Text,
        data: s.as_bytes().to_vec(),
    }
}

fn binary(data: Vec<u8>) -> Message {
    Message {
        kind: MessageKind::Binary,
        data,
    }
}

/// What the page sends (CLIENT in chromium_peer.html).
fn client_messages() -> Vec<Message> {
    vec![
        text("héllo, wörld — κόσμε — 你好 — 🎉𝄞"),
        binary((0..=255u8).collect()),
        Message {
            kind: MessageKind::Text,
            data: words(11, 1 << 20),
        },
        text(""),
        binary(Vec::new()),
        binary(random(12, 64 * 1024)),
    ]
}

/// What we send after the echoes (SERVER in chromium_peer.html).
fn server_messages() -> Vec<Message> {
    vec![
        Message {
            kind: MessageKind::Text,
            data: words(21, 1 << 20),
        },
        binary(random(22, 64 * 1024)),
        text(""),
        binary(Vec::new()),
        text("server done €"),
    ]
}

/// Messages at least this large are sent streamed, with a ping inside.
const STREAM_FROM: usize = 512 << 10;

fn send(conn: &mut Connection, m: &Message, ping: &[u8]) {
    if m.data.len() >= STREAM_FROM {
        send_streamed(conn, m.kind, &m.data, Some(ping));
    } else {
        conn.send(m.kind, &m.data).unwrap();
    }
}

fn message(event: Event) -> (MessageKind, Bytes) {
    match event {
        Event::Text(text) => (MessageKind::Text, text.into_bytes()),
        Event::Binary(data) => (MessageKind::Binary, data),
        other => panic!("not a message: {other:?}"),
    }
}

/// Headless Chromium in its own process group, killed with all its helpers when dropped;
/// its temporary directory (page and profile) is removed then.
struct Browser {
    child: Child,
    dir: PathBuf,
}

impl Browser {
    fn launch(dir: &Path, port: u16, runs: usize) -> Browser {
        let page = dir.join("chromium_peer.html");
        fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/chromium_peer.html"),
            &page,
        )
        .unwrap();
        let profile = dir.join("profile");
        let log = fs::File::create(dir.join("chromium.log")).unwrap();
        let child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(format!("file://{}?port={port}&runs={runs}", page.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("spawn chromium");
        Browser {
            child,
            dir: dir.to_path_buf(),
        }
    }

    /// The page's console lines and Chromium's own complaints (less the D-Bus noise of a
    /// machine without a session bus), for failure messages.
    fn log(&self) -> String {
        let log = fs::read_to_string(self.dir.join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| !l.contains("dbus") && !l.contains("D-Bus"))
            .collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The whole group: the browser and the zygote, renderer and utility processes it
        // started (the group id is the browser's pid).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir() -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("sansws-chromium-{}-{nanos}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one connection showed.
#[derive(Default)]
struct Seen {
    target: String,
    origin: Option<String>,
    offer: String,
    extension: Option<String>,
    received: usize,
    verdict: Option<String>,
    pongs: Vec<Bytes>,
    close: Option<Option<CloseFrame>>,
}

fn serve_one(
    listener: &TcpListener,
    deadline: Instant,
    run: &Run,
    browser: &Browser,
    r: usize,
) -> Seen {
    let stream = common::interop::accept_until(listener, deadline, "Chromium");
    let handshake = match run.deflate {
        Some(d) => HandshakeConfig::default().extension(Arc::new(PerMessageDeflate::new(d))),
        None => HandshakeConfig::default(),
    };
    let config = Config::default()
        .max_frame_size(8 << 20)
        .max_message_size(8 << 20);
    let mut conn = Connection::server_upgrade(config, handshake);
    let client = client_messages();
    let server = server_messages();
    let mut seen = Seen::default();
    let result =
        common::blocking::drive_until(
            stream,
            &mut conn,
            Some(deadline),
            |conn, event| match event {
                Event::UpgradeRequest => {
                    let req = conn.upgrade_request().unwrap();
                    seen.target = req.target.clone();
                    seen.origin = req.origin.clone();
                    seen.offer = req
                        .header("sec-websocket-extensions")
                        .map(|h| String::from_utf8_lossy(h).into_owned())
                        .unwrap_or_default();
                    conn.accept(AcceptOptions::new()).unwrap();
                }
                Event::Text(_) | Event::Binary(_) => {
                    let (kind, data) = message(event);
                    let i = seen.received;
                    if let Some(want) = client.get(i) {
                        assert_eq!(
                            describe(kind, &data),
                            describe(want.kind, &want.data),
                            "run {r}: message {i}"
                        );
                        assert_same(&data, &want.data, &format!("run {r}: message {i}"));
                        send(conn, want, format!("ping in echo {i}").as_bytes());
                        if i + 1 == client.len() {
                            for (j, m) in server.iter().enumerate() {
                                send(conn, m, format!("ping in server message {j}").as_bytes());
                            }
                        }
                    } else if seen.verdict.is_none() {
                        assert_eq!(kind, MessageKind::Text, "run {r}: the verdict");
                        seen.verdict = Some(String::from_utf8(data.to_vec()).unwrap());
                    } else {
                        panic!("run {r}: a message after the verdict");
                    }
                    seen.received += 1;
                }
                Event::Pong(p) => seen.pongs.push(p),
                Event::Close(frame) => seen.close = Some(frame),
                other => panic!("run {r}: unexpected {other:?}"),
            },
        );
    seen.extension = conn.extension().map(|e| e.name().to_string());
    let failure = result.unwrap_or_else(|_| {
        panic!(
            "run {r}: timed out after {} of {} messages; Chromium said:\n{}",
            seen.received,
            client.len() + 1,
            browser.log()
        )
    });
    assert!(failure.is_none(), "run {r}: {failure:?}\n{}", browser.log());
    seen
}

#[test]
fn chromium_client_with_our_server() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "Chromium not found at {CHROMIUM}: run scripts/setup-test-peers.sh first (scripts/test.sh does)"
    );
    let deadline = Instant::now() + DEADLINE;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let runs = runs();
    let browser = Browser::launch(&temp_dir(), port, runs.len());

    for (r, run) in runs.iter().enumerate() {
        let seen = serve_one(&listener, deadline, run, &browser, r);
        let log = browser.log();

        // The browser's real handshake: its offer, from a file:// page.
        assert_eq!(seen.target, format!("/run/{r}"));
        assert_eq!(
            seen.origin.as_deref(),
            Some("null"),
            "file:// pages send Origin: null"
        );
        assert!(
            seen.offer.starts_with("permessage-deflate")
                && seen.offer.contains("client_max_window_bits"),
            "run {r}: Chromium offered {:?}",
            seen.offer
        );
        let want_ext = run.deflate.map(|_| "permessage-deflate".to_string());
        assert_eq!(seen.extension, want_ext, "run {r}");

        // Every message both ways, checked on both sides; the page reports what it
        // negotiated.
        assert_eq!(seen.received, client_messages().len() + 1, "run {r}");
        assert_eq!(
            seen.verdict.as_deref(),
            Some(format!("VERDICT ok {}", run.browser_sees).as_str()),
            "run {r}:\n{log}"
        );

        // The pings inside streamed messages came back.
        let pongs: Vec<String> = seen
            .pongs
            .iter()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect();
        assert_eq!(
            pongs,
            ["ping in echo 2", "ping in server message 0"],
            "run {r}"
        );

        // The page closed with 1000 and its reason.
        let frame = seen
            .close
            .unwrap_or_else(|| panic!("run {r}: no close frame\n{log}"))
            .unwrap_or_else(|| panic!("run {r}: a close frame without a code"));
        assert_eq!(frame.code, CloseCode::NORMAL, "run {r}");
        assert_eq!(frame.reason.as_str(), "bye from chromium ✓", "run {r}");
    }

    // And the browser saw each close handshake complete: our answer carried its code, and the
    // transport closed after it (`wasClean`). The page logs this to the console as it goes.
    for r in 0..runs.len() {
        let line = format!("\"run {r}: closed 1000  clean=true\"");
        while !browser.log().contains(&line) {
            assert!(
                Instant::now() < deadline,
                "run {r}: the page did not see a clean close:\n{}",
                browser.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    drop(browser);
}
