//! TD0.3, authorisations (`/habilitations`): `setAuthorization` AJOUT / SUPPRESSION and
//! `listAuthorizationByPatient`.
//!
//! Requests as DRIMbox `GiveAuthorizationRequest.java` (`dmp.md` §2), namespace
//! `urn:si-dmp-habilitations`; the patient is the VIHF `resource-id`. Replies as
//! `docs/dmp-wire.md` [I], read tolerantly. Adding an authorisation requires the patient's
//! consent ([`PatientConsent`]), which the caller records in its journal (Ségur: only after the
//! patient's consent; no TD0.3 just to feed).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use segur_net::xml::Element;

use crate::error::{DmpError, Result};
use crate::patients::Authorization;

/// Namespace of the TD0.3 messages (`dmp.md` §2).
pub const HABILITATIONS_NS: &str = "urn:si-dmp-habilitations";

/// How the patient's consent to the authorisation was collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum ConsentMode {
    /// Given orally to the professional, in person.
    Oral,
    /// Given in writing.
    Ecrit,
    /// Given by the patient's legal representative.
    RepresentantLegal,
}

impl ConsentMode {
    /// A stable code for journals.
    pub fn code(self) -> &'static str {
        match self {
            ConsentMode::Oral => "ORAL",
            ConsentMode::Ecrit => "ECRIT",
            ConsentMode::RepresentantLegal => "REPRESENTANT_LEGAL",
        }
    }
}

/// The patient's consent to be authorised on their DMP: when and how it was collected. Only the
/// host can build one (it is the host's statement), and [`AuthorizationAction::Ajout`] cannot be
/// expressed without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PatientConsent {
    collected_at: DateTime<Utc>,
    mode: ConsentMode,
}

/// Clock skew tolerated for a consent time in the future.
const CONSENT_SKEW_SECS: i64 = 300;

impl PatientConsent {
    /// A consent collected at `collected_at` (not in the future, a five-minute skew allowed).
    pub fn new(collected_at: DateTime<Utc>, mode: ConsentMode) -> Result<Self> {
        if collected_at > Utc::now() + chrono::Duration::seconds(CONSENT_SKEW_SECS) {
            return Err(DmpError::Invalid {
                field: "consent time",
                detail: "is in the future".into(),
            });
        }
        Ok(Self { collected_at, mode })
    }

    /// A consent collected now.
    pub fn now(mode: ConsentMode) -> Self {
        Self {
            collected_at: Utc::now(),
            mode,
        }
    }

    /// When it was collected.
    pub fn collected_at(&self) -> DateTime<Utc> {
        self.collected_at
    }

    /// How it was collected.
    pub fn mode(&self) -> ConsentMode {
        self.mode
    }
}

/// A `setAuthorization` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizationAction {
    /// `AJOUT`: become authorised, with the patient's consent.
    Ajout(PatientConsent),
    /// `SUPPRESSION`: give up the authorisation.
    Suppression,
}

impl AuthorizationAction {
    /// The wire value.
    pub fn code(&self) -> &'static str {
        match self {
            AuthorizationAction::Ajout(_) => "AJOUT",
            AuthorizationAction::Suppression => "SUPPRESSION",
        }
    }
}

/// Writes the `setAuthorization` body.
pub fn write_set_authorization(action: &AuthorizationAction) -> String {
    format!(
        "<setAuthorization xmlns=\"{HABILITATIONS_NS}\"><action>{}</action></setAuthorization>",
        action.code()
    )
}

/// Writes the `listAuthorizationByPatient` body (mode `TOUTE`).
pub fn write_list_authorizations() -> String {
    format!(
        "<listAuthorizationByPatient xmlns=\"{HABILITATIONS_NS}\"><mode>TOUTE</mode></listAuthorizationByPatient>"
    )
}

/// The answer to `setAuthorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetAuthorizationOutcome {
    /// Our access status after the change, when the DMP gives it.
    pub authorization: Option<Authorization>,
}

fn malformed(what: &str) -> DmpError {
    DmpError::Malformed(format!("TD0.3 reply: {what}"))
}

/// Reads a `setAuthorizationResponse`: `status` must be `OK`.
pub fn read_set_authorization(payload: &Element) -> Result<SetAuthorizationOutcome> {
    if !payload.is(HABILITATIONS_NS, "setAuthorizationResponse") {
        return Err(malformed("the payload is not setAuthorizationResponse"));
    }
    let status = payload
        .child_text(HABILITATIONS_NS, "status")
        .ok_or_else(|| malformed("no status"))?;
    if status != "OK" {
        return Err(DmpError::Rejected {
            operation: "setAuthorization",
            status: status.chars().take(40).collect(),
        });
    }
    let authorization = match payload.child_text(HABILITATIONS_NS, "autorisation") {
        None => None,
        Some(a) => {
            Some(Authorization::from_code(&a).ok_or_else(|| malformed("unknown autorisation"))?)
        }
    };
    Ok(SetAuthorizationOutcome { authorization })
}

/// One authorisation on the patient's DMP (`listAuthorizationByPatient`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AuthorizationEntry {
    /// The professional's national id (IdNat).
    pub id_nat: String,
    /// The professional's name.
    pub nom: Option<String>,
    /// The professional's first name.
    pub prenom: Option<String>,
    /// The status.
    pub statut: Authorization,
    /// Start (as sent: DMP local time).
    pub debut: Option<NaiveDateTime>,
    /// End, if any.
    pub fin: Option<NaiveDateTime>,
}

impl fmt::Display for AuthorizationEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.id_nat, self.statut)
    }
}

/// Reads an HL7 TS (`YYYYMMDD[HHMM[SS]]`, any fraction or zone after the seconds ignored).
pub fn parse_hl7_time(s: &str) -> Option<NaiveDateTime> {
    let digits: String = s
        .trim()
        .chars()
        .take_while(char::is_ascii_digit)
        .take(14)
        .collect();
    let date = NaiveDate::parse_from_str(digits.get(..8)?, "%Y%m%d").ok()?;
    let num = |r: std::ops::Range<usize>| digits.get(r).and_then(|x| x.parse::<u32>().ok());
    let (h, m, sec) = match digits.len() {
        8 => (0, 0, 0),
        12 => (num(8..10)?, num(10..12)?, 0),
        14 => (num(8..10)?, num(10..12)?, num(12..14)?),
        _ => return None,
    };
    date.and_hms_opt(h, m, sec)
}

fn opt_time(e: &Element, name: &'static str) -> Result<Option<NaiveDateTime>> {
    match e.child_text(HABILITATIONS_NS, name) {
        None => Ok(None),
        Some(t) if t.is_empty() => Ok(None),
        Some(t) => parse_hl7_time(&t)
            .map(Some)
            .ok_or_else(|| malformed(&format!("authorization/{name} is not an HL7 time"))),
    }
}

/// Reads a `listAuthorizationByPatientResponse` into its entries.
pub fn read_list_authorizations(payload: &Element) -> Result<Vec<AuthorizationEntry>> {
    if !payload.is(HABILITATIONS_NS, "listAuthorizationByPatientResponse") {
        return Err(malformed(
            "the payload is not listAuthorizationByPatientResponse",
        ));
    }
    payload
        .children_named(HABILITATIONS_NS, "authorization")
        .map(|a| {
            let id_nat = a
                .child_text(HABILITATIONS_NS, "idNat")
                .filter(|s| !s.is_empty())
                .ok_or_else(|| malformed("authorization without idNat"))?;
            let statut = a
                .child_text(HABILITATIONS_NS, "statut")
                .and_then(|s| Authorization::from_code(&s))
                .ok_or_else(|| malformed("authorization/statut missing or unknown"))?;
            Ok(AuthorizationEntry {
                id_nat,
                nom: a
                    .child_text(HABILITATIONS_NS, "nom")
                    .filter(|s| !s.is_empty()),
                prenom: a
                    .child_text(HABILITATIONS_NS, "prenom")
                    .filter(|s| !s.is_empty()),
                statut,
                debut: opt_time(a, "dateDebut")?,
                fin: opt_time(a, "dateFin")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use segur_net::xml::{self, XmlLimits};

    fn parse(s: &str) -> Element {
        xml::parse(s.as_bytes(), &XmlLimits::default()).unwrap()
    }

    #[test]
    fn requests() {
        let consent = PatientConsent::now(ConsentMode::Oral);
        let e = parse(&write_set_authorization(&AuthorizationAction::Ajout(
            consent,
        )));
        assert!(e.is(HABILITATIONS_NS, "setAuthorization"));
        assert_eq!(e.child_text(HABILITATIONS_NS, "action").unwrap(), "AJOUT");
        let e = parse(&write_set_authorization(&AuthorizationAction::Suppression));
        assert_eq!(
            e.child_text(HABILITATIONS_NS, "action").unwrap(),
            "SUPPRESSION"
        );
        let e = parse(&write_list_authorizations());
        assert!(e.is(HABILITATIONS_NS, "listAuthorizationByPatient"));
        assert_eq!(e.child_text(HABILITATIONS_NS, "mode").unwrap(), "TOUTE");
    }

    #[test]
    fn consent_cannot_be_in_the_future() {
        let later = Utc::now() + chrono::Duration::hours(1);
        assert!(PatientConsent::new(later, ConsentMode::Ecrit).is_err());
        let before = Utc::now() - chrono::Duration::hours(1);
        let c = PatientConsent::new(before, ConsentMode::RepresentantLegal).unwrap();
        assert_eq!(c.collected_at(), before);
        assert_eq!(c.mode().code(), "REPRESENTANT_LEGAL");
    }

    #[test]
    fn set_authorization_replies() {
        let ok = parse(
            r#"<h:setAuthorizationResponse xmlns:h="urn:si-dmp-habilitations"><h:autorisation>AUTORISE</h:autorisation><h:status> OK </h:status></h:setAuthorizationResponse>"#,
        );
        assert_eq!(
            read_set_authorization(&ok).unwrap().authorization,
            Some(Authorization::Authorise)
        );
        let ko = parse(
            r#"<setAuthorizationResponse xmlns="urn:si-dmp-habilitations"><status>KO</status></setAuthorizationResponse>"#,
        );
        assert!(matches!(
            read_set_authorization(&ko),
            Err(DmpError::Rejected {
                operation: "setAuthorization",
                ..
            })
        ));
        for bad in [
            r#"<setAuthorizationResponse xmlns="urn:other"><status>OK</status></setAuthorizationResponse>"#,
            r#"<setAuthorizationResponse xmlns="urn:si-dmp-habilitations"/>"#,
            r#"<setAuthorizationResponse xmlns="urn:si-dmp-habilitations"><status>OK</status><autorisation>X</autorisation></setAuthorizationResponse>"#,
        ] {
            assert!(matches!(
                read_set_authorization(&parse(bad)),
                Err(DmpError::Malformed(_))
            ));
        }
    }

    #[test]
    fn list_replies() {
        let r = parse(
            r#"<listAuthorizationByPatientResponse xmlns="urn:si-dmp-habilitations">
              <authorization><idNat>810001234567</idNat><nom>MEDIONI</nom><prenom>STEPHANE</prenom>
                <statut>AUTORISE</statut><dateDebut>20261126101500</dateDebut><dateFin/></authorization>
              <authorization><statut>EXPIRE</statut><idNat>810009999999</idNat><dateDebut>20240101</dateDebut><dateFin>202501011200</dateFin></authorization>
              <other/>
            </listAuthorizationByPatientResponse>"#,
        );
        let l = read_list_authorizations(&r).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].id_nat, "810001234567");
        assert_eq!(l[0].statut, Authorization::Authorise);
        assert_eq!(l[0].debut.unwrap().to_string(), "2026-11-26 10:15:00");
        assert_eq!(l[0].fin, None);
        assert_eq!(l[1].statut, Authorization::Expire);
        assert_eq!(l[1].fin.unwrap().to_string(), "2025-01-01 12:00:00");
        let empty =
            parse(r#"<listAuthorizationByPatientResponse xmlns="urn:si-dmp-habilitations"/>"#);
        assert!(read_list_authorizations(&empty).unwrap().is_empty());
        for bad in [
            r#"<listAuthorizationByPatientResponse xmlns="urn:si-dmp-habilitations"><authorization><statut>AUTORISE</statut></authorization></listAuthorizationByPatientResponse>"#,
            r#"<listAuthorizationByPatientResponse xmlns="urn:si-dmp-habilitations"><authorization><idNat>1</idNat><statut>?</statut></authorization></listAuthorizationByPatientResponse>"#,
            r#"<listAuthorizationByPatientResponse xmlns="urn:si-dmp-habilitations"><authorization><idNat>1</idNat><statut>EXPIRE</statut><dateFin>2025-01-01</dateFin></authorization></listAuthorizationByPatientResponse>"#,
            r#"<x xmlns="urn:si-dmp-habilitations"/>"#,
        ] {
            assert!(matches!(
                read_list_authorizations(&parse(bad)),
                Err(DmpError::Malformed(_))
            ));
        }
    }

    #[test]
    fn hl7_times() {
        assert_eq!(
            parse_hl7_time("20240229235959+0100").unwrap().to_string(),
            "2024-02-29 23:59:59"
        );
        for bad in ["", "2024", "20230229", "2024010112", "20240101256000", "x"] {
            assert_eq!(parse_hl7_time(bad), None, "{bad}");
        }
    }
}
