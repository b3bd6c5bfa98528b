//! Stream mode hands a message out as chunks as its frames arrive. Empty fragments, which a
//! peer may send anywhere in a message (RFC 6455 §5.4), produce no empty chunk, and the
//! message still ends exactly once.

mod common;

use common::{feed_chunked, frame};
use sansws::{Config, Connection, Event, ReceiveMode};

#[test]
fn empty_fragments_produce_no_empty_chunks() {
    let mut wire = frame(0x01, b"", true);
    wire.extend(frame(0x00, b"ab", true));
    wire.extend(frame(0x00, b"", true));
    wire.extend(frame(0x80, b"c", true));
    // Then a message made only of empty fragments.
    wire.extend(frame(0x02, b"", true));
    wire.extend(frame(0x80, b"", true));
    for chunk in [wire.len(), 1, 3] {
        let mut server = Connection::server(Config::default().receive_mode(ReceiveMode::Stream));
        let events: Vec<Event> = feed_chunked(&mut server, &wire, &[chunk])
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let chunks: Vec<&[u8]> = events
            .iter()
            .filter_map(|e| match e {
                Event::MessageChunk(c) => Some(&c[..]),
                _ => None,
            })
            .collect();
        assert!(chunks.iter().all(|c| !c.is_empty()), "{events:?}");
        assert_eq!(chunks.concat(), b"abc", "chunk size {chunk}");
        let ends = events.iter().filter(|e| **e == Event::MessageEnd).count();
        assert_eq!(ends, 2, "{events:?}");
    }
}
