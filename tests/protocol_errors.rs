//! One test per class of bad input: the typed error, the close code sent (once), and that the
//! connection refuses further input afterwards. Each is also checked fed byte by byte.

mod common;

use common::{client_with_key, close_code_in, drain, feed_chunked, frame, frames};
use sansws::{Config, Connection, Error, Event, MessageKind, SendError, State, Transport};

/// Feeds `wire` to a fresh server (whole and byte by byte) and checks the failure.
fn expect_failure(wire: &[u8], config: Config, expected: Error, code: u16) -> Vec<Event> {
    let mut good = Vec::new();
    for chunk in [wire.len().max(1), 1] {
        let mut server = Connection::server(config.clone());
        let events = feed_chunked(&mut server, wire, &[chunk]);
        let errors: Vec<_> = events.iter().filter_map(|e| e.as_ref().err()).collect();
        assert_eq!(errors, vec![&expected], "chunk size {chunk}");
        assert_eq!(expected.close_code().0, code);
        let out = drain(&mut server);
        let closes = frames(&out).iter().filter(|f| f.0 == 0x8).count();
        assert_eq!(closes, 1, "exactly one close frame");
        assert_eq!(close_code_in(&out), Some(code));
        assert_eq!(server.state(), State::Closed);
        assert_eq!(server.transport(), Transport::Close);
        server.receive(&frame(0x81, b"more", true));
        assert_eq!(server.pending_input_len(), 0, "input refused after failure");
        assert!(server.next_event().is_none());
        assert!(
            server.send_text("x").is_err(),
            "nothing is sent after the close frame"
        );
        good = events.into_iter().filter_map(Result::ok).collect();
    }
    good
}

#[test]
fn reserved_opcodes() {
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        let mut wire = frame(0x82, b"x", true);
        wire[0] = 0x80 | op;
        expect_failure(&wire, Config::default(), Error::ReservedOpcode(op), 1002);
    }
}

#[test]
fn reserved_bits_without_extension() {
    for rsv in [0x40u8, 0x20, 0x10, 0x70] {
        expect_failure(
            &frame(0x81 | rsv, b"hi", true),
            Config::default(),
            Error::ReservedBits(rsv),
            1002,
        );
        expect_failure(
            &frame(0x89 | rsv, b"", true),
            Config::default(),
            Error::ReservedBits(rsv),
            1002,
        );
    }
}

#[test]
fn unmasked_frame_to_server_and_masked_frame_to_client() {
    expect_failure(
        &frame(0x81, b"hi", false),
        Config::default(),
        Error::UnmaskedFrame,
        1002,
    );
    let mut client = client_with_key(Config::default(), [1, 2, 3, 4]);
    let events = feed_chunked(&mut client, &frame(0x81, b"hi", true), &[1]);
    assert_eq!(events, vec![Err(Error::MaskedFrame)]);
    assert_eq!(close_code_in(&drain(&mut client)), Some(1002));
}

#[test]
fn length_with_top_bit_set() {
    let wire = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    expect_failure(&wire, Config::default(), Error::LengthOverflow, 1002);
}

#[test]
fn control_frame_rules() {
    expect_failure(
        &frame(0x09, b"", true),
        Config::default(),
        Error::FragmentedControlFrame,
        1002,
    );
    expect_failure(
        &frame(0x89, &[b'a'; 126], true),
        Config::default(),
        Error::ControlFrameTooLong,
        1002,
    );
    expect_failure(
        &frame(0x88, &[3], true),
        Config::default(),
        Error::InvalidClosePayload,
        1002,
    );
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let payload = code.to_be_bytes();
        expect_failure(
            &frame(0x88, &payload, true),
            Config::default(),
            Error::InvalidCloseCode(code),
            1002,
        );
    }
    expect_failure(
        &frame(0x88, b"\x03\xe8\xff", true),
        Config::default(),
        Error::InvalidUtf8,
        1007,
    );
}

#[test]
fn fragmentation_sequence_errors() {
    expect_failure(
        &frame(0x80, b"x", true),
        Config::default(),
        Error::UnexpectedContinuation,
        1002,
    );
    let mut wire = frame(0x01, b"a", true);
    wire.extend(frame(0x81, b"b", true));
    expect_failure(&wire, Config::default(), Error::ExpectedContinuation, 1002);
    let mut wire = frame(0x02, b"a", true);
    wire.extend(frame(0x80, b"b", true));
    wire.extend(frame(0x80, b"c", true));
    let good = expect_failure(
        &wire,
        Config::default(),
        Error::UnexpectedContinuation,
        1002,
    );
    assert_eq!(
        good,
        vec![Event::Binary("ab".into())],
        "what came before the violation is delivered"
    );
}

#[test]
fn invalid_utf8_fails_fast() {
    expect_failure(
        &frame(0x81, b"ok\xff", true),
        Config::default(),
        Error::InvalidUtf8,
        1007,
    );
    // The invalid byte arrives in the first fragment; the message never finishes.
    let wire = frame(0x01, b"\xed\xa0\x80", true);
    expect_failure(&wire, Config::default(), Error::InvalidUtf8, 1007);
    // Message ends inside a code point.
    let mut wire = frame(0x01, b"a", true);
    wire.extend(frame(0x80, b"\xe2\x82", true));
    expect_failure(&wire, Config::default(), Error::InvalidUtf8, 1007);
}

#[test]
fn invalid_utf8_in_first_part_of_a_frame_fails_before_the_rest_arrives() {
    let mut payload = b"valid then \xf4\x90 invalid".to_vec();
    payload.extend(std::iter::repeat_n(b'x', 10_000));
    let wire = frame(0x81, &payload, true);
    let mut server = Connection::server(Config::default());
    server.receive(&wire[..30]);
    assert_eq!(server.next_event(), Some(Err(Error::InvalidUtf8)));
}

#[test]
fn frame_and_message_limits() {
    let config = Config::default().max_frame_size(100).max_message_size(150);
    // The header alone is enough to refuse an oversized frame.
    let wire = frame(0x82, &[0; 101], true);
    expect_failure(&wire[..8], config.clone(), Error::FrameTooLarge, 1009);
    let mut wire = frame(0x02, &[0; 100], true);
    wire.extend(frame(0x80, &[0; 51], true));
    expect_failure(&wire, config.clone(), Error::MessageTooLarge, 1009);
    // Exactly at the limits is fine.
    let mut wire = frame(0x02, &[0; 100], true);
    wire.extend(frame(0x80, &[0; 50], true));
    let mut server = Connection::server(config);
    let events = feed_chunked(&mut server, &wire, &[7]);
    assert_eq!(events, vec![Ok(Event::Binary(vec![0u8; 150].into()))]);
}

#[test]
fn huge_declared_length_allocates_nothing_up_front() {
    // 2^62 bytes declared, a few sent: the default frame limit refuses it at the header.
    let wire = [0x82, 0xFF, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6];
    expect_failure(&wire, Config::default(), Error::FrameTooLarge, 1009);
    // With limits lifted, nothing is reserved for the declared length: the buffer holds only
    // what arrived.
    let config = Config::default()
        .max_frame_size(usize::MAX)
        .max_message_size(usize::MAX);
    let mut server = Connection::server(config);
    server.receive(&[0x82, 0xFF, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 2, 3, 4, 9, 9]);
    assert_eq!(server.next_event(), None);
    assert!(server.pending_input_len() <= 16);
}

#[test]
fn close_once_even_if_more_violations_follow() {
    let mut wire = frame(0x81, b"\xff", true);
    let mut reserved = frame(0x82, b"", true);
    reserved[0] = 0x83;
    wire.extend(reserved);
    wire.extend(frame(0x80, b"", true));
    let mut server = Connection::server(Config::default());
    let events = feed_chunked(&mut server, &wire, &[wire.len()]);
    assert_eq!(events, vec![Err(Error::InvalidUtf8)]);
    let out = drain(&mut server);
    assert_eq!(frames(&out).len(), 1);
}

#[test]
fn sending_text_that_is_not_utf8_is_refused_and_queues_nothing() {
    let mut server = Connection::server(Config::default());
    assert_eq!(
        server.send(MessageKind::Text, b"ok \xff"),
        Err(SendError::InvalidUtf8)
    );
    assert_eq!(server.pending_output_len(), 0);
    assert_eq!(server.send(MessageKind::Binary, b"ok \xff"), Ok(()));
    server.begin_message(MessageKind::Text).unwrap();
    assert_eq!(server.send_chunk(b"\xe2\x82"), Ok(()), "split code point");
    assert_eq!(server.send_chunk(b"x"), Err(SendError::InvalidUtf8));
    assert_eq!(
        server.end_message(b"\xac"),
        Ok(()),
        "the valid end still goes"
    );
}

/// An extension that sets RSV1, copies payloads through, and refuses to encode "fail".
struct Refusing;

impl sansws::extensions::Extension for Refusing {
    fn name(&self) -> &str {
        "x-refusing"
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
        _fin: bool,
        out: &mut sansws::bytes::BytesMut,
    ) -> Result<(), sansws::extensions::ExtensionError> {
        if payload == b"fail" {
            return Err(sansws::extensions::ExtensionError {
                code: sansws::CloseCode::INTERNAL_ERROR,
                reason: "refused",
            });
        }
        out.extend_from_slice(payload);
        Ok(())
    }
    fn decode_start(&mut self, _: u8) -> Result<bool, sansws::extensions::ExtensionError> {
        Ok(true)
    }
    fn decode(
        &mut self,
        input: &[u8],
        _fin: bool,
        out: &mut sansws::bytes::BytesMut,
        _max_out: usize,
    ) -> Result<sansws::extensions::Decoded, sansws::extensions::ExtensionError> {
        out.extend_from_slice(input);
        Ok(sansws::extensions::Decoded {
            consumed: input.len(),
            done: true,
        })
    }
}

#[test]
fn a_fragment_that_fails_to_encode_does_not_advance_the_streamed_message() {
    let mut server = Connection::server(Config::default()).after_handshake(
        sansws::handshake::Negotiated {
            subprotocol: None,
            extension: Some(Box::new(Refusing)),
        },
        &[],
    );
    server.begin_message(MessageKind::Binary).unwrap();
    assert!(matches!(
        server.send_chunk(b"fail"),
        Err(SendError::Extension(_))
    ));
    assert_eq!(server.pending_output_len(), 0, "nothing was written");
    // The next fragment is still the message's first: binary opcode with RSV1, not a
    // continuation frame orphaned from a start that never went out.
    server.end_message(b"ok").unwrap();
    let wire = drain(&mut server);
    assert_eq!(wire[0], 0xC2, "FIN, RSV1, binary");
    assert_eq!(frames(&wire), vec![(0x2, true, b"ok".to_vec())]);
}
