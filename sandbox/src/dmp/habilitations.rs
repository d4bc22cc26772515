//! TD0.3, authorizations (`/habilitations`): `setAuthorization` (AJOUT / SUPPRESSION) and
//! `listAuthorizationByPatient`, patient = the VIHF `resource-id`, professional = the VIHF
//! `NameID` (`dmp.md` §2, shapes of `docs/dmp-wire.md`). Refusals are SOAP faults.

use chrono::{DateTime, NaiveDateTime, Utc};
use segur_net::xml::{escape, push_text_element, Element};

use super::store::{DmpRecord, Habilitation, OppositionKind};
use super::vihf::Vihf;
use super::{dtm, Answer, DmpSimulator, OpError, Refusal};

/// Namespace of the TD0.3 messages.
pub const NS: &str = "urn:si-dmp-habilitations";

/// `AUTORISE`, or `EXPIRE` once `dateFin` is past.
pub fn status_of(h: &Habilitation, now: DateTime<Utc>) -> &'static str {
    let ended = h
        .date_fin
        .as_deref()
        .and_then(|d| NaiveDateTime::parse_from_str(d, "%Y%m%d%H%M%S").ok())
        .is_some_and(|end| end.and_utc() <= now);
    if ended {
        "EXPIRE"
    } else {
        "AUTORISE"
    }
}

fn open_dmp(sim: &DmpSimulator, vihf: &Vihf) -> Result<DmpRecord, OpError> {
    let dmp = sim
        .store()
        .read(|db| db.dmp(&vihf.patient.id))?
        .filter(|d| d.oid == vihf.patient.oid)
        .ok_or(OpError::Refused(Refusal::Inexistant))?;
    if dmp.closed {
        return Err(OpError::Refused(Refusal::Ferme));
    }
    Ok(dmp)
}

/// `setAuthorization`: AJOUT records an authorization (refused with `DMP_OPPOSITION` when the
/// patient opposed this professional), SUPPRESSION removes it.
pub(crate) fn set_authorization(
    sim: &DmpSimulator,
    vihf: &Vihf,
    req: &Element,
    now: DateTime<Utc>,
) -> Result<Answer, OpError> {
    let action = req.child_text(NS, "action").unwrap_or_default();
    if action != "AJOUT" && action != "SUPPRESSION" {
        return Err(OpError::BadRequest(
            "action attendue : AJOUT ou SUPPRESSION.".into(),
        ));
    }
    let dmp = open_dmp(sim, vihf)?;
    let status = sim.store().write(|db| -> Result<&'static str, OpError> {
        if action == "SUPPRESSION" {
            db.remove_habilitation(&dmp.ins, &vihf.ps_id)?;
            return Ok("NON_AUTORISE");
        }
        if db.opposed(&dmp.ins, &vihf.ps_id, OppositionKind::Acces)? {
            return Err(OpError::Refused(Refusal::Opposition));
        }
        let previous = db.habilitation(&dmp.ins, &vihf.ps_id)?;
        let (nom, prenom) = match vihf.subject_id.trim().split_once(char::is_whitespace) {
            Some((n, p)) => (n.to_owned(), p.trim().to_owned()),
            None => (vihf.subject_id.trim().to_owned(), String::new()),
        };
        db.put_habilitation(
            &dmp.ins,
            &Habilitation {
                ps_id: vihf.ps_id.clone(),
                nom,
                prenom,
                date_debut: dtm(now),
                date_fin: None,
                medecin_traitant: previous.is_some_and(|p| p.medecin_traitant),
            },
        )?;
        Ok("AUTORISE")
    })?;
    let mut out = String::with_capacity(200);
    out.push_str("<setAuthorizationResponse xmlns=\"");
    out.push_str(NS);
    out.push_str("\"><status>OK</status>");
    push_text_element(&mut out, "autorisation", status);
    out.push_str("</setAuthorizationResponse>");
    Ok(Answer::xml(out))
}

/// `listAuthorizationByPatient`: every authorization on the patient's DMP.
pub(crate) fn list(sim: &DmpSimulator, vihf: &Vihf, now: DateTime<Utc>) -> Result<Answer, OpError> {
    let dmp = open_dmp(sim, vihf)?;
    let all = sim.store().read(|db| db.habilitations(&dmp.ins))?;
    let mut out = String::with_capacity(200 + all.len() * 300);
    out.push_str("<listAuthorizationByPatientResponse xmlns=\"");
    out.push_str(&escape(NS));
    out.push_str("\">");
    for h in &all {
        out.push_str("<authorization>");
        push_text_element(&mut out, "idNat", &h.ps_id);
        push_text_element(&mut out, "nom", &h.nom);
        push_text_element(&mut out, "prenom", &h.prenom);
        push_text_element(&mut out, "statut", status_of(h, now));
        push_text_element(&mut out, "dateDebut", &h.date_debut);
        if let Some(fin) = &h.date_fin {
            push_text_element(&mut out, "dateFin", fin);
        }
        out.push_str("</authorization>");
    }
    out.push_str("</listAuthorizationByPatientResponse>");
    Ok(Answer::xml(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry() {
        let mut h = Habilitation {
            ps_id: "1".into(),
            nom: "N".into(),
            prenom: "P".into(),
            date_debut: "20200101000000".into(),
            date_fin: None,
            medecin_traitant: false,
        };
        let now = Utc::now();
        assert_eq!(status_of(&h, now), "AUTORISE");
        h.date_fin = Some("20210101000000".into());
        assert_eq!(status_of(&h, now), "EXPIRE");
        h.date_fin = Some(dtm(now + chrono::Duration::days(1)));
        assert_eq!(status_of(&h, now), "AUTORISE");
    }
}
