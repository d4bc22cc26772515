//! Writing the INSi requests: SOAP 1.2 envelope, `ContexteBAM` 01_02, `ContexteLPS` 01_00,
//! WS-Addressing `Action` and `MessageID`, and the `RECSANSVITALE` / `RECVITALE` bodies, in the
//! element order of the official XSDs (validated against them in the tests).

use chrono::{DateTime, Utc};
use segur_net::soap::{self, WSA_NS};
use segur_net::xml::{escape, push_text_element};
use uuid::Uuid;

use super::context::LpsContext;
use super::{CarteVitaleQuery, TraitsQuery, NS_CTXBAM, NS_CTXLPS, NS_RECSANS, NS_RECVIT};

/// One of the two operations of the WSDL.
#[derive(Debug, Clone, Copy)]
pub enum Operation<'a> {
    /// `rechercherInsAvecTraitsIdentite` (`RECSANSVITALE`).
    Traits(&'a TraitsQuery),
    /// `rechercherInsAvecCarteVitale` (`RECVITALE`).
    CarteVitale(&'a CarteVitaleQuery),
}

impl Operation<'_> {
    /// The WSDL operation name.
    pub fn name(&self) -> &'static str {
        match self {
            Operation::Traits(_) => "rechercherInsAvecTraitsIdentite",
            Operation::CarteVitale(_) => "rechercherInsAvecCarteVitale",
        }
    }
    /// `wsa:Action` (= soapAction of the binding).
    pub fn action(&self) -> &'static str {
        match self {
            Operation::Traits(_) => {
                "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
            }
            Operation::CarteVitale(_) => {
                "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecCarteVitale"
            }
        }
    }
}

/// The identifiers and time stamped into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestIds {
    /// `wsa:MessageID` (sent as `uuid:<UUID>`).
    pub message_id: Uuid,
    /// `ContexteBAM/Id`.
    pub bam_id: Uuid,
    /// `ContexteLPS/Id`.
    pub lps_id: Uuid,
    /// `Temps` of both contexts.
    pub time: DateTime<Utc>,
}

impl RequestIds {
    /// Fresh random identifiers, now.
    pub fn new() -> Self {
        Self {
            message_id: Uuid::new_v4(),
            bam_id: Uuid::new_v4(),
            lps_id: Uuid::new_v4(),
            time: Utc::now(),
        }
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

fn push_uuid(out: &mut String, u: &Uuid) {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    out.push_str(u.hyphenated().encode_lower(&mut buf));
}

fn push_time(out: &mut String, t: &DateTime<Utc>) {
    use std::fmt::Write;
    let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S%.3fZ"));
}

/// Writes the whole SOAP request for `op`.
pub fn write_request(op: Operation<'_>, lps: &LpsContext, ids: &RequestIds) -> String {
    let mut header = String::with_capacity(1024);
    // ContexteBAM 01_02: Id, Temps, Emetteur?, DateRef?, COUVERTURE (empty for INSi).
    header.push_str("<ctxbam:ContexteBAM Version=\"01_02\"><ctxbam:Id>");
    push_uuid(&mut header, &ids.bam_id);
    header.push_str("</ctxbam:Id><ctxbam:Temps>");
    push_time(&mut header, &ids.time);
    header.push_str("</ctxbam:Temps>");
    if !lps.emitter.is_empty() {
        push_text_element(&mut header, "ctxbam:Emetteur", &lps.emitter);
    }
    header.push_str("<ctxbam:COUVERTURE/></ctxbam:ContexteBAM>");
    // ContexteLPS 01_00: Id, Temps, Emetteur?, LPS(IDAM R=4, Version, Instance, Nom).
    header.push_str("<ctxlps:ContexteLPS Nature=\"CTXLPS\" Version=\"01_00\"><ctxlps:Id>");
    push_uuid(&mut header, &ids.lps_id);
    header.push_str("</ctxlps:Id><ctxlps:Temps>");
    push_time(&mut header, &ids.time);
    header.push_str("</ctxlps:Temps>");
    if !lps.emitter.is_empty() {
        push_text_element(&mut header, "ctxlps:Emetteur", &lps.emitter);
    }
    header.push_str("<ctxlps:LPS><ctxlps:IDAM R=\"4\">");
    header.push_str(&escape(&lps.idam));
    header.push_str("</ctxlps:IDAM>");
    push_text_element(&mut header, "ctxlps:Version", &lps.software_version);
    header.push_str("<ctxlps:Instance>");
    push_uuid(&mut header, &lps.instance);
    header.push_str("</ctxlps:Instance>");
    push_text_element(&mut header, "ctxlps:Nom", &lps.urn());
    header.push_str("</ctxlps:LPS></ctxlps:ContexteLPS><wsa:Action>");
    header.push_str(op.action());
    header.push_str("</wsa:Action><wsa:MessageID>uuid:");
    push_uuid(&mut header, &ids.message_id);
    header.push_str("</wsa:MessageID>");

    let mut body = String::with_capacity(512);
    match op {
        Operation::Traits(q) => write_recsans(&mut body, q),
        Operation::CarteVitale(q) => write_recvitale(&mut body, q),
    }
    let mut out = String::with_capacity(header.len() + body.len() + 400);
    soap::write_envelope(
        &mut out,
        &[
            ("wsa", WSA_NS),
            ("ctxbam", NS_CTXBAM),
            ("ctxlps", NS_CTXLPS),
        ],
        &header,
        &body,
    );
    out
}

/// `RECSANSVITALE`: NomNaissance, Prenom*, Sexe, DateNaissance, LieuNaissance? (XSD order).
fn write_recsans(out: &mut String, q: &TraitsQuery) {
    out.push_str("<ins:RECSANSVITALE xmlns:ins=\"");
    out.push_str(NS_RECSANS);
    out.push_str("\">");
    push_text_element(out, "ins:NomNaissance", &q.nom_naissance);
    if !q.prenoms.is_empty() {
        push_text_element(out, "ins:Prenom", &q.prenoms.join(" "));
    }
    if let Some(s) = q.sexe {
        push_text_element(out, "ins:Sexe", s.as_str());
    }
    push_text_element(out, "ins:DateNaissance", &q.date_naissance);
    if let Some(c) = &q.lieu_naissance {
        push_text_element(out, "ins:LieuNaissance", c.as_str());
    }
    out.push_str("</ins:RECSANSVITALE>");
}

/// `RECVITALE`: MatriculeIndividu, MatriculeOD?, NomNaissance?, DateNaissance, RangNaissance.
fn write_recvitale(out: &mut String, q: &CarteVitaleQuery) {
    out.push_str("<vit:RECVITALE xmlns:vit=\"");
    out.push_str(NS_RECVIT);
    out.push_str("\">");
    let matricule = |out: &mut String, name: &str, m: &crate::matricule::Matricule| {
        out.push_str("<vit:");
        out.push_str(name);
        out.push('>');
        push_text_element(out, "vit:NumIdentifiant", m.number());
        push_text_element(out, "vit:Cle", &m.key_str());
        out.push_str("</vit:");
        out.push_str(name);
        out.push('>');
    };
    matricule(out, "MatriculeIndividu", &q.matricule_individu);
    if let Some(od) = &q.matricule_od {
        matricule(out, "MatriculeOD", od);
    }
    if let Some(n) = &q.nom_naissance {
        push_text_element(out, "vit:NomNaissance", n);
    }
    push_text_element(out, "vit:DateNaissance", &q.date_naissance);
    push_text_element(out, "vit:RangNaissance", &q.rang_naissance);
    out.push_str("</vit:RECVITALE>");
}
