//! The client side of the Autobahn|Testsuite: asks the fuzzing server for its case count,
//! runs every case echoing each message, then asks it to write the reports.
//!
//!     AUTOBAHN_URL=ws://127.0.0.1:9001 AUTOBAHN_AGENT=sansws cargo run --release --example autobahn_client

#[path = "common/blocking.rs"]
mod blocking;
#[path = "common/settings.rs"]
mod settings;

use std::net::TcpStream;

use sansws::entropy::OsEntropy;
use sansws::handshake::ClientRequest;
use sansws::{Connection, Event};

fn run(
    host: &str,
    path: &str,
    on_event: impl FnMut(&mut Connection, Event),
) -> std::io::Result<()> {
    let stream = TcpStream::connect(host)?;
    stream.set_nodelay(true)?;
    let request = ClientRequest::new(host, path);
    let mut conn = Connection::client_upgrade(
        settings::config(),
        &settings::handshake(),
        &request,
        Box::new(OsEntropy::new()),
    )
    .map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(e) = blocking::drive(stream, &mut conn, on_event) {
        eprintln!("{path}: {e}");
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let url = std::env::var("AUTOBAHN_URL").unwrap_or_else(|_| "ws://127.0.0.1:9001".into());
    let agent = std::env::var("AUTOBAHN_AGENT").unwrap_or_else(|_| "sansws".into());
    let host = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_string();

    let mut count = 0usize;
    run(&host, "/getCaseCount", |_, ev| {
        if let Event::Text(text) = ev {
            count = text.trim().parse().unwrap_or(0);
        }
    })?;
    eprintln!("autobahn_client: {count} cases");
    for case in 1..=count {
        run(
            &host,
            &format!("/runCase?case={case}&agent={agent}"),
            blocking::echo,
        )?;
    }
    run(&host, &format!("/updateReports?agent={agent}"), |_, _| {})
}
