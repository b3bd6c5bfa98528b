//! Handshake helpers: a toy extension and negotiator, feeding a handshake in every chunking
//! and checking that each gives the same outcome, deterministic keys, head inspection.

use std::sync::Arc;

use bytes::BytesMut;
use sansws::extensions::{
    Decoded, Extension, ExtensionError, ExtensionNegotiator, ExtensionOffer, NegotiationError,
};
use sansws::handshake::{
    ClientHandshake, ClientOutcome, HandshakeConfig, HandshakeError, RequestRejection,
    ServerHandshake, UpgradeRequest,
};
use sansws::MessageKind;

/// A toy extension: a name, reserved bits, and the parameters it was accepted with.
#[derive(Debug)]
pub struct TestExt {
    pub name: String,
    pub rsv: u8,
}

impl Extension for TestExt {
    fn name(&self) -> &str {
        &self.name
    }
    fn rsv_bits(&self) -> u8 {
        self.rsv
    }
    fn encode_start(&mut self, _: MessageKind, _: Option<usize>) -> u8 {
        0
    }
    fn encode(
        &mut self,
        payload: &[u8],
        _: bool,
        out: &mut BytesMut,
    ) -> Result<(), ExtensionError> {
        out.extend_from_slice(payload);
        Ok(())
    }
    fn decode_start(&mut self, _: u8) -> Result<bool, ExtensionError> {
        Ok(false)
    }
    fn decode(
        &mut self,
        input: &[u8],
        _: bool,
        out: &mut BytesMut,
        _: usize,
    ) -> Result<Decoded, ExtensionError> {
        out.extend_from_slice(input);
        Ok(Decoded {
            consumed: input.len(),
            done: true,
        })
    }
}

/// A toy negotiator. Offers `x-test; level=1` then bare `x-test`; on a server accepts the
/// first offer whose parameters are all `level`, echoing it; on a client confirms any answer
/// whose parameters are all `level`. Records what `accept` was given.
pub struct TestNegotiator {
    pub name: &'static str,
    pub rsv: u8,
    pub seen: std::sync::Mutex<Vec<Vec<ExtensionOffer>>>,
}

impl TestNegotiator {
    pub fn new(name: &'static str, rsv: u8) -> Arc<Self> {
        Arc::new(Self {
            name,
            rsv,
            seen: Default::default(),
        })
    }
}

fn only_level(o: &ExtensionOffer) -> bool {
    o.params.iter().all(|p| p.name == "level")
}

impl ExtensionNegotiator for TestNegotiator {
    fn name(&self) -> &str {
        self.name
    }
    fn offers(&self) -> Vec<ExtensionOffer> {
        vec![
            ExtensionOffer::new(self.name).with_param("level", Some("1".into())),
            ExtensionOffer::new(self.name),
        ]
    }
    fn accept(&self, offers: &[&ExtensionOffer]) -> Option<(ExtensionOffer, Box<dyn Extension>)> {
        self.seen
            .lock()
            .unwrap()
            .push(offers.iter().map(|o| (*o).clone()).collect());
        let chosen = offers.iter().find(|o| only_level(o))?;
        Some((
            (*chosen).clone(),
            Box::new(TestExt {
                name: self.name.into(),
                rsv: self.rsv,
            }),
        ))
    }
    fn confirm(&self, answer: &ExtensionOffer) -> Result<Box<dyn Extension>, NegotiationError> {
        if only_level(answer) {
            Ok(Box::new(TestExt {
                name: self.name.into(),
                rsv: self.rsv,
            }))
        } else {
            Err(NegotiationError {
                reason: "unknown parameter".into(),
            })
        }
    }
}

pub fn config_with(negotiators: &[Arc<TestNegotiator>]) -> HandshakeConfig {
    negotiators.iter().fold(HandshakeConfig::default(), |c, n| {
        c.extension(n.clone() as Arc<dyn ExtensionNegotiator>)
    })
}

/// Every way to cut `input` into chunks that the tests try: one piece, every split into two
/// pieces, and fixed chunk sizes 1..=n (n capped to keep runs short).
pub fn chunkings(input: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = vec![vec![input]];
    for i in 0..=input.len() {
        out.push(vec![&input[..i], &input[i..]]);
    }
    for size in 1..=input.len().clamp(1, 64) {
        out.push(input.chunks(size).collect());
    }
    out
}

/// The server's outcome for `input` in one piece, after checking that every chunking gives
/// the same request (or rejection) and the same bytes after the request's end.
pub fn server_all_ways(
    config: &HandshakeConfig,
    input: &[u8],
) -> Result<(UpgradeRequest, Vec<u8>), RequestRejection> {
    let summary = |r: &Result<(UpgradeRequest, Vec<u8>), RequestRejection>| match r {
        Ok((q, rest)) => format!(
            "{:?} {:?} {:?} {:?} {:?} {:?} {:?} {} {:?}",
            q.method,
            q.target,
            q.host,
            q.origin,
            q.subprotocols,
            q.extensions,
            q.headers,
            q.key(),
            rest
        ),
        Err(e) => format!("{e:?}"),
    };
    let whole = server_feed(config, &[input]);
    let expected = summary(&whole);
    for chunks in chunkings(input) {
        let got = server_feed(config, &chunks);
        assert_eq!(
            summary(&got),
            expected,
            "chunks: {:?}",
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
        );
    }
    whole
}

/// The client's outcome for `input` in one piece (with all bytes after the head), after
/// checking that every chunking gives the same outcome. `make` builds a fresh handshake.
pub fn client_all_ways(
    make: impl Fn() -> ClientHandshake,
    input: &[u8],
) -> Result<(ClientOutcome, Vec<u8>), HandshakeError> {
    let summary = |r: &Result<(ClientOutcome, Vec<u8>), HandshakeError>| match r {
        Ok((ClientOutcome::Accepted(a), rest)) => {
            format!("accepted {:?} {:?} {:?}", a.negotiated, a.headers, rest)
        }
        Ok((ClientOutcome::Refused(j), rest)) => {
            format!(
                "refused {} {:?} {:?} {:?}",
                j.status, j.reason, j.headers, rest
            )
        }
        Err(e) => format!("{e:?}"),
    };
    let whole = client_feed(&mut make(), &[input]);
    let expected = summary(&whole);
    for chunks in chunkings(input) {
        let got = client_feed(&mut make(), &chunks);
        assert_eq!(
            summary(&got),
            expected,
            "chunks: {:?}",
            chunks.iter().map(|c| c.len()).collect::<Vec<_>>()
        );
    }
    whole
}

/// Feeds `input` in `chunks`; returns the request with all bytes after its end (those it
/// saw plus later chunks), or the rejection.
pub fn server_feed(
    config: &HandshakeConfig,
    chunks: &[&[u8]],
) -> Result<(UpgradeRequest, Vec<u8>), RequestRejection> {
    let mut hs = ServerHandshake::new(config.clone());
    for (i, c) in chunks.iter().enumerate() {
        if let Some(r) = hs.receive(c)? {
            let mut rest = r.leftover().to_vec();
            for later in &chunks[i + 1..] {
                rest.extend_from_slice(later);
            }
            return Ok((r, rest));
        }
    }
    panic!("request never completed");
}

/// Feeds a client handshake `input` in `chunks`; returns the outcome with all bytes after
/// the response head (leftover or body prefix, plus later chunks).
pub fn client_feed(
    hs: &mut ClientHandshake,
    chunks: &[&[u8]],
) -> Result<(ClientOutcome, Vec<u8>), HandshakeError> {
    for (i, c) in chunks.iter().enumerate() {
        if let Some(outcome) = hs.receive(c)? {
            let mut rest = match &outcome {
                ClientOutcome::Accepted(a) => a.leftover.to_vec(),
                ClientOutcome::Refused(r) => r.body_prefix.to_vec(),
            };
            for later in &chunks[i + 1..] {
                rest.extend_from_slice(later);
            }
            return Ok((outcome, rest));
        }
    }
    panic!("response never completed");
}

/// Deterministic "entropy": 0, 1, 2, ... so the key is `AAECAwQFBgcICQoLDA0ODw==`.
pub fn counting_entropy() -> impl FnMut(&mut [u8]) + Send {
    let mut n = 0u8;
    move |buf: &mut [u8]| {
        for b in buf {
            *b = n;
            n = n.wrapping_add(1);
        }
    }
}

/// The accept value for the key `counting_entropy` produces (computed independently).
pub const COUNTING_ACCEPT: &str = "Bz3qJYTGdOe8gUSpLosEdiLKDrk=";

/// Whether the HTTP head in `bytes` has a line `name: value` (exact).
pub fn has_line(bytes: &[u8], line: &str) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.split("\r\n").any(|l| l == line)
}

pub fn status_of(bytes: &[u8]) -> u16 {
    String::from_utf8_lossy(bytes)
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The offers in a `Sec-WebSocket-Extensions` value, read by the tests' own minimal reader
/// (tokens and `name=value` only, no quoted strings): independent of the crate's grammar.
pub fn offers_in(header: &str) -> Vec<ExtensionOffer> {
    header
        .split(',')
        .map(str::trim)
        .filter(|element| !element.is_empty())
        .map(|element| {
            let mut parts = element.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            parts.fold(ExtensionOffer::new(name), |offer, param| {
                match param.split_once('=') {
                    Some((n, v)) => offer.with_param(n.trim(), Some(v.trim().to_string())),
                    None => offer.with_param(param, None),
                }
            })
        })
        .collect()
}

/// Offers written as a header value (`name; param; param=value, name2`), by the tests.
pub fn header_of(offers: &[ExtensionOffer]) -> String {
    let elements: Vec<String> = offers
        .iter()
        .map(|offer| {
            let mut element = offer.name.clone();
            for p in &offer.params {
                element.push_str("; ");
                element.push_str(&p.name);
                if let Some(v) = &p.value {
                    element.push('=');
                    element.push_str(v);
                }
            }
            element
        })
        .collect();
    elements.join(", ")
}
