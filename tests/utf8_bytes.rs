//! `Utf8Bytes`, the text the connection hands out: it behaves as the `str` it holds (equality
//! both ways, hashing, `AsRef`, `Borrow` lookups in maps), shares its bytes instead of copying
//! them, and refuses bytes that are not UTF-8.

use std::collections::{HashMap, HashSet};
use std::error::Error as _;

use sansws::bytes::Bytes;
use sansws::{Utf8Bytes, Utf8Error};

#[test]
fn compares_equal_to_the_text_both_ways() {
    let text = Utf8Bytes::from(String::from("héllo"));
    assert!(text == *"héllo");
    assert!(*"héllo" == text);
    assert!(text == "héllo");
    assert!("héllo" == text);
    let owned = String::from("héllo");
    assert!(text == owned);
    assert!(text != *"hello");
    assert!("hello" != text);
}

#[test]
fn hashes_as_its_str_so_maps_find_it_by_str() {
    let mut set = HashSet::new();
    set.insert(Utf8Bytes::from("key"));
    assert!(set.contains("key"));
    assert!(!set.contains("other"));
    let mut map = HashMap::new();
    map.insert(Utf8Bytes::from(String::from("room-1")), 7);
    assert_eq!(map.get("room-1"), Some(&7));
    assert_eq!(map.get("room-2"), None);
}

#[test]
fn as_ref_gives_the_text_and_the_bytes() {
    fn text_of(t: impl AsRef<str>) -> String {
        t.as_ref().to_owned()
    }
    fn bytes_of(t: impl AsRef<[u8]>) -> Vec<u8> {
        t.as_ref().to_vec()
    }
    let text = Utf8Bytes::from_static("€1");
    assert_eq!(text_of(text.clone()), "€1");
    assert_eq!(bytes_of(text), "€1".as_bytes());
}

#[test]
fn length_and_emptiness_count_bytes() {
    assert!(Utf8Bytes::new().is_empty());
    assert!(Utf8Bytes::default().is_empty());
    let text = Utf8Bytes::from("𝄞");
    assert!(!text.is_empty());
    assert_eq!(text.len(), 4);
}

#[test]
fn bytes_are_shared_not_copied() {
    let raw = Bytes::from(String::from("shared text"));
    let text = Utf8Bytes::try_from(raw.clone()).unwrap();
    assert_eq!(text.as_bytes().as_ptr(), raw.as_ptr());
    let back: Bytes = text.clone().into();
    assert_eq!(back.as_ptr(), raw.as_ptr());
    assert_eq!(text.into_bytes(), raw);
}

#[test]
fn bytes_that_are_not_utf8_are_refused() {
    for bad in [&b"\xff"[..], b"abc\xc3", b"\xed\xa0\x80", b"\xc0\xaf"] {
        let e = Utf8Bytes::try_from(Bytes::copy_from_slice(bad)).unwrap_err();
        assert_eq!(e, Utf8Error);
        assert_eq!(e.to_string(), "invalid UTF-8");
        assert!(e.source().is_none());
    }
}
