//! The stream type: a connection and its transport, driven from the polls of `Stream` and
//! `Sink`. Every poll runs the same steps the guide asks of an event loop (decode, write
//! output, check the transport, read, keep time), so whichever task polls, for reading or for
//! writing, moves the whole connection on: pongs and close answers go out, and the
//! connection's timers fire on tokio's clock.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::future::Future;
use core::mem::MaybeUninit;
use core::pin::Pin;
use core::task::{ready, Context, Poll, Waker};
use core::time::Duration;
use std::io::{self, IoSlice};

use bytes::BufMut;
use futures_core::{FusedStream, Stream};
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::error::StreamError;
use super::message::Message;
use super::wakers::{Side, TaskWakers};
use crate::close::{CloseCode, CloseFrame};
use crate::connection::{Connection, Event, State, Transport};

/// The largest read from the transport. A read between messages goes into a buffer this
/// large on the stack of the poll that reads (never held between polls, so an idle
/// connection owns no read buffer); the rest of a frame is read into the connection.
pub(super) const MAX_READ: usize = 32 << 10;

/// The most chunks of output handed to one vectored write: a few large messages, each a
/// header and a payload queued by reference, fit.
const MAX_SLICES: usize = 32;

/// How many timer firings one poll handles before yielding: a bound on the poll's loop in
/// case a deadline ever stays in the past.
const TIMER_FIRINGS_PER_POLL: u32 = 8;

/// A WebSocket over an async transport: a [`Stream`] of received [`Message`]s and a
/// [`Sink`] of messages to send.
///
/// Made by [`StreamBuilder`](super::StreamBuilder)'s `accept`, `accept_with`, `connect` or
/// `after_handshake`, or the shortcuts [`accept`](super::accept) and
/// [`connect`](super::connect). Use it with `futures`' `StreamExt` / `SinkExt`
/// (`next().await`, `send(message).await`), or split it into a reading and a writing half
/// (`StreamExt::split`) for two tasks: both halves drive the connection.
///
/// - **Receiving**: `next()` yields messages, pings, pongs and the peer's close, then
///   `Some(Err(_))` once if the connection failed, then `None` once the transport is closed
///   (after the closing handshake, a failure, or the transport's end). Reading stops while
///   the received bytes are decoded, so a slow reader applies backpressure to the peer.
/// - **Sending**: `poll_ready` is pending while the connection's pending output is above the
///   high-water mark and the transport does not take it; `poll_flush` writes all of it.
/// - **Closing**: send [`Message::Close`] to start the closing handshake and keep reading
///   until `None` (the reading half of a split stream sees everything the peer sent before
///   its close); or `SinkExt::close()`, which sends a close and drives the connection to its
///   end, dropping what arrives meanwhile; or [`close_with`](Self::close_with), the same
///   with a close frame of your choice queued at once. Output is given up, and the transport
///   closed, once the flush timeout passes after the connection ended.
/// - **Timers** (keepalive, close timeout) run on tokio's clock and fire from whichever poll
///   runs: a task that only reads or only writes keeps them going, as long as it polls. They
///   are tokio `Sleep`s: poll the stream inside a runtime with its time driver enabled
///   (`#[tokio::main]` and `Builder::enable_all` enable it).
pub struct WebSocketStream<S> {
    driver: Driver<S>,
    /// The reading and the writing task, woken by `waker`.
    tasks: Arc<TaskWakers>,
    /// The waker the transport and the timer are polled with (see `wakers.rs`).
    waker: Waker,
}

/// Everything but the wakers, so a poll can lend the fan-out waker while it changes the rest.
struct Driver<S> {
    io: S,
    conn: Connection,
    high_water: usize,
    flush_timeout: Option<Duration>,
    read_size: usize,
    /// The origin of the connection's timeline, on tokio's clock.
    origin: Instant,
    /// One timer, set to the earliest deadline; made on first need and reused.
    timer: Option<Pin<Box<Sleep>>>,
    /// The deadline `timer` is set to.
    timer_at: Option<Duration>,
    /// When output is given up: set once the transport is to be closed with output pending.
    flush_deadline: Option<Duration>,
    /// Pending output is given up (the flush timeout passed): nothing more is written.
    abandoned: bool,
    /// An upper bound on the bytes of automatic replies (pongs, close answers) queued but
    /// not yet written. Reading stops while it is above `high_water`: a peer that pings
    /// without reading the pongs would otherwise grow the output without bound.
    reply_bytes: usize,
    /// Output was written and the transport not flushed since.
    flush_owed: bool,
    /// The transport was closed or failed: the stream yields nothing more.
    ended: bool,
    /// `poll_close` queued its close frame (or found one queued).
    close_started: bool,
}

impl<S> core::fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("connection", &self.driver.conn)
            .field("high_water", &self.driver.high_water)
            .field("ended", &self.driver.ended)
            .finish()
    }
}

impl<S> WebSocketStream<S> {
    pub(super) fn new(
        io: S,
        conn: Connection,
        high_water: usize,
        flush_timeout: Option<Duration>,
        read_size: usize,
    ) -> Self {
        let tasks = Arc::new(TaskWakers::default());
        Self {
            driver: Driver {
                io,
                conn,
                high_water,
                flush_timeout,
                read_size: read_size.clamp(1, MAX_READ),
                origin: Instant::now(),
                timer: None,
                timer_at: None,
                flush_deadline: None,
                abandoned: false,
                reply_bytes: 0,
                flush_owed: false,
                ended: false,
                close_started: false,
            },
            waker: Waker::from(tasks.clone()),
            tasks,
        }
    }

    /// The connection: its state, subprotocol, extension, pending output.
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }

    /// The connection, to call what the stream does not (`hibernate` or `release_buffers`
    /// when it goes idle, a streamed message with `begin_message` / `send_chunk` /
    /// `end_message`). The stream owns the
    /// I/O side: calling `receive`, `next_event`, `advance_output` or `handle_timeout` here
    /// would take bytes, events or deadlines from under it.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.driver.conn
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.driver.io
    }

    /// The transport. Reading or writing it directly corrupts the stream of frames.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.driver.io
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// The next event (handshake events included), for the task `cx` belongs to in `side`.
    pub(super) fn poll_event(
        &mut self,
        side: Side,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Event, StreamError>>> {
        self.tasks.register(side, cx.waker());
        self.driver
            .poll_event(&mut Context::from_waker(&self.waker))
    }

    /// Writes all pending output and flushes the transport.
    pub(super) fn poll_write_all(
        &mut self,
        side: Side,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), StreamError>> {
        self.tasks.register(side, cx.waker());
        self.driver
            .poll_flush(&mut Context::from_waker(&self.waker))
    }

    /// Starts the closing handshake with `frame` at once (`None`: 1000, no reason), however
    /// much output is pending (the close goes out right after it, without waiting for the
    /// high-water mark as a sent [`Message::Close`] would), then drives the connection to its
    /// end as `SinkExt::close` does: the peer's answer or the close timeout, then the flush
    /// timeout at most for the output. Messages that arrive meanwhile are dropped. Refused
    /// with [`StreamError::Send`] for a code that may not be sent; once a close went out, it
    /// only drives the connection to its end.
    pub async fn close_with(&mut self, frame: Option<CloseFrame>) -> Result<(), StreamError> {
        if matches!(self.driver.conn.state(), State::Open | State::CloseReceived) {
            let (code, reason) = match &frame {
                Some(frame) => (frame.code, frame.reason.as_str()),
                None => (CloseCode::NORMAL, ""),
            };
            self.driver
                .conn
                .close(code, reason)
                .map_err(StreamError::Send)?;
        }
        self.driver.close_started = true;
        core::future::poll_fn(|cx| Pin::new(&mut *self).poll_close(cx)).await
    }

    /// Runs the connection to its end (the transport closed), dropping events.
    pub(super) fn poll_end(&mut self, side: Side, cx: &mut Context<'_>) -> Poll<()> {
        while ready!(self.poll_event(side, cx)).is_some() {}
        Poll::Ready(())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    /// The time now on the connection's timeline.
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// One pass of the loop: decode, write, check the transport, read, keep time; until an
    /// event is ready, the stream ends, or everything waits.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event, StreamError>>> {
        let mut firings = 0;
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            let before = self.conn.pending_output_len();
            let event = self.conn.next_event();
            self.reply_bytes += self.conn.pending_output_len().saturating_sub(before);
            match event {
                Some(Ok(event)) => return Poll::Ready(Some(Ok(event))),
                Some(Err(e)) => return Poll::Ready(Some(Err(StreamError::Protocol(e)))),
                None => {}
            }
            if let Poll::Ready(Err(e)) = self.poll_output(cx) {
                return Poll::Ready(self.fail_io(e));
            }
            if self.conn.transport() == Transport::Close {
                if self.conn.pending_output_len() == 0 || self.abandoned {
                    // Nothing more to write: close the transport (an error closing a
                    // transport that is over anyway changes nothing).
                    if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() {
                        if firings < TIMER_FIRINGS_PER_POLL && self.poll_timer(cx) {
                            firings += 1;
                            continue;
                        }
                        return Poll::Pending;
                    }
                    self.ended = true;
                    return Poll::Ready(self.abandoned.then(|| {
                        Err(StreamError::Io(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the peer did not take the last output within the flush timeout",
                        )))
                    }));
                }
            } else if self.reply_bytes <= self.high_water {
                // Open, or a client waiting for the server to close: read.
                match self.poll_read(cx) {
                    Poll::Ready(Ok(())) => continue,
                    Poll::Ready(Err(e)) => return Poll::Ready(self.fail_io(e)),
                    Poll::Pending => {}
                }
            }
            if firings < TIMER_FIRINGS_PER_POLL && self.poll_timer(cx) {
                firings += 1;
                continue;
            }
            if firings >= TIMER_FIRINGS_PER_POLL {
                cx.waker().wake_by_ref();
            }
            return Poll::Pending;
        }
    }

    /// Reads once and hands the bytes (or the end of input) to the connection: straight into
    /// its input buffer while it holds part of a frame (the buffer is in use anyway, and the
    /// rest of a large frame is not copied again), otherwise into a buffer on this poll's
    /// stack, so that a connection waiting for its next message holds no room to read into.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.conn.pending_input_len() > 0 {
            let mut room = self.conn.receive_buffer(self.read_size);
            let read =
                core::pin::pin!(self.io.read_buf(&mut (&mut room).limit(self.read_size))).poll(cx);
            // Handed back even when empty: the room is part of the connection's buffer.
            self.conn.receive_owned(room);
            if ready!(read)? == 0 {
                self.conn.receive_eof();
            }
            return Poll::Ready(Ok(()));
        }
        let mut buf = [MaybeUninit::<u8>::uninit(); MAX_READ];
        let mut buf = ReadBuf::uninit(&mut buf[..self.read_size]);
        ready!(Pin::new(&mut self.io).poll_read(cx, &mut buf))?;
        match buf.filled() {
            [] => self.conn.receive_eof(),
            bytes => self.conn.receive(bytes),
        }
        Poll::Ready(Ok(()))
    }

    /// Writes pending output until the transport stops taking it, then flushes the transport
    /// once everything is written. The one place output goes out: `output_chunks` (a
    /// vectored write, when the transport does them well) or `pending_output`, then
    /// `advance_output`.
    fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.abandoned {
            return Poll::Ready(Ok(()));
        }
        if self.ended && self.conn.pending_output_len() > 0 {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        }
        let vectored = self.io.is_write_vectored();
        while self.conn.pending_output_len() > 0 {
            let io = Pin::new(&mut self.io);
            let front = self.conn.pending_output();
            let n = if vectored && front.len() < self.conn.pending_output_len() {
                // The queue's chunks in one write: a payload queued by reference is a chunk
                // of its own, behind its header.
                let mut chunks: [&[u8]; MAX_SLICES] = [&[]; MAX_SLICES];
                let filled = self.conn.output_chunks(&mut chunks);
                let slices = chunks.map(IoSlice::new);
                ready!(io.poll_write_vectored(cx, &slices[..filled]))?
            } else {
                // One chunk (small messages are copied whole into one), or a transport that
                // writes one slice at a time anyway: a plain write, cheaper than a vectored
                // one of one slice.
                ready!(io.poll_write(cx, front))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.conn.advance_output(n);
            self.reply_bytes = self.reply_bytes.min(self.conn.pending_output_len());
            self.flush_owed = true;
        }
        if self.flush_owed {
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
            self.flush_owed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// `poll_output`, failing once output is given up.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        let mut firings = 0;
        loop {
            if self.abandoned && self.conn.pending_output_len() > 0 {
                return Poll::Ready(Err(StreamError::Io(io::ErrorKind::TimedOut.into())));
            }
            match self.poll_output(cx) {
                Poll::Ready(Ok(())) => return Poll::Ready(Ok(())),
                Poll::Ready(Err(e)) => {
                    return Poll::Ready(match self.fail_io(e) {
                        Some(Err(e)) => Err(e),
                        _ => Ok(()),
                    })
                }
                Poll::Pending => {}
            }
            if firings < TIMER_FIRINGS_PER_POLL && self.poll_timer(cx) {
                firings += 1;
                continue;
            }
            return Poll::Pending;
        }
    }

    /// The transport failed: the stream ends. The error is worth reporting only while the
    /// connection was not over anyway (a reset after the closing handshake is not news).
    fn fail_io(&mut self, e: io::Error) -> Option<Result<Event, StreamError>> {
        self.ended = true;
        (self.conn.state() != State::Closed).then_some(Err(StreamError::Io(e)))
    }

    /// Starts the connection's timers, sets the one `Sleep` to the earliest deadline, and
    /// fires what is due. Returns whether something fired (the connection may have changed:
    /// look again).
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let now = self.now();
        if self.flush_deadline.is_none()
            && !self.abandoned
            && self.conn.transport() == Transport::Close
            && self.conn.pending_output_len() > 0
        {
            self.flush_deadline = self.flush_timeout.map(|t| now.saturating_add(t));
        }
        let deadline = match (self.conn.poll_timeout(now), self.flush_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let Some(at) = deadline else {
            return false;
        };
        if at > now {
            // A deadline beyond what an Instant holds never comes.
            let Some(when) = self.origin.checked_add(at) else {
                return false;
            };
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(when)));
            if self.timer_at != Some(at) {
                timer.as_mut().reset(when);
                self.timer_at = Some(at);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
        // tokio's timer may wake a little before `at` on the connection's timeline.
        let now = self.now().max(at);
        self.conn.handle_timeout(now);
        if self.flush_deadline.is_some_and(|d| d <= now) {
            self.flush_deadline = None;
            self.abandoned = true;
        }
        true
    }

    /// A message for the connection to queue.
    fn start_send(&mut self, message: Message) -> Result<(), StreamError> {
        let conn = &mut self.conn;
        match message {
            // Queued by reference in a server (a client masks while it copies, in one pass),
            // and text, UTF-8 by its type, without a check.
            Message::Text(text) => conn.send_text_bytes(text),
            Message::Binary(data) => conn.send_binary_bytes(data),
            Message::Ping(data) => conn.send_ping(&data),
            Message::Pong(data) => conn.send_pong(&data),
            Message::Close(None) => conn.close(CloseCode::NORMAL, ""),
            Message::Close(Some(frame)) => conn.close(frame.code, &frame.reason),
        }
        .map_err(StreamError::Send)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, StreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match ready!(this.poll_event(Side::Read, cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(event)) => {
                    if let Some(message) = Message::from_event(event) {
                        return Poll::Ready(Some(Ok(message)));
                    }
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> FusedStream for WebSocketStream<S> {
    fn is_terminated(&self) -> bool {
        self.driver.ended
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = StreamError;

    /// Ready while the pending output is at most the high-water mark, after writing what the
    /// transport takes; also fires due timers.
    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        let this = self.get_mut();
        this.tasks.register(Side::Write, cx.waker());
        let cx = &mut Context::from_waker(&this.waker);
        let d = &mut this.driver;
        let mut firings = 0;
        loop {
            if d.conn.pending_output_len() > d.high_water && !d.abandoned {
                if let Poll::Ready(Err(e)) = d.poll_output(cx) {
                    return Poll::Ready(match d.fail_io(e) {
                        Some(Err(e)) => Err(e),
                        _ => Ok(()),
                    });
                }
            }
            // Deadlines armed since the last poll start now, and due ones fire (a task that
            // only writes keeps the keepalive and the close timeout going).
            let fired = firings < TIMER_FIRINGS_PER_POLL && d.poll_timer(cx);
            firings += 1;
            if d.conn.pending_output_len() <= d.high_water || d.abandoned {
                return Poll::Ready(Ok(()));
            }
            if !fired {
                return Poll::Pending;
            }
        }
    }

    /// Queues the message in the connection (refused with [`StreamError::Send`] after a close,
    /// or a control frame over 125 bytes).
    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), StreamError> {
        self.get_mut().driver.start_send(message)
    }

    /// Writes all pending output and flushes the transport; fires due timers while it waits.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        let this = self.get_mut();
        this.tasks.register(Side::Write, cx.waker());
        this.driver
            .poll_timer(&mut Context::from_waker(&this.waker));
        this.driver
            .poll_flush(&mut Context::from_waker(&this.waker))
    }

    /// Sends a close frame (1000) unless one went out already, then drives the connection to
    /// its end: the peer's close, the close timeout, or a failure; then the transport is
    /// closed. Messages that arrive meanwhile are dropped; keep reading the stream instead
    /// (after sending [`Message::Close`]) to see them.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), StreamError>> {
        let this = self.get_mut();
        if !this.driver.close_started {
            this.driver.close_started = true;
            if matches!(this.driver.conn.state(), State::Open | State::CloseReceived) {
                // Cannot fail in these states with a valid code and no reason.
                let _ = this.driver.conn.close(CloseCode::NORMAL, "");
            }
        }
        loop {
            match ready!(this.poll_event(Side::Write, cx)) {
                None => return Poll::Ready(Ok(())),
                Some(Err(StreamError::Io(e))) => return Poll::Ready(Err(StreamError::Io(e))),
                Some(_) => {}
            }
        }
    }
}
