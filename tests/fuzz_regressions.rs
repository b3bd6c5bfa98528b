//! Inputs found by the fuzzers (fuzz/), kept as regression tests.

mod common;

#[cfg(feature = "arbitrary")]
use arbitrary::{Arbitrary, Unstructured};
use common::deflate::negotiated;
use common::{feed_chunked, frame};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::{CloseCode, Config, Connection, Event, ReceiveMode};

/// round_trip found that a derived `Arbitrary` for `DeflateConfig` bypassed the setters'
/// clamping: window bits 0 reached the server's answer (`server_max_window_bits=0`), which
/// every client rightly refuses. `Arbitrary` now builds configurations through the setters.
/// The original input is kept in tests/fuzz_inputs/.
#[cfg(feature = "arbitrary")]
#[test]
fn generated_deflate_configs_negotiate_with_each_other() {
    let crash = include_bytes!("fuzz_inputs/round_trip_window_bits_0.bin");
    let mut inputs: Vec<Vec<u8>> = vec![crash.to_vec(), vec![0; 64], vec![0xff; 64]];
    inputs.extend((0..200u32).map(|i| (0..64u32).map(|j| (i * 31 + j * 7) as u8).collect()));
    for data in inputs {
        let mut u = Unstructured::new(&data);
        let (Ok(client_cfg), Ok(server_cfg)) = (
            DeflateConfig::arbitrary(&mut u),
            DeflateConfig::arbitrary(&mut u),
        ) else {
            continue;
        };
        let client = PerMessageDeflate::new(client_cfg);
        let offers = client.offers();
        let refs: Vec<&ExtensionOffer> = offers.iter().collect();
        let (answer, _) = PerMessageDeflate::new(server_cfg)
            .accept(&refs)
            .expect("a valid offer is accepted");
        assert!(
            client.confirm(&answer).is_ok(),
            "client {client_cfg:?} refuses {answer:?} from server {server_cfg:?}"
        );
    }
}

/// RFC 7692 §7.2.3.1's "Hello", and §7.2.3.2's second "Hello" (a match of 5 bytes at distance
/// 5: it needs the first message's window).
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
const HELLO_AGAIN: [u8; 5] = [0xf2, 0x00, 0x11, 0x00, 0x00];
/// "Hello" in a block with BFINAL set, ending the DEFLATE stream with the payload (§7.2.3.4).
const HELLO_BFINAL: [u8; 7] = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

/// A server that negotiated permessage-deflate, with or without client_no_context_takeover.
fn deflate_server(mode: ReceiveMode, no_context_takeover: bool) -> Connection {
    let config = DeflateConfig::default().client_no_context_takeover(no_context_takeover);
    let offer = ExtensionOffer::new("permessage-deflate");
    let (_, ext) = PerMessageDeflate::new(config).accept(&[&offer]).unwrap();
    Connection::server(Config::default().receive_mode(mode)).after_handshake(negotiated(ext), &[])
}

/// The texts `wire` hands out in either mode, chunked three ways, or the close code it fails
/// with.
fn received(no_context_takeover: bool, wire: &[u8]) -> Vec<Result<String, u16>> {
    let mut outcomes = Vec::new();
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        for chunks in [&[1usize][..], &[3, 2], &[1000]] {
            let mut server = deflate_server(mode, no_context_takeover);
            let mut got = Vec::new();
            let mut streamed = Vec::new();
            for event in feed_chunked(&mut server, wire, chunks) {
                match event {
                    Ok(Event::Text(t)) => got.push(Ok(t.to_string())),
                    Ok(Event::MessageStart { .. }) => streamed.clear(),
                    Ok(Event::MessageChunk(c)) => streamed.extend_from_slice(&c),
                    Ok(Event::MessageEnd) => {
                        got.push(Ok(String::from_utf8(streamed.clone()).unwrap()))
                    }
                    Ok(other) => panic!("{other:?}"),
                    Err(e) => got.push(Err(e.close_code().0)),
                }
            }
            outcomes.push(got);
        }
    }
    assert!(outcomes.windows(2).all(|w| w[0] == w[1]), "{outcomes:?}");
    outcomes.remove(0)
}

/// differential (against zlib) found that a match reaching before the start of the output
/// was inflated from the zeroed window ("H" and four zero bytes for §7.2.3.2's second message
/// under client_no_context_takeover) instead of failing: RFC 1951 §3.2.3 says "a distance
/// cannot refer past the beginning of the output stream", and zlib fails with "invalid
/// distance too far back". Also as the first message of a connection with context takeover.
#[test]
fn a_match_before_the_start_of_the_output_is_invalid() {
    let invalid = CloseCode::INVALID_PAYLOAD.0;
    let mut wire = frame(0xc1, &HELLO, true);
    wire.extend(frame(0xc1, &HELLO_AGAIN, true));
    assert_eq!(received(true, &wire), [Ok("Hello".into()), Err(invalid)]);
    assert_eq!(
        received(true, &frame(0xc1, &HELLO_AGAIN, true)),
        [Err(invalid)]
    );
    assert_eq!(
        received(false, &frame(0xc1, &HELLO_AGAIN, true)),
        [Err(invalid)]
    );
    // With context takeover the same bytes are §7.2.3.2's example.
    assert_eq!(
        received(false, &wire),
        [Ok("Hello".into()), Ok("Hello".into())]
    );
}

/// differential (against zlib) confirmed that after a message ending its DEFLATE stream with
/// BFINAL (§7.2.3.4), the next message lost the window: miniz_oxide's `MinReset` also moved
/// the place in the window, so §7.2.3.2's second "Hello" came out as "H" and four zero bytes.
/// (Found on an older base; the inflater that owns its window, written for hibernation, had
/// already fixed it.)
/// §7.2.2: "the server MUST decompress each new message using the LZ77 sliding window used to
/// process the last compressed message". Also with the stream ended inside a message.
#[test]
fn the_window_outlives_the_end_of_a_deflate_stream() {
    let mut wire = frame(0xc1, &HELLO_BFINAL, true);
    wire.extend(frame(0xc1, &HELLO_AGAIN, true));
    assert_eq!(
        received(false, &wire),
        [Ok("Hello".into()), Ok("Hello".into())]
    );
    let mut within = HELLO_BFINAL.to_vec();
    within.extend_from_slice(&HELLO_AGAIN);
    assert_eq!(
        received(false, &frame(0xc1, &within, true)),
        [Ok("HelloHello".into())]
    );
}
