//! Differential: the same client bytes decoded by sansws (a server connection) and by decoders
//! written elsewhere, which must hand out the same messages in the same order and fail in the
//! same way.
//!
//! - Frames mode: the input's bytes, cut where the input says for sansws, read as one stream by
//!   tungstenite in the same role (a server: masked frames) in message mode. Both decode with
//!   the same frame and message limits. sansws also runs in stream mode when the input says so
//!   (its chunks are joined into messages).
//! - Deflate mode: messages built from the input (compressed fragments, plain fragments, pings
//!   between fragments) into a server that negotiated permessage-deflate, against C zlib
//!   inflating the same payloads: raw DEFLATE with `00 00 ff ff` appended to each message, the
//!   window kept across messages unless `client_no_context_takeover` was agreed.
//!
//! Errors are compared by class (protocol, invalid UTF-8, too large, bad compressed data).
//! Where the decoders legitimately differ, the target tolerates the difference only after a
//! check confirms that it is that difference; docs/fuzzing.md lists each one with the RFC text
//! that decides it.
//!
//! Input: byte 0 flags (bit 0 deflate mode, bit 1 small limits, bit 2 stream receive mode,
//! bit 3 `client_no_context_takeover`), bytes 1-2 the frame limit minus 125 and bytes 3-4 the
//! message limit (little-endian, with bit 1), bytes 5-8 chunk sizes minus one (cycled), then
//! the wire bytes (frames mode) or message records (deflate mode, see `records`).
#![no_main]

use std::io::{self, Cursor, Read, Write};

use flate2::{Decompress, FlushDecompress, Status};
use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::handshake::Negotiated;
use sansws::{Config, Connection, Event, MessageKind, ReceiveMode};
use tungstenite::protocol::frame::coding::{CloseCode as TungCloseCode, Control, Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::{Role, WebSocket, WebSocketConfig};
use tungstenite::Message;

const DEFAULT_FRAME_LIMIT: usize = 16 << 20;
const DEFAULT_MESSAGE_LIMIT: usize = 64 << 20;
/// Control frames carry at most 125 bytes (RFC 6455 §5.5). sansws applies its frame limit to
/// data frames only, tungstenite to every frame: a limit of at least 125 keeps that apart.
const MIN_FRAME_LIMIT: usize = 125;
/// How far past the message limit the zlib reference inflates, looking for corrupt data that
/// sansws's inflater may meet in the same step (miniz_oxide decodes up to its 32 KiB window
/// ahead of what it hands out).
const LOOKAHEAD: usize = 64 << 10;
/// RFC 7692 §7.2.2: appended to each compressed message's payload before inflating.
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// The masking key of the frames built in deflate mode.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// What a decoder handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Msg {
    Text(Vec<u8>),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<(u16, Vec<u8>)>),
}

/// How a decoder stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// All input was decoded; the next frame needs more.
    Open,
    /// A close frame arrived (the last message handed out).
    Closed,
    Failed(Class),
}

/// The failure classes both sides' errors map to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A framing or fragmentation rule (1002).
    Protocol,
    /// Text or a close reason that is not UTF-8 (1007).
    Utf8,
    /// A frame or message over the configured limit (1009).
    TooLarge,
    /// A compressed message that does not inflate (1007).
    BadDeflate,
}

#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    msgs: Vec<Msg>,
    end: End,
}

/// sansws's outcome, and its error (some differences are told apart by the exact kind).
struct Sansws {
    outcome: Outcome,
    error: Option<sansws::Error>,
}

/// Names a tolerated difference on stderr when `DIFFERENTIAL_TALLY` is set, so a replay of a
/// corpus can count how often each one decided.
fn tolerated(name: &str) {
    static TALLY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    if *TALLY.get_or_init(|| std::env::var_os("DIFFERENTIAL_TALLY").is_some()) {
        eprintln!("tolerated {name}");
    }
}

#[derive(Clone, Copy)]
struct Setup {
    deflate: bool,
    stream: bool,
    no_context_takeover: bool,
    frame_limit: usize,
    message_limit: usize,
    cuts: [u8; 4],
}

fn setup(data: &[u8]) -> Option<(Setup, &[u8])> {
    let (head, rest) = data.split_at_checked(9)?;
    let flags = head[0];
    let (frame_limit, message_limit) = if flags & 2 != 0 {
        (
            MIN_FRAME_LIMIT + usize::from(u16::from_le_bytes([head[1], head[2]])),
            usize::from(u16::from_le_bytes([head[3], head[4]])),
        )
    } else {
        (DEFAULT_FRAME_LIMIT, DEFAULT_MESSAGE_LIMIT)
    };
    let setup = Setup {
        deflate: flags & 1 != 0,
        stream: flags & 4 != 0,
        no_context_takeover: flags & 8 != 0,
        frame_limit,
        message_limit,
        cuts: [head[5], head[6], head[7], head[8]],
    };
    Some((setup, rest))
}

fuzz_target!(|data: &[u8]| {
    let Some((setup, rest)) = setup(data) else {
        return;
    };
    if setup.deflate {
        deflate_mode(&setup, rest);
    } else {
        frames_mode(&setup, rest);
    }
});

// ---------------------------------------------------------------------------------------------
// sansws

fn sansws_config(setup: &Setup) -> Config {
    Config::default()
        .receive_mode(if setup.stream {
            ReceiveMode::Stream
        } else {
            ReceiveMode::Message
        })
        .max_frame_size(setup.frame_limit)
        .max_message_size(setup.message_limit)
}

/// Feeds `wire` to `conn` in the chunks the setup says and collects what it hands out, until
/// the input ends, a close frame arrives or the connection fails.
fn run_sansws(mut conn: Connection, setup: &Setup, wire: &[u8]) -> Sansws {
    let mut msgs = Vec::new();
    let mut streamed: Option<(MessageKind, Vec<u8>)> = None;
    let (mut pos, mut cut) = (0, 0);
    while pos < wire.len() {
        let n = (usize::from(setup.cuts[cut % 4]) + 1).min(wire.len() - pos);
        cut += 1;
        conn.receive(&wire[pos..pos + n]);
        pos += n;
        while let Some(event) = conn.next_event() {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    let end = End::Failed(sansws_class(&error));
                    return Sansws {
                        outcome: Outcome { msgs, end },
                        error: Some(error),
                    };
                }
            };
            match event {
                Event::Text(t) => msgs.push(Msg::Text(t.as_bytes().to_vec())),
                Event::Binary(b) => msgs.push(Msg::Binary(b.to_vec())),
                Event::MessageStart { kind } => streamed = Some((kind, Vec::new())),
                Event::MessageChunk(c) => streamed
                    .as_mut()
                    .expect("a chunk inside a message")
                    .1
                    .extend_from_slice(&c),
                Event::MessageEnd => {
                    let (kind, data) = streamed.take().expect("an end after a start");
                    msgs.push(match kind {
                        MessageKind::Text => Msg::Text(data),
                        MessageKind::Binary => Msg::Binary(data),
                    });
                }
                Event::Ping(p) => msgs.push(Msg::Ping(p.to_vec())),
                Event::Pong(p) => msgs.push(Msg::Pong(p.to_vec())),
                Event::Close(frame) => {
                    let frame = frame.map(|f| (f.code.0, f.reason.as_bytes().to_vec()));
                    msgs.push(Msg::Close(frame));
                    let end = End::Closed;
                    return Sansws {
                        outcome: Outcome { msgs, end },
                        error: None,
                    };
                }
                other => panic!("sansws handed out {other:?} on an open connection"),
            }
        }
    }
    Sansws {
        outcome: Outcome {
            msgs,
            end: End::Open,
        },
        error: None,
    }
}

fn sansws_class(error: &sansws::Error) -> Class {
    match (error, error.close_code().0) {
        (_, 1002) => Class::Protocol,
        (sansws::Error::InvalidUtf8, _) => Class::Utf8,
        (_, 1007) => Class::BadDeflate,
        (_, 1009) => Class::TooLarge,
        _ => panic!("sansws failed with {error}, which no input to a server should cause"),
    }
}

// ---------------------------------------------------------------------------------------------
// Frames mode: sansws against tungstenite

/// The client's bytes as a socket: all of them, then `WouldBlock` (the peer has sent nothing
/// more yet); what tungstenite writes (pongs, its close reply) is dropped.
struct Socket<'a> {
    input: &'a [u8],
}

impl Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.input.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.input.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn run_tungstenite(wire: &[u8], frame_limit: Option<usize>, message_limit: usize) -> Outcome {
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_frame_size(frame_limit)
        .max_message_size(Some(message_limit));
    let mut ws = WebSocket::from_raw_socket(Socket { input: wire }, Role::Server, Some(config));
    let mut msgs = Vec::new();
    loop {
        let end = match ws.read() {
            Ok(Message::Text(t)) => {
                msgs.push(Msg::Text(t.as_bytes().to_vec()));
                continue;
            }
            Ok(Message::Binary(b)) => {
                msgs.push(Msg::Binary(b.to_vec()));
                continue;
            }
            Ok(Message::Ping(p)) => {
                msgs.push(Msg::Ping(p.to_vec()));
                continue;
            }
            Ok(Message::Pong(p)) => {
                msgs.push(Msg::Pong(p.to_vec()));
                continue;
            }
            Ok(Message::Close(frame)) => {
                let frame = frame.map(|f| (u16::from(f.code), f.reason.as_bytes().to_vec()));
                msgs.push(Msg::Close(frame));
                End::Closed
            }
            Ok(Message::Frame(_)) => unreachable!("tungstenite reads messages, not frames"),
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => End::Open,
            Err(tungstenite::Error::Protocol(_)) => End::Failed(Class::Protocol),
            Err(tungstenite::Error::Utf8(_)) => End::Failed(Class::Utf8),
            Err(tungstenite::Error::Capacity(_)) => End::Failed(Class::TooLarge),
            Err(e) => panic!("tungstenite failed with {e}, which a read from memory cannot cause"),
        };
        return Outcome { msgs, end };
    }
}

fn frames_mode(setup: &Setup, wire: &[u8]) {
    let s = run_sansws(Connection::server(sansws_config(setup)), setup, wire);
    let t = run_tungstenite(wire, Some(setup.frame_limit), setup.message_limit);
    if let Err(why) = agree(setup, wire, &s, &t, true) {
        panic!(
            "sansws and tungstenite disagree: {why}\n sansws:      {:?} ({:?})\n tungstenite: {t:?}",
            s.outcome, s.error
        );
    }
}

/// A frame header found by walking the input with tungstenite's header parser.
struct Walked {
    start: usize,
    header_len: usize,
    header: FrameHeader,
    len: u64,
    /// The whole payload is in the input.
    complete: bool,
}

impl Walked {
    /// The payload as far as it arrived, unmasked.
    fn payload(&self, wire: &[u8]) -> Vec<u8> {
        let from = self.start + self.header_len;
        let to = (from as u64 + self.len).min(wire.len() as u64) as usize;
        let mut payload = wire[from..to].to_vec();
        if let Some(key) = self.header.mask {
            payload
                .iter_mut()
                .enumerate()
                .for_each(|(i, b)| *b ^= key[i % 4]);
        }
        payload
    }
}

/// The frames whose headers are whole, up to and including the first one whose payload is not,
/// and where the walk stopped (the start of a partial header or of an invalid one, or the end).
fn walk(wire: &[u8]) -> (Vec<Walked>, usize) {
    let mut frames = Vec::new();
    let mut pos = 0;
    while pos < wire.len() {
        let mut cursor = Cursor::new(&wire[pos..]);
        let Ok(Some((header, len))) = FrameHeader::parse(&mut cursor) else {
            break;
        };
        let header_len = cursor.position() as usize;
        let complete = ((wire.len() - pos - header_len) as u64) >= len;
        frames.push(Walked {
            start: pos,
            header_len,
            header,
            len,
            complete,
        });
        if !complete {
            break;
        }
        pos += header_len + len as usize;
    }
    (frames, pos)
}

/// The bytes that complete the frame the input ends inside: its header's missing bytes as
/// zeros, then (unless tungstenite refuses the header already) payload bytes that unmask to
/// `a`. `None` when not even two bytes of its header are there.
fn completion(wire: &[u8], frame_limit: usize) -> Option<Vec<u8>> {
    let (_, start) = walk(wire);
    let rest = &wire[start..];
    let second = *rest.get(1)?;
    let ext: usize = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let header_len = 2 + ext + if second & 0x80 != 0 { 4 } else { 0 };
    let mut pad = vec![0; header_len.saturating_sub(rest.len())];
    let whole: Vec<u8> = rest.iter().chain(&pad).copied().collect();
    let Ok(Some((header, len))) = FrameHeader::parse(&mut Cursor::new(&whole[..])) else {
        return Some(pad); // a reserved opcode: refused with the header
    };
    if len > frame_limit as u64 {
        return Some(pad); // refused with the header
    }
    let have = whole.len() - header_len;
    let key = header.mask.unwrap_or_default();
    pad.extend((have..len as usize).map(|i| b'a' ^ key[i % 4]));
    Some(pad)
}

/// `frame` with its length cut to at most 126 (still over the 125 a control frame may carry)
/// and a payload that unmasks to `a`, after the bytes before it.
fn shortened(wire: &[u8], frame: &Walked) -> Vec<u8> {
    let mut out = wire[..frame.start].to_vec();
    let len = frame.len.min(126);
    frame
        .header
        .format(len, &mut out)
        .expect("writing to a Vec");
    let key = frame.header.mask.unwrap_or_default();
    out.extend((0..len as usize).map(|i| b'a' ^ key[i % 4]));
    out
}

fn protocol_close() -> Msg {
    Msg::Close(Some((1002, b"Protocol violation".to_vec())))
}

/// Whether tungstenite's outcome `t` agrees with sansws's `s` on `wire`, directly or through
/// one of the named differences (docs/fuzzing.md), each confirmed before it is accepted.
fn agree(
    setup: &Setup,
    wire: &[u8],
    s: &Sansws,
    t: &Outcome,
    may_complete: bool,
) -> Result<(), String> {
    if s.outcome == *t {
        return Ok(());
    }
    let same_msgs = s.outcome.msgs == t.msgs;
    // F1. sansws refuses a frame from its header or from the bytes that arrived, tungstenite
    // once the whole frame is in. Confirmed by completing the frame: tungstenite then fails
    // the same way (sansws, failed already, reads nothing more).
    if may_complete && same_msgs && t.end == End::Open && matches!(s.outcome.end, End::Failed(_)) {
        if let Some(pad) = completion(wire, setup.frame_limit) {
            tolerated("F1");
            let longer: Vec<u8> = wire.iter().chain(&pad).copied().collect();
            let t = run_tungstenite(&longer, Some(setup.frame_limit), setup.message_limit);
            return agree(setup, &longer, s, &t, false)
                .map_err(|why| format!("{why}, once the last frame is complete"));
        }
    }
    if same_msgs
        && s.outcome.end == End::Failed(Class::Protocol)
        && t.end == End::Failed(Class::TooLarge)
    {
        let (frames, _) = walk(wire);
        if let Some(frame) = frames.iter().find(|f| f.len > setup.frame_limit as u64) {
            // F2. A 64-bit length with the most significant bit set: a protocol error to
            // sansws, a frame over the limit to tungstenite.
            if matches!(s.error, Some(sansws::Error::LengthOverflow)) {
                return if frame.len >> 63 == 1 {
                    tolerated("F2");
                    Ok(())
                } else {
                    Err("a length overflow on a frame without one".into())
                };
            }
            // F3. A frame over the limit that also breaks a protocol rule: sansws checks the
            // rules first, tungstenite the length. Confirmed by shortening the frame:
            // tungstenite then reports the protocol error.
            let t = run_tungstenite(&shortened(wire, frame), None, setup.message_limit);
            if t.msgs == s.outcome.msgs && t.end == End::Failed(Class::Protocol) {
                tolerated("F3");
                return Ok(());
            }
            return Err(format!("no protocol error in the shortened frame: {t:?}"));
        }
    }
    if let Some(sansws::Error::InvalidCloseCode(code)) = s.error {
        let allowed = TungCloseCode::from(code).is_allowed();
        // F4. A close code that may not be sent: sansws fails with 1002, tungstenite hands out
        // a close frame whose code it replaced with 1002.
        if t.end == End::Closed
            && t.msgs.split_last() == Some((&protocol_close(), &s.outcome.msgs[..]))
            && !allowed
        {
            tolerated("F4");
            return Ok(());
        }
        // F5. An invalid close code and a reason that is not UTF-8: sansws checks the code
        // first, tungstenite the reason.
        if same_msgs && t.end == End::Failed(Class::Utf8) && !allowed {
            let (frames, _) = walk(wire);
            let close = frames
                .iter()
                .find(|f| f.complete && f.header.opcode == OpCode::Control(Control::Close));
            if let Some(close) = close.map(|f| f.payload(wire)) {
                if close.len() >= 2
                    && u16::from_be_bytes([close[0], close[1]]) == code
                    && std::str::from_utf8(&close[2..]).is_err()
                {
                    tolerated("F5");
                    return Ok(());
                }
            }
        }
    }
    // F6. 1014 (Bad Gateway, registered with IANA after RFC 6455): sansws hands it out,
    // tungstenite replaces it with 1002.
    if s.outcome.end == End::Closed && t.end == End::Closed {
        if let (Some((Msg::Close(Some((code, _))), s_rest)), Some((t_last, t_rest))) =
            (s.outcome.msgs.split_last(), t.msgs.split_last())
        {
            if *code == 1014 && s_rest == t_rest && *t_last == protocol_close() {
                tolerated("F6");
                return Ok(());
            }
        }
    }
    Err("different messages or endings".into())
}

// ---------------------------------------------------------------------------------------------
// Deflate mode: sansws against zlib

/// One frame to send in deflate mode.
enum Record<'a> {
    /// A fragment of a data message: the first of a message says whether it is compressed
    /// (RSV1) and text; `fin` ends the message.
    Fragment {
        compressed: bool,
        text: bool,
        fin: bool,
        data: &'a [u8],
    },
    /// A ping, between messages or between the fragments of one.
    Ping(&'a [u8]),
}

/// Records: a tag byte (bits 0-1: 0 or 3 compressed fragment, 1 plain fragment, 2 ping; bit 2
/// text; bit 3 fin), a little-endian u16 length (modulo 126 for a ping), then the data (cut
/// short where the input ends).
fn records(mut rest: &[u8]) -> Vec<Record<'_>> {
    let mut out = Vec::new();
    while let Some((&tag, tail)) = rest.split_first() {
        let (len, tail) = match tail {
            [a, b, tail @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), tail),
            _ => (0, &[][..]),
        };
        let len = if tag & 3 == 2 { len % 126 } else { len };
        let (data, tail) = tail.split_at(len.min(tail.len()));
        rest = tail;
        out.push(match tag & 3 {
            2 => Record::Ping(data),
            kind => Record::Fragment {
                compressed: kind != 1,
                text: tag & 4 != 0,
                fin: tag & 8 != 0,
                data,
            },
        });
    }
    out
}

/// The frames for `records`, masked, as a client sends them.
fn deflate_wire(records: &[Record]) -> Vec<u8> {
    let mut wire = Vec::new();
    let mut in_message = false;
    for record in records {
        let (opcode, rsv1, fin, data) = match *record {
            Record::Ping(data) => (OpCode::Control(Control::Ping), false, true, data),
            Record::Fragment {
                compressed,
                text,
                fin,
                data,
            } => {
                let first = !in_message;
                in_message = !fin;
                let opcode = match (first, text) {
                    (false, _) => Data::Continue,
                    (true, true) => Data::Text,
                    (true, false) => Data::Binary,
                };
                (OpCode::Data(opcode), first && compressed, fin, data)
            }
        };
        client_frame(opcode, rsv1, fin, data, &mut wire);
    }
    wire
}

/// Appends one frame, masked, as a client sends it.
fn client_frame(opcode: OpCode, rsv1: bool, fin: bool, data: &[u8], wire: &mut Vec<u8>) {
    let header = FrameHeader {
        is_final: fin,
        rsv1,
        rsv2: false,
        rsv3: false,
        opcode,
        mask: Some(MASK),
    };
    header
        .format(data.len() as u64, wire)
        .expect("writing to a Vec");
    wire.extend(data.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
}

/// C zlib inflating one direction of permessage-deflate: raw DEFLATE, the window kept across
/// messages (and across the end of a DEFLATE stream, RFC 7692 §7.2.3.4) unless reset.
struct Zlib {
    z: Decompress,
    /// The last 32 KiB inflated since the context began: the window a new DEFLATE stream
    /// starts from.
    history: Vec<u8>,
    /// The DEFLATE stream ended and no byte of the message followed yet.
    stream_ended: bool,
    /// The current message has had a payload byte.
    had_input: bool,
}

/// What inflating one fragment found.
struct Inflated {
    /// Bytes inflated, including any past `keep`.
    produced: usize,
    corrupt: bool,
}

impl Zlib {
    fn new() -> Self {
        Self {
            z: Decompress::new(false),
            history: Vec::new(),
            stream_ended: false,
            had_input: false,
        }
    }

    /// Inflates one fragment's payload (with the tail after the message's last one) into
    /// `out`, keeping at most `keep` bytes there and stopping once more than `budget` came out.
    fn inflate(
        &mut self,
        data: &[u8],
        fin: bool,
        out: &mut Vec<u8>,
        keep: usize,
        budget: usize,
    ) -> Inflated {
        self.had_input |= !data.is_empty();
        let mut buf = [0u8; 4096];
        let mut input = data;
        let mut in_tail = false;
        let mut output_left = false;
        let mut produced = 0;
        let mut corrupt = false;
        loop {
            if input.is_empty() && !output_left {
                // RFC 7692 §7.2.2: the tail follows the message's payload, unless the DEFLATE
                // stream ended exactly where the payload did (nothing is left to complete).
                if in_tail || !fin || self.stream_ended {
                    break;
                }
                input = &TAIL;
                in_tail = true;
            }
            let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
            let status = self.z.decompress(input, &mut buf, FlushDecompress::Sync);
            let consumed = (self.z.total_in() - in_before) as usize;
            let written = (self.z.total_out() - out_before) as usize;
            input = &input[consumed..];
            output_left = written == buf.len();
            let fresh = &buf[..written];
            out.extend_from_slice(&fresh[..written.min(keep.saturating_sub(out.len()))]);
            self.history.extend_from_slice(fresh);
            let drop = self.history.len().saturating_sub(32 << 10);
            self.history.drain(..drop);
            produced += written;
            if consumed > 0 && !in_tail {
                self.stream_ended = false;
            }
            match status {
                Err(_) => {
                    corrupt = true;
                    break;
                }
                Ok(Status::StreamEnd) => {
                    // What follows a final block is a new DEFLATE stream over the same window.
                    self.z.reset(false);
                    if !self.history.is_empty() {
                        self.z
                            .set_dictionary(&self.history)
                            .expect("a raw inflater takes a dictionary after a reset");
                    }
                    if in_tail {
                        break; // the rest of the tail is not data
                    }
                    self.stream_ended = true;
                }
                Ok(_) => assert!(
                    consumed > 0 || written > 0 || input.is_empty(),
                    "zlib made no progress with input left"
                ),
            }
            if produced > budget {
                break;
            }
        }
        if fin {
            self.stream_ended = false;
        }
        Inflated { produced, corrupt }
    }
}

/// The message a compressed or plain fragment sequence builds up in the reference.
struct Current {
    text: bool,
    compressed: bool,
    out: Vec<u8>,
    /// Bytes of the message so far, counting inflated bytes not kept in `out`.
    size: usize,
}

/// The UTF-8 state of `bytes` as a message prefix: `Some(true)` broken for good, `Some(false)`
/// cut inside a code point, `None` valid.
fn utf8_state(bytes: &[u8]) -> Option<bool> {
    std::str::from_utf8(bytes)
        .err()
        .map(|e| e.error_len().is_some())
}

/// What sansws must hand out for the records, one record at a time, with zlib inflating.
struct Reference<'a> {
    setup: &'a Setup,
    zlib: Zlib,
    current: Option<Current>,
    msgs: Vec<Msg>,
    /// Text is checked for UTF-8 (off to see what zlib alone says about the data).
    check_utf8: bool,
}

impl<'a> Reference<'a> {
    fn new(setup: &'a Setup) -> Self {
        Self {
            setup,
            zlib: Zlib::new(),
            current: None,
            msgs: Vec::new(),
            check_utf8: true,
        }
    }

    /// Takes one record; on a failure, the classes sansws may report for it.
    fn record(&mut self, record: &Record) -> Result<(), Vec<Class>> {
        let limit = self.setup.message_limit;
        let (compressed, text, fin, data) = match *record {
            Record::Ping(data) => {
                self.msgs.push(Msg::Ping(data.to_vec()));
                return Ok(());
            }
            Record::Fragment {
                compressed,
                text,
                fin,
                data,
            } => (compressed, text, fin, data),
        };
        let zlib = &mut self.zlib;
        let no_context_takeover = self.setup.no_context_takeover;
        let cur = self.current.get_or_insert_with(|| {
            if compressed && no_context_takeover {
                *zlib = Zlib::new();
            }
            zlib.had_input = false;
            Current {
                text,
                compressed,
                out: Vec::new(),
                size: 0,
            }
        });
        if data.len() > self.setup.frame_limit {
            // sansws refuses from the frame header.
            return Err(vec![Class::TooLarge]);
        }
        let mut found = Vec::new();
        if cur.compressed {
            let room = (limit - cur.size).saturating_add(1);
            let keep = cur.out.len() + room;
            let budget = room.saturating_add(LOOKAHEAD);
            let r = zlib.inflate(data, fin, &mut cur.out, keep, budget);
            cur.size += r.produced;
            if cur.size > limit {
                found.push(Class::TooLarge);
            }
            if r.corrupt {
                found.push(Class::BadDeflate);
            }
            // E1. A compressed message with no payload at all: zlib waits inside the empty
            // stored block the tail starts; sansws refuses it (RFC 7692 §7.2.1).
            if fin && !zlib.had_input {
                tolerated("E1");
                found.push(Class::BadDeflate);
            }
        } else if cur.size + data.len() > limit {
            // sansws refuses from the frame header, before looking at the bytes.
            found.push(Class::TooLarge);
        } else {
            cur.size += data.len();
            cur.out.extend_from_slice(data);
        }
        if self.check_utf8 && cur.text && !(found.contains(&Class::TooLarge) && !cur.compressed) {
            // sansws validates what it keeps, which is never past the limit.
            let checked = &cur.out[..cur.out.len().min(limit)];
            match utf8_state(checked) {
                Some(true) => found.push(Class::Utf8),
                Some(false) if fin && cur.size <= limit => found.push(Class::Utf8),
                _ => {}
            }
        }
        if !found.is_empty() {
            return Err(found);
        }
        if fin {
            let cur = self.current.take().expect("a message in progress");
            self.msgs.push(if cur.text {
                Msg::Text(cur.out)
            } else {
                Msg::Binary(cur.out)
            });
        }
        Ok(())
    }
}

/// An empty stored block, then a final block holding `Z`: inflated from a block boundary (or a
/// stream's start), exactly `Z` comes out and the stream ends.
const BOUNDARY_PROBE: [u8; 8] = [0x00, 0x00, 0x00, 0xff, 0xff, 0x8b, 0x02, 0x00];

/// E2 check: sansws refused a compressed message as corrupt before zlib could tell. Confirmed
/// when zlib, reading on to the end of that message (closed with an empty last fragment if
/// the input ended first), fails too, or is left inside a block (RFC 7692 §7.2.1: a message's
/// data ends at a block boundary once the tail is appended), so its silence was a wait.
/// Replays the records up to the end of that message, then probes.
fn ends_inside_a_block(setup: &Setup, records: &[Record], handed_out: &[Msg]) -> bool {
    // Without the small limits: sansws stopped before any limit did, and what matters is
    // what zlib says about the data.
    let setup = Setup {
        frame_limit: DEFAULT_FRAME_LIMIT,
        message_limit: DEFAULT_MESSAGE_LIMIT,
        ..*setup
    };
    let mut r = Reference::new(&setup);
    let mut records = records.iter();
    // The records sansws got through: everything up to what it handed out.
    while r.msgs.len() < handed_out.len() {
        let Some(record) = records.next() else {
            return false;
        };
        if r.record(record).is_err() {
            return false;
        }
    }
    if r.msgs != handed_out {
        return false;
    }
    // The message sansws failed in, to its end (pings in it, which sansws did not get to,
    // are passed over). Its text may break UTF-8 before the data breaks DEFLATE (sansws can
    // meet both in one step, both 1007): only the data counts here.
    r.check_utf8 = false;
    loop {
        let record = records.next().unwrap_or(&Record::Fragment {
            compressed: true,
            text: false,
            fin: true,
            data: &[],
        });
        let ends = matches!(record, Record::Fragment { fin: true, .. });
        if let Err(classes) = r.record(record) {
            // zlib, reading on, finds the data corrupt too.
            return classes.contains(&Class::BadDeflate);
        }
        if ends {
            break;
        }
    }
    let mut out = Vec::new();
    let probe = r
        .zlib
        .inflate(&BOUNDARY_PROBE, false, &mut out, 16, 1 << 16);
    !(out == b"Z" && !probe.corrupt && r.zlib.stream_ended)
}

/// A server that negotiated permessage-deflate as the setup says.
fn deflate_server(setup: &Setup) -> Connection {
    let offer = ExtensionOffer::new("permessage-deflate");
    let negotiator = PerMessageDeflate::new(
        DeflateConfig::default().client_no_context_takeover(setup.no_context_takeover),
    );
    let (answer, extension) = negotiator
        .accept(&[&offer])
        .expect("a plain offer is accepted");
    assert_eq!(
        answer
            .params
            .iter()
            .any(|p| p.name == "client_no_context_takeover"),
        setup.no_context_takeover
    );
    Connection::server(sansws_config(setup)).after_handshake(
        Negotiated {
            subprotocol: None,
            extension: Some(extension),
        },
        &[],
    )
}

/// E4 check: zlib refused a compressed message that the input leaves unfinished, and sansws
/// is still waiting. Confirmed when ending the message (an empty last fragment, so the tail
/// is fed) makes sansws fail as corrupt, having handed out nothing more; what it handed out
/// beyond zlib's messages are only pings it read before it could tell.
fn fails_once_closed(
    setup: &Setup,
    records: &[Record],
    wire: &[u8],
    s: &Outcome,
    zlib: &[Msg],
) -> bool {
    let mut in_message = false;
    for record in records {
        if let Record::Fragment { fin, .. } = record {
            in_message = !fin;
        }
    }
    if !in_message || !s.msgs.starts_with(zlib) {
        return false;
    }
    if !s.msgs[zlib.len()..]
        .iter()
        .all(|m| matches!(m, Msg::Ping(_)))
    {
        return false;
    }
    let mut closed = wire.to_vec();
    client_frame(OpCode::Data(Data::Continue), false, true, &[], &mut closed);
    let s2 = run_sansws(deflate_server(setup), setup, &closed);
    s2.outcome.end == End::Failed(Class::BadDeflate) && s2.outcome.msgs == s.msgs
}

fn deflate_mode(setup: &Setup, rest: &[u8]) {
    let records = records(rest);
    let wire = deflate_wire(&records);
    let s = run_sansws(deflate_server(setup), setup, &wire);
    let mut reference = Reference::new(setup);
    let end = records
        .iter()
        .try_for_each(|record| reference.record(record));
    let ends_agree = match (&end, s.outcome.end) {
        (Ok(()), End::Open) => true,
        (Err(classes), End::Failed(class)) if classes.contains(&class) => {
            if classes.len() > 1 {
                tolerated("E3");
            }
            true
        }
        _ => false,
    };
    if s.outcome.msgs == reference.msgs && ends_agree {
        return;
    }
    if s.outcome.end == End::Failed(Class::BadDeflate)
        && ends_inside_a_block(setup, &records, &s.outcome.msgs)
    {
        tolerated("E2");
        return;
    }
    if s.outcome.end == End::Open
        && matches!(&end, Err(classes) if classes.contains(&Class::BadDeflate))
        && fails_once_closed(setup, &records, &wire, &s.outcome, &reference.msgs)
    {
        tolerated("E4");
        return;
    }
    panic!(
        "sansws and zlib disagree\n sansws: {:?} ({:?})\n zlib:   {:?}, {end:?}",
        s.outcome, s.error, reference.msgs
    );
}
