//! One connection of the soak: its script (from the plan), its I/O, and the checks on what
//! the server sends back.

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use fastrand::Rng;
use mio::net::TcpStream;
use sansws_e2e_bench::wire::{self, Head, HeadReader, Output, ResponseHead};

use crate::deflate::{self, Deflate};
use crate::payload;
use crate::plan::{Action, Kind, Msg, Plan, Violation};
use crate::stats::Stats;
use crate::Options;

/// A message at least this large counts against the cap on large messages in flight.
pub const LARGE: usize = 256 << 10;
/// A slow reader's messages.
const FLOOD_SIZE: usize = 64 << 10;

/// What the sessions share: options, scratch buffers, caps and counters.
pub struct Ctx {
    pub opts: Options,
    pub stats: Stats,
    pub scratch: Vec<u8>,
    pub inflate_scratch: Vec<u8>,
    pub bomb: Vec<u8>,
    /// A slow reader's message: random bytes, and the same compressed as a standalone
    /// message.
    pub flood_block: Vec<u8>,
    pub flood_compressed: Vec<u8>,
    pub large_in_flight: usize,
    pub bombs_in_flight: usize,
    pub slow_readers: usize,
    /// Connections between connect and the handshake's answer (a window, as in the load
    /// generator, so that the server's accept backlog never overflows: a connection the
    /// kernel had to hold back there retransmits its request with growing delays, which
    /// would count against the server's handshake timer).
    pub handshakes: usize,
    /// The traffic phase is over: sessions skip their think times and remaining messages.
    pub ending: bool,
    /// The most a slow reader's socket may hand to a server that buffers within its
    /// high-water mark (computed at start from the kernel's socket buffer limits).
    pub slow_bound: u64,
}

/// A message sent and not yet echoed.
struct Sent {
    text: bool,
    payload: Vec<u8>,
}

/// The server's data message being read.
struct Incoming {
    text: bool,
    compressed: bool,
    /// Bytes matched so far (after inflating).
    matched: usize,
}

/// What the session waits for in a blocking step, for its stall message.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Wait {
    Nothing,
    Connect,
    Handshake,
    Window,
    Drain,
    Close,
    End,
    Written,
}

pub struct Session {
    pub label: String,
    /// slot/session number: with the seed, enough to rebuild its plan.
    pub id: (usize, u64),
    socket: TcpStream,
    connected: bool,
    actions: Vec<Action>,
    step: usize,
    window: usize,
    max_size: usize,
    dribble: bool,
    dribble_at: Option<Instant>,
    /// When a dribbled piece last went out.
    dribble_last: Instant,
    level: u32,
    rng: Rng,
    out: Output,
    accept: String,
    response: Vec<u8>,
    /// The whole request was sent and its answer is awaited or arrived.
    handshaking: bool,
    open: bool,
    deflate: Option<Deflate>,
    head: HeadReader,
    frame: Option<(Head, u64)>,
    incoming: Option<Incoming>,
    control: Vec<u8>,
    expected: VecDeque<Sent>,
    pings: VecDeque<Vec<u8>>,
    close_received: Option<Option<u16>>,
    close_sent: bool,
    /// The server ended the connection (end of stream, reset or a write error).
    ended: bool,
    /// The server's side reset the connection (a read or write failed with a reset).
    reset_seen: bool,
    /// A protocol violation, sent dribbling: its bytes still trickle in when the server fails
    /// the connection, so the server closes its socket with our bytes unread, which resets it.
    dribbled_violation: bool,
    /// When a poll event first said the server's side was closed (for the time-to-drop figure).
    hup_at: Option<Instant>,
    /// Not reading any more (silent or flooding), socket kept open.
    deaf: bool,
    wait: Wait,
    started: Instant,
    /// When the driver first saw the connection established (for the handshake's failures).
    connected_at: Option<Instant>,
    wait_since: Instant,
    think_until: Option<Instant>,
    /// When the last byte went out (silent connections: the server's deadlines count from it).
    last_sent: Instant,
    /// Flooding: when a write last made progress, and how much the server took in all.
    flood_since: Option<Instant>,
    flood_progress: Instant,
    flood_bytes: u64,
    large: usize,
    bomb: bool,
    /// Counted in `Ctx::handshakes`.
    in_handshake: bool,
    pub slow: bool,
    pub result: Option<Result<(), String>>,
    /// Scheduled wake-up in the driver's timer heap.
    pub scheduled: Option<Instant>,
}

fn closed_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::BrokenPipe
            | ErrorKind::ConnectionAborted
            | ErrorKind::NotConnected
    )
}

impl Session {
    pub fn new(plan: Plan, socket: TcpStream, id: (usize, u64), rng: Rng, ctx: &mut Ctx) -> Self {
        let now = Instant::now();
        let slow = plan.kind == Kind::SlowReader;
        if slow {
            ctx.slow_readers += 1;
        }
        if plan.bomb {
            ctx.bombs_in_flight += 1;
        }
        ctx.handshakes += 1;
        Session {
            label: plan.label,
            id,
            socket,
            connected: false,
            actions: plan.actions,
            step: 0,
            window: plan.window,
            max_size: plan.max_size,
            dribble: plan.dribble,
            dribble_at: None,
            dribble_last: Instant::now(),
            level: plan.level,
            rng,
            out: Output::default(),
            accept: String::new(),
            response: Vec::new(),
            handshaking: false,
            open: false,
            deflate: None,
            head: HeadReader::default(),
            frame: None,
            incoming: None,
            control: Vec::new(),
            expected: VecDeque::new(),
            pings: VecDeque::new(),
            close_received: None,
            close_sent: false,
            ended: false,
            reset_seen: false,
            dribbled_violation: plan.dribble && plan.kind == Kind::Violation,
            hup_at: None,
            deaf: false,
            wait: Wait::Connect,
            started: now,
            connected_at: None,
            wait_since: now,
            think_until: None,
            last_sent: now,
            flood_since: None,
            flood_progress: now,
            flood_bytes: 0,
            large: 0,
            bomb: plan.bomb,
            in_handshake: true,
            slow,
            result: None,
            scheduled: None,
        }
    }

    pub fn socket(&mut self) -> &mut TcpStream {
        &mut self.socket
    }

    /// Gives back what the session holds of the shared caps.
    pub fn release(&mut self, ctx: &mut Ctx) {
        self.handshake_over(ctx);
        ctx.large_in_flight -= self.large;
        self.large = 0;
        if self.bomb {
            ctx.bombs_in_flight -= 1;
            self.bomb = false;
        }
        if self.slow {
            ctx.slow_readers -= 1;
            self.slow = false;
        }
    }

    fn handshake_over(&mut self, ctx: &mut Ctx) {
        if self.in_handshake {
            self.in_handshake = false;
            ctx.handshakes -= 1;
        }
    }

    fn fail(&mut self, why: String) {
        if self.result.is_none() {
            self.result = Some(Err(why));
        }
    }

    fn pass(&mut self) {
        if self.result.is_none() {
            self.result = Some(Ok(()));
        }
    }

    /// Readiness on the socket; `hup` when the poll said the peer closed or reset it.
    pub fn on_event(&mut self, ctx: &mut Ctx, now: Instant, hup: bool) {
        if hup && self.hup_at.is_none() {
            self.hup_at = Some(now);
        }
        if self.deaf && hup && self.result.is_none() {
            self.deaf_verdict(ctx, now);
            return;
        }
        self.run(ctx, now);
    }

    /// Moves bytes and runs the script as far as it goes.
    pub fn run(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.result.is_some() {
            return;
        }
        if let Err(e) = self.run_inner(ctx, now) {
            self.fail(e);
        }
    }

    fn run_inner(&mut self, ctx: &mut Ctx, now: Instant) -> Result<(), String> {
        if !self.connected {
            if let Some(e) = self.socket.take_error().map_err(|e| e.to_string())? {
                return Err(format!("connect: {e}"));
            }
            match self.socket.peer_addr() {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::NotConnected => {
                    return self.check_stall(ctx, now);
                }
                Err(e) => return Err(format!("connect: {e}")),
            }
            self.connected = true;
            self.connected_at = Some(now);
            self.wait = Wait::Nothing;
            let _ = self.socket.set_nodelay(true);
        }
        loop {
            let step = self.step;
            self.advance(ctx, now)?;
            if self.result.is_some() {
                return Ok(());
            }
            self.flush(ctx, now)?;
            let read = self.read(ctx, now)?;
            if self.result.is_some() {
                return Ok(());
            }
            if !read && step == self.step {
                break;
            }
        }
        self.check_stall(ctx, now)
    }

    /// Fails a session that waited too long for the server.
    fn check_stall(&mut self, ctx: &Ctx, now: Instant) -> Result<(), String> {
        if let Some(limit) = self.wait_limit(ctx) {
            if now >= self.stall_from() + limit {
                return Err(format!(
                    "no progress for {} s waiting for {:?} (step {} of {}, {} echoes outstanding)",
                    limit.as_secs(),
                    self.wait,
                    self.step,
                    self.actions.len(),
                    self.expected.len()
                ));
            }
        }
        Ok(())
    }

    /// Where a wait's limit counts from: its start, or our last write if later (a message still
    /// going out, such as a dribbled decompression bomb, is not a stall).
    fn stall_from(&self) -> Instant {
        self.wait_since.max(self.last_sent)
    }

    fn wait_limit(&self, ctx: &Ctx) -> Option<Duration> {
        match self.wait {
            Wait::Nothing => None,
            Wait::Close | Wait::End => Some(ctx.opts.close_wait),
            _ => Some(ctx.opts.stall),
        }
    }

    /// When the driver should call `on_timer` next.
    pub fn next_wake(&self, ctx: &Ctx) -> Option<Instant> {
        if self.result.is_some() {
            return None;
        }
        let mut t = [
            self.think_until,
            self.dribble_at,
            self.wait_limit(ctx).map(|l| self.stall_from() + l),
            None,
        ];
        if self.deaf {
            t[3] = Some(self.deaf_deadline(ctx));
        }
        t.into_iter().flatten().min()
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, now: Instant) {
        if self.result.is_some() {
            return;
        }
        if self.dribble_at.is_some_and(|t| t <= now) {
            self.dribble_at = None;
        }
        if self.deaf && now >= self.deaf_deadline(ctx) {
            self.deaf_verdict(ctx, now);
            return;
        }
        self.run(ctx, now);
    }

    fn current(&self) -> Option<&Action> {
        self.actions.get(self.step)
    }

    /// Runs steps until one has to wait.
    fn advance(&mut self, ctx: &mut Ctx, now: Instant) -> Result<(), String> {
        while let Some(action) = self.current().cloned() {
            let before = self.step;
            match action {
                Action::Handshake { offer, cut } => {
                    self.handshake(offer, cut, now)?;
                    if self.step != before {
                        self.handshake_over(ctx);
                    }
                }
                Action::Think(d) => {
                    if ctx.ending {
                        self.think_until = None;
                        self.step += 1;
                    } else if let Some(t) = self.think_until {
                        if t <= now {
                            self.think_until = None;
                            self.step += 1;
                        }
                    } else if d.is_zero() {
                        self.step += 1;
                    } else {
                        self.think_until = Some(now + d.mul_f64(ctx.opts.pace));
                    }
                }
                Action::Send(msg) => {
                    if ctx.ending {
                        self.step += 1;
                    } else if self.expected.len() < self.window {
                        self.send(ctx, &msg);
                        self.step += 1;
                    } else {
                        self.waiting(Wait::Window, now);
                    }
                }
                Action::Drain => {
                    if self.expected.is_empty() {
                        self.step += 1;
                    } else {
                        self.waiting(Wait::Drain, now);
                    }
                }
                Action::Partial {
                    text,
                    compress,
                    fragments,
                } => {
                    self.partial(ctx, text, compress, fragments);
                    self.step += 1;
                }
                Action::PartialFrame { compress } => {
                    self.partial_frame(ctx, compress);
                    self.step += 1;
                }
                Action::Violate(v) => {
                    self.violate(ctx, v)?;
                    self.step += 1;
                }
                Action::Close(code) => {
                    let mut payload = Vec::new();
                    if let Some(code) = code {
                        payload.extend_from_slice(&code.to_be_bytes());
                        if self.rng.bool() {
                            payload.extend_from_slice("bye é".as_bytes());
                        }
                    }
                    self.frame_out(0x88, &payload);
                    self.close_sent = true;
                    self.step += 1;
                }
                Action::HalfClose | Action::Reset | Action::Silent => {
                    if self.deaf {
                        // Silent: judged by `on_timer` at its deadline, or on a hang-up.
                        return Ok(());
                    }
                    if !self.out.is_empty() {
                        self.waiting(Wait::Written, now);
                        break;
                    }
                    match action {
                        Action::HalfClose => {
                            if let Err(e) = self.socket.shutdown(Shutdown::Write) {
                                if !closed_error(&e) {
                                    return Err(format!("shutdown: {e}"));
                                }
                            }
                            self.step += 1;
                        }
                        Action::Reset => {
                            self.reset();
                            ctx.stats.resets += 1;
                            self.pass();
                            return Ok(());
                        }
                        _ => {
                            self.deaf = true;
                            self.wait = Wait::Nothing;
                            return Ok(());
                        }
                    }
                }
                Action::Flood => {
                    if self.flood_since.is_none() {
                        self.flood_since = Some(now);
                        self.flood_progress = now;
                        self.deaf = true;
                        self.wait = Wait::Nothing;
                    }
                    self.flood(ctx, now)?;
                    if self.hup_at.is_some() {
                        self.deaf_verdict(ctx, now);
                    }
                    return Ok(());
                }
                Action::ExpectClose { code, reply } => {
                    self.waiting(Wait::Close, now);
                    if let Some(got) = self.close_received {
                        if got != code {
                            return Err(format!(
                                "close code {} from the server, {} expected",
                                show(got),
                                show(code)
                            ));
                        }
                        if !self.expected.is_empty() {
                            return Err(format!(
                                "the server closed with {} echoes outstanding",
                                self.expected.len()
                            ));
                        }
                        if reply && !self.close_sent {
                            let payload = code.map(u16::to_be_bytes).unwrap_or_default();
                            let n = if code.is_some() { 2 } else { 0 };
                            self.frame_out(0x88, &payload[..n]);
                            self.close_sent = true;
                        }
                        if self.ended {
                            self.pass();
                            return Ok(());
                        }
                        self.waiting(Wait::End, now);
                    } else if self.ended {
                        // The server sent its close frame and closed its socket with the rest
                        // of our dribbled violation unread: the kernel answers that with a
                        // reset, and a reset discards what we had received and not yet read,
                        // the close frame too. Counted apart; --strict-close fails it (a
                        // server that half-closes and drains before it closes avoids it).
                        if self.reset_seen && self.dribbled_violation && !ctx.opts.strict_close {
                            ctx.stats.close_lost_to_reset += 1;
                            self.pass();
                            return Ok(());
                        }
                        return Err(format!(
                            "the server ended the connection without a close frame ({} expected{})",
                            show(code),
                            if self.reset_seen { ", reset" } else { "" }
                        ));
                    }
                }
                Action::ExpectEnd => {
                    self.waiting(Wait::End, now);
                    if self.close_received.is_some() {
                        return Err("a close frame answered a half-close".into());
                    }
                    if self.ended {
                        self.pass();
                        return Ok(());
                    }
                }
            }
            if self.step == before {
                break;
            }
            self.wait = Wait::Nothing;
        }
        if self.step >= self.actions.len() && self.result.is_none() {
            return Err("script ended without a verdict".into());
        }
        Ok(())
    }

    fn waiting(&mut self, wait: Wait, now: Instant) {
        if self.wait != wait {
            self.wait = wait;
            self.wait_since = now;
        }
    }

    fn reset(&mut self) {
        let _ = socket2::SockRef::from(&self.socket).set_linger(Some(Duration::ZERO));
        let _ = self.socket.shutdown(Shutdown::Read);
    }

    /// Resets the socket at the end of the session (dropping it then sends the RST).
    pub fn abort_socket(&mut self) {
        let _ = socket2::SockRef::from(&self.socket).set_linger(Some(Duration::ZERO));
    }

    /// Contents from `f`, of a length drawn from `len`.
    fn make(
        &mut self,
        f: fn(&mut Rng, usize) -> Vec<u8>,
        len: std::ops::RangeInclusive<usize>,
    ) -> Vec<u8> {
        let n = self.rng.usize(len);
        f(&mut self.rng, n)
    }

    fn key(&mut self) -> Option<[u8; 4]> {
        Some(self.rng.u32(..).to_ne_bytes())
    }

    /// Appends a masked frame.
    fn frame_out(&mut self, first: u8, payload: &[u8]) {
        let key = self.key();
        wire::push_frame(&mut self.out, first, payload.len(), key, |p| {
            p.copy_from_slice(payload)
        });
    }

    fn handshake(
        &mut self,
        offer: Option<deflate::Offer>,
        cut: Option<u32>,
        now: Instant,
    ) -> Result<(), String> {
        if !self.handshaking {
            let (key, accept) = wire::handshake_key();
            self.accept = accept;
            let host = self.socket.peer_addr().map_err(|e| e.to_string())?;
            let request = wire::handshake_request(
                &host.to_string(),
                &key,
                offer.map(deflate::Offer::header).unwrap_or(""),
            );
            let n = match cut {
                Some(permille) => {
                    (request.len() * permille as usize / 1000).clamp(1, request.len() - 1)
                }
                None => request.len(),
            };
            self.out.append(n).copy_from_slice(&request.as_bytes()[..n]);
            if cut.is_some() {
                self.step += 1;
                return Ok(());
            }
            self.handshaking = true;
            self.waiting(Wait::Handshake, now);
        }
        if self.open {
            self.step += 1;
        } else if self.ended {
            return Err(format!(
                "the server ended the connection during the handshake ({:.2} s after the start, connected after {:.2} s, {} request bytes unsent)",
                now.duration_since(self.started).as_secs_f64(),
                self.connected_at
                    .map_or(f64::NAN, |t| t.duration_since(self.started).as_secs_f64()),
                self.out.pending().len()
            ));
        }
        Ok(())
    }

    /// The answer to the handshake, from `data`; returns what follows it.
    fn handshake_answer<'a>(&mut self, data: &'a [u8]) -> Result<&'a [u8], String> {
        let old = self.response.len();
        self.response.extend_from_slice(data);
        let Some(head) = ResponseHead::parse(&self.response)? else {
            return Ok(&[]);
        };
        head.check_upgrade(&self.accept)?;
        let offered = matches!(
            self.actions.first(),
            Some(Action::Handshake { offer: Some(_), .. })
        );
        match head.header("sec-websocket-extensions") {
            Some(answer) if offered => {
                self.deflate = Some(Deflate::from_answer(answer, self.level)?)
            }
            Some(answer) => return Err(format!("extension agreed though none offered: {answer}")),
            None => {}
        }
        self.open = true;
        self.response = Vec::new();
        Ok(&data[head.len - old..])
    }

    fn next_payload(&mut self, ctx: &mut Ctx, text: bool, cap: usize) -> Vec<u8> {
        let mut size = payload::size(&mut self.rng, self.max_size.min(cap));
        if size >= LARGE {
            if ctx.large_in_flight >= ctx.opts.max_large {
                size = LARGE - 1;
            } else {
                ctx.large_in_flight += 1;
                self.large += 1;
            }
        }
        if text {
            payload::text(&mut self.rng, size)
        } else {
            payload::binary(&mut self.rng, size)
        }
    }

    /// The bytes that go on the wire for `payload`, and whether they are compressed.
    fn encode(&mut self, payload: &[u8], compress: bool) -> (Vec<u8>, bool) {
        match (&mut self.deflate, compress) {
            (Some(d), true) => (d.compress(payload), true),
            _ => (payload.to_vec(), false),
        }
    }

    /// Sends `bytes` as a message of `fragments` frames (pings between them if `pings`);
    /// `first` is the first frame's opcode and RSV1; with `finish` false, the last fragment
    /// is left out.
    fn fragments_out(
        &mut self,
        ctx: &mut Ctx,
        first: u8,
        bytes: &[u8],
        fragments: usize,
        pings: bool,
        finish: bool,
    ) {
        let cuts = payload::cuts(&mut self.rng, bytes.len(), fragments - 1);
        let mut start = 0;
        let count = if finish { fragments } else { fragments - 1 };
        for i in 0..count {
            let end = cuts.get(i).copied().unwrap_or(bytes.len());
            let last = i + 1 == fragments;
            let first_byte = (if last { 0x80 } else { 0 }) | (if i == 0 { first } else { 0 });
            self.frame_out(first_byte, &bytes[start..end]);
            ctx.stats.frames_sent += 1;
            start = end;
            if pings && !last {
                let n = self.rng.usize(0..=125);
                let ping = payload::random(&mut self.rng, n);
                self.frame_out(0x89, &ping);
                self.pings.push_back(ping);
                ctx.stats.pings_sent += 1;
            }
        }
    }

    fn send(&mut self, ctx: &mut Ctx, msg: &Msg) {
        let payload = self.next_payload(ctx, msg.text, usize::MAX);
        let (bytes, compressed) = self.encode(&payload, msg.compress);
        let opcode = if msg.text { 1 } else { 2 };
        self.fragments_out(
            ctx,
            opcode | if compressed { 0x40 } else { 0 },
            &bytes,
            msg.fragments,
            msg.pings,
            true,
        );
        ctx.stats.messages_sent += 1;
        ctx.stats.bytes_sent += payload.len() as u64;
        if compressed {
            ctx.stats.compressed_sent += 1;
        }
        if msg.fragments > 1 {
            ctx.stats.fragmented_sent += 1;
        }
        self.expected.push_back(Sent {
            text: msg.text,
            payload,
        });
    }

    fn partial(&mut self, ctx: &mut Ctx, text: bool, compress: bool, fragments: usize) {
        let payload = self.next_payload(ctx, text, 64 << 10);
        let (bytes, compressed) = self.encode(&payload, compress);
        let opcode = if text { 1 } else { 2 };
        // `fragments` sent, the final one never.
        self.fragments_out(
            ctx,
            opcode | if compressed { 0x40 } else { 0 },
            &bytes,
            fragments + 1,
            true,
            false,
        );
    }

    fn partial_frame(&mut self, ctx: &mut Ctx, compress: bool) {
        let text = self.rng.bool();
        let payload = self.next_payload(ctx, text, 64 << 10);
        let (bytes, compressed) = self.encode(&payload, compress);
        let first = 0x80 | if text { 1 } else { 2 } | if compressed { 0x40 } else { 0 };
        let key = self.key().expect("a key");
        // The header announces one byte more than is ever sent.
        wire::push_header(&mut self.out, first, bytes.len() as u64 + 1, key);
        let sent = self.rng.usize(0..=bytes.len());
        let mut part = bytes[..sent].to_vec();
        wire::mask(&mut part, key);
        self.out.append(sent).copy_from_slice(&part);
    }

    fn violate(&mut self, ctx: &mut Ctx, v: Violation) -> Result<(), String> {
        ctx.stats.violations_sent += 1;
        let key = self.key().expect("a key");
        match v {
            Violation::OversizedFrame => {
                let len = ctx.opts.max_frame_size as u64
                    + 1
                    + self.rng.u64(0..=ctx.opts.max_frame_size as u64);
                wire::push_header(&mut self.out, 0x82, len, key);
                let some = self.rng.usize(0..=100);
                self.out.append(some);
            }
            Violation::LengthOverflow => {
                wire::push_header(
                    &mut self.out,
                    0x82,
                    (1 << 63) | self.rng.u64(..1 << 20),
                    key,
                );
            }
            Violation::InvalidUtf8 { split, truncated } => {
                let mut bad = self.make(payload::text, 0..=200);
                let at = bad.len();
                if truncated {
                    bad.extend_from_slice(&"€".as_bytes()[..2]);
                } else {
                    let pos = self.rng.usize(0..=bad.len());
                    let invalid: &[u8] =
                        [&[0xff][..], &[0xc0, 0x80], &[0xed, 0xa0, 0x80]][self.rng.usize(..3)];
                    bad.splice(pos..pos, invalid.iter().copied());
                }
                if split {
                    let cut = self.rng.usize(0..=at.min(bad.len()));
                    self.frame_out(0x01, &bad[..cut]);
                    self.frame_out(0x80, &bad[cut..]);
                } else {
                    self.frame_out(0x81, &bad);
                }
            }
            Violation::InvalidUtf8Compressed => {
                let mut bad = self.make(payload::text, 0..=2000);
                let pos = self.rng.usize(0..=bad.len());
                bad.insert(pos, 0xfe);
                let (bytes, compressed) = self.encode(&bad, true);
                if !compressed {
                    return Err("permessage-deflate not agreed".into());
                }
                self.frame_out(0xc1, &bytes);
            }
            Violation::Bomb => {
                if self.deflate.is_none() {
                    return Err("permessage-deflate not agreed".into());
                }
                let bomb = std::mem::take(&mut ctx.bomb);
                // In fragments, as a streaming sender would send it.
                let fragments = self.rng.usize(1..=4);
                self.fragments_out(ctx, 0x42, &bomb, fragments, false, true);
                ctx.bomb = bomb;
            }
            Violation::CorruptDeflate => {
                if self.deflate.is_none() {
                    return Err("permessage-deflate not agreed".into());
                }
                // 0xff: a final block of the reserved type 3, invalid in any stream.
                let mut bytes = vec![0xff];
                bytes.extend(self.make(payload::random, 0..=100));
                self.frame_out(0xc2, &bytes);
            }
            Violation::ReservedBit(bit) => {
                let p = self.make(payload::binary, 0..=100);
                self.frame_out(0x82 | bit, &p);
            }
            Violation::Rsv1Misplaced(which) => {
                let p = self.make(payload::binary, 0..=100);
                match which {
                    0 => self.frame_out(0xc2, &p),
                    1 => {
                        let (bytes, _) = self.encode(&p, true);
                        let cut = self.rng.usize(0..=bytes.len());
                        self.frame_out(0x42, &bytes[..cut]);
                        self.frame_out(0xc0, &bytes[cut..]);
                    }
                    _ => self.frame_out(0xc9, &p[..p.len().min(125)]),
                }
            }
            Violation::ReservedOpcode(op) => {
                let p = self.make(payload::binary, 0..=100);
                self.frame_out(0x80 | op, &p);
            }
            Violation::ControlTooLong => {
                let p = self.make(payload::binary, 126..=1000);
                let op = [0x89, 0x8a, 0x88][self.rng.usize(..3)];
                self.frame_out(op, &p);
            }
            Violation::FragmentedPing => self.frame_out(0x09, b"part"),
            Violation::Unmasked => {
                let p = self.make(payload::binary, 0..=100);
                wire::push_frame(&mut self.out, 0x82, p.len(), None, |b| {
                    b.copy_from_slice(&p)
                });
            }
            Violation::ContinuationFirst => {
                let p = self.make(payload::binary, 0..=100);
                self.frame_out(0x80, &p);
            }
            Violation::NewMessageInsideMessage => {
                self.frame_out(0x02, b"first part");
                self.frame_out(0x81, b"another message");
            }
            Violation::CloseOneByte => self.frame_out(0x88, &[3]),
            Violation::CloseBadCode(code) => self.frame_out(0x88, &code.to_be_bytes()),
            Violation::CloseReasonNotUtf8 => {
                let mut p = 1000u16.to_be_bytes().to_vec();
                p.extend_from_slice(&[b'o', b'k', 0xc3, 0x28]);
                self.frame_out(0x88, &p);
            }
        }
        // The close frame the server answers with is its own; ours (if the script replies)
        // is an answer, not a second close. A close-frame violation counts as ours.
        if matches!(
            v,
            Violation::CloseOneByte | Violation::CloseBadCode(_) | Violation::CloseReasonNotUtf8
        ) {
            self.close_sent = true;
        }
        Ok(())
    }

    /// A slow reader's turn: queue another message once the last one went out, write, note
    /// progress, and check that the server stops taking bytes within the bound.
    fn flood(&mut self, ctx: &mut Ctx, now: Instant) -> Result<(), String> {
        loop {
            if self.out.is_empty() {
                if self.deflate.is_some() {
                    self.frame_out(0xc2, &ctx.flood_compressed);
                } else {
                    let n = self.rng.usize(FLOOD_SIZE / 4..=FLOOD_SIZE);
                    self.frame_out(0x82, &ctx.flood_block[..n]);
                }
            }
            let pending = self.out.pending().len();
            match self.socket.write(self.out.pending()) {
                Ok(n) => {
                    self.out.advance(n);
                    self.flood_bytes += n as u64;
                    self.flood_progress = now;
                    if n < pending {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if closed_error(&e) => {
                    self.hup_at.get_or_insert(now);
                    break;
                }
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        ctx.stats.slow_max_accepted = ctx.stats.slow_max_accepted.max(self.flood_bytes);
        if self.flood_bytes > ctx.slow_bound {
            return Err(format!(
                "the server took {} bytes from a client that reads nothing (bound {})",
                self.flood_bytes, ctx.slow_bound
            ));
        }
        Ok(())
    }

    /// When a silent or flooding connection is judged: by the server's deadline for it,
    /// counted from the client's last byte (silent) or last write progress (flooding), or,
    /// if the server has none, after holding it.
    fn deaf_deadline(&self, ctx: &Ctx) -> Instant {
        let (reference, deadline) = if self.flood_since.is_some() {
            (self.flood_progress, ctx.opts.slow_deadline)
        } else if self.open {
            (self.last_sent, ctx.opts.silent_deadline)
        } else {
            (self.last_sent, ctx.opts.handshake_deadline)
        };
        match deadline {
            Some(d) => reference + d,
            None => self.flood_since.unwrap_or(self.last_sent) + ctx.opts.hold,
        }
    }

    fn deadline_kind(&self) -> &'static str {
        if self.flood_since.is_some() {
            "slow-reader"
        } else if self.open {
            "silent-open"
        } else {
            "silent-handshake"
        }
    }

    fn deadline_of(&self, ctx: &Ctx) -> Option<Duration> {
        if self.flood_since.is_some() {
            ctx.opts.slow_deadline
        } else if self.open {
            ctx.opts.silent_deadline
        } else {
            ctx.opts.handshake_deadline
        }
    }

    /// At the deadline: the server must have ended the connection (end of stream or reset
    /// waiting in the socket). Without a deadline, the hold is over: reset.
    fn deaf_verdict(&mut self, ctx: &mut Ctx, now: Instant) {
        let kind = self.deadline_kind();
        if self.flood_since.is_some() {
            // Progress since the timer was set moved the deadline.
            if let Err(e) = self.flood(ctx, now) {
                self.fail(e);
                return;
            }
            if now < self.deaf_deadline(ctx) && self.hup_at.is_none() {
                return;
            }
        }
        let dropped = self.hup_at.is_some() || self.drained_to_end();
        let deadline = self.deadline_of(ctx);
        if !dropped && deadline.is_none() {
            // The server has no deadline for this: held as long as the plan says, then reset.
            *ctx.stats.held.entry(kind).or_default() += 1;
            self.reset();
            self.pass();
            return;
        }
        if dropped {
            let reference = if self.flood_since.is_some() {
                self.flood_progress
            } else {
                self.last_sent
            };
            let took = self
                .hup_at
                .unwrap_or(now)
                .saturating_duration_since(reference);
            let e = ctx.stats.dropped.entry(kind).or_default();
            e.1 = if e.0 == 0 { took } else { e.1.min(took) };
            e.0 += 1;
            e.2 = e.2.max(took);
            self.pass();
        } else {
            self.fail(format!(
                "{kind}: still open {} s after its last {}, the server's deadline",
                deadline.unwrap_or_default().as_secs_f64(),
                if self.flood_since.is_some() {
                    "write progress"
                } else {
                    "byte"
                }
            ));
        }
    }

    /// Reads and discards until the socket would block: true if the server ended it.
    fn drained_to_end(&mut self) -> bool {
        let mut buf = [0u8; 16 << 10];
        loop {
            match self.socket.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
                Err(_) => return true,
            }
        }
    }

    /// Writes what is pending (a few bytes a millisecond apart when dribbling).
    fn flush(&mut self, ctx: &mut Ctx, now: Instant) -> Result<(), String> {
        if self.deaf || self.ended {
            return Ok(());
        }
        // Dribbling: pieces of a few bytes, each its own write, at about one piece a
        // millisecond: as many pieces at a time as the time since the last one allows, so that
        // the slow turns of a busy driver do not stretch a message over minutes (nor an opening
        // handshake past the server's deadline). The handshake goes in larger pieces.
        let piece = if self.open { 16 } else { 64 };
        let mut allowance = if self.dribble {
            if self.dribble_at.is_some() {
                return Ok(());
            }
            let ms = now.saturating_duration_since(self.dribble_last).as_millis();
            ms.clamp(1, 64) as usize * piece
        } else {
            usize::MAX
        };
        while !self.out.is_empty() {
            if allowance == 0 {
                self.dribble_at = Some(now + Duration::from_millis(1));
                return Ok(());
            }
            let pending = self.out.pending();
            let n = if self.dribble {
                pending.len().min(self.rng.usize(1..=piece)).min(allowance)
            } else {
                pending.len()
            };
            match self.socket.write(&pending[..n]) {
                Ok(0) => return Err("write returned 0".into()),
                Ok(n) => {
                    self.out.advance(n);
                    self.last_sent = now;
                    ctx.stats.bytes_written += n as u64;
                    if self.dribble {
                        allowance -= n;
                        self.dribble_last = now;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if closed_error(&e) => {
                    self.ended = true;
                    self.reset_seen |= e.kind() != ErrorKind::NotConnected;
                    return Ok(());
                }
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        self.out.release();
        Ok(())
    }

    /// Reads until the socket would block; true if anything arrived.
    fn read(&mut self, ctx: &mut Ctx, _now: Instant) -> Result<bool, String> {
        if self.deaf || self.ended || !self.connected {
            return Ok(false);
        }
        let mut scratch = std::mem::take(&mut ctx.scratch);
        let mut got = false;
        let result = loop {
            let n = match self.socket.read(&mut scratch) {
                Ok(0) => {
                    self.ended = true;
                    break Ok(());
                }
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if closed_error(&e) => {
                    self.ended = true;
                    self.reset_seen |= e.kind() != ErrorKind::NotConnected;
                    break Ok(());
                }
                Err(e) => break Err(format!("read: {e}")),
            };
            got = true;
            let mut data = &scratch[..n];
            if !self.open {
                if !self.handshaking {
                    // An answer to a request that was cut short: not ours to judge.
                    continue;
                }
                data = match self.handshake_answer(data) {
                    Ok(rest) => rest,
                    Err(e) => break Err(e),
                };
            }
            if let Err(e) = self.frames(ctx, data) {
                break Err(e);
            }
            if n < scratch.len() {
                break Ok(());
            }
        };
        ctx.scratch = scratch;
        result.map(|()| got)
    }

    /// Reads the server's frames, checking every echoed byte.
    fn frames(&mut self, ctx: &mut Ctx, mut data: &[u8]) -> Result<(), String> {
        loop {
            if self.frame.is_none() {
                let Some(h) = self.head.feed(&mut data) else {
                    return Ok(());
                };
                self.start_frame(h)?;
                self.frame = Some((h, h.len));
            }
            let (h, left) = self.frame.as_mut().expect("a frame");
            let h = *h;
            let take = (*left).min(data.len() as u64) as usize;
            *left -= take as u64;
            let done = *left == 0;
            let (chunk, rest) = data.split_at(take);
            data = rest;
            if h.opcode <= 2 {
                self.echo_bytes(ctx, chunk)?;
            } else {
                self.control.extend_from_slice(chunk);
            }
            if done {
                self.frame = None;
                self.end_frame(ctx, h)?;
            } else if data.is_empty() {
                return Ok(());
            }
        }
    }

    fn start_frame(&mut self, h: Head) -> Result<(), String> {
        if h.masked {
            return Err("masked frame from the server".into());
        }
        match h.opcode {
            0 => {
                if self.incoming.is_none() {
                    return Err("continuation frame outside a message".into());
                }
                if h.rsv != 0 {
                    return Err("RSV bits on a continuation frame".into());
                }
            }
            1 | 2 => {
                if self.incoming.is_some() {
                    return Err("new message inside a message".into());
                }
                let compressed = h.rsv == 0x40 && self.deflate.is_some();
                if h.rsv != 0 && !compressed {
                    return Err(format!("RSV bits {:#x} from the server", h.rsv));
                }
                let Some(sent) = self.expected.front() else {
                    return Err("a message from the server that echoes nothing sent".into());
                };
                if sent.text != (h.opcode == 1) {
                    return Err("echo of another kind (text/binary) than sent".into());
                }
                self.incoming = Some(Incoming {
                    text: h.opcode == 1,
                    compressed,
                    matched: 0,
                });
            }
            8..=10 => {
                if !h.fin || h.len > 125 || h.rsv != 0 {
                    return Err("malformed control frame from the server".into());
                }
                self.control.clear();
            }
            op => return Err(format!("reserved opcode {op} from the server")),
        }
        Ok(())
    }

    fn echo_bytes(&mut self, ctx: &mut Ctx, chunk: &[u8]) -> Result<(), String> {
        let Some(incoming) = self.incoming.as_mut() else {
            return Err("data outside a message".into());
        };
        let sent = self
            .expected
            .front()
            .expect("checked at the message's start");
        if incoming.compressed {
            let deflate = self
                .deflate
                .as_mut()
                .expect("checked at the message's start");
            deflate.inflate(chunk, &mut ctx.inflate_scratch, |p| {
                matches(sent, incoming, p)
            })
        } else {
            matches(sent, incoming, chunk)
        }
    }

    fn end_frame(&mut self, ctx: &mut Ctx, h: Head) -> Result<(), String> {
        match h.opcode {
            0..=2 if h.fin => {
                let incoming = self.incoming.take().expect("a message");
                let mut incoming = incoming;
                let sent = self.expected.pop_front().expect("a message sent");
                if incoming.compressed {
                    let deflate = self.deflate.as_mut().expect("agreed");
                    deflate.end_message(&mut ctx.inflate_scratch, |p| {
                        matches(&sent, &mut incoming, p)
                    })?;
                }
                if incoming.matched != sent.payload.len() {
                    return Err(format!(
                        "echo of {} bytes, {} sent",
                        incoming.matched,
                        sent.payload.len()
                    ));
                }
                debug_assert_eq!(incoming.text, sent.text);
                if sent.payload.len() >= LARGE && self.large > 0 {
                    self.large -= 1;
                    ctx.large_in_flight -= 1;
                }
                ctx.stats.messages_echoed += 1;
                ctx.stats.bytes_echoed += sent.payload.len() as u64;
            }
            0..=2 => {}
            8 => {
                let code = match self.control.len() {
                    0 => None,
                    1 => return Err("a one-byte close frame from the server".into()),
                    _ => Some(u16::from_be_bytes([self.control[0], self.control[1]])),
                };
                *ctx.stats.close_codes.entry(code.unwrap_or(0)).or_default() += 1;
                if self.close_received.is_some() {
                    return Err("a second close frame from the server".into());
                }
                self.close_received = Some(code);
                // Expected once we sent ours (it may come while our last bytes still go out),
                // or in answer to a violation; `ExpectEnd` refuses it itself.
                if !self.close_sent
                    && !matches!(
                        self.current(),
                        Some(Action::ExpectClose { .. } | Action::ExpectEnd)
                    )
                {
                    return Err(format!(
                        "unexpected close frame {} from the server (step {:?})",
                        show(code),
                        self.current()
                    ));
                }
            }
            9 => {
                if !self.close_sent {
                    let ping = std::mem::take(&mut self.control);
                    self.frame_out(0x8a, &ping);
                    self.control = ping;
                    ctx.stats.server_pings += 1;
                }
            }
            _ => {
                let Some(expected) = self.pings.pop_front() else {
                    return Err("a pong for no ping".into());
                };
                if expected != self.control {
                    return Err("a pong that does not match its ping".into());
                }
                ctx.stats.pongs_ok += 1;
            }
        }
        Ok(())
    }
}

/// Checks the next `bytes` of an echo against what was sent.
fn matches(sent: &Sent, incoming: &mut Incoming, bytes: &[u8]) -> Result<(), String> {
    let at = incoming.matched;
    match sent.payload.get(at..at + bytes.len()) {
        Some(expected) if expected == bytes => {
            incoming.matched += bytes.len();
            Ok(())
        }
        Some(expected) => {
            let i = expected.iter().zip(bytes).position(|(a, b)| a != b);
            Err(format!(
                "echo differs from what was sent at byte {} of {}",
                at + i.unwrap_or(0),
                sent.payload.len()
            ))
        }
        None => Err(format!(
            "echo longer than the {} bytes sent",
            sent.payload.len()
        )),
    }
}

fn show(code: Option<u16>) -> String {
    code.map_or("(no code)".into(), |c| c.to_string())
}
