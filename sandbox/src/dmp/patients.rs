//! TD0.2, the existence test (`/patients`): HL7v3 `PRPA_IN201307UV02` in, `PRPA_IN201308UV02`
//! out, with the DMP's `etatAcces` extension, exactly as `docs/dmp-wire.md` sets them.

use chrono::{DateTime, Utc};
use segur_net::xml::{escape, Element};

use super::ebrim::HL7_NS;
use super::store::OppositionKind;
use super::vihf::Vihf;
use super::{dtm, habilitations, Answer, DmpSimulator, OpError, Refusal, DMP_DEVICE_ID};

/// Namespace of the DMP extension `etatAcces` (`docs/dmp-wire.md` [I]).
pub const TD02_NS: &str = "urn:si-dmp:td02";
/// `reasonCode` of the existence test and its code system (`dmp.md` §2).
const TEST_EXST: (&str, &str) = ("TEST_EXST", "1.2.250.1.213.1.1.4.11");

fn id_attrs(el: Option<&Element>) -> (String, String) {
    (
        el.and_then(|e| e.attr("root")).unwrap_or("").to_owned(),
        el.and_then(|e| e.attr("extension"))
            .unwrap_or("")
            .to_owned(),
    )
}

fn push_id(out: &mut String, tag: &str, (root, ext): &(String, String)) {
    out.push('<');
    out.push_str(tag);
    out.push_str(" root=\"");
    out.push_str(&escape(root));
    out.push('"');
    if !ext.is_empty() {
        out.push_str(" extension=\"");
        out.push_str(&escape(ext));
        out.push('"');
    }
    out.push_str("/>");
}

/// Answers a TD0.2 request: the DMP's status, the patient's traits as the DMP knows them, and
/// the calling professional's access state.
pub(crate) fn existence_test(
    sim: &DmpSimulator,
    vihf: &Vihf,
    req: &Element,
    now: DateTime<Utc>,
) -> Result<Answer, OpError> {
    let cap = req
        .child(HL7_NS, "controlActProcess")
        .ok_or_else(|| OpError::BadRequest("controlActProcess absent.".into()))?;
    let reason = cap.child(HL7_NS, "reasonCode");
    if reason.and_then(|r| r.attr("code")) != Some(TEST_EXST.0) {
        return Err(OpError::BadRequest(
            "reasonCode TEST_EXST attendu (test d'existence).".into(),
        ));
    }
    let query = cap
        .child(HL7_NS, "queryByParameter")
        .ok_or_else(|| OpError::BadRequest("queryByParameter absent.".into()))?;
    let value = query
        .child(HL7_NS, "parameterList")
        .and_then(|p| p.child(HL7_NS, "patientIdentifier"))
        .and_then(|p| p.child(HL7_NS, "value"))
        .ok_or_else(|| OpError::BadRequest("patientIdentifier/value absent.".into()))?;
    let (oid, ins) = id_attrs(Some(value));
    if ins.is_empty() || oid.is_empty() {
        return Err(OpError::BadRequest(
            "patientIdentifier/value sans root ou extension.".into(),
        ));
    }
    if ins != vihf.patient.id || oid != vihf.patient.oid {
        return Err(OpError::Refused(Refusal::PatientDifferent));
    }
    let request_id = id_attrs(req.child(HL7_NS, "id"));
    let query_id = id_attrs(query.child(HL7_NS, "queryId"));
    let sender = req
        .child(HL7_NS, "sender")
        .and_then(|s| s.child(HL7_NS, "device"))
        .and_then(|d| d.child(HL7_NS, "id"))
        .and_then(|i| i.attr("root"))
        .unwrap_or("")
        .to_owned();

    let state = sim.store().read(|db| -> Result<_, OpError> {
        let Some(dmp) = db.dmp(&ins)?.filter(|d| d.oid == oid) else {
            return Ok(None);
        };
        let interdit = db.opposed(&ins, &vihf.ps_id, OppositionKind::Acces)?;
        let no_feed = db.opposed(&ins, &vihf.ps_id, OppositionKind::Alimentation)?;
        let hab = db.habilitation(&ins, &vihf.ps_id)?;
        let autorisation = if interdit {
            "INTERDIT"
        } else {
            hab.as_ref()
                .map_or("NON_AUTORISE", |h| habilitations::status_of(h, now))
        };
        let traitant = hab.is_some_and(|h| h.medecin_traitant);
        Ok(Some((dmp, autorisation, no_feed, traitant)))
    })?;

    let mut out = String::with_capacity(2048);
    out.push_str("<PRPA_IN201308UV02 xmlns=\"");
    out.push_str(HL7_NS);
    out.push_str("\" ITSVersion=\"XML_1.0\">");
    push_id(
        &mut out,
        "id",
        &(DMP_DEVICE_ID.to_owned(), uuid::Uuid::new_v4().to_string()),
    );
    out.push_str("<creationTime value=\"");
    out.push_str(&dtm(now));
    out.push_str(
        "\"/><interactionId root=\"2.16.840.1.113883.1.6\" extension=\"PRPA_IN201308UV02\"/>",
    );
    out.push_str(
        "<processingCode code=\"P\"/><processingModeCode code=\"T\"/><acceptAckCode code=\"NE\"/>",
    );
    out.push_str(
        "<receiver typeCode=\"RCV\"><device classCode=\"DEV\" determinerCode=\"INSTANCE\">",
    );
    push_id(&mut out, "id", &(sender, String::new()));
    out.push_str("</device></receiver><sender typeCode=\"SND\"><device classCode=\"DEV\" determinerCode=\"INSTANCE\">");
    push_id(&mut out, "id", &(DMP_DEVICE_ID.to_owned(), String::new()));
    out.push_str("<softwareName>DMP</softwareName></device></sender>");
    out.push_str("<acknowledgement><typeCode code=\"AA\"/><targetMessage>");
    push_id(&mut out, "id", &request_id);
    out.push_str("</targetMessage></acknowledgement>");
    out.push_str("<controlActProcess classCode=\"CACT\" moodCode=\"EVN\"><code code=\"PRPA_TE201308UV02\" codeSystem=\"2.16.840.1.113883.1.6\"/>");
    let found = state.is_some();
    if let Some((dmp, autorisation, no_feed, traitant)) = state {
        out.push_str("<subject typeCode=\"SUBJ\"><registrationEvent classCode=\"REG\" moodCode=\"EVN\"><statusCode code=\"");
        out.push_str(if dmp.closed { "terminated" } else { "active" });
        out.push_str("\"/><subject1 typeCode=\"SBJ\"><patient classCode=\"PAT\">");
        push_id(&mut out, "id", &(dmp.oid.clone(), dmp.ins.clone()));
        out.push_str("<statusCode code=\"active\"/><patientPerson classCode=\"PSN\" determinerCode=\"INSTANCE\"><name><given>");
        out.push_str(&escape(&dmp.given));
        out.push_str("</given><family qualifier=\"BR\">");
        out.push_str(&escape(&dmp.family));
        out.push_str("</family></name><administrativeGenderCode code=\"");
        out.push_str(&escape(&dmp.gender));
        out.push_str("\" codeSystem=\"2.16.840.1.113883.5.1\"/><birthTime value=\"");
        out.push_str(&escape(&dmp.birth_date));
        out.push_str("\"/></patientPerson></patient></subject1>");
        out.push_str("<custodian typeCode=\"CST\"><assignedEntity classCode=\"ASSIGNED\">");
        push_id(&mut out, "id", &(DMP_DEVICE_ID.to_owned(), String::new()));
        out.push_str("</assignedEntity></custodian>");
        out.push_str("<dmp:etatAcces xmlns:dmp=\"");
        out.push_str(TD02_NS);
        out.push_str("\" autorisation=\"");
        out.push_str(autorisation);
        out.push_str("\" oppositionAlimentation=\"");
        out.push_str(if no_feed { "true" } else { "false" });
        out.push_str("\" medecinTraitant=\"");
        out.push_str(if traitant { "true" } else { "false" });
        out.push_str("\"/></registrationEvent></subject>");
    }
    out.push_str("<queryAck>");
    push_id(&mut out, "queryId", &query_id);
    out.push_str("<queryResponseCode code=\"");
    out.push_str(if found { "OK" } else { "NF" });
    out.push_str("\"/></queryAck></controlActProcess></PRPA_IN201308UV02>");
    Ok(Answer::xml(out))
}
