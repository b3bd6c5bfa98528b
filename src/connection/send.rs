use alloc::boxed::Box;
use bytes::Bytes;

use super::error::SendError;
use super::output::{Output, OutputBuf};
use super::state::Role;
use super::Connection;
use crate::buffer::LazyBuf;
use crate::close::CloseCode;
use crate::entropy::Entropy;
use crate::frame::{
    copy_masked, encode_header, FrameHeader, OpCode, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN,
};
use crate::message::utf8::{valid_whole, Utf8Validator};
use crate::message::MessageKind;
use crate::utf8_bytes::Utf8Bytes;

/// Mask key bytes drawn from the entropy source at once: one call per 64 frames, so a
/// source that makes a system call per fill costs little per frame.
const KEY_BATCH: usize = 256;

/// Payloads from this size on, sent as [`Bytes`] by a server, are queued by reference rather
/// than copied: below it a copy costs less than one more chunk for the transport to take.
const SHARE_MIN: usize = 2048;

/// How frames are masked: a server sends them unmasked; a client masks each with a fresh key
/// (RFC 6455 §5.3), drawn in batches from its entropy source.
pub(super) enum Masking {
    Server,
    Client(Box<ClientKeys>),
}

/// A client's entropy source and the batch of mask keys drawn from it.
pub(super) struct ClientKeys {
    entropy: Box<dyn Entropy>,
    keys: [u8; KEY_BATCH],
    used: usize,
}

impl Masking {
    pub fn client(entropy: Box<dyn Entropy>) -> Self {
        Masking::Client(Box::new(ClientKeys {
            entropy,
            keys: [0; KEY_BATCH],
            used: KEY_BATCH,
        }))
    }

    pub fn role(&self) -> Role {
        match self {
            Masking::Server => Role::Server,
            Masking::Client(_) => Role::Client,
        }
    }

    /// The key for the next frame: `None` for a server.
    fn next_key(&mut self) -> Option<[u8; 4]> {
        let Masking::Client(c) = self else {
            return None;
        };
        if c.used == KEY_BATCH {
            c.entropy.fill(&mut c.keys);
            c.used = 0;
        }
        let k = &c.keys[c.used..c.used + 4];
        c.used += 4;
        Some([k[0], k[1], k[2], k[3]])
    }
}

/// A streamed outgoing message in progress.
#[derive(Debug)]
struct Outgoing {
    kind: MessageKind,
    /// No frame sent yet (the next one carries the opcode and the extension's bits).
    first: bool,
    rsv: u8,
    utf8: Utf8Validator,
}

/// Send-side state.
pub(super) struct Sender {
    pub(super) out: Output,
    /// Extension output for the frame being written; emptied after each frame.
    scratch: LazyBuf,
    masking: Masking,
    outgoing: Option<Outgoing>,
    /// Bytes were queued or taken since the timers last looked (the idle timer's activity).
    pub busy: bool,
    /// Bytes were taken since the timers last looked (the send timeout's progress).
    pub taken: bool,
}

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("pending", &self.out.len())
            .finish()
    }
}

impl Sender {
    pub fn new(masking: Masking) -> Self {
        Self {
            out: Output::default(),
            scratch: LazyBuf::default(),
            masking,
            outgoing: None,
            busy: false,
            taken: false,
        }
    }

    /// Writes a frame header for a payload of `len` bytes, making room for the payload too
    /// when it is to be `copied`; returns the mask key.
    fn write_header(
        &mut self,
        fin: bool,
        rsv: u8,
        opcode: OpCode,
        len: usize,
        copied: bool,
    ) -> Option<[u8; 4]> {
        let mask = self.masking.next_key();
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: len as u64,
        };
        let mut head = [0u8; MAX_HEADER_LEN];
        let n = encode_header(&mut head, &header);
        self.busy = true;
        let buf = self.out.buf();
        buf.reserve(n + if copied { len } else { 0 });
        buf.extend_from_slice(&head[..n]);
        mask
    }

    /// Writes one frame: header, then the payload (masked while copied, for a client).
    fn write_frame(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: &[u8]) {
        let mask = self.write_header(fin, rsv, opcode, payload.len(), true);
        let buf = self.out.buf();
        match mask {
            None => buf.extend_from_slice(payload),
            // Masked as it is copied: one pass over the payload after zeroing the room (safe
            // code cannot write into uninitialised capacity), faster than copying through a
            // small block and unmasking it there (docs/performance.md).
            Some(key) => buf.write_with(|out| {
                let start = out.len();
                out.resize(start + payload.len(), 0);
                copy_masked(&mut out[start..], payload, key, 0);
            }),
        }
    }

    /// [`write_frame`](Self::write_frame) for a payload the caller holds as [`Bytes`]: a
    /// server queues a large one by reference (only its header is copied).
    pub fn write_frame_shared(&mut self, fin: bool, rsv: u8, opcode: OpCode, payload: Bytes) {
        if self.is_server() {
            let len = payload.len();
            self.write_header(fin, rsv, opcode, len, len < SHARE_MIN);
            self.queue_payload(payload);
        } else {
            self.write_frame(fin, rsv, opcode, &payload);
        }
    }

    /// Queues a frame whose unmasked `header` was encoded beforehand, its payload by
    /// reference when large (a server's [`PreparedMessage`](super::PreparedMessage)).
    pub fn write_framed(&mut self, header: &[u8], payload: Bytes) {
        self.busy = true;
        // One reservation for the header and a copied payload, as `write_header` makes: a
        // connection that gave its buffer back grows it once, not twice.
        let copied = if payload.len() < SHARE_MIN {
            payload.len()
        } else {
            0
        };
        let buf = self.out.buf();
        buf.reserve(header.len() + copied);
        buf.extend_from_slice(header);
        self.queue_payload(payload);
    }

    /// Queues an unmasked payload behind its header: by reference from [`SHARE_MIN`] bytes
    /// on, copied below.
    fn queue_payload(&mut self, payload: Bytes) {
        if payload.len() >= SHARE_MIN {
            self.out.push_shared(payload);
        } else {
            self.out.buf().extend_from_slice(&payload);
        }
    }

    /// Whether frames are sent unmasked (and may be queued as they are).
    pub fn is_server(&self) -> bool {
        matches!(self.masking, Masking::Server)
    }

    /// Writes a frame whose payload is the scratch buffer, then empties it (keeping its
    /// allocation for the next frame).
    fn write_scratch_frame(&mut self, fin: bool, rsv: u8, opcode: OpCode) {
        let payload = self.scratch.get().take();
        self.write_frame(fin, rsv, opcode, &payload);
        let scratch = self.scratch.get();
        scratch.set(payload);
        scratch.clear();
    }

    /// Gives back the output and scratch allocations (see
    /// [`Connection::release_buffers`]).
    pub fn release(&mut self) {
        self.out.release();
        self.scratch.release();
    }

    /// Ends a busy period of the idle timer (see [`RetainedBuf::trim`](crate::buffer::RetainedBuf::trim)).
    pub fn trim(&mut self, keep: usize) {
        self.out.trim(keep);
        self.scratch.trim(keep, 0);
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Drops all pending output (nothing more is to reach the peer).
    pub fn discard(&mut self) {
        self.out.clear();
        self.out.release();
    }

    /// Queues bytes as they are (the handshake's HTTP messages).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.busy = true;
        self.out.buf().extend_from_slice(bytes);
    }

    pub fn write_control(&mut self, opcode: OpCode, payload: &[u8]) {
        self.write_frame(true, 0, opcode, payload);
    }

    pub fn write_close(&mut self, code: Option<CloseCode>, reason: &[u8]) {
        let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            None => 0,
            Some(code) => {
                let reason = &reason[..reason.len().min(MAX_CONTROL_PAYLOAD - 2)];
                payload[..2].copy_from_slice(&code.0.to_be_bytes());
                payload[2..2 + reason.len()].copy_from_slice(reason);
                2 + reason.len()
            }
        };
        self.write_frame(true, 0, OpCode::Close, &payload[..len]);
    }
}

impl Connection {
    fn check_can_send(&self) -> Result<(), SendError> {
        self.check_open_for_send()?;
        if self.close_sent || self.failed {
            Err(SendError::Closed)
        } else {
            Ok(())
        }
    }

    /// Queues a whole text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_checked(MessageKind::Text, text.as_bytes())
    }

    /// Queues a whole binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send(MessageKind::Binary, data)
    }

    /// Queues a whole message of `kind` in one frame. For [`MessageKind::Text`], `data` must be
    /// UTF-8 ([`SendError::InvalidUtf8`] otherwise, and nothing is queued);
    /// [`send_text`](Self::send_text) guarantees it by type and skips the check.
    pub fn send(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), SendError> {
        if kind == MessageKind::Text && !valid_whole(data) {
            return Err(SendError::InvalidUtf8);
        }
        self.send_checked(kind, data)
    }

    /// Queues a whole binary message the caller already holds as [`Bytes`], without copying
    /// it where the protocol allows: a server queues it by reference (the transport reads the
    /// caller's bytes; see [`output_chunks`](Self::output_chunks)), a client masks it while
    /// copying it, in one pass. A message the extension compresses is compressed from it (a
    /// copy by nature).
    pub fn send_binary_bytes(&mut self, payload: Bytes) -> Result<(), SendError> {
        self.send_bytes_checked(MessageKind::Binary, payload)
    }

    /// [`send_binary_bytes`](Self::send_binary_bytes) for text, already known to be UTF-8 by
    /// its type (a received [`Event::Text`](crate::Event::Text) payload, echoed, is sent
    /// without a copy or a check).
    pub fn send_text_bytes(&mut self, text: Utf8Bytes) -> Result<(), SendError> {
        self.send_bytes_checked(MessageKind::Text, text.into_bytes())
    }

    /// Checks that a whole message may be sent now.
    pub(super) fn check_can_start_whole(&self) -> Result<(), SendError> {
        self.check_can_send()?;
        if self.tx.outgoing.is_some() {
            return Err(SendError::MessageInProgress);
        }
        Ok(())
    }

    /// Checks that a whole message of `len` bytes may be sent now and starts it: returns the
    /// reserved bits of its frame (not 0 when the extension transforms it).
    pub(super) fn start_whole(&mut self, kind: MessageKind, len: usize) -> Result<u8, SendError> {
        self.check_can_start_whole()?;
        Ok(match self.extension.as_mut() {
            Some(ext) => ext.encode_start(kind, Some(len)),
            None => 0,
        })
    }

    fn send_bytes_checked(&mut self, kind: MessageKind, data: Bytes) -> Result<(), SendError> {
        let rsv = self.start_whole(kind, data.len())?;
        if rsv != 0 {
            return self.write_data(kind.opcode(), rsv, &data, true);
        }
        self.tx.write_frame_shared(true, 0, kind.opcode(), data);
        Ok(())
    }

    /// [`send`](Self::send) for data already known to fit `kind`.
    fn send_checked(&mut self, kind: MessageKind, data: &[u8]) -> Result<(), SendError> {
        let rsv = self.start_whole(kind, data.len())?;
        self.write_data(kind.opcode(), rsv, data, true)
    }

    /// Writes one data frame, through the extension when `rsv` says it transforms the message.
    pub(super) fn write_data(
        &mut self,
        opcode: OpCode,
        rsv: u8,
        data: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        let transformed = rsv != 0 || self.tx.outgoing.as_ref().is_some_and(|o| o.rsv != 0);
        // Only an extension returns reserved bits from `encode_start`.
        let ext = match self.extension.as_mut() {
            Some(ext) if transformed => ext,
            _ => {
                self.tx.write_frame(fin, 0, opcode, data);
                return Ok(());
            }
        };
        let scratch = self.tx.scratch.get();
        if let Err(e) = scratch.write_with(|out| ext.encode(data, fin, out)) {
            scratch.clear();
            return Err(SendError::Extension(e));
        }
        self.tx.write_scratch_frame(fin, rsv, opcode);
        Ok(())
    }

    /// Starts a message sent as a stream of fragments; follow with
    /// [`send_chunk`](Self::send_chunk) and end with [`end_message`](Self::end_message). Control
    /// frames may be sent in between; other data messages may not.
    pub fn begin_message(&mut self, kind: MessageKind) -> Result<(), SendError> {
        self.check_can_send()?;
        if self.tx.outgoing.is_some() {
            return Err(SendError::MessageInProgress);
        }
        let rsv = match self.extension.as_mut() {
            Some(ext) => ext.encode_start(kind, None),
            None => 0,
        };
        self.tx.outgoing = Some(Outgoing {
            kind,
            first: true,
            rsv,
            utf8: Utf8Validator::new(),
        });
        Ok(())
    }

    /// Sends the next fragment of the streamed message. Text may be split anywhere, even
    /// inside a code point; it is checked to stay valid UTF-8.
    pub fn send_chunk(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.stream_frame(data, false)
    }

    /// Sends the last fragment (possibly empty) and ends the streamed message.
    pub fn end_message(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.stream_frame(data, true)
    }

    fn stream_frame(&mut self, data: &[u8], fin: bool) -> Result<(), SendError> {
        self.check_can_send()?;
        let out = self
            .tx
            .outgoing
            .as_mut()
            .ok_or(SendError::NoMessageInProgress)?;
        let mut utf8 = out.utf8;
        if out.kind == MessageKind::Text {
            utf8.feed(data).map_err(|_| SendError::InvalidUtf8)?;
            if fin {
                utf8.finish().map_err(|_| SendError::InvalidUtf8)?;
            }
        }
        let (opcode, rsv) = if out.first {
            (out.kind.opcode(), out.rsv)
        } else {
            (OpCode::Continuation, 0)
        };
        self.write_data(opcode, rsv, data, fin)?;
        // Only a fragment that was written moves the message on.
        if fin {
            self.tx.outgoing = None;
        } else if let Some(out) = self.tx.outgoing.as_mut() {
            out.first = false;
            out.utf8 = utf8;
        }
        Ok(())
    }

    /// Queues a ping (payload at most 125 bytes).
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, data)
    }

    /// Queues a pong (payload at most 125 bytes); an unsolicited pong is a heartbeat.
    pub fn send_pong(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, data)
    }

    fn send_control(&mut self, opcode: OpCode, data: &[u8]) -> Result<(), SendError> {
        self.check_can_send()?;
        if data.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlFrameTooLong);
        }
        self.tx.write_control(opcode, data);
        Ok(())
    }

    /// Starts (or, after the peer's close, completes) the close handshake with `code` and a
    /// UTF-8 `reason` of at most 123 bytes: it queues the close frame, like the `send_*`
    /// methods, and closes nothing itself; [`transport`](Self::transport) says when to close
    /// the transport. Nothing may be sent after it.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        self.check_can_send()?;
        if !code.is_valid_on_wire() {
            return Err(SendError::InvalidCloseCode(code.0));
        }
        if reason.len() > MAX_CONTROL_PAYLOAD - 2 {
            return Err(SendError::ControlFrameTooLong);
        }
        self.tx.write_close(Some(code), reason.as_bytes());
        self.close_sent = true;
        Ok(())
    }

    /// The next contiguous bytes waiting to be written to the transport, oldest first: the
    /// first chunk of the output queue (payloads sent by reference are chunks of their own,
    /// see [`output_chunks`](Self::output_chunks)). Write what the transport takes and report
    /// it with [`advance_output`](Self::advance_output); then come back for the next chunk
    /// while [`pending_output_len`](Self::pending_output_len) is not zero.
    pub fn pending_output(&self) -> &[u8] {
        self.tx.out.front()
    }

    /// Fills `dst` with the chunks waiting to be written, in order, as many as fit, and
    /// returns how many it filled: the slices for one vectored write
    /// (`write_vectored` with [`std::io::IoSlice`]s made from them, or
    /// [`output_buf`](Self::output_buf) for that). Report what was written with
    /// [`advance_output`](Self::advance_output), which may end anywhere in any chunk.
    pub fn output_chunks<'a>(&'a self, dst: &mut [&'a [u8]]) -> usize {
        self.tx.out.chunks(dst)
    }

    /// The pending output as a [`bytes::Buf`]: hand it to a writer of `Buf`s (tokio's
    /// `write_buf`, or [`Buf::chunks_vectored`](bytes::Buf::chunks_vectored) for a vectored
    /// write); advancing it is [`advance_output`](Self::advance_output).
    pub fn output_buf(&mut self) -> OutputBuf<'_> {
        OutputBuf { conn: self }
    }

    /// How many bytes wait to be written, in all chunks: the send-side backpressure signal.
    /// Stop producing messages while it is above what you are willing to buffer; it only falls
    /// through [`advance_output`](Self::advance_output), as the transport takes the bytes.
    /// Payloads queued by reference count in full (they are held until written).
    pub fn pending_output_len(&self) -> usize {
        self.tx.out.len()
    }

    /// Marks the first `n` bytes of the pending output as written, across chunks (a partial
    /// write is fine: come back for the rest). `n` larger than what is pending counts as all
    /// of it.
    pub fn advance_output(&mut self, n: usize) {
        let n = n.min(self.tx.out.len());
        if n > 0 {
            self.tx.out.advance(n);
            self.tx.busy = true;
            self.tx.taken = true;
        }
    }
}
