//! What the tests of this package share: the example server as a child process, the peers
//! installed by the repository's scripts/setup-test-peers.sh (Python `websockets` in .venv,
//! Chromium), and temporary directories.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The repository root (this package lives in examples/http_hosts).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn peer(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("peers")
        .join(file)
}

/// The virtualenv's Python, with `websockets`.
pub fn python() -> PathBuf {
    let p = repo_root().join(".venv/bin/python");
    assert!(
        p.exists(),
        "{} not found: run scripts/setup-test-peers.sh from the repository root first",
        p.display()
    );
    p
}

/// A child process killed (and reaped) when dropped, so a failing test leaves nothing running.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The axum_echo example, started on an ephemeral loopback port.
pub struct EchoServer {
    /// `ws://127.0.0.1:PORT/echo` (or wss://), as the server printed it.
    pub url: String,
    pub port: u16,
    _child: Guard,
}

impl EchoServer {
    /// Starts `axum_echo 127.0.0.1:0` with `extra` arguments and waits for its address.
    pub fn start(extra: &[&str]) -> EchoServer {
        let mut child = Command::new(env!("CARGO_BIN_EXE_axum_echo"))
            .arg("127.0.0.1:0")
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start axum_echo");
        let stdout = child.stdout.take().unwrap();
        let child = Guard(child);
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("axum_echo listening on ")
            .unwrap_or_else(|| panic!("axum_echo said {line:?}"))
            .to_string();
        let port = url
            .rsplit(':')
            .next()
            .and_then(|rest| rest.split('/').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url:?}"));
        EchoServer {
            url,
            port,
            _child: child,
        }
    }
}

/// Runs peers/echo_client.py against `url`; returns its exit code and output.
pub fn python_echo_client(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(python())
        .arg(peer("echo_client.py"))
        .arg(url)
        .args(args)
        .output()
        .expect("run echo_client.py");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn temp_dir(what: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "sansws-http-hosts-{what}-{}-{nanos}",
        std::process::id()
    ));
    fs::create_dir_all(&dir).unwrap();
    dir
}

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Headless Chromium in its own process group, killed with all its helpers when dropped;
/// its temporary directory (profile and log) is removed then.
pub struct Browser {
    child: Child,
    dir: PathBuf,
}

impl Browser {
    /// Opens `page` (a file in peers/) with `query`.
    pub fn open(page: &str, query: &str) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "Chromium not found at {CHROMIUM}: run scripts/setup-test-peers.sh first"
        );
        let dir = temp_dir("chromium");
        let copy = dir.join(page);
        fs::copy(peer(page), &copy).unwrap();
        let log = fs::File::create(dir.join("chromium.log")).unwrap();
        let child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
            ])
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg(format!("file://{}?{query}", copy.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .process_group(0)
            .spawn()
            .expect("spawn chromium");
        Browser { child, dir }
    }

    /// Chromium's log (the page's console lines among it).
    pub fn log(&self) -> String {
        let mut s = String::new();
        let _ = fs::File::open(self.dir.join("chromium.log")).map(|mut f| f.read_to_string(&mut s));
        s
    }

    /// Waits until the log has a line containing `needle` and returns that line, or panics
    /// with the log's end once `deadline` passes.
    pub fn wait_for(&self, needle: &str, deadline: Instant) -> String {
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            if Instant::now() > deadline {
                let lines: Vec<&str> = log
                    .lines()
                    .filter(|l| !l.contains("dbus") && !l.contains("D-Bus"))
                    .collect();
                panic!(
                    "Chromium never logged {needle:?}; its log ends:\n{}",
                    lines[lines.len().saturating_sub(30)..].join("\n")
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
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
