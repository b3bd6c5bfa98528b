//! Received text as the connection hands it out: bytes validated as UTF-8 as they arrived,
//! viewed as a `str` without copying.
//!
//! A `&str` over shared bytes needs `from_utf8_unchecked` (`unsafe`, which this crate forbids)
//! or a validating conversion. The bytes are validated once on receipt by simdutf8, and every
//! `&str` view is made by simdutf8's validating conversion again: a SIMD pass over the text
//! per view, instead of core's slower validator on every received message (measured in
//! docs/performance.md). Length and bytes need no view.

use alloc::string::String;
use bytes::Bytes;
use core::borrow::Borrow;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;

/// Validated UTF-8 text that shares its bytes with the buffer it came from.
///
/// Cheap to clone (a reference count). Reading it as a [`str`] ([`as_str`](Self::as_str), or
/// through `Deref`) costs one SIMD validation pass over the text (the crate forbids the
/// `unsafe` that would skip it): take the `&str` once and keep it rather than calling `str`
/// methods on the `Utf8Bytes` repeatedly. [`len`](Self::len) and
/// [`as_bytes`](Self::as_bytes) cost nothing.
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
/// Invariant: the bytes are valid UTF-8 (every constructor validates or takes a `str`).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Utf8Bytes(Bytes);

/// Not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utf8Error;

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid UTF-8")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Utf8Error {}

impl Utf8Bytes {
    /// An empty string.
    pub const fn new() -> Self {
        Self(Bytes::new())
    }

    /// A string over static text, without copying.
    pub const fn from_static(text: &'static str) -> Self {
        Self(Bytes::from_static(text.as_bytes()))
    }

    /// Bytes the crate validated as UTF-8 already.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(simdutf8::basic::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// The text: one SIMD validation pass over it (see the type's documentation).
    pub fn as_str(&self) -> &str {
        // Cannot fail: the bytes are valid UTF-8 (the type's invariant).
        simdutf8::basic::from_utf8(&self.0).unwrap_or_default()
    }

    /// The length in bytes, without validating.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty, without validating.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes, without validating.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The bytes, shared, not copied.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Utf8Bytes {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Utf8Bytes {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Utf8Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Borrow<str> for Utf8Bytes {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// Hashes as the `str` it holds (as `Borrow<str>` requires).
impl Hash for Utf8Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
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
        Self(Bytes::from(text))
    }
}

/// Validates the bytes (once); they are shared, not copied.
impl TryFrom<Bytes> for Utf8Bytes {
    type Error = Utf8Error;

    fn try_from(bytes: Bytes) -> Result<Self, Utf8Error> {
        match simdutf8::basic::from_utf8(&bytes) {
            Ok(_) => Ok(Self(bytes)),
            Err(_) => Err(Utf8Error),
        }
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
        assert_eq!(text.len(), "κόσμε".len());
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
