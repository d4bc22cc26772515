//! The HTTPS client used to reach the national services.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tokio::time::{timeout_at, Instant};

use crate::error::{NetError, Result};

/// Limits and pool settings of an [`HttpsClient`].
#[derive(Clone, Debug)]
pub struct HttpsConfig {
    /// Limit for establishing the TCP connection (default 10 s).
    pub connect_timeout: Duration,
    /// Limit for the whole exchange: connection, TLS handshake, request and full response
    /// (default 30 s).
    pub request_timeout: Duration,
    /// Largest response body accepted (default 1 MiB); larger bodies are not read.
    pub max_response_bytes: usize,
    /// How long an idle connection is kept for reuse (default 90 s).
    pub pool_idle_timeout: Duration,
    /// Most idle connections kept per host (default 32).
    pub pool_max_idle_per_host: usize,
}

impl Default for HttpsConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 1_048_576,
            pool_idle_timeout: Duration::from_secs(90),
            pool_max_idle_per_host: 32,
        }
    }
}

/// A response, whatever its status (SOAP faults come with HTTP 500).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, if present and valid text.
    pub content_type: Option<String>,
    /// The whole body.
    pub body: Bytes,
}

/// A pooled HTTPS-only client (HTTP/1.1, keep-alive) over a given rustls configuration.
///
/// Cloning is cheap (one pointer) and shares the connection pool.
#[derive(Clone)]
pub struct HttpsClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    config: HttpsConfig,
}

impl fmt::Debug for HttpsClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpsClient")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl HttpsClient {
    /// Builds a client; `tls` is typically [`crate::tls::client_config`]. Its ALPN list is
    /// replaced (HTTP/1.1 only). No connection is made until the first request.
    pub fn new(tls: Arc<rustls::ClientConfig>, config: HttpsConfig) -> Self {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(config.connect_timeout));
        let mut tls = (*tls).clone();
        tls.alpn_protocols.clear();
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .build(https);
        Self {
            inner: Arc::new(Inner { client, config }),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &HttpsConfig {
        &self.inner.config
    }

    /// POSTs `body` to `url` (which must be `https://`) and reads the whole response.
    ///
    /// Non-2xx statuses are returned, not turned into errors. Errors: [`NetError::InvalidUrl`],
    /// [`NetError::Connect`], [`NetError::TlsHandshake`] (with rustls' reason),
    /// [`NetError::Timeout`], [`NetError::ResponseTooLarge`], [`NetError::Http`].
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<HttpResponse> {
        let (uri, endpoint) = parse_https_url(url)?;
        let bad_header = |name: &str| NetError::Http {
            endpoint: endpoint.clone(),
            detail: format!("invalid request header {name:?}"),
        };
        let mut request = Request::builder().method(Method::POST).uri(uri);
        let ct = HeaderValue::from_str(content_type).map_err(|_| bad_header("Content-Type"))?;
        if let Some(h) = request.headers_mut() {
            h.insert(CONTENT_TYPE, ct);
            for (name, value) in headers {
                let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad_header(name))?;
                let v = HeaderValue::from_str(value).map_err(|_| bad_header(name))?;
                h.append(n, v);
            }
        }
        let request = request.body(Full::new(body)).map_err(|e| NetError::Http {
            endpoint: endpoint.clone(),
            detail: e.to_string(),
        })?;

        let limit = self.inner.config.max_response_bytes;
        let after = self.inner.config.request_timeout;
        // A huge configured timeout must not overflow the clock: cap it at about 30 years.
        let now = Instant::now();
        let deadline = now
            .checked_add(after)
            .unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 86_400));
        let response = match timeout_at(deadline, self.inner.client.request(request)).await {
            Err(_) => {
                return Err(NetError::Timeout {
                    phase: "waiting for the response",
                    after,
                })
            }
            Ok(Err(e)) => return Err(self.classify(&e, e.is_connect(), &endpoint)),
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(NetError::ResponseTooLarge { limit });
        }
        let body = Limited::new(response.into_body(), limit);
        let body = match timeout_at(deadline, body.collect()).await {
            Err(_) => {
                return Err(NetError::Timeout {
                    phase: "reading the response body",
                    after,
                })
            }
            Ok(Err(e)) => {
                if e.downcast_ref::<LengthLimitError>().is_some() {
                    return Err(NetError::ResponseTooLarge { limit });
                }
                return Err(self.classify(&*e, false, &endpoint));
            }
            Ok(Ok(collected)) => collected.to_bytes(),
        };
        Ok(HttpResponse {
            status,
            content_type,
            body,
        })
    }

    /// Maps a transport error to the most precise [`NetError`], walking the source chain
    /// (including the inner error of `io::Error`s) for a rustls error.
    fn classify(
        &self,
        err: &(dyn StdError + 'static),
        during_connect: bool,
        endpoint: &str,
    ) -> NetError {
        let mut io_kind = None;
        let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
        let mut depth = 0;
        while let Some(e) = cur {
            depth += 1;
            if depth > 32 {
                break;
            }
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                return NetError::TlsHandshake {
                    endpoint: endpoint.to_owned(),
                    detail: describe_tls(tls),
                };
            }
            if let Some(io) = e.downcast_ref::<io::Error>() {
                io_kind.get_or_insert(io.kind());
                if let Some(inner) = io.get_ref() {
                    // `io::Error::source` skips the wrapped error itself: look at it directly.
                    let inner: &(dyn StdError + 'static) = inner;
                    cur = Some(inner);
                    continue;
                }
            }
            cur = e.source();
        }
        match io_kind {
            Some(io::ErrorKind::ConnectionRefused) => NetError::Connect {
                endpoint: endpoint.to_owned(),
                detail: "connection refused".to_owned(),
            },
            Some(io::ErrorKind::TimedOut) if during_connect => NetError::Timeout {
                phase: "connecting",
                after: self.inner.config.connect_timeout,
            },
            _ if during_connect => NetError::Connect {
                endpoint: endpoint.to_owned(),
                detail: error_chain(err),
            },
            _ => NetError::Http {
                endpoint: endpoint.to_owned(),
                detail: error_chain(err),
            },
        }
    }
}

/// Checks that `url` is an absolute `https://` URL without credentials; returns it with its
/// `host:port`.
fn parse_https_url(url: &str) -> Result<(Uri, String)> {
    let invalid = |detail: &str| NetError::InvalidUrl {
        url: url.to_owned(),
        detail: detail.to_owned(),
    };
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => {}
        Some(_) => return Err(invalid("only https:// URLs are allowed")),
        None => return Err(invalid("not an absolute URL (no scheme)")),
    }
    let authority = uri.authority().ok_or_else(|| invalid("no host"))?;
    if authority.as_str().contains('@') {
        return Err(invalid("credentials in the URL are not allowed"));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(invalid("no host"));
    }
    let endpoint = format!("{host}:{}", authority.port_u16().unwrap_or(443));
    Ok((uri, endpoint))
}

/// rustls' message, with the short certificate error name appended when the message does not
/// already contain it (e.g. `[Expired]`, `[NotValidForName]`).
fn describe_tls(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    let text = e.to_string();
    let code = match e {
        rustls::Error::InvalidCertificate(ce) => match ce {
            C::BadEncoding => "BadEncoding",
            C::Expired | C::ExpiredContext { .. } => "Expired",
            C::NotValidYet | C::NotValidYetContext { .. } => "NotValidYet",
            C::Revoked => "Revoked",
            C::UnknownIssuer => "UnknownIssuer",
            C::UnknownRevocationStatus => "UnknownRevocationStatus",
            C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
                "ExpiredRevocationList"
            }
            C::BadSignature => "BadSignature",
            C::NotValidForName | C::NotValidForNameContext { .. } => "NotValidForName",
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => "InvalidPurpose",
            _ => "",
        },
        _ => "",
    };
    if code.is_empty() || text.contains(code) {
        text
    } else {
        format!("{text} [{code}]")
    }
}

/// The messages of an error and its sources, joined with `: ` (consecutive repeats dropped).
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let msg = e.to_string();
        if parts.last() != Some(&msg) && parts.len() < 8 {
            parts.push(msg);
        }
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (_, ep) = parse_https_url("https://insi.example.fr/ws").unwrap();
        assert_eq!(ep, "insi.example.fr:443");
        let (_, ep) = parse_https_url("https://127.0.0.1:8443/a?b=c").unwrap();
        assert_eq!(ep, "127.0.0.1:8443");
        for bad in [
            "http://x/",
            "ftp://x/",
            "/relative",
            "https://u:p@x/",
            "not a url",
            "",
        ] {
            let err = parse_https_url(bad).unwrap_err();
            assert!(matches!(err, NetError::InvalidUrl { .. }), "{bad}: {err}");
        }
    }

    #[tokio::test]
    async fn huge_timeouts_do_not_panic() {
        let roots = rustls::RootCertStore::empty();
        let tls = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let config = HttpsConfig {
            connect_timeout: Duration::MAX,
            request_timeout: Duration::MAX,
            pool_idle_timeout: Duration::MAX,
            ..HttpsConfig::default()
        };
        let client = HttpsClient::new(Arc::new(tls), config);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let err = client
            .post(
                &format!("https://127.0.0.1:{port}/"),
                "text/xml",
                &[],
                Bytes::new(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, NetError::Connect { .. }), "{err}");
    }

    #[test]
    fn tls_descriptions() {
        let e = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        assert_eq!(describe_tls(&e), "invalid peer certificate: UnknownIssuer");
        let e = rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate);
        assert!(describe_tls(&e).contains("BadCertificate"));
    }
}
