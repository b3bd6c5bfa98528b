//! The connection's errors as the peer and the logs see them: for every violation a peer can
//! commit, the close frame on the wire carries the error's close code and its reason, and the
//! error's `Display` names the same reason and code; the errors that send nothing say so, and
//! wrapped errors are reachable through `source()`. Also what each refused send reports.

mod common;

use std::error::Error as _;

use common::{client_with_key, drain, frame, frames};
use sansws::extensions::deflate::DeflateConfig;
use sansws::handshake::HandshakeConfig;
use sansws::{CloseCode, Config, Connection, Error, Event, MessageKind, SendError, Transport};

/// A violation: the bytes, who receives them, with which configuration, the error expected.
struct Case {
    wire: Vec<u8>,
    client: bool,
    config: Config,
    error: Error,
    code: u16,
}

fn case(wire: Vec<u8>, error: Error, code: u16) -> Case {
    Case {
        wire,
        client: false,
        config: Config::default(),
        error,
        code,
    }
}

fn cases() -> Vec<Case> {
    let mut reserved_opcode = frame(0x82, b"x", true);
    reserved_opcode[0] = 0x83;
    // 127: a 64-bit length follows, and its top bit is set.
    let overflow = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4];
    let mut unfinished_then_new = frame(0x01, b"a", true);
    unfinished_then_new.extend(frame(0x81, b"b", true));
    let mut fragments = frame(0x01, &[b'a'; 20], true);
    fragments.extend(frame(0x80, &[b'b'; 20], true));
    vec![
        case(reserved_opcode, Error::ReservedOpcode(3), 1002),
        case(frame(0xC1, b"x", true), Error::ReservedBits(0x40), 1002),
        case(frame(0x81, b"x", false), Error::UnmaskedFrame, 1002),
        Case {
            client: true,
            ..case(frame(0x81, b"x", true), Error::MaskedFrame, 1002)
        },
        case(overflow, Error::LengthOverflow, 1002),
        case(frame(0x09, b"p", true), Error::FragmentedControlFrame, 1002),
        case(
            frame(0x89, &[0; 126], true),
            Error::ControlFrameTooLong,
            1002,
        ),
        case(frame(0x80, b"x", true), Error::UnexpectedContinuation, 1002),
        case(unfinished_then_new, Error::ExpectedContinuation, 1002),
        case(frame(0x88, &[3], true), Error::InvalidClosePayload, 1002),
        case(
            frame(0x88, &[3, 0xED], true),
            Error::InvalidCloseCode(1005),
            1002,
        ),
        case(frame(0x81, &[0xFF], true), Error::InvalidUtf8, 1007),
        Case {
            config: Config::default().max_frame_size(10),
            ..case(frame(0x82, &[0; 11], true), Error::FrameTooLarge, 1009)
        },
        Case {
            config: Config::default().max_message_size(30),
            ..case(fragments, Error::MessageTooLarge, 1009)
        },
    ]
}

/// The close frame's payload in `wire`: (code, reason).
fn close_in(wire: &[u8]) -> (u16, String) {
    let closes: Vec<_> = frames(wire).into_iter().filter(|f| f.0 == 0x8).collect();
    assert_eq!(closes.len(), 1, "exactly one close frame");
    let p = &closes[0].2;
    (
        u16::from_be_bytes([p[0], p[1]]),
        String::from_utf8(p[2..].to_vec()).expect("the reason is UTF-8"),
    )
}

#[test]
fn each_violation_closes_with_its_code_and_reason_and_displays_both() {
    for c in cases() {
        let mut conn = if c.client {
            client_with_key(c.config.clone(), [1, 2, 3, 4])
        } else {
            Connection::server(c.config.clone())
        };
        conn.receive(&c.wire);
        let errors: Vec<Error> = std::iter::from_fn(|| conn.next_event())
            .filter_map(Result::err)
            .collect();
        assert_eq!(errors, vec![c.error.clone()]);
        let e = &c.error;
        assert_eq!(e.close_code(), CloseCode(c.code), "{e:?}");
        let (code, reason) = close_in(&drain(&mut conn));
        assert_eq!(code, c.code, "{e:?}: the code on the wire");
        assert_eq!(reason, e.reason(), "{e:?}: the reason on the wire");
        assert!(!reason.is_empty() && reason.len() <= 123);
        let shown = e.to_string();
        assert!(shown.ends_with(&format!("(close {})", c.code)), "{shown}");
        assert!(e.source().is_none(), "{e:?} wraps nothing");
    }
}

#[test]
fn errors_with_a_value_display_it() {
    assert_eq!(
        Error::ReservedOpcode(0xB).to_string(),
        "reserved opcode 0xb (close 1002)"
    );
    assert_eq!(
        Error::ReservedBits(0x30).to_string(),
        "reserved bits 0x30 set (close 1002)"
    );
    assert_eq!(
        Error::InvalidCloseCode(999).to_string(),
        "invalid close code 999 (close 1002)"
    );
}

#[test]
fn reasons_differ_so_logs_tell_errors_apart() {
    let mut reasons: Vec<&str> = cases().iter().map(|c| c.error.reason()).collect();
    reasons.extend([
        Error::UnexpectedEof.reason(),
        Error::KeepaliveTimeout.reason(),
        Error::SendTimeout.reason(),
    ]);
    let n = reasons.len();
    reasons.sort();
    reasons.dedup();
    assert_eq!(reasons.len(), n, "{reasons:?}");
}

#[test]
fn errors_that_send_nothing_say_so() {
    // The transport ended: no close frame, reported as 1006.
    let mut server = Connection::server(Config::default());
    server.send_text("pending").unwrap();
    server.receive(&frame(0x81, b"last words", true));
    server.receive_eof();
    // The transport can go at once; what arrived before the end is still handed out.
    assert_eq!(server.transport(), Transport::Close);
    assert_eq!(
        server.next_event(),
        Some(Ok(Event::Text("last words".into())))
    );
    assert_eq!(server.next_event(), Some(Err(Error::UnexpectedEof)));
    assert_eq!(server.pending_output_len(), 0);
    for e in [
        Error::UnexpectedEof,
        Error::KeepaliveTimeout,
        Error::SendTimeout,
    ] {
        assert_eq!(e.close_code(), CloseCode::ABNORMAL);
        assert!(!e.close_code().is_valid_on_wire());
        assert_eq!(
            e.to_string(),
            format!("{} (no close frame sent)", e.reason())
        );
        assert!(e.source().is_none());
    }
}

#[test]
fn a_failed_handshake_wraps_its_cause() {
    let mut server = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    server.receive(b"POST / HTTP/1.1\r\nHost: x\r\n\r\n");
    let Some(Err(e)) = server.next_event() else {
        panic!("the handshake fails")
    };
    let Error::Handshake(cause) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(cause.status(), 405);
    assert_eq!(e.close_code(), CloseCode::ABNORMAL);
    assert_eq!(e.reason(), "opening handshake failed");
    assert_eq!(e.to_string(), format!("opening handshake failed: {cause}"));
    assert_eq!(
        e.source().map(|s| s.to_string()),
        Some(cause.to_string()),
        "the cause is the source"
    );
    // The server answered with the cause's status, and no close frame.
    let out = String::from_utf8_lossy(&drain(&mut server)).into_owned();
    assert!(out.starts_with("HTTP/1.1 405 "), "{out}");
}

#[test]
fn corrupt_compressed_data_closes_with_the_extension_code_and_reason() {
    let (_client, mut server) = common::deflate::deflate_pair(
        DeflateConfig::default(),
        DeflateConfig::default(),
        Config::default(),
    );
    // RSV1 set: compressed; 0xFF 0xFF is not a valid deflate block start (BTYPE 11).
    server.receive(&frame(0xC1, &[0xFF, 0xFF, 0xFF], true));
    let errors: Vec<Error> = std::iter::from_fn(|| server.next_event())
        .filter_map(Result::err)
        .collect();
    let [e @ Error::Extension(inner)] = &errors[..] else {
        panic!("{errors:?}")
    };
    assert_eq!(e.close_code(), CloseCode::INVALID_PAYLOAD);
    assert_eq!(inner.code, CloseCode::INVALID_PAYLOAD);
    assert_eq!(e.reason(), inner.reason);
    let (code, reason) = close_in(&drain(&mut server));
    assert_eq!((code, reason.as_str()), (1007, inner.reason));
    assert_eq!(
        inner.to_string(),
        format!("{} (close 1007)", inner.reason),
        "the extension error names its code"
    );
    assert_eq!(e.to_string(), format!("extension failed: {inner}"));
    assert_eq!(e.source().map(|s| s.to_string()), Some(inner.to_string()));
}

#[test]
fn each_refused_send_says_why() {
    let mut upgrading = Connection::server_upgrade(Config::default(), HandshakeConfig::default());
    let handshaking = upgrading.send_text("early").unwrap_err();

    let mut conn = Connection::server(Config::default());
    conn.begin_message(MessageKind::Binary).unwrap();
    let in_progress = conn.send_binary(b"x").unwrap_err();
    let in_progress_begin = conn.begin_message(MessageKind::Text).unwrap_err();
    conn.end_message(b"").unwrap();
    let no_message = conn.send_chunk(b"x").unwrap_err();
    let too_long = conn.send_ping(&[0; 126]).unwrap_err();
    let bad_text = conn.send(MessageKind::Text, &[0xFF]).unwrap_err();
    let bad_code = conn.close(CloseCode(1005), "").unwrap_err();
    conn.close(CloseCode::NORMAL, "bye").unwrap();
    let closed = conn.send_text("late").unwrap_err();

    let cases = [
        (
            handshaking,
            SendError::Handshaking,
            "the opening handshake has not completed",
        ),
        (
            in_progress,
            SendError::MessageInProgress,
            "a streamed message is in progress",
        ),
        (
            in_progress_begin,
            SendError::MessageInProgress,
            "a streamed message is in progress",
        ),
        (
            no_message,
            SendError::NoMessageInProgress,
            "no streamed message is in progress",
        ),
        (
            too_long,
            SendError::ControlFrameTooLong,
            "control frame payload over 125 bytes",
        ),
        (bad_text, SendError::InvalidUtf8, "text is not valid UTF-8"),
        (
            bad_code,
            SendError::InvalidCloseCode(1005),
            "close code 1005 may not be sent",
        ),
        (
            closed,
            SendError::Closed,
            "the connection is closing or closed",
        ),
    ];
    for (got, want, shown) in cases {
        assert_eq!(got, want);
        assert_eq!(got.to_string(), shown);
        assert!(got.source().is_none());
    }
    // Nothing a refused send tried reached the wire: one binary message, then the close.
    let ops: Vec<u8> = frames(&drain(&mut conn)).iter().map(|f| f.0).collect();
    assert_eq!(ops, vec![0x2, 0x8]);
    assert!(drain(&mut upgrading).is_empty());
    assert_eq!(upgrading.next_event(), None);
}
