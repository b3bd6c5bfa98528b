//! Inputs found by the fuzzers (fuzz/), kept as regression tests.
#![cfg(feature = "arbitrary")]

use arbitrary::{Arbitrary, Unstructured};
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{ExtensionNegotiator, ExtensionOffer};

/// round_trip found that a derived `Arbitrary` for `DeflateConfig` bypassed the setters'
/// clamping: window bits 0 reached the server's answer (`server_max_window_bits=0`), which
/// every client rightly refuses. `Arbitrary` now builds configurations through the setters.
/// The original input is kept in tests/fuzz_inputs/.
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
