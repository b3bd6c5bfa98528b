//! HTTP/1.1 plumbing shared by both sides: collecting a head from arbitrary chunks under a
//! byte limit, header lookups and token lists, and writing heads without header injection.

use alloc::string::String;
use alloc::vec::Vec;

use super::HandshakeError;
use crate::http_token::{is_tchar, is_token};

/// One header as received, name and value untouched (values are bytes: HTTP allows
/// non-UTF-8 octets there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The field name as sent (compare case-insensitively).
    pub name: String,
    /// The field value, without surrounding whitespace.
    pub value: Vec<u8>,
}

/// Header lookups over a received header list.
pub trait HeaderList {
    /// All headers.
    fn all(&self) -> &[Header];

    /// Values of every header named `name` (case-insensitive), in order.
    fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.all()
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// The value of the header named `name` if it appears exactly once.
    fn single(&self, name: &str) -> Option<&[u8]> {
        let mut it = self
            .all()
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name));
        let first = it.next().map(|h| h.value.as_slice())?;
        it.next().is_none().then_some(first)
    }
}

impl HeaderList for [Header] {
    fn all(&self) -> &[Header] {
        self
    }
}

impl HeaderList for Vec<Header> {
    fn all(&self) -> &[Header] {
        self
    }
}

/// Strips optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t'))
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |i| i + 1);
    v.get(start..end).unwrap_or(&[])
}

/// The non-empty elements of a comma-separated list spread over repeated headers
/// (RFC 7230 §7), trimmed.
pub(crate) fn list_elements<'a>(
    values: impl Iterator<Item = &'a [u8]>,
) -> impl Iterator<Item = &'a [u8]> {
    values
        .flat_map(|v| v.split(|&b| b == b','))
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Whether any element of the comma-separated list equals `token` case-insensitively
/// (`Connection: keep-alive, Upgrade`).
pub(crate) fn list_contains<'a>(values: impl Iterator<Item = &'a [u8]>, token: &str) -> bool {
    list_elements(values).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// Parses a list of tokens (`Sec-WebSocket-Protocol: chat, superchat`), in order.
pub(crate) fn token_list<'a>(values: impl Iterator<Item = &'a [u8]>) -> Option<Vec<String>> {
    list_elements(values)
        .map(|e| {
            e.iter()
                .all(|&b| is_tchar(b))
                .then(|| e.iter().map(|&b| char::from(b)).collect())
        })
        .collect()
}

/// How the bytes seen so far end, for finding a head's blank line across chunks: a line end
/// (`\n`) followed by `\n` or `\r\n`, accepting bare LF line ends as httparse does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tail {
    /// Anything else.
    Other,
    /// Just after a `\n`.
    Lf,
    /// Just after `\n\r`.
    LfCr,
}

/// Collects one HTTP head from arbitrary chunks. Copies only the head's own bytes and never
/// holds more than `limit` of them: what follows the head stays in the caller's slice, and a
/// head that has not ended within the limit is refused as soon as that is certain. Each input
/// byte is looked at once, so any number of heads in a row (interim responses) costs time
/// linear in the input.
#[derive(Debug)]
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    limit: usize,
    tail: Tail,
}

impl HeadReader {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            buf: Vec::new(),
            limit,
            tail: Tail::Other,
        }
    }

    /// Takes `data`; returns the complete head (with its blank line) and how many bytes of
    /// `data` it used (the rest of `data` follows the head), or `None` if more bytes are
    /// needed. After a head is returned the reader starts over, ready for the next one.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<Option<(Vec<u8>, usize)>, HandshakeError> {
        let room = self.limit.saturating_sub(self.buf.len());
        let window = data.get(..data.len().min(room)).unwrap_or(&[]);
        let mut tail = self.tail;
        let mut end = None;
        for (i, &b) in window.iter().enumerate() {
            tail = match (tail, b) {
                (Tail::Lf, b'\n') | (Tail::LfCr, b'\n') => {
                    end = Some(i + 1);
                    break;
                }
                (Tail::Lf, b'\r') => Tail::LfCr,
                (_, b'\n') => Tail::Lf,
                _ => Tail::Other,
            };
        }
        match end {
            Some(used) => {
                self.buf
                    .extend_from_slice(window.get(..used).unwrap_or(&[]));
                self.tail = Tail::Other;
                Ok(Some((core::mem::take(&mut self.buf), used)))
            }
            None => {
                self.buf.extend_from_slice(window);
                self.tail = tail;
                if self.buf.len() >= self.limit {
                    Err(HandshakeError::HeadTooLarge { limit: self.limit })
                } else {
                    Ok(None)
                }
            }
        }
    }
}

/// Maps an httparse error to ours.
pub(crate) fn parse_error(e: httparse::Error, max_headers: usize) -> HandshakeError {
    match e {
        httparse::Error::TooManyHeaders => HandshakeError::TooManyHeaders { limit: max_headers },
        httparse::Error::Version => HandshakeError::Malformed("invalid HTTP version"),
        httparse::Error::Status => HandshakeError::Malformed("invalid status line"),
        httparse::Error::Token | httparse::Error::NewLine => {
            HandshakeError::Malformed("invalid request line")
        }
        _ => HandshakeError::Malformed("invalid header"),
    }
}

/// Copies httparse headers into owned ones.
pub(crate) fn own_headers(headers: &[httparse::Header<'_>]) -> Vec<Header> {
    headers
        .iter()
        .map(|h| Header {
            name: h.name.into(),
            value: h.value.into(),
        })
        .collect()
}

/// Whether a header value can be written as field content (RFC 9110 §5.5): visible ASCII,
/// space, HTAB and obs-text (0x80-0xFF); no other control byte (CR, LF, NUL, ESC, DEL, ...).
pub(crate) fn is_safe_value(v: &[u8]) -> bool {
    v.iter()
        .all(|&b| b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80)
}

/// Writes HTTP/1.1 heads field by field, checking caller-supplied fields.
pub(crate) struct HeadWriter {
    pub(crate) out: Vec<u8>,
}

impl HeadWriter {
    /// Starts a response head.
    pub(crate) fn response(status: u16) -> Self {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"HTTP/1.1 ");
        push_decimal(&mut out, u64::from(status));
        out.push(b' ');
        out.extend_from_slice(reason_phrase(status).as_bytes());
        out.extend_from_slice(b"\r\n");
        Self { out }
    }

    /// Starts a request head.
    pub(crate) fn request(method: &str, target: &str) -> Self {
        let mut out = Vec::with_capacity(256);
        for part in [method, " ", target, " HTTP/1.1\r\n"] {
            out.extend_from_slice(part.as_bytes());
        }
        Self { out }
    }

    /// A field the crate itself composes (trusted to be well-formed).
    pub(crate) fn field(&mut self, name: &str, value: &[u8]) {
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b": ");
        self.out.extend_from_slice(value);
        self.out.extend_from_slice(b"\r\n");
    }

    /// A field from the application or a peer-influenced value: checked before writing.
    pub(crate) fn checked_field(&mut self, name: &str, value: &[u8]) -> Result<(), HandshakeError> {
        if !is_token(name) || !is_safe_value(value) {
            return Err(HandshakeError::InvalidHeader(name.into()));
        }
        self.field(name, trim_ows(value));
        Ok(())
    }

    /// Ends the head (and appends `body`).
    pub(crate) fn finish(mut self, body: &[u8]) -> Vec<u8> {
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(body);
        self.out
    }
}

pub(crate) fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(i..).unwrap_or(&[]));
}

/// The reason phrase for statuses a handshake is likely to send.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_reader_splits_leftover() {
        let mut r = HeadReader::new(64);
        assert!(r.push(b"GET / HTTP/1.1\r\n\r").unwrap().is_none());
        let (head, used) = r.push(b"\nabc").unwrap().unwrap();
        assert_eq!(head, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(used, 1);
        // The reader starts over: the next head is read from scratch.
        let (head, used) = r.push(b"A\n\nB\n").unwrap().unwrap();
        assert_eq!((&head[..], used), (&b"A\n\n"[..], 3));
        assert!(r.push(b"B\n").unwrap().is_none());
        assert_eq!(r.push(b"\r\n").unwrap().unwrap(), (b"B\n\r\n".to_vec(), 2));
    }

    #[test]
    fn head_reader_finds_every_end_at_every_split() {
        for head in [
            &b"G\r\n\r\n"[..],
            b"G\n\n",
            b"G\n\r\n",
            b"G\r\nH: v\r\n\r\n",
        ] {
            let mut input = head.to_vec();
            input.extend_from_slice(b"\r\n\r\nrest");
            for cut in 0..=input.len() {
                let mut r = HeadReader::new(64);
                let (a, b) = input.split_at(cut);
                let got = match r.push(a).unwrap() {
                    Some((h, used)) => (h, used),
                    None => {
                        let (h, used) = r.push(b).unwrap().unwrap();
                        (h, cut + used)
                    }
                };
                assert_eq!(got, (head.to_vec(), head.len()), "cut {cut}");
            }
        }
    }

    #[test]
    fn head_reader_limit() {
        let mut r = HeadReader::new(8);
        assert!(r.push(b"GET / HT").is_err());
        let mut r = HeadReader::new(8);
        let (head, used) = r.push(b"G\r\n\r\nxxxxxxxxxxxx").unwrap().unwrap();
        assert_eq!((head.len(), used), (5, 5));
        // Never more than the limit is held, however large the chunk.
        let mut r = HeadReader::new(8);
        assert!(r.push(b"G\r\n").unwrap().is_none());
        assert!(r.push(&[b'x'; 1000]).is_err());
        assert!(r.buf.len() <= 8);
    }

    #[test]
    fn safe_values() {
        assert!(is_safe_value(b"a b\tc~\x80\xff"));
        assert!(is_safe_value(b""));
        for b in (0u8..0x20).filter(|&b| b != b'\t').chain([0x7f]) {
            assert!(!is_safe_value(&[b'a', b]), "{b:#x}");
        }
    }

    #[test]
    fn lists() {
        let v = [&b"keep-alive, Upgrade"[..], b" ,x"];
        assert!(list_contains(v.iter().copied(), "upgrade"));
        assert!(!list_contains(v.iter().copied(), "websocket"));
        assert_eq!(
            token_list(v.iter().copied()).unwrap(),
            ["keep-alive", "Upgrade", "x"]
        );
        assert!(token_list([&b"a b"[..]].into_iter()).is_none());
        assert_eq!(trim_ows(b" \t "), b"");
    }

    #[test]
    fn decimal() {
        let mut v = Vec::new();
        push_decimal(&mut v, 0);
        push_decimal(&mut v, 4096);
        assert_eq!(v, b"04096");
    }
}
