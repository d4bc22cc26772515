//! Replay mode: requests answered by a [`Responder`] instead of the network (tests, demos,
//! CNDA injection cases); requests are still built, signed and traced.

use bytes::Bytes;

use crate::envelope::Service;

/// A request as the transport sees it (replay mode).
#[derive(Debug, Clone, Copy)]
pub struct ReplayRequest<'a> {
    /// The service called.
    pub service: Service,
    /// `wsa:Action`.
    pub action: &'a str,
    /// HTTP `Content-Type`.
    pub content_type: &'a str,
    /// The HTTP body.
    pub body: &'a Bytes,
}

/// A canned reply (replay mode).
#[derive(Debug, Clone)]
pub struct ReplayReply {
    /// HTTP status.
    pub status: u16,
    /// HTTP `Content-Type`.
    pub content_type: String,
    /// Body.
    pub body: Bytes,
}

/// Answers requests without network (tests, demos, CNDA injection cases).
pub trait Responder: Send + Sync {
    /// The reply to `request`.
    fn respond(&self, request: &ReplayRequest<'_>) -> ReplayReply;
}

impl<F> Responder for F
where
    F: Fn(&ReplayRequest<'_>) -> ReplayReply + Send + Sync,
{
    fn respond(&self, request: &ReplayRequest<'_>) -> ReplayReply {
        self(request)
    }
}
