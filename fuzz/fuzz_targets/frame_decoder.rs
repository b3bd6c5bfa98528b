//! Arbitrary bytes to a server and a client connection, split where the input says, in both
//! receive modes, with small and default limits. Invariants: no panic; after an error no more
//! events; the output holds at most one close frame and nothing after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansws::frame::{decode_header, OpCode};
use sansws::{Config, Connection, ReceiveMode};

fn check_output(out: &[u8]) {
    let mut pos = 0;
    let mut closed = false;
    while pos < out.len() {
        let (h, n) = decode_header(&out[pos..])
            .expect("valid header")
            .expect("whole header");
        assert!(!closed, "a frame after the close frame");
        closed = h.opcode == OpCode::Close;
        pos += n + h.payload_len as usize;
    }
    assert_eq!(pos, out.len());
}

fuzz_target!(|input: (u8, Vec<u16>, &[u8])| {
    let (flags, cuts, data) = input;
    let mode = if flags & 1 == 0 {
        ReceiveMode::Message
    } else {
        ReceiveMode::Stream
    };
    let mut config = Config::default().receive_mode(mode);
    if flags & 2 != 0 {
        config = config
            .max_frame_size(300)
            .max_message_size(1000)
            .stream_chunk_size(64);
    }
    let mut conns = [
        Connection::server(config.clone()),
        Connection::client(config, Box::new(|b: &mut [u8]| b.fill(0x5a))),
    ];
    for conn in &mut conns {
        let mut pos = 0;
        let mut failed = false;
        let mut cuts = cuts.iter();
        while pos < data.len() {
            let n = cuts
                .next()
                .map_or(data.len() - pos, |&c| (c as usize % 64) + 1)
                .min(data.len() - pos);
            conn.receive(&data[pos..pos + n]);
            pos += n;
            while let Some(ev) = conn.next_event() {
                assert!(!failed, "an event after an error");
                if let Err(e) = ev {
                    failed = true;
                    let _ = e.close_code();
                }
            }
        }
        if conn.role() == sansws::Role::Server {
            check_output(conn.pending_output());
        }
    }
});
