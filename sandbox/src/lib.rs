//! # segur-sandbox — loopback simulators of the national health services
//!
//! Same wire format as the real services, on 127.0.0.1, over mutual TLS with a generated test
//! PKI ([`pki`]) that mirrors the IGC-Santé chain.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod pki;
