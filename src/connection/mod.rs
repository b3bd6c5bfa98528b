//! Connection state: roles, closing, limits, configuration, errors.

pub mod close;
