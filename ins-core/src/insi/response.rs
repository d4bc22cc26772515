//! Reading INSi replies: `RESULTAT` (`INSi_RESULTAT_INS.xsd`) and SOAP faults with their
//! `siram:Erreur` detail (`schema_faultSOAP_V01_01.xsd`).
//!
//! Namespace-aware and order-insensitive (prefixes and element order vary between the CNDA files
//! and the live service, `ins.md` §1.6). Matricules with a wrong key are kept and flagged. Replies
//! with a `00` day or month, or an empty name, first name or sex, are refused (RNIV rules 11/12).

use segur_net::soap::{self, Content};
use segur_net::xml::{Element, XmlLimits};

use super::{NS_RESULTAT, NS_SIRAM};
use crate::error::{InsError, Result};
use crate::matricule::{Ins, InsOid, Matricule};
use crate::traits::{Cog, DateNaissance, Sexe, TraitsStricts};

/// The compte-rendu code of a reply (`ins.md` §1.7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CodeCr {
    /// `00`: one identity found.
    Found,
    /// `01`: "Aucune identite trouvee".
    NotFound,
    /// `02`: "Plusieurs identites trouvees".
    Multiple,
    /// Any other code, kept.
    Other(String),
}

impl CodeCr {
    /// Reads a code.
    pub fn from_code(code: &str) -> Self {
        match code {
            "00" => CodeCr::Found,
            "01" => CodeCr::NotFound,
            "02" => CodeCr::Multiple,
            other => CodeCr::Other(other.to_owned()),
        }
    }
    /// The two-digit code.
    pub fn code(&self) -> &str {
        match self {
            CodeCr::Found => "00",
            CodeCr::NotFound => "01",
            CodeCr::Multiple => "02",
            CodeCr::Other(s) => s,
        }
    }
}

/// The identity INSi returned with CR 00.
///
/// Sealed: only the INSi reply parser builds one, so holding an `InsiIdentity` means INSi found
/// it — the fact [`IdentityRecord::apply_insi`](crate::rniv::IdentityRecord::apply_insi) relies
/// on to make an identity récupérée, then qualifiée (RNIV rule 28: an INS leaves only from a
/// qualified identity). Outside code can read it, never invent it; tests and fixtures enable the
/// `testing` feature and call [`InsiIdentity::forged_for_tests`].
///
/// The parts of an identity can be made outside this crate:
///
/// ```
/// use segur_ins_core::{DateNaissance, Ins, InsOid, Matricule, Sexe, TraitsStricts};
/// let ins = Ins {
///     matricule: Matricule::received("2790351215189", Some("89")).unwrap(),
///     oid: InsOid::NirTest,
/// };
/// let date = DateNaissance::parse("1979-03-28").unwrap();
/// let traits = TraitsStricts::from_insi("PAT-TROIS", "DOMINIQUE", Sexe::F, date, None);
/// # let _ = (ins, traits);
/// ```
///
/// but not the identity itself, neither with a struct literal (E0451, private fields)...
///
/// ```compile_fail
/// use segur_ins_core::insi::InsiIdentity;
/// use segur_ins_core::{DateNaissance, Ins, InsOid, Matricule, Sexe, TraitsStricts};
/// let ins = Ins {
///     matricule: Matricule::received("2790351215189", Some("89")).unwrap(),
///     oid: InsOid::NirTest,
/// };
/// let date = DateNaissance::parse("1979-03-28").unwrap();
/// let traits = TraitsStricts::from_insi("PAT-TROIS", "DOMINIQUE", Sexe::F, date, None);
/// let forged = InsiIdentity { ins, history: vec![], traits };
/// ```
///
/// ...nor with the parser's constructor (E0624, crate-private):
///
/// ```compile_fail
/// use segur_ins_core::insi::InsiIdentity;
/// use segur_ins_core::{DateNaissance, Ins, InsOid, Matricule, Sexe, TraitsStricts};
/// let ins = Ins {
///     matricule: Matricule::received("2790351215189", Some("89")).unwrap(),
///     oid: InsOid::NirTest,
/// };
/// let date = DateNaissance::parse("1979-03-28").unwrap();
/// let traits = TraitsStricts::from_insi("PAT-TROIS", "DOMINIQUE", Sexe::F, date, None);
/// let forged = InsiIdentity::new(ins, vec![], traits);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsiIdentity {
    ins: Ins,
    history: Vec<Ins>,
    traits: TraitsStricts,
}

impl InsiIdentity {
    /// Built by the reply parser only.
    pub(crate) fn new(ins: Ins, history: Vec<Ins>, traits: TraitsStricts) -> Self {
        Self {
            ins,
            history,
            traits,
        }
    }

    /// FOR TESTS AND FIXTURES ONLY (feature `testing`, never enabled by shipped code): an
    /// identity INSi never returned. Passed to
    /// [`IdentityRecord::apply_insi`](crate::rniv::IdentityRecord::apply_insi), it makes a
    /// qualified identity out of nothing, which RNIV rule 28 forbids outside tests.
    #[cfg(feature = "testing")]
    pub fn forged_for_tests(ins: Ins, history: Vec<Ins>, traits: TraitsStricts) -> Self {
        Self::new(ins, history, traits)
    }

    /// `INSACTIF`.
    pub fn ins(&self) -> &Ins {
        &self.ins
    }
    /// `INSHISTO`, in the order received (0..n).
    pub fn history(&self) -> &[Ins] {
        &self.history
    }
    /// `TIQ`, verbatim (`ListePrenom` split on spaces; first name = its first token).
    pub fn traits(&self) -> &TraitsStricts {
        &self.traits
    }
}

/// A parsed `RESULTAT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsiReply {
    /// `CR/CodeCR`.
    pub code: CodeCr,
    /// `CR/LibelleCR`, verbatim.
    pub libelle: String,
    /// `INDIVIDU`, present with CR 00.
    pub identity: Option<InsiIdentity>,
}

const P_RESULTAT: &str = "/Envelope/Body/RESULTAT";

fn invalid(path: &str, detail: impl Into<String>) -> InsError {
    InsError::InsiReply {
        path: path.to_owned(),
        detail: detail.into(),
    }
}

fn required<'e>(parent: &'e Element, name: &str, path: &str) -> Result<&'e Element> {
    parent
        .child(NS_RESULTAT, name)
        .ok_or_else(|| invalid(path, format!("missing {name}")))
}

/// Parses a whole INSi reply envelope. A SOAP fault becomes [`InsError::InsiFault`].
pub fn parse_reply(input: &[u8], limits: &XmlLimits) -> Result<InsiReply> {
    let env = soap::parse_envelope(input, limits)?;
    match env.content()? {
        Content::Fault(f) => {
            let erreur = f.detail.as_ref().and_then(|d| d.child(NS_SIRAM, "Erreur"));
            Err(InsError::InsiFault {
                soap_code: f.code,
                subcode: f.subcodes.into_iter().next().unwrap_or_default(),
                code: erreur
                    .and_then(|e| e.attr("code"))
                    .unwrap_or_default()
                    .to_owned(),
                severity: erreur
                    .and_then(|e| e.attr("severite"))
                    .unwrap_or_default()
                    .to_owned(),
                reason: f.reason,
            })
        }
        Content::Payload(p) => parse_resultat(p),
    }
}

/// Parses a `RESULTAT` element.
pub fn parse_resultat(r: &Element) -> Result<InsiReply> {
    if !r.is(NS_RESULTAT, "RESULTAT") {
        return Err(invalid(
            "/Envelope/Body",
            format!(
                "expected {{{NS_RESULTAT}}}RESULTAT, found {{{}}}{}",
                r.namespace(),
                r.name
            ),
        ));
    }
    let cr = required(r, "CR", P_RESULTAT)?;
    let code = cr
        .child_text(NS_RESULTAT, "CodeCR")
        .ok_or_else(|| invalid("/Envelope/Body/RESULTAT/CR", "missing CodeCR"))?;
    let libelle = cr
        .child_text(NS_RESULTAT, "LibelleCR")
        .ok_or_else(|| invalid("/Envelope/Body/RESULTAT/CR", "missing LibelleCR"))?;
    let code = CodeCr::from_code(&code);
    let identity = match (&code, r.child(NS_RESULTAT, "INDIVIDU")) {
        (CodeCr::Found, Some(ind)) => Some(parse_individu(ind)?),
        (CodeCr::Found, None) => {
            return Err(invalid(P_RESULTAT, "CodeCR 00 without INDIVIDU"));
        }
        _ => None,
    };
    Ok(InsiReply {
        code,
        libelle,
        identity,
    })
}

fn parse_ins(e: &Element, path: &str) -> Result<Ins> {
    let id = required(e, "IdIndividu", path)?;
    let p_id = format!("{path}/IdIndividu");
    let num = id
        .child_text(NS_RESULTAT, "NumIdentifiant")
        .ok_or_else(|| invalid(&p_id, "missing NumIdentifiant"))?;
    let cle = id.child_text(NS_RESULTAT, "Cle");
    let matricule = Matricule::received(&num, cle.as_deref())
        .map_err(|e| invalid(&format!("{p_id}/NumIdentifiant"), e.to_string()))?;
    let oid = e
        .child_text(NS_RESULTAT, "OID")
        .ok_or_else(|| invalid(path, "missing OID"))?;
    Ok(Ins {
        matricule,
        oid: InsOid::from_oid(&oid),
    })
}

const RULES_11_12: &str = "RNIV rules 11/12";

fn parse_individu(ind: &Element) -> Result<InsiIdentity> {
    let base = "/Envelope/Body/RESULTAT/INDIVIDU";
    let ins = parse_ins(
        required(ind, "INSACTIF", base)?,
        "/Envelope/Body/RESULTAT/INDIVIDU/INSACTIF",
    )?;
    let history = ind
        .children_named(NS_RESULTAT, "INSHISTO")
        .map(|h| parse_ins(h, "/Envelope/Body/RESULTAT/INDIVIDU/INSHISTO"))
        .collect::<Result<Vec<_>>>()?;
    let tiq = required(ind, "TIQ", base)?;
    let p_tiq = "/Envelope/Body/RESULTAT/INDIVIDU/TIQ";
    let text = |name: &str| tiq.child_text(NS_RESULTAT, name).unwrap_or_default();
    let nom = text("NomNaissance");
    if nom.is_empty() {
        return Err(InsError::InsiReplyRefused {
            rule: RULES_11_12,
            detail: "empty NomNaissance",
        });
    }
    let liste = {
        let l = text("ListePrenom");
        if l.is_empty() {
            text("Prenom")
        } else {
            l
        }
    };
    if liste.is_empty() {
        return Err(InsError::InsiReplyRefused {
            rule: RULES_11_12,
            detail: "empty ListePrenom and Prenom",
        });
    }
    let sexe = text("Sexe");
    if sexe.is_empty() {
        return Err(InsError::InsiReplyRefused {
            rule: RULES_11_12,
            detail: "empty Sexe",
        });
    }
    let sexe = Sexe::parse(&sexe).map_err(|e| invalid(&format!("{p_tiq}/Sexe"), e.to_string()))?;
    let date = DateNaissance::parse(&text("DateNaissance"))
        .map_err(|e| invalid(&format!("{p_tiq}/DateNaissance"), e.to_string()))?;
    if date.has_zero_day_or_month() {
        return Err(InsError::InsiReplyRefused {
            rule: RULES_11_12,
            detail: "DateNaissance with a 00 day or month",
        });
    }
    let lieu = text("LieuNaissance");
    let lieu = if lieu.is_empty() {
        None
    } else {
        Some(
            Cog::parse(&lieu)
                .map_err(|e| invalid(&format!("{p_tiq}/LieuNaissance"), e.to_string()))?,
        )
    };
    let mut traits = TraitsStricts::from_insi(&nom, &liste, sexe, date, lieu);
    // When INSi gives `Prenom` beside `ListePrenom`, it is the first given name.
    let prenom = text("Prenom");
    if !prenom.is_empty() && liste.starts_with(&prenom) {
        traits.premier_prenom = prenom;
    }
    Ok(InsiIdentity::new(ins, history, traits))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matricule::KeyStatus;

    fn reply(body: &str) -> Result<InsiReply> {
        let xml = format!(
            r#"<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Body>{body}</S:Body></S:Envelope>"#
        );
        parse_reply(xml.as_bytes(), &XmlLimits::default())
    }

    fn individu(tiq: &str) -> String {
        format!(
            r#"<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR><INDIVIDU><TIQ>{tiq}</TIQ><INSACTIF><OID>1.2.250.1.213.1.4.8</OID><IdIndividu><Cle>40</Cle><NumIdentifiant>1810163220751</NumIdentifiant></IdIndividu></INSACTIF></INDIVIDU></RESULTAT>"#
        )
    }

    #[test]
    fn order_insensitive_and_prefix_free() {
        let r = reply(&individu("<Sexe>M</Sexe><ListePrenom>LAURENT</ListePrenom><NomNaissance>ADRDEUX</NomNaissance><DateNaissance>1981-01-01</DateNaissance><LieuNaissance>63220</LieuNaissance>")).unwrap();
        assert_eq!(r.code, CodeCr::Found);
        let id = r.identity.unwrap();
        assert_eq!(id.ins().matricule.to_15(), "181016322075140");
        assert_eq!(id.ins().matricule.key_status(), KeyStatus::Valid);
        assert_eq!(id.traits().premier_prenom, "LAURENT");
    }

    #[test]
    fn rules_11_12() {
        let cases = [
            "<NomNaissance></NomNaissance><ListePrenom>L</ListePrenom><Sexe>M</Sexe><DateNaissance>1981-01-01</DateNaissance>",
            "<NomNaissance>A</NomNaissance><ListePrenom/><Sexe>M</Sexe><DateNaissance>1981-01-01</DateNaissance>",
            "<NomNaissance>A</NomNaissance><ListePrenom>L</ListePrenom><Sexe></Sexe><DateNaissance>1981-01-01</DateNaissance>",
            "<NomNaissance>A</NomNaissance><ListePrenom>L</ListePrenom><Sexe>M</Sexe><DateNaissance>1981-00-01</DateNaissance>",
            "<NomNaissance>A</NomNaissance><ListePrenom>L</ListePrenom><Sexe>M</Sexe><DateNaissance>1981-01-00</DateNaissance>",
        ];
        for c in cases {
            assert!(
                matches!(reply(&individu(c)), Err(InsError::InsiReplyRefused { .. })),
                "{c}"
            );
        }
    }

    #[test]
    fn structural_errors_name_the_element() {
        let e = reply(r#"<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR></RESULTAT>"#).unwrap_err();
        assert!(e.to_string().contains("without INDIVIDU"), "{e}");
        let e = reply(r#"<RESULTAT xmlns="urn:wrong"><CR/></RESULTAT>"#).unwrap_err();
        assert!(matches!(e, InsError::InsiReply { ref path, .. } if path == "/Envelope/Body"));
        let e = reply(r#"<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat"><CR><LibelleCR>OK</LibelleCR></CR></RESULTAT>"#).unwrap_err();
        assert!(matches!(e, InsError::InsiReply { ref path, .. } if path.ends_with("/CR")));
    }

    #[test]
    fn fault_codes_kept() {
        let e = reply(r#"<S:Fault xmlns:S="http://www.w3.org/2003/05/soap-envelope" xmlns:siram="urn:siram"><S:Code><S:Value>S:Sender</S:Value><S:Subcode><S:Value>siram:siram_100</S:Value></S:Subcode></S:Code><S:Reason><S:Text xml:lang="fr">Numéro d'autorisation du logiciel inconnu.</S:Text></S:Reason><S:Detail><siram:Erreur code="desir_550" severite="fatale">x</siram:Erreur></S:Detail></S:Fault>"#).unwrap_err();
        match e {
            InsError::InsiFault {
                soap_code,
                subcode,
                code,
                severity,
                ..
            } => {
                assert_eq!(
                    (
                        soap_code.as_str(),
                        subcode.as_str(),
                        code.as_str(),
                        severity.as_str()
                    ),
                    ("Sender", "siram_100", "desir_550", "fatale")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
