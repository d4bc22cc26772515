//! The INSi client: builds the request, sends it over mutual TLS (or replays a canned reply),
//! parses the reply and traces the exchange (RNIV rules 37/39: every call and its full reply).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use segur_net::http::{HttpsClient, HttpsConfig};
use segur_net::tls::{self, ClientIdentity, TrustAnchors};
use segur_net::trace::{Exchange, NoTrace, Outcome, TraceSink};
use segur_net::xml::XmlLimits;
use segur_net::NetError;

use super::context::LpsContext;
use super::request::{write_request, Operation, RequestIds};
use super::response::{parse_reply, InsiReply};
use super::strategy::{first_name_sets, is_found, variant, Attempt, StrategyOutcome};
use super::{CarteVitaleQuery, CodeCr, TraitsQuery};
use crate::error::{InsError, Result};
use crate::rniv::IdentityRecord;

/// How requests reach INSi.
#[derive(Clone)]
pub enum Transport {
    /// HTTPS (mutual TLS) to an endpoint.
    Https {
        /// The pooled client.
        client: HttpsClient,
        /// `https://host:port/path`.
        endpoint: String,
    },
    /// Every call gets this raw reply instead (CNDA "injection" tests). The request is still
    /// built and traced.
    Replay(Bytes),
}

/// An INSi client. Cheap to clone; safe to share between tasks.
#[derive(Clone)]
pub struct InsiClient {
    transport: Transport,
    lps: LpsContext,
    trace: Arc<dyn TraceSink>,
    limits: XmlLimits,
    warnings: Vec<String>,
}

/// Builder of [`InsiClient`].
pub struct InsiClientBuilder {
    lps: LpsContext,
    endpoint: Option<String>,
    anchors: Option<TrustAnchors>,
    identity: Option<ClientIdentity>,
    http: HttpsConfig,
    trace: Arc<dyn TraceSink>,
    replay: Option<Bytes>,
    limits: XmlLimits,
}

impl InsiClientBuilder {
    /// The endpoint, e.g. `https://qualiflps-services-ps-tlsm.ameli.fr:443/lps`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }
    /// Trust anchors for the server certificate (IGC-Santé in production, the sandbox CA in
    /// tests; never the OS store).
    pub fn trust_anchors(mut self, anchors: TrustAnchors) -> Self {
        self.anchors = Some(anchors);
        self
    }
    /// The software certificate (CN `INSI-AUTO` or `INSI-MANU`).
    pub fn client_identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(identity);
        self
    }
    /// Timeouts, pool and response size limit.
    pub fn http(mut self, config: HttpsConfig) -> Self {
        self.http = config;
        self
    }
    /// Where every exchange is recorded.
    pub fn trace(mut self, sink: Arc<dyn TraceSink>) -> Self {
        self.trace = sink;
        self
    }
    /// Replay mode: every call gets `reply` (raw SOAP XML).
    pub fn replay(mut self, reply: impl Into<Bytes>) -> Self {
        self.replay = Some(reply.into());
        self
    }

    /// Builds the client. Warns (in [`InsiClient::warnings`] and the log) when the certificate CN
    /// is not `INSI-AUTO` or `INSI-MANU` (INSi answers `DESIR_560`) or when it has expired.
    pub fn build(self) -> Result<InsiClient> {
        let mut warnings = Vec::new();
        if self.lps.idam.trim().is_empty() {
            return Err(InsError::Config(
                "the CNDA authorisation number (IDAM) is empty".into(),
            ));
        }
        let transport = if let Some(r) = self.replay {
            Transport::Replay(r)
        } else {
            let endpoint = self
                .endpoint
                .ok_or_else(|| InsError::Config("no INSi endpoint".into()))?;
            let anchors = self
                .anchors
                .ok_or_else(|| InsError::Config("no trust anchors".into()))?;
            let identity = self.identity.ok_or_else(|| {
                InsError::Config("no client certificate (INSI-AUTO / INSI-MANU)".into())
            })?;
            match identity.subject_cn().as_deref() {
                Some("INSI-AUTO") | Some("INSI-MANU") => {}
                _ => warnings.push(
                    "the client certificate CN is not INSI-AUTO or INSI-MANU: INSi will refuse it (DESIR_560)"
                        .to_owned(),
                ),
            }
            if let Some(na) = identity.not_after() {
                if na < Utc::now() {
                    warnings.push(format!("the client certificate expired on {na}"));
                }
            }
            let config = tls::client_config(&anchors, Some(&identity))?;
            Transport::Https {
                client: HttpsClient::new(config, self.http),
                endpoint,
            }
        };
        for w in &warnings {
            tracing::warn!(target: "segur::insi", "{w}");
        }
        Ok(InsiClient {
            transport,
            lps: self.lps,
            trace: self.trace,
            limits: self.limits,
            warnings,
        })
    }
}

impl InsiClient {
    /// Starts a builder with the software's identity.
    pub fn builder(lps: LpsContext) -> InsiClientBuilder {
        InsiClientBuilder {
            lps,
            endpoint: None,
            anchors: None,
            identity: None,
            http: HttpsConfig::default(),
            trace: Arc::new(NoTrace),
            replay: None,
            limits: XmlLimits::default(),
        }
    }

    /// The same client (same connection pool) recording its exchanges into another sink.
    pub fn with_trace(&self, sink: Arc<dyn TraceSink>) -> InsiClient {
        InsiClient {
            trace: sink,
            ..self.clone()
        }
    }

    /// Configuration warnings found at build time.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The software identity sent in `ContexteLPS`.
    pub fn lps(&self) -> &LpsContext {
        &self.lps
    }

    /// `rechercherInsAvecTraitsIdentite` with exactly this query (one call).
    pub async fn search_traits(&self, q: &TraitsQuery) -> Result<InsiReply> {
        self.call(Operation::Traits(q)).await
    }

    /// `rechercherInsAvecCarteVitale` (one call).
    pub async fn search_vitale(&self, q: &CarteVitaleQuery) -> Result<InsiReply> {
        self.call(Operation::CarteVitale(q)).await
    }

    /// The CNDA 2.07 strategy: all first names, then each alone; a `02` retried with the COG.
    pub async fn search_strategy(&self, q: &TraitsQuery) -> Result<StrategyOutcome> {
        let mut attempts = Vec::new();
        let mut last: Option<InsiReply> = None;
        let mut multiple: Option<Vec<String>> = None;
        for set in first_name_sets(q) {
            let reply = self.search_traits(&variant(q, set.clone(), false)).await?;
            attempts.push(Attempt {
                prenoms: set.clone(),
                with_cog: false,
                code: reply.code.clone(),
            });
            if is_found(&reply) {
                return Ok(StrategyOutcome { reply, attempts });
            }
            if reply.code == CodeCr::Multiple && multiple.is_none() {
                multiple = Some(set);
            }
            last = Some(reply);
        }
        if let (Some(set), Some(_)) = (multiple, &q.lieu_naissance) {
            let reply = self.search_traits(&variant(q, set.clone(), true)).await?;
            attempts.push(Attempt {
                prenoms: set,
                with_cog: true,
                code: reply.code.clone(),
            });
            last = Some(reply);
        }
        let reply = last.ok_or_else(|| InsError::Config("no first name to search".into()))?;
        Ok(StrategyOutcome { reply, attempts })
    }

    /// Searches INSi for a local identity with the 2.07 strategy. Refused for a douteuse or
    /// fictive identity (EXI SI 09).
    pub async fn search_identity(&self, record: &IdentityRecord) -> Result<StrategyOutcome> {
        let q = record.insi_query()?;
        self.search_strategy(&q).await
    }

    async fn call(&self, op: Operation<'_>) -> Result<InsiReply> {
        let ids = RequestIds::new();
        let request = Bytes::from(write_request(op, &self.lps, &ids));
        let started_at = Utc::now();
        let t0 = Instant::now();
        let (endpoint, sent): (String, Result<(Option<u16>, Bytes)>) = match &self.transport {
            Transport::Replay(r) => ("replay".to_owned(), Ok((None, r.clone()))),
            Transport::Https { client, endpoint } => {
                let content_type = format!(
                    "application/soap+xml; charset=utf-8; action=\"{}\"",
                    op.action()
                );
                let r = client
                    .post(endpoint, &content_type, &[], request.clone())
                    .await
                    .map_err(InsError::from)
                    .and_then(|resp| match resp.status {
                        200 | 500 => Ok((Some(resp.status), resp.body)),
                        status => Err(InsError::Net(NetError::HttpStatus {
                            endpoint: endpoint.clone(),
                            status,
                        })),
                    });
                (endpoint.clone(), r)
            }
        };
        let (http_status, response, result) = match sent {
            Ok((status, body)) => {
                let parsed = parse_reply(&body, &self.limits);
                (status, Some(body), parsed)
            }
            Err(e) => (None, None, Err(e)),
        };
        let outcome = match &result {
            Ok(r) => match r.code {
                CodeCr::Found => Outcome::Ok,
                ref c => Outcome::Fault(format!("CR {}", c.code())),
            },
            Err(InsError::InsiFault { subcode, code, .. }) => {
                Outcome::Fault(format!("{subcode}/{code}"))
            }
            Err(e) => Outcome::Failed(short_kind(e)),
        };
        self.trace.record(&Exchange {
            service: "insi",
            operation: op.name().to_owned(),
            message_id: format!("uuid:{}", ids.message_id),
            endpoint,
            started_at,
            duration: t0.elapsed(),
            request,
            response,
            http_status,
            outcome,
        });
        result
    }
}

/// An error description for traces (never any identity: the messages of this crate carry none).
fn short_kind(e: &InsError) -> String {
    e.to_string()
}
