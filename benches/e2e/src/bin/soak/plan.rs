//! The schedule: what each connection does, drawn from a seeded generator, so that a run's
//! mix of behaviours is reproducible from its seed (the interleaving in time is not).

use std::time::Duration;

use fastrand::Rng;

use crate::deflate::Offer;

/// One step of a connection's script. Steps run in order; some wait (for an echo, the
/// server's close, a timer) before the next starts.
#[derive(Clone, Debug)]
pub enum Action {
    /// Sends the opening handshake (with an extension offer) and waits for the answer; with
    /// `cut` (per mille of the request), sends only that much of the request and goes on.
    Handshake {
        offer: Option<Offer>,
        cut: Option<u32>,
    },
    /// Waits this long (the traffic phase's end skips it).
    Think(Duration),
    /// Sends a message once fewer than the session's window await their echo (the traffic
    /// phase's end skips it).
    Send(Msg),
    /// Waits until every message sent came back.
    Drain,
    /// Sends the first fragments of a message whose end never comes.
    Partial {
        text: bool,
        compress: bool,
        fragments: usize,
    },
    /// Sends a frame header and part of its payload.
    PartialFrame { compress: bool },
    /// Breaks the protocol; the server must answer with the violation's close code.
    Violate(Violation),
    /// Sends a close frame with this code (or none).
    Close(Option<u16>),
    /// Shuts down the sending half of the socket once everything was written.
    HalfClose,
    /// Resets the connection (SO_LINGER 0) once everything was written. Ends the session.
    Reset,
    /// Stops sending and reading, socket left open, like a peer that vanished: the server
    /// must drop it by the deadline for the state it is in (handshake or open), or, if the
    /// server has none, the driver resets it after holding it.
    Silent,
    /// Sends messages without end and never reads: the server must stop taking them within a
    /// bound (its high-water rule), and drop the connection by its send deadline if it has one.
    Flood,
    /// Waits for the server's close frame with `code` and then for the end of the connection;
    /// `reply` answers the close frame first.
    ExpectClose { code: Option<u16>, reply: bool },
    /// Waits for the server to end the connection, with no close frame.
    ExpectEnd,
}

#[derive(Clone, Debug)]
pub struct Msg {
    pub text: bool,
    /// Compressed if the extension was agreed.
    pub compress: bool,
    pub fragments: usize,
    /// Pings between fragments.
    pub pings: bool,
}

/// A protocol violation and what answers it.
#[derive(Clone, Copy, Debug)]
pub enum Violation {
    /// A frame header announcing more than the server's frame limit.
    OversizedFrame,
    /// A 64-bit length with its top bit set.
    LengthOverflow,
    /// A text message that is not UTF-8: in one frame, split over fragments, or truncated at
    /// its end.
    InvalidUtf8 {
        split: bool,
        truncated: bool,
    },
    /// A compressed text message that inflates to invalid UTF-8.
    InvalidUtf8Compressed,
    /// A compressed message that inflates to more than the server's message limit.
    Bomb,
    /// A compressed message that is not deflate data.
    CorruptDeflate,
    /// RSV2 or RSV3 on a data frame.
    ReservedBit(u8),
    /// RSV1 without the extension agreed, on a continuation frame, or on a control frame.
    Rsv1Misplaced(u8),
    ReservedOpcode(u8),
    ControlTooLong,
    FragmentedPing,
    Unmasked,
    ContinuationFirst,
    NewMessageInsideMessage,
    CloseOneByte,
    CloseBadCode(u16),
    CloseReasonNotUtf8,
}

impl Violation {
    /// The close code the server must send (RFC 6455 section 7.4.1).
    pub fn code(self) -> u16 {
        match self {
            Violation::OversizedFrame | Violation::Bomb => 1009,
            Violation::InvalidUtf8 { .. }
            | Violation::InvalidUtf8Compressed
            | Violation::CorruptDeflate
            | Violation::CloseReasonNotUtf8 => 1007,
            _ => 1002,
        }
    }

    pub fn needs_deflate(self) -> bool {
        matches!(
            self,
            Violation::InvalidUtf8Compressed
                | Violation::Bomb
                | Violation::CorruptDeflate
                | Violation::Rsv1Misplaced(1)
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Violation::OversizedFrame => "oversized-frame",
            Violation::LengthOverflow => "length-overflow",
            Violation::InvalidUtf8 { .. } => "invalid-utf8",
            Violation::InvalidUtf8Compressed => "invalid-utf8-compressed",
            Violation::Bomb => "decompression-bomb",
            Violation::CorruptDeflate => "corrupt-deflate",
            Violation::ReservedBit(_) => "reserved-bit",
            Violation::Rsv1Misplaced(_) => "rsv1-misplaced",
            Violation::ReservedOpcode(_) => "reserved-opcode",
            Violation::ControlTooLong => "control-too-long",
            Violation::FragmentedPing => "fragmented-ping",
            Violation::Unmasked => "unmasked-frame",
            Violation::ContinuationFirst => "continuation-first",
            Violation::NewMessageInsideMessage => "new-message-inside-message",
            Violation::CloseOneByte => "close-one-byte",
            Violation::CloseBadCode(_) => "close-bad-code",
            Violation::CloseReasonNotUtf8 => "close-reason-not-utf8",
        }
    }
}

/// The broad kind of a session, for the caps on concurrency and the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Echo,
    Violation,
    Abort,
    SlowReader,
}

pub struct Plan {
    /// What the report counts it as, e.g. "abort/mid-frame/reset".
    pub label: String,
    pub kind: Kind,
    pub actions: Vec<Action>,
    /// Messages allowed in flight at once.
    pub window: usize,
    /// Writes of a few bytes at a time (up to 16; up to 64 in the opening handshake), a
    /// millisecond apart.
    pub dribble: bool,
    /// Largest message this session sends.
    pub max_size: usize,
    /// Small socket buffers (slow readers), so that the server's buffering shows sooner.
    pub small_buffers: bool,
    /// Whether it may start a decompression bomb (counted against the cap).
    pub bomb: bool,
    /// Compressed messages at this zlib level.
    pub level: u32,
}

/// What the schedule may choose right now.
pub struct Room {
    /// Another slow reader fits under the cap, and its deadline (or hold) within the run.
    pub slow: bool,
    /// Another bomb fits under the cap.
    pub bomb: bool,
    /// A silent connection's deadline (or hold) fits within the run: after the handshake, and
    /// during it.
    pub silent_open: bool,
    pub silent_handshake: bool,
}

fn offer(rng: &mut Rng) -> Option<Offer> {
    match rng.u32(..8) {
        0..=3 => None,
        4 => Some(Offer::Plain),
        5 => Some(Offer::ClientWindow),
        6 => Some(Offer::NoContextTakeover),
        _ => Some(Offer::ServerWindow),
    }
}

fn deflate_offer(rng: &mut Rng) -> Offer {
    loop {
        if let Some(o) = offer(rng) {
            return o;
        }
    }
}

fn close_code(rng: &mut Rng) -> Option<u16> {
    match rng.u32(..10) {
        0 => None,
        1..=5 => Some(1000),
        6 => Some(1001),
        7 => Some(1008),
        8 => Some(rng.u16(3000..=3999)),
        _ => Some(rng.u16(4000..=4999)),
    }
}

fn msg(rng: &mut Rng, compress: bool) -> Msg {
    Msg {
        text: rng.bool(),
        compress: compress && rng.u32(..10) != 0,
        fragments: if rng.u32(..10) < 7 {
            1
        } else {
            rng.usize(2..=6)
        },
        pings: rng.u32(..3) == 0,
    }
}

/// Sends `n` messages with think times, as a well-behaved client does.
fn traffic(rng: &mut Rng, actions: &mut Vec<Action>, n: usize, compress: bool, idle: bool) {
    for _ in 0..n {
        let think = if idle {
            rng.u64(3_000..=12_000)
        } else if rng.u32(..4) == 0 {
            0
        } else {
            rng.u64(0..=1_500)
        };
        actions.push(Action::Think(Duration::from_millis(think)));
        actions.push(Action::Send(msg(rng, compress)));
    }
}

pub fn choose(rng: &mut Rng, room: &Room) -> Plan {
    let roll = rng.u32(..100);
    let mut plan = Plan {
        label: String::new(),
        kind: Kind::Echo,
        actions: Vec::new(),
        window: rng.usize(1..=3),
        dribble: rng.u32(..20) == 0,
        max_size: 1 << 20,
        small_buffers: false,
        bomb: false,
        // zlib's level 6 costs the driver four times level 1: a few connections use it.
        level: if rng.u32(..10) == 0 { 6 } else { 1 },
    };
    if plan.dribble {
        plan.max_size = 4096;
    }
    if roll < 60 {
        echo(rng, &mut plan);
    } else if roll < 76 {
        violation(rng, &mut plan, room);
    } else if roll < 93 {
        abort(rng, &mut plan, room);
    } else if room.slow {
        slow(rng, &mut plan);
    } else {
        echo(rng, &mut plan);
    }
    if plan.dribble {
        plan.label.push_str("/dribble");
    }
    plan
}

fn echo(rng: &mut Rng, plan: &mut Plan) {
    let offer = offer(rng);
    let idle = rng.u32(..20) == 0;
    let n = if idle {
        rng.usize(1..=4)
    } else {
        rng.usize(0..=25)
    };
    plan.actions.push(Action::Handshake { offer, cut: None });
    traffic(rng, &mut plan.actions, n, offer.is_some(), idle);
    let code = close_code(rng);
    let ending = match rng.u32(..10) {
        0..=5 => {
            plan.actions.push(Action::Close(code));
            "close"
        }
        6 | 7 => {
            plan.actions.push(Action::Partial {
                text: rng.bool(),
                compress: offer.is_some() && rng.bool(),
                fragments: rng.usize(1..=3),
            });
            plan.actions.push(Action::Close(code));
            "close-inside-fragmented-message"
        }
        _ => {
            plan.actions.push(Action::Close(code));
            plan.actions.push(Action::HalfClose);
            "close-then-half-close"
        }
    };
    plan.actions
        .push(Action::ExpectClose { code, reply: false });
    plan.label = format!(
        "echo/{}/{ending}{}",
        if offer.is_some() { "deflate" } else { "plain" },
        if idle { "/idle" } else { "" }
    );
}

fn violation(rng: &mut Rng, plan: &mut Plan, room: &Room) {
    let v = match rng.u32(..17) {
        0 => Violation::OversizedFrame,
        1 => Violation::LengthOverflow,
        2 => Violation::InvalidUtf8 {
            split: rng.bool(),
            truncated: rng.bool(),
        },
        3 => Violation::InvalidUtf8Compressed,
        4 if room.bomb => Violation::Bomb,
        4 | 5 => Violation::CorruptDeflate,
        6 => Violation::ReservedBit([0x20, 0x10][rng.usize(..2)]),
        7 => Violation::Rsv1Misplaced(rng.u8(0..=2)),
        8 => Violation::ReservedOpcode([3, 4, 5, 6, 7, 11, 12, 13, 14, 15][rng.usize(..10)]),
        9 => Violation::ControlTooLong,
        10 => Violation::FragmentedPing,
        11 => Violation::Unmasked,
        12 => Violation::ContinuationFirst,
        13 => Violation::NewMessageInsideMessage,
        14 => Violation::CloseOneByte,
        15 => Violation::CloseBadCode(
            [0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999][rng.usize(..9)],
        ),
        _ => Violation::CloseReasonNotUtf8,
    };
    // Rsv1Misplaced(0): RSV1 with no extension agreed; 1: on a continuation frame (needs the
    // extension); 2: on a ping.
    let offer = match v {
        Violation::Rsv1Misplaced(0) => None,
        v if v.needs_deflate() => Some(deflate_offer(rng)),
        _ => offer(rng),
    };
    plan.kind = Kind::Violation;
    plan.bomb = matches!(v, Violation::Bomb);
    plan.actions.push(Action::Handshake { offer, cut: None });
    let n = rng.usize(0..=3);
    traffic(rng, &mut plan.actions, n, offer.is_some(), false);
    plan.actions.push(Action::Drain);
    plan.actions.push(Action::Violate(v));
    plan.actions.push(Action::ExpectClose {
        code: Some(v.code()),
        reply: rng.bool(),
    });
    plan.label = format!("violation/{}", v.name());
}

fn abort(rng: &mut Rng, plan: &mut Plan, room: &Room) {
    plan.kind = Kind::Abort;
    let point = rng.u32(..5);
    let mut how = rng.u32(..3);
    let silent_fits = if point == 0 {
        room.silent_handshake
    } else {
        room.silent_open
    };
    if how == 2 && !silent_fits {
        how = rng.u32(..2);
    }
    let offer = if point == 3 {
        Some(deflate_offer(rng))
    } else {
        offer(rng)
    };
    let point_name = match point {
        0 => {
            plan.actions.push(Action::Handshake {
                offer,
                cut: Some(rng.u32(1..1000)),
            });
            "mid-handshake"
        }
        p => {
            plan.actions.push(Action::Handshake { offer, cut: None });
            let n = rng.usize(0..=3);
            traffic(rng, &mut plan.actions, n, offer.is_some(), false);
            match p {
                1 => {
                    plan.actions.push(Action::PartialFrame { compress: false });
                    "mid-frame"
                }
                2 => {
                    plan.actions.push(Action::Partial {
                        text: rng.bool(),
                        compress: false,
                        fragments: rng.usize(1..=3),
                    });
                    "mid-fragmented-message"
                }
                3 => {
                    if rng.bool() {
                        plan.actions.push(Action::PartialFrame { compress: true });
                    } else {
                        plan.actions.push(Action::Partial {
                            text: rng.bool(),
                            compress: true,
                            fragments: rng.usize(1..=3),
                        });
                    }
                    "mid-compressed-message"
                }
                _ => "between-messages",
            }
        }
    };
    let how_name = match how {
        0 => {
            plan.actions.push(Action::Reset);
            "reset"
        }
        1 => {
            plan.actions.push(Action::HalfClose);
            plan.actions.push(Action::ExpectEnd);
            "half-close"
        }
        _ => {
            plan.actions.push(Action::Silent);
            "vanish"
        }
    };
    plan.label = format!("abort/{point_name}/{how_name}");
}

fn slow(rng: &mut Rng, plan: &mut Plan) {
    plan.kind = Kind::SlowReader;
    plan.small_buffers = true;
    let offer = offer(rng);
    plan.actions.push(Action::Handshake { offer, cut: None });
    plan.actions.push(Action::Flood);
    plan.label = format!(
        "slow-reader/{}",
        if offer.is_some() { "deflate" } else { "plain" }
    );
}
