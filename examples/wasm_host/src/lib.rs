//! sansws behind plain C-ABI exports, for a wasm host that is not Rust (`host.mjs`, Node.js).
//!
//! One module instance serves every connection: each is a handle (a `u32`, never 0) into a
//! table of server connections made with the conformance examples' settings
//! (`examples/common/settings.rs`: permessage-deflate offered, 64 MiB limits). Bytes cross
//! the boundary through a scratch buffer in the module's memory: the host asks for it with
//! [`sansws_scratch`], writes into it, then passes its length to [`sansws_receive`],
//! [`sansws_send`] or [`sansws_close`]. Outgoing bytes and event payloads are read straight
//! from the module's memory at the pointer an export returns, valid until the next call
//! into the module. The module runs one call at a time (wasm32 without threads), so the
//! table lives in a `thread_local`; there is no `unsafe` here, and a stale or unknown handle
//! gets the "nothing" answer of each export instead of undefined behaviour.

#[path = "../../common/settings.rs"]
mod settings;

use std::cell::RefCell;
use std::time::Duration;

use sansws::bytes::Bytes;
use sansws::handshake::AcceptOptions;
use sansws::{Connection, Event, MessageKind, SendError, State, Transport};

/// What [`sansws_next_event`] returns.
const EVENT_NONE: i32 = 0;
const EVENT_UPGRADE_REQUEST: i32 = 1;
const EVENT_TEXT: i32 = 2;
const EVENT_BINARY: i32 = 3;
const EVENT_PING: i32 = 4;
const EVENT_PONG: i32 = 5;
const EVENT_CLOSE: i32 = 6;
const EVENT_ERROR: i32 = 7;
/// An event a server in message mode does not produce (client and stream-mode events).
const EVENT_OTHER: i32 = 8;

/// What [`sansws_send`] and [`sansws_close`] return besides 0 (sent).
const SEND_UNKNOWN_HANDLE: i32 = 1;
const SEND_CLOSED: i32 = 2;
const SEND_HANDSHAKING: i32 = 3;
const SEND_INVALID_UTF8: i32 = 4;
const SEND_INVALID_CLOSE: i32 = 5;
const SEND_OTHER: i32 = 6;

#[derive(Default)]
struct Host {
    /// Connection `handle - 1` at each index; `None` once dropped, reused by the next one.
    conns: Vec<Option<Connection>>,
    free: Vec<u32>,
    io: Io,
}

/// The bytes shared with the host.
#[derive(Default)]
struct Io {
    /// Where the host writes bytes for the module.
    scratch: Vec<u8>,
    /// The last event's payload (message, ping/pong data, close reason, error reason,
    /// upgrade target) and code (close code, or the code an error was answered with).
    event: Bytes,
    event_code: u32,
}

impl Io {
    /// The first `len` scratch bytes (none if the host never asked for that many).
    fn input(&self, len: u32) -> &[u8] {
        self.scratch.get(..len as usize).unwrap_or(&[])
    }
}

thread_local! {
    static HOST: RefCell<Host> = RefCell::new(Host::default());
}

/// Runs `f` on the connection behind `handle`, or returns `missing` if there is none.
fn with_conn<R>(handle: u32, missing: R, f: impl FnOnce(&mut Connection, &mut Io) -> R) -> R {
    HOST.with_borrow_mut(|Host { conns, io, .. }| {
        let slot = conns.get_mut(handle.wrapping_sub(1) as usize);
        match slot.and_then(Option::as_mut) {
            Some(conn) => f(conn, io),
            None => missing,
        }
    })
}

fn ptr(bytes: &[u8]) -> u32 {
    bytes.as_ptr() as usize as u32
}

/// The host's clock (milliseconds, `performance.now()`) as the engine's `Duration`.
fn duration(ms: f64) -> Duration {
    if ms > 0.0 {
        Duration::try_from_secs_f64(ms / 1000.0).unwrap_or(Duration::MAX)
    } else {
        Duration::ZERO
    }
}

fn send_status(result: Result<(), SendError>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(SendError::Closed) => SEND_CLOSED,
        Err(SendError::Handshaking) => SEND_HANDSHAKING,
        Err(SendError::InvalidUtf8) => SEND_INVALID_UTF8,
        Err(SendError::InvalidCloseCode(_) | SendError::ControlFrameTooLong) => SEND_INVALID_CLOSE,
        Err(_) => SEND_OTHER,
    }
}

/// A pointer to at least `len` writable bytes in the module's memory. Growing it may grow
/// the memory, which detaches the host's views of it: make them again after this call.
#[no_mangle]
pub extern "C" fn sansws_scratch(len: u32) -> u32 {
    HOST.with_borrow_mut(|host| {
        let len = len as usize;
        if host.io.scratch.len() < len {
            host.io.scratch.resize(len, 0);
        }
        ptr(&host.io.scratch)
    })
}

/// A new server connection, from the first byte of the upgrade request.
#[no_mangle]
pub extern "C" fn sansws_server_new() -> u32 {
    let conn = Connection::server_upgrade(settings::config(), settings::handshake());
    HOST.with_borrow_mut(|host| match host.free.pop() {
        Some(index) => {
            host.conns[index as usize] = Some(conn);
            index + 1
        }
        None => {
            host.conns.push(Some(conn));
            host.conns.len() as u32
        }
    })
}

/// Drops the connection and everything it holds; the handle is reused later.
#[no_mangle]
pub extern "C" fn sansws_drop(handle: u32) {
    HOST.with_borrow_mut(|host| {
        let index = handle.wrapping_sub(1) as usize;
        if let Some(slot) = host.conns.get_mut(index) {
            if slot.take().is_some() {
                host.free.push(index as u32);
            }
        }
        host.io.event = Bytes::new();
    })
}

/// Feeds the first `len` scratch bytes (what the socket read). Once the connection reads no
/// more (after a close frame or a failure), they are dropped unread.
#[no_mangle]
pub extern "C" fn sansws_receive(handle: u32, len: u32) {
    with_conn(handle, (), |conn, io| conn.receive(io.input(len)))
}

/// The socket's read side ended.
#[no_mangle]
pub extern "C" fn sansws_receive_eof(handle: u32) {
    with_conn(handle, (), |conn, _| conn.receive_eof())
}

/// Decodes the next event (`EVENT_*`); its payload is at [`sansws_event_ptr`] /
/// [`sansws_event_len`], its code at [`sansws_event_code`].
#[no_mangle]
pub extern "C" fn sansws_next_event(handle: u32) -> i32 {
    with_conn(handle, EVENT_NONE, |conn, io| {
        let (kind, payload, code) = match conn.next_event() {
            None => (EVENT_NONE, Bytes::new(), 0),
            Some(Ok(Event::UpgradeRequest)) => {
                let target = conn.upgrade_request().map_or("", |r| r.target.as_str());
                (
                    EVENT_UPGRADE_REQUEST,
                    Bytes::copy_from_slice(target.as_bytes()),
                    0,
                )
            }
            Some(Ok(Event::Text(text))) => (EVENT_TEXT, text.into_bytes(), 0),
            Some(Ok(Event::Binary(data))) => (EVENT_BINARY, data, 0),
            Some(Ok(Event::Ping(data))) => (EVENT_PING, data, 0),
            Some(Ok(Event::Pong(data))) => (EVENT_PONG, data, 0),
            Some(Ok(Event::Close(Some(frame)))) => {
                (EVENT_CLOSE, frame.reason.into_bytes(), frame.code.0)
            }
            Some(Ok(Event::Close(None))) => (EVENT_CLOSE, Bytes::new(), 1005),
            Some(Ok(_)) => (EVENT_OTHER, Bytes::new(), 0),
            Some(Err(e)) => (
                EVENT_ERROR,
                Bytes::from_static(e.reason().as_bytes()),
                e.close_code().0,
            ),
        };
        io.event = payload;
        io.event_code = u32::from(code);
        kind
    })
}

/// Where the last event's payload is.
#[no_mangle]
pub extern "C" fn sansws_event_ptr() -> u32 {
    HOST.with_borrow(|host| ptr(&host.io.event))
}

/// How long the last event's payload is.
#[no_mangle]
pub extern "C" fn sansws_event_len() -> u32 {
    HOST.with_borrow(|host| host.io.event.len() as u32)
}

/// The last event's close code (1005 for a close frame without one).
#[no_mangle]
pub extern "C" fn sansws_event_code() -> u32 {
    HOST.with_borrow(|host| host.io.event_code)
}

/// Accepts the waiting upgrade request (0), or -1 if none waits or the answer failed.
#[no_mangle]
pub extern "C" fn sansws_accept(handle: u32) -> i32 {
    with_conn(handle, -1, |conn, _| {
        match conn.accept(AcceptOptions::new()) {
            Ok(()) => 0,
            Err(_) => -1,
        }
    })
}

/// Refuses the waiting upgrade request with `status` (0), or -1.
#[no_mangle]
pub extern "C" fn sansws_reject(handle: u32, status: u32) -> i32 {
    let status = u16::try_from(status).unwrap_or(0);
    with_conn(handle, -1, |conn, _| match conn.reject(status, &[], b"") {
        Ok(()) => 0,
        Err(_) => -1,
    })
}

/// Sends the first `len` scratch bytes as one message, text (`binary` 0; checked as UTF-8)
/// or binary; 0 or a `SEND_*` code.
#[no_mangle]
pub extern "C" fn sansws_send(handle: u32, binary: u32, len: u32) -> i32 {
    let kind = if binary == 0 {
        MessageKind::Text
    } else {
        MessageKind::Binary
    };
    with_conn(handle, SEND_UNKNOWN_HANDLE, |conn, io| {
        send_status(conn.send(kind, io.input(len)))
    })
}

/// Starts the closing handshake with `code` and the first `len` scratch bytes as the reason.
#[no_mangle]
pub extern "C" fn sansws_close(handle: u32, code: u32, len: u32) -> i32 {
    let Ok(code) = u16::try_from(code) else {
        return SEND_INVALID_CLOSE;
    };
    with_conn(
        handle,
        SEND_UNKNOWN_HANDLE,
        |conn, io| match std::str::from_utf8(io.input(len)) {
            Ok(reason) => send_status(conn.close(code.into(), reason)),
            Err(_) => SEND_INVALID_UTF8,
        },
    )
}

/// Where the bytes to write to the socket start.
#[no_mangle]
pub extern "C" fn sansws_pending_output_ptr(handle: u32) -> u32 {
    with_conn(handle, 0, |conn, _| ptr(conn.pending_output()))
}

/// How many bytes wait to be written: the send-side backpressure signal.
#[no_mangle]
pub extern "C" fn sansws_pending_output_len(handle: u32) -> u32 {
    with_conn(handle, 0, |conn, _| conn.pending_output_len() as u32)
}

/// How many bytes start at `sansws_pending_output_ptr`: output is a queue of chunks (a payload
/// sent by reference is one of its own), so the host writes one chunk at a time.
#[no_mangle]
pub extern "C" fn sansws_pending_chunk_len(handle: u32) -> u32 {
    with_conn(handle, 0, |conn, _| conn.pending_output().len() as u32)
}

/// The socket took `n` bytes of the pending output.
#[no_mangle]
pub extern "C" fn sansws_advance_output(handle: u32, n: u32) {
    with_conn(handle, (), |conn, _| conn.advance_output(n as usize))
}

/// How many received bytes are not decoded yet.
#[no_mangle]
pub extern "C" fn sansws_pending_input_len(handle: u32) -> u32 {
    with_conn(handle, 0, |conn, _| conn.pending_input_len() as u32)
}

/// The next deadline on the host's clock (ms), or -1 if no timer runs. Call it after every
/// batch of I/O: it also starts the timers armed since the last call.
#[no_mangle]
pub extern "C" fn sansws_poll_timeout(handle: u32, now_ms: f64) -> f64 {
    with_conn(handle, -1.0, |conn, _| {
        conn.poll_timeout(duration(now_ms))
            .map_or(-1.0, |at| at.as_secs_f64() * 1000.0)
    })
}

/// Fires the timers due at `now_ms` on the host's clock.
#[no_mangle]
pub extern "C" fn sansws_handle_timeout(handle: u32, now_ms: f64) {
    with_conn(handle, (), |conn, _| conn.handle_timeout(duration(now_ms)))
}

/// What to do with the socket: 0 keep it open, 1 flush then close, 2 flush then wait for
/// the peer to close (4 for an unknown handle).
#[no_mangle]
pub extern "C" fn sansws_transport(handle: u32) -> u32 {
    with_conn(handle, 4, |conn, _| match conn.transport() {
        Transport::Open => 0,
        Transport::Close => 1,
        Transport::AwaitPeerClose => 2,
    })
}

/// 0 connecting, 1 open, 2 close sent, 3 close received, 4 closed (also for unknown handles).
#[no_mangle]
pub extern "C" fn sansws_state(handle: u32) -> u32 {
    with_conn(handle, 4, |conn, _| match conn.state() {
        State::Connecting => 0,
        State::Open => 1,
        State::CloseSent => 2,
        State::CloseReceived => 3,
        State::Closed => 4,
    })
}

/// Gives back the connection's buffer allocations (for an idle connection).
#[no_mangle]
pub extern "C" fn sansws_release_buffers(handle: u32) {
    with_conn(handle, (), |conn, _| conn.release_buffers())
}
