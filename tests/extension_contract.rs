//! What the connection does when a negotiated extension (the application's own, through the
//! `Extension` trait) breaks its contract or fails: a decoder that neither consumes nor
//! produces, or claims more than it was given, fails the connection with 1011 instead of
//! looping; an encoder's error refuses the send and queues nothing; an extension without its
//! own `hibernate` keeps working across `Connection::hibernate`.

mod common;

use std::error::Error as _;

use bytes::BytesMut;
use common::{decoded_frames, drain, frame};
use sansws::extensions::{Decoded, Extension, ExtensionError};
use sansws::handshake::Negotiated;
use sansws::{CloseCode, Config, Connection, Error, Event, MessageKind, SendError};

#[derive(Clone, Copy)]
enum Fault {
    /// Decodes nothing, consumes nothing, never done.
    Stuck,
    /// Says it consumed one byte more than it was given.
    Overrun,
    /// Encoding fails.
    EncodeFails,
    /// Reverses each message's bytes (a working transform; no hibernate of its own).
    None,
}

const REFUSED: ExtensionError = ExtensionError {
    code: CloseCode::POLICY_VIOLATION,
    reason: "x-faulty refuses",
};

struct Faulty(Fault);

impl Extension for Faulty {
    fn name(&self) -> &str {
        "x-faulty"
    }
    fn rsv_bits(&self) -> u8 {
        0x40
    }
    fn encode_start(&mut self, _: MessageKind, _: Option<usize>) -> u8 {
        0x40
    }
    fn encode(
        &mut self,
        payload: &[u8],
        _: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        match self.0 {
            Fault::EncodeFails => Err(REFUSED),
            _ => {
                out.extend(payload.iter().rev());
                Ok(())
            }
        }
    }
    fn decode_start(&mut self, rsv: u8) -> Result<bool, ExtensionError> {
        Ok(rsv == 0x40)
    }
    fn decode(
        &mut self,
        input: &[u8],
        _: bool,
        out: &mut BytesMut,
        _: usize,
    ) -> Result<Decoded, ExtensionError> {
        match self.0 {
            Fault::Stuck => Ok(Decoded::default()),
            Fault::Overrun => Ok(Decoded {
                consumed: input.len() + 1,
                done: true,
            }),
            _ => {
                out.extend(input.iter().rev());
                Ok(Decoded {
                    consumed: input.len(),
                    done: true,
                })
            }
        }
    }
}

fn server_with(fault: Fault) -> Connection {
    Connection::server(Config::default()).after_handshake(
        Negotiated {
            subprotocol: None,
            extension: Some(Box::new(Faulty(fault))),
        },
        &[],
    )
}

#[test]
fn a_decoder_that_breaks_its_contract_fails_the_connection_with_1011() {
    for fault in [Fault::Stuck, Fault::Overrun] {
        let mut server = server_with(fault);
        server.receive(&frame(0xC2, b"abc", true));
        let events: Vec<_> = std::iter::from_fn(|| server.next_event()).collect();
        let [Err(e @ Error::Extension(inner))] = &events[..] else {
            panic!("{events:?}")
        };
        assert_eq!(e.close_code(), CloseCode::INTERNAL_ERROR);
        assert_eq!(inner.reason, "extension decoder broke its contract");
        let out = drain(&mut server);
        let close = decoded_frames(&out).pop().unwrap();
        assert_eq!(close.0.opcode.bits(), 0x8);
        assert_eq!(&close.1[..2], &1011u16.to_be_bytes());
        assert_eq!(&close.1[2..], inner.reason.as_bytes());
    }
}

#[test]
fn an_encoder_error_refuses_the_send_and_queues_nothing() {
    let mut server = server_with(Fault::EncodeFails);
    let e = server.send_binary(b"payload").unwrap_err();
    assert_eq!(e, SendError::Extension(REFUSED));
    assert_eq!(
        e.to_string(),
        "extension failed: x-faulty refuses (close 1008)"
    );
    assert_eq!(e.source().map(|s| s.to_string()), Some(REFUSED.to_string()));
    assert_eq!(server.pending_output_len(), 0);
    // Control frames do not go through the extension.
    server.send_ping(b"p").unwrap();
    assert_eq!(decoded_frames(&drain(&mut server)).len(), 1);
}

#[test]
fn an_extension_without_its_own_hibernate_keeps_working() {
    let mut server = server_with(Fault::None);
    server.receive(&frame(0xC2, b"abc", true));
    assert_eq!(server.next_event(), Some(Ok(Event::Binary("cba".into()))));
    server.hibernate();
    server.receive(&frame(0xC2, b"xyz", true));
    assert_eq!(server.next_event(), Some(Ok(Event::Binary("zyx".into()))));
    server.send_binary(b"123").unwrap();
    let frames = decoded_frames(&drain(&mut server));
    assert_eq!(frames[0].0.rsv, 0x40);
    assert_eq!(frames[0].1, b"321");
}
