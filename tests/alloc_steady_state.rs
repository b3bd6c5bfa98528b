//! Allocations in steady state, counted by a global allocator: receiving small messages
//! allocates at most once per message (zero when the payload is a view of the input buffer),
//! and sending allocates nothing per message once the output buffer has grown.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use common::client_seeded;
use sansws::{Config, Connection, Event, MessageKind};

struct Counting;

thread_local! {
    // Per thread, so tests running in parallel do not count each other's allocations. A
    // const-initialised Cell needs no allocation and no destructor, so the allocator may use it.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn counted() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        counted();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        counted();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MESSAGES: usize = 10_000;

fn count<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (ALLOCATIONS.with(Cell::get) - before, r)
}

/// Receives `wire` in 4 KiB reads, dropping each event; returns the messages seen.
fn receive_all(server: &mut Connection, wire: &[u8]) -> usize {
    let mut n = 0;
    for chunk in wire.chunks(4096) {
        server.receive(chunk);
        while let Some(ev) = server.next_event() {
            match ev.unwrap() {
                Event::Text(_) | Event::Binary(_) => n += 1,
                other => panic!("{other:?}"),
            }
        }
    }
    n
}

#[test]
fn receiving_small_messages_allocates_at_most_once_per_message() {
    for (kind, size) in [(MessageKind::Text, 16usize), (MessageKind::Binary, 1024)] {
        let payload = vec![b'a'; size];
        let mut client = client_seeded(Config::default(), 5);
        for _ in 0..2 * MESSAGES {
            client.send(kind, &payload).unwrap();
        }
        let wire = client.take_output();
        let half = wire.len() / 2;
        let mut server = Connection::server(Config::default());
        // Warm up on the first half, count the second.
        receive_all(&mut server, &wire[..half]);
        let (allocs, n) = count(|| receive_all(&mut server, &wire[half..]));
        println!("receive {size} B {kind:?}: {allocs} allocations for {n} messages");
        assert!(n >= MESSAGES - 1);
        assert!(
            allocs <= n,
            "{allocs} allocations for {n} messages of {size} bytes"
        );
    }
}

#[test]
fn sending_allocates_nothing_per_message_once_the_buffer_has_grown() {
    for role_client in [false, true] {
        let mut conn = if role_client {
            client_seeded(Config::default(), 9)
        } else {
            Connection::server(Config::default())
        };
        let payload = [7u8; 100];
        let mut batch = || {
            for _ in 0..100 {
                conn.send_binary(&payload).unwrap();
            }
            let n = conn.output_len();
            conn.advance_output(n);
        };
        batch();
        let (allocs, _) = count(|| {
            for _ in 0..MESSAGES / 100 {
                batch();
            }
        });
        println!("send (client: {role_client}): {allocs} allocations for {MESSAGES} messages");
        assert_eq!(allocs, 0, "client: {role_client}");
    }
}
