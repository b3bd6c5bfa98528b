//! What the end-to-end benchmark's load generator and the soak driver share: the client side
//! of the WebSocket framing, written by hand.

pub mod wire;
