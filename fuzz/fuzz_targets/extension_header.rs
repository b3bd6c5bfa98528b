//! Arbitrary Sec-WebSocket-Extensions values: the parser, format→parse round trips, and
//! permessage-deflate negotiation on both sides.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sansws::extensions::deflate::{DeflateConfig, PerMessageDeflate};
use sansws::extensions::{
    format_extensions, parse_extensions, ExtensionNegotiator, ExtensionOffer,
};

fuzz_target!(|input: (DeflateConfig, &str)| {
    let (config, value) = input;
    let Ok(offers) = parse_extensions(value) else {
        return;
    };
    let again = parse_extensions(&format_extensions(&offers)).expect("formatted headers parse");
    assert_eq!(again, offers);
    let negotiator = PerMessageDeflate::new(config);
    let refs: Vec<&ExtensionOffer> = offers
        .iter()
        .filter(|o| o.name.eq_ignore_ascii_case("permessage-deflate"))
        .collect();
    if let Some((answer, _)) = negotiator.accept(&refs) {
        // The server's answer must be acceptable to a client that made those offers... and
        // at least well-formed.
        let text = format_extensions(&[answer]);
        assert!(parse_extensions(&text).is_ok());
    }
    for offer in &offers {
        let _ = negotiator.confirm(offer);
    }
});
