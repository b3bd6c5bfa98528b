//! The soak driver: thousands of WebSocket connections at once against one echo server on
//! loopback, for a bounded time, each running a script drawn from a seeded schedule: echo
//! traffic (text and binary, bytes to 1 MiB, with and without permessage-deflate, fragmented
//! with pings between fragments, closes inside fragmented messages), slow readers that never
//! read, clients that stop mid-handshake, mid-frame or mid-compressed-message and then reset,
//! half-close or vanish, protocol violations (oversized frames, invalid UTF-8, decompression
//! bombs, reserved bits and opcodes, bad control and close frames), and a new connection in
//! each slot as soon as the last one ended (reconnect churn).
//!
//! It checks every echo byte for byte and in order, every pong, the close code that answers
//! each violation, that vanished and non-reading clients are dropped by the server's
//! deadlines (when the server has them; `--handshake-deadline`, `--silent-deadline`,
//! `--slow-deadline`), and that a client that reads nothing cannot make the server take more
//! than a bound of bytes. With `--server-pid` it follows the server's resident memory: peak
//! against a bound derived from the schedule, and the end (everything closed, after
//! `--settle`) against the start. Prints a report; exits 1 on any failure.
//!
//!     soak --addr 127.0.0.1:9901 --server-pid PID --seconds 60 --connections 3000
//!
//! One thread, one mio event loop. The client framing is `sansws_e2e_bench::wire`, shared
//! with the load generator; permessage-deflate on the client side is C zlib (flate2).

mod deflate;
mod payload;
mod plan;
mod session;
mod stats;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fastrand::Rng;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Socket, Type};

use plan::{Action, Kind, Msg, Plan, Room};
use session::{Ctx, Session};
use stats::Stats;

const MIB: f64 = 1024.0 * 1024.0;
/// A slow reader's socket buffers: small, so that what the server holds shows early.
const SLOW_RCVBUF: usize = 4096;
const SLOW_SNDBUF: usize = 16384;
/// How many connections may be between connect and the handshake's answer at once: below the
/// servers' listen backlog (128, what std, mio and tokio ask for), or a burst overflows their
/// accept queue while they are busy. The kernel then drops the client's last handshake ACK;
/// the client believes itself connected and sends its request, which is dropped too and
/// retransmitted with growing delays, so that it can reach the server seconds after the
/// accept, past a handshake deadline counted from there (seen with 256).
const CONNECT_WINDOW: usize = 100;

#[derive(Clone)]
pub struct Options {
    addr: SocketAddr,
    server_pid: Option<u32>,
    seconds: Duration,
    drain: Duration,
    connections: usize,
    seed: u64,
    max_slow: usize,
    max_bombs: usize,
    pub max_large: usize,
    pub max_frame_size: usize,
    max_message_size: usize,
    high_water: usize,
    buffer_keep: usize,
    codec_bytes: usize,
    host_per_conn: usize,
    pub handshake_deadline: Option<Duration>,
    pub silent_deadline: Option<Duration>,
    pub slow_deadline: Option<Duration>,
    pub hold: Duration,
    pub stall: Duration,
    pub close_wait: Duration,
    /// Think times between messages are multiplied by this: above 1, fewer messages a
    /// second from as many connections.
    pub pace: f64,
    /// Fail a dribbled violation whose close frame a reset destroyed (see session.rs).
    pub strict_close: bool,
    settle: Duration,
    rss_margin: f64,
}

fn usage() -> String {
    "usage: soak --addr HOST:PORT [--server-pid PID] [--seconds S] [--drain S] \
     [--connections N] [--seed N] [--max-slow N] [--max-bombs N] [--max-large N] \
     [--max-frame-size B] [--max-message-size B] [--high-water B] [--buffer-keep B] \
     [--codec-bytes B] [--host-per-conn B] [--handshake-deadline S] [--silent-deadline S] \
     [--slow-deadline S] [--hold S] [--stall S] [--close-wait S] [--pace F] [--strict-close 0|1] \
     [--settle S] \
     [--rss-margin MIB]"
        .into()
}

fn parse_options() -> Result<Options, String> {
    let s = Duration::from_secs;
    let mut o = Options {
        addr: "127.0.0.1:9901".parse().expect("an address"),
        server_pid: None,
        seconds: s(60),
        drain: s(30),
        connections: 3000,
        seed: 1,
        max_slow: 60,
        max_bombs: 2,
        max_large: 16,
        max_frame_size: 16 << 20,
        max_message_size: 64 << 20,
        high_water: 1 << 20,
        buffer_keep: 64 << 10,
        codec_bytes: 362_598,
        host_per_conn: 64 << 10,
        handshake_deadline: None,
        silent_deadline: None,
        slow_deadline: None,
        hold: s(15),
        stall: s(30),
        close_wait: s(15),
        pace: 1.0,
        strict_close: false,
        settle: s(15),
        rss_margin: 16.0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(usage)?;
        let bad = || format!("bad value for {flag}: {value}\n{}", usage());
        let secs = || {
            value
                .parse::<f64>()
                .ok()
                .and_then(|v| Duration::try_from_secs_f64(v).ok())
                .ok_or_else(bad)
        };
        let num = || value.parse::<usize>().map_err(|_| bad());
        match flag.as_str() {
            "--addr" => o.addr = value.parse().map_err(|_| bad())?,
            "--server-pid" => o.server_pid = Some(value.parse().map_err(|_| bad())?),
            "--seconds" => o.seconds = secs()?,
            "--drain" => o.drain = secs()?,
            "--connections" => o.connections = num()?,
            "--seed" => o.seed = value.parse().map_err(|_| bad())?,
            "--max-slow" => o.max_slow = num()?,
            "--max-bombs" => o.max_bombs = num()?,
            "--max-large" => o.max_large = num()?,
            "--max-frame-size" => o.max_frame_size = num()?,
            "--max-message-size" => o.max_message_size = num()?,
            "--high-water" => o.high_water = num()?,
            "--buffer-keep" => o.buffer_keep = num()?,
            "--codec-bytes" => o.codec_bytes = num()?,
            "--host-per-conn" => o.host_per_conn = num()?,
            "--handshake-deadline" => o.handshake_deadline = Some(secs()?),
            "--silent-deadline" => o.silent_deadline = Some(secs()?),
            "--slow-deadline" => o.slow_deadline = Some(secs()?),
            "--hold" => o.hold = secs()?,
            "--stall" => o.stall = secs()?,
            "--close-wait" => o.close_wait = secs()?,
            "--pace" => o.pace = value.parse().map_err(|_| bad())?,
            "--strict-close" => o.strict_close = value == "1",
            "--settle" => o.settle = secs()?,
            "--rss-margin" => o.rss_margin = value.parse().map_err(|_| bad())?,
            _ => return Err(usage()),
        }
    }
    if o.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    Ok(o)
}

/// A kernel limit from /proc/sys (the third field of tcp_rmem or tcp_wmem: the most a
/// socket's buffer grows to on its own).
fn sysctl_max(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(6 << 20)
}

/// The kernel's effective sizes for a slow reader's buffers (it doubles what is asked).
fn slow_buffer_sizes() -> (u64, u64) {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    let _ = s.set_recv_buffer_size(SLOW_RCVBUF);
    let _ = s.set_send_buffer_size(SLOW_SNDBUF);
    (
        s.recv_buffer_size().unwrap_or(SLOW_RCVBUF * 2) as u64,
        s.send_buffer_size().unwrap_or(SLOW_SNDBUF * 2) as u64,
    )
}

/// VmRSS and VmHWM of a process, in bytes.
fn rss(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The server's memory over the run, in bytes.
struct Memory {
    start: u64,
    peak: u64,
    end: u64,
}

struct Slot {
    session: Option<Session>,
    count: u64,
    next_start: Option<Instant>,
}

struct Driver {
    poll: Poll,
    ctx: Ctx,
    slots: Vec<Slot>,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    began: Instant,
    open: usize,
}

impl Driver {
    fn elapsed(&self) -> Duration {
        self.began.elapsed()
    }

    /// Whether a connection judged `d` after it starts still ends within the run.
    fn fits(&self, d: Duration) -> bool {
        self.elapsed() + d + Duration::from_secs(2) <= self.ctx.opts.seconds + self.ctx.opts.drain
    }

    fn room(&self) -> Room {
        let o = &self.ctx.opts;
        Room {
            slow: self.ctx.slow_readers < o.max_slow
                && self.fits(
                    o.slow_deadline
                        .map_or(o.hold, |d| d + Duration::from_secs(5)),
                ),
            bomb: self.ctx.bombs_in_flight < o.max_bombs,
            silent_open: self.fits(o.silent_deadline.unwrap_or(o.hold)),
            silent_handshake: self.fits(o.handshake_deadline.unwrap_or(o.hold)),
        }
    }

    fn schedule(&mut self, i: usize, t: Instant) {
        self.timers.push(Reverse((t, i)));
    }

    fn connect(&self, small_buffers: bool) -> std::io::Result<TcpStream> {
        let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        s.set_nonblocking(true)?;
        if small_buffers {
            s.set_recv_buffer_size(SLOW_RCVBUF)?;
            s.set_send_buffer_size(SLOW_SNDBUF)?;
        }
        match s.connect(&self.ctx.opts.addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc_einprogress()) => {}
            Err(e) => return Err(e),
        }
        Ok(TcpStream::from_std(s.into()))
    }

    fn start(&mut self, i: usize, now: Instant, plan: Option<Plan>) -> Result<(), String> {
        if plan.is_none() && self.ctx.handshakes >= CONNECT_WINDOW {
            let later = now + Duration::from_millis(fastrand::u64(10..=50));
            self.slots[i].next_start = Some(later);
            self.schedule(i, later);
            return Ok(());
        }
        let slot = &mut self.slots[i];
        slot.count += 1;
        let id = (i, slot.count);
        let mut rng = Rng::with_seed(
            self.ctx
                .opts
                .seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add((i as u64) << 32 | id.1),
        );
        let plan = match plan {
            Some(p) => p,
            None => plan::choose(&mut rng, &self.room()),
        };
        let mut socket = self
            .connect(plan.small_buffers)
            .map_err(|e| format!("connect: {e}"))?;
        self.poll
            .registry()
            .register(
                &mut socket,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )
            .map_err(|e| e.to_string())?;
        self.ctx.stats.started(&plan.label);
        let mut session = Session::new(plan, socket, id, rng, &mut self.ctx);
        session.run(&mut self.ctx, now);
        self.slots[i].session = Some(session);
        self.open += 1;
        self.ctx.stats.most_open = self.ctx.stats.most_open.max(self.open);
        self.settle_slot(i, now);
        Ok(())
    }

    /// After a session ran: records it if it ended (and plans the slot's next connection),
    /// or schedules its next wake-up.
    fn settle_slot(&mut self, i: usize, now: Instant) {
        let slot = &mut self.slots[i];
        let Some(session) = slot.session.as_mut() else {
            return;
        };
        if let Some(result) = session.result.take() {
            let mut session = slot.session.take().expect("a session");
            self.open -= 1;
            self.ctx.stats.finished(&session.label, session.id, &result);
            session.release(&mut self.ctx);
            if result.is_err() {
                session.abort_socket();
            }
            let _ = self.poll.registry().deregister(session.socket());
            drop(session);
            if !self.ctx.ending && i < self.ctx.opts.connections {
                let pause = Duration::from_millis(fastrand::u64(0..=300));
                self.slots[i].next_start = Some(now + pause);
                self.schedule(i, now + pause);
            }
            return;
        }
        if let Some(t) = session.next_wake(&self.ctx) {
            if session.scheduled.is_none_or(|s| t < s) {
                session.scheduled = Some(t);
                self.schedule(i, t);
            }
        }
    }

    fn on_timers(&mut self, now: Instant) -> Result<(), String> {
        while let Some(&Reverse((t, i))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            let slot = &mut self.slots[i];
            if let Some(session) = slot.session.as_mut() {
                if session.scheduled == Some(t) {
                    session.scheduled = None;
                    session.on_timer(&mut self.ctx, now);
                    self.settle_slot(i, now);
                }
            } else if slot.next_start == Some(t) {
                slot.next_start = None;
                if !self.ctx.ending {
                    self.start(i, now, None)?;
                }
            }
        }
        Ok(())
    }

    fn turn(&mut self, events: &mut Events, max_wait: Duration) -> Result<(), String> {
        let now = Instant::now();
        let wait = self
            .timers
            .peek()
            .map_or(max_wait, |Reverse((t, _))| t.saturating_duration_since(now))
            .min(max_wait);
        self.poll
            .poll(events, Some(wait))
            .map_err(|e| e.to_string())?;
        let now = Instant::now();
        for event in events.iter() {
            let i = event.token().0;
            let hup = event.is_read_closed() || event.is_error() || event.is_write_closed();
            if let Some(session) = self.slots.get_mut(i).and_then(|s| s.session.as_mut()) {
                session.on_event(&mut self.ctx, now, hup);
                self.settle_slot(i, now);
            }
        }
        self.on_timers(now)
    }

    /// Tells every session the traffic phase is over (they skip think times and messages).
    fn end_traffic(&mut self, now: Instant) {
        self.ctx.ending = true;
        for i in 0..self.slots.len() {
            self.slots[i].next_start = None;
            if let Some(s) = self.slots[i].session.as_mut() {
                s.run(&mut self.ctx, now);
                self.settle_slot(i, now);
            }
        }
    }
}

fn libc_einprogress() -> i32 {
    // EINPROGRESS on Linux.
    115
}

/// A well-behaved connection after everything else: the server still serves.
fn liveness_plan(deflate: bool) -> Plan {
    let mut actions = vec![Action::Handshake {
        offer: deflate.then_some(deflate::Offer::Plain),
        cut: None,
    }];
    for i in 0..4 {
        actions.push(Action::Send(Msg {
            text: i % 2 == 0,
            compress: deflate,
            fragments: 1 + i % 3,
            pings: true,
        }));
    }
    actions.push(Action::Close(Some(1000)));
    actions.push(Action::ExpectClose {
        code: Some(1000),
        reply: false,
    });
    Plan {
        label: format!("liveness/{}", if deflate { "deflate" } else { "plain" }),
        kind: Kind::Echo,
        actions,
        window: 2,
        dribble: false,
        max_size: 64 << 10,
        small_buffers: false,
        bomb: false,
        level: 6,
    }
}

fn run(o: Options) -> Result<bool, String> {
    let (client_rcv, client_snd) = slow_buffer_sizes();
    let (rmem, wmem) = (
        sysctl_max("/proc/sys/net/ipv4/tcp_rmem"),
        sysctl_max("/proc/sys/net/ipv4/tcp_wmem"),
    );
    // What a client that reads nothing can hand over before its writes block for good, if
    // the server stops reading once `high_water` bytes of output wait: the server's socket
    // buffers (each up to the kernel's autotuning limit), the client's, the output queue,
    // a message being assembled and its echo, and a read buffer.
    let slow_bound = client_snd
        + client_rcv
        + rmem
        + wmem
        + o.high_water as u64
        + 4 * (64 << 10)
        + 2 * o.buffer_keep as u64;
    let bomb = deflate::bomb(o.max_message_size + (1 << 20));
    let flood_block = payload::random(&mut Rng::with_seed(o.seed), 64 << 10);
    let flood_compressed = deflate::standalone(&flood_block);
    let start_rss = o.server_pid.and_then(rss);
    let slots = o.connections + 2;
    let mut driver = Driver {
        poll: Poll::new().map_err(|e| e.to_string())?,
        ctx: Ctx {
            opts: o.clone(),
            stats: Stats::default(),
            scratch: vec![0u8; 256 << 10],
            inflate_scratch: vec![0u8; 64 << 10],
            bomb,
            flood_block,
            flood_compressed,
            large_in_flight: 0,
            bombs_in_flight: 0,
            slow_readers: 0,
            handshakes: 0,
            ending: false,
            slow_bound,
        },
        slots: (0..slots)
            .map(|_| Slot {
                session: None,
                count: 0,
                next_start: None,
            })
            .collect(),
        timers: BinaryHeap::new(),
        began: Instant::now(),
        open: 0,
    };
    let mut events = Events::with_capacity(4096);
    // Ramp up: slots start spread over the first few seconds, not all in one burst.
    let ramp = o.seconds.min(Duration::from_secs(5));
    for i in 0..o.connections {
        let t = driver.began + ramp.mul_f64(i as f64 / o.connections as f64);
        driver.slots[i].next_start = Some(t);
        driver.schedule(i, t);
    }
    let mut peak_sampled = 0u64;
    let mut last_sample = Instant::now();
    let mut last_line = Instant::now();
    let mut turns = 0u64;
    let mut slowest = Duration::ZERO;
    while driver.elapsed() < o.seconds {
        let t0 = Instant::now();
        driver.turn(&mut events, Duration::from_millis(200))?;
        turns += 1;
        slowest = slowest.max(t0.elapsed());
        if last_sample.elapsed() >= Duration::from_millis(500) {
            last_sample = Instant::now();
            if let Some((r, _)) = o.server_pid.and_then(rss) {
                peak_sampled = peak_sampled.max(r);
            } else if o.server_pid.is_some() {
                return Err("the server process is gone".into());
            }
        }
        if last_line.elapsed() >= Duration::from_secs(10) {
            last_line = Instant::now();
            let s = &driver.ctx.stats;
            eprintln!(
                "soak: {:>4.0} s  open {:>5}  echoes {:>9}  failures {}  server RSS {:.1} MiB  (turns {turns}, slowest {:.0} ms)",
                driver.elapsed().as_secs_f64(),
                driver.open,
                s.messages_echoed,
                s.failed,
                o.server_pid.and_then(rss).map_or(0.0, |r| r.0 as f64 / MIB),
                slowest.as_secs_f64() * 1000.0
            );
            turns = 0;
            slowest = Duration::ZERO;
        }
    }
    let now = Instant::now();
    driver.end_traffic(now);
    let hard_end = driver.began + o.seconds + o.drain;
    while driver.open > 0 && Instant::now() < hard_end {
        driver.turn(&mut events, Duration::from_millis(200))?;
        if let Some((r, _)) = o.server_pid.and_then(rss) {
            peak_sampled = peak_sampled.max(r);
        }
    }
    // Whatever is still open failed to finish within the drain.
    let now = Instant::now();
    for i in 0..driver.slots.len() {
        if let Some(s) = driver.slots[i].session.as_mut() {
            if s.result.is_none() {
                s.result = Some(Err(format!(
                    "unfinished {} s after the traffic phase",
                    o.drain.as_secs()
                )));
            }
            driver.settle_slot(i, now);
        }
    }
    let traffic_end = driver.elapsed();

    // All connections closed: let the server's timers run (at most `settle`, less once its
    // memory is back), then compare its memory.
    let mut memory = None;
    if let (Some(pid), Some((start, _))) = (o.server_pid, start_rss) {
        let until = Instant::now() + o.settle;
        let (mut end, mut peak);
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let Some((r, hwm)) = rss(pid) else {
                return Err("the server process is gone".into());
            };
            (end, peak) = (r, hwm.max(peak_sampled));
            if r as f64 <= start as f64 + o.rss_margin * MIB || Instant::now() >= until {
                break;
            }
        }
        memory = Some(Memory { start, peak, end });
    }

    // The server still serves.
    let live = [o.connections, o.connections + 1];
    for (k, &i) in live.iter().enumerate() {
        driver.start(i, Instant::now(), Some(liveness_plan(k == 1)))?;
    }
    let live_end = Instant::now() + o.stall;
    while live.iter().any(|&i| driver.slots[i].session.is_some()) && Instant::now() < live_end {
        driver.turn(&mut events, Duration::from_millis(100))?;
    }
    for &i in &live {
        if let Some(s) = driver.slots[i].session.as_mut() {
            s.result = Some(Err("no answer after the soak".into()));
            driver.settle_slot(i, Instant::now());
        }
    }

    Ok(report(&o, &driver.ctx, traffic_end, memory))
}

/// Prints the report; returns whether every assertion held.
fn report(o: &Options, ctx: &Ctx, took: Duration, memory: Option<Memory>) -> bool {
    let s = &ctx.stats;
    let mut ok = s.failed == 0;
    let mib = |b: u64| b as f64 / MIB;
    println!("## soak report");
    println!();
    println!(
        "{} s of traffic + drain ({:.0} s in all), {} connection slots (most open at once: {}), seed {}",
        o.seconds.as_secs(),
        took.as_secs_f64(),
        o.connections,
        s.most_open,
        o.seed
    );
    let total: u64 = s.sessions.values().map(|v| v.0).sum();
    println!(
        "connections: {total}; messages echoed {} of {} sent ({:.1} MiB of payload; {} compressed, {} fragmented, {} pings answered, {} server pings answered)",
        s.messages_echoed,
        s.messages_sent,
        mib(s.bytes_echoed),
        s.compressed_sent,
        s.fragmented_sent,
        s.pongs_ok,
        s.server_pings
    );
    println!();
    println!("| kind | connections | passed | failed |");
    println!("|---|---|---|---|");
    for (label, (started, passed, failed)) in s.by_prefix(2) {
        println!("| {label} | {started} | {passed} | {failed} |");
    }
    println!();
    println!("Every label, with its count: ");
    for (label, (started, _, failed)) in &s.sessions {
        print!(
            "{label} {started}{}; ",
            if *failed > 0 {
                format!(" ({failed} FAILED)")
            } else {
                String::new()
            }
        );
    }
    println!();
    println!();
    print!("close codes received:");
    for (code, n) in &s.close_codes {
        print!(
            " {}×{n}",
            if *code == 0 {
                "none".to_string()
            } else {
                code.to_string()
            }
        );
    }
    println!();
    for (kind, (n, shortest, longest)) in &s.dropped {
        println!(
            "dropped by the server's deadline: {kind} {n} ({:.1} s to {:.1} s from the last byte or write progress)",
            shortest.as_secs_f64(),
            longest.as_secs_f64()
        );
    }
    if s.close_lost_to_reset > 0 {
        println!(
            "close frames lost to a reset (dribbled violations, the server closed with their rest unread; --strict-close 1 fails them): {}",
            s.close_lost_to_reset
        );
    }
    for (kind, n) in &s.held {
        println!("held and reset by the driver (the server has no deadline for them): {kind} {n}");
    }
    println!(
        "slow readers: the server took at most {:.1} MiB from one (bound {:.1} MiB)",
        mib(s.slow_max_accepted),
        mib(ctx.slow_bound)
    );
    // Every kind of behaviour must have happened, or the run proves nothing about it.
    let kinds = s.by_prefix(1);
    for kind in ["echo", "violation", "abort", "slow-reader", "liveness"] {
        if kinds.get(kind).is_none_or(|v| v.0 == 0) {
            println!("FAIL: no {kind} connection ran");
            ok = false;
        }
    }
    for want in [
        "abort/mid-handshake",
        "abort/mid-frame",
        "abort/mid-compressed-message",
        "violation/decompression-bomb",
        "violation/oversized-frame",
        "violation/invalid-utf8",
        "violation/reserved-bit",
        "violation/reserved-opcode",
        "echo/deflate",
        "echo/plain",
    ] {
        if s.by_prefix(want.split('/').count())
            .get(want)
            .is_none_or(|v| v.0 == 0)
        {
            println!("FAIL: no {want} connection ran");
            ok = false;
        }
    }
    if let Some(Memory { start, peak, end }) = memory {
        // The peak bound, from the schedule: every slot may hold a connection with buffers of
        // up to buffer_keep each (input, output, deflate scratch, gathered message) and the
        // host's own per-connection state, plus a permessage-deflate codec with context
        // takeover; each large message in flight (at most max_large) up to four copies of
        // 1 MiB; each slow reader (at most max_slow) a high-water mark of output plus a
        // message each way; each bomb (at most max_bombs) the message limit it reaches.
        let per_conn = 4 * o.buffer_keep + o.host_per_conn + o.codec_bytes;
        let terms = [
            (o.connections * per_conn) as u64,
            (o.max_large * (4 << 20)) as u64,
            (o.max_slow * (o.high_water + 4 * (64 << 10))) as u64,
            (o.max_bombs * (o.max_message_size + (2 << 20))) as u64,
        ];
        let bound = start + terms.iter().sum::<u64>();
        println!();
        println!(
            "server RSS: start {:.1} MiB, peak {:.1} MiB, end {:.1} MiB (all connections closed, {} s allowed to settle)",
            mib(start),
            mib(peak),
            mib(end),
            o.settle.as_secs()
        );
        println!(
            "peak bound {:.0} MiB = start + {} slots × {:.0} KiB + {} large × 4 MiB + {} slow × {:.2} MiB + {} bombs × {:.0} MiB",
            mib(bound),
            o.connections,
            per_conn as f64 / 1024.0,
            o.max_large,
            o.max_slow,
            mib((o.high_water + 4 * (64 << 10)) as u64),
            o.max_bombs,
            mib((o.max_message_size + (2 << 20)) as u64)
        );
        if peak > bound {
            println!("FAIL: peak RSS above the bound");
            ok = false;
        }
        if end as f64 > start as f64 + o.rss_margin * MIB {
            println!(
                "FAIL: RSS at the end more than {} MiB above the start",
                o.rss_margin
            );
            ok = false;
        } else {
            println!(
                "RSS at the end within {} MiB of the start: ok",
                o.rss_margin
            );
        }
    }
    if !s.failures.is_empty() {
        println!();
        println!("{} failed connections; the first ones:", s.failed);
        for f in &s.failures {
            println!("- {f}");
        }
    }
    println!();
    println!("soak: {}", if ok { "PASS" } else { "FAIL" });
    ok
}

fn main() -> ExitCode {
    match parse_options().and_then(run) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::FAILURE
        }
    }
}
