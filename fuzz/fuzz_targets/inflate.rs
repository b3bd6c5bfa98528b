//! Arbitrary compressed payloads through the decompression path with small limits: stops at
//! the limit (1009) and never hands out more than the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::frame::{encode_header, FrameHeader, OpCode};
use sansws::handshake::Negotiated;
use sansws::{Config, Connection, Event, ReceiveMode};

const LIMIT: usize = 4096;

fuzz_target!(|input: (bool, Vec<(bool, Vec<u8>)>)| {
    let (stream, frames) = input;
    let offer = ExtensionOffer::new("permessage-deflate");
    let (_, ext) = PerMessageDeflate::new(DeflateConfig::default())
        .accept(&[&offer])
        .unwrap();
    let mode = if stream {
        ReceiveMode::Stream
    } else {
        ReceiveMode::Message
    };
    let mut server = Connection::server(
        Config::default()
            .receive_mode(mode)
            .max_message_size(LIMIT)
            .stream_chunk_size(512),
    )
    .after_handshake(
        Negotiated {
            subprotocol: None,
            extension: Some(ext),
        },
        &[],
    );
    let mut wire = Vec::new();
    let n = frames.len();
    let mut first = true;
    for (i, (fin_here, payload)) in frames.iter().enumerate() {
        let fin = *fin_here || i + 1 == n;
        let (opcode, rsv) = if first {
            (OpCode::Binary, 0x40)
        } else {
            (OpCode::Continuation, 0)
        };
        first = fin;
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask: Some([1, 2, 3, 4]),
            payload_len: payload.len() as u64,
        };
        let mut head = [0u8; 14];
        let h = encode_header(&mut head, &header);
        wire.extend_from_slice(&head[..h]);
        // Masked with [1, 2, 3, 4] (RFC 6455 §5.3).
        wire.extend(payload.iter().enumerate().map(|(i, b)| b ^ (i % 4 + 1) as u8));
    }
    server.receive(&wire);
    let mut in_message = 0usize;
    while let Some(ev) = server.next_event() {
        match ev {
            Ok(Event::Binary(b)) => assert!(b.len() <= LIMIT),
            Ok(Event::MessageChunk(c)) => {
                in_message += c.len();
                assert!(in_message <= LIMIT);
            }
            Ok(Event::MessageStart { .. }) | Ok(Event::MessageEnd) => in_message = 0,
            Ok(_) => {}
            Err(e) => assert!(matches!(e.close_code().0, 1002 | 1007 | 1009 | 1011), "{e}"),
        }
    }
});
