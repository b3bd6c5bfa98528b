//! sansws's extended CONNECT fields (`sansws::handshake::h2`) to and from the `http` types the
//! h2 crate sends and receives: the pseudo-headers become the method, the URI and h2's
//! `Protocol` extension, the rest are headers, and back.

use bytes::Bytes;
use h2::ext::Protocol;
use http::{Method, Request, Response, StatusCode, Uri};

/// Received fields: names and raw values, pseudo-headers first.
pub type RawFields = Vec<(String, Bytes)>;

/// The request a client sends for the fields of `sansws::handshake::h2::client_request`.
pub fn request_from_fields(fields: &[(String, String)]) -> Result<Request<()>, http::Error> {
    let pseudo = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let uri = Uri::builder()
        .scheme(pseudo(":scheme"))
        .authority(pseudo(":authority"))
        .path_and_query(pseudo(":path"))
        .build()?;
    let mut request = Request::builder()
        .method(Method::from_bytes(pseudo(":method").as_bytes())?)
        .uri(uri);
    if let Some((_, protocol)) = fields.iter().find(|(n, _)| n == ":protocol") {
        request = request.extension(Protocol::from(protocol.as_str()));
    }
    for (name, value) in fields.iter().filter(|(n, _)| !n.starts_with(':')) {
        request = request.header(name.as_str(), value.as_str());
    }
    request.body(())
}

/// A received request as fields for `sansws::handshake::h2::parse_request`.
pub fn request_fields<B>(request: &Request<B>) -> RawFields {
    let mut fields: RawFields = vec![(
        ":method".into(),
        Bytes::copy_from_slice(request.method().as_str().as_bytes()),
    )];
    if let Some(protocol) = request.extensions().get::<Protocol>() {
        fields.push((
            ":protocol".into(),
            Bytes::copy_from_slice(protocol.as_str().as_bytes()),
        ));
    }
    let uri = request.uri();
    if let Some(scheme) = uri.scheme_str() {
        fields.push((":scheme".into(), Bytes::copy_from_slice(scheme.as_bytes())));
    }
    if let Some(path) = uri.path_and_query() {
        fields.push((
            ":path".into(),
            Bytes::copy_from_slice(path.as_str().as_bytes()),
        ));
    }
    if let Some(authority) = uri.authority() {
        fields.push((
            ":authority".into(),
            Bytes::copy_from_slice(authority.as_str().as_bytes()),
        ));
    }
    push_headers(&mut fields, request.headers());
    fields
}

/// The response a server sends for the fields of `H2Accepted` or `error_fields`.
pub fn response_from_fields(fields: &[(String, String)]) -> Result<Response<()>, http::Error> {
    let status = fields
        .iter()
        .find(|(n, _)| n == ":status")
        .map_or("", |(_, v)| v.as_str());
    let mut response = Response::builder().status(StatusCode::from_bytes(status.as_bytes())?);
    for (name, value) in fields.iter().filter(|(n, _)| !n.starts_with(':')) {
        response = response.header(name.as_str(), value.as_str());
    }
    response.body(())
}

/// A received response as fields for `H2ClientHandshake::response`.
pub fn response_fields<B>(response: &Response<B>) -> RawFields {
    let status = response.status();
    let status = Bytes::copy_from_slice(status.as_str().as_bytes());
    let mut fields: RawFields = vec![(":status".into(), status)];
    push_headers(&mut fields, response.headers());
    fields
}

fn push_headers(fields: &mut RawFields, headers: &http::HeaderMap) {
    for (name, value) in headers {
        fields.push((
            name.as_str().into(),
            Bytes::copy_from_slice(value.as_bytes()),
        ));
    }
}
