//! An arbitrary sequence of API calls and inbound bytes on one connection. Invariants: no
//! panic; nothing is sent after a close frame; pending output grows only by what the calls
//! explain; every error maps to a documented close code; releasing buffers or hibernating
//! keeps every pending byte; only a discard (end of input, keepalive or send timeout) leaves
//! a frame cut short. `Config` is arbitrary, so the send timeout and the idle timer run too.
#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansws::frame::{decode_header, OpCode};
use sansws::{CloseCode, Config, Connection, MessageKind};

#[derive(Arbitrary, Debug)]
enum Op {
    Receive(Vec<u8>),
    SendText(String),
    SendBinary(Vec<u8>),
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
        let writes = matches!(op, Op::Advance(_) | Op::Take);
        match op {
            Op::Receive(d) => {
                conn.receive(&d);
                // Replies (pongs, close) to what arrived: bounded by what arrived plus headers.
                allowance = d.len() * 2 + 256;
                while let Some(ev) = conn.next_event() {
                    if let Err(e) = ev {
                        assert!(
                            matches!(e.close_code().0, 1002 | 1006 | 1007 | 1009 | 1011),
                            "{e}"
                        );
                    }
                }
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
                let n = (n as usize).min(conn.pending_output_len());
                written.extend_from_slice(&conn.pending_output()[..n]);
                conn.advance_output(n);
            }
            Op::Take => {
                let n = conn.pending_output_len();
                written.extend_from_slice(conn.pending_output());
                conn.advance_output(n);
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
                let (pending, buffered) = (conn.pending_output().to_vec(), conn.pending_input_len());
                conn.release_buffers();
                assert_eq!(conn.pending_output(), &pending[..]);
                assert_eq!(conn.pending_input_len(), buffered);
            }
            Op::Hibernate => {
                let (pending, buffered) = (conn.pending_output().to_vec(), conn.pending_input_len());
                conn.hibernate();
                assert_eq!(conn.pending_output(), &pending[..]);
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
    written.extend_from_slice(conn.pending_output());
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
