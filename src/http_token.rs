//! The HTTP token rule (RFC 9110 §5.6.2), shared by the extension header grammar and the
//! handshake's header checks: both layers read HTTP, and neither owns it.

/// Whether `b` may appear in a token (`tchar`).
pub(crate) fn is_tchar(b: u8) -> bool {
    matches!(b,
        b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`'
        | b'|' | b'~' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z')
}

/// Whether `s` is a non-empty token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_visible_ascii_without_delimiters() {
        assert!(is_token("permessage-deflate"));
        assert!(is_token("!#$%&'*+-.^_`|~09azAZ"));
        for bad in [
            "",
            "a b",
            "a,b",
            "a;b",
            "a=b",
            "\"a\"",
            "(a)",
            "a/b",
            "caf\u{e9}",
            "a\t",
        ] {
            assert!(!is_token(bad), "{bad:?}");
        }
        let tchars = (0u8..=255).filter(|&b| is_tchar(b)).count();
        assert_eq!(tchars, 10 + 26 + 26 + 15);
    }
}
