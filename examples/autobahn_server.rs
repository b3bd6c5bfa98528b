//! Echo server for the Autobahn|Testsuite: one thread per connection on std::net, the whole
//! connection (handshake included) in one `sansws::Connection`.
//!
//!     cargo run --release --example autobahn_server -- 127.0.0.1:9001

#[path = "common/blocking.rs"]
mod blocking;
#[path = "common/settings.rs"]
mod settings;

use std::net::TcpListener;

use sansws::Connection;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("autobahn_server listening on {addr}");
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            let mut conn = Connection::server_upgrade(settings::config(), settings::handshake());
            blocking::drive(stream, &mut conn, blocking::echo);
        });
    }
    Ok(())
}
