//! sansws under the HTTP stacks Rust servers run: the glue the examples and tests of this
//! package share. `drive` runs a connection over any tokio byte stream (hyper's upgraded
//! connection, TLS, TCP); `h2_stream` runs one over an HTTP/2 stream of the h2 crate, and
//! `h2_fields` maps sansws's extended CONNECT fields to the `http` types h2 speaks;
//! `settings` is what the examples serve with.

pub mod drive;
pub mod h2_fields;
pub mod h2_stream;
pub mod settings;
