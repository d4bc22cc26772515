//! # segur-net — secure transport shared by every Ségur service
//!
//! Every national service (INSi, DMP, MSSanté, e-prescription) is reached the same way: HTTPS over
//! mutual TLS with an IGC-Santé certificate, SOAP 1.2 envelopes, and a trace of every exchange.
//! This crate holds those common parts so that the protocol crates only deal with their own bodies.
//!
//! - [`tls`]: trust anchors (never the OS store), client identities from PKCS#12, rustls configs
//!   (TLS ≥ 1.2 only).
//! - [`http`]: a pooled HTTPS client with timeouts and a response size limit, and an HTTPS server
//!   helper (used by the sandbox).
//! - [`xml`]: hardened XML reading (no DOCTYPE, bounded size and depth, UTF-8 only) and writing
//!   helpers.
//! - [`soap`]: SOAP 1.2 envelopes and faults.
//! - [`trace`]: the [`TraceSink`](trace::TraceSink) through which every exchange can be recorded.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod c14n;
pub mod dsig;
pub mod error;
pub mod http;
pub mod soap;
pub mod tls;
pub mod trace;
pub mod xml;

pub use error::NetError;
