//! Received text as the connection hands it out: bytes validated as UTF-8 once, viewed as a
//! `str` without copying and without validating again.
//!
//! An O(1) `&str` over shared bytes needs one line of `unsafe` (`from_utf8_unchecked`), which
//! this crate forbids; `bytestring` (maintained with actix) holds that line behind a
//! constructor that validates, so the type wraps it rather than exposing it.

use alloc::string::String;
use bytes::Bytes;
use bytestring::ByteString;
use core::borrow::Borrow;
use core::fmt;
use core::ops::Deref;
use core::str::Utf8Error;

/// Validated UTF-8 text that shares its bytes with the buffer it came from.
///
/// Cheap to clone (a reference count), free to read as a [`str`]
/// ([`as_str`](Self::as_str), or through `Deref`).
///
/// [`Event::Text`](crate::Event::Text) carries one: its bytes were validated as they arrived,
/// so reading the text costs nothing more, and echoing it is
/// [`send_text(&text)`](crate::Connection::send_text).
///
/// ```
/// use sansws::Utf8Bytes;
/// let text = Utf8Bytes::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert_eq!(text.len(), 6); // any `str` method, through Deref
/// assert_eq!(text, "héllo");
/// assert!(Utf8Bytes::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Utf8Bytes(ByteString);

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Self {
        Self(ByteString::new())
    }

    /// A string over static text, without copying.
    pub const fn from_static(text: &'static str) -> Self {
        Self(ByteString::from_static(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The bytes, shared, not copied.
    pub fn into_bytes(self) -> Bytes {
        self.0.into_bytes()
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Utf8Bytes {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(text: &'static str) -> Self {
        Self::from_static(text)
    }
}

/// Takes over the string's allocation, without copying.
impl From<String> for Utf8Bytes {
    fn from(text: String) -> Self {
        Self(ByteString::from(text))
    }
}

/// Validates the bytes (once); they are shared, not copied.
impl TryFrom<Bytes> for Utf8Bytes {
    type Error = Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        ByteString::try_from(bytes).map(Self)
    }
}

impl From<Utf8Bytes> for Bytes {
    fn from(text: Utf8Bytes) -> Self {
        text.into_bytes()
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Utf8Bytes {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Utf8Bytes> for &str {
    fn eq(&self, other: &Utf8Bytes) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn views_its_bytes_without_copying() {
        let bytes = Bytes::from("κόσμε".to_string());
        let ptr = bytes.as_ptr();
        let text = Utf8Bytes::try_from(bytes).unwrap();
        assert_eq!(text.as_str().as_ptr(), ptr);
        assert_eq!(text.clone().into_bytes().as_ptr(), ptr);
        let owned = "owned".to_string();
        let ptr = owned.as_ptr();
        assert_eq!(Utf8Bytes::from(owned).as_ptr(), ptr);
    }

    #[test]
    fn refuses_what_is_not_utf8() {
        for bad in [&b"\xff"[..], b"a\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"] {
            assert!(
                Utf8Bytes::try_from(Bytes::copy_from_slice(bad)).is_err(),
                "{bad:x?}"
            );
        }
        assert_eq!(
            Utf8Bytes::try_from(Bytes::from_static("€".as_bytes())).unwrap(),
            "€"
        );
    }

    #[test]
    fn compares_formats_and_hashes_as_its_text() {
        let text = Utf8Bytes::from_static("a\"b");
        assert_eq!(text, "a\"b");
        assert_eq!("a\"b", text);
        assert_eq!(text, "a\"b".to_string());
        assert_eq!(format!("{text}"), "a\"b");
        assert_eq!(format!("{text:?}"), "\"a\\\"b\"");
        assert_eq!(Utf8Bytes::new(), "");
        let mut set = alloc::collections::BTreeSet::new();
        set.insert(text.clone());
        assert!(set.contains("a\"b"));
    }
}
