//! permessage-deflate rules: negotiation on both sides (RFC 7692 §7.1), framing rules (§6),
//! the examples of §7.2.3, corrupt data and decompression bombs.

mod common;

use common::{close_code_in, drain, feed_chunked, frame, frames};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{parse_extensions, Extension, ExtensionNegotiator, ExtensionOffer};
use sansws::{Config, Connection, Error, Event, ReceiveMode};

fn offers(header: &str) -> Vec<ExtensionOffer> {
    parse_extensions(header).expect("valid header")
}

fn accept(config: DeflateConfig, header: &str) -> Option<String> {
    let offers = offers(header);
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    PerMessageDeflate::new(config)
        .accept(&refs)
        .map(|(answer, _)| sansws::extensions::format_extensions(&[answer]))
}

#[test]
fn server_accepts_the_first_offer_it_can_honour() {
    let d = DeflateConfig::default();
    assert_eq!(
        accept(d, "permessage-deflate").as_deref(),
        Some("permessage-deflate")
    );
    assert_eq!(
        accept(d, "permessage-deflate; client_max_window_bits").as_deref(),
        Some("permessage-deflate"),
        "a bare client_max_window_bits needs no answer when the server is happy with 15"
    );
    assert_eq!(
        accept(
            d.client_max_window_bits(10),
            "permessage-deflate; client_max_window_bits"
        )
        .as_deref(),
        Some("permessage-deflate; client_max_window_bits=10")
    );
    assert_eq!(
        accept(
            d,
            "permessage-deflate; server_max_window_bits=10; server_no_context_takeover"
        )
        .as_deref(),
        Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=10")
    );
    assert_eq!(
        accept(
            d.server_max_window_bits(9),
            "permessage-deflate; server_max_window_bits=12"
        )
        .as_deref(),
        Some("permessage-deflate; server_max_window_bits=9"),
        "the server may use less than the client allows"
    );
    assert_eq!(
        accept(d.client_no_context_takeover(true), "permessage-deflate").as_deref(),
        Some("permessage-deflate; client_no_context_takeover"),
        "a server may require client_no_context_takeover without an offer"
    );
    // Invalid offers are declined, and the next one is taken.
    for bad in [
        "permessage-deflate; unknown=1",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=x",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
    ] {
        assert_eq!(accept(d, bad), None, "{bad}");
        assert_eq!(
            accept(d, &format!("{bad}, permessage-deflate")).as_deref(),
            Some("permessage-deflate"),
            "{bad}"
        );
    }
}

fn confirm(config: DeflateConfig, answer: &str) -> Result<Box<dyn Extension>, String> {
    let answer = offers(answer).remove(0);
    PerMessageDeflate::new(config)
        .confirm(&answer)
        .map_err(|e| e.reason)
}

#[test]
fn client_checks_the_answer_against_its_offers() {
    let d = DeflateConfig::default();
    let sent = sansws::extensions::format_extensions(&PerMessageDeflate::new(d).offers());
    assert_eq!(sent, "permessage-deflate; client_max_window_bits");
    assert!(confirm(d, "permessage-deflate").is_ok());
    assert!(confirm(d, "permessage-deflate; client_max_window_bits=9").is_ok());
    assert!(confirm(
        d,
        "permessage-deflate; server_max_window_bits=10; server_no_context_takeover"
    )
    .is_ok());
    assert!(confirm(d, "permessage-deflate; client_no_context_takeover").is_ok());
    for bad in [
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; unknown",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    ] {
        assert!(confirm(d, bad).is_err(), "{bad}");
    }
    // A client that asked for a small server window refuses a larger one, but accepts an
    // answer to its plain fallback offer.
    let small = d.server_max_window_bits(10).client_max_window_bits(12);
    let sent = sansws::extensions::format_extensions(&PerMessageDeflate::new(small).offers());
    assert_eq!(sent, "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12, permessage-deflate; client_max_window_bits=12");
    assert!(confirm(small, "permessage-deflate; server_max_window_bits=9").is_ok());
    assert!(
        confirm(small, "permessage-deflate; client_max_window_bits=13").is_err(),
        "above the offered value"
    );
    assert!(confirm(small, "permessage-deflate; client_max_window_bits=12").is_ok());
    // Without client_max_window_bits in any offer, the server may not answer it.
    let _ = d;
}

fn deflate_server(mode: ReceiveMode, max_message: usize) -> Connection {
    let answer = offers("permessage-deflate").remove(0);
    let refs = [&answer];
    let (_, ext) = PerMessageDeflate::new(DeflateConfig::default())
        .accept(&refs)
        .unwrap();
    let mut server = Connection::server(
        Config::default()
            .receive_mode(mode)
            .max_message_size(max_message),
    );
    server.set_extension(ext);
    server
}

#[test]
fn rfc7692_examples() {
    // §7.2.3.1: "Hello" in one compressed frame; §7.2.3.2: the same in two fragments;
    // §7.2.3.3: a stored block; §7.2.3.2 with context takeover: the second "Hello".
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    let mut wire = frame(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], true);
    wire.extend(frame(0x41, &[0xf2, 0x48, 0xcd], true));
    wire.extend(frame(0x80, &[0xc9, 0xc9, 0x07, 0x00], true));
    wire.extend(frame(0xc1, &[0xf2, 0x00, 0x11, 0x00, 0x00], true));
    let events = feed_chunked(&mut server, &wire, &[1]);
    assert_eq!(
        events,
        vec![
            Ok(Event::Text("Hello".into())),
            Ok(Event::Text("Hello".into())),
            Ok(Event::Text("Hello".into()))
        ]
    );
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    let wire = frame(
        0xc1,
        &[
            0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ],
        true,
    );
    assert_eq!(
        feed_chunked(&mut server, &wire, &[3]),
        vec![Ok(Event::Text("Hello".into()))]
    );
    // Our compressor writes §7.2.3.1's bytes for "Hello"; the second "Hello" refers back to
    // the first (a different but equally valid encoding from the RFC's `f2 00 11 00 00`).
    server.send_text("Hello").unwrap();
    server.send_text("Hello").unwrap();
    let wire = drain(&mut server);
    let out = frames(&wire);
    assert_eq!(out[0].2, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]);
    assert!(out[1].2.len() < out[0].2.len(), "{:x?}", out[1].2);
    let offer = offers("permessage-deflate").remove(0);
    let mut client = common::client_seeded(Config::default(), 3);
    client.set_extension(
        PerMessageDeflate::new(DeflateConfig::default())
            .confirm(&offer)
            .unwrap(),
    );
    assert_eq!(
        feed_chunked(&mut client, &wire, &[1]),
        vec![
            Ok(Event::Text("Hello".into())),
            Ok(Event::Text("Hello".into()))
        ]
    );
    // An empty message compresses to a single 0x00 (§7.2.3.6).
    server.send_binary(b"").unwrap();
    assert_eq!(frames(&drain(&mut server))[0].2, [0x00]);
}

#[test]
fn rsv1_rules() {
    // On a continuation frame, on a control frame, and without negotiation: 1002.
    for wire in [
        [frame(0x01, b"a", true), frame(0xc0, b"b", true)].concat(),
        frame(0xc9, b"", true),
    ] {
        let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
        let events = feed_chunked(&mut server, &wire, &[100]);
        assert_eq!(events, vec![Err(Error::ReservedBits(0x40))]);
        assert_eq!(close_code_in(&drain(&mut server)), Some(1002));
    }
    let mut plain = Connection::server(Config::default());
    let events = feed_chunked(
        &mut plain,
        &frame(0xc1, &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], true),
        &[100],
    );
    assert_eq!(events, vec![Err(Error::ReservedBits(0x40))]);
    // Uncompressed messages stay legal with the extension on, in both directions.
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    assert_eq!(
        feed_chunked(&mut server, &frame(0x81, b"plain", true), &[2]),
        vec![Ok(Event::Text("plain".into()))]
    );
}

#[test]
fn corrupt_data_closes_with_1007() {
    let mut server = deflate_server(ReceiveMode::Message, 1 << 20);
    let events = feed_chunked(
        &mut server,
        &frame(0xc2, &[0xff, 0xff, 0xff, 0x00, 0x13], true),
        &[100],
    );
    assert!(
        matches!(&events[..], [Err(Error::Extension(e))] if e.code.0 == 1007),
        "{events:?}"
    );
    assert_eq!(close_code_in(&drain(&mut server)), Some(1007));
}

#[test]
fn decompression_bomb_stops_at_the_limit() {
    // 100 MiB of zeros, compressed by zlib to about 100 KB; the limit is 1 MiB.
    let script = "import zlib,sys; c=zlib.compressobj(9,zlib.DEFLATED,-15); d=c.compress(bytes(100<<20))+c.flush(zlib.Z_SYNC_FLUSH); sys.stdout.buffer.write(d[:-4])";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .output()
        .expect("python3 runs");
    let bomb = out.stdout;
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    for mode in [ReceiveMode::Message, ReceiveMode::Stream] {
        let mut server = deflate_server(mode, 1 << 20);
        let events = feed_chunked(&mut server, &frame(0xc2, &bomb, true), &[65536]);
        let delivered: usize = events
            .iter()
            .map(|e| match e {
                Ok(Event::MessageChunk(c)) => c.len(),
                _ => 0,
            })
            .sum();
        assert!(delivered <= 1 << 20, "{mode:?}: {delivered}");
        assert_eq!(
            events.last(),
            Some(&Err(Error::MessageTooLarge)),
            "{mode:?}"
        );
        assert_eq!(close_code_in(&drain(&mut server)), Some(1009));
    }
}
