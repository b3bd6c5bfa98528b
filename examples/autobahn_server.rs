//! Echo server for the Autobahn|Testsuite: one thread per connection on std::net.
//!
//!     cargo run --release --example autobahn_server -- 127.0.0.1:9001

#[path = "common/blocking.rs"]
mod blocking;
#[path = "common/mini_handshake.rs"]
mod mini_handshake;

use std::net::TcpListener;

use sansws::{Config, Connection};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("autobahn_server listening on {addr}");
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let Ok(rest) = mini_handshake::server(&mut stream) else {
                return;
            };
            let mut conn = Connection::server(Config::default());
            conn.receive(&rest);
            blocking::drive(stream, &mut conn, blocking::echo);
        });
    }
    Ok(())
}
