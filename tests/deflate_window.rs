//! Window bits below 15 are honoured for real: what the server compresses under
//! `server_max_window_bits=N` is inflated by zlib with an N-bit window (which rejects any
//! distance "too far back"), for every N from 8 to 15, with inputs whose only matches lie
//! just beyond the window, across messages under context takeover.

mod common;

use common::deflate::{deflate_pair, json, negotiated, wire_messages, zlib_accepts};
use common::{drain, frames, Rng};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::{Config, Connection, Event, MessageKind};

/// Messages whose repeats sit 2^bits + 1 .. 2^bits + 64 bytes back, plus JSON-like text.
fn messages(bits: u32, rng: &mut Rng) -> Vec<Vec<u8>> {
    let w = 1usize << bits;
    let mut out = Vec::new();
    for extra in [1usize, 17, 64] {
        let block = rng.bytes(w + extra);
        let mut m = block.clone();
        m.extend_from_slice(&block);
        m.extend_from_slice(&block[..block.len() / 2]);
        out.push(m);
    }
    let json: String = (0..400)
        .map(|i| format!("{{\"id\":{i},\"name\":\"user{}\",\"ok\":true}},", i % 37))
        .collect();
    out.push(json.into_bytes());
    out.push(Vec::new());
    out.push(rng.bytes(w * 3));
    out
}

fn check_with_zlib(bits: u8, level: u8) {
    let client_neg = PerMessageDeflate::new(DeflateConfig::default().server_max_window_bits(bits));
    let server_neg = PerMessageDeflate::new(DeflateConfig::default().level(level));
    let offers = client_neg.offers();
    let refs: Vec<&ExtensionOffer> = offers.iter().collect();
    let (answer, ext) = server_neg.accept(&refs).expect("accepted");
    if bits < 15 {
        assert!(answer
            .params
            .iter()
            .any(|p| p.name == "server_max_window_bits"
                && p.value.as_deref() == Some(&*bits.to_string())));
    }
    let mut server = Connection::server(Config::default()).after_handshake(negotiated(ext), &[]);
    let mut rng = Rng(u64::from(bits) * 1000 + u64::from(level));
    let msgs = messages(u32::from(bits), &mut rng);
    let mut pairs = Vec::new();
    for m in &msgs {
        server.send_binary(m).unwrap();
        let f = frames(&drain(&mut server));
        assert_eq!(f.len(), 1);
        pairs.push((f[0].2.clone(), m.clone()));
    }
    let (ok, said) = zlib_accepts(bits, &pairs);
    assert!(ok, "bits {bits} level {level}: zlib says {said}");
}

#[test]
fn every_window_size_from_8_to_15_decodes_under_an_enforcing_zlib() {
    for bits in 8..=15 {
        for level in [1, 6, 9] {
            check_with_zlib(bits, level);
        }
    }
}

/// The oracle can fail: miniz_oxide's own window-bits setting, which does not bound
/// distances, is rejected by it on the same kind of input.
#[test]
fn the_oracle_rejects_an_unbounded_compressor() {
    use miniz_oxide::deflate::core::{compress, CompressionStrategy, CompressorOxide, TDEFLFlush};
    use miniz_oxide::DataFormat;
    for bits in [9u8, 12, 14] {
        let mut c =
            CompressorOxide::with_params(DataFormat::Raw, 6, CompressionStrategy::Default, bits);
        let mut rng = Rng(u64::from(bits));
        let m = messages(u32::from(bits), &mut rng).swap_remove(0);
        let mut out = vec![0u8; m.len() * 2 + 1024];
        let (_, used, written) = compress(&mut c, &m, &mut out, TDEFLFlush::Sync);
        assert_eq!(used, m.len());
        let (ok, said) = zlib_accepts(bits, &[(out[..written - 4].to_vec(), m)]);
        assert!(!ok, "bits {bits}: expected a rejection");
        assert!(said.contains("too far back"), "{said}");
    }
}

/// The sent messages of `wire`, each checked to be compressed, paired with what was sent.
fn compressed_pairs(wire: &[u8], sent: &[Vec<u8>]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let on_wire = wire_messages(wire);
    assert_eq!(on_wire.len(), sent.len());
    on_wire
        .into_iter()
        .zip(sent)
        .map(|(w, m)| {
            assert!(w.compressed, "{} bytes sent uncompressed", m.len());
            assert!(
                !w.payload.is_empty(),
                "an empty payload for {} bytes",
                m.len()
            );
            (w.payload, m.clone())
        })
        .collect()
}

/// Feeds `wire` to `receiver` and returns the binary messages it delivered.
fn received(receiver: &mut Connection, wire: &[u8]) -> Vec<Vec<u8>> {
    common::feed_chunked(receiver, wire, &[4093, 7, 65536])
        .into_iter()
        .map(|e| match e.expect("no error") {
            Event::Binary(b) => b.to_vec(),
            other => panic!("{other:?}"),
        })
        .collect()
}

/// The client→server direction: a client configured with `client_max_window_bits=N`
/// compresses inside 2^N bytes, for every N from 8 to 15 and levels 1, 6 and 9, checked by
/// the same enforcing oracle (and the server inflates it all). For 8 the server's answer
/// leaves the parameter out (it never answers 8) and the client keeps to its own 8.
#[test]
fn client_compression_from_8_to_15_decodes_under_an_enforcing_zlib() {
    for bits in 8..=15u8 {
        for level in [1, 6, 9] {
            let (mut client, mut server) = deflate_pair(
                DeflateConfig::default()
                    .client_max_window_bits(bits)
                    .level(level),
                DeflateConfig::default(),
                Config::default(),
            );
            let mut rng = Rng(u64::from(bits) * 7919 + u64::from(level));
            let msgs = messages(u32::from(bits), &mut rng);
            for m in &msgs {
                client.send_binary(m).unwrap();
            }
            let wire = drain(&mut client);
            let pairs = compressed_pairs(&wire, &msgs);
            let (ok, said) = zlib_accepts(bits, &pairs);
            assert!(ok, "client, bits {bits} level {level}: zlib says {said}");
            assert_eq!(received(&mut server, &wire), msgs, "bits {bits}");
        }
    }
}

/// Streamed messages (`send_chunk` in pieces of 1, 100, 1000, 4096 and 5000 bytes) stay inside
/// the window at 9, 12, 13 and 14 bits: the full-flush interval is counted across frames and
/// messages, not per call. The pieces end on both sides of each 2^N boundary.
#[test]
fn streamed_sends_stay_inside_the_window() {
    for bits in [9u8, 12, 13, 14] {
        for chunk in [1usize, 100, 1000, 4096, 5000] {
            let (mut client, mut server) = deflate_pair(
                DeflateConfig::default().server_max_window_bits(bits),
                DeflateConfig::default(),
                Config::default(),
            );
            let mut rng = Rng(u64::from(bits) * 31 + chunk as u64);
            let mut msgs = messages(u32::from(bits), &mut rng);
            if chunk == 1 {
                // A frame per byte (and a deflate block per frame, slow to inflate in a debug
                // build): keep to the input whose matches lie 1 byte beyond the window, the
                // JSON text and the empty message.
                msgs = vec![msgs[0].clone(), msgs[3].clone(), Vec::new()];
            }
            let mut expected_frames = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                server.begin_message(MessageKind::Binary).unwrap();
                let pieces: Vec<&[u8]> = m.chunks(chunk).collect();
                if i % 2 == 0 || pieces.is_empty() {
                    for p in &pieces {
                        server.send_chunk(p).unwrap();
                    }
                    server.end_message(b"").unwrap();
                    expected_frames.push(pieces.len() + 1);
                } else {
                    let (last, rest) = pieces.split_last().unwrap();
                    for p in rest {
                        server.send_chunk(p).unwrap();
                    }
                    server.end_message(last).unwrap();
                    expected_frames.push(pieces.len());
                }
            }
            let wire = drain(&mut server);
            let frames: Vec<usize> = wire_messages(&wire).iter().map(|m| m.frames).collect();
            assert_eq!(frames, expected_frames);
            let pairs = compressed_pairs(&wire, &msgs);
            let (ok, said) = zlib_accepts(bits, &pairs);
            assert!(ok, "bits {bits}, pieces of {chunk}: zlib says {said}");
            assert_eq!(received(&mut client, &wire), msgs, "bits {bits} {chunk}");
        }
    }
}

/// Messages under the threshold go out uncompressed and never enter the compressor, so the
/// compressed ones (sharing their text, under context takeover) refer only to bytes the
/// peer inflated: the oracle sees only the compressed messages, as a peer's inflater does.
/// Both directions; a streamed message is compressed whatever its size (its size is unknown
/// when it starts).
#[test]
fn messages_under_the_threshold_stay_out_of_the_window() {
    let sizes = [
        10usize, 100, 63, 64, 500, 5, 2000, 0, 64, 65, 1, 3000, 40, 40,
    ];
    let msgs: Vec<Vec<u8>> = sizes.iter().map(|&n| json(n, 0)).collect();
    for from_server in [true, false] {
        let cfg = DeflateConfig::default().threshold(64);
        let (mut client, mut server) = deflate_pair(cfg, cfg, Config::default());
        let (sender, receiver) = if from_server {
            (&mut server, &mut client)
        } else {
            (&mut client, &mut server)
        };
        let mut all = msgs.clone();
        for m in &msgs {
            sender.send_binary(m).unwrap();
        }
        let streamed = json(20, 0);
        sender.begin_message(MessageKind::Binary).unwrap();
        sender.send_chunk(&streamed).unwrap();
        sender.end_message(b"").unwrap();
        all.push(streamed.clone());
        sender.send_binary(&json(1000, 0)).unwrap();
        all.push(json(1000, 0));
        let wire = drain(sender);
        let on_wire = wire_messages(&wire);
        assert_eq!(on_wire.len(), all.len());
        let mut pairs = Vec::new();
        for (i, (w, m)) in on_wire.iter().zip(&all).enumerate() {
            let should_compress = m.len() >= 64 || i == msgs.len();
            assert_eq!(
                w.compressed,
                should_compress,
                "message {i}, {} bytes",
                m.len()
            );
            if w.compressed {
                pairs.push((w.payload.clone(), m.clone()));
            } else {
                assert_eq!(&w.payload, m);
            }
        }
        let (ok, said) = zlib_accepts(15, &pairs);
        assert!(ok, "from server {from_server}: zlib says {said}");
        assert_eq!(received(receiver, &wire), all, "from server {from_server}");
    }
}

/// Our compressor never sends an empty payload: an empty message is `00` (§7.2.3.6), also
/// at level 0, after a message that ended on a full-flush boundary (12–14 bits), and as a
/// streamed message with empty frames; and each inflates to nothing under zlib.
#[test]
fn an_empty_message_is_never_an_empty_payload() {
    for bits in 8..=15u8 {
        for level in [0u8, 1, 9] {
            for no_context_takeover in [false, true] {
                let (mut client, mut server) = deflate_pair(
                    DeflateConfig::default()
                        .server_max_window_bits(bits)
                        .server_no_context_takeover(no_context_takeover),
                    DeflateConfig::default().level(level),
                    Config::default(),
                );
                let boundary = json(1 << bits, 3);
                let mut sent = Vec::new();
                for m in [&b""[..], b"abc", b"", &boundary, b"", b""] {
                    server.send_binary(m).unwrap();
                    sent.push(m.to_vec());
                }
                server.begin_message(MessageKind::Binary).unwrap();
                server.end_message(b"").unwrap();
                server.begin_message(MessageKind::Binary).unwrap();
                server.send_chunk(b"").unwrap();
                server.end_message(b"").unwrap();
                server.begin_message(MessageKind::Binary).unwrap();
                server.send_chunk(&boundary).unwrap();
                server.end_message(b"").unwrap();
                server.send_binary(b"").unwrap();
                sent.extend([Vec::new(), Vec::new(), boundary.clone(), Vec::new()]);
                let wire = drain(&mut server);
                let pairs = compressed_pairs(&wire, &sent);
                for (i, (c, m)) in pairs.iter().enumerate() {
                    if m.is_empty() && i < 6 {
                        assert_eq!(c, &[0x00], "bits {bits} level {level} message {i}");
                    }
                }
                let (ok, said) = zlib_accepts(bits, &pairs);
                assert!(ok, "bits {bits} level {level}: zlib says {said}");
                assert_eq!(received(&mut client, &wire), sent);
            }
        }
    }
}

/// What a window below 15 bits costs in compression, on 1 MiB of JSON-like text sent as one
/// message (the figures in docs/permessage-deflate.md; run with `--nocapture` to see them).
/// 8 to 10 bits compress with run-length matches only, so JSON loses most of its ratio;
/// 11 to 14 bits keep LZ77 matches, cut by a full flush every 2^N bytes.
#[test]
fn compression_ratio_by_window_bits() {
    let text = json(1 << 20, 0);
    let mut sizes = Vec::new();
    for level in [1u8, 6] {
        for bits in [9u8, 11, 12, 15] {
            let (mut client, mut server) = deflate_pair(
                DeflateConfig::default().server_max_window_bits(bits),
                DeflateConfig::default().level(level),
                Config::default().max_message_size(4 << 20),
            );
            server.send_binary(&text).unwrap();
            let wire = drain(&mut server);
            let n = wire_messages(&wire)[0].payload.len();
            println!(
                "level {level}, {bits} bits: {} -> {n} bytes, ratio {:.2}",
                text.len(),
                text.len() as f64 / n as f64
            );
            assert_eq!(received(&mut client, &wire), vec![text.clone()]);
            sizes.push((level, bits, n));
        }
    }
    for level in [1u8, 6] {
        let size = |bits: u8| {
            sizes
                .iter()
                .find(|s| s.0 == level && s.1 == bits)
                .unwrap()
                .2
        };
        // RLE only is far worse than LZ77; the flushes at 11 and 12 bits cost little.
        assert!(size(9) > 3 * size(15), "level {level}: {sizes:?}");
        assert!(size(11) < 2 * size(15), "level {level}: {sizes:?}");
        assert!(size(12) < 2 * size(15), "level {level}: {sizes:?}");
    }
}
