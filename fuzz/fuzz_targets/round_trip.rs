//! An arbitrary sequence of messages sent by a client and received by a server (and the
//! other way), compressed or not with arbitrary negotiated parameters, with arbitrary
//! chunking in between, and either side hibernating at arbitrary points (between messages,
//! between the pieces of a streamed message, between received chunks): what arrives is
//! exactly what was sent, in order.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::handshake::Negotiated;
use sansws::{Config, Connection, Event, MessageKind, ReceiveMode};

#[derive(Arbitrary, Debug)]
enum Msg {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Streamed {
        text: bool,
        pieces: Vec<Vec<u8>>,
        hibernate_between: bool,
    },
    /// The sender hibernates.
    Hibernate,
}

#[derive(Arbitrary, Debug)]
struct Input {
    deflate: Option<(DeflateConfig, DeflateConfig)>,
    stream_mode: bool,
    server_sends: bool,
    chunks: Vec<u16>,
    /// Whether the receiver hibernates after each chunk (cycled).
    receiver_hibernates: Vec<bool>,
    messages: Vec<Msg>,
}

#[derive(Debug, PartialEq)]
enum Got {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
}

fuzz_target!(|input: Input| {
    let mode = if input.stream_mode {
        ReceiveMode::Stream
    } else {
        ReceiveMode::Message
    };
    let config = Config::default().receive_mode(mode);
    let mut client = Connection::client(config.clone(), Box::new(|b: &mut [u8]| b.fill(0x3a)));
    let mut server = Connection::server(config);
    if let Some((c, s)) = input.deflate {
        let client_neg = PerMessageDeflate::new(c);
        let offers = client_neg.offers();
        let refs: Vec<&ExtensionOffer> = offers.iter().collect();
        if let Some((answer, server_ext)) = PerMessageDeflate::new(s).accept(&refs) {
            let client_ext = client_neg
                .confirm(&answer)
                .expect("a server answer the client accepts");
            let installed = |extension| Negotiated {
                subprotocol: None,
                extension: Some(extension),
            };
            client = client.after_handshake(installed(client_ext), &[]);
            server = server.after_handshake(installed(server_ext), &[]);
        }
    }
    let (tx, rx) = if input.server_sends {
        (&mut server, &mut client)
    } else {
        (&mut client, &mut server)
    };
    let mut sent = Vec::new();
    for m in input.messages {
        match m {
            Msg::Text(t) => {
                tx.send_text(&t).unwrap();
                sent.push(Got::Message(MessageKind::Text, t.into_bytes()));
            }
            Msg::Binary(b) => {
                tx.send_binary(&b).unwrap();
                sent.push(Got::Message(MessageKind::Binary, b));
            }
            Msg::Ping(mut p) => {
                p.truncate(125);
                tx.send_ping(&p).unwrap();
                sent.push(Got::Ping(p));
            }
            Msg::Hibernate => tx.hibernate(),
            Msg::Streamed {
                text,
                pieces,
                hibernate_between,
            } => {
                let kind = if text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                let whole: Vec<u8> = pieces.concat();
                if text && std::str::from_utf8(&whole).is_err() {
                    continue;
                }
                tx.begin_message(kind).unwrap();
                for p in &pieces {
                    tx.send_chunk(p).unwrap();
                    if hibernate_between {
                        tx.hibernate();
                    }
                }
                tx.end_message(b"").unwrap();
                sent.push(Got::Message(kind, whole));
            }
        }
    }
    let wire = tx.pending_output().to_vec();
    let mut got = Vec::new();
    let mut current: Option<(MessageKind, Vec<u8>)> = None;
    let mut pos = 0;
    let mut chunks = input.chunks.iter().cycle();
    let mut hibernations = input.receiver_hibernates.iter().cycle();
    while pos < wire.len() {
        let n = chunks
            .next()
            .map_or(wire.len(), |&c| c as usize + 1)
            .min(wire.len() - pos);
        rx.receive(&wire[pos..pos + n]);
        pos += n;
        while let Some(ev) = rx.next_event() {
            match ev.expect("what was sent correctly is received without error") {
                Event::Text(t) => got.push(Got::Message(MessageKind::Text, t.as_bytes().to_vec())),
                Event::Binary(b) => got.push(Got::Message(MessageKind::Binary, b.to_vec())),
                Event::Ping(p) => got.push(Got::Ping(p.to_vec())),
                Event::MessageStart { kind } => current = Some((kind, Vec::new())),
                Event::MessageChunk(c) => {
                    current.as_mut().expect("started").1.extend_from_slice(&c)
                }
                Event::MessageEnd => {
                    let (k, d) = current.take().expect("started");
                    got.push(Got::Message(k, d));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        if hibernations.next() == Some(&true) {
            rx.hibernate();
        }
    }
    assert_eq!(got, sent);
});
