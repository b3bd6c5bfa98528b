//! The load generator of the end-to-end echo benchmark.
//!
//! Opens `--connections` active and `--idle` idle WebSocket connections to an echo server,
//! then keeps exactly one message in flight on each active one: send a message, wait for its
//! echo, check it, send the next. Idle connections only connect, complete the opening
//! handshake and stay open (answering pings). After `--warmup` seconds it measures for
//! `--duration` seconds and prints one line:
//!
//!     result msgs=.. secs=.. msg_per_s=.. bytes_per_s=.. loadgen_cpu=.. server_cpu=..
//!            loadgen_us_per_msg=.. server_us_per_msg=.. server_faults_per_msg=..
//!
//! `bytes_per_s` counts echoed payload bytes (message size times messages). The CPU figures
//! cover the measured window: the share of one core each process used, and its CPU time per
//! echoed message in microseconds; the server's are read from /proc/PID/stat when
//! `--server-pid` is given, with its minor page faults per echoed message (memory the server
//! mapped afresh, such as buffers allocated and freed per message). Any handshake failure, wrong echo, protocol
//! error, closed connection or stall (no echo for 10 s) exits with status 1 and says why.
//!
//! The client framing is written here by hand, not taken from a WebSocket crate: it is small
//! (no extensions, no fragmentation of its own sends), independent of every library under
//! test, and costs the load generator as little as possible. One thread, one mio event loop:
//! on this 2-core machine the other core belongs to the server.
//!
//!     loadgen --addr 127.0.0.1:9301 --connections 100 --size 20 --duration 4 --warmup 1

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use sansws_e2e_bench::wire::{self, HeadReader, Output, ResponseHead};
/// How many opening handshakes may be under way at once: enough to open 10,000 connections
/// in a few seconds, few enough not to overflow the server's accept backlog.
const CONNECT_WINDOW: usize = 256;
/// One read takes at most this much; shared by all connections.
const READ_CHUNK: usize = 256 * 1024;
/// The first bytes of each message carry its sequence number, so that an echo of an earlier
/// message or another connection's message is caught, not only a wrong length.
const STAMP: usize = 8;
/// No echo at all for this long fails the run.
const STALL: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Binary,
    Text,
}

impl Kind {
    fn opcode(self) -> u8 {
        match self {
            Kind::Binary => 2,
            Kind::Text => 1,
        }
    }
}

struct Options {
    addr: SocketAddr,
    connections: usize,
    idle: usize,
    size: usize,
    kind: Kind,
    duration: Duration,
    warmup: Duration,
    server_pid: Option<u32>,
}

fn usage() -> String {
    "usage: loadgen --addr HOST:PORT [--connections N] [--idle N] [--size BYTES] \
     [--kind binary|text] [--duration SECS] [--warmup SECS] [--server-pid PID]"
        .into()
}

fn parse_options() -> Result<Options, String> {
    let mut o = Options {
        addr: "127.0.0.1:9301".parse().expect("a valid address"),
        connections: 100,
        idle: 0,
        size: 20,
        kind: Kind::Binary,
        duration: Duration::from_secs(4),
        warmup: Duration::from_secs(1),
        server_pid: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(usage)?;
        let bad = |_| format!("bad value for {flag}: {value}\n{}", usage());
        let secs = |v: &str| {
            v.parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or_else(|| format!("bad value for {flag}: {v}"))
        };
        match flag.as_str() {
            "--addr" => o.addr = value.parse().map_err(|_| bad(()))?,
            "--connections" => o.connections = value.parse().map_err(|_| bad(()))?,
            "--idle" => o.idle = value.parse().map_err(|_| bad(()))?,
            "--size" => o.size = value.parse().map_err(|_| bad(()))?,
            "--kind" => {
                o.kind = match value.as_str() {
                    "binary" => Kind::Binary,
                    "text" => Kind::Text,
                    _ => return Err(bad(())),
                }
            }
            "--duration" => o.duration = secs(&value)?,
            "--warmup" => o.warmup = secs(&value)?,
            "--server-pid" => o.server_pid = Some(value.parse().map_err(|_| bad(()))?),
            _ => return Err(usage()),
        }
    }
    if o.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    Ok(o)
}

/// What every message carries after its stamp; random, and ASCII letters for text messages.
struct Pattern {
    bytes: Vec<u8>,
    kind: Kind,
}

impl Pattern {
    fn new(size: usize, kind: Kind) -> Self {
        let bytes = (0..size)
            .map(|_| match kind {
                Kind::Binary => fastrand::u8(..),
                Kind::Text => fastrand::alphanumeric() as u8,
            })
            .collect();
        Pattern { bytes, kind }
    }

    /// Byte `i` of the stamp of message `seq`: for text, a letter, so the message stays UTF-8.
    fn stamp(&self, seq: u64, i: usize) -> u8 {
        let b = seq.to_le_bytes()[i];
        match self.kind {
            Kind::Binary => b,
            Kind::Text => b'a' + (b & 15),
        }
    }

    /// Whether `data` is what message `seq` holds from offset `at` on.
    fn matches(&self, seq: u64, at: usize, data: &[u8]) -> bool {
        let Some(expected) = self.bytes.get(at..at + data.len()) else {
            return false;
        };
        let stamped = STAMP.saturating_sub(at).min(data.len());
        (0..stamped).all(|i| data[i] == self.stamp(seq, at + i))
            && data[stamped..] == expected[stamped..]
    }
}

/// Appends a client frame (FIN set, masked with a fresh random key) holding `payload` to
/// `out`; the first `STAMP` bytes of the payload are replaced by `stamp`.
fn push_frame(out: &mut Output, opcode: u8, payload: &[u8], stamp: impl Fn(usize) -> u8) {
    let key = fastrand::u32(..).to_ne_bytes();
    wire::push_frame(out, 0x80 | opcode, payload.len(), Some(key), |dst| {
        dst.copy_from_slice(payload);
        for (i, b) in dst.iter_mut().take(STAMP).enumerate() {
            *b = stamp(i);
        }
    });
}

#[derive(PartialEq)]
enum Phase {
    Connecting,
    Handshaking,
    Open,
}

/// Where the reader is in the server's frames (server frames are never masked).
struct Reader {
    head: HeadReader,
    in_header: bool,
    fin: bool,
    opcode: u8,
    left: u64,
    /// Inside a data message (between its first frame and its final one).
    in_message: bool,
    message_opcode: u8,
    /// Bytes of the current message checked so far.
    position: usize,
    /// The payload of the control frame being read.
    control: Vec<u8>,
}

impl Reader {
    fn new() -> Self {
        Reader {
            head: HeadReader::default(),
            in_header: true,
            fin: false,
            opcode: 0,
            left: 0,
            in_message: false,
            message_opcode: 0,
            position: 0,
            control: Vec::new(),
        }
    }
}

struct Conn {
    socket: TcpStream,
    phase: Phase,
    active: bool,
    /// Bytes waiting for the socket.
    out: Output,
    /// The opening handshake's response, until its blank line.
    response: Vec<u8>,
    accept: String,
    reader: Reader,
    /// Sequence number of the message in flight.
    seq: u64,
    in_flight: bool,
}

/// What the loop counts, across connections.
struct Totals {
    open: usize,
    echoes: u64,
    last_echo: Instant,
    sending: bool,
}

impl Conn {
    fn send_next(&mut self, pattern: &Pattern) {
        self.seq += 1;
        let seq = self.seq;
        push_frame(&mut self.out, pattern.kind.opcode(), &pattern.bytes, |i| {
            pattern.stamp(seq, i)
        });
        self.in_flight = true;
    }

    /// Moves bytes until the socket would block (or, for reads, until a read comes back short:
    /// the socket was drained then, and anything arriving later raises a new edge).
    fn drive(
        &mut self,
        scratch: &mut [u8],
        pattern: &Pattern,
        totals: &mut Totals,
    ) -> Result<(), String> {
        if self.phase == Phase::Connecting {
            if let Some(e) = self.socket.take_error().map_err(|e| e.to_string())? {
                return Err(format!("connect: {e}"));
            }
            match self.socket.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotConnected => return Ok(()),
                Err(e) => return Err(format!("connect: {e}")),
            }
            self.socket.set_nodelay(true).map_err(|e| e.to_string())?;
            let (key, accept) = wire::handshake_key();
            self.accept = accept;
            let host = self.socket.peer_addr().map_err(|e| e.to_string())?;
            let request = wire::handshake_request(&host.to_string(), &key, "");
            self.out
                .append(request.len())
                .copy_from_slice(request.as_bytes());
            self.phase = Phase::Handshaking;
        }
        loop {
            while !self.out.is_empty() {
                match self.socket.write(self.out.pending()) {
                    Ok(0) => return Err("write returned 0".into()),
                    Ok(n) => self.out.advance(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(format!("write: {e}")),
                }
            }
            let n = match self.socket.read(scratch) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read: {e}")),
            };
            let mut data = &scratch[..n];
            if self.phase == Phase::Handshaking {
                data = match self.handshake_response(data)? {
                    Some(rest) => {
                        self.phase = Phase::Open;
                        totals.open += 1;
                        if self.active && totals.sending {
                            self.send_next(pattern);
                        }
                        rest
                    }
                    None => &[],
                };
            }
            if !data.is_empty() {
                self.frames(data, pattern, totals)?;
            }
            if n < scratch.len() && self.out.is_empty() {
                return Ok(());
            }
        }
    }

    /// Collects the handshake response; once its blank line has arrived, checks it and returns
    /// what followed it.
    fn handshake_response<'a>(&mut self, data: &'a [u8]) -> Result<Option<&'a [u8]>, String> {
        let old = self.response.len();
        self.response.extend_from_slice(data);
        let Some(head) = ResponseHead::parse(&self.response)? else {
            return Ok(None);
        };
        head.check_upgrade(&self.accept)?;
        if let Some(value) = head.header("sec-websocket-extensions") {
            return Err(format!("extension agreed though none was offered: {value}"));
        }
        let rest = head.len - old;
        self.response = Vec::new();
        Ok(Some(&data[rest..]))
    }

    /// Reads the server's frames out of `data`, checking every echoed byte.
    fn frames(
        &mut self,
        mut data: &[u8],
        pattern: &Pattern,
        totals: &mut Totals,
    ) -> Result<(), String> {
        while !data.is_empty() {
            let r = &mut self.reader;
            if r.in_header {
                let Some(head) = r.head.feed(&mut data) else {
                    break;
                };
                if head.masked {
                    return Err("masked frame from the server".into());
                }
                if head.rsv != 0 {
                    return Err("RSV bits set though no extension was agreed".into());
                }
                let len = head.len;
                r.fin = head.fin;
                r.opcode = head.opcode;
                match r.opcode {
                    0 if !r.in_message => return Err("continuation frame outside a message".into()),
                    1 | 2 if r.in_message => return Err("new message inside a message".into()),
                    1 | 2 => {
                        r.in_message = true;
                        r.message_opcode = r.opcode;
                        r.position = 0;
                    }
                    0 => {}
                    8..=10 if !r.fin || len > 125 => return Err("bad control frame".into()),
                    8..=10 => r.control.clear(),
                    op => return Err(format!("reserved opcode {op}")),
                }
                if r.opcode <= 2
                    && (!self.in_flight || r.position as u64 + len > pattern.bytes.len() as u64)
                {
                    return Err(format!(
                        "echo longer than the {} bytes sent (or nothing was in flight)",
                        pattern.bytes.len()
                    ));
                }
                r.left = len;
                r.in_header = false;
            } else {
                let take = r.left.min(data.len() as u64) as usize;
                let (chunk, rest) = data.split_at(take);
                if r.opcode <= 2 {
                    if !pattern.matches(self.seq, r.position, chunk) {
                        return Err(format!(
                            "echo of message {} differs from what was sent",
                            self.seq
                        ));
                    }
                    r.position += take;
                } else {
                    r.control.extend_from_slice(chunk);
                }
                r.left -= take as u64;
                data = rest;
            }
            if !self.reader.in_header && self.reader.left == 0 {
                self.end_of_frame(pattern, totals)?;
            }
        }
        Ok(())
    }

    fn end_of_frame(&mut self, pattern: &Pattern, totals: &mut Totals) -> Result<(), String> {
        let r = &mut self.reader;
        r.in_header = true;
        match r.opcode {
            0..=2 if r.fin => {
                r.in_message = false;
                if r.message_opcode != pattern.kind.opcode() {
                    return Err("echo of another kind (text/binary) than sent".into());
                }
                if r.position != pattern.bytes.len() {
                    return Err(format!(
                        "echo of {} bytes, {} sent",
                        r.position,
                        pattern.bytes.len()
                    ));
                }
                self.in_flight = false;
                totals.echoes += 1;
                totals.last_echo = Instant::now();
                if totals.sending {
                    self.send_next(pattern);
                }
            }
            0..=2 => {}
            8 => {
                let code = r.control.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                return Err(format!("the server sent a close frame, code {code:?}"));
            }
            9 => {
                let ping = std::mem::take(&mut r.control);
                push_frame(&mut self.out, 10, &ping, |i| ping[i]);
                self.reader.control = ping;
            }
            _ => {}
        }
        Ok(())
    }
}

/// CPU time (user + system) of a process so far, from /proc/PID/stat, in clock ticks of 10 ms
/// (USER_HZ is 100 on Linux).
fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line; here, after "pid (comm)", 12 and 13.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Minor page faults of a process so far, from /proc/PID/stat.
fn minor_faults(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // minflt is field 10 of the line; here, after "pid (comm)", 7.
    fields.get(7)?.parse().ok()
}

/// The event loop and everything it drives.
struct Load {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    totals: Totals,
    scratch: Vec<u8>,
    pattern: Pattern,
}

impl Load {
    /// Waits up to `timeout` for readiness and drives the connections that have it.
    fn step(&mut self, timeout: Duration) -> Result<(), String> {
        self.poll
            .poll(&mut self.events, Some(timeout))
            .map_err(|e| e.to_string())?;
        for event in self.events.iter() {
            let i = event.token().0;
            self.conns[i]
                .drive(&mut self.scratch, &self.pattern, &mut self.totals)
                .map_err(|e| format!("connection {i}: {e}"))?;
        }
        Ok(())
    }

    /// Opens `o.idle` idle and `o.connections` active connections, a window of handshakes at a
    /// time.
    fn open(&mut self, o: &Options) -> Result<(), String> {
        let total = o.connections + o.idle;
        let started = Instant::now();
        while self.totals.open < total {
            while self.conns.len() < total && self.conns.len() - self.totals.open < CONNECT_WINDOW {
                let i = self.conns.len();
                let mut socket = TcpStream::connect(o.addr)
                    .map_err(|e| format!("connection {i}: connect: {e}"))?;
                self.poll
                    .registry()
                    .register(
                        &mut socket,
                        Token(i),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .map_err(|e| e.to_string())?;
                self.conns.push(Conn {
                    socket,
                    phase: Phase::Connecting,
                    active: i >= o.idle,
                    out: Output::default(),
                    response: Vec::new(),
                    accept: String::new(),
                    reader: Reader::new(),
                    seq: 0,
                    in_flight: false,
                });
            }
            if started.elapsed() > Duration::from_secs(120) {
                return Err(format!(
                    "only {} of {total} connections open after 120 s",
                    self.totals.open
                ));
            }
            self.step(Duration::from_millis(100))?;
        }
        Ok(())
    }

    /// Puts one message in flight on every active connection.
    fn start_sending(&mut self) -> Result<(), String> {
        self.totals.sending = true;
        self.totals.last_echo = Instant::now();
        for (i, c) in self.conns.iter_mut().enumerate().filter(|(_, c)| c.active) {
            c.send_next(&self.pattern);
            c.drive(&mut self.scratch, &self.pattern, &mut self.totals)
                .map_err(|e| format!("connection {i}: {e}"))?;
        }
        Ok(())
    }
}

/// A point in the run: when, how many echoes so far, CPU ticks of the load generator and of
/// the server, and the server's minor page faults.
type Snapshot = (Instant, u64, Option<u64>, Option<u64>, Option<u64>);

fn run(o: &Options) -> Result<(), String> {
    let mut load = Load {
        poll: Poll::new().map_err(|e| e.to_string())?,
        events: Events::with_capacity(1024),
        conns: Vec::with_capacity(o.connections + o.idle),
        totals: Totals {
            open: 0,
            echoes: 0,
            last_echo: Instant::now(),
            sending: false,
        },
        scratch: vec![0u8; READ_CHUNK],
        pattern: Pattern::new(o.size, o.kind),
    };
    let started = Instant::now();
    load.open(o)?;
    let connect_time = started.elapsed();
    load.start_sending()?;

    let server_pid = o.server_pid.map(|p| p.to_string());
    let snapshot = |echoes: u64| -> Snapshot {
        (
            Instant::now(),
            echoes,
            cpu_ticks("self"),
            server_pid.as_deref().and_then(cpu_ticks),
            server_pid.as_deref().and_then(minor_faults),
        )
    };
    let mut phase_end = Instant::now() + o.warmup;
    let mut start: Option<Snapshot> = None;
    loop {
        let now = Instant::now();
        if now >= phase_end {
            let Some((t0, n0, own0, srv0, faults0)) = start else {
                let s = snapshot(load.totals.echoes);
                phase_end = s.0 + o.duration;
                start = Some(s);
                continue;
            };
            let (t1, n1, own1, srv1, faults1) = snapshot(load.totals.echoes);
            let secs = (t1 - t0).as_secs_f64();
            let msgs = n1 - n0;
            if msgs == 0 {
                return Err("no echo in the measured window".into());
            }
            // CPU seconds in the window: as a share of one core, and per echoed message (the
            // latter holds up when other processes take the machine's cores for a while).
            let cpu =
                |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| (b - a) as f64 / 100.0);
            let share = |c: Option<f64>| c.map_or("NA".into(), |c| format!("{:.2}", c / secs));
            let per_msg =
                |c: Option<f64>| c.map_or("NA".into(), |c| format!("{:.2}", c * 1e6 / msgs as f64));
            let (own, srv) = (cpu(own0, own1), cpu(srv0, srv1));
            let faults = faults0.zip(faults1).map_or("NA".into(), |(a, b)| {
                format!("{:.2}", (b - a) as f64 / msgs as f64)
            });
            let rate = msgs as f64 / secs;
            eprintln!(
                "{} active + {} idle connections open in {:.2} s; {msgs} echoes of {} B in {secs:.2} s",
                o.connections,
                o.idle,
                connect_time.as_secs_f64(),
                o.size
            );
            println!(
                "result msgs={msgs} secs={secs:.3} msg_per_s={rate:.0} bytes_per_s={:.0} \
                 loadgen_cpu={} server_cpu={} loadgen_us_per_msg={} server_us_per_msg={} \
                 server_faults_per_msg={faults}",
                rate * o.size as f64,
                share(own),
                share(srv),
                per_msg(own),
                per_msg(srv)
            );
            return Ok(());
        }
        if load.totals.last_echo.elapsed() > STALL {
            return Err(format!("no echo for {} s", STALL.as_secs()));
        }
        load.step((phase_end - now).min(Duration::from_millis(500)))?;
    }
}

fn main() -> ExitCode {
    let result = parse_options().and_then(|o| run(&o));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A client connection in the open state and the server's end of its socket.
    fn open_pair() -> (Conn, std::net::TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.set_nonblocking(true).unwrap();
        let conn = Conn {
            socket: TcpStream::from_std(client),
            phase: Phase::Open,
            active: true,
            out: Output::default(),
            response: Vec::new(),
            accept: String::new(),
            reader: Reader::new(),
            seq: 0,
            in_flight: false,
        };
        (conn, server)
    }

    /// Reads one client frame on the server's end: (first byte, unmasked payload).
    fn read_client_frame(server: &mut std::net::TcpStream) -> (u8, Vec<u8>) {
        let mut head = [0u8; 2];
        server.read_exact(&mut head).unwrap();
        assert_eq!(head[1] & 0x80, 0x80, "client frames are masked");
        let len = match head[1] & 0x7f {
            126 => {
                let mut b = [0u8; 2];
                server.read_exact(&mut b).unwrap();
                u16::from_be_bytes(b) as usize
            }
            127 => {
                let mut b = [0u8; 8];
                server.read_exact(&mut b).unwrap();
                u64::from_be_bytes(b) as usize
            }
            n => n as usize,
        };
        let mut key = [0u8; 4];
        server.read_exact(&mut key).unwrap();
        let mut payload = vec![0u8; len];
        server.read_exact(&mut payload).unwrap();
        for (i, b) in payload.iter_mut().enumerate() {
            *b ^= key[i & 3];
        }
        (head[0], payload)
    }

    /// An unmasked server frame.
    fn server_frame(first: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![first];
        if payload.len() < 126 {
            f.push(payload.len() as u8);
        } else if payload.len() <= 0xffff {
            f.push(126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        } else {
            f.push(127);
            f.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        }
        f.extend_from_slice(payload);
        f
    }

    fn totals() -> Totals {
        Totals {
            open: 1,
            echoes: 0,
            last_echo: Instant::now(),
            sending: true,
        }
    }

    /// The echo count or the client's error, and the client's next data frame.
    type Outcome = (Result<u64, String>, Option<(u8, Vec<u8>)>);

    /// Sends one message, lets `answer` turn it into the server's reply, and drives the client
    /// until it has counted an echo or failed. Returns the outcome and the client's next frame
    /// if it sent one.
    fn exchange(size: usize, kind: Kind, answer: impl Fn(u8, Vec<u8>) -> Vec<u8>) -> Outcome {
        let (mut conn, mut server) = open_pair();
        let pattern = Pattern::new(size, kind);
        let mut totals = totals();
        let mut scratch = vec![0u8; 4096];
        conn.send_next(&pattern);
        conn.drive(&mut scratch, &pattern, &mut totals).unwrap();
        let (first, payload) = read_client_frame(&mut server);
        assert_eq!(first, 0x80 | kind.opcode());
        assert!(
            pattern.matches(1, 0, &payload),
            "the client sent the stamped pattern"
        );
        server.write_all(&answer(first, payload)).unwrap();
        // Not a timing assertion: a bound so that a broken reader fails instead of hanging.
        let give_up = Instant::now() + Duration::from_secs(10);
        let result = loop {
            if let Err(e) = conn.drive(&mut scratch, &pattern, &mut totals) {
                break Err(e);
            }
            if totals.echoes > 0 || Instant::now() > give_up {
                break Ok(totals.echoes);
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        // The next message, after the pongs of any pings the answer held.
        let next = (result == Ok(1)).then(|| loop {
            let frame = read_client_frame(&mut server);
            if frame.0 != 0x8a {
                break frame;
            }
        });
        if let Some((_, payload)) = &next {
            assert!(
                pattern.matches(2, 0, payload),
                "the next message has the next stamp"
            );
        }
        (result, next)
    }

    #[test]
    fn a_faithful_echo_counts_and_the_next_message_follows() {
        for (size, kind) in [
            (20, Kind::Binary),
            (70_000, Kind::Binary),
            (1024, Kind::Text),
            (3, Kind::Text),
        ] {
            let (result, next) = exchange(size, kind, |first, p| server_frame(first, &p));
            assert_eq!(result, Ok(1), "size {size}");
            let (_, payload) = next.expect("a second message");
            assert_eq!(payload.len(), size);
            if kind == Kind::Text {
                assert!(std::str::from_utf8(&payload).is_ok());
            }
        }
    }

    #[test]
    fn a_fragmented_echo_counts() {
        let (result, _) = exchange(1000, Kind::Binary, |_, p| {
            let mut f = server_frame(0x02, &p[..10]);
            f.extend(server_frame(0x00, &p[10..600]));
            f.extend(server_frame(0x89, b"ping in between"));
            f.extend(server_frame(0x80, &p[600..]));
            f
        });
        assert_eq!(result, Ok(1));
    }

    #[test]
    fn a_wrong_echo_fails() {
        let flipped = |at: usize| {
            move |first: u8, mut p: Vec<u8>| {
                p[at] ^= 1;
                server_frame(first, &p)
            }
        };
        for (size, at) in [(20, 0), (20, 7), (20, 19), (70_000, 65_000)] {
            let (result, _) = exchange(size, Kind::Binary, flipped(at));
            assert!(
                result.unwrap_err().contains("differs"),
                "byte {at} of {size}"
            );
        }
        let (result, _) = exchange(20, Kind::Binary, |first, p| server_frame(first, &p[..19]));
        assert!(result.unwrap_err().contains("echo of 19 bytes"));
        let (result, _) = exchange(20, Kind::Binary, |_, p| server_frame(0x81, &p));
        assert!(result.unwrap_err().contains("another kind"));
        let (result, _) = exchange(20, Kind::Binary, |first, p| {
            let mut twice = p.clone();
            twice.extend(&p);
            server_frame(first, &twice)
        });
        assert!(result.unwrap_err().contains("longer"));
        let (result, _) = exchange(20, Kind::Binary, |_, _| {
            server_frame(0x88, &1001u16.to_be_bytes())
        });
        assert!(result.unwrap_err().contains("close frame, code Some(1001)"));
    }

    #[test]
    fn a_ping_is_answered_with_a_masked_pong() {
        let (mut conn, mut server) = open_pair();
        let pattern = Pattern::new(20, Kind::Binary);
        let mut totals = totals();
        let mut scratch = vec![0u8; 4096];
        server
            .write_all(&server_frame(0x89, b"are you there"))
            .unwrap();
        server.set_nonblocking(true).unwrap();
        let give_up = Instant::now() + Duration::from_secs(10);
        while server.peek(&mut [0u8]).is_err() && Instant::now() < give_up {
            conn.drive(&mut scratch, &pattern, &mut totals).unwrap();
            std::thread::sleep(Duration::from_millis(1));
        }
        server.set_nonblocking(false).unwrap();
        let (first, payload) = read_client_frame(&mut server);
        assert_eq!((first, payload.as_slice()), (0x8a, &b"are you there"[..]));
    }
}
