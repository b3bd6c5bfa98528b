//! Window bits below 15 are honoured for real: what the server compresses under
//! `server_max_window_bits=N` is inflated by zlib with an N-bit window (which rejects any
//! distance "too far back"), for every N from 8 to 15, with inputs whose only matches lie
//! just beyond the window, across messages under context takeover.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{drain, frames, Rng};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};
use sansws::{Config, Connection};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

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

/// Runs the zlib oracle on (compressed, original) pairs; returns whether it accepted them.
fn zlib_accepts(bits: u8, pairs: &[(Vec<u8>, Vec<u8>)]) -> (bool, String) {
    let mut input = format!("{bits}\n");
    for (c, m) in pairs {
        input.push_str(&format!("{}:{}\n", hex(c), hex(m)));
    }
    let mut child = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/helpers/zlib_oracle.py"
        ))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
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
    let mut server = Connection::server(Config::default());
    server.set_extension(ext);
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
