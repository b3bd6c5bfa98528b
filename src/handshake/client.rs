//! Client side of the HTTP/1.1 opening handshake (RFC 6455 §4.1): write the upgrade request,
//! then read the server's response from whatever chunks arrive and check it.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use bytes::BytesMut;

use super::accept::{accept_value, generate_key};
use super::http::{
    list_contains, list_elements, own_headers, parse_error, trim_ows, HeadReader, HeadWriter,
    HeaderList,
};
use super::negotiate::{request_fields, Expectations};
use super::options::ClientRequest;
use super::outcome::{ClientAccepted, ClientOutcome, RefusedResponse};
use super::{HandshakeConfig, HandshakeError};
use crate::entropy::Entropy;

/// A client handshake in progress: created with the request bytes to send, then fed the
/// server's bytes with [`receive`](Self::receive).
pub struct ClientHandshake {
    expect: Expectations,
    accept: String,
    reader: HeadReader,
    max_headers: usize,
    /// Some byte of the response arrived.
    started: bool,
    done: bool,
}

impl ClientHandshake {
    /// Starts a handshake: checks `request`, draws a fresh key from `entropy`, collects the
    /// negotiators' offers, and returns the state with the request bytes to send.
    pub fn new(
        request: &ClientRequest,
        config: &HandshakeConfig,
        entropy: &mut dyn Entropy,
    ) -> Result<(Self, Vec<u8>), HandshakeError> {
        let (fields, expect) = request_fields(request, config)?;
        let key = generate_key(entropy);
        let mut w = HeadWriter::request("GET", request.path());
        w.field("Host", request.host.as_bytes());
        w.field("Upgrade", b"websocket");
        w.field("Connection", b"Upgrade");
        w.field("Sec-WebSocket-Key", key.as_bytes());
        w.field("Sec-WebSocket-Version", b"13");
        for (name, value) in &fields {
            w.field(name, value.as_bytes());
        }
        let state = Self {
            expect,
            accept: accept_value(key.as_bytes()),
            reader: HeadReader::new(config.max_head_bytes),
            max_headers: config.max_headers,
            started: false,
            done: false,
        };
        Ok((state, w.finish(b"")))
    }

    /// Takes the next bytes from the server. Returns `Ok(None)` while the response head is
    /// incomplete, the outcome once it has ended, or why the answer is invalid. Interim
    /// `1xx` responses other than 101 (e.g. 103 Early Hints) are skipped, any number of them,
    /// in time linear in the input.
    pub fn receive(&mut self, data: &[u8]) -> Result<Option<ClientOutcome>, HandshakeError> {
        if self.done {
            return Err(HandshakeError::Finished);
        }
        self.started |= !data.is_empty();
        let result = self.receive_inner(data);
        if !matches!(result, Ok(None)) {
            self.done = true;
        }
        result
    }

    /// Whether any byte of the response has arrived.
    pub(crate) fn started(&self) -> bool {
        self.started
    }

    /// Reads heads from `data` until the final one. Each interim head is dropped where it
    /// ends and the search goes on in the same slice: no byte is copied more than once, so
    /// any number of interim responses costs time and memory linear in the input.
    fn receive_inner(&mut self, data: &[u8]) -> Result<Option<ClientOutcome>, HandshakeError> {
        let mut input = data;
        loop {
            let Some((head, used)) = self.reader.push(input)? else {
                return Ok(None);
            };
            input = input.get(used..).unwrap_or(&[]);
            match self.parse(&head, input)? {
                Parsed::Interim => {}
                Parsed::Final(outcome) => return Ok(Some(outcome)),
            }
        }
    }

    /// Parses one complete head; `after` is what followed it in the current input.
    fn parse(&self, head: &[u8], after: &[u8]) -> Result<Parsed, HandshakeError> {
        let mut slots = vec![httparse::EMPTY_HEADER; self.max_headers];
        let mut res = httparse::Response::new(&mut slots);
        let len = match res.parse(head) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => {
                return Err(HandshakeError::Malformed("incomplete response head"))
            }
            Err(e) => return Err(parse_error(e, self.max_headers)),
        };
        // The head reader and httparse agree on where a head ends; should they ever not, the
        // bytes httparse left over come before the rest of the input.
        let unparsed = head.get(len..).unwrap_or(&[]);
        let status = res.code.unwrap_or_default();
        if status != 101 && (100..200).contains(&status) {
            if !unparsed.is_empty() {
                return Err(HandshakeError::Malformed("interim response head"));
            }
            return Ok(Parsed::Interim);
        }
        let mut rest = BytesMut::with_capacity(unparsed.len() + after.len());
        rest.extend_from_slice(unparsed);
        rest.extend_from_slice(after);
        let headers = own_headers(res.headers);
        if status != 101 {
            let reason = String::from(res.reason.unwrap_or_default());
            return Ok(Parsed::Final(ClientOutcome::Refused(RefusedResponse {
                status,
                reason,
                headers,
                body_prefix: rest,
            })));
        }
        if res.version != Some(1) {
            return Err(HandshakeError::HttpVersion);
        }
        // RFC 6455 §4.1: Upgrade must be a case-insensitive match for "websocket", not a
        // list containing it.
        let only_websocket = {
            let mut upgrade = list_elements(headers.values("upgrade"));
            upgrade
                .next()
                .is_some_and(|u| u.eq_ignore_ascii_case(b"websocket"))
                && upgrade.next().is_none()
        };
        if !only_websocket || headers.values("upgrade").any(|v| trim_ows(v).is_empty()) {
            return Err(HandshakeError::NotWebSocketUpgrade);
        }
        if !list_contains(headers.values("connection"), "upgrade") {
            return Err(HandshakeError::ConnectionNotUpgrade);
        }
        if headers.single("sec-websocket-accept").map(trim_ows) != Some(self.accept.as_bytes()) {
            return Err(HandshakeError::AcceptMismatch);
        }
        let negotiated = self.expect.check(&headers)?;
        Ok(Parsed::Final(ClientOutcome::Accepted(ClientAccepted {
            negotiated,
            headers,
            leftover: rest,
        })))
    }
}

enum Parsed {
    Interim,
    Final(ClientOutcome),
}

impl core::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("subprotocols", &self.expect.subprotocols)
            .field("offered_extensions", &self.expect.offered_extensions)
            .field("started", &self.started)
            .field("done", &self.done)
            .finish()
    }
}
