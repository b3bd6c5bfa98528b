//! The receive path: frames out of the input buffer, checked against the rules of RFC 6455,
//! unmasked in place, decoded by the extension, assembled or streamed, and turned into events.
//!
//! [`Connection::poll_frames`] follows the frame states of docs/architecture.md: one function
//! per state, each saying how far it got with a [`Progress`].

use bytes::{Buf, Bytes, BytesMut};

use super::config::ReceiveMode;
use super::error::Error;
use super::event::Event;
use super::state::Role;
use super::Connection;
use crate::buffer::{LazyBuf, RetainedBuf};
use crate::close::{CloseCode, CloseFrame};
use crate::extensions::{Decoded, ExtensionError};
use crate::frame::{
    apply_mask, decode_header, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
};
use crate::message::assembler::Assembler;
use crate::message::MessageKind;
use crate::utf8_bytes::Utf8Bytes;

/// Room in the input buffer worth a read without growing it ([`Connection::receive_buffer`]).
const MIN_READ_ROOM: usize = 4096;

/// Where the decoder is within the current frame.
#[derive(Debug)]
enum FrameState {
    /// Waiting for a header.
    Header,
    /// A control frame: waits for its whole (≤125-byte) payload.
    Control { header: FrameHeader, len: usize },
    /// A data frame whose payload stays in the input buffer until it is complete, so it can be
    /// handed out without copying (a single-frame message in message mode). `checked` bytes
    /// at the front are already unmasked and validated.
    Held {
        header: FrameHeader,
        len: usize,
        checked: usize,
    },
    /// A data frame whose payload is passed on as it arrives. `done` bytes are passed on.
    Passing {
        header: FrameHeader,
        len: usize,
        done: usize,
    },
}

/// Frame payload waiting to be decoded by the extension.
#[derive(Debug)]
struct DecodeInput {
    payload: BytesMut,
    /// The payload ends the message.
    fin: bool,
}

/// What one step of the receive path achieved.
enum Progress {
    /// An event for the caller.
    Event(Event),
    /// Nothing more can be decoded until more bytes arrive.
    NeedInput,
    /// The state moved on: look again.
    Again,
}

/// A held frame at least this long does not share its allocation with the frames that arrive
/// in the same read as its end (see [`Receiver::next`]), if they are at least
/// 1/[`SEPARATE_SHARE`] of its length; otherwise moving them later costs less than a second
/// buffer (measured in docs/performance.md: for 1 MiB frames in 64 KiB reads, two buffers
/// were slower than one).
const SEPARATE_AFTER: usize = 8 << 10;
const SEPARATE_SHARE: usize = 8;

/// Receive-side state.
#[derive(Debug)]
pub(super) struct Receiver {
    buf: RetainedBuf,
    /// Input that arrived in the same read as the end of a large held frame, kept apart from
    /// it: put behind the frame, it would have to move to the front of the allocation (or to
    /// a new one) to make room for the next large frame, a second copy of every byte. Becomes
    /// the input buffer once the frame is handed out, and the frame's allocation the spare.
    next: LazyBuf,
    frame: FrameState,
    assembler: Assembler,
    decode_input: Option<DecodeInput>,
    /// Stream mode: a `MessageEnd` is owed after the chunk just handed out.
    end_owed: bool,
}

impl Receiver {
    pub fn new() -> Self {
        Self {
            buf: RetainedBuf::new(),
            next: LazyBuf::default(),
            frame: FrameState::Header,
            assembler: Assembler::default(),
            decode_input: None,
            end_owed: false,
        }
    }

    pub fn buffered(&self) -> usize {
        self.buf.len() + self.next.len() + self.decode_input.as_ref().map_or(0, |d| d.payload.len())
    }

    /// Stops reading: drops all input and partial messages.
    pub fn shut(&mut self) {
        self.buf = RetainedBuf::new();
        self.next = LazyBuf::default();
        self.frame = FrameState::Header;
        self.assembler.reset();
        self.decode_input = None;
        self.end_owed = false;
    }

    /// Takes every buffered input byte (the handshake consumes input this way).
    pub fn take_input(&mut self) -> BytesMut {
        let mut input = self.buf.take();
        if !self.next.is_empty() {
            input.extend_from_slice(&self.next.take());
        }
        input
    }

    /// Replaces the input buffer (bytes that followed the handshake come first).
    pub fn set_input(&mut self, buf: BytesMut) {
        self.buf.set(buf);
    }

    /// Gives back the input and gathering buffers' allocations (see
    /// [`Connection::release_buffers`]). A frame payload waiting for the extension is kept,
    /// moved out of the input allocation it is a view of.
    pub fn release(&mut self) {
        self.buf.release();
        self.next.release();
        self.assembler.release();
        if let Some(input) = self.decode_input.as_mut() {
            input.payload = BytesMut::from(&input.payload[..]);
        }
    }

    /// Ends a busy period of the idle timer (see [`RetainedBuf::trim`]). A frame that is
    /// arriving whole counts with its announced length, so the allocation that carried an
    /// earlier frame of that size carries this one instead of being cut down and grown again;
    /// it is never grown from that length, only kept.
    pub fn trim(&mut self, keep: usize) {
        let need = match self.frame {
            FrameState::Held { len, .. } => len,
            _ => 0,
        };
        self.buf.trim(keep, need);
        self.next.trim(keep, 0);
        self.assembler.trim(keep);
    }

    /// Makes room for `more` bytes (see [`RetainedBuf::make_room`]): while a frame arrives
    /// whole, growth stops at the frame's end, with room for a header before it, so that the
    /// next frame of that size fits in the same allocation with its header.
    fn make_room(&mut self, more: usize) {
        let limit = match self.frame {
            FrameState::Held { len, .. } => Some(len.saturating_add(MAX_HEADER_LEN)),
            _ => None,
        };
        self.buf.make_room(more, limit);
    }

    /// Appends received bytes: to [`next`](Self::next) while it is in use, or, when they end
    /// a large held frame and go on past it, up to the frame's end in the input buffer and the
    /// rest in `next`.
    fn append(&mut self, data: &[u8]) {
        if !self.next.is_empty() {
            let next = self.next.get();
            next.make_room(data.len(), None);
            next.extend_from_slice(data);
            return;
        }
        let (len, missing) = match self.frame {
            FrameState::Held { len, .. } if len >= SEPARATE_AFTER => {
                (len, len.saturating_sub(self.buf.len()))
            }
            _ => (0, 0),
        };
        if missing == 0 || data.len() <= missing || data.len() - missing < len / SEPARATE_SHARE {
            self.make_room(data.len());
            self.buf.extend_from_slice(data);
            return;
        }
        let (end, rest) = data.split_at(missing);
        self.make_room(missing);
        self.buf.extend_from_slice(end);
        // Room for the rest and behind it for a frame as long as the one it follows (which
        // arrived whole): a stream of large frames then reuses two allocations without moving
        // a byte.
        let next = self.next.get();
        next.make_room(rest.len().saturating_add(len), None);
        next.extend_from_slice(rest);
    }

    /// Splits a complete held frame's payload off the input buffer; input kept apart behind
    /// it becomes the input buffer.
    fn split_held(&mut self, len: usize) -> BytesMut {
        let payload = self.buf.split_to(len);
        if self.buf.is_empty() && !self.next.is_empty() {
            core::mem::swap(&mut self.buf, self.next.get());
        }
        payload
    }
}

impl Connection {
    /// Gives the connection bytes read from the transport, in any chunking. Decoding happens
    /// in [`next_event`](Self::next_event). Once the connection no longer reads (after the
    /// peer's close frame, a failure, end of input or the close timeout), received bytes are
    /// dropped unread: nothing after a close frame or a protocol violation may be acted on.
    pub fn receive(&mut self, data: &[u8]) {
        if !self.reading() || data.is_empty() {
            return;
        }
        self.rx.append(data);
        self.timers.activity = true;
        self.timers.busy = true;
    }

    /// Room to read the transport into, straight in the connection's input buffer: an empty
    /// [`BytesMut`] with capacity for at least `want` bytes, sharing the buffer's allocation
    /// after the bytes it holds. Read into it (tokio's `read_buf`, or anything that fills a
    /// [`BufMut`](bytes::BufMut)) and hand it back with
    /// [`receive_owned`](Self::receive_owned), which then copies nothing. Give it back before
    /// any other input (otherwise the buffer grows elsewhere and the bytes are copied).
    ///
    /// Only room after every byte already received is handed out: the bytes the connection
    /// has validated in place (a text payload being checked) are never writable from outside.
    ///
    /// The room may be less than `want` when the buffer already has enough for a useful read
    /// (4 KiB, or the rest of a frame arriving whole): a read takes what is there, and the
    /// buffer grows only when a read could not otherwise make progress, as
    /// [`receive`](Self::receive) would grow it.
    pub fn receive_buffer(&mut self, want: usize) -> BytesMut {
        let want = want.max(1);
        if !self.rx.next.is_empty() {
            // Input is kept apart behind a complete held frame: new bytes go after it.
            let next = self.rx.next.get();
            next.make_room(want, None);
            return next.split_spare();
        }
        let held = self.rx.buf.len();
        let frame_rest = match self.rx.frame {
            FrameState::Held { len, .. } if len > held => len - held,
            _ => usize::MAX,
        };
        let enough = want.min(MIN_READ_ROOM).min(frame_rest);
        // Room enough is used as it is (reclaiming would move the bytes held).
        if self.rx.buf.capacity() - held < enough && !self.rx.buf.try_reclaim(want) {
            self.rx.make_room(want);
        }
        self.rx.buf.split_spare()
    }

    /// Gives the connection received bytes it may keep: the buffer from
    /// [`receive_buffer`](Self::receive_buffer), rejoined without a copy, or any other
    /// [`BytesMut`] (adopted as the input buffer when none is held, copied otherwise). The
    /// same as [`receive`](Self::receive) otherwise. The room handed back empty (a read that
    /// found nothing yet) is rejoined too, so the next `receive_buffer` finds it again.
    pub fn receive_owned(&mut self, data: BytesMut) {
        if !self.reading() {
            return;
        }
        let received = !data.is_empty();
        if self.rx.next.is_empty() {
            self.rx.buf.unsplit(data);
        } else {
            self.rx.next.get().unsplit(data);
        }
        if received {
            self.timers.activity = true;
            self.timers.busy = true;
        }
    }

    /// Tells the connection that the transport's read side ended. Before the close handshake
    /// completed, that is an abnormal closure (1006), reported by `next_event` once the
    /// events decoded from earlier input have been handed out.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// The next event decoded from received bytes, or `None` when more input is needed (or the
    /// connection no longer reads). A failure is returned once as `Some(Err(_))`, and every
    /// later call returns `None`. Its close frame is then queued, except for the errors that
    /// send none (see [`Error`]).
    pub fn next_event(&mut self) -> Option<Result<Event, Error>> {
        if let Some(error) = self.pending_error.take() {
            return Some(Err(*error));
        }
        if self.handshaking() {
            return self.poll_handshake();
        }
        if self.failed || self.close_received {
            return None;
        }
        match self.poll_frames() {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) => {
                if self.eof {
                    return self.fail_now(Error::UnexpectedEof);
                }
                None
            }
            Err(error) => self.fail_now(error),
        }
    }

    /// Decodes until an event is ready or more input is needed.
    fn poll_frames(&mut self) -> Result<Option<Event>, Error> {
        loop {
            let progress = if self.rx.end_owed {
                self.rx.end_owed = false;
                Progress::Event(Event::MessageEnd)
            } else if self.rx.decode_input.is_some() {
                self.pump_decoder()?
            } else {
                match self.rx.frame {
                    FrameState::Header => self.start_frame()?,
                    FrameState::Control { header, len } => self.finish_control(header, len)?,
                    FrameState::Held {
                        header,
                        len,
                        checked,
                    } => self.continue_held(header, len, checked)?,
                    FrameState::Passing { header, len, done } => {
                        self.continue_passing(header, len, done)?
                    }
                }
            };
            match progress {
                Progress::Event(event) => return Ok(Some(event)),
                Progress::NeedInput => return Ok(None),
                Progress::Again => {}
            }
        }
    }

    /// A header: checked, then the frame's state chosen. A data frame that is a whole message
    /// in message mode is held in the input buffer; every other data frame passes through.
    fn start_frame(&mut self) -> Result<Progress, Error> {
        let Some((header, header_len)) = decode_header(&self.rx.buf)? else {
            return Ok(Progress::NeedInput);
        };
        let start = self.check_header(&header)?;
        self.rx.buf.advance(header_len);
        // Fits: checked against max_frame_size (a usize) or the control payload limit.
        let len = header.payload_len as usize;
        if header.opcode.is_control() {
            self.rx.frame = FrameState::Control { header, len };
            return Ok(Progress::Again);
        }
        let mode = self.config.receive_mode;
        let hold = mode == ReceiveMode::Message
            && start.is_some()
            && header.fin
            && !self.rx.assembler.is_transformed();
        if hold && self.rx.buf.len() >= len {
            // The whole single-frame message is here (the common case for small messages):
            // unmask, validate and hand it out in one step. This repeats the end of
            // `continue_held` on purpose, validating the text in one call instead of
            // incrementally.
            let mut payload = self.rx.buf.split_to(len);
            if let Some(key) = header.mask {
                apply_mask(&mut payload, key, 0);
            }
            let asm = &mut self.rx.assembler;
            asm.check_whole_text(&payload)?;
            let kind = asm.finish()?;
            return Ok(Progress::Event(message_event(kind, payload.freeze())));
        }
        if hold && self.rx.buf.capacity() < len {
            // Make room for the frame in the allocation we already own, if it is big enough,
            // while only a few of its bytes have to move (never allocates: the announced
            // length is not yet backed by bytes).
            let _ = self.rx.buf.try_reclaim(len - self.rx.buf.len());
        }
        self.rx.frame = if hold {
            FrameState::Held {
                header,
                len,
                checked: 0,
            }
        } else {
            FrameState::Passing {
                header,
                len,
                done: 0,
            }
        };
        Ok(match (start, mode) {
            (Some(kind), ReceiveMode::Stream) => Progress::Event(Event::MessageStart { kind }),
            _ => Progress::Again,
        })
    }

    /// A control frame's payload: handled once it is all here.
    fn finish_control(&mut self, header: FrameHeader, len: usize) -> Result<Progress, Error> {
        if self.rx.buf.len() < len {
            return Ok(Progress::NeedInput);
        }
        let mut payload = self.rx.buf.split_to(len);
        if let Some(key) = header.mask {
            apply_mask(&mut payload, key, 0);
        }
        self.rx.frame = FrameState::Header;
        self.on_control(header.opcode, payload.freeze())
            .map(Progress::Event)
    }

    /// A held frame: what arrived is unmasked and validated in place; once the frame is
    /// complete it is split off the input buffer and handed out.
    fn continue_held(
        &mut self,
        header: FrameHeader,
        len: usize,
        checked: usize,
    ) -> Result<Progress, Error> {
        let available = self.rx.buf.len().min(len);
        if available > checked {
            let fresh = &mut self.rx.buf[checked..available];
            if let Some(key) = header.mask {
                apply_mask(fresh, key, checked);
            }
            self.rx.assembler.check_text(fresh)?;
            self.rx.frame = FrameState::Held {
                header,
                len,
                checked: available,
            };
        }
        if available < len {
            return Ok(Progress::NeedInput);
        }
        let payload = self.rx.split_held(len).freeze();
        self.rx.frame = FrameState::Header;
        let kind = self.rx.assembler.finish()?;
        Ok(Progress::Event(message_event(kind, payload)))
    }

    /// A passing frame: what arrived is split off, unmasked, and handed to the extension's
    /// decoder or on as message content.
    fn continue_passing(
        &mut self,
        header: FrameHeader,
        len: usize,
        done: usize,
    ) -> Result<Progress, Error> {
        let available = self.rx.buf.len().min(len - done);
        if available == 0 && done < len {
            return Ok(Progress::NeedInput);
        }
        let mut piece = self.rx.buf.split_to(available);
        if let Some(key) = header.mask {
            apply_mask(&mut piece, key, done);
        }
        let frame_done = done + available == len;
        self.rx.frame = if frame_done {
            FrameState::Header
        } else {
            FrameState::Passing {
                header,
                len,
                done: done + available,
            }
        };
        let fin = header.fin && frame_done;
        if self.rx.assembler.is_transformed() {
            self.rx.decode_input = Some(DecodeInput {
                payload: piece,
                fin,
            });
            return Ok(Progress::Again);
        }
        Ok(match self.on_content(piece.freeze(), fin)? {
            Some(event) => Progress::Event(event),
            None => Progress::Again,
        })
    }

    /// Checks a header against the role, the reserved bits, the limits and the fragmentation
    /// sequence. For a data frame that starts a message, begins it and returns its kind.
    fn check_header(&mut self, header: &FrameHeader) -> Result<Option<MessageKind>, Error> {
        match (self.role, header.mask.is_some()) {
            (Role::Server, false) => return Err(Error::UnmaskedFrame),
            (Role::Client, true) => return Err(Error::MaskedFrame),
            _ => {}
        }
        if header.opcode.is_control() {
            if header.rsv != 0 {
                return Err(Error::ReservedBits(header.rsv));
            }
            if !header.fin {
                return Err(Error::FragmentedControlFrame);
            }
            if header.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(Error::ControlFrameTooLong);
            }
            return Ok(None);
        }
        let start = self.rx.assembler.check_data_opcode(header.opcode)?;
        if header.payload_len > self.config.max_frame_size as u64 {
            return Err(Error::FrameTooLarge);
        }
        let transformed = match (start, header.rsv) {
            (_, 0) => false,
            (Some(_), rsv) => match self.extension.as_mut() {
                Some(ext) if rsv & !ext.rsv_bits() == 0 => {
                    ext.decode_start(rsv).map_err(Error::Extension)?
                }
                _ => return Err(Error::ReservedBits(rsv)),
            },
            (None, rsv) => return Err(Error::ReservedBits(rsv)),
        };
        if let Some(kind) = start {
            self.rx.assembler.begin(kind, transformed);
        }
        if !self.rx.assembler.is_transformed() {
            // Untransformed sizes are known from the headers: refuse before the bytes arrive.
            self.rx
                .assembler
                .add_size(header.payload_len as usize, self.config.max_message_size)?;
        }
        Ok(start)
    }

    /// Message content (after decoding), `fin` when it is the message's last piece.
    fn on_content(&mut self, content: Bytes, fin: bool) -> Result<Option<Event>, Error> {
        let asm = &mut self.rx.assembler;
        asm.check_text(&content)?;
        match self.config.receive_mode {
            ReceiveMode::Message => {
                asm.gather(&content);
                if fin {
                    let kind = asm.finish()?;
                    return Ok(Some(message_event(kind, asm.take_gathered())));
                }
                Ok(None)
            }
            ReceiveMode::Stream => {
                if fin {
                    asm.finish()?;
                    if content.is_empty() {
                        return Ok(Some(Event::MessageEnd));
                    }
                    self.rx.end_owed = true;
                }
                if content.is_empty() {
                    return Ok(None);
                }
                Ok(Some(Event::MessageChunk(content)))
            }
        }
    }

    /// Runs the extension's decoder over the pending frame payload, in bounded steps: in
    /// message mode until the frame is consumed, in stream mode until a chunk is ready.
    fn pump_decoder(&mut self) -> Result<Progress, Error> {
        let Some(DecodeInput {
            payload: mut input,
            fin,
        }) = self.rx.decode_input.take()
        else {
            return Ok(Progress::Again);
        };
        // A message is transformed only when an extension claimed it (`check_header`).
        let Some(ext) = self.extension.as_mut() else {
            return Err(Error::Extension(NO_DECODER));
        };
        let max = self.config.max_message_size;
        let mode = self.config.receive_mode;
        let chunk_size = self.config.stream_chunk_size;
        let asm = &mut self.rx.assembler;
        loop {
            // One byte past the limit is enough to know it was passed.
            let step = max
                .saturating_sub(asm.size())
                .saturating_add(1)
                .min(chunk_size);
            let (decoded, produced, chunk) = match mode {
                ReceiveMode::Message => {
                    let (decoded, produced) = asm.gather_with(max, |out| {
                        ext.decode(&input, fin, out, step).map_err(Error::Extension)
                    })?;
                    (decoded, produced, None)
                }
                ReceiveMode::Stream => {
                    let mut chunk = BytesMut::new();
                    let decoded = ext
                        .decode(&input, fin, &mut chunk, step)
                        .map_err(Error::Extension)?;
                    asm.add_size(chunk.len(), max)?;
                    asm.check_text(&chunk)?;
                    let produced = chunk.len();
                    (
                        decoded,
                        produced,
                        (!chunk.is_empty()).then(|| chunk.freeze()),
                    )
                }
            };
            check_progress(&decoded, produced, input.len())?;
            input.advance(decoded.consumed);
            if !decoded.done {
                if let Some(chunk) = chunk {
                    self.rx.decode_input = Some(DecodeInput {
                        payload: input,
                        fin,
                    });
                    return Ok(Progress::Event(Event::MessageChunk(chunk)));
                }
                continue;
            }
            if !fin {
                return Ok(
                    chunk.map_or(Progress::Again, |c| Progress::Event(Event::MessageChunk(c)))
                );
            }
            let kind = asm.finish()?;
            return Ok(Progress::Event(match (mode, chunk) {
                (ReceiveMode::Message, _) => message_event(kind, asm.take_gathered()),
                (ReceiveMode::Stream, Some(chunk)) => {
                    self.rx.end_owed = true;
                    Event::MessageChunk(chunk)
                }
                (ReceiveMode::Stream, None) => Event::MessageEnd,
            }));
        }
    }

    /// Handles a complete control frame.
    fn on_control(&mut self, opcode: OpCode, payload: Bytes) -> Result<Event, Error> {
        match opcode {
            OpCode::Ping => {
                if self.config.auto_pong && !self.close_sent {
                    self.tx.write_control(OpCode::Pong, &payload);
                }
                Ok(Event::Ping(payload))
            }
            OpCode::Pong => Ok(Event::Pong(payload)),
            _ => {
                let frame = parse_close(payload)?;
                self.close_received = true;
                self.rx.shut();
                if self.config.auto_close && !self.close_sent {
                    let code = frame.as_ref().map(|f| f.code);
                    self.tx.write_close(code, b"");
                    self.close_sent = true;
                }
                Ok(Event::Close(frame))
            }
        }
    }
}

const STUCK: ExtensionError = ExtensionError {
    code: CloseCode::INTERNAL_ERROR,
    reason: "extension decoder broke its contract",
};

const NO_DECODER: ExtensionError = ExtensionError {
    code: CloseCode::INTERNAL_ERROR,
    reason: "no extension to decode the message",
};

/// The extension's decoder kept its contract: it consumed no more than it was given, all of
/// it when it says it is done, and it moved (consumed, produced or finished).
fn check_progress(decoded: &Decoded, produced: usize, given: usize) -> Result<(), Error> {
    let stuck = decoded.consumed == 0 && !decoded.done && produced == 0;
    let overran = decoded.consumed > given || (decoded.done && decoded.consumed != given);
    if stuck || overran {
        Err(Error::Extension(STUCK))
    } else {
        Ok(())
    }
}

/// A whole message as an event; text was validated as it arrived.
fn message_event(kind: MessageKind, payload: Bytes) -> Event {
    match kind {
        MessageKind::Text => Event::Text(Utf8Bytes::from_validated(payload)),
        MessageKind::Binary => Event::Binary(payload),
    }
}

/// Parses and checks a close frame payload (RFC 6455 §5.5.1, §7.4).
fn parse_close(payload: Bytes) -> Result<Option<CloseFrame>, Error> {
    match payload.len() {
        0 => Ok(None),
        1 => Err(Error::InvalidClosePayload),
        _ => {
            let code = u16::from_be_bytes([payload[0], payload[1]]);
            if !CloseCode(code).is_valid_on_wire() {
                return Err(Error::InvalidCloseCode(code));
            }
            let reason = Utf8Bytes::try_from(payload.slice(2..)).map_err(|_| Error::InvalidUtf8)?;
            Ok(Some(CloseFrame {
                code: CloseCode(code),
                reason,
            }))
        }
    }
}
