//! An axum server whose `/echo` route hands WebSocket upgrades to sansws. axum routes and
//! hyper parses the request; `UpgradeRequest::from_parts` checks it and negotiates
//! permessage-deflate and a subprotocol; hyper answers 101 with the headers sansws chose and
//! hands over the connection (`hyper::upgrade::on`); the connection runs over it, echoing
//! every message. With `--tls CERT KEY` (PEM files) it serves wss:// through rustls.
//!
//!     cargo run --release --bin axum_echo -- 127.0.0.1:9601
//!     cargo run --release --bin axum_echo -- 127.0.0.1:9601 --tls cert.pem key.pem
//!
//! It prints `axum_echo listening on ws://ADDR/echo` (or wss://) once it accepts connections.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sansws::handshake::{
    error_parts, AcceptedHeaders, HandshakeConfig, HandshakeError, UpgradeRequest,
};
use sansws::Connection;
use sansws_http_hosts::drive::drive;
use sansws_http_hosts::settings;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;

/// The `/echo` route: a WebSocket upgrade handed to sansws, or sansws's refusal.
async fn upgrade(State(handshake): State<HandshakeConfig>, mut request: Request) -> Response {
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    let target = request.uri().to_string();
    let accepted =
        UpgradeRequest::from_parts(request.method().as_str(), &target, headers, &handshake)
            .and_then(|upgrade| {
                let options = settings::accept_options(&upgrade.subprotocols);
                upgrade.accept_headers(options)
            });
    let AcceptedHeaders {
        headers,
        negotiated,
    } = match accepted {
        Ok(accepted) => accepted,
        Err(error) => return refusal(&error),
    };
    // hyper hands over the connection once the 101 below is written; any bytes the client
    // sent after its request are inside the upgraded stream, so nothing is left over here.
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(e) => return eprintln!("upgrade failed: {e}"),
        };
        let mut conn = Connection::server(settings::config()).after_handshake(negotiated, &[]);
        match drive(TokioIo::new(upgraded), &mut conn, settings::echo).await {
            Ok((None, _)) => {}
            Ok((Some(failure), _)) => eprintln!("connection failed: {failure}"),
            Err(e) => eprintln!("stream failed: {e}"),
        }
    });
    let mut response = Response::builder().status(StatusCode::SWITCHING_PROTOCOLS);
    for (name, value) in &headers {
        response = response.header(name, value);
    }
    response
        .body(Body::empty())
        .expect("sansws writes valid headers")
}

/// sansws's answer to a request it refuses (status, headers, text body), through axum.
fn refusal(error: &HandshakeError) -> Response {
    let parts = error_parts(error);
    let mut response = Response::builder().status(parts.status);
    for (name, value) in &parts.headers {
        response = response.header(name, value);
    }
    response
        .body(Body::from(parts.body))
        .expect("sansws writes valid headers")
}

/// wss://: each TCP connection goes through rustls, then hyper's HTTP/1.1 server (with
/// upgrades) serves the same router over it.
async fn serve_tls(
    listener: TcpListener,
    app: Router,
    cert: &str,
    key: &str,
) -> std::io::Result<()> {
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| std::io::Error::other(format!("{cert}: {e}")))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| std::io::Error::other(format!("{key}: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(certs, key))
        .map_err(std::io::Error::other)?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(tls));
    loop {
        let (tcp, peer) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let stream = match acceptor.accept(tcp).await {
                Ok(stream) => stream,
                Err(e) => return eprintln!("{peer}: TLS handshake failed: {e}"),
            };
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
                .with_upgrades()
                .await;
            if let Err(e) = served {
                eprintln!("{peer}: {e}");
            }
        });
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.first().map_or("127.0.0.1:9601", String::as_str);
    let tls = match args.get(1).map(String::as_str) {
        Some("--tls") if args.len() == 4 => Some((args[2].clone(), args[3].clone())),
        None => None,
        _ => {
            eprintln!("usage: axum_echo [ADDR] [--tls CERT.pem KEY.pem]");
            std::process::exit(2);
        }
    };
    let listener = TcpListener::bind(addr).await?;
    let local: SocketAddr = listener.local_addr()?;
    let app = Router::new()
        .route("/echo", get(upgrade))
        .with_state(settings::handshake());
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    println!("axum_echo listening on {scheme}://{local}/echo");
    std::io::stdout().flush()?;
    match tls {
        Some((cert, key)) => serve_tls(listener, app, &cert, &key).await,
        None => axum::serve(listener, app).await,
    }
}
