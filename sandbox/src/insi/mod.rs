//! The INSi simulator: `rechercherInsAvecTraitsIdentite` and `rechercherInsAvecCarteVitale` per
//! `DESIR_ICIR_EXP_1.5.0.wsdl`, answering from [`seeds::SEEDS`], with the SOAP faults of the real
//! service (`ins.md` §1.8).
//!
//! Written from the WSDL and XSDs, not from our client: it reads requests by namespace and local
//! name (any prefix, any SOAP toolkit), so an independent client built from the official WSDL
//! (Python zeep in `tests/python`) works against it.

pub mod seeds;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use segur_ins_core::matricule::Matricule;
use segur_net::http::{HttpReply, HttpRequest};
use segur_net::soap::{self, Content, Envelope, WSA_NS};
use segur_net::xml::{push_text_element, Element, XmlLimits};

use seeds::{Seed, SeedIns, SEEDS};

const NS_RECSANS: &str = "http://www.cnamts.fr/INSiRecSans";
const NS_RECVIT: &str = "http://www.cnamts.fr/INSiRecVit";
const NS_RESULTAT: &str = "http://www.cnamts.fr/INSiResultat";
const NS_CTXLPS: &str = "urn:siram:lps:ctxlps";
const NS_SIRAM: &str = "urn:siram";
const CONTENT_TYPE: &str = "application/soap+xml; charset=utf-8";

/// Switches for the failure paths, shared with the running server.
#[derive(Debug, Default)]
pub struct Faults {
    /// Simulated outage: every call gets `siram_40` / `desir_1020`.
    pub outage: AtomicBool,
    /// Delay added before answering, in milliseconds (timeouts).
    pub delay_ms: AtomicU64,
}

impl Faults {
    /// Turns the simulated outage on or off.
    pub fn set_outage(&self, on: bool) {
        self.outage.store(on, Ordering::SeqCst);
    }
    /// Sets the answer delay.
    pub fn set_delay(&self, d: Duration) {
        self.delay_ms.store(
            d.as_millis().min(u128::from(u64::MAX)) as u64,
            Ordering::SeqCst,
        );
    }
}

/// The INSi simulator.
#[derive(Debug)]
pub struct InsiSimulator {
    known_idams: Vec<String>,
    faults: Arc<Faults>,
    limits: XmlLimits,
}

/// A fault of the service: SOAP code, subcode, `siram:Erreur/@code`, severity, reason.
struct ServiceFault {
    soap_code: &'static str,
    subcode: &'static str,
    code: &'static str,
    severity: &'static str,
    reason: &'static str,
}

const FAULT_IDAM: ServiceFault = ServiceFault {
    soap_code: "Sender",
    subcode: "siram_100",
    code: "desir_550",
    severity: "fatale",
    reason: "Numéro d'autorisation du logiciel inconnu.",
};
const FAULT_OUTAGE: ServiceFault = ServiceFault {
    soap_code: "Receiver",
    subcode: "siram_40",
    code: "desir_1020",
    severity: "fatale",
    reason: "Le service est temporairement inaccessible, veuillez réessayer ultérieurement.",
};
const FAULT_SEXE: ServiceFault = ServiceFault {
    soap_code: "Sender",
    subcode: "siram_100",
    code: "insi_24",
    severity: "erreur",
    reason: "Le format du champ sexe est incorrect.",
};
const FAULT_REQUEST: ServiceFault = ServiceFault {
    soap_code: "Sender",
    subcode: "siram_100",
    code: "insi_100",
    severity: "erreur",
    reason: "La requête est mal formée.",
};

impl InsiSimulator {
    /// A simulator that accepts these CNDA authorisation numbers (IDAM).
    pub fn new(known_idams: Vec<String>, faults: Arc<Faults>) -> Self {
        Self {
            known_idams,
            faults,
            limits: XmlLimits::default(),
        }
    }

    /// The fault switches.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Answers one HTTP request.
    pub async fn handle(&self, req: HttpRequest) -> HttpReply {
        let delay = self.faults.delay_ms.load(Ordering::SeqCst);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if req.path == "/sandbox/insi/faults" {
            return self.control(&req);
        }
        if req.path != "/lps" {
            return HttpReply::new(404, "text/plain", "not found");
        }
        if req.method != "POST" {
            return HttpReply::new(405, "text/plain", "POST only");
        }
        let (status, body) = self.answer(&req.body);
        HttpReply::new(status, CONTENT_TYPE, body)
    }

    /// The fault switches over HTTP (sandbox only, same mutual TLS): `POST
    /// /sandbox/insi/faults` with a body `outage=on`, `outage=off` or `delay_ms=N`; `GET`
    /// reads them.
    fn control(&self, req: &HttpRequest) -> HttpReply {
        if req.method == "POST" {
            let body = String::from_utf8_lossy(&req.body);
            for part in body
                .split(['&', '\n'])
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                match part.split_once('=') {
                    Some(("outage", "on")) => self.faults.set_outage(true),
                    Some(("outage", "off")) => self.faults.set_outage(false),
                    Some(("delay_ms", v)) => match v.parse::<u64>() {
                        Ok(ms) => self.faults.set_delay(Duration::from_millis(ms)),
                        Err(_) => {
                            return HttpReply::new(400, "text/plain", "delay_ms must be an integer")
                        }
                    },
                    _ => {
                        return HttpReply::new(
                            400,
                            "text/plain",
                            "expected outage=on|off or delay_ms=N",
                        )
                    }
                }
            }
        } else if req.method != "GET" {
            return HttpReply::new(405, "text/plain", "GET or POST");
        }
        HttpReply::new(
            200,
            "text/plain",
            format!(
                "outage={}\ndelay_ms={}\n",
                if self.faults.outage.load(Ordering::SeqCst) {
                    "on"
                } else {
                    "off"
                },
                self.faults.delay_ms.load(Ordering::SeqCst)
            ),
        )
    }

    /// Answers one SOAP message: (HTTP status, envelope).
    pub fn answer(&self, body: &[u8]) -> (u16, String) {
        let env = match soap::parse_envelope(body, &self.limits) {
            Ok(e) => e,
            Err(_) => return fault(&FAULT_REQUEST),
        };
        if self.faults.outage.load(Ordering::SeqCst) {
            return fault(&FAULT_OUTAGE);
        }
        // ContexteLPS/LPS/IDAM must name a known software (desir_550 otherwise).
        let idam = env
            .header_block(NS_CTXLPS, "ContexteLPS")
            .and_then(|c| c.child(NS_CTXLPS, "LPS"))
            .and_then(|l| l.child_text(NS_CTXLPS, "IDAM"));
        match idam {
            Some(i) if self.known_idams.contains(&i) => {}
            _ => return fault(&FAULT_IDAM),
        }
        let payload = match env.content() {
            Ok(Content::Payload(p)) => p.clone(),
            _ => return fault(&FAULT_REQUEST),
        };
        let action = action_of(&env);
        if payload.is(NS_RECSANS, "RECSANSVITALE") {
            if action.is_some_and(|a| !a.ends_with(":rechercherInsAvecTraitsIdentite")) {
                return fault(&FAULT_REQUEST);
            }
            self.search_traits(&payload)
        } else if payload.is(NS_RECVIT, "RECVITALE") {
            if action.is_some_and(|a| !a.ends_with(":rechercherInsAvecCarteVitale")) {
                return fault(&FAULT_REQUEST);
            }
            self.search_vitale(&payload)
        } else {
            fault(&FAULT_REQUEST)
        }
    }

    fn search_traits(&self, q: &Element) -> (u16, String) {
        let text = |n: &str| q.child_text(NS_RECSANS, n).unwrap_or_default();
        let sexe = text("Sexe");
        if sexe.is_empty() {
            return fault(&FAULT_SEXE);
        }
        if sexe != "M" && sexe != "F" {
            return fault(&FAULT_SEXE);
        }
        let nom = text("NomNaissance");
        let prenoms: Vec<String> = q
            .children_named(NS_RECSANS, "Prenom")
            .map(|p| p.text().trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let prenom = prenoms.join(" ");
        let date = text("DateNaissance");
        let cog = text("LieuNaissance");
        let found: Vec<&Seed> = SEEDS
            .iter()
            .filter(|s| {
                s.nom == nom
                    && s.sexe == sexe
                    && s.date == date
                    && (cog.is_empty() || s.cog == cog)
                    && first_names_match(s, &prenom)
            })
            .collect();
        resultat(&found)
    }

    fn search_vitale(&self, q: &Element) -> (u16, String) {
        let Some(mi) = q.child(NS_RECVIT, "MatriculeIndividu") else {
            return fault(&FAULT_REQUEST);
        };
        let num = mi
            .child_text(NS_RECVIT, "NumIdentifiant")
            .unwrap_or_default();
        let date = q.child_text(NS_RECVIT, "DateNaissance").unwrap_or_default();
        let found: Vec<&Seed> = SEEDS
            .iter()
            .filter(|s| s.active.number == num && (date.is_empty() || s.date == date))
            .collect();
        resultat(&found)
    }
}

fn action_of(env: &Envelope) -> Option<String> {
    env.header_block(WSA_NS, "Action")
        .map(|a| a.text().trim().to_owned())
}

/// The service matches the first names sent (one `Prenom`, or several joined by spaces) against
/// the whole list or the first name; some identities accept a known variant (CNDA 3.05).
fn first_names_match(s: &Seed, prenom: &str) -> bool {
    if prenom.is_empty() {
        return false;
    }
    let first = s.liste_prenom.split(' ').next().unwrap_or("");
    prenom == s.liste_prenom || prenom == first || s.also_accepts.contains(&prenom)
}

fn fault(f: &ServiceFault) -> (u16, String) {
    let detail = format!(
        "<siram:Erreur severite=\"{}\" code=\"{}\">{}</siram:Erreur>",
        f.severity, f.code, f.reason
    );
    (
        500,
        soap::write_fault(
            &[("siram", NS_SIRAM)],
            f.soap_code,
            Some(&format!("siram:{}", f.subcode)),
            f.reason,
            &detail,
        ),
    )
}

fn push_ins(out: &mut String, tag: &str, ins: &SeedIns) {
    let key = if ins.key.is_empty() {
        Matricule::received(ins.number, None)
            .map(|m| m.key_str())
            .unwrap_or_default()
    } else {
        ins.key.to_owned()
    };
    out.push_str("<ns2:");
    out.push_str(tag);
    out.push_str("><ns2:IdIndividu>");
    push_text_element(out, "ns2:NumIdentifiant", ins.number);
    push_text_element(out, "ns2:Cle", &key);
    out.push_str("</ns2:IdIndividu>");
    push_text_element(out, "ns2:OID", ins.oid);
    out.push_str("</ns2:");
    out.push_str(tag);
    out.push('>');
}

/// Writes `RESULTAT` (CR 00 with INDIVIDU, 01 or 02), laid out like the CNDA files.
fn resultat(found: &[&Seed]) -> (u16, String) {
    let mut body = String::with_capacity(1500);
    body.push_str("<ns2:RESULTAT xmlns:ns2=\"");
    body.push_str(NS_RESULTAT);
    body.push_str("\"><ns2:CR>");
    match found {
        [one] => {
            body.push_str("<ns2:CodeCR>00</ns2:CodeCR><ns2:LibelleCR>OK</ns2:LibelleCR></ns2:CR><ns2:INDIVIDU>");
            push_ins(&mut body, "INSACTIF", &one.active);
            for h in one.history {
                push_ins(&mut body, "INSHISTO", h);
            }
            body.push_str("<ns2:TIQ>");
            push_text_element(&mut body, "ns2:NomNaissance", one.nom);
            push_text_element(&mut body, "ns2:ListePrenom", one.liste_prenom);
            push_text_element(&mut body, "ns2:Sexe", one.sexe);
            push_text_element(&mut body, "ns2:DateNaissance", one.date);
            push_text_element(&mut body, "ns2:LieuNaissance", one.cog);
            body.push_str("</ns2:TIQ></ns2:INDIVIDU>");
        }
        [] => body.push_str(
            "<ns2:CodeCR>01</ns2:CodeCR><ns2:LibelleCR>Aucune identite trouvee</ns2:LibelleCR></ns2:CR>",
        ),
        _ => body.push_str(
            "<ns2:CodeCR>02</ns2:CodeCR><ns2:LibelleCR>Plusieurs identites trouvees</ns2:LibelleCR></ns2:CR>",
        ),
    }
    body.push_str("</ns2:RESULTAT>");
    let mut out = String::with_capacity(body.len() + 200);
    soap::write_envelope(&mut out, &[], "", &body);
    (200, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use segur_net::soap::SOAP12_NS;

    fn sim() -> InsiSimulator {
        InsiSimulator::new(vec!["SEGURSANDBOX".into()], Arc::new(Faults::default()))
    }

    fn req(idam: &str, body: &str) -> String {
        format!(
            r#"<e:Envelope xmlns:e="{SOAP12_NS}"><e:Header><c:ContexteLPS xmlns:c="urn:siram:lps:ctxlps"><c:LPS><c:IDAM R="4">{idam}</c:IDAM></c:LPS></c:ContexteLPS></e:Header><e:Body>{body}</e:Body></e:Envelope>"#
        )
    }

    fn traits(nom: &str, prenom: &str, sexe: &str, date: &str, cog: &str) -> String {
        let cog = if cog.is_empty() {
            String::new()
        } else {
            format!("<LieuNaissance>{cog}</LieuNaissance>")
        };
        format!(
            r#"<RECSANSVITALE xmlns="http://www.cnamts.fr/INSiRecSans"><NomNaissance>{nom}</NomNaissance><Prenom>{prenom}</Prenom><Sexe>{sexe}</Sexe><DateNaissance>{date}</DateNaissance>{cog}</RECSANSVITALE>"#
        )
    }

    #[test]
    fn answers_per_seed() {
        let s = sim();
        let (st, xml) = s.answer(
            req(
                "SEGURSANDBOX",
                &traits("ADRDEUX", "LAURENT", "M", "1981-01-01", ""),
            )
            .as_bytes(),
        );
        assert_eq!(st, 200);
        assert!(xml.contains("<ns2:CodeCR>00</ns2:CodeCR>") && xml.contains("1810163220751"));
        let (_, xml) = s.answer(
            req(
                "SEGURSANDBOX",
                &traits("DE VINCI", "LEONARDO", "M", "2014-02-01", ""),
            )
            .as_bytes(),
        );
        assert!(xml.contains(">02<"));
        let (_, xml) = s.answer(
            req(
                "SEGURSANDBOX",
                &traits("DE VINCI", "LEONARDO", "M", "2014-02-01", "63220"),
            )
            .as_bytes(),
        );
        assert!(xml.contains(">00<"));
        let (_, xml) = s.answer(
            req(
                "SEGURSANDBOX",
                &traits("TCHITCHI", "OLA CATARINA BELLA", "F", "1936-06-21", ""),
            )
            .as_bytes(),
        );
        assert!(xml.contains(">01<"));
    }

    #[test]
    fn faults() {
        let s = sim();
        let (st, xml) =
            s.answer(req("NOPE", &traits("ADRDEUX", "LAURENT", "M", "1981-01-01", "")).as_bytes());
        assert_eq!(st, 500);
        assert!(xml.contains("siram_100") && xml.contains("desir_550"));
        let (_, xml) = s.answer(
            req(
                "SEGURSANDBOX",
                &traits("ADRDEUX", "LAURENT", "", "1981-01-01", ""),
            )
            .as_bytes(),
        );
        assert!(xml.contains("insi_24"));
        s.faults().set_outage(true);
        let (_, xml) = s.answer(
            req(
                "SEGURSANDBOX",
                &traits("ADRDEUX", "LAURENT", "M", "1981-01-01", ""),
            )
            .as_bytes(),
        );
        assert!(xml.contains("siram_40"));
        let (st, _) = s.answer(b"<not soap");
        assert_eq!(st, 500);
    }
}
