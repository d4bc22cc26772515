//! HTTPS over rustls: a pooled client for the national services and a small server for the
//! sandbox simulators.
//!
//! Both sides speak HTTP/1.1 with keep-alive, bound every body size, and take their TLS settings
//! from [`crate::tls`].

mod client;
mod server;

pub use client::{HttpResponse, HttpsClient, HttpsConfig};
pub use server::{handler_fn, Handler, HttpReply, HttpRequest, HttpsServer};
