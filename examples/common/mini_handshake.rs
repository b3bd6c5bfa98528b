//! A deliberately minimal HTTP/1.1 upgrade, used only until sansws::handshake lands.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

use base64::Engine;

fn read_head(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).into_owned();
            return Ok((head, data[end + 4..].to_vec()));
        }
        let n = stream.read(&mut buf)?;
        if n == 0 || data.len() > 16384 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buf[..n]);
    }
}

fn accept_key(key: &str) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key.trim().as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.digest().bytes())
}

/// Server: reads the request, answers 101; returns the bytes that followed the request.
pub fn server(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let (head, rest) = read_head(stream)?;
    let key = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case("sec-websocket-key"))
                .map(|(_, v)| v.trim().to_string())
        })
        .ok_or(std::io::ErrorKind::InvalidData)?;
    write!(stream, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n", accept_key(&key))?;
    Ok(rest)
}

/// Client: sends the request for `path`, reads the response; returns the bytes after it.
pub fn client(stream: &mut TcpStream, host: &str, path: &str) -> std::io::Result<Vec<u8>> {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")?;
    let (head, rest) = read_head(stream)?;
    if !head.starts_with("HTTP/1.1 101") {
        return Err(std::io::ErrorKind::InvalidData.into());
    }
    Ok(rest)
}
