//! The receive path: frames out of the input buffer, checked against the rules of RFC 6455,
//! unmasked in place, decoded by the extension, assembled or streamed, and turned into events.

use bytes::{Buf, Bytes, BytesMut};

use super::config::{Config, ReceiveMode};
use super::error::Error;
use super::event::Event;
use super::state::Role;
use super::{release_buffer, settle_buffer, Connection};
use crate::extensions::ExtensionError;
use crate::frame::{
    apply_mask, decode_header, FrameHeader, HeaderDecodeError, OpCode, MAX_CONTROL_PAYLOAD,
};
use crate::message::assembler::Assembler;
use crate::{CloseCode, CloseFrame, MessageKind};

/// Where the decoder is within the current frame.
#[derive(Debug)]
enum FrameState {
    /// Waiting for a header.
    Header,
    /// A control frame: waits for its whole (≤125-byte) payload.
    Control(FrameHeader, usize),
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

/// Receive-side state.
#[derive(Debug)]
pub(super) struct Receiver {
    buf: BytesMut,
    buf_allocated: usize,
    frame: FrameState,
    assembler: Assembler,
    /// Frame payload waiting to be decoded by the extension, and whether it ends the message.
    decode_input: Option<(BytesMut, bool)>,
    /// Stream mode: a `MessageEnd` is owed after the chunk just handed out.
    end_owed: bool,
}

impl Receiver {
    pub fn new() -> Self {
        Self {
            buf: BytesMut::new(),
            buf_allocated: 0,
            frame: FrameState::Header,
            assembler: Assembler::default(),
            decode_input: None,
            end_owed: false,
        }
    }

    pub fn buffered(&self) -> usize {
        self.buf.len() + self.decode_input.as_ref().map_or(0, |(b, _)| b.len())
    }

    /// Stops reading: drops all input and partial messages.
    pub fn shut(&mut self, _config: &Config) {
        self.buf = BytesMut::new();
        self.buf_allocated = 0;
        self.frame = FrameState::Header;
        self.assembler.reset();
        self.decode_input = None;
        self.end_owed = false;
    }

    /// Takes every buffered input byte (the handshake consumes input this way).
    pub fn take_input(&mut self) -> BytesMut {
        self.buf_allocated = 0;
        core::mem::take(&mut self.buf)
    }

    /// Replaces the input buffer (bytes that followed the handshake come first).
    pub fn set_input(&mut self, buf: BytesMut) {
        self.buf_allocated = buf.capacity();
        self.buf = buf;
    }

    /// Gives back the input and gathering buffers' allocations (see
    /// [`Connection::release_buffers`]); a frame payload waiting for the extension is kept.
    pub fn release(&mut self) {
        release_buffer(&mut self.buf, &mut self.buf_allocated);
        self.assembler.release();
    }

    /// Makes room for `more` bytes: first in the allocation the buffer already owns (moving
    /// only the bytes it holds), otherwise in a new one that at most doubles what is held, or
    /// just fits. While a frame arrives whole, growth stops at the frame's end: the frame's
    /// announced length caps the doubling, it never causes an allocation by itself.
    fn make_room(&mut self, more: usize) {
        let held = self.buf.len();
        if self.buf.capacity() - held >= more || self.buf.try_reclaim(more) {
            return;
        }
        let needed = held.saturating_add(more);
        let mut target = needed.max(self.buf.capacity().saturating_mul(2));
        if let FrameState::Held { len, .. } = self.frame {
            target = target.min(needed.max(len));
        }
        let mut fresh = BytesMut::with_capacity(target);
        fresh.extend_from_slice(&self.buf);
        self.buf = fresh;
        self.buf_allocated = self.buf_allocated.max(self.buf.capacity());
    }

    /// Called when every event the input allows has been decoded: gives back input memory
    /// that grew past `keep` (see [`settle_buffer`]). A frame larger than `keep` that is
    /// arriving whole counts with its announced length, so the allocation that carried a
    /// large frame carries the next one instead of being released and grown again; it is
    /// never grown from that length, only kept.
    fn settle(&mut self, keep: usize) {
        let need = match self.frame {
            FrameState::Held { len, .. } if len > keep => len.saturating_add(keep),
            _ => self.buf.len(),
        };
        settle_buffer(&mut self.buf, &mut self.buf_allocated, keep, need, 2);
    }
}

impl Connection {
    /// Gives the connection bytes read from the transport, in any chunking. Returns how many
    /// were taken: all of them, or 0 once the connection no longer reads (after a close frame
    /// from the peer, a failure, or end of input). Decoding happens in
    /// [`next_event`](Self::next_event).
    pub fn receive(&mut self, data: &[u8]) -> usize {
        if !self.reading() {
            return 0;
        }
        self.rx.make_room(data.len());
        self.rx.buf.extend_from_slice(data);
        if !data.is_empty() {
            self.timers.activity = true;
        }
        data.len()
    }

    /// Tells the connection that the transport's read side ended. Before the close handshake
    /// completed, that is an abnormal closure (1006), reported by `next_event` once the
    /// events decoded from earlier input have been handed out.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// The next event decoded from received bytes, or `None` when more input is needed (or the
    /// connection no longer reads). A failure is returned once as `Some(Err(_))`: its close
    /// frame is already queued, and every later call returns `None`.
    pub fn next_event(&mut self) -> Option<Result<Event, Error>> {
        if let Some(error) = self.pending_error.take() {
            return Some(Err(error));
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
                self.rx.settle(self.config.buffer_keep);
                if self.eof && !self.failed && !(self.close_sent && self.close_received) {
                    self.fail(Error::UnexpectedEof);
                    return self.pending_error.take().map(Err);
                }
                None
            }
            Err(error) => {
                self.fail(error);
                self.pending_error.take().map(Err)
            }
        }
    }

    fn poll_frames(&mut self) -> Result<Option<Event>, Error> {
        loop {
            if self.rx.end_owed {
                self.rx.end_owed = false;
                return Ok(Some(Event::MessageEnd));
            }
            if self.rx.decode_input.is_some() {
                match self.pump_decoder()? {
                    Some(event) => return Ok(Some(event)),
                    None => continue,
                }
            }
            match self.rx.frame {
                FrameState::Header => {
                    let (header, header_len) = match decode_header(&self.rx.buf) {
                        Ok(Some(h)) => h,
                        Ok(None) => return Ok(None),
                        Err(HeaderDecodeError::ReservedOpcode(op)) => {
                            return Err(Error::ReservedOpcode(op))
                        }
                        Err(HeaderDecodeError::LengthOverflow) => {
                            return Err(Error::LengthOverflow)
                        }
                    };
                    let start = self.check_header(&header)?;
                    self.rx.buf.advance(header_len);
                    // Fits: checked against max_frame_size, which is a usize.
                    let len = header.payload_len as usize;
                    if header.opcode.is_control() {
                        self.rx.frame = FrameState::Control(header, len);
                        continue;
                    }
                    let hold = self.config.receive_mode == ReceiveMode::Message
                        && start.is_some()
                        && header.fin
                        && !self.rx.assembler.current().is_some_and(|c| c.transformed);
                    if hold && self.rx.buf.len() >= len {
                        // The whole single-frame message is here (the common case for
                        // small messages): unmask, validate and hand it out in one step.
                        let mut payload = self.rx.buf.split_to(len);
                        if let Some(key) = header.mask {
                            apply_mask(&mut payload, key, 0);
                        }
                        let asm = &mut self.rx.assembler;
                        asm.check_whole_text(&payload)?;
                        let kind = asm.finish()?;
                        return Ok(Some(message_event(kind, payload.freeze())));
                    }
                    if hold && self.rx.buf.capacity() < len {
                        // Make room for the frame in the allocation we already own, if it
                        // is big enough, while only a few of its bytes have to move (never
                        // allocates: the announced length is not yet backed by bytes).
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
                    if let (Some(kind), ReceiveMode::Stream) = (start, self.config.receive_mode) {
                        return Ok(Some(Event::MessageStart { kind }));
                    }
                }
                FrameState::Control(header, len) => {
                    if self.rx.buf.len() < len {
                        return Ok(None);
                    }
                    let mut payload = self.rx.buf.split_to(len);
                    if let Some(key) = header.mask {
                        apply_mask(&mut payload, key, 0);
                    }
                    self.rx.frame = FrameState::Header;
                    return self.on_control(header.opcode, payload.freeze()).map(Some);
                }
                FrameState::Held {
                    header,
                    len,
                    checked,
                } => {
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
                        return Ok(None);
                    }
                    let payload = self.rx.buf.split_to(len).freeze();
                    self.rx.frame = FrameState::Header;
                    let kind = self.rx.assembler.finish()?;
                    return Ok(Some(message_event(kind, payload)));
                }
                FrameState::Passing { header, len, done } => {
                    let available = self.rx.buf.len().min(len - done);
                    if available == 0 && done < len {
                        return Ok(None);
                    }
                    let mut piece = self.rx.buf.split_to(available);
                    if let Some(key) = header.mask {
                        apply_mask(&mut piece, key, done);
                    }
                    let frame_done = done + available == len;
                    let fin = header.fin && frame_done;
                    if frame_done {
                        self.rx.frame = FrameState::Header;
                    } else {
                        self.rx.frame = FrameState::Passing {
                            header,
                            len,
                            done: done + available,
                        };
                    }
                    let transformed = self.rx.assembler.current().is_some_and(|c| c.transformed);
                    if transformed {
                        self.rx.decode_input = Some((piece, fin));
                        continue;
                    }
                    if let Some(event) = self.on_content(piece.freeze(), fin)? {
                        return Ok(Some(event));
                    }
                }
            }
        }
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
        if !transformed && !self.rx.assembler.current().is_some_and(|c| c.transformed) {
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
                    return Ok(Some(message_event(
                        kind,
                        asm.take_gathered(self.config.buffer_keep),
                    )));
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
    fn pump_decoder(&mut self) -> Result<Option<Event>, Error> {
        let Some((mut input, fin)) = self.rx.decode_input.take() else {
            return Ok(None);
        };
        let Some(ext) = self.extension.as_mut() else {
            return Err(Error::ReservedBits(0x40));
        };
        let max = self.config.max_message_size;
        let mode = self.config.receive_mode;
        let asm = &mut self.rx.assembler;
        loop {
            // One byte past the limit is enough to know it was passed.
            let step = max
                .saturating_sub(asm.size())
                .saturating_add(1)
                .min(self.config.stream_chunk_size);
            let (decoded, chunk) = match mode {
                ReceiveMode::Message => {
                    let before = asm.buf.len();
                    let decoded = ext
                        .decode(&input, fin, &mut asm.buf, step)
                        .map_err(Error::Extension)?;
                    asm.note_growth();
                    asm.add_size(asm.buf.len() - before, max)?;
                    asm.check_gathered_text(before)?;
                    if decoded.consumed == 0 && !decoded.done && asm.buf.len() == before {
                        return Err(Error::Extension(STUCK));
                    }
                    (decoded, None)
                }
                ReceiveMode::Stream => {
                    let mut chunk = BytesMut::new();
                    let decoded = ext
                        .decode(&input, fin, &mut chunk, step)
                        .map_err(Error::Extension)?;
                    asm.add_size(chunk.len(), max)?;
                    asm.check_text(&chunk)?;
                    if decoded.consumed == 0 && !decoded.done && chunk.is_empty() {
                        return Err(Error::Extension(STUCK));
                    }
                    (decoded, (!chunk.is_empty()).then(|| chunk.freeze()))
                }
            };
            if decoded.consumed > input.len() || (decoded.done && decoded.consumed != input.len()) {
                return Err(Error::Extension(STUCK));
            }
            input.advance(decoded.consumed);
            if !decoded.done {
                if let Some(chunk) = chunk {
                    self.rx.decode_input = Some((input, fin));
                    return Ok(Some(Event::MessageChunk(chunk)));
                }
                continue;
            }
            if !fin {
                return Ok(chunk.map(Event::MessageChunk));
            }
            let kind = asm.finish()?;
            return Ok(Some(match (mode, chunk) {
                (ReceiveMode::Message, _) => {
                    message_event(kind, asm.take_gathered(self.config.buffer_keep))
                }
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
                    self.tx.write_control(self.role, OpCode::Pong, &payload);
                }
                Ok(Event::Ping(payload))
            }
            OpCode::Pong => Ok(Event::Pong(payload)),
            _ => {
                let frame = parse_close(payload)?;
                self.close_received = true;
                self.rx.shut(&self.config);
                if self.config.auto_close && !self.close_sent {
                    let code = frame.as_ref().map(|f| f.code);
                    self.tx.write_close(self.role, code, b"");
                    self.close_sent = true;
                }
                Ok(Event::Close(frame))
            }
        }
    }
}

const STUCK: ExtensionError = ExtensionError {
    code: CloseCode::INTERNAL_ERROR,
    reason: "extension decoder made no progress",
};

fn message_event(kind: MessageKind, payload: Bytes) -> Event {
    match kind {
        MessageKind::Text => Event::Text(payload),
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
            let reason = payload.slice(2..);
            if !crate::message::utf8::valid_whole(&reason) {
                return Err(Error::InvalidUtf8);
            }
            Ok(Some(CloseFrame {
                code: CloseCode(code),
                reason,
            }))
        }
    }
}
