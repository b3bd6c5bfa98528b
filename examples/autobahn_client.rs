//! The client side of the Autobahn|Testsuite: asks the fuzzing server for its case count,
//! runs every case echoing each message, then asks it to write the reports.
//!
//!     AUTOBAHN_URL=ws://127.0.0.1:9001 AUTOBAHN_AGENT=sansws cargo run --release --example autobahn_client

#[path = "common/blocking.rs"]
mod blocking;
#[path = "common/mini_handshake.rs"]
mod mini_handshake;

use std::net::TcpStream;

use sansws::{Config, Connection, Event};

fn connect(host: &str, path: &str) -> std::io::Result<(TcpStream, Connection)> {
    let mut stream = TcpStream::connect(host)?;
    stream.set_nodelay(true)?;
    let rest = mini_handshake::client(&mut stream, host, path)?;
    let mut conn = Connection::client_with_os_entropy(Config::default());
    conn.receive(&rest);
    Ok((stream, conn))
}

fn main() -> std::io::Result<()> {
    let url = std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "sansws".into());
    let host = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();

    let (stream, mut conn) = connect(&host, "/getCaseCount")?;
    let mut count = 0usize;
    blocking::drive(stream, &mut conn, |_, ev| {
        if let Event::Text(t) = ev {
            count = std::str::from_utf8(&t)
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
        }
    });
    eprintln!("autobahn_client: {count} cases");
    for case in 1..=count {
        let (stream, mut conn) = connect(&host, &format!("/runCase?case={case}&agent={agent}"))?;
        blocking::drive(stream, &mut conn, blocking::echo);
    }
    let (stream, mut conn) = connect(&host, &format!("/updateReports?agent={agent}"))?;
    blocking::drive(stream, &mut conn, |_, _| {});
    Ok(())
}
