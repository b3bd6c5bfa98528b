//! Close codes (RFC 6455 §7.4): which may go on the wire, both ways between `CloseCode` and
//! `u16`, and how they read in logs; a code received is handed out as sent, a reserved one is
//! refused both when received and when sent.

mod common;

use common::{close_code_in, drain, frame};
use sansws::{CloseCode, CloseFrame, Config, Connection, Error, Event, SendError, Utf8Bytes};

#[test]
fn valid_on_the_wire_exactly_where_rfc_6455_allows() {
    let valid = |c: u16| CloseCode(c).is_valid_on_wire();
    for c in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
    ] {
        assert!(valid(c), "{c}");
    }
    for c in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, u16::MAX] {
        assert!(!valid(c), "{c}");
    }
    assert!(valid(3000) && valid(4999));
    for named in [CloseCode::NO_STATUS, CloseCode::ABNORMAL] {
        assert!(!named.is_valid_on_wire(), "{named} is never sent");
    }
}

#[test]
fn converts_both_ways_and_displays_the_number() {
    let code: CloseCode = 4001u16.into();
    assert_eq!(code, CloseCode(4001));
    assert_eq!(u16::from(CloseCode::GOING_AWAY), 1001);
    assert_eq!(CloseCode::from(1009), CloseCode::MESSAGE_TOO_BIG);
    assert_eq!(CloseCode::POLICY_VIOLATION.to_string(), "1008");
    assert_eq!(format!("close {}", CloseCode(4999)), "close 4999");
}

#[test]
fn a_received_code_and_reason_are_handed_out_as_sent() {
    for (code, reason) in [(1000u16, ""), (1001, "bye"), (3000, "app"), (4999, "é")] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        let mut server = Connection::server(Config::default());
        server.receive(&frame(0x88, &payload, true));
        assert_eq!(
            server.next_event(),
            Some(Ok(Event::Close(Some(CloseFrame {
                code: CloseCode(code),
                reason: Utf8Bytes::from(String::from(reason)),
            }))))
        );
        // The answer echoes the code (RFC 6455 §5.5.1).
        assert_eq!(close_code_in(&drain(&mut server)), Some(code));
    }
}

#[test]
fn a_reserved_code_is_refused_both_ways() {
    for code in [1004u16, 1005, 1006, 1015, 2000, 5000] {
        let mut server = Connection::server(Config::default());
        server.receive(&frame(0x88, &code.to_be_bytes(), true));
        assert_eq!(
            server.next_event(),
            Some(Err(Error::InvalidCloseCode(code)))
        );
        assert_eq!(close_code_in(&drain(&mut server)), Some(1002));

        let mut sender = Connection::server(Config::default());
        assert_eq!(
            sender.close(CloseCode(code), ""),
            Err(SendError::InvalidCloseCode(code))
        );
        assert_eq!(sender.pending_output_len(), 0);
    }
}
