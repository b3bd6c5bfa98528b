//! The opening handshake. (stub: being written)
