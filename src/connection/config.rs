//! Connection configuration: limits, receive mode, automatic replies, timers.

use core::time::Duration;

use super::nanos::Nanos;

/// How received data messages are handed to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ReceiveMode {
    /// Whole messages: [`Event::Text`](crate::Event::Text) and
    /// [`Event::Binary`](crate::Event::Binary). A message that fits in one frame is handed out
    /// without copying; a fragmented or compressed one is assembled.
    #[default]
    Message,
    /// Streams of chunks: [`Event::MessageStart`](crate::Event::MessageStart),
    /// [`Event::MessageChunk`](crate::Event::MessageChunk)…,
    /// [`Event::MessageEnd`](crate::Event::MessageEnd), handed out as the bytes arrive, so a
    /// message never has to sit in memory whole.
    Stream,
}

/// Connection settings: limits, receive mode, automatic replies, timers, buffer memory.
///
/// Start from [`Config::default`] and change what you need; each setter is named after the
/// setting and returns the changed configuration:
///
/// ```
/// use std::time::Duration;
/// use sansws::{Config, ReceiveMode};
///
/// let config = Config::default()
///     .max_message_size(1 << 20)
///     .receive_mode(ReceiveMode::Stream)
///     .keepalive(Some(Duration::from_secs(30)));
/// # let _ = config;
/// ```
///
/// The defaults are safe for a server facing the internet: 16 MiB frames, 64 MiB messages,
/// automatic pong and close replies, a 5-second close handshake timeout, no keepalive, a
/// 30-second send timeout, and buffers given back after 1 second without traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub(crate) max_frame_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) receive_mode: ReceiveMode,
    pub(crate) auto_pong: bool,
    pub(crate) auto_close: bool,
    pub(crate) close_timeout: Option<Nanos>,
    pub(crate) keepalive: Option<Nanos>,
    pub(crate) send_timeout: Option<Nanos>,
    pub(crate) idle_timeout: Option<Nanos>,
    pub(crate) stream_chunk_size: usize,
    pub(crate) buffer_keep: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            receive_mode: ReceiveMode::Message,
            auto_pong: true,
            auto_close: true,
            close_timeout: Some(Nanos::from(Duration::from_secs(5))),
            keepalive: None,
            send_timeout: Some(Nanos::from(Duration::from_secs(30))),
            idle_timeout: Some(Nanos::from(Duration::from_secs(1))),
            stream_chunk_size: 64 << 10,
            buffer_keep: 64 << 10,
        }
    }
}

impl Config {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Largest accepted frame payload; a longer frame fails the connection with 1009 as soon
    /// as its header arrives.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Largest accepted message (after decompression); a longer one fails the connection with
    /// 1009 as soon as it passes the limit. Applies in both receive modes.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Whole messages or streams of chunks.
    #[must_use]
    pub fn receive_mode(mut self, mode: ReceiveMode) -> Self {
        self.receive_mode = mode;
        self
    }

    /// Answer pings with pongs automatically (default on).
    #[must_use]
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Answer a received close frame automatically, echoing its code (default on). When off,
    /// the caller answers with [`Connection::close`](crate::Connection::close).
    #[must_use]
    pub fn auto_close(mut self, on: bool) -> Self {
        self.auto_close = on;
        self
    }

    /// How long to wait for the peer's close frame after sending ours, and (client) for the
    /// server to close the transport after the close handshake. `None` waits forever.
    #[must_use]
    pub fn close_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.close_timeout = timeout.map(Nanos::from);
        self
    }

    /// Send a ping after this long without receiving anything, and give up on the connection
    /// if nothing arrives within the same time again. `None` (default) sends no pings.
    #[must_use]
    pub fn keepalive(mut self, interval: Option<Duration>) -> Self {
        self.keepalive = interval.map(Nanos::from);
        self
    }

    /// Fail the connection with [`Error::SendTimeout`](crate::Error::SendTimeout) when output
    /// is pending and the transport took none of it for this long (default 30 s): a peer that
    /// takes no byte for that long is gone or refuses to read, and waiting longer only holds
    /// its output. A slow reader that keeps taking bytes is never cut. `None` waits forever.
    #[must_use]
    pub fn send_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.send_timeout = timeout.map(Nanos::from);
        self
    }

    /// How long without traffic (nothing received, queued or written) makes the connection
    /// idle (default 1 s). An idle connection gives back every buffer allocation, keeping
    /// pending bytes in allocations of their size, and hibernates its extension
    /// ([`Connection::hibernate`](crate::Connection::hibernate)); while it stays busy, each
    /// such period cuts down a buffer much larger than the period needed. The timer runs
    /// through [`poll_timeout`](crate::Connection::poll_timeout) like the others, and only
    /// while there is something to give back. `None` keeps buffers until the caller releases
    /// them (the [guide](crate::guide#memory) says when to use which).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout.map(Nanos::from);
        self
    }

    /// Largest piece of decompressed data produced in one step (default 64 KiB): in
    /// [`ReceiveMode::Stream`] the largest chunk handed out at once, in both modes how much the
    /// extension's decoder may write before the connection looks at the limits again.
    #[must_use]
    pub fn stream_chunk_size(mut self, bytes: usize) -> Self {
        self.stream_chunk_size = bytes.max(1);
        self
    }

    /// Capacity a busy buffer may keep whatever its recent need (default 64 KiB). Buffers
    /// keep what their traffic uses, so steady traffic allocates nothing per message; once
    /// per idle-timer period, a buffer larger than this and than twice the most it held
    /// during the period is cut down to what it holds (the exact rules are in the
    /// [guide](crate::guide#memory)).
    #[must_use]
    pub fn buffer_keep(mut self, bytes: usize) -> Self {
        self.buffer_keep = bytes;
        self
    }
}

/// Built through the public setters, so generated values keep their invariants, as a user's
/// configuration would.
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for Config {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let ms = |v: Option<u32>| v.map(|ms| Duration::from_millis(u64::from(ms)));
        Ok(Config::new()
            .max_frame_size(u.int_in_range(0..=1 << 20)?)
            .max_message_size(u.int_in_range(0..=4 << 20)?)
            .receive_mode(u.arbitrary()?)
            .auto_pong(u.arbitrary()?)
            .auto_close(u.arbitrary()?)
            .close_timeout(ms(u.arbitrary()?))
            .keepalive(ms(u.arbitrary()?))
            .send_timeout(ms(u.arbitrary()?))
            .idle_timeout(ms(u.arbitrary()?))
            .stream_chunk_size(u.int_in_range(1..=1 << 16)?)
            .buffer_keep(u.int_in_range(0..=1 << 17)?))
    }
}
