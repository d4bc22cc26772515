//! The DMP simulator: the four DMP web services (`dmp.md` §2) under
//! `/si-dmp-server/v2/services/` — `patients` (TD0.2), `habilitations` (TD0.3), `registry`
//! (ITI-18 stored queries, ITI-57 updates) and `repository` (ITI-41 provide and register, ITI-43
//! retrieve, MTOM/XOP) — over the sandbox's mutual TLS, with state in SQLite ([`store`]) seeded
//! with test DMPs ([`seeds`]).
//!
//! Written from the specs (IHE ITI TF-2/3, ebRS 3.0, `dmp.md`, `docs/dmp-wire.md`), not from
//! our client: requests are read by namespace and local name, in any order, plain SOAP 1.2 or
//! MTOM. Every request must carry a `wsa:Action` of the endpoint (else the WS-Addressing fault
//! `wsa:ActionNotSupported`) and a signed VIHF ([`vihf`]); the answers are the official shapes
//! (`rs:RegistryResponse`, `query:AdhocQueryResponse`, `xdsb:RetrieveDocumentSetResponse`, HL7v3
//! `PRPA_IN201308UV02`) with the registry error codes of ITI TF-3 Table 4.2.4.1-2 and the DMP
//! codes of `docs/dmp-wire.md`.
//!
//! Fault switches ([`DmpFaults`]), also over HTTP at `/sandbox/dmp/faults`: SOAP faults on every
//! call, a delay (timeouts), and malformed answers (truncated XML or MTOM).

pub mod ebrim;
pub mod habilitations;
pub mod patients;
pub mod registry;
pub mod repository;
pub mod seeds;
pub mod store;
mod submission;
pub mod vihf;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use segur_dmp::mtom::{self, Attachment, MtomLimits};
use segur_net::http::{HttpReply, HttpRequest};
use segur_net::soap::{self, Content, WSA_NS};
use segur_net::xml::{escape, XmlLimits};

use crate::SandboxError;
use ebrim::RegistryError;
use store::{DmpRecord, OppositionKind, Store};
use vihf::{ChainCache, PurposeOfUse, TrustedCas, Vihf, VihfError};

/// Base path of the services, as on the real DMP (`dmp.md` §1).
pub const BASE_PATH: &str = "/si-dmp-server/v2/services";
/// Path of the fault switches.
pub const FAULTS_PATH: &str = "/sandbox/dmp/faults";
/// OID of the DMP system: HL7v3 device id of TD0.2 (`dmp.md` §2).
pub const DMP_DEVICE_ID: &str = "1.2.250.1.213.4.1.1.1";
/// `repositoryUniqueId` of the sandbox repository [I: the DMP's own value is not public].
pub const REPOSITORY_UNIQUE_ID: &str = "1.2.250.1.213.4.1.1.1";
/// Largest request body the DMP server reads: an MTOM message with two 50 MiB documents.
pub const MAX_REQUEST_BYTES: usize = 2 * mtom::MAX_DOCUMENT_SIZE + 16 * 1024 * 1024;

/// WS-Addressing action of SOAP faults (WS-Addressing 1.0 SOAP binding §6).
const WSA_SOAP_FAULT: &str = "http://www.w3.org/2005/08/addressing/soap/fault";
/// WS-Addressing action of addressing faults.
const WSA_FAULT: &str = "http://www.w3.org/2005/08/addressing/fault";

/// The four services (`dmp.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// `/registry`: ITI-18, ITI-57.
    Registry,
    /// `/repository`: ITI-41, ITI-43.
    Repository,
    /// `/patients`: TD0.2.
    Patients,
    /// `/habilitations`: TD0.3.
    Habilitations,
}

impl Service {
    /// The service at an HTTP path.
    pub fn from_path(path: &str) -> Option<Self> {
        match path.strip_prefix(BASE_PATH)?.trim_end_matches('/') {
            "/registry" => Some(Self::Registry),
            "/repository" => Some(Self::Repository),
            "/patients" => Some(Self::Patients),
            "/habilitations" => Some(Self::Habilitations),
            _ => None,
        }
    }

    /// The operation a `wsa:Action` names on this service.
    pub fn operation(self, action: &str) -> Option<Operation> {
        let op = match action {
            "urn:ihe:iti:2007:RegistryStoredQuery" => Operation::StoredQuery,
            "urn:ihe:iti:2010:UpdateDocumentSet" => Operation::UpdateDocumentSet,
            "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b" => Operation::ProvideAndRegister,
            "urn:ihe:iti:2007:RetrieveDocumentSet" => Operation::Retrieve,
            "urn:hl7-org:v3:PRPA_IN201307UV02" => Operation::ExistenceTest,
            "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization" => {
                Operation::SetAuthorization
            }
            "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatient" => {
                Operation::ListAuthorizations
            }
            _ => return None,
        };
        (op.service() == self).then_some(op)
    }
}

/// One DMP transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// TD0.2 existence test (`PRPA_IN201307UV02`).
    ExistenceTest,
    /// TD0.3 `setAuthorization`.
    SetAuthorization,
    /// TD0.3 `listAuthorizationByPatient`.
    ListAuthorizations,
    /// ITI-18 Registry Stored Query (TD3.1).
    StoredQuery,
    /// ITI-57 Update Document Set (TD3.3).
    UpdateDocumentSet,
    /// ITI-41 Provide and Register Document Set-b (TD2.1/2.2).
    ProvideAndRegister,
    /// ITI-43 Retrieve Document Set (TD3.2).
    Retrieve,
}

impl Operation {
    /// The service that offers it.
    pub fn service(self) -> Service {
        match self {
            Self::ExistenceTest => Service::Patients,
            Self::SetAuthorization | Self::ListAuthorizations => Service::Habilitations,
            Self::StoredQuery | Self::UpdateDocumentSet => Service::Registry,
            Self::ProvideAndRegister | Self::Retrieve => Service::Repository,
        }
    }

    /// The `wsa:Action` of the response (IHE ITI TF-2 WSDLs; `docs/dmp-wire.md`).
    pub fn response_action(self) -> &'static str {
        match self {
            Self::ExistenceTest => "urn:hl7-org:v3:PRPA_IN201308UV02",
            Self::SetAuthorization => {
                "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorizationResponse"
            }
            Self::ListAuthorizations => {
                "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatientResponse"
            }
            Self::StoredQuery => "urn:ihe:iti:2007:RegistryStoredQueryResponse",
            Self::UpdateDocumentSet => "urn:ihe:iti:2010:UpdateDocumentSetResponse",
            Self::ProvideAndRegister => "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse",
            Self::Retrieve => "urn:ihe:iti:2007:RetrieveDocumentSetResponse",
        }
    }

    /// The body element the request must carry (namespace, local name).
    fn request_element(self) -> (&'static str, &'static str) {
        match self {
            Self::ExistenceTest => (ebrim::HL7_NS, "PRPA_IN201307UV02"),
            Self::SetAuthorization => (habilitations::NS, "setAuthorization"),
            Self::ListAuthorizations => (habilitations::NS, "listAuthorizationByPatient"),
            Self::StoredQuery => (ebrim::QUERY_NS, "AdhocQueryRequest"),
            Self::UpdateDocumentSet => (ebrim::LCM_NS, "SubmitObjectsRequest"),
            Self::ProvideAndRegister => (ebrim::XDSB_NS, "ProvideAndRegisterDocumentSetRequest"),
            Self::Retrieve => (ebrim::XDSB_NS, "RetrieveDocumentSetRequest"),
        }
    }

    /// Whether refusals are registry errors in the response (XDS) rather than SOAP faults.
    fn is_xds(self) -> bool {
        matches!(self.service(), Service::Registry | Service::Repository)
    }
}

/// Switches for the failure paths, shared with the running server.
#[derive(Debug, Default)]
pub struct DmpFaults {
    soap: AtomicBool,
    delay_ms: AtomicU64,
    malformed: AtomicBool,
    lost_answers: AtomicU64,
}

impl DmpFaults {
    /// Every call answered by a SOAP `Receiver` fault (service unavailable).
    pub fn set_soap_fault(&self, on: bool) {
        self.soap.store(on, Ordering::SeqCst);
    }
    /// Whether SOAP faults are on.
    pub fn soap_fault(&self) -> bool {
        self.soap.load(Ordering::SeqCst)
    }
    /// Delay added before answering (timeouts).
    pub fn set_delay(&self, d: Duration) {
        self.delay_ms.store(
            d.as_millis().min(u128::from(u64::MAX)) as u64,
            Ordering::SeqCst,
        );
    }
    /// The current delay.
    pub fn delay(&self) -> Duration {
        Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))
    }
    /// Answers truncated (XML cut in the middle, MTOM without its closing boundary).
    pub fn set_malformed(&self, on: bool) {
        self.malformed.store(on, Ordering::SeqCst);
    }
    /// Whether malformed answers are on.
    pub fn malformed(&self) -> bool {
        self.malformed.load(Ordering::SeqCst)
    }
    /// The next `n` ITI-41 submissions are committed, then their answer is lost: the reply is
    /// cut in the middle, as when the connection drops after the DMP stored the documents
    /// (the client then retries and meets `XDSDuplicateUniqueIdInRegistry`).
    pub fn set_lost_answers(&self, n: u64) {
        self.lost_answers.store(n, Ordering::SeqCst);
    }
    /// How many ITI-41 answers are still to be lost.
    pub fn lost_answers(&self) -> u64 {
        self.lost_answers.load(Ordering::SeqCst)
    }
    /// Takes one lost answer if any is left.
    fn take_lost_answer(&self) -> bool {
        self.lost_answers
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// Why the DMP refuses a request for this patient (`docs/dmp-wire.md` "DMP refusals").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `DMP_VIHF_INVALIDE`.
    Vihf(VihfError),
    /// `DMP_INEXISTANT`.
    Inexistant,
    /// `DMP_FERME`.
    Ferme,
    /// `DMP_ACCES_NON_AUTORISE`.
    NonAutorise,
    /// `DMP_OPPOSITION`.
    Opposition,
    /// `DMP_PATIENT_DIFFERENT`.
    PatientDifferent,
}

impl Refusal {
    /// The DMP code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Vihf(_) => "DMP_VIHF_INVALIDE",
            Self::Inexistant => "DMP_INEXISTANT",
            Self::Ferme => "DMP_FERME",
            Self::NonAutorise => "DMP_ACCES_NON_AUTORISE",
            Self::Opposition => "DMP_OPPOSITION",
            Self::PatientDifferent => "DMP_PATIENT_DIFFERENT",
        }
    }

    /// The French explanation.
    pub fn reason(&self) -> String {
        match self {
            Self::Vihf(e) => e.reason(),
            Self::Inexistant => "Aucun DMP n'existe pour ce patient.".into(),
            Self::Ferme => "Le DMP de ce patient est fermé.".into(),
            Self::NonAutorise => "Le professionnel n'est pas autorisé à accéder à ce DMP.".into(),
            Self::Opposition => "Le patient s'est opposé à cet accès.".into(),
            Self::PatientDifferent => {
                "Le patient de la requête diffère de celui du VIHF (resource-id).".into()
            }
        }
    }

    /// The registry errors of an XDS answer: the DMP code, plus the IHE code that goes with it
    /// on ITI-41 (`docs/dmp-wire.md`).
    pub fn registry_errors(&self, op: Operation) -> Vec<RegistryError> {
        let mut v = vec![RegistryError::new(self.code(), self.reason())];
        match self {
            Self::Inexistant if op == Operation::ProvideAndRegister => v.push(RegistryError::new(
                "XDSUnknownPatientId",
                "Identifiant patient inconnu du registre.",
            )),
            Self::PatientDifferent => v.push(RegistryError::new(
                "XDSPatientIdDoesNotMatch",
                "patientId différent du resource-id du VIHF.",
            )),
            _ => {}
        }
        v
    }
}

/// What an access needs (dmp.md §9: feeding needs no TD0.3 authorization, consultation does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// ITI-41: the DMP must exist, be open, and the patient must not have opposed.
    Feed,
    /// ITI-18, ITI-43, ITI-57: and the professional must be authorized (or in emergency
    /// access, `bris_de_glace` / `centre_15`).
    Consult,
}

/// Checks that the VIHF's patient has an open DMP this professional may access.
pub fn check_access(
    db: &store::Db<'_>,
    vihf: &Vihf,
    access: Access,
    now: DateTime<Utc>,
) -> Result<Result<DmpRecord, Refusal>, SandboxError> {
    let Some(dmp) = db.dmp(&vihf.patient.id)? else {
        return Ok(Err(Refusal::Inexistant));
    };
    if dmp.oid != vihf.patient.oid {
        return Ok(Err(Refusal::Inexistant));
    }
    if dmp.closed {
        return Ok(Err(Refusal::Ferme));
    }
    if db.opposed(&dmp.ins, &vihf.ps_id, OppositionKind::Acces)? {
        return Ok(Err(Refusal::Opposition));
    }
    match access {
        Access::Feed => {
            if db.opposed(&dmp.ins, &vihf.ps_id, OppositionKind::Alimentation)? {
                return Ok(Err(Refusal::Opposition));
            }
        }
        Access::Consult => {
            let emergency = matches!(
                vihf.purpose,
                PurposeOfUse::BrisDeGlace | PurposeOfUse::Centre15
            );
            let authorized = db
                .habilitation(&dmp.ins, &vihf.ps_id)?
                .is_some_and(|h| habilitations::status_of(&h, now) == "AUTORISE");
            if !authorized && !emergency {
                return Ok(Err(Refusal::NonAutorise));
            }
        }
    }
    Ok(Ok(dmp))
}

/// An answer before SOAP wrapping: the body payload and MIME attachments.
pub(crate) struct Answer {
    body: String,
    attachments: Vec<Attachment>,
}

impl Answer {
    fn xml(body: String) -> Self {
        Self {
            body,
            attachments: Vec::new(),
        }
    }
}

/// A SOAP fault to send.
struct FaultSpec {
    code: &'static str,
    subcode: Option<String>,
    reason: String,
    detail: String,
    action: &'static str,
}

impl FaultSpec {
    fn sender(reason: impl Into<String>) -> Self {
        Self {
            code: "Sender",
            subcode: None,
            reason: reason.into(),
            detail: String::new(),
            action: WSA_SOAP_FAULT,
        }
    }

    fn dmp(refusal: &Refusal) -> Self {
        Self {
            code: "Sender",
            subcode: Some(refusal.code().to_owned()),
            reason: refusal.reason(),
            detail: String::new(),
            action: WSA_SOAP_FAULT,
        }
    }
}

/// The DMP simulator.
#[derive(Debug)]
pub struct DmpSimulator {
    store: Store,
    faults: Arc<DmpFaults>,
    trust: TrustedCas,
    chains: ChainCache,
    xml_limits: XmlLimits,
    mtom_limits: MtomLimits,
}

impl DmpSimulator {
    /// Opens the store at `db_path` (created if missing; seeded with [`seeds`] once) and builds
    /// the simulator. `trust` holds the CAs whose certificates may sign VIHFs.
    pub fn open(
        db_path: &Path,
        trust: TrustedCas,
        faults: Arc<DmpFaults>,
    ) -> Result<Self, SandboxError> {
        Self::with_store(Store::open(db_path)?, trust, faults)
    }

    /// Builds the simulator over a store (seeded once).
    pub fn with_store(
        store: Store,
        trust: TrustedCas,
        faults: Arc<DmpFaults>,
    ) -> Result<Self, SandboxError> {
        seeds::seed(&store)?;
        Ok(Self {
            store,
            faults,
            trust,
            chains: ChainCache::default(),
            xml_limits: XmlLimits {
                max_bytes: MAX_REQUEST_BYTES,
                max_depth: 64,
                max_nodes: 1_000_000,
            },
            mtom_limits: MtomLimits::default(),
        })
    }

    /// The fault switches.
    pub fn faults(&self) -> &Arc<DmpFaults> {
        &self.faults
    }

    /// The store (tests inspect the state through it).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Answers one HTTP request (the SOAP work runs on the blocking pool).
    pub async fn handle(self: Arc<Self>, req: HttpRequest) -> HttpReply {
        let delay = self.faults.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if req.path == FAULTS_PATH {
            return self.control(&req);
        }
        let Some(service) = Service::from_path(&req.path) else {
            return HttpReply::new(404, "text/plain", "not found");
        };
        if req.method != "POST" {
            return HttpReply::new(405, "text/plain", "POST only");
        }
        let content_type = req.header("content-type").unwrap_or("").to_owned();
        let sim = Arc::clone(&self);
        let body = req.body;
        match tokio::task::spawn_blocking(move || sim.answer(service, &content_type, &body)).await {
            Ok(reply) => reply,
            Err(_) => HttpReply::new(500, "text/plain", "internal error"),
        }
    }

    /// The fault switches over HTTP (sandbox only, same mutual TLS): `POST /sandbox/dmp/faults`
    /// with `fault=soap|off`, `delay_ms=N`, `malformed=on|off`, `lost_answers=N` (the next N
    /// ITI-41 are committed and their answer cut) (`&` or newline separated); `GET` reads them.
    fn control(&self, req: &HttpRequest) -> HttpReply {
        if req.method == "POST" {
            let body = String::from_utf8_lossy(&req.body);
            for part in body
                .split(['&', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                match part.split_once('=') {
                    Some(("fault", "soap")) => self.faults.set_soap_fault(true),
                    Some(("fault", "off")) => self.faults.set_soap_fault(false),
                    Some(("malformed", "on")) => self.faults.set_malformed(true),
                    Some(("malformed", "off")) => self.faults.set_malformed(false),
                    Some(("lost_answers", v)) => match v.parse::<u64>() {
                        Ok(n) => self.faults.set_lost_answers(n),
                        Err(_) => {
                            return HttpReply::new(
                                400,
                                "text/plain",
                                "lost_answers must be an integer",
                            )
                        }
                    },
                    Some(("delay_ms", v)) => match v.parse::<u64>() {
                        Ok(ms) => self.faults.set_delay(Duration::from_millis(ms)),
                        Err(_) => {
                            return HttpReply::new(400, "text/plain", "delay_ms must be an integer")
                        }
                    },
                    _ => return HttpReply::new(
                        400,
                        "text/plain",
                        "expected fault=soap|off, delay_ms=N, malformed=on|off or lost_answers=N",
                    ),
                }
            }
        } else if req.method != "GET" {
            return HttpReply::new(405, "text/plain", "GET or POST");
        }
        HttpReply::new(
            200,
            "text/plain",
            format!(
                "fault={}\ndelay_ms={}\nmalformed={}\nlost_answers={}\n",
                if self.faults.soap_fault() {
                    "soap"
                } else {
                    "off"
                },
                self.faults.delay().as_millis(),
                if self.faults.malformed() { "on" } else { "off" },
                self.faults.lost_answers(),
            ),
        )
    }

    /// Answers one SOAP message (plain or MTOM) sent to `service`.
    pub fn answer(&self, service: Service, content_type: &str, body: &[u8]) -> HttpReply {
        let reply = self.answer_inner(service, content_type, body);
        if self.faults.malformed() {
            return garble(reply);
        }
        reply
    }

    fn answer_inner(&self, service: Service, content_type: &str, body: &[u8]) -> HttpReply {
        let message = match mtom::parse(content_type, body, &self.mtom_limits) {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, "DMP sandbox: unreadable MIME message");
                return fault_reply(
                    &FaultSpec::sender(format!("Message MIME/MTOM illisible : {e}")),
                    None,
                );
            }
        };
        let was_mtom = content_type
            .trim_start()
            .to_ascii_lowercase()
            .starts_with("multipart/related");
        let raw = message.root.body.clone();
        let env = match soap::parse_envelope(&raw, &self.xml_limits) {
            Ok(e) => e,
            Err(segur_net::NetError::NotSoap(m)) if m.contains("1.1") => {
                let mut f = FaultSpec::sender("Seul SOAP 1.2 est accepté.");
                f.code = "VersionMismatch";
                return fault_reply(&f, None);
            }
            Err(e) => {
                return fault_reply(
                    &FaultSpec::sender(format!("Enveloppe SOAP 1.2 invalide : {e}")),
                    None,
                )
            }
        };
        let message_id = env
            .header_block(WSA_NS, "MessageID")
            .map(|m| m.text().trim().to_owned());
        let relates = message_id.as_deref();
        let Some(action) = env
            .header_block(WSA_NS, "Action")
            .map(|a| a.text().trim().to_owned())
        else {
            let f = FaultSpec {
                code: "Sender",
                subcode: Some("wsa:MessageAddressingHeaderRequired".into()),
                reason:
                    "A required header representing a Message Addressing Property is not present"
                        .into(),
                detail: "<wsa:ProblemHeaderQName>wsa:Action</wsa:ProblemHeaderQName>".into(),
                action: WSA_FAULT,
            };
            return fault_reply(&f, relates);
        };
        let Some(op) = service.operation(&action) else {
            let f = FaultSpec {
                code: "Sender",
                subcode: Some("wsa:ActionNotSupported".into()),
                reason: format!(
                    "The [action] cannot be processed at the receiver: {}",
                    sanitize(&action)
                ),
                detail: format!(
                    "<wsa:ProblemAction><wsa:Action>{}</wsa:Action></wsa:ProblemAction>",
                    escape(&action)
                ),
                action: WSA_FAULT,
            };
            return fault_reply(&f, relates);
        };
        if self.faults.soap_fault() {
            let f = FaultSpec {
                code: "Receiver",
                subcode: None,
                reason: "Le service DMP est temporairement indisponible (bac à sable).".into(),
                detail: String::new(),
                action: WSA_SOAP_FAULT,
            };
            return fault_reply(&f, relates);
        }
        let payload = match env.content() {
            Ok(Content::Payload(p)) => p,
            _ => return fault_reply(&FaultSpec::sender("Le corps SOAP est vide."), relates),
        };
        let (ns, name) = op.request_element();
        if !payload.is(ns, name) {
            return fault_reply(
                &FaultSpec::sender(format!(
                    "Élément {name} attendu dans le corps pour cette action."
                )),
                relates,
            );
        }
        let now = Utc::now();
        let vihf = match vihf::check_cached(
            &raw,
            &env,
            &self.trust,
            &self.chains,
            &self.xml_limits,
            now,
        ) {
            Ok(v) => v,
            Err(e) => {
                tracing::debug!(error = %e, "DMP sandbox: VIHF refused");
                let refusal = Refusal::Vihf(e);
                if op.is_xds() {
                    let answer = xds_refusal(op, &refusal.registry_errors(op));
                    return self.wrap(op, answer, relates, was_mtom);
                }
                return fault_reply(&FaultSpec::dmp(&refusal), relates);
            }
        };
        let result = match op {
            Operation::ExistenceTest => patients::existence_test(self, &vihf, payload, now),
            Operation::SetAuthorization => {
                habilitations::set_authorization(self, &vihf, payload, now)
            }
            Operation::ListAuthorizations => habilitations::list(self, &vihf, now),
            Operation::StoredQuery => registry::stored_query(self, &vihf, payload, now),
            Operation::UpdateDocumentSet => registry::update(self, &vihf, payload, now),
            Operation::ProvideAndRegister => {
                repository::provide_and_register(self, &vihf, payload, &message, now)
            }
            Operation::Retrieve => repository::retrieve(self, &vihf, payload, now),
        };
        match result {
            // A committed submission whose answer is lost (`DmpFaults::set_lost_answers`).
            Ok(answer)
                if op == Operation::ProvideAndRegister
                    && answer.body.contains(ebrim::STATUS_SUCCESS)
                    && self.faults.take_lost_answer() =>
            {
                garble(self.wrap(op, answer, relates, was_mtom))
            }
            Ok(answer) => self.wrap(op, answer, relates, was_mtom),
            Err(OpError::Refused(r)) => fault_reply(&FaultSpec::dmp(&r), relates),
            Err(OpError::BadRequest(reason)) => fault_reply(&FaultSpec::sender(reason), relates),
            Err(OpError::Store(e)) => {
                tracing::warn!(error = %e, "DMP sandbox: store failure");
                if op.is_xds() {
                    let answer = xds_refusal(
                        op,
                        &[RegistryError::new(
                            "XDSRegistryError",
                            "Erreur interne du registre du bac à sable.",
                        )],
                    );
                    return self.wrap(op, answer, relates, was_mtom);
                }
                let f = FaultSpec {
                    code: "Receiver",
                    subcode: None,
                    reason: "Erreur interne du bac à sable DMP.".into(),
                    detail: String::new(),
                    action: WSA_SOAP_FAULT,
                };
                fault_reply(&f, relates)
            }
        }
    }

    /// Wraps an answer in a SOAP 1.2 envelope with its WS-Addressing headers; MTOM for ITI-43
    /// and for any XDS answer to an MTOM request.
    fn wrap(
        &self,
        op: Operation,
        answer: Answer,
        relates: Option<&str>,
        was_mtom: bool,
    ) -> HttpReply {
        let action = op.response_action();
        let envelope = envelope(action, relates, &answer.body);
        if op == Operation::Retrieve || (was_mtom && op.is_xds()) {
            let (ct, body) = mtom::build(envelope.as_bytes(), action, &answer.attachments);
            return HttpReply::new(200, ct, body);
        }
        HttpReply::new(
            200,
            format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
            envelope,
        )
    }
}

/// What an operation can fail with besides its own answer shapes.
pub(crate) enum OpError {
    /// A DMP refusal sent as a SOAP fault (TD0.2, TD0.3).
    Refused(Refusal),
    /// A request that does not follow the message shape (SOAP Sender fault).
    BadRequest(String),
    /// The store failed.
    Store(SandboxError),
}

impl From<SandboxError> for OpError {
    fn from(e: SandboxError) -> Self {
        Self::Store(e)
    }
}

/// The answer of an XDS operation refused as a whole with these errors.
fn xds_refusal(op: Operation, errors: &[RegistryError]) -> Answer {
    match op {
        Operation::StoredQuery => Answer::xml(registry::query_response(errors, None, &[])),
        Operation::Retrieve => Answer::xml(repository::retrieve_response(
            ebrim::STATUS_FAILURE,
            errors,
            &[],
        )),
        _ => Answer::xml(registry_response(errors)),
    }
}

/// `rs:RegistryResponse`: Success without errors, Failure with them (ebRS 3.0 rs.xsd).
pub(crate) fn registry_response(errors: &[RegistryError]) -> String {
    let mut out = String::with_capacity(256 + errors.len() * 200);
    out.push_str("<rs:RegistryResponse xmlns:rs=\"");
    out.push_str(ebrim::RS_NS);
    out.push_str("\" status=\"");
    out.push_str(if errors.is_empty() {
        ebrim::STATUS_SUCCESS
    } else {
        ebrim::STATUS_FAILURE
    });
    out.push_str("\">");
    ebrim::write_error_list(&mut out, errors);
    out.push_str("</rs:RegistryResponse>");
    out
}

/// A SOAP 1.2 envelope with `wsa:Action`, `wsa:MessageID` and `wsa:RelatesTo`.
fn envelope(action: &str, relates: Option<&str>, body: &str) -> String {
    let mut header = String::with_capacity(300);
    header.push_str("<wsa:Action soap:mustUnderstand=\"true\">");
    header.push_str(&escape(action));
    header.push_str("</wsa:Action><wsa:MessageID>urn:uuid:");
    header.push_str(&uuid::Uuid::new_v4().to_string());
    header.push_str("</wsa:MessageID>");
    if let Some(r) = relates.filter(|r| !r.is_empty()) {
        header.push_str("<wsa:RelatesTo>");
        header.push_str(&escape(r));
        header.push_str("</wsa:RelatesTo>");
    }
    let mut out = String::with_capacity(body.len() + header.len() + 200);
    soap::write_envelope(&mut out, &[("wsa", WSA_NS)], &header, body);
    out
}

/// A fault envelope (SOAP 1.2 Part 1 §5.4) with its HTTP status (Part 2 §7.5.2.2: 400 for
/// `Sender`, 500 otherwise).
fn fault_reply(f: &FaultSpec, relates: Option<&str>) -> HttpReply {
    let mut body = String::with_capacity(512);
    body.push_str("<soap:Fault><soap:Code><soap:Value>soap:");
    body.push_str(f.code);
    body.push_str("</soap:Value>");
    if let Some(sc) = &f.subcode {
        body.push_str("<soap:Subcode><soap:Value>");
        body.push_str(&escape(sc));
        body.push_str("</soap:Value></soap:Subcode>");
    }
    body.push_str("</soap:Code><soap:Reason><soap:Text xml:lang=\"fr\">");
    body.push_str(&escape(&f.reason));
    body.push_str("</soap:Text></soap:Reason>");
    if !f.detail.is_empty() {
        body.push_str("<soap:Detail>");
        body.push_str(&f.detail);
        body.push_str("</soap:Detail>");
    }
    body.push_str("</soap:Fault>");
    let status = if f.code == "Sender" { 400 } else { 500 };
    HttpReply::new(
        status,
        format!(
            "application/soap+xml; charset=UTF-8; action=\"{}\"",
            f.action
        ),
        envelope(f.action, relates, &body),
    )
}

/// Keeps what is safe to echo in a fault reason (printable ASCII, bounded).
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(200)
        .collect()
}

/// Cuts an answer: the XML in the middle, or an MTOM body before its closing boundary.
fn garble(reply: HttpReply) -> HttpReply {
    let keep = reply.body.len() / 2;
    HttpReply::new(reply.status, reply.content_type, reply.body.slice(..keep))
}

/// The current time as an HL7/XDS DTM (`YYYYMMDDHHMMSS`, UTC).
pub(crate) fn dtm(t: DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing() {
        assert_eq!(
            Service::from_path("/si-dmp-server/v2/services/registry"),
            Some(Service::Registry)
        );
        assert_eq!(
            Service::from_path("/si-dmp-server/v2/services/patients/"),
            Some(Service::Patients)
        );
        assert_eq!(Service::from_path("/si-dmp-server/v2/services/x"), None);
        assert_eq!(Service::from_path("/registry"), None);
        assert_eq!(
            Service::Repository.operation("urn:ihe:iti:2007:RetrieveDocumentSet"),
            Some(Operation::Retrieve)
        );
        assert_eq!(
            Service::Registry.operation("urn:ihe:iti:2007:RetrieveDocumentSet"),
            None
        );
        for op in [
            Operation::ExistenceTest,
            Operation::SetAuthorization,
            Operation::ListAuthorizations,
            Operation::StoredQuery,
            Operation::UpdateDocumentSet,
            Operation::ProvideAndRegister,
            Operation::Retrieve,
        ] {
            assert_eq!(
                op.is_xds(),
                matches!(op.service(), Service::Registry | Service::Repository)
            );
        }
    }

    #[test]
    fn faults_and_envelopes() {
        let sim = DmpSimulator::with_store(
            Store::in_memory().unwrap(),
            TrustedCas::default(),
            Arc::new(DmpFaults::default()),
        )
        .unwrap();
        // Garbage in: a SOAP Sender fault, never a panic.
        for body in [&b""[..], b"<", b"\xff\xfe", b"<a/>"] {
            let r = sim.answer(Service::Registry, "application/soap+xml", body);
            assert_eq!(r.status, 400);
        }
        let r = sim.answer(
            Service::Registry,
            "multipart/related; boundary=x",
            b"--x\r\n",
        );
        assert_eq!(r.status, 400);
        sim.faults().set_malformed(true);
        let r = sim.answer(Service::Registry, "application/soap+xml", b"<a/>");
        assert!(soap::parse_envelope(&r.body, &XmlLimits::default()).is_err());
        let rr = registry_response(&[RegistryError::new("XDSRegistryError", "x")]);
        assert!(rr.contains(ebrim::STATUS_FAILURE) && rr.contains("XDSRegistryError"));
        assert!(registry_response(&[]).contains(ebrim::STATUS_SUCCESS));
    }

    #[test]
    fn lost_answers_are_counted_down() {
        let f = DmpFaults::default();
        assert!(!f.take_lost_answer());
        f.set_lost_answers(2);
        assert!(f.take_lost_answer() && f.take_lost_answer());
        assert!(!f.take_lost_answer());
        assert_eq!(f.lost_answers(), 0);
    }
}
