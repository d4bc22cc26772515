//! The DMP client: TD0.2, TD0.3, ITI-41/18/43/57 over mutual TLS, one signed VIHF per request,
//! every exchange traced.
//!
//! [`DmpClient`] is cheap to clone and `Send + Sync`. Each method takes the acting user
//! ([`DmpUser`], with a purpose of use: [`Acting`], `normal` by default) and the patient's
//! [`QualifiedIdentity`] (RNIV rule 28: only a qualified identity's INS leaves the process); a
//! fresh VIHF whose `resource-id` is that patient is built and signed for every request
//! (`dmp.md` §4). Every request and response (or failure) goes to the [`TraceSink`] with the
//! operation name, duration and outcome. Errors and logs name fields and codes, never patient
//! identity.
//!
//! Feeding (`send`) follows the Ségur rules: TD0.2 first, and nothing is sent when there is no
//! DMP, when it is closed, or when the patient opposed feeding (DMP/CONF.09); a replacement
//! (RPLC) first finds the entryUUID of the earlier version with ITI-18 GetDocuments. A batch for
//! one patient can rest on one TD0.2: [`DmpClient::feed_permit`] keeps the answer as a
//! [`FeedPermit`] (one patient, one professional, [`FeedPermit::MAX_AGE`]) for
//! [`DmpClient::send_with_permit`].
//!
//! The calls are grouped by area: TD0.2/TD0.3 (`access`), feeding with ITI-41 (`feed`),
//! consultation with ITI-18/ITI-43 (`consult`), ITI-57 updates (`update`), and replay mode
//! (`replay`). This module holds the client, its construction from settings and the request
//! plumbing every call shares (VIHF, SOAP/MTOM, transport, trace).

mod access;
mod consult;
mod feed;
mod replay;
mod update;

#[cfg(test)]
mod tests;

pub use consult::Retrieved;
pub use feed::{default_content_type, DmpDocument, FeedPermit, SendReceipt, CONTENT_TYPE_SYSTEM};
pub use replay::{ReplayReply, ReplayRequest, Responder};

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use segur_cda::{Code, InsMode};
use segur_ins_core::QualifiedIdentity;
use segur_net::dsig::Signer;
use segur_net::http::{HttpsClient, HttpsConfig};
use segur_net::tls::{self, ClientIdentity, TrustAnchors};
use segur_net::trace::{Exchange, NoTrace, Outcome, TraceSink};
use segur_net::xml::XmlLimits;
use segur_net::NetError;
use sha1::Digest as _;
use uuid::Uuid;

use crate::envelope::{self, RefusalCode, RequestHeader, Service};
use crate::error::{DmpError, Result};
use crate::mtom::{self, Attachment, MtomLimits, Multipart};
use crate::patients::TraitsAcknowledgement;
use crate::settings::{DmpSettings, StructureSettings};
use crate::vihf;
use crate::xds::{self, Author, RegistryResponse, SubmissionSet};

/// The OID of the national identifiers of health professionals (`dmp.md` §5.3 authorPerson).
pub const OID_IDNAT_PS: &str = "1.2.250.1.71.4.2.1";
/// The OID of the national identifiers of structures (`dmp.md` §5.3 authorInstitution).
pub const OID_IDNAT_STRUCTURE: &str = "1.2.250.1.71.4.2.2";

/// The professional acting (VIHF subject, `dmp.md` §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmpUser {
    /// National id (`Subject/NameID`; DMP/AIRS.06: the user's own, never a generic one).
    pub ps_id: vihf::PsId,
    /// Family name.
    pub nom: String,
    /// First name.
    pub prenom: String,
    /// First role (JDV_J65): the profession (TRE_G15), or `AUTOMATE`.
    pub role: vihf::Role,
    /// Second role: savoir-faire (TRE_R01) for doctors and pharmacists.
    pub specialty: Option<vihf::Role>,
    /// How the user was authenticated (`Authentification_Mode`).
    pub auth_mode: vihf::AuthentificationMode,
}

impl DmpUser {
    /// This user acting with a given purpose of use (`bris_de_glace`, `centre_15`).
    pub fn acting(&self, purpose: vihf::PurposeOfUse) -> Acting<'_> {
        Acting {
            user: self,
            purpose,
            traits_ack: None,
        }
    }

    /// authorPerson XCN: `<IdNat>^<NOM>^<Prénom>^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS`
    /// (`dmp.md` §5.3).
    pub fn xcn(&self) -> String {
        format!(
            "{}^{}^{}^^^^^^&{OID_IDNAT_PS}&ISO^D^^^IDNPS",
            self.ps_id.as_str(),
            self.nom,
            self.prenom
        )
    }

    /// authorSpecialty (`code^display^system`): the second role, else the first.
    fn author_specialty(&self) -> String {
        let r = self.specialty.unwrap_or(self.role);
        format!("{}^{}^{}", r.code(), r.display_name(), r.code_system())
    }
}

/// A user and the purpose of use of one call (VIHF `purposeofuse`, `dmp.md` §4), with the
/// user's confirmation of a traits mismatch when feeding ([`Acting::confirming`]).
#[derive(Debug, Clone, Copy)]
pub struct Acting<'a> {
    /// The user.
    pub user: &'a DmpUser,
    /// The purpose of use.
    pub purpose: vihf::PurposeOfUse,
    /// The confirmation of the traits mismatch TD0.2 reports, if any (DMP/CONF.01): without
    /// one covering exactly that mismatch, [`DmpClient::send`] and
    /// [`DmpClient::feed_permit`] refuse with [`FeedBlocked::TraitsMismatch`](crate::patients::FeedBlocked::TraitsMismatch).
    pub traits_ack: Option<&'a TraitsAcknowledgement>,
}

impl<'a> Acting<'a> {
    /// The same call, with the user's confirmation of a traits mismatch (DMP/CONF.01). It is
    /// used only if it covers exactly the mismatch TD0.2 reports for this patient.
    pub fn confirming(mut self, ack: &'a TraitsAcknowledgement) -> Self {
        self.traits_ack = Some(ack);
        self
    }
}

impl<'a> From<&'a DmpUser> for Acting<'a> {
    /// The user with purpose `normal`.
    fn from(user: &'a DmpUser) -> Self {
        Acting {
            user,
            purpose: vihf::PurposeOfUse::Normal,
            traits_ack: None,
        }
    }
}

#[derive(Clone)]
enum Transport {
    Https(HttpsClient),
    Replay(Arc<dyn Responder>),
}

/// What the client knows of itself (settings, without credentials).
#[derive(Debug, Clone)]
struct Identity {
    endpoint: String,
    sender_oid: String,
    source_id: String,
    structure: StructureSettings,
    secteur: vihf::SecteurActivite,
    lps: vihf::Lps,
    ins_mode: InsMode,
    max_document_bytes: usize,
}

struct Inner {
    transport: Transport,
    id: Identity,
    signer: Arc<dyn Signer>,
    xml_limits: XmlLimits,
    mtom_limits: MtomLimits,
    warnings: Vec<String>,
}

/// The DMP client. Cheap to clone (one `Arc`), `Send + Sync`; clones share the connection pool.
#[derive(Clone)]
pub struct DmpClient {
    inner: Arc<Inner>,
    trace: Arc<dyn TraceSink>,
}

impl std::fmt::Debug for DmpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmpClient")
            .field("endpoint", &self.inner.id.endpoint)
            .finish_non_exhaustive()
    }
}

/// Builder of [`DmpClient`] (as `InsiClientBuilder`).
pub struct DmpClientBuilder {
    settings: DmpSettings,
    anchors: Option<TrustAnchors>,
    identity: Option<ClientIdentity>,
    signer: Option<Arc<dyn Signer>>,
    http: Option<HttpsConfig>,
    trace: Arc<dyn TraceSink>,
    replay: Option<Arc<dyn Responder>>,
}

impl DmpClientBuilder {
    /// Trust anchors for the server certificate (IGC-Santé; the sandbox CA in tests).
    pub fn trust_anchors(mut self, anchors: TrustAnchors) -> Self {
        self.anchors = Some(anchors);
        self
    }
    /// The ORG authentication certificate (mutual TLS).
    pub fn client_identity(mut self, identity: ClientIdentity) -> Self {
        self.identity = Some(identity);
        self
    }
    /// The signer of the VIHF and XAdES (the ORG signature certificate, or a card).
    pub fn signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }
    /// HTTP settings; by default [`DmpSettings::http_config`] (response limit above the largest
    /// document).
    pub fn http(mut self, config: HttpsConfig) -> Self {
        self.http = Some(config);
        self
    }
    /// Where every exchange is recorded.
    pub fn trace(mut self, sink: Arc<dyn TraceSink>) -> Self {
        self.trace = sink;
        self
    }
    /// Replay mode: every request is answered by `responder` (no network; requests are still
    /// built, signed and traced).
    pub fn replay(mut self, responder: Arc<dyn Responder>) -> Self {
        self.replay = Some(responder);
        self
    }

    /// Builds the client: checks the settings, and warns (in [`DmpClient::warnings`] and the
    /// log) about an expired authentication certificate.
    pub fn build(self) -> Result<DmpClient> {
        self.settings.validate()?;
        let signer = self
            .signer
            .ok_or_else(|| DmpError::Config("no signer for the VIHF (signing PKCS#12)".into()))?;
        let http = self.http.unwrap_or_else(|| self.settings.http_config());
        let mut warnings = Vec::new();
        let transport = match self.replay {
            Some(r) => Transport::Replay(r),
            None => {
                let anchors = self
                    .anchors
                    .ok_or_else(|| DmpError::Config("no trust anchors".into()))?;
                let identity = self.identity.ok_or_else(|| {
                    DmpError::Config("no client certificate (ORG authentication)".into())
                })?;
                if let Some(na) = identity.not_after() {
                    if na < Utc::now() {
                        warnings.push(format!("the authentication certificate expired on {na}"));
                    }
                }
                let config = tls::client_config(&anchors, Some(&identity))?;
                Transport::Https(HttpsClient::new(config, http.clone()))
            }
        };
        for w in &warnings {
            tracing::warn!(target: "segur::dmp", "{w}");
        }
        let max_document_bytes = self.settings.max_document_bytes();
        let secteur = self.settings.structure.secteur()?;
        let s = self.settings;
        Ok(DmpClient {
            inner: Arc::new(Inner {
                transport,
                id: Identity {
                    endpoint: s.endpoint.trim().trim_end_matches('/').to_owned(),
                    sender_oid: s.sender_oid.trim().to_owned(),
                    source_id: s.source_id.trim().to_owned(),
                    structure: s.structure,
                    secteur,
                    lps: vihf::Lps {
                        nom: s.lps.name,
                        version: s.lps.version,
                        id_homologation_dmp: s.lps.homologation,
                        id: s.lps.id,
                    },
                    ins_mode: if s.test_ins {
                        InsMode::Sandbox
                    } else {
                        InsMode::Production
                    },
                    max_document_bytes,
                },
                signer,
                xml_limits: XmlLimits {
                    max_bytes: http.max_response_bytes,
                    max_depth: 64,
                    max_nodes: 1_000_000,
                },
                mtom_limits: MtomLimits {
                    max_total: http.max_response_bytes,
                    max_part: max_document_bytes,
                    max_parts: 64,
                },
                warnings,
            }),
            trace: self.trace,
        })
    }
}

/// One request to send.
struct Call<'a> {
    operation: &'static str,
    service: Service,
    action: &'static str,
    body: String,
    attachments: Vec<Attachment>,
    mtom: bool,
    patient: &'a QualifiedIdentity,
}

/// A received reply: the SOAP payload and the multipart message it came in.
struct Received {
    reply: envelope::Reply,
    message: Multipart,
}

impl DmpClient {
    /// A builder from settings (credentials are given to the builder, or use
    /// [`DmpClient::from_settings`]).
    pub fn builder(settings: DmpSettings) -> DmpClientBuilder {
        DmpClientBuilder {
            settings,
            anchors: None,
            identity: None,
            signer: None,
            http: None,
            trace: Arc::new(NoTrace),
            replay: None,
        }
    }

    /// A client from settings, reading the trust anchors and both PKCS#12 files (relative paths
    /// from `base_dir`, the settings file's folder).
    pub fn from_settings(
        settings: &DmpSettings,
        base_dir: &std::path::Path,
        trace: Arc<dyn TraceSink>,
    ) -> Result<DmpClient> {
        let anchors = settings.trust_anchors(base_dir)?;
        let identity = settings.auth_identity(base_dir)?;
        let (p12, pw) = settings.signing_pkcs12(base_dir)?;
        let signer = segur_net::dsig::Pkcs12Signer::from_pkcs12(&p12, &pw)?;
        DmpClient::builder(settings.clone())
            .trust_anchors(anchors)
            .client_identity(identity)
            .signer(Arc::new(signer))
            .trace(trace)
            .build()
    }

    /// The same client (same pool) recording into another sink.
    pub fn with_trace(&self, sink: Arc<dyn TraceSink>) -> DmpClient {
        DmpClient {
            inner: self.inner.clone(),
            trace: sink,
        }
    }

    /// Configuration warnings found at build time.
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// The base URL of the services.
    pub fn endpoint(&self) -> &str {
        &self.inner.id.endpoint
    }

    /// The largest document sent or retrieved.
    pub fn max_document_bytes(&self) -> usize {
        self.inner.id.max_document_bytes
    }

    // ---- internals -----------------------------------------------------------------------

    fn submission_set(
        &self,
        user: &DmpUser,
        patient_cx: &str,
        content_type: Code,
    ) -> SubmissionSet {
        let s = &self.inner.id.structure;
        let author = Author {
            person: Some(user.xcn()),
            institutions: vec![format!(
                "{}^^^^^&{OID_IDNAT_STRUCTURE}&ISO^IDNST^^^{}",
                s.name, s.id_nat
            )],
            roles: Vec::new(),
            specialties: vec![user.author_specialty()],
            telecommunications: Vec::new(),
        };
        SubmissionSet::new(&self.inner.id.source_id, patient_cx, content_type, author)
    }

    /// Builds and signs the VIHF of one request (`dmp.md` §4): a fresh assertion whose
    /// `resource-id` is the patient.
    fn vihf(&self, who: Acting<'_>, patient: &QualifiedIdentity) -> Result<String> {
        let id = &self.inner.id;
        let u = who.user;
        let mut b = vihf::Vihf::builder()
            .ps_id(u.ps_id.clone())
            .subject_name(&format!("{} {}", u.nom, u.prenom))
            .role(u.role)
            .structure(&id.structure.id_nat)
            .secteur_activite(id.secteur.clone())
            .purpose(who.purpose)
            .patient(patient, id.ins_mode)
            .lps(id.lps.clone())
            .authentification_mode(u.auth_mode);
        if let Some(s) = u.specialty {
            b = b.specialty(s);
        }
        Ok(b.build()?.sign(self.inner.signer.as_ref())?.into_xml())
    }

    /// Sends one request and parses its reply with `parse`; traces the exchange whatever
    /// happens once a request exists.
    async fn call<T>(
        &self,
        who: Acting<'_>,
        call: Call<'_>,
        parse: impl FnOnce(Received) -> Result<T>,
    ) -> Result<T> {
        let message_id = Uuid::new_v4();
        let url = call.service.url(&self.inner.id.endpoint);
        let vihf = self.vihf(who, call.patient)?;
        let env = envelope::write_request(
            &RequestHeader {
                message_id,
                to: &url,
                action: call.action,
                vihf: &vihf,
            },
            &call.body,
        )?;
        drop(vihf);
        let (content_type, request) = if call.mtom {
            let (ct, body) = mtom::build(env.as_bytes(), call.action, &call.attachments);
            (ct, Bytes::from(body))
        } else {
            (envelope::content_type(call.action), Bytes::from(env))
        };
        let started_at = Utc::now();
        let t0 = Instant::now();
        let (endpoint, sent): (String, Result<(u16, Option<String>, Bytes)>) =
            match &self.inner.transport {
                Transport::Replay(r) => {
                    let reply = r.respond(&ReplayRequest {
                        service: call.service,
                        action: call.action,
                        content_type: &content_type,
                        body: &request,
                    });
                    (
                        "replay".to_owned(),
                        Ok((reply.status, Some(reply.content_type), reply.body)),
                    )
                }
                Transport::Https(client) => (
                    url.clone(),
                    client
                        .post(&url, &content_type, &[], request.clone())
                        .await
                        .map(|r| (r.status, r.content_type, r.body))
                        .map_err(DmpError::from),
                ),
            };
        let (http_status, response, result) = match sent {
            Ok((status, ct, body)) => {
                let parsed = self
                    .read(status, ct.as_deref(), &body, &url)
                    .and_then(parse);
                (Some(status), Some(body), parsed)
            }
            Err(e) => (None, None, Err(e)),
        };
        self.trace.record(&Exchange {
            service: "dmp",
            operation: call.operation.to_owned(),
            message_id: format!("uuid:{message_id}"),
            endpoint,
            started_at,
            duration: t0.elapsed(),
            request,
            response,
            http_status,
            outcome: trace_outcome(&result),
        });
        result
    }

    /// Reads an HTTP reply: MTOM or plain SOAP; SOAP faults (HTTP 400/500) become errors.
    fn read(
        &self,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
        url: &str,
    ) -> Result<Received> {
        let ok_status = matches!(status, 200 | 202);
        if !ok_status && !matches!(status, 400 | 500) {
            return Err(DmpError::Net(NetError::HttpStatus {
                endpoint: url.to_owned(),
                status,
            }));
        }
        let ct = content_type.unwrap_or("application/soap+xml");
        let parsed = mtom::parse(ct, body, &self.inner.mtom_limits).and_then(|message| {
            let reply = envelope::read_reply(&message.root.body, &self.inner.xml_limits)?;
            Ok(Received { reply, message })
        });
        match parsed {
            // A fault is the answer, whatever the status.
            Err(e @ (DmpError::Refused { .. } | DmpError::Fault { .. })) => Err(e),
            Err(_) if !ok_status => Err(DmpError::Net(NetError::HttpStatus {
                endpoint: url.to_owned(),
                status,
            })),
            other => other,
        }
    }
}

impl<'a> Call<'a> {
    fn soap(
        operation: &'static str,
        service: Service,
        action: &'static str,
        body: String,
        patient: &'a QualifiedIdentity,
    ) -> Self {
        Self {
            operation,
            service,
            action,
            body,
            attachments: Vec::new(),
            mtom: false,
            patient,
        }
    }
}

/// A registry response's outcome; a failure carrying a DMP refusal code (`docs/dmp-wire.md`)
/// becomes [`DmpError::Refused`] (the registry's `codeContext` may quote submitted values, so
/// the reason given is the code's description), any other failure [`DmpError::Registry`].
pub fn registry_outcome(response: &RegistryResponse) -> Result<xds::Outcome> {
    match response.outcome() {
        Err(DmpError::Registry(errors)) => {
            let refusal = errors
                .0
                .iter()
                .filter(|e| e.severity == xds::Severity::Error)
                .find_map(|e| RefusalCode::from_code(e.code.as_str()));
            Err(match refusal {
                Some(code) => DmpError::Refused {
                    code,
                    reason: code.description().to_owned(),
                },
                None => DmpError::Registry(errors),
            })
        }
        other => other,
    }
}

/// Lower-case hex SHA-1, the XDS `hash` (ITI TF-3 §4.2.3.2.4).
fn sha1_hex(bytes: &[u8]) -> String {
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The trace outcome of a call (codes only, no patient data).
fn trace_outcome<T>(result: &Result<T>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(DmpError::Refused { code, .. }) => Outcome::Fault(code.code().to_owned()),
        Err(DmpError::Fault { code, subcodes, .. }) => {
            Outcome::Fault(subcodes.first().unwrap_or(code).clone())
        }
        Err(DmpError::Registry(errors)) => Outcome::Fault(errors.to_string()),
        Err(DmpError::Rejected { status, .. }) => Outcome::Fault(status.clone()),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}
