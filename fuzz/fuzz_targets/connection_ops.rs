//! An arbitrary sequence of API calls and inbound bytes on one connection. Invariants: no
//! panic; nothing is sent after a close frame; pending output grows only by what the calls
//! explain; every error maps to a documented close code; releasing buffers or hibernating
//! keeps every pending byte; only a discard (end of input, keepalive or send timeout) leaves
//! a frame cut short. `Config` is arbitrary, so the send timeout and the idle timer run too.
//! Sends go through every path (slices, `Bytes` queued by reference, prepared messages) and
//! inbound bytes through every input path (`receive`, `receive_buffer` / `receive_owned`), and
//! the output is taken a chunk, a vectored write or a byte count at a time.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansws::frame::{decode_header, OpCode};
use sansws::bytes::{Bytes, BytesMut};
use sansws::{CloseCode, Config, Connection, MessageKind, PreparedMessage, Utf8Bytes};

#[derive(Arbitrary, Debug)]
enum Op {
    Receive(Vec<u8>),
    SendText(String),
    SendBinary(Vec<u8>),
    SendTextBytes(String),
    SendBinaryBytes(Vec<u8>),
    SendPrepared(bool, Vec<u8>),
    ReceiveIntoBuffer(Vec<u8>, u16),
    ReceiveOwned(Vec<u8>),
    AdvanceVectored(u16),
    Begin(bool),
    Chunk(Vec<u8>),
    End(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, String),
    Advance(u16),
    Take,
    Poll(u32),
    Timeout(u32),
    Eof,
    Release,
    Hibernate,
}

/// Every pending output byte, in order, through the vectored view.
fn all_output(conn: &Connection) -> Vec<u8> {
    let mut slots: Vec<&[u8]> = vec![&[]; 64];
    loop {
        let n = conn.output_chunks(&mut slots);
        if n < slots.len() {
            let all = slots[..n].concat();
            assert_eq!(all.len(), conn.pending_output_len());
            assert_eq!(conn.pending_output(), &all[..conn.pending_output().len()]);
            return all;
        }
        slots = vec![&[]; slots.len() * 2];
    }
}

/// Decodes what arrived, checking each error's close code.
fn drain_events(conn: &mut Connection) {
    while let Some(ev) = conn.next_event() {
        if let Err(e) = ev {
            assert!(
                matches!(e.close_code().0, 1002 | 1006 | 1007 | 1009 | 1011),
                "{e}"
            );
        }
    }
}

fuzz_target!(|input: (bool, Config, Vec<Op>)| {
    let (server, config, ops) = input;
    let mut conn = if server {
        Connection::server(config)
    } else {
        Connection::client(config, Box::new(|b: &mut [u8]| b.fill(0x11)))
    };
    let mut written: Vec<u8> = Vec::new();
    let mut explained = 0usize;
    // Output was dropped unwritten (a peer gone, silent or not reading), possibly mid-frame.
    let mut discarded = false;
    for op in ops {
        let before = conn.pending_output_len();
        let mut allowance = 0usize;
        let writes = matches!(op, Op::Advance(_) | Op::Take | Op::AdvanceVectored(_));
        match op {
            Op::Receive(d) => {
                conn.receive(&d);
                // Replies (pongs, close) to what arrived: bounded by what arrived plus headers.
                allowance = d.len() * 2 + 256;
                drain_events(&mut conn);
            }
            Op::SendTextBytes(t) => {
                allowance = t.len() + 64;
                let _ = conn.send_text_bytes(Utf8Bytes::from(t));
            }
            Op::SendBinaryBytes(b) => {
                allowance = b.len() + 64;
                let _ = conn.send_binary_bytes(Bytes::from(b));
            }
            Op::SendPrepared(text, b) => {
                allowance = b.len() + 64;
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                if let Ok(message) = PreparedMessage::new(kind, Bytes::from(b)) {
                    let _ = conn.send_prepared(&message);
                }
            }
            Op::ReceiveIntoBuffer(d, want) => {
                // Read in pieces no larger than the room given, as a transport would.
                allowance = d.len() * 2 + 256;
                let mut rest = &d[..];
                while !rest.is_empty() {
                    let buffered = conn.pending_input_len();
                    let mut room = conn.receive_buffer(usize::from(want));
                    assert!(room.is_empty() && room.capacity() > 0);
                    let n = rest.len().min(room.capacity());
                    room.extend_from_slice(&rest[..n]);
                    rest = &rest[n..];
                    conn.receive_owned(room);
                    assert!(conn.pending_input_len() <= buffered + n);
                    drain_events(&mut conn);
                }
            }
            Op::ReceiveOwned(d) => {
                allowance = d.len() * 2 + 256;
                conn.receive_owned(BytesMut::from(&d[..]));
                drain_events(&mut conn);
            }
            Op::AdvanceVectored(n) => {
                let all = all_output(&conn);
                let n = (n as usize).min(all.len());
                written.extend_from_slice(&all[..n]);
                conn.advance_output(n);
            }
            Op::SendText(t) => {
                allowance = t.len() + 64;
                let _ = conn.send_text(&t);
            }
            Op::SendBinary(b) => {
                allowance = b.len() + 64;
                let _ = conn.send_binary(&b);
            }
            Op::Begin(text) => {
                let _ = conn.begin_message(if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                });
            }
            Op::Chunk(d) => {
                allowance = d.len() + 64;
                let _ = conn.send_chunk(&d);
            }
            Op::End(d) => {
                allowance = d.len() + 64;
                let _ = conn.end_message(&d);
            }
            Op::Ping(d) => {
                allowance = d.len() + 64;
                let _ = conn.send_ping(&d);
            }
            Op::Pong(d) => {
                allowance = d.len() + 64;
                let _ = conn.send_pong(&d);
            }
            Op::Close(code, reason) => {
                allowance = reason.len() + 64;
                let _ = conn.close(CloseCode(code), &reason);
            }
            Op::Advance(n) => {
                // At most the next chunk.
                let n = (n as usize).min(conn.pending_output().len());
                written.extend_from_slice(&conn.pending_output()[..n]);
                conn.advance_output(n);
            }
            Op::Take => {
                while conn.pending_output_len() > 0 {
                    let n = conn.pending_output().len();
                    written.extend_from_slice(conn.pending_output());
                    conn.advance_output(n);
                }
            }
            Op::Poll(ms) => {
                let _ = conn.poll_timeout(Duration::from_millis(ms.into()));
            }
            Op::Timeout(ms) => {
                allowance = 64;
                conn.handle_timeout(Duration::from_millis(ms.into()));
            }
            Op::Eof => conn.receive_eof(),
            Op::Release => {
                // Giving back buffers must not change what is pending in either direction.
                let (pending, buffered) = (all_output(&conn), conn.pending_input_len());
                conn.release_buffers();
                assert_eq!(all_output(&conn), pending);
                assert_eq!(conn.pending_input_len(), buffered);
            }
            Op::Hibernate => {
                let (pending, buffered) = (all_output(&conn), conn.pending_input_len());
                conn.hibernate();
                assert_eq!(all_output(&conn), pending);
                assert_eq!(conn.pending_input_len(), buffered);
            }
        }
        let after = conn.pending_output_len();
        discarded |= !writes && after < before;
        assert!(
            after <= before + allowance,
            "output grew by {} for an op allowing {allowance}",
            after - before
        );
        explained += allowance;
    }
    written.extend_from_slice(&all_output(&conn));
    assert!(written.len() <= explained);
    let mut pos = 0;
    let mut closed = false;
    while pos < written.len() {
        let Some((h, n)) = decode_header(&written[pos..]).expect("valid header") else {
            assert!(discarded, "a frame cut short with nothing discarded");
            break;
        };
        assert!(!closed, "a frame after the close frame");
        closed = h.opcode == OpCode::Close;
        pos += n + h.payload_len as usize;
    }
});
