//! The request target of an HTTP/1.1 upgrade request (RFC 9112 §3.2): origin-form or
//! absolute-form, and the authority an absolute-form target names.

use alloc::string::String;

use super::HandshakeError;

/// Splits a request target (RFC 9112 §3.2) into the authority, for absolute-form, and the path
/// and query. Origin-form (`/chat?x=1`) is kept as sent; absolute-form with a `ws`, `wss`,
/// `http` or `https` URI gives its authority (without userinfo, which is refused) and its path
/// and query (`/` for an empty path). Anything else (`*`, authority-form, a relative
/// reference) is refused.
pub(crate) fn split_target(target: &str) -> Result<(Option<&str>, String), HandshakeError> {
    if target.starts_with('/') {
        return Ok((None, target.into()));
    }
    let (scheme, rest) = target
        .split_once("://")
        .ok_or(HandshakeError::InvalidTarget)?;
    if !["ws", "wss", "http", "https"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(scheme))
    {
        return Err(HandshakeError::InvalidTarget);
    }
    let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
    if !is_valid_authority(authority) || path.starts_with('#') {
        return Err(HandshakeError::InvalidTarget);
    }
    let path = if path.starts_with('/') {
        String::from(path)
    } else {
        let mut p = String::from("/");
        p.push_str(path);
        p
    };
    Ok((Some(authority), path))
}

/// A URI authority a WebSocket request may name: a non-empty host (a bracketed IP literal or
/// a name) and an optional numeric port; no userinfo (`user@`, RFC 9110 §4.2.4).
fn is_valid_authority(authority: &str) -> bool {
    if authority.contains('@') {
        return false;
    }
    let (host, port) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => authority.split_at(i + 1),
            None => return false,
        }
    } else {
        authority.split_at(authority.find(':').unwrap_or(authority.len()))
    };
    let host_ok = if host.starts_with('[') {
        host.len() > 2
    } else {
        !host.is_empty() && !host.contains(['[', ']'])
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}
