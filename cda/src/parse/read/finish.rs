//! The end: once the whole document has been read, the rules are checked in the tree path's
//! order, labels resolved and stable item ids given.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::NaiveDate;

use super::{Cx, Doc, Extra, HeaderFacts, Ivl, Label, Pending, SectionOut};
use crate::codes::Confidentiality;
use crate::error::{CdaError, Result};
use crate::header::InstanceId;
use crate::parse::{Body, Item, ItemContent, ItemId, ItemKind, ParsedHeader};
use crate::vsm::*;

impl<'a> Cx<'a> {
    #[allow(clippy::type_complexity)]
    pub(super) fn finish(
        self,
        d: Doc<'a>,
    ) -> Result<(ParsedHeader, Option<VsmVersion>, Body, Vec<Item>)> {
        if let Some((namespace, name)) = d.wrong_root {
            return Err(CdaError::WrongRoot { namespace, name });
        }
        let header = header(d.h)?;
        let vsm_version = header
            .template_ids
            .iter()
            .find(|t| t.root == TEMPLATE_VSM)
            .map(|t| match t.extension.as_deref() {
                Some("201310") | None => VsmVersion::V2013,
                _ => VsmVersion::V2023,
            });
        let p = "/ClinicalDocument/component";
        let Some(comp) = d.component else {
            return Err(CdaError::Missing {
                path: "/ClinicalDocument".into(),
                what: "component",
            });
        };
        let mut items = Vec::new();
        let body = if let Some(nx) = comp.non_xml {
            let Some((media_type, data)) = nx else {
                return Err(CdaError::Missing {
                    path: format!("{p}/nonXMLBody"),
                    what: "text",
                });
            };
            let Some(media_type) = media_type else {
                return Err(CdaError::Missing {
                    path: format!("{p}/nonXMLBody/text"),
                    what: "mediaType",
                });
            };
            let Some(data) = data else {
                return Err(CdaError::Invalid {
                    path: format!("{p}/nonXMLBody/text"),
                    rule: "representation B64 must hold base64",
                });
            };
            Body::NonXml { media_type, data }
        } else {
            let Some(sections) = comp.structured else {
                return Err(CdaError::Missing {
                    path: p.to_owned(),
                    what: "nonXMLBody or structuredBody",
                });
            };
            fn count(s: &SectionOut<'_>) -> usize {
                s.items.len() + s.subs.iter().map(count).sum::<usize>()
            }
            let n = sections.iter().map(count).sum();
            items.reserve_exact(n);
            let mut seen = HashMap::with_capacity(n);
            for s in sections {
                self.flatten(s, &mut seen, &mut items);
            }
            Body::Structured
        };
        Ok((header, vsm_version, body, items))
    }

    pub(super) fn flatten(
        &self,
        s: SectionOut<'a>,
        seen: &mut HashMap<String, usize>,
        items: &mut Vec<Item>,
    ) {
        for p in s.items {
            items.push(self.item(p, seen));
        }
        for sub in s.subs {
            self.flatten(sub, seen, items);
        }
    }

    /// The final item: stable id, label resolved in the narrative.
    pub(super) fn item(&self, p: Pending<'a>, seen: &mut HashMap<String, usize>) -> Item {
        let prefix = match p.kind {
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
        let base = format!("{prefix}:{}", p.key);
        let id = match seen.get_mut(&base) {
            None => {
                seen.insert(base.clone(), 1);
                base
            }
            Some(n) => {
                *n += 1;
                format!("{base}#{n}")
            }
        };
        let label = match p.label {
            Label::Known(l) => l,
            Label::Spec {
                text,
                orig,
                display,
            } => self
                .resolve(&text)
                .or_else(|| self.resolve(&orig))
                .or_else(|| display.map(Cow::into_owned))
                .unwrap_or_default(),
            Label::Agent {
                orig,
                display,
                name,
            } => match display {
                Some(d) if !d.is_empty() => d.into_owned(),
                display => self
                    .resolve(&orig)
                    .or_else(|| display.map(Cow::into_owned))
                    .or(name)
                    .unwrap_or_default(),
            },
        };
        let mut content = p.content;
        match (&mut content, p.extra) {
            (ItemContent::Problem(x), _) => x.label = label.clone(),
            (ItemContent::Procedure(x), _) => x.label = label.clone(),
            (ItemContent::Family(x), _) => x.label = label.clone(),
            (ItemContent::Treatment(x), extra) => {
                x.label = label.clone();
                if let Extra::Instruction((r, span)) = extra {
                    x.posology.text = self
                        .resolve(&r)
                        .or_else(|| Some(self.collapse(span)).filter(|s| !s.is_empty()));
                }
            }
            (ItemContent::Allergy(a), Extra::Reaction(r)) => {
                a.agent_label = label.clone();
                a.reaction_label = self.resolve(&r).filter(|s| s != "-");
            }
            (
                ItemContent::Habitus(h),
                Extra::Habitus {
                    text_value,
                    value_label,
                },
            ) => {
                h.label = label.clone();
                if let Some((orig, span)) = text_value {
                    h.value = HabitusValue::Text(
                        self.resolve(&orig).unwrap_or_else(|| self.collapse(span)),
                    );
                }
                h.value_label = self.resolve(&value_label).filter(|l| *l != label);
            }
            _ => {}
        }
        Item {
            id: ItemId(id),
            kind: p.kind,
            label,
            code: p.code,
            content,
        }
    }
}

/// The header rules, in the tree path's order (CI-SIS en-tête, StrucMin INS rule).
fn header(h: HeaderFacts) -> Result<ParsedHeader> {
    let at = "/ClinicalDocument";
    let missing = |path: &str, what: &'static str| CdaError::Missing {
        path: path.to_owned(),
        what,
    };
    let Some((root, extension)) = h.id else {
        return Err(missing(at, "id"));
    };
    let id = InstanceId {
        root: root.ok_or_else(|| missing("/ClinicalDocument/id", "root"))?,
        extension,
    };
    let code = h
        .code
        .ok_or_else(|| missing(at, "code"))?
        .ok_or_else(|| missing("/ClinicalDocument/code", "code"))?;
    let title = h.title.ok_or_else(|| missing(at, "title"))?;
    let effective_time = h
        .effective_time
        .ok_or_else(|| missing(at, "effectiveTime"))?
        .ok_or_else(|| missing("/ClinicalDocument/effectiveTime", "value"))?;
    let cc = h
        .confidentiality
        .ok_or_else(|| missing(at, "confidentialityCode"))?
        .ok_or_else(|| missing("/ClinicalDocument/confidentialityCode", "code"))?;
    let confidentiality = Confidentiality::from_code(&cc).ok_or(CdaError::Invalid {
        path: "/ClinicalDocument/confidentialityCode".into(),
        rule: "confidentialityCode must be N, R or V (2.16.840.1.113883.1.11.10228)",
    })?;
    let Some((root, extension)) = h.set_id else {
        return Err(missing(at, "setId"));
    };
    let set_id = InstanceId {
        root: root.ok_or_else(|| missing("/ClinicalDocument/setId", "root"))?,
        extension,
    };
    let version = h
        .version
        .ok_or_else(|| missing(at, "versionNumber"))?
        .ok_or_else(|| missing("/ClinicalDocument/versionNumber", "value"))?
        .trim()
        .parse::<u32>()
        .map_err(|_| CdaError::Invalid {
            path: "/ClinicalDocument/versionNumber".into(),
            rule: "versionNumber/@value must be a positive integer",
        })?;
    let pr = h
        .record_target
        .ok_or_else(|| missing(at, "recordTarget"))?
        .ok_or_else(|| missing("/ClinicalDocument/recordTarget", "patientRole"))?;
    let pat_at = "/ClinicalDocument/recordTarget/patientRole";
    if pr.ids.is_empty() {
        return Err(missing(pat_at, "id"));
    }
    let mut patient = pr.patient.ok_or_else(|| missing(pat_at, "patient"))?;
    patient.ids = pr.ids;
    if patient.ins().is_some() {
        // StrucMin INS rule: all the INS traits are mandatory with an INS.
        let absent = [
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
        if let Some((_, what)) = absent.iter().find(|(m, _)| *m) {
            return Err(missing(&format!("{pat_at}/patient"), what));
        }
    }
    let mut authors = Vec::new();
    for (aa, time) in h.authors {
        let mut p = aa.ok_or_else(|| missing("/ClinicalDocument/author", "assignedAuthor"))?;
        if p.id.is_none() {
            return Err(missing("/ClinicalDocument/author/assignedAuthor", "id"));
        }
        p.time = time;
        authors.push(p);
    }
    if authors.is_empty() {
        return Err(missing(at, "author"));
    }
    let custodian = h
        .custodian
        .ok_or_else(|| missing(at, "custodian"))?
        .ok_or_else(|| missing("/ClinicalDocument/custodian", "assignedCustodian"))?
        .ok_or_else(|| {
            missing(
                "/ClinicalDocument/custodian/assignedCustodian",
                "representedCustodianOrganization",
            )
        })?;
    let (ae, time) = h.legal.ok_or_else(|| missing(at, "legalAuthenticator"))?;
    let mut legal_authenticator =
        ae.ok_or_else(|| missing("/ClinicalDocument/legalAuthenticator", "assignedEntity"))?;
    legal_authenticator.time = time;
    let se = h
        .service_event
        .ok_or_else(|| missing(at, "documentationOf"))?
        .ok_or_else(|| missing("/ClinicalDocument/documentationOf", "serviceEvent"))?;
    let enc = h
        .encounter
        .ok_or_else(|| missing(at, "componentOf"))?
        .ok_or_else(|| missing("/ClinicalDocument/componentOf", "encompassingEncounter"))?;
    Ok(ParsedHeader {
        template_ids: h.template_ids,
        id,
        code,
        title,
        effective_time,
        confidentiality,
        language: h.language.flatten(),
        set_id,
        version,
        patient,
        authors,
        custodian,
        legal_authenticator,
        recipients: h.recipients,
        medecin_traitant: h.medecin_traitant,
        service_event_code: se.code,
        service_event_time: se.time,
        practice_setting: se.practice,
        facility_type: enc.facility,
        encounter_code: enc.code,
        replaces: h.replaces.flatten(),
    })
}

/// The date of an HL7 TS (its first 8 characters, `%Y%m%d`).
fn date_of(v: Option<&str>) -> Option<NaiveDate> {
    let ymd = v?.get(..8)?;
    match ymd.as_bytes() {
        // The usual all-digit form, without parsing a format string each time.
        d if d.iter().all(u8::is_ascii_digit) => {
            let n = |r: std::ops::Range<usize>| {
                d.get(r)
                    .map(|x| x.iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0')))
            };
            NaiveDate::from_ymd_opt(i32::try_from(n(0..4)?).ok()?, n(4..6)?, n(6..8)?)
        }
        _ => NaiveDate::parse_from_str(ymd, "%Y%m%d").ok(),
    }
}

/// `ivl_dates` of the tree path: `@value`, else `low` / `high`.
pub(super) fn ivl_dates(i: Option<&Ivl<'_>>) -> (Option<NaiveDate>, Option<NaiveDate>) {
    let Some(i) = i else { return (None, None) };
    if let Some(v) = &i.value {
        return (date_of(Some(v)), None);
    }
    (date_of(i.low.as_deref()), date_of(i.high.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_of_matches_chrono_on_digits_and_more() {
        let chrono = |v: &str| NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d").ok();
        for v in [
            "20240229",
            "20230229",
            "00000101",
            "99991231",
            "20241301",
            "20240132",
            "2024010",
            "202401011230+0100",
            "2024-1-1",
            "+2024011",
            " 2024011",
            "2024 101",
            "",
            "20240100",
        ] {
            assert_eq!(date_of(Some(v)), chrono(v), "{v}");
        }
        proptest::proptest!(|(v in "[0-9+ -]{6,10}")| {
            proptest::prop_assert_eq!(date_of(Some(&v)), chrono(&v));
        });
    }
}
