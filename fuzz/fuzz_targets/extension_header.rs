//! Arbitrary Sec-WebSocket-Extensions values, read as a server's handshake reads them; the
//! offers it parsed, written by a client's handshake and read again, come back unchanged; and
//! permessage-deflate negotiation on both sides, whose answer must survive the same round trip.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{Extension, ExtensionNegotiator, ExtensionOffer, NegotiationError};
use sansws::handshake::{ClientHandshake, ClientRequest, HandshakeConfig, ServerHandshake};

/// A negotiator that offers exactly the given offers (and accepts nothing).
struct Offers(Vec<ExtensionOffer>);

impl ExtensionNegotiator for Offers {
    fn name(&self) -> &str {
        "x-fuzz"
    }
    fn offers(&self) -> Vec<ExtensionOffer> {
        self.0.clone()
    }
    fn accept(&self, _: &[&ExtensionOffer]) -> Option<(ExtensionOffer, Box<dyn Extension>)> {
        None
    }
    fn confirm(&self, _: &ExtensionOffer) -> Result<Box<dyn Extension>, NegotiationError> {
        Err(NegotiationError {
            reason: "never".into(),
        })
    }
}

/// The offers a server reads from a request whose extension header is `value`, if the
/// request is valid.
fn server_reads(value: &[u8]) -> Option<Vec<ExtensionOffer>> {
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: "
        .to_vec();
    request.extend_from_slice(value);
    request.extend_from_slice(b"\r\n\r\n");
    let parsed = ServerHandshake::new(HandshakeConfig::default())
        .receive(&request)
        .ok()??;
    Some(parsed.extensions)
}

/// `offers` written by a client's handshake and read back by a server's.
fn round_trip(offers: Vec<ExtensionOffer>) -> Vec<ExtensionOffer> {
    let config = HandshakeConfig::default().extension(Arc::new(Offers(offers)));
    let mut entropy = |b: &mut [u8]| b.fill(1);
    let (_, request) = ClientHandshake::new(&ClientRequest::new("x", "/"), &config, &mut entropy)
        .expect("offers the grammar read can be written");
    // Formatting may lengthen a value (a space after each `;`): no head limit here.
    ServerHandshake::new(HandshakeConfig::default().max_head_bytes(usize::MAX))
        .receive(&request)
        .expect("a request the crate wrote is valid")
        .expect("whole")
        .extensions
}

fuzz_target!(|input: (DeflateConfig, &[u8])| {
    let (config, value) = input;
    if value.contains(&b'\n') {
        return;
    }
    let Some(offers) = server_reads(value) else {
        return;
    };
    assert_eq!(round_trip(offers.clone()), offers);
    let negotiator = PerMessageDeflate::new(config);
    let refs: Vec<&ExtensionOffer> = offers
        .iter()
        .filter(|o| o.name.eq_ignore_ascii_case("permessage-deflate"))
        .collect();
    if let Some((answer, _)) = negotiator.accept(&refs) {
        // The server's answer is well-formed: written and read back unchanged.
        assert_eq!(round_trip(vec![answer.clone()]), vec![answer]);
    }
    for offer in &offers {
        let _ = negotiator.confirm(offer);
    }
});
