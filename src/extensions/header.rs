//! The `Sec-WebSocket-Extensions` header grammar (RFC 6455 §9.1 over RFC 7230 tokens,
//! quoted strings and list rules).
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( OWS ";" OWS extension-param )
//! extension-param = token [ OWS "=" OWS ( token / quoted-string ) ]
//! ```
//!
//! The parser is written for hostile input: it never panics, reports the byte offset of the
//! first problem, and allocates only in proportion to the input it was given.

use alloc::string::String;
use alloc::vec::Vec;

use super::{ExtensionOffer, ExtensionParam};
use crate::http_token::{is_tchar, is_token};

/// A malformed `Sec-WebSocket-Extensions` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderError {
    /// Byte offset of the problem in the header value.
    pub offset: usize,
    /// What was expected there.
    pub reason: &'static str,
    /// Which header line the problem is in, counting from 0, when the field was sent on
    /// several lines (they form one list).
    pub header: usize,
}

impl core::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "malformed Sec-WebSocket-Extensions header #{} at byte {}: {}",
            self.header, self.offset, self.reason
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HeaderError {}

/// A byte cursor over one header value.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    header: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn error(&self, offset: usize, reason: &'static str) -> HeaderError {
        HeaderError {
            offset,
            reason,
            header: self.header,
        }
    }

    /// A token, or an error naming `what` was expected.
    fn token(&mut self, what: &'static str) -> Result<String, HeaderError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        match self.bytes.get(start..self.pos) {
            Some(t) if !t.is_empty() => Ok(t.iter().map(|&b| char::from(b)).collect()),
            _ => Err(self.error(start, what)),
        }
    }

    /// A quoted-string starting at the opening quote, unescaped. RFC 6455 §9.1 requires the
    /// unquoted value to be a token, so anything else is refused here.
    fn quoted_token(&mut self) -> Result<String, HeaderError> {
        let open = self.pos;
        self.pos += 1; // the opening quote, checked by the caller
        let mut value = String::new();
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error(open, "unterminated quoted string"));
            };
            self.pos += 1;
            let c = match b {
                b'"' => break,
                b'\\' => match self.peek() {
                    Some(e) if e == b'\t' || (b' '..=b'~').contains(&e) || e >= 0x80 => {
                        self.pos += 1;
                        e
                    }
                    _ => return Err(self.error(self.pos - 1, "invalid escape in quoted string")),
                },
                b'\t' | b' '..=b'~' | 0x80..=0xff => b,
                _ => return Err(self.error(self.pos - 1, "control character in quoted string")),
            };
            if !is_tchar(c) {
                return Err(self.error(open, "quoted parameter value must be a token"));
            }
            value.push(char::from(c));
        }
        if value.is_empty() {
            return Err(self.error(open, "quoted parameter value must be a token"));
        }
        Ok(value)
    }

    fn param(&mut self) -> Result<ExtensionParam, HeaderError> {
        let name = self.token("expected a parameter name")?;
        let save = self.pos;
        self.skip_ows();
        if !self.eat(b'=') {
            self.pos = save;
            return Ok(ExtensionParam { name, value: None });
        }
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted_token()?
        } else {
            self.token("expected a parameter value")?
        };
        Ok(ExtensionParam {
            name,
            value: Some(value),
        })
    }

    fn extension(&mut self) -> Result<ExtensionOffer, HeaderError> {
        let name = self.token("expected an extension name")?;
        let mut params = Vec::new();
        loop {
            let save = self.pos;
            self.skip_ows();
            if !self.eat(b';') {
                self.pos = save;
                return Ok(ExtensionOffer { name, params });
            }
            self.skip_ows();
            params.push(self.param()?);
        }
    }

    fn list(&mut self, out: &mut Vec<ExtensionOffer>) -> Result<(), HeaderError> {
        loop {
            self.skip_ows();
            match self.peek() {
                None => return Ok(()),
                // An empty list element (RFC 7230 §7): tolerated.
                Some(b',') => {
                    self.pos += 1;
                    continue;
                }
                Some(_) => {}
            }
            out.push(self.extension()?);
            self.skip_ows();
            match self.peek() {
                None => return Ok(()),
                Some(b',') => self.pos += 1,
                Some(_) => return Err(self.error(self.pos, "expected ',' or ';'")),
            }
        }
    }
}

/// Parses one header value into extension offers, in order.
///
/// Empty list elements (`a, , b`) are skipped as RFC 7230 §7 asks; a value with no elements at
/// all yields an empty list. Parameter values lose their quoting.
#[cfg(test)]
pub(crate) fn parse_extensions(value: &str) -> Result<Vec<ExtensionOffer>, HeaderError> {
    let mut out = Vec::new();
    Cursor {
        bytes: value.as_bytes(),
        pos: 0,
        header: 0,
    }
    .list(&mut out)?;
    Ok(out)
}

/// Parses the values of repeated `Sec-WebSocket-Extensions` headers, which together form one
/// list (RFC 7230 §3.2.2). A value that is not UTF-8 is an error.
pub(crate) fn parse_extension_headers<'a>(
    values: impl IntoIterator<Item = &'a [u8]>,
) -> Result<Vec<ExtensionOffer>, HeaderError> {
    let mut out = Vec::new();
    for (header, bytes) in values.into_iter().enumerate() {
        if let Err(e) = core::str::from_utf8(bytes) {
            return Err(HeaderError {
                offset: e.valid_up_to(),
                reason: "value is not UTF-8",
                header,
            });
        }
        Cursor {
            bytes,
            pos: 0,
            header,
        }
        .list(&mut out)?;
    }
    Ok(out)
}

/// Checks that an offer can be written as a header and read back unchanged: the extension name,
/// the parameter names and every parameter value are tokens. RFC 6455 §9.1 allows a quoted
/// value only if it is a token once unquoted, so a value that is not a token has no valid
/// form at all (and [`parse_extensions`] refuses it). Handshake code checks negotiators'
/// offers and answers with this before writing them.
pub(crate) fn check_offer(offer: &ExtensionOffer) -> Result<(), HeaderError> {
    if !is_token(&offer.name) {
        return Err(HeaderError {
            offset: 0,
            reason: "extension name is not a token",
            header: 0,
        });
    }
    for p in &offer.params {
        if !is_token(&p.name) {
            return Err(HeaderError {
                offset: 0,
                reason: "parameter name is not a token",
                header: 0,
            });
        }
        if p.value.as_deref().is_some_and(|v| !is_token(v)) {
            return Err(HeaderError {
                offset: 0,
                reason: "parameter value is not a token",
                header: 0,
            });
        }
    }
    Ok(())
}

/// Formats offers as a header value: `name; param; param=value, name2`.
///
/// Offers are expected to pass [`check_offer`], and then the result parses back to the same
/// offers. Anything else is still written without breaking the header: a value that is not a
/// token is quoted (with `"` and `\` escaped), though no RFC 6455 parser will accept it, and
/// bytes that no header value may carry (control characters) are dropped rather than written.
pub(crate) fn format_extensions(offers: &[ExtensionOffer]) -> String {
    let mut out = String::new();
    for (i, offer) in offers.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_token(&mut out, &offer.name);
        for p in &offer.params {
            out.push_str("; ");
            push_token(&mut out, &p.name);
            if let Some(v) = &p.value {
                out.push('=');
                if is_token(v) {
                    out.push_str(v);
                } else {
                    out.push('"');
                    for c in v.chars().filter(|&c| c == '\t' || (' '..='~').contains(&c)) {
                        if c == '"' || c == '\\' {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                    out.push('"');
                }
            }
        }
    }
    out
}

fn push_token(out: &mut String, s: &str) {
    out.extend(s.chars().filter(|&c| c.is_ascii() && is_tchar(c as u8)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn p(name: &str, value: Option<&str>) -> ExtensionParam {
        ExtensionParam {
            name: name.into(),
            value: value.map(|v| v.to_string()),
        }
    }

    #[test]
    fn single_bare() {
        assert_eq!(
            parse_extensions("foo").unwrap(),
            vec![ExtensionOffer::new("foo")]
        );
    }

    #[test]
    fn params_and_ows() {
        let got = parse_extensions(" foo ;a ; b = 1\t;c=\"x\\yz\" ,\tbar ").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].params,
            vec![p("a", None), p("b", Some("1")), p("c", Some("xyz"))]
        );
        assert_eq!(got[1], ExtensionOffer::new("bar"));
    }

    #[test]
    fn empty_elements() {
        let got = parse_extensions(", a, , b,,").unwrap();
        assert_eq!(
            got,
            vec![ExtensionOffer::new("a"), ExtensionOffer::new("b")]
        );
        assert_eq!(parse_extensions("").unwrap(), vec![]);
        assert_eq!(parse_extensions(" , ").unwrap(), vec![]);
    }

    #[test]
    fn errors_have_offsets() {
        let e = parse_extensions("foo bar").unwrap_err();
        assert_eq!((e.offset, e.reason), (4, "expected ',' or ';'"));
        assert_eq!(parse_extensions("foo;").unwrap_err().offset, 4);
        assert_eq!(parse_extensions("foo; =1").unwrap_err().offset, 5);
        assert_eq!(parse_extensions("foo; a=").unwrap_err().offset, 7);
        assert_eq!(
            parse_extensions("foo; a=\"1").unwrap_err().reason,
            "unterminated quoted string"
        );
        assert_eq!(parse_extensions("foo; a=\"1 2\"").unwrap_err().offset, 7);
        assert_eq!(parse_extensions("foo; a=\"\"").unwrap_err().offset, 7);
        assert_eq!(parse_extensions("foo; a=\"\r\"").unwrap_err().offset, 8);
        assert_eq!(parse_extensions("f\u{e9}").unwrap_err().offset, 1);
    }

    #[test]
    fn format_round_trip() {
        let offers = vec![
            ExtensionOffer::new("permessage-deflate").with_param("client_max_window_bits", None),
            ExtensionOffer::new("x").with_param("a", Some("1".into())),
        ];
        let s = format_extensions(&offers);
        assert_eq!(s, "permessage-deflate; client_max_window_bits, x; a=1");
        assert_eq!(parse_extensions(&s).unwrap(), offers);
    }

    #[test]
    fn format_quotes_and_drops_controls() {
        let o = ExtensionOffer::new("x\r\n").with_param("v", Some("a \"b\"\r\n".into()));
        assert_eq!(
            format_extensions(core::slice::from_ref(&o)),
            "x; v=\"a \\\"b\\\"\""
        );
        assert!(check_offer(&o).is_err());
        // RFC 6455 §9.1: a value must be a token even when quoted, so "a b" cannot be written.
        assert!(
            check_offer(&ExtensionOffer::new("x").with_param("v", Some("a b".into()))).is_err()
        );
        assert!(check_offer(&ExtensionOffer::new("x").with_param("v", Some("15".into()))).is_ok());
    }

    #[test]
    fn repeated_headers() {
        let got = parse_extension_headers([&b"a"[..], b"b; x=1, c"]).unwrap();
        assert_eq!(got.len(), 3);
        let e = parse_extension_headers([&b"a"[..], b"b\xff"]).unwrap_err();
        assert_eq!((e.header, e.offset), (1, 1));
    }
}

/// The grammar against real browser headers and junk.
#[cfg(test)]
mod browser_headers_and_junk {
    use super::*;
    use alloc::vec::Vec;

    fn param(name: &str, value: Option<&str>) -> ExtensionParam {
        ExtensionParam {
            name: name.into(),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn chromium_offer() {
        let got = parse_extensions("permessage-deflate; client_max_window_bits").unwrap();
        assert_eq!(
            got,
            alloc::vec![ExtensionOffer::new("permessage-deflate")
                .with_param("client_max_window_bits", None)]
        );
    }

    #[test]
    fn firefox_offer() {
        let got = parse_extensions("permessage-deflate").unwrap();
        assert_eq!(got, alloc::vec![ExtensionOffer::new("permessage-deflate")]);
    }

    #[test]
    fn multiple_offers_rfc7692_example() {
        let got = parse_extensions(
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, \
             permessage-deflate; client_max_window_bits, x-test",
        )
        .unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(
            got[0].params,
            alloc::vec![
                param("client_max_window_bits", None),
                param("server_max_window_bits", Some("10"))
            ]
        );
        assert_eq!(
            got[1].params,
            alloc::vec![param("client_max_window_bits", None)]
        );
        assert_eq!(got[2].name, "x-test");
    }

    #[test]
    fn quoted_values_are_unquoted() {
        let got = parse_extensions("foo; bar=\"10\"; baz = \"a\\bc\" ").unwrap();
        assert_eq!(
            got[0].params,
            alloc::vec![param("bar", Some("10")), param("baz", Some("abc"))]
        );
    }

    #[test]
    fn repeated_headers_form_one_list() {
        let got = parse_extension_headers([&b"a; x"[..], b"", b" , b"]).unwrap();
        assert_eq!(
            got.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn junk_is_refused_without_panicking() {
        for junk in [
            ";",
            "a;;",
            "a=1",
            "a; b=",
            "a; b=\"",
            "a; b=\"x y\"",
            "a; b=c d",
            "a b",
            "\"a\"",
            "a; \"b\"",
            "a; b=\"\\",
            "a;b=\"\u{7f}\"",
            "a\r\n b",
            "a; b=@",
            "é",
            "a, b; c==1",
        ] {
            let e = parse_extensions(junk).expect_err(junk);
            assert!(e.offset <= junk.len(), "{junk:?}: {e}");
        }
        assert!(parse_extension_headers([&b"\xc3"[..]]).is_err());
    }

    #[test]
    fn every_prefix_and_byte_is_safe() {
        // No input may panic; exhaustively poke every single-byte value at every position.
        let base = "permessage-deflate; client_max_window_bits=\"15\", x; y";
        for i in 0..=base.len() {
            let _ = parse_extensions(base.get(..i).unwrap_or(""));
            for b in 0u8..=0x7f {
                let mut s = alloc::string::String::from(base);
                if s.is_char_boundary(i) {
                    s.insert(i, char::from(b));
                    let _ = parse_extensions(&s);
                }
            }
        }
    }

    #[test]
    fn format_then_parse() {
        let offers = alloc::vec![
            ExtensionOffer::new("permessage-deflate")
                .with_param("client_max_window_bits", None)
                .with_param("server_max_window_bits", Some("10".into())),
            ExtensionOffer::new("x-test").with_param("q", Some("needs quoting".into())),
        ];
        let header = format_extensions(&offers);
        assert_eq!(
            header,
            "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-test; q=\"needs quoting\""
        );
        // A quoted value that is not a token cannot come back (RFC 6455 §9.1), but the first can.
        assert_eq!(
            parse_extensions(header.split(", x").next().unwrap()).unwrap(),
            offers[..1]
        );
        assert!(check_offer(&offers[0]).is_ok());
        // ...and so the crate refuses to write it.
        assert!(check_offer(&offers[1]).is_err());
    }

    #[test]
    fn check_offer_accepts_exactly_what_the_parser_reads_back() {
        // RFC 6455 §9.1: a parameter value, quoted or not, must be a token. Whatever passes
        // check_offer is written and parsed back unchanged; nothing else passes.
        for value in ["10", "abc", "!#$%&'*+-.^_`|~", "A1"] {
            let offer = ExtensionOffer::new("x").with_param("p", Some(value.into()));
            assert!(check_offer(&offer).is_ok(), "{value:?}");
            assert_eq!(
                parse_extensions(&format_extensions(core::slice::from_ref(&offer))).unwrap(),
                [offer]
            );
        }
        for value in [
            "",
            "a b",
            "a\"b",
            "a,b",
            "a;b",
            "a=b",
            "\t",
            "caf\u{e9}",
            "(x)",
            "a/b",
            "x\r\n",
        ] {
            let offer = ExtensionOffer::new("x").with_param("p", Some(value.into()));
            assert!(check_offer(&offer).is_err(), "{value:?}");
        }
        for name in ["", "a b", "a;b", "caf\u{e9}"] {
            assert!(check_offer(&ExtensionOffer::new(name)).is_err(), "{name:?}");
            assert!(
                check_offer(&ExtensionOffer::new("x").with_param(name, None)).is_err(),
                "{name:?}"
            );
        }
    }
}
