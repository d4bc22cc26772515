//! The tree path the typed model was first read with: the whole document as a borrowed tree
//! (`segur_net::xml::parse_document`), then walked. Kept as the oracle the one-pass reader is
//! tested against (same `ParsedDocument`, same errors).

use std::collections::HashMap;

use base64::Engine;
use chrono::NaiveDate;
use segur_net::xml::{Element, ElementRef, NodeRef, XmlLimits};

use super::*;
use crate::codes::Code;
use crate::error::{CdaError, Result};
use crate::header::{InstanceId, PersonName};

/// A handle on an element of the parsed document.
type El<'d> = ElementRef<'d>;

fn path(parent: &str, name: &str) -> String {
    format!("{parent}/{name}")
}

fn child<'d>(e: El<'d>, name: &str) -> Option<El<'d>> {
    e.child(NS, name)
}

fn need<'d>(e: El<'d>, name: &'static str, at: &str) -> Result<El<'d>> {
    child(e, name).ok_or_else(|| CdaError::Missing {
        path: at.to_owned(),
        what: name,
    })
}

fn need_attr<'d>(e: El<'d>, name: &'static str, at: &str) -> Result<&'d str> {
    e.attr(name).ok_or_else(|| CdaError::Missing {
        path: at.to_owned(),
        what: name,
    })
}

fn ii(e: El<'_>, at: &str) -> Result<InstanceId> {
    Ok(InstanceId {
        root: need_attr(e, "root", at)?.to_owned(),
        extension: e.attr("extension").map(str::to_owned),
    })
}

fn ii_opt(e: Option<El<'_>>) -> Option<InstanceId> {
    let e = e?;
    Some(InstanceId {
        root: e.attr("root")?.to_owned(),
        extension: e.attr("extension").map(str::to_owned),
    })
}

fn code_of(e: El<'_>) -> Option<Code> {
    Some(Code {
        code: e.attr("code")?.to_owned(),
        system: e.attr("codeSystem").unwrap_or_default().to_owned(),
        display: e.attr("displayName").unwrap_or_default().to_owned(),
        system_name: e.attr("codeSystemName").map(str::to_owned),
    })
}

fn child_code(e: El<'_>, name: &str) -> Option<Code> {
    child(e, name).and_then(code_of)
}

fn has_template(e: El<'_>, root: &str) -> bool {
    e.children_named(NS, "templateId")
        .any(|t| t.attr("root") == Some(root))
}

fn name_of(e: Option<El<'_>>) -> Option<PersonName> {
    let n = e?;
    Some(PersonName {
        prefix: n.child_text(NS, "prefix"),
        given: n.child_text(NS, "given"),
        family: n.child_text(NS, "family").unwrap_or_default(),
        suffix: n.child_text(NS, "suffix"),
    })
}

fn person(role: El<'_>, person_name: &str, org_name: &str) -> ParsedPerson {
    let org = child(role, org_name).map(|o| (ii_opt(child(o, "id")), o.child_text(NS, "name")));
    ParsedPerson {
        id: ii_opt(child(role, "id")),
        name: name_of(child(role, person_name).and_then(|p| child(p, "name"))),
        code: child_code(role, "code"),
        organization: org,
        time: None,
    }
}

/// All text below an element, whitespace collapsed (same result as [`deep_text`]).
fn deep_text_of(e: El<'_>) -> String {
    fn walk(e: El<'_>, out: &mut String, space: &mut bool) {
        for n in e.children() {
            match n {
                NodeRef::Text(t) => push_words(t, out, space),
                NodeRef::Element(c) => walk(c, out, space),
            }
        }
    }
    let mut s = String::new();
    walk(e, &mut s, &mut false);
    s
}

/// Serialises a parsed element back to XML (used for raw items); same output as [`to_xml`].
fn to_xml_of(e: El<'_>) -> String {
    fn w(e: El<'_>, out: &mut String, ns_decl: bool) {
        out.push('<');
        out.push_str(e.name());
        if ns_decl {
            out.push_str(
                " xmlns=\"urn:hl7-org:v3\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
            );
        }
        for a in e.attributes() {
            out.push(' ');
            if a.ns == Some(XSI) {
                out.push_str("xsi:");
            } else if a.ns == Some("http://www.w3.org/XML/1998/namespace") {
                out.push_str("xml:");
            }
            out.push_str(a.name);
            out.push_str("=\"");
            out.push_str(&segur_net::xml::escape(a.value));
            out.push('"');
        }
        let mut children = e.children().peekable();
        if children.peek().is_none() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for c in children {
            match c {
                NodeRef::Text(t) => out.push_str(&segur_net::xml::escape(t)),
                NodeRef::Element(c) => w(c, out, false),
            }
        }
        out.push_str("</");
        out.push_str(e.name());
        out.push('>');
    }
    let mut s = String::new();
    w(e, &mut s, true);
    s
}

/// Parses with explicit limits, the tree way.
pub(super) fn parse_with_limits(input: &[u8], limits: &XmlLimits) -> Result<ParsedDocument> {
    let doc = segur_net::xml::parse_document(input, limits)?;
    let root = doc.root();
    if !root.is(NS, "ClinicalDocument") {
        return Err(CdaError::WrongRoot {
            namespace: root.namespace().to_owned(),
            name: root.name().to_owned(),
        });
    }
    let header = parse_header(root)?;
    let vsm_version = header
        .template_ids
        .iter()
        .find(|t| t.root == TEMPLATE_VSM)
        .map(|t| match t.extension.as_deref() {
            Some("201310") | None => VsmVersion::V2013,
            _ => VsmVersion::V2023,
        });
    let p = "/ClinicalDocument/component";
    let comp = need(root, "component", "/ClinicalDocument")?;
    let mut items = Vec::new();
    let body = if let Some(nx) = child(comp, "nonXMLBody") {
        let t = need(nx, "text", &path(p, "nonXMLBody"))?;
        let media_type = need_attr(t, "mediaType", &path(p, "nonXMLBody/text"))?.to_owned();
        let b64: String = t.text().chars().filter(|c| !c.is_whitespace()).collect();
        let data = if t.attr("representation") == Some("B64") {
            base64::engine::general_purpose::STANDARD
                .decode(b64.as_bytes())
                .map_err(|_| CdaError::Invalid {
                    path: path(p, "nonXMLBody/text"),
                    rule: "representation B64 must hold base64",
                })?
        } else {
            t.text().into_owned().into_bytes()
        };
        Body::NonXml { media_type, data }
    } else {
        let sb = child(comp, "structuredBody").ok_or(CdaError::Missing {
            path: p.to_owned(),
            what: "nonXMLBody or structuredBody",
        })?;
        let mut narrative = HashMap::new();
        narrative_ids(sb, &mut narrative);
        let mut ctx = Ctx {
            narrative,
            seen: HashMap::new(),
            items: &mut items,
        };
        for s in sb
            .children_named(NS, "component")
            .filter_map(|c| child(c, "section"))
        {
            ctx.section(s, "s")?;
        }
        Body::Structured
    };
    Ok(ParsedDocument {
        header,
        vsm_version,
        body,
        items,
        root: SourceTree::new(doc.source(), limits),
    })
}

fn parse_header(r: El<'_>) -> Result<ParsedHeader> {
    let at = "/ClinicalDocument";
    let template_ids = r
        .children_named(NS, "templateId")
        .filter_map(|t| ii_opt(Some(t)))
        .collect();
    let id = ii(need(r, "id", at)?, &path(at, "id"))?;
    let code = code_of(need(r, "code", at)?).ok_or(CdaError::Missing {
        path: path(at, "code"),
        what: "code",
    })?;
    let title = deep_text_of(need(r, "title", at)?);
    let effective_time = need_attr(
        need(r, "effectiveTime", at)?,
        "value",
        &path(at, "effectiveTime"),
    )?
    .to_owned();
    let cc = need_attr(
        need(r, "confidentialityCode", at)?,
        "code",
        &path(at, "confidentialityCode"),
    )?;
    let confidentiality = Confidentiality::from_code(cc).ok_or(CdaError::Invalid {
        path: path(at, "confidentialityCode"),
        rule: "confidentialityCode must be N, R or V (2.16.840.1.113883.1.11.10228)",
    })?;
    let set_id = ii(need(r, "setId", at)?, &path(at, "setId"))?;
    let version = need_attr(
        need(r, "versionNumber", at)?,
        "value",
        &path(at, "versionNumber"),
    )?
    .trim()
    .parse::<u32>()
    .map_err(|_| CdaError::Invalid {
        path: path(at, "versionNumber"),
        rule: "versionNumber/@value must be a positive integer",
    })?;
    let rt = need(r, "recordTarget", at)?;
    let pr = need(rt, "patientRole", "/ClinicalDocument/recordTarget")?;
    let pat_at = "/ClinicalDocument/recordTarget/patientRole";
    let ids: Vec<InstanceId> = pr
        .children_named(NS, "id")
        .filter_map(|i| ii_opt(Some(i)))
        .collect();
    if ids.is_empty() {
        return Err(CdaError::Missing {
            path: pat_at.into(),
            what: "id",
        });
    }
    let pt = need(pr, "patient", pat_at)?;
    let mut patient = ParsedPatient {
        ids,
        ..Default::default()
    };
    if let Some(n) = child(pt, "name") {
        for c in n.elements() {
            let q = c.attr("qualifier");
            let t = Some(deep_text_of(c));
            match (c.name(), q) {
                ("family", Some("BR")) => patient.nom_naissance = t,
                ("family", Some("CL")) => patient.nom_utilise = t,
                ("family", None) if patient.nom_naissance.is_none() => patient.nom_naissance = t,
                ("given", Some("BR")) => patient.premier_prenom = t,
                ("given", Some("CL")) => patient.prenom_utilise = t,
                ("given", None) => patient.prenoms = t,
                _ => {}
            }
        }
    }
    patient.sexe = child(pt, "administrativeGenderCode")
        .and_then(|g| g.attr("code"))
        .map(str::to_owned);
    patient.birth_time = child(pt, "birthTime")
        .and_then(|g| g.attr("value"))
        .map(str::to_owned);
    patient.birth_cog = child(pt, "birthplace")
        .and_then(|b| child(b, "place"))
        .and_then(|p| child(p, "addr"))
        .and_then(|a| a.child_text(NS, "county"));
    if patient.ins().is_some() {
        // StrucMin INS rule: all the INS traits are mandatory with an INS.
        let missing = [
            (
                patient.nom_naissance.is_none(),
                "name/family[@qualifier='BR']",
            ),
            (
                patient.premier_prenom.is_none(),
                "name/given[@qualifier='BR']",
            ),
            (patient.prenoms.is_none(), "name/given"),
            (patient.birth_time.is_none(), "birthTime"),
            (patient.sexe.is_none(), "administrativeGenderCode"),
            (patient.birth_cog.is_none(), "birthplace/place/addr/county"),
        ];
        if let Some((_, what)) = missing.iter().find(|(m, _)| *m) {
            return Err(CdaError::Missing {
                path: format!("{pat_at}/patient"),
                what,
            });
        }
    }
    let mut authors = Vec::new();
    for a in r.children_named(NS, "author") {
        let aa = need(a, "assignedAuthor", "/ClinicalDocument/author")?;
        let mut p = person(aa, "assignedPerson", "representedOrganization");
        if p.id.is_none() {
            return Err(CdaError::Missing {
                path: "/ClinicalDocument/author/assignedAuthor".into(),
                what: "id",
            });
        }
        p.time = child(a, "time")
            .and_then(|t| t.attr("value"))
            .map(str::to_owned);
        authors.push(p);
    }
    if authors.is_empty() {
        return Err(CdaError::Missing {
            path: at.into(),
            what: "author",
        });
    }
    let cust = need(
        need(
            need(r, "custodian", at)?,
            "assignedCustodian",
            "/ClinicalDocument/custodian",
        )?,
        "representedCustodianOrganization",
        "/ClinicalDocument/custodian/assignedCustodian",
    )?;
    let custodian = (ii_opt(child(cust, "id")), cust.child_text(NS, "name"));
    let la = need(r, "legalAuthenticator", at)?;
    let mut legal_authenticator = person(
        need(la, "assignedEntity", "/ClinicalDocument/legalAuthenticator")?,
        "assignedPerson",
        "representedOrganization",
    );
    legal_authenticator.time = child(la, "time")
        .and_then(|t| t.attr("value"))
        .map(str::to_owned);
    let recipients = r
        .children_named(NS, "informationRecipient")
        .filter_map(|i| child(i, "intendedRecipient"))
        .map(|ir| person(ir, "informationRecipient", "receivedOrganization"))
        .collect();
    let medecin_traitant = r
        .children_named(NS, "participant")
        .find(|&p| {
            p.attr("typeCode") == Some("INF")
                && child(p, "functionCode").and_then(|f| f.attr("code")) == Some("PCP")
        })
        .and_then(|p| {
            let mut pp = person(
                child(p, "associatedEntity")?,
                "associatedPerson",
                "scopingOrganization",
            );
            pp.time = child(p, "time")
                .and_then(|t| child(t, "low"))
                .and_then(|l| l.attr("value"))
                .map(str::to_owned);
            Some(pp)
        });
    let se = need(
        need(r, "documentationOf", at)?,
        "serviceEvent",
        "/ClinicalDocument/documentationOf",
    )?;
    let set = child(se, "effectiveTime");
    let tv = |e: Option<El<'_>>, n: &str| {
        e.and_then(|e| child(e, n))
            .and_then(|l| l.attr("value"))
            .map(str::to_owned)
    };
    let practice_setting = child(se, "performer")
        .and_then(|p| child(p, "assignedEntity"))
        .and_then(|a| child(a, "representedOrganization"))
        .and_then(|o| child_code(o, "standardIndustryClassCode"));
    let enc = need(
        need(r, "componentOf", at)?,
        "encompassingEncounter",
        "/ClinicalDocument/componentOf",
    )?;
    let facility_type = child(enc, "location")
        .and_then(|l| child(l, "healthCareFacility"))
        .and_then(|h| child_code(h, "code"));
    let replaces = r
        .children_named(NS, "relatedDocument")
        .find(|d| d.attr("typeCode") == Some("RPLC"))
        .and_then(|d| child(d, "parentDocument"))
        .and_then(|p| ii_opt(child(p, "id")));
    Ok(ParsedHeader {
        template_ids,
        id,
        code,
        title,
        effective_time,
        confidentiality,
        language: child(r, "languageCode")
            .and_then(|l| l.attr("code"))
            .map(str::to_owned),
        set_id,
        version,
        patient,
        authors,
        custodian,
        legal_authenticator,
        recipients,
        medecin_traitant,
        service_event_code: child_code(se, "code"),
        service_event_time: (tv(set, "low"), tv(set, "high")),
        practice_setting,
        facility_type,
        encounter_code: child_code(enc, "code"),
        replaces,
    })
}

/// Every element of the narrative with an `ID` (its text is computed when a reference to it is
/// resolved, not here).
fn narrative_ids<'d>(e: El<'d>, m: &mut HashMap<&'d str, El<'d>>) {
    if let Some(id) = e.attr("ID") {
        m.insert(id, e);
    }
    for c in e.elements() {
        narrative_ids(c, m);
    }
}

struct Ctx<'a, 'd> {
    narrative: HashMap<&'d str, El<'d>>,
    seen: HashMap<String, usize>,
    items: &'a mut Vec<Item>,
}

fn date_of(v: Option<&str>) -> Option<NaiveDate> {
    let v = v?;
    NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d").ok()
}

fn ivl_dates(e: Option<El<'_>>) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let Some(e) = e else { return (None, None) };
    if let Some(v) = e.attr("value") {
        return (date_of(Some(v)), None);
    }
    (
        date_of(child(e, "low").and_then(|l| l.attr("value"))),
        date_of(child(e, "high").and_then(|l| l.attr("value"))),
    )
}

fn entry_id(e: El<'_>) -> Option<String> {
    ii_opt(child(e, "id")).map(|i| i.to_xds())
}

impl Ctx<'_, '_> {
    fn resolve(&self, e: Option<El<'_>>) -> Option<String> {
        let r = e?.child(NS, "reference")?.attr("value")?;
        let id = r.strip_prefix('#')?;
        self.narrative
            .get(id)
            .map(|e| deep_text_of(*e))
            .filter(|s| !s.is_empty())
    }

    /// Label from `text/reference`, else `originalText/reference` of `coded`, else its display.
    fn label(&self, e: El<'_>, coded: Option<El<'_>>) -> String {
        self.resolve(child(e, "text"))
            .or_else(|| self.resolve(coded.and_then(|c| child(c, "originalText"))))
            .or_else(|| coded.and_then(|c| c.attr("displayName")).map(str::to_owned))
            .unwrap_or_default()
    }

    fn push(
        &mut self,
        kind: ItemKind,
        key: String,
        label: String,
        code: Option<Code>,
        content: ItemContent,
    ) {
        let prefix = match kind {
            ItemKind::Pathologie => "pathologie",
            ItemKind::AntecedentMedical => "atcd-medical",
            ItemKind::AntecedentChirurgical => "atcd-chirurgical",
            ItemKind::Allergie => "allergie",
            ItemKind::AntecedentFamilial => "atcd-familial",
            ItemKind::FacteurRisqueProfessionnel => "facteur-pro",
            ItemKind::Habitus => "habitus",
            ItemKind::PointDeVigilance => "vigilance",
            ItemKind::Traitement => "traitement",
            ItemKind::Autre => "autre",
        };
        let base = format!("{prefix}:{key}");
        let id = match self.seen.get_mut(&base) {
            None => {
                self.seen.insert(base.clone(), 1);
                base
            }
            Some(n) => {
                *n += 1;
                format!("{base}#{n}")
            }
        };
        self.items.push(Item {
            id: ItemId(id),
            kind,
            label,
            code,
            content,
        });
    }

    fn rows(&mut self, s: El<'_>, kind: ItemKind) {
        let Some(t) = child(s, "text") else { return };
        let mut rows = Vec::new();
        fn find_rows<'e>(e: El<'e>, out: &mut Vec<El<'e>>) {
            for c in e.elements() {
                if c.name() == "tr" {
                    if c.elements().any(|td| td.name() == "td") {
                        out.push(c);
                    }
                } else if c.name() == "item" {
                    out.push(c);
                } else {
                    find_rows(c, out);
                }
            }
        }
        find_rows(t, &mut rows);
        for (i, r) in rows.iter().enumerate() {
            let text = deep_text_of(*r);
            if text.is_empty() {
                continue;
            }
            let key = r
                .elements()
                .flat_map(|c| std::iter::once(c).chain(c.elements()))
                .find_map(|c| c.attr("ID"))
                .map(str::to_owned)
                .unwrap_or_else(|| format!("ligne-{}", i + 1));
            let item = TextItem {
                id: None,
                text: text.clone(),
            };
            self.push(kind, key, text, None, ItemContent::Text(item));
        }
    }

    fn section(&mut self, s: El<'_>, pos: &str) -> Result<()> {
        // The section's templateIds, read once (a section is tested against a dozen models).
        let templates: Vec<&str> = s
            .children_named(NS, "templateId")
            .filter_map(|t| t.attr("root"))
            .collect();
        let t = |r: &str| templates.contains(&r);
        let entries: Vec<(usize, El<'_>)> = s
            .children_named(NS, "entry")
            .filter_map(|e| e.elements().find(|c| c.name() != "templateId"))
            .enumerate()
            .collect();
        if t("1.2.250.1.213.1.1.2.132") || t("1.2.250.1.213.1.1.2.134") {
            let kind = if t("1.2.250.1.213.1.1.2.132") {
                ItemKind::Pathologie
            } else {
                ItemKind::AntecedentMedical
            };
            for (i, act) in entries {
                self.problem(act, kind, pos, i);
            }
        } else if t("1.2.250.1.213.1.1.2.136") {
            for (i, p) in entries {
                self.procedure(p, pos, i);
            }
        } else if t("1.2.250.1.213.1.1.2.137") {
            for (i, a) in entries {
                self.allergy(a, pos, i);
            }
        } else if t("1.2.250.1.213.1.1.2.141") {
            for (i, o) in entries {
                self.habitus(o, pos, i);
            }
        } else if t("1.2.250.1.213.1.1.2.139") {
            for (i, o) in entries {
                self.family(o, pos, i);
            }
        } else if t("1.2.250.1.213.1.1.2.143") {
            for (i, o) in entries {
                self.treatment(o, pos, i);
            }
        } else if t("1.2.250.1.213.1.1.2.74") {
            self.rows(s, ItemKind::FacteurRisqueProfessionnel);
        } else if t("1.2.250.1.213.1.1.2.150") || t("1.3.6.1.4.1.19376.1.5.3.1.3.27") {
            self.rows(s, ItemKind::PointDeVigilance);
        } else if t("1.2.250.1.213.1.1.2.29") {
            // Our "Autres" list lives in the narrative of the first section.
            if let Some(text) = child(s, "text") {
                if text.elements().any(|c| c.name() == "list") {
                    self.rows(s, ItemKind::Autre);
                }
            }
        } else if t("1.2.250.1.213.1.1.2.243") {
            // PDF copy: not an integrable item.
        } else {
            for (i, e) in entries {
                let key = entry_id(e).unwrap_or_else(|| format!("{pos}/{i}"));
                let label = self.label(e, child(e, "code"));
                self.push(
                    ItemKind::Autre,
                    key,
                    label,
                    child_code(e, "code"),
                    ItemContent::Raw(to_xml_of(e)),
                );
            }
        }
        for (i, sub) in s
            .children_named(NS, "component")
            .filter_map(|c| child(c, "section"))
            .enumerate()
        {
            self.section(sub, &format!("{pos}.{i}"))?;
        }
        Ok(())
    }

    fn problem(&mut self, act: El<'_>, kind: ItemKind, pos: &str, i: usize) {
        let obs = child(act, "entryRelationship").and_then(|r| child(r, "observation"));
        let (Some(obs), Some(value)) = (obs, obs.and_then(|o| child(o, "value"))) else {
            return self.raw(act, pos, i);
        };
        let code = code_of(value);
        let (start, end) = ivl_dates(child(obs, "effectiveTime").or(child(act, "effectiveTime")));
        let label = self.label(obs, Some(value));
        let key = entry_id(act).unwrap_or_else(|| format!("{pos}/{i}"));
        match code {
            Some(c) => {
                let p = Problem {
                    id: entry_id(obs),
                    label: label.clone(),
                    code: c.clone(),
                    start,
                    end,
                };
                self.push(kind, key, label, Some(c), ItemContent::Problem(p));
            }
            None => self.raw(act, pos, i),
        }
    }

    fn raw(&mut self, e: El<'_>, pos: &str, i: usize) {
        let key = entry_id(e).unwrap_or_else(|| format!("{pos}/{i}"));
        let label = self.label(e, child(e, "code"));
        self.push(
            ItemKind::Autre,
            key,
            label,
            child_code(e, "code"),
            ItemContent::Raw(to_xml_of(e)),
        );
    }

    fn procedure(&mut self, p: El<'_>, pos: &str, i: usize) {
        let Some(code) = child_code(p, "code") else {
            return self.raw(p, pos, i);
        };
        let label = self.label(p, child(p, "code"));
        let reason = p
            .children_named(NS, "entryRelationship")
            .filter(|r| r.attr("typeCode") == Some("RSON"))
            .find_map(|r| child(r, "act").and_then(|a| child_code(a, "code")));
        let item = Procedure {
            id: entry_id(p),
            label: label.clone(),
            code: code.clone(),
            date: ivl_dates(child(p, "effectiveTime")).0,
            reason,
        };
        let key = entry_id(p).unwrap_or_else(|| format!("{pos}/{i}"));
        self.push(
            ItemKind::AntecedentChirurgical,
            key,
            label,
            Some(code),
            ItemContent::Procedure(item),
        );
    }

    fn allergy(&mut self, act: El<'_>, pos: &str, i: usize) {
        let mut any = false;
        for (j, obs) in act
            .children_named(NS, "entryRelationship")
            .filter_map(|r| child(r, "observation"))
            .enumerate()
        {
            any = true;
            let agent_el = child(obs, "participant")
                .and_then(|p| child(p, "participantRole"))
                .and_then(|r| child(r, "playingEntity"));
            let agent_code_el = agent_el.and_then(|a| child(a, "code"));
            let agent = agent_code_el.and_then(code_of);
            let agent_label = agent_code_el
                .and_then(|c| self.resolve(child(c, "originalText")))
                .or_else(|| agent.as_ref().map(|a| a.display.clone()))
                .or_else(|| agent_el.and_then(|a| a.child_text(NS, "name")))
                .unwrap_or_default();
            let agent_label = match &agent {
                Some(a) if !a.display.is_empty() => a.display.clone(),
                _ => agent_label,
            };
            let value = child(obs, "value");
            let status = obs
                .children_named(NS, "entryRelationship")
                .filter_map(|r| child(r, "observation"))
                .find(|&o| has_template(o, "1.2.250.1.213.1.1.3.30"))
                .and_then(|o| child(o, "value"))
                .and_then(|v| v.attr("code"))
                .and_then(ClinicalStatus::from_code);
            let item = Allergy {
                id: entry_id(obs),
                kind: child_code(obs, "code"),
                agent_label: agent_label.clone(),
                agent: agent.clone(),
                reaction_label: value
                    .and_then(|v| self.resolve(child(v, "originalText")))
                    .filter(|s| s != "-"),
                reaction: value.and_then(code_of),
                start: ivl_dates(child(obs, "effectiveTime")).0,
                status,
            };
            let key = entry_id(obs)
                .or_else(|| entry_id(act).map(|a| format!("{a}/{j}")))
                .unwrap_or_else(|| format!("{pos}/{i}/{j}"));
            self.push(
                ItemKind::Allergie,
                key,
                agent_label,
                agent,
                ItemContent::Allergy(item),
            );
        }
        if !any {
            self.raw(act, pos, i);
        }
    }

    fn habitus(&mut self, o: El<'_>, pos: &str, i: usize) {
        let Some(code) = child_code(o, "code") else {
            return self.raw(o, pos, i);
        };
        let label = self.label(o, child(o, "code"));
        let v = child(o, "value");
        let xsi = v.and_then(|v| v.attr_ns(XSI, "type"));
        let value = match (v, xsi) {
            (Some(v), Some("PQ")) => HabitusValue::Quantity {
                value: v.attr("value").unwrap_or_default().to_owned(),
                unit: v.attr("unit").unwrap_or("1").to_owned(),
            },
            (Some(v), Some("CD" | "CE")) if v.attr("code").is_some() => {
                HabitusValue::Coded(code_of(v).unwrap_or_else(|| code.clone()))
            }
            (Some(v), _) => HabitusValue::Text(
                self.resolve(child(v, "originalText"))
                    .unwrap_or_else(|| deep_text_of(v)),
            ),
            (None, _) => HabitusValue::Text(String::new()),
        };
        let value_label = v.and_then(|v| self.resolve(child(v, "originalText")));
        let item = Habitus {
            id: entry_id(o),
            code: code.clone(),
            label: label.clone(),
            value,
            value_label: value_label.filter(|l| *l != label),
        };
        let key = entry_id(o).unwrap_or_else(|| format!("{pos}/{i}"));
        self.push(
            ItemKind::Habitus,
            key,
            label,
            Some(code),
            ItemContent::Habitus(item),
        );
    }

    fn family(&mut self, org: El<'_>, pos: &str, i: usize) {
        let rs = child(org, "subject").and_then(|s| child(s, "relatedSubject"));
        let relation = rs.and_then(|r| child_code(r, "code"));
        let relation_gender = rs
            .and_then(|r| child(r, "subject"))
            .and_then(|s| child_code(s, "administrativeGenderCode"));
        let mut any = false;
        for (j, obs) in org
            .children_named(NS, "component")
            .filter_map(|c| child(c, "observation"))
            .enumerate()
        {
            let (Some(rel), Some(code)) = (relation.clone(), child(obs, "value").and_then(code_of))
            else {
                continue;
            };
            any = true;
            let label = self.label(obs, child(obs, "value"));
            let item = FamilyHistory {
                id: entry_id(obs),
                relation: rel,
                relation_gender: relation_gender.clone(),
                label: label.clone(),
                code: code.clone(),
            };
            let key = entry_id(obs).unwrap_or_else(|| format!("{pos}/{i}/{j}"));
            self.push(
                ItemKind::AntecedentFamilial,
                key,
                label,
                Some(code),
                ItemContent::Family(item),
            );
        }
        if !any {
            self.raw(org, pos, i);
        }
    }

    fn treatment(&mut self, sa: El<'_>, pos: &str, i: usize) {
        let mm = child(sa, "consumable")
            .and_then(|c| child(c, "manufacturedProduct"))
            .and_then(|m| child(m, "manufacturedMaterial"));
        let Some(cis_el) = mm.and_then(|m| child(m, "code")) else {
            return self.raw(sa, pos, i);
        };
        let Some(cis) = code_of(cis_el) else {
            return self.raw(sa, pos, i);
        };
        let label = self.label(sa, Some(cis_el));
        let ivl = sa
            .children_named(NS, "effectiveTime")
            .find(|&e| child(e, "low").is_some() || child(e, "high").is_some());
        let (start, end) = ivl_dates(ivl);
        let period = sa
            .children_named(NS, "effectiveTime")
            .find_map(|e| child(e, "period"))
            .and_then(|p| {
                Some((
                    p.attr("value")?.to_owned(),
                    p.attr("unit").unwrap_or("d").to_owned(),
                ))
            });
        let dose = child(sa, "doseQuantity");
        let low = dose.and_then(|d| child(d, "low")).or(dose);
        let ald = sa
            .children_named(NS, "entryRelationship")
            .filter_map(|r| child(r, "observation"))
            .find(|&o| has_template(o, "1.2.250.1.213.1.1.3.48.13"))
            .and_then(|o| child(o, "value"))
            .and_then(|v| v.attr("value"))
            .map(|v| v == "true");
        // FR-Instructions-au-patient: the first `entryRelationship/act` with the PCC templateId;
        // its `text/reference` resolved in the narrative, else the text's own content.
        let instruction = sa
            .children_named(NS, "entryRelationship")
            .filter_map(|r| child(r, "act"))
            .find(|&a| has_template(a, TEMPLATE_PATIENT_INSTRUCTIONS))
            .and_then(|a| child(a, "text"))
            .and_then(|t| {
                self.resolve(Some(t))
                    .or_else(|| Some(deep_text_of(t)).filter(|s| !s.is_empty()))
            });
        let item = Treatment {
            id: entry_id(sa),
            label: label.clone(),
            cis: cis.clone(),
            cip13: child_code(cis_el, "translation"),
            name: mm
                .and_then(|m| m.child_text(NS, "name"))
                .filter(|n| !n.is_empty()),
            start,
            end,
            posology: Posology {
                dose: low.and_then(|l| l.attr("value")).map(str::to_owned),
                unit: low.and_then(|l| l.attr("unit")).map(str::to_owned),
                period,
                text: instruction,
            },
            route: child_code(sa, "routeCode"),
            reason: sa
                .children_named(NS, "entryRelationship")
                .filter(|r| r.attr("typeCode") == Some("RSON"))
                .find_map(|r| child(r, "act").and_then(|a| child_code(a, "code"))),
            ald,
        };
        let key = entry_id(sa).unwrap_or_else(|| format!("{pos}/{i}"));
        self.push(
            ItemKind::Traitement,
            key,
            label,
            Some(cis),
            ItemContent::Treatment(item),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handle-based helpers give exactly what the owned-tree ones give, on every element of
    /// the ANS example (or of our own VSM when the reference files are absent).
    #[test]
    fn handle_helpers_match_owned_helpers() {
        let base = std::env::var("SEGUR_SHARED")
            .unwrap_or_else(|_| format!("{}/../../shared", env!("CARGO_MANIFEST_DIR")));
        let bytes = std::fs::read(format!(
            "{base}/reference/cda/ExemplesCDA/VSM_1.4_2022.01.xml"
        ))
        .unwrap_or_else(|_| {
            crate::examples::large_vsm(20)
                .to_xml()
                .unwrap()
                .into_bytes()
        });
        let doc = segur_net::xml::parse_document(&bytes, &cda_limits()).unwrap();
        let owned = segur_net::xml::parse(&bytes, &cda_limits()).unwrap();
        fn walk(e: El<'_>, o: &Element, n: &mut usize) {
            assert_eq!(deep_text_of(e), deep_text(o));
            assert_eq!(to_xml_of(e), to_xml(o));
            *n += 1;
            for (c, oc) in e.elements().zip(o.elements()) {
                walk(c, oc, n);
            }
        }
        let mut n = 0;
        walk(doc.root(), &owned, &mut n);
        assert!(n > 100);
        let parsed = super::parse(&bytes).unwrap();
        assert_eq!(*parsed.root, owned);
        assert_eq!(parsed.root.xml().len(), bytes.len());
    }
}
