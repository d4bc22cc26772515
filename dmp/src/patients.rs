//! TD0.2, the DMP existence test (`/patients`): does the patient have a DMP, is it closed, what
//! is our access status, and the patient's traits as the DMP knows them.
//!
//! Request: HL7v3 `PRPA_IN201307UV02` (`dmp.md` §2; DRIMbox `VerifyAuthorizationRequest.java`)
//! with `reasonCode TEST_EXST` and the INS in `parameterList/patientIdentifier`. Reply:
//! `PRPA_IN201308UV02` with the `urn:si-dmp:td02` `etatAcces` extension (`docs/dmp-wire.md`,
//! an assumption [I] to check against SEL-MP-037), read tolerantly (any order, unknown elements
//! ignored).
//!
//! The DMP's traits are compared with ours and a difference is reported as
//! [`TraitsMismatch`] naming the fields, never the values (DMP/CONF.01: trace and report).

use std::fmt;

use chrono::{DateTime, Utc};
use segur_ins_core::{QualifiedIdentity, Sexe, TraitsStricts};
use segur_net::xml::{self, Element};
use uuid::Uuid;

use crate::error::{DmpError, Result};
pub use crate::refusal::{FeedBlocked, TraitField, TraitsMismatch};

/// Namespace of HL7 v3 messages.
pub const HL7_NS: &str = "urn:hl7-org:v3";
/// Namespace of the DMP access-status extension of the TD0.2 reply (`docs/dmp-wire.md` [I]).
pub const TD02_NS: &str = "urn:si-dmp:td02";
/// The DMP's device id (receiver of TD0.2, `dmp.md` §2).
pub const DMP_DEVICE_OID: &str = "1.2.250.1.213.4.1.1.1";
/// Code system of the TD0.2 `reasonCode` (`dmp.md` §2).
pub const REASON_CODE_SYSTEM: &str = "1.2.250.1.213.1.1.4.11";

/// What a TD0.2 request needs besides the patient.
#[derive(Debug, Clone, Copy)]
pub struct Td02Request<'a> {
    /// The patient (only a qualified identity may carry its INS, RNIV rule 28).
    pub patient: &'a QualifiedIdentity,
    /// Our sender device id: the LPS / installation OID (`sender/device/id@root`), also the root
    /// of the message and query ids.
    pub sender_oid: &'a str,
    /// Our software name (`sender/device/softwareName`).
    pub sender_name: &'a str,
    /// Message id (`id@extension`).
    pub message_id: Uuid,
    /// Query id (`queryByParameter/queryId@extension`), echoed by the DMP.
    pub query_id: Uuid,
    /// `creationTime`.
    pub created: DateTime<Utc>,
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    out.push_str(&xml::escape(value));
    out.push('"');
}

/// Writes the `PRPA_IN201307UV02` body (the inner XML of `soap:Body`).
pub fn write_request(r: &Td02Request<'_>) -> String {
    let ins = r.patient.ins();
    let mut o = String::with_capacity(2048);
    o.push_str("<PRPA_IN201307UV02 xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ITSVersion=\"XML_1.0\"><id");
    attr(&mut o, "root", r.sender_oid);
    attr(&mut o, "extension", &r.message_id.to_string());
    o.push_str("/><creationTime");
    attr(
        &mut o,
        "value",
        &r.created.format("%Y%m%d%H%M%S").to_string(),
    );
    o.push_str("/><interactionId root=\"2.16.840.1.113883.1.6\" extension=\"PRPA_IN201307UV02\"/><processingCode code=\"P\"/><processingModeCode code=\"T\"/><acceptAckCode code=\"AL\"/>");
    o.push_str("<receiver typeCode=\"RCV\"><device classCode=\"DEV\" determinerCode=\"INSTANCE\"><id root=\"");
    o.push_str(DMP_DEVICE_OID);
    o.push_str("\"/><softwareName>DMP</softwareName></device></receiver>");
    o.push_str(
        "<sender typeCode=\"SND\"><device classCode=\"DEV\" determinerCode=\"INSTANCE\"><id",
    );
    attr(&mut o, "root", r.sender_oid);
    o.push_str("/>");
    xml::push_text_element(&mut o, "softwareName", r.sender_name);
    o.push_str("</device></sender><attentionLine xsi:nil=\"true\"/>");
    o.push_str("<controlActProcess classCode=\"CACT\" moodCode=\"EVN\"><reasonCode code=\"TEST_EXST\" codeSystem=\"");
    o.push_str(REASON_CODE_SYSTEM);
    o.push_str("\" displayName=\"Test d'existence de dossier\"/><queryByParameter><queryId");
    attr(&mut o, "root", r.sender_oid);
    attr(&mut o, "extension", &r.query_id.to_string());
    o.push_str("/><statusCode code=\"new\"/><parameterList><dataSource xsi:nil=\"true\"/><patientIdentifier><value");
    attr(&mut o, "root", ins.oid.as_str());
    attr(&mut o, "extension", &ins.matricule.to_15());
    o.push_str("/><semanticsText>Patient.id</semanticsText></patientIdentifier></parameterList></queryByParameter></controlActProcess></PRPA_IN201307UV02>");
    o
}

/// Our access status to a patient's DMP (`etatAcces@autorisation`, `docs/dmp-wire.md` [I]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Authorization {
    /// `AUTORISE`: we may consult.
    Authorise,
    /// `NON_AUTORISE`: no authorisation yet (TD0.3 AJOUT with the patient's consent).
    NonAutorise,
    /// `INTERDIT`: the patient has blocked this professional.
    Interdit,
    /// `EXPIRE`: an earlier authorisation has expired.
    Expire,
}

impl Authorization {
    /// The wire value.
    pub fn code(self) -> &'static str {
        match self {
            Authorization::Authorise => "AUTORISE",
            Authorization::NonAutorise => "NON_AUTORISE",
            Authorization::Interdit => "INTERDIT",
            Authorization::Expire => "EXPIRE",
        }
    }

    /// Reads a wire value (surrounding spaces ignored).
    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim() {
            "AUTORISE" => Some(Authorization::Authorise),
            "NON_AUTORISE" => Some(Authorization::NonAutorise),
            "INTERDIT" => Some(Authorization::Interdit),
            "EXPIRE" => Some(Authorization::Expire),
            _ => None,
        }
    }
}

impl fmt::Display for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The patient's traits as the DMP knows them (`patientPerson`). Debug output hides the values.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct DmpTraits {
    /// Birth name (`family qualifier="BR"`, else the first `family`).
    pub nom_naissance: Option<String>,
    /// First names (`given`, in order; a `given` holding several names is split on spaces).
    pub prenoms: Vec<String>,
    /// Sex (`administrativeGenderCode`: M, F, UN → I).
    pub sexe: Option<Sexe>,
    /// Birth date as `YYYYMMDD` (the first 8 digits of `birthTime@value`).
    pub date_naissance: Option<String>,
}

impl fmt::Debug for DmpTraits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DmpTraits")
            .field("nom_naissance", &self.nom_naissance.as_ref().map(|_| ".."))
            .field("prenoms", &self.prenoms.len())
            .field("sexe", &self.sexe.map(|_| ".."))
            .field(
                "date_naissance",
                &self.date_naissance.as_ref().map(|_| ".."),
            )
            .finish()
    }
}

/// A user's confirmation that one [`TraitsMismatch`] of one patient was seen and checked
/// (DMP/CONF.01: "alert and stop feeds on mismatch until confirmed"). Made only from the
/// mismatch itself; it covers exactly that set of fields for that patient: a new or different
/// mismatch needs a new acknowledgement. Its `Debug` shows no patient identity.
#[derive(Clone, PartialEq, Eq)]
pub struct TraitsAcknowledgement {
    patient_cx: String,
    fields: Vec<TraitField>,
    by: String,
    at: DateTime<Utc>,
}

impl TraitsAcknowledgement {
    /// `by` (a professional's national id, or any actor label the caller journals) confirms, at
    /// `at`, the `mismatch` TD0.2 reported for `patient`.
    pub fn new(
        patient: &QualifiedIdentity,
        mismatch: &TraitsMismatch,
        by: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            patient_cx: patient.ins().to_cx_xds(),
            fields: mismatch.field_set(),
            by: by.into(),
            at,
        }
    }

    /// The fields acknowledged (sorted).
    pub fn fields(&self) -> &[TraitField] {
        &self.fields
    }

    /// Who acknowledged.
    pub fn by(&self) -> &str {
        &self.by
    }

    /// When.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Whether this acknowledgement covers `mismatch` for `patient` (same patient, same set of
    /// fields).
    pub fn covers(&self, patient: &QualifiedIdentity, mismatch: &TraitsMismatch) -> bool {
        self.patient_cx == patient.ins().to_cx_xds() && self.fields == mismatch.field_set()
    }
}

impl fmt::Debug for TraitsAcknowledgement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraitsAcknowledgement")
            .field("fields", &self.fields)
            .field("by", &self.by)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// The TD0.2 answer.
///
/// Only an existing DMP has a state, an access status and traits; a patient without a DMP has
/// nothing else to say, so [`DmpStatus::NoDmp`] carries no field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DmpStatus {
    /// No DMP for this INS (`queryResponseCode NF`).
    NoDmp,
    /// A DMP exists.
    Exists {
        /// `registrationEvent/statusCode` is not `active`: the DMP is closed.
        closed: bool,
        /// Our access status.
        authorization: Authorization,
        /// The patient opposed feeding by this professional (DMP/CONF.09): nothing may be sent.
        feeding_opposed: bool,
        /// We are the patient's médecin traitant DMP.
        medecin_traitant: bool,
        /// The traits as the DMP knows them.
        traits: DmpTraits,
        /// Set when they differ from ours (DMP/CONF.01).
        traits_mismatch: Option<TraitsMismatch>,
    },
}

impl DmpStatus {
    /// Whether a DMP exists.
    pub fn exists(&self) -> bool {
        matches!(self, DmpStatus::Exists { .. })
    }

    /// Whether a document may be sent: the DMP exists, is open, the patient did not oppose
    /// feeding, and its traits match ours (Ségur: TD0.2 before feeding; DMP/CONF.09,
    /// DMP/CONF.01). No authorisation is needed to feed. See
    /// [`DmpStatus::check_feed_acknowledged`] for a confirmed mismatch.
    pub fn check_feed(&self) -> std::result::Result<(), FeedBlocked> {
        self.check(|_| false)
    }

    /// As [`DmpStatus::check_feed`], but a traits mismatch that `ack` covers (same patient,
    /// same fields) does not block (DMP/CONF.01 "until confirmed").
    pub fn check_feed_acknowledged(
        &self,
        patient: &QualifiedIdentity,
        ack: Option<&TraitsAcknowledgement>,
    ) -> std::result::Result<(), FeedBlocked> {
        self.check(|m| ack.is_some_and(|a| a.covers(patient, m)))
    }

    fn check(
        &self,
        acknowledged: impl FnOnce(&TraitsMismatch) -> bool,
    ) -> std::result::Result<(), FeedBlocked> {
        match self {
            DmpStatus::NoDmp => Err(FeedBlocked::NoDmp),
            DmpStatus::Exists { closed: true, .. } => Err(FeedBlocked::Closed),
            DmpStatus::Exists {
                feeding_opposed: true,
                ..
            } => Err(FeedBlocked::FeedingOpposed),
            DmpStatus::Exists {
                traits_mismatch: Some(m),
                ..
            } if !acknowledged(m) => Err(FeedBlocked::TraitsMismatch(m.clone())),
            DmpStatus::Exists { .. } => Ok(()),
        }
    }

    /// Whether we may consult: an open DMP and [`Authorization::Authorise`].
    pub fn can_consult(&self) -> bool {
        matches!(
            self,
            DmpStatus::Exists {
                closed: false,
                authorization: Authorization::Authorise,
                ..
            }
        )
    }

    /// The traits mismatch, if any.
    pub fn traits_mismatch(&self) -> Option<&TraitsMismatch> {
        match self {
            DmpStatus::Exists {
                traits_mismatch, ..
            } => traits_mismatch.as_ref(),
            DmpStatus::NoDmp => None,
        }
    }
}

fn malformed(what: &str) -> DmpError {
    DmpError::Malformed(format!("TD0.2 reply: {what}"))
}

fn hl7<'e>(e: &'e Element, name: &str) -> Option<&'e Element> {
    e.child(HL7_NS, name)
}

fn flag(e: &Element, name: &'static str) -> Result<bool> {
    match e.attr(name).map(str::trim) {
        None | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(malformed(&format!("etatAcces@{name} is not a boolean"))),
    }
}

/// The `etatAcces` element: a child of `registrationEvent` (`docs/dmp-wire.md`), or anywhere
/// below it (tolerant reading).
fn find_etat_acces(e: &Element, depth: usize) -> Option<&Element> {
    if depth > 8 {
        return None;
    }
    e.child(TD02_NS, "etatAcces")
        .or_else(|| e.elements().find_map(|c| find_etat_acces(c, depth + 1)))
}

/// Reads a `PRPA_IN201308UV02` payload. `query_id` (when given) must match the echoed
/// `queryAck/queryId@extension`; `ours` are the traits compared with the DMP's (DMP/CONF.01).
pub fn read_response(
    payload: &Element,
    query_id: Option<&str>,
    ours: &QualifiedIdentity,
) -> Result<DmpStatus> {
    if !payload.is(HL7_NS, "PRPA_IN201308UV02") {
        return Err(malformed("the payload is not PRPA_IN201308UV02"));
    }
    if let Some(code) = hl7(payload, "acknowledgement")
        .and_then(|a| hl7(a, "typeCode"))
        .and_then(|t| t.attr("code"))
    {
        match code.trim() {
            "AA" | "CA" => {}
            other => {
                return Err(DmpError::Rejected {
                    operation: "TD0.2",
                    status: format!(
                        "acknowledgement {}",
                        other.chars().take(8).collect::<String>()
                    ),
                })
            }
        }
    }
    let cap = hl7(payload, "controlActProcess").ok_or_else(|| malformed("no controlActProcess"))?;
    let ack = hl7(cap, "queryAck").ok_or_else(|| malformed("no controlActProcess/queryAck"))?;
    if let (Some(expected), Some(echoed)) = (
        query_id,
        hl7(ack, "queryId").and_then(|q| q.attr("extension")),
    ) {
        if echoed.trim() != expected {
            return Err(malformed("queryAck/queryId does not echo the request"));
        }
    }
    let code = hl7(ack, "queryResponseCode")
        .and_then(|c| c.attr("code"))
        .ok_or_else(|| malformed("no queryAck/queryResponseCode@code"))?;
    match code.trim() {
        "NF" => return Ok(DmpStatus::NoDmp),
        "OK" => {}
        other => {
            return Err(DmpError::Rejected {
                operation: "TD0.2",
                status: format!(
                    "queryResponseCode {}",
                    other.chars().take(8).collect::<String>()
                ),
            })
        }
    }
    let event = hl7(cap, "subject")
        .and_then(|s| hl7(s, "registrationEvent"))
        .ok_or_else(|| malformed("queryResponseCode OK without subject/registrationEvent"))?;
    let closed = match hl7(event, "statusCode").and_then(|s| s.attr("code")) {
        Some(c) if c.trim() == "active" => false,
        Some(_) => true,
        None => return Err(malformed("no registrationEvent/statusCode@code")),
    };
    let patient = hl7(event, "subject1").and_then(|s| hl7(s, "patient"));
    if let Some(id) = patient.and_then(|p| hl7(p, "id")) {
        let ext = id.attr("extension").map(str::trim).unwrap_or_default();
        let known = std::iter::once(ours.ins())
            .chain(ours.ins_history())
            .any(|i| i.matricule.to_15() == ext || i.matricule.number() == ext);
        if !known {
            return Err(malformed("patient/id is not the requested INS"));
        }
    }
    let traits = patient
        .and_then(|p| hl7(p, "patientPerson"))
        .map(read_traits)
        .unwrap_or_default();
    let etat = find_etat_acces(event, 0).ok_or_else(|| malformed("no etatAcces"))?;
    let authorization = etat
        .attr("autorisation")
        .and_then(Authorization::from_code)
        .ok_or_else(|| malformed("etatAcces@autorisation missing or unknown"))?;
    let feeding_opposed = flag(etat, "oppositionAlimentation")?;
    let medecin_traitant = flag(etat, "medecinTraitant")?;
    let traits_mismatch = compare_traits(&traits, ours.traits());
    if let Some(m) = &traits_mismatch {
        tracing::warn!(
            target: "segur::dmp",
            fields = ?m.fields,
            "TD0.2: the DMP's traits differ from the local identity (DMP/CONF.01)"
        );
    }
    Ok(DmpStatus::Exists {
        closed,
        authorization,
        feeding_opposed,
        medecin_traitant,
        traits,
        traits_mismatch,
    })
}

fn read_traits(person: &Element) -> DmpTraits {
    let names: Vec<&Element> = person.children_named(HL7_NS, "name").collect();
    let families = || {
        names
            .iter()
            .flat_map(|n| n.children_named(HL7_NS, "family"))
    };
    let nom_naissance = families()
        .find(|f| {
            f.attr("qualifier")
                .is_some_and(|q| q.split_whitespace().any(|t| t == "BR"))
        })
        .or_else(|| families().next())
        .map(|f| f.text().trim().to_owned())
        .filter(|s| !s.is_empty());
    // First names from the name holding the birth name, else the first name element.
    let name_el = names
        .iter()
        .find(|n| {
            n.children_named(HL7_NS, "family").any(|f| {
                f.attr("qualifier")
                    .is_some_and(|q| q.split_whitespace().any(|t| t == "BR"))
            })
        })
        .or_else(|| names.first());
    let prenoms = name_el
        .map(|n| {
            n.children_named(HL7_NS, "given")
                .flat_map(|g| {
                    g.text()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default();
    let sexe = hl7(person, "administrativeGenderCode")
        .and_then(|g| g.attr("code"))
        .and_then(|c| match c.trim() {
            "M" => Some(Sexe::M),
            "F" => Some(Sexe::F),
            "UN" | "I" => Some(Sexe::I),
            _ => None,
        });
    let date_naissance = hl7(person, "birthTime")
        .and_then(|b| b.attr("value"))
        .map(|v| v.trim().chars().take(8).collect::<String>())
        .filter(|d| d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()));
    DmpTraits {
        nom_naissance,
        prenoms,
        sexe,
        date_naissance,
    }
}

/// Upper case, spaces collapsed: the DMP and INSi both hold normalised names, so only case and
/// spacing are forgiven.
fn norm(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// Compares the DMP's traits with ours (DMP/CONF.01). A trait the DMP does not give is not
/// compared. First names match when the DMP's list equals our whole list or our first name.
pub fn compare_traits(dmp: &DmpTraits, ours: &TraitsStricts) -> Option<TraitsMismatch> {
    let mut fields = Vec::new();
    if let Some(n) = &dmp.nom_naissance {
        if norm(n) != norm(&ours.nom_naissance) {
            fields.push(TraitField::NomNaissance);
        }
    }
    if !dmp.prenoms.is_empty() {
        let theirs = norm(&dmp.prenoms.join(" "));
        if theirs != norm(&ours.liste_prenoms()) && theirs != norm(&ours.premier_prenom) {
            fields.push(TraitField::Prenoms);
        }
    }
    if let Some(s) = dmp.sexe {
        if s != ours.sexe {
            fields.push(TraitField::Sexe);
        }
    }
    if let Some(d) = &dmp.date_naissance {
        let our: String = ours
            .date_naissance
            .raw()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        if *d != our {
            fields.push(TraitField::DateNaissance);
        }
    }
    (!fields.is_empty()).then_some(TraitsMismatch { fields })
}

#[cfg(test)]
mod tests {
    use super::*;
    use segur_net::xml::XmlLimits;

    pub(crate) fn patient() -> QualifiedIdentity {
        segur_cda::examples::qualified_patient()
    }

    fn parse(s: &str) -> Element {
        xml::parse(s.as_bytes(), &XmlLimits::default()).unwrap()
    }

    /// A reply shaped as in `docs/dmp-wire.md`.
    fn reply(
        response_code: &str,
        status: &str,
        etat: &str,
        person: &str,
        query_id: &str,
    ) -> String {
        let subject = if response_code == "OK" {
            format!(
                r#"<subject typeCode="SUBJ"><registrationEvent classCode="REG" moodCode="EVN">
                <statusCode code="{status}"/>
                <subject1 typeCode="SBJ"><patient classCode="PAT">
                  <id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
                  <statusCode code="active"/>
                  <patientPerson classCode="PSN" determinerCode="INSTANCE">{person}</patientPerson>
                </patient></subject1>
                <custodian typeCode="CST"><assignedEntity classCode="ASSIGNED"><id root="1.2.250.1.213.4.1.1.1"/></assignedEntity></custodian>
                {etat}
              </registrationEvent></subject>"#
            )
        } else {
            String::new()
        };
        format!(
            r#"<PRPA_IN201308UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0">
  <id root="1.2.250.1.213.4.1.1.1" extension="x"/>
  <creationTime value="20261126101500"/>
  <interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201308UV02"/>
  <acknowledgement><typeCode code="AA"/><targetMessage><id root="r" extension="e"/></targetMessage></acknowledgement>
  <controlActProcess classCode="CACT" moodCode="EVN">
    <code code="PRPA_TE201308UV02" codeSystem="2.16.840.1.113883.1.6"/>
    {subject}
    <queryAck><queryId root="1.2.3" extension="{query_id}"/><queryResponseCode code="{response_code}"/></queryAck>
  </controlActProcess>
</PRPA_IN201308UV02>"#
        )
    }

    const PERSON: &str = r#"<name><given>DOMINIQUE</given><family qualifier="BR">PAT-TROIS</family></name>
        <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/><birthTime value="19790328"/>"#;
    const ETAT: &str = r#"<dmp:etatAcces xmlns:dmp="urn:si-dmp:td02" autorisation="AUTORISE" oppositionAlimentation="false" medecinTraitant="true"/>"#;

    #[test]
    fn request_has_the_ins_and_our_ids() {
        let p = patient();
        let r = Td02Request {
            patient: &p,
            sender_oid: "1.2.250.1.999.1",
            sender_name: "segur & co",
            message_id: Uuid::from_u128(1),
            query_id: Uuid::from_u128(2),
            created: DateTime::from_timestamp(1_764_151_500, 0).unwrap(),
        };
        let e = parse(&write_request(&r));
        assert!(e.is(HL7_NS, "PRPA_IN201307UV02"));
        assert_eq!(hl7(&e, "id").unwrap().attr("root"), Some("1.2.250.1.999.1"));
        assert_eq!(
            hl7(&e, "creationTime").unwrap().attr("value"),
            Some("20251126100500")
        );
        let sender = hl7(hl7(&e, "sender").unwrap(), "device").unwrap();
        assert_eq!(
            sender.child_text(HL7_NS, "softwareName").unwrap(),
            "segur & co"
        );
        let receiver = hl7(hl7(&e, "receiver").unwrap(), "device").unwrap();
        assert_eq!(
            hl7(receiver, "id").unwrap().attr("root"),
            Some(DMP_DEVICE_OID)
        );
        let cap = hl7(&e, "controlActProcess").unwrap();
        let reason = hl7(cap, "reasonCode").unwrap();
        assert_eq!(reason.attr("code"), Some("TEST_EXST"));
        assert_eq!(reason.attr("codeSystem"), Some(REASON_CODE_SYSTEM));
        let q = hl7(cap, "queryByParameter").unwrap();
        assert_eq!(
            hl7(q, "queryId").unwrap().attr("extension"),
            Some("00000000-0000-0000-0000-000000000002")
        );
        let v = hl7(
            hl7(hl7(q, "parameterList").unwrap(), "patientIdentifier").unwrap(),
            "value",
        )
        .unwrap();
        assert_eq!(v.attr("root"), Some("1.2.250.1.213.1.4.10"));
        assert_eq!(v.attr("extension"), Some("279035121518989"));
    }

    #[test]
    fn existing_dmp_with_matching_traits() {
        let p = patient();
        let s = read_response(
            &parse(&reply("OK", "active", ETAT, PERSON, "q1")),
            Some("q1"),
            &p,
        )
        .unwrap();
        match &s {
            DmpStatus::Exists {
                closed,
                authorization,
                feeding_opposed,
                medecin_traitant,
                traits,
                traits_mismatch,
            } => {
                assert!(!closed && !feeding_opposed && *medecin_traitant);
                assert_eq!(*authorization, Authorization::Authorise);
                assert_eq!(traits.nom_naissance.as_deref(), Some("PAT-TROIS"));
                assert_eq!(traits.date_naissance.as_deref(), Some("19790328"));
                assert_eq!(traits.sexe, Some(Sexe::F));
                assert_eq!(*traits_mismatch, None, "first name alone matches");
            }
            DmpStatus::NoDmp => panic!(),
        }
        assert!(s.can_consult() && s.check_feed().is_ok());
        // Debug output never shows the traits.
        assert!(!format!("{s:?}").contains("PAT-TROIS"));
    }

    #[test]
    fn no_dmp_closed_and_opposition() {
        let p = patient();
        let s = read_response(&parse(&reply("NF", "", "", "", "q")), None, &p).unwrap();
        assert_eq!(s, DmpStatus::NoDmp);
        assert_eq!(s.check_feed(), Err(FeedBlocked::NoDmp));
        let s = read_response(
            &parse(&reply("OK", "terminated", ETAT, PERSON, "q")),
            None,
            &p,
        )
        .unwrap();
        assert_eq!(s.check_feed(), Err(FeedBlocked::Closed));
        assert!(!s.can_consult());
        let etat = r#"<etatAcces xmlns="urn:si-dmp:td02" autorisation="INTERDIT" oppositionAlimentation="true"/>"#;
        let s = read_response(&parse(&reply("OK", "active", etat, PERSON, "q")), None, &p).unwrap();
        assert_eq!(s.check_feed(), Err(FeedBlocked::FeedingOpposed));
        assert!(matches!(
            s,
            DmpStatus::Exists {
                authorization: Authorization::Interdit,
                medecin_traitant: false,
                ..
            }
        ));
    }

    #[test]
    fn traits_mismatch_names_fields_not_values() {
        let p = patient();
        let person = r#"<name><given>CAMILLE</given><family qualifier="BR SP">PAT-TROIS</family></name>
            <administrativeGenderCode code="M"/><birthTime value="19790329"/>"#;
        let s = read_response(&parse(&reply("OK", "active", ETAT, person, "q")), None, &p).unwrap();
        let m = s.traits_mismatch().unwrap();
        assert_eq!(
            m.fields,
            vec![
                TraitField::Prenoms,
                TraitField::Sexe,
                TraitField::DateNaissance
            ]
        );
        let msg = m.to_string();
        assert!(!msg.contains("CAMILLE") && !msg.contains("1979"));
        // The whole list of first names matches too; case and spacing are forgiven.
        let person = r#"<name><given>Dominique  Marie-Louise</given><family qualifier="BR">pat-trois</family></name>"#;
        let s = read_response(&parse(&reply("OK", "active", ETAT, person, "q")), None, &p).unwrap();
        assert_eq!(s.traits_mismatch(), None);
        let person = r#"<name><given>DOMINIQUE</given><given>MARIE-LOUISE</given><family>PAT-DEUX</family></name>"#;
        let s = read_response(&parse(&reply("OK", "active", ETAT, person, "q")), None, &p).unwrap();
        assert_eq!(
            s.traits_mismatch().unwrap().fields,
            vec![TraitField::NomNaissance]
        );
    }

    #[test]
    fn a_mismatch_blocks_feeding_until_exactly_it_is_acknowledged() {
        let p = patient();
        let person = r#"<name><given>CAMILLE</given><family qualifier="BR">PAT-TROIS</family></name>
            <administrativeGenderCode code="F"/><birthTime value="19790328"/>"#;
        let s = read_response(&parse(&reply("OK", "active", ETAT, person, "q")), None, &p).unwrap();
        let m = s.traits_mismatch().unwrap().clone();
        assert_eq!(s.check_feed(), Err(FeedBlocked::TraitsMismatch(m.clone())));
        assert_eq!(
            s.check_feed_acknowledged(&p, None),
            Err(FeedBlocked::TraitsMismatch(m.clone()))
        );
        let at = DateTime::from_timestamp(1_764_151_500, 0).unwrap();
        let ack = TraitsAcknowledgement::new(&p, &m, "810001234567", at);
        assert_eq!(ack.fields(), &[TraitField::Prenoms]);
        assert_eq!((ack.by(), ack.at()), ("810001234567", at));
        assert_eq!(s.check_feed_acknowledged(&p, Some(&ack)), Ok(()));
        assert!(!format!("{ack:?}").contains("279035121518989"));
        // Another mismatch (one more field) is not covered.
        let more = TraitsMismatch {
            fields: vec![TraitField::Sexe, TraitField::Prenoms],
        };
        assert!(!ack.covers(&p, &more));
        // Order and repeats do not matter.
        let same = TraitsMismatch {
            fields: vec![TraitField::Prenoms, TraitField::Prenoms],
        };
        assert!(ack.covers(&p, &same));
        // Another patient's acknowledgement does not cover this one.
        let other = segur_cda::examples::qualified(
            "9",
            "1810163220751",
            "40",
            "ADRDEUX",
            "LAURENT",
            Sexe::M,
            "1981-01-01",
            "63220",
        );
        let theirs = TraitsAcknowledgement::new(&other, &m, "810001234567", at);
        assert!(s.check_feed_acknowledged(&p, Some(&theirs)).is_err());
        // A closed DMP stays closed whatever is acknowledged.
        let s = read_response(
            &parse(&reply("OK", "terminated", ETAT, person, "q")),
            None,
            &p,
        )
        .unwrap();
        assert_eq!(
            s.check_feed_acknowledged(&p, Some(&ack)),
            Err(FeedBlocked::Closed)
        );
        for f in [
            TraitField::NomNaissance,
            TraitField::Prenoms,
            TraitField::Sexe,
            TraitField::DateNaissance,
        ] {
            assert_eq!(TraitField::from_code(f.code()), Some(f));
        }
        assert_eq!(FeedBlocked::TraitsMismatch(m).code(), "traits_mismatch");
    }

    #[test]
    fn malformed_and_rejected_replies() {
        let p = patient();
        let cases: Vec<String> = vec![
            "<other xmlns=\"urn:hl7-org:v3\"/>".into(),
            "<PRPA_IN201308UV02 xmlns=\"urn:hl7-org:v3\"/>".into(),
            reply("OK", "active", "", PERSON, "q"),
            reply("OK", "active", ETAT, PERSON, "other-query"),
            reply(
                "OK",
                "active",
                r#"<e:etatAcces xmlns:e="urn:si-dmp:td02" autorisation="PEUT-ETRE"/>"#,
                PERSON,
                "q",
            ),
            reply(
                "OK",
                "active",
                r#"<e:etatAcces xmlns:e="urn:si-dmp:td02" autorisation="AUTORISE" medecinTraitant="oui"/>"#,
                PERSON,
                "q",
            ),
            reply("OK", "active", ETAT, PERSON, "q").replace("279035121518989", "180012B02040123"),
            reply("OK", "active", ETAT, PERSON, "q").replace(
                "<statusCode code=\"active\"/>\n                <subject1",
                "<subject1",
            ),
        ];
        for (i, c) in cases.iter().enumerate() {
            let r = read_response(&parse(c), Some("q"), &p);
            assert!(matches!(r, Err(DmpError::Malformed(_))), "case {i}: {r:?}");
            if let Err(e) = r {
                assert!(!e.to_string().contains("279035121518989"));
            }
        }
        let ae = reply("OK", "active", ETAT, PERSON, "q").replace("\"AA\"", "\"AE\"");
        assert!(matches!(
            read_response(&parse(&ae), None, &p),
            Err(DmpError::Rejected {
                operation: "TD0.2",
                ..
            })
        ));
        let qe = reply("QE", "", "", "", "q");
        assert!(matches!(
            read_response(&parse(&qe), None, &p),
            Err(DmpError::Rejected { .. })
        ));
    }
}
