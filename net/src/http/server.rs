//! A small HTTPS server (mutual TLS capable) for the sandbox simulators.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls_pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use crate::error::{NetError, Result};

/// Longest time a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest time a client may take to send the request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The application callback of an [`HttpsServer`]: one call per request.
pub type Handler =
    Arc<dyn Fn(HttpRequest) -> Pin<Box<dyn Future<Output = HttpReply> + Send>> + Send + Sync>;

/// Wraps an async function or closure as a [`Handler`].
pub fn handler_fn<F, Fut>(f: F) -> Handler
where
    F: Fn(HttpRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HttpReply> + Send + 'static,
{
    Arc::new(move |request| Box::pin(f(request)))
}

/// A request received by an [`HttpsServer`], body fully read.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    /// The method (`POST`, `GET`...).
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// Headers with a text value, names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body (at most the server's `max_request_bytes`).
    pub body: Bytes,
    /// The client certificate chain presented in the TLS handshake (leaf first; empty without
    /// client authentication).
    pub peer_certificates: Vec<CertificateDer<'static>>,
    /// The client's address.
    pub peer_addr: SocketAddr,
}

impl HttpRequest {
    /// The first value of a header (name compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The reply of a [`Handler`].
#[derive(Debug, Clone)]
pub struct HttpReply {
    /// HTTP status code (an invalid code is sent as 500).
    pub status: u16,
    /// The `Content-Type` header (omitted when empty or invalid).
    pub content_type: String,
    /// The body.
    pub body: Bytes,
}

impl HttpReply {
    /// A reply with the given status, content type and body.
    pub fn new(status: u16, content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            body: body.into(),
        }
    }
}

/// An HTTPS server running on the current tokio runtime until [`HttpsServer::shutdown`] or drop.
pub struct HttpsServer {
    local_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    accepted: Arc<AtomicU64>,
}

impl fmt::Debug for HttpsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsServer")
            .field("local_addr", &self.local_addr)
            .field("connections_accepted", &self.connections_accepted())
            .finish()
    }
}

impl HttpsServer {
    /// Binds `addr` (port 0 picks a free port) and starts accepting connections.
    ///
    /// Each connection gets a TLS handshake (bounded in time; failures are only logged at debug
    /// level), then HTTP/1.1 with keep-alive. Request bodies over `max_request_bytes` get a 413
    /// reply without calling `handler`.
    pub async fn bind(
        addr: SocketAddr,
        tls: Arc<rustls::ServerConfig>,
        max_request_bytes: usize,
        handler: Handler,
    ) -> Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| NetError::Server(format!("cannot bind {addr}: {e}")))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| NetError::Server(format!("cannot read the bound address: {e}")))?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let accepted = Arc::new(AtomicU64::new(0));
        let context = Arc::new(ConnContext {
            acceptor: TlsAcceptor::from(tls),
            max_request_bytes,
            handler,
        });
        let task = tokio::spawn(accept_loop(
            listener,
            context,
            shutdown_rx,
            Arc::clone(&accepted),
        ));
        Ok(Self {
            local_addr,
            shutdown,
            task: Some(task),
            accepted,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Number of TCP connections accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    /// Stops accepting, closes open connections and waits for the accept task to end.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

struct ConnContext {
    acceptor: TlsAcceptor,
    max_request_bytes: usize,
    handler: Handler,
}

async fn accept_loop(
    listener: TcpListener,
    context: Arc<ConnContext>,
    mut shutdown: watch::Receiver<bool>,
    accepted: Arc<AtomicU64>,
) {
    // Connection tasks live in the set: dropping it (end of this task) aborts them.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            incoming = listener.accept() => match incoming {
                Ok((tcp, peer)) => {
                    accepted.fetch_add(1, Ordering::Relaxed);
                    connections.spawn(serve_connection(tcp, peer, Arc::clone(&context)));
                }
                Err(e) => {
                    tracing::debug!(error = %e, "accept failed");
                    // Avoid spinning when out of file descriptors.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

async fn serve_connection(tcp: TcpStream, peer: SocketAddr, context: Arc<ConnContext>) {
    let _ = tcp.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, context.acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::debug!(%peer, error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            return;
        }
    };
    let peer_certificates: Arc<[CertificateDer<'static>]> = tls
        .get_ref()
        .1
        .peer_certificates()
        .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let service = service_fn(move |request: Request<Incoming>| {
        let context = Arc::clone(&context);
        let certs = Arc::clone(&peer_certificates);
        async move { Ok::<_, Infallible>(handle(request, &context, &certs, peer).await) }
    });
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(tls), service)
        .await;
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

async fn handle(
    request: Request<Incoming>,
    context: &ConnContext,
    certs: &[CertificateDer<'static>],
    peer: SocketAddr,
) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let limit = context.max_request_bytes;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Err(e) => {
            tracing::debug!(%peer, error = %e, "cannot read the request body");
            return plain(
                StatusCode::BAD_REQUEST,
                "cannot read the request body",
                true,
            );
        }
    };
    let request = HttpRequest {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .filter_map(|(n, v)| {
                v.to_str()
                    .ok()
                    .map(|v| (n.as_str().to_owned(), v.to_owned()))
            })
            .collect(),
        body,
        peer_certificates: certs.to_vec(),
        peer_addr: peer,
    };
    let reply = (context.handler)(request).await;
    let mut response = Response::new(Full::new(reply.body));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if !reply.content_type.is_empty() {
        if let Ok(v) = HeaderValue::from_str(&reply.content_type) {
            response.headers_mut().insert(CONTENT_TYPE, v);
        }
    }
    response
}

fn too_large() -> Response<Full<Bytes>> {
    plain(
        StatusCode::PAYLOAD_TOO_LARGE,
        "request body too large",
        true,
    )
}

fn plain(status: StatusCode, text: &'static str, close: bool) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if close {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}
