//! `Sec-WebSocket-Extensions` grammar against real browser headers and junk.

use sansws::extensions::header::{check_offer, parse_extension_headers};
use sansws::extensions::{format_extensions, parse_extensions, ExtensionOffer, ExtensionParam};

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
        vec![ExtensionOffer::new("permessage-deflate").with_param("client_max_window_bits", None)]
    );
}

#[test]
fn firefox_offer() {
    let got = parse_extensions("permessage-deflate").unwrap();
    assert_eq!(got, vec![ExtensionOffer::new("permessage-deflate")]);
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
        vec![
            param("client_max_window_bits", None),
            param("server_max_window_bits", Some("10"))
        ]
    );
    assert_eq!(got[1].params, vec![param("client_max_window_bits", None)]);
    assert_eq!(got[2].name, "x-test");
}

#[test]
fn quoted_values_are_unquoted() {
    let got = parse_extensions("foo; bar=\"10\"; baz = \"a\\bc\" ").unwrap();
    assert_eq!(
        got[0].params,
        vec![param("bar", Some("10")), param("baz", Some("abc"))]
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
            let mut s = String::from(base);
            if s.is_char_boundary(i) {
                s.insert(i, char::from(b));
                let _ = parse_extensions(&s);
            }
        }
    }
}

#[test]
fn format_then_parse() {
    let offers = vec![
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
            parse_extensions(&format_extensions(std::slice::from_ref(&offer))).unwrap(),
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
