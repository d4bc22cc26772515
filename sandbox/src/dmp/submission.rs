//! Reading a `lcm:SubmitObjectsRequest` (ITI-41 and ITI-57): the submission set, the
//! DocumentEntries with their required metadata (ITI TF-3 Tables 4.3.1-3 and 4.3.1-4, plus the
//! DMP's `authorPerson`, `dmp.md` §5.2), the associations, and the registry-assigned ids
//! (ITI TF-3 4.1.12.1: symbolic ids are replaced by UUIDs).

use std::collections::{BTreeMap, BTreeSet};

use segur_net::xml::Element;

use super::ebrim::{self, PatientId, RegistryError, RIM_NS};
use super::store::{Db, EntryRow, SubmissionSetRow, SEP};
use crate::SandboxError;

const META_ERROR: &str = "XDSRegistryMetadataError";

/// The registry objects of a request, by kind.
pub(crate) struct Objects<'a> {
    /// `rim:RegistryPackage`s.
    pub packages: Vec<&'a Element>,
    /// `rim:ExtrinsicObject`s.
    pub extrinsics: Vec<&'a Element>,
    /// `rim:Association`s.
    pub associations: Vec<&'a Element>,
    /// Top-level `rim:Classification`s.
    pub classifications: Vec<&'a Element>,
}

/// Splits `lcm:SubmitObjectsRequest/rim:RegistryObjectList` by object kind.
pub(crate) fn objects(sor: &Element) -> Result<Objects<'_>, RegistryError> {
    let list = sor
        .child(RIM_NS, "RegistryObjectList")
        .ok_or_else(|| RegistryError::new(META_ERROR, "RegistryObjectList absent."))?;
    let mut o = Objects {
        packages: Vec::new(),
        extrinsics: Vec::new(),
        associations: Vec::new(),
        classifications: Vec::new(),
    };
    for el in list.elements() {
        if el.namespace() != RIM_NS {
            continue;
        }
        match el.name.as_str() {
            "RegistryPackage" => o.packages.push(el),
            "ExtrinsicObject" => o.extrinsics.push(el),
            "Association" => o.associations.push(el),
            "Classification" => o.classifications.push(el),
            _ => {}
        }
    }
    Ok(o)
}

/// A submission set as received.
pub(crate) struct SubmissionSetMeta {
    /// The id in the message.
    pub id: String,
    /// uniqueId.
    pub unique_id: String,
    /// patientId (CX).
    pub patient_id: String,
    /// Parsed patientId.
    pub patient: PatientId,
    /// sourceId.
    pub source_id: String,
    /// submissionTime.
    pub submission_time: String,
    /// contentTypeCode.
    pub content_type: Vec<String>,
    /// authorPerson values.
    pub author_persons: Vec<String>,
    /// The package, with its SubmissionSet classification inside.
    pub element: Element,
}

impl SubmissionSetMeta {
    /// The row stored for it, with the entryUUID `map` gave its id (ITI-41 and ITI-57 alike).
    pub(crate) fn row(&self, map: &BTreeMap<String, String>) -> SubmissionSetRow {
        SubmissionSetRow {
            entry_uuid: mapped(map, &self.id),
            unique_id: self.unique_id.clone(),
            patient_id: self.patient_id.clone(),
            source_id: self.source_id.clone(),
            submission_time: self.submission_time.clone(),
            content_type: self.content_type.clone(),
            author_persons: self.author_persons.clone(),
            status: ebrim::APPROVED.to_owned(),
            raw_xml: stored_object_xml(&self.element, map),
            seq: 0,
        }
    }
}

fn is_ss_classification(c: &Element, package_id: &str) -> bool {
    c.attr("classificationNode") == Some(ebrim::SS_NODE)
        && c.attr("classifiedObject").is_none_or(|o| o == package_id)
}

/// The one submission set of the request (folders are refused: the DMP has none).
pub(crate) fn submission_set(
    o: &Objects<'_>,
    errors: &mut Vec<RegistryError>,
) -> Option<SubmissionSetMeta> {
    let mut found: Vec<(&Element, Option<&Element>)> = Vec::new();
    for p in &o.packages {
        let id = p.attr("id").unwrap_or("");
        let inner = p
            .children_named(RIM_NS, "Classification")
            .any(|c| is_ss_classification(c, id));
        let outer = o
            .classifications
            .iter()
            .find(|c| is_ss_classification(c, id) && c.attr("classifiedObject") == Some(id))
            .copied();
        if inner || outer.is_some() {
            found.push((p, if inner { None } else { outer }));
        } else {
            errors.push(RegistryError::at(
                META_ERROR,
                "RegistryPackage qui n'est pas un lot de soumission (les classeurs ne sont pas gérés).",
                id,
            ));
        }
    }
    let (package, outer) = match found.as_slice() {
        [one] => *one,
        [] => {
            errors.push(RegistryError::new(META_ERROR, "Lot de soumission absent."));
            return None;
        }
        _ => {
            errors.push(RegistryError::new(
                META_ERROR,
                "Plusieurs lots de soumission dans la requête.",
            ));
            return None;
        }
    };
    let id = package.attr("id").unwrap_or("").to_owned();
    if id.is_empty() {
        errors.push(RegistryError::new(META_ERROR, "Lot de soumission sans id."));
        return None;
    }
    let before = errors.len();
    let mut required = |what: &'static str, v: Option<String>| -> String {
        match v {
            Some(v) if !v.contains(SEP) => v,
            _ => {
                errors.push(RegistryError::at(
                    META_ERROR,
                    format!("SubmissionSet.{what} absent ou invalide."),
                    id.as_str(),
                ));
                String::new()
            }
        }
    };
    let unique_id = required("uniqueId", ebrim::external_id(package, ebrim::SS_UNIQUE_ID));
    let patient_id = required(
        "patientId",
        ebrim::external_id(package, ebrim::SS_PATIENT_ID),
    );
    let source_id = required("sourceId", ebrim::external_id(package, ebrim::SS_SOURCE_ID));
    let submission_time = required(
        "submissionTime",
        ebrim::slot_value(package, "submissionTime").filter(|t| valid_dtm(t)),
    );
    let content_type = ebrim::coded(package, ebrim::CONTENT_TYPE_CODE);
    if content_type.is_empty() {
        errors.push(RegistryError::at(
            META_ERROR,
            "SubmissionSet.contentTypeCode absent.",
            id.as_str(),
        ));
    }
    let author_persons = authors(package, ebrim::SS_AUTHOR);
    let patient = PatientId::parse(&patient_id);
    if patient.is_none() && !patient_id.is_empty() {
        errors.push(RegistryError::at(
            META_ERROR,
            "SubmissionSet.patientId n'est pas un identifiant CX.",
            id.as_str(),
        ));
    }
    if errors.len() > before {
        return None;
    }
    let mut element = package.clone();
    if let Some(c) = outer {
        ebrim::insert_classification(&mut element, c.clone());
    }
    Some(SubmissionSetMeta {
        id,
        unique_id,
        patient_id,
        patient: patient?,
        source_id,
        submission_time,
        content_type,
        author_persons,
        element,
    })
}

fn authors(el: &Element, scheme: &str) -> Vec<String> {
    ebrim::classifications(el, scheme)
        .filter_map(|c| ebrim::slot_value(c, "authorPerson"))
        .filter(|a| !a.contains(SEP))
        .collect()
}

/// Whether `t` is an XDS DTM: 4 to 14 digits (`YYYY[MM[DD[hh[mm[ss]]]]]`, ITI TF-3 4.2.3.1.6).
pub(crate) fn valid_dtm(t: &str) -> bool {
    (4..=14).contains(&t.len())
        && t.len().is_multiple_of(2)
        && t.bytes().all(|b| b.is_ascii_digit())
}

/// A DocumentEntry as received.
pub(crate) struct EntryMeta {
    /// The id in the message.
    pub id: String,
    /// `lid` in the message (ITI-57 metadata updates).
    pub lid: Option<String>,
    /// The parsed metadata (ids, status, version, hash, size, repository and submitter are
    /// completed by the caller).
    pub row: EntryRow,
    /// hash slot, when given.
    pub hash: Option<String>,
    /// size slot, when given.
    pub size: Option<u64>,
    /// repositoryUniqueId slot, when given.
    pub repository: Option<String>,
    /// Parsed patientId.
    pub patient: PatientId,
    /// The element as received.
    pub element: Element,
}

/// Reads one DocumentEntry, pushing a `XDSRegistryMetadataError` per missing required
/// attribute.
pub(crate) fn entry(eo: &Element, errors: &mut Vec<RegistryError>) -> Option<EntryMeta> {
    let id = eo.attr("id").unwrap_or("").to_owned();
    if id.is_empty() {
        errors.push(RegistryError::new(META_ERROR, "ExtrinsicObject sans id."));
        return None;
    }
    let before = errors.len();
    let mut missing = |what: &str| {
        errors.push(RegistryError::at(
            META_ERROR,
            format!("DocumentEntry.{what} absent ou invalide."),
            id.as_str(),
        ));
    };
    let object_type = eo.attr("objectType").unwrap_or("");
    if object_type != ebrim::DE_STABLE {
        missing("objectType (document stable attendu)");
    }
    let mime_type = eo.attr("mimeType").unwrap_or("").trim().to_owned();
    if mime_type.is_empty() {
        missing("mimeType");
    }
    let unique_id = ebrim::external_id(eo, ebrim::DE_UNIQUE_ID).unwrap_or_default();
    if unique_id.is_empty() {
        missing("uniqueId");
    }
    let patient_id = ebrim::external_id(eo, ebrim::DE_PATIENT_ID).unwrap_or_default();
    let patient = PatientId::parse(&patient_id);
    if patient.is_none() {
        missing("patientId");
    }
    let mut coded = |scheme: &str, what: &str, many: bool| -> Vec<String> {
        let v = ebrim::coded(eo, scheme);
        if v.is_empty() || (!many && v.len() > 1) || v.iter().any(|c| c.contains(SEP)) {
            missing(what);
        }
        v
    };
    let class_code = coded(ebrim::CLASS_CODE, "classCode", false);
    let type_code = coded(ebrim::TYPE_CODE, "typeCode", false);
    let format_code = coded(ebrim::FORMAT_CODE, "formatCode", false);
    let practice_setting = coded(ebrim::PRACTICE_CODE, "practiceSettingCode", false);
    let healthcare_facility = coded(ebrim::HCF_CODE, "healthcareFacilityTypeCode", false);
    let confidentiality = coded(ebrim::CONF_CODE, "confidentialityCode", true);
    let event_codes = ebrim::coded(eo, ebrim::EVENT_CODE);
    let time = |name: &str| ebrim::slot_value(eo, name);
    let creation_time = time("creationTime");
    if !creation_time.as_deref().is_some_and(valid_dtm) {
        missing("creationTime");
    }
    let service_start = time("serviceStartTime");
    let service_stop = time("serviceStopTime");
    if service_start.as_deref().is_some_and(|t| !valid_dtm(t)) {
        missing("serviceStartTime");
    }
    if service_stop.as_deref().is_some_and(|t| !valid_dtm(t)) {
        missing("serviceStopTime");
    }
    if time("languageCode").is_none() {
        missing("languageCode");
    }
    if time("sourcePatientId").is_none() {
        missing("sourcePatientId");
    }
    let author_persons = authors(eo, ebrim::DE_AUTHOR);
    if author_persons.is_empty() {
        missing("author (authorPerson)");
    }
    let hash = time("hash");
    if hash
        .as_deref()
        .is_some_and(|h| h.len() != 40 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        missing("hash");
    }
    let size = match time("size") {
        None => None,
        Some(s) => match s.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => {
                missing("size");
                None
            }
        },
    };
    if errors.len() > before {
        return None;
    }
    let lid = eo.attr("lid").map(str::to_owned);
    Some(EntryMeta {
        row: EntryRow {
            entry_uuid: id.clone(),
            logical_id: String::new(),
            version: 1,
            unique_id,
            status: ebrim::APPROVED.to_owned(),
            patient_id,
            class_code,
            type_code,
            format_code,
            practice_setting,
            healthcare_facility,
            confidentiality,
            event_codes,
            creation_time,
            service_start,
            service_stop,
            author_persons,
            submitter: String::new(),
            hash: String::new(),
            size: 0,
            title: ebrim::name_of(eo).unwrap_or_default(),
            mime_type,
            repository_unique_id: String::new(),
            submission_set: String::new(),
            raw_xml: String::new(),
            seq: 0,
        },
        repository: time("repositoryUniqueId"),
        hash: hash.map(|h| h.to_ascii_lowercase()),
        size,
        patient: patient?,
        id,
        lid,
        element: eo.clone(),
    })
}

/// Assigns a UUID to every symbolic id of the request (ITI TF-3 4.1.12.1); refuses ids given
/// twice and UUIDs already registered.
pub(crate) fn assign_ids(
    db: &Db<'_>,
    roots: &[&Element],
    errors: &mut Vec<RegistryError>,
) -> Result<BTreeMap<String, String>, SandboxError> {
    let mut ids = Vec::new();
    for r in roots {
        ebrim::collect_ids(r, &mut ids);
    }
    let mut seen = BTreeSet::new();
    let mut map = BTreeMap::new();
    for id in ids {
        if id.is_empty() {
            continue;
        }
        if !seen.insert(id.clone()) {
            errors.push(RegistryError::at(
                META_ERROR,
                "Identifiant présent deux fois dans la requête.",
                id,
            ));
            continue;
        }
        if ebrim::is_uuid_urn(&id) {
            if db.object_exists(&id)? {
                errors.push(RegistryError::at(
                    META_ERROR,
                    "entryUUID déjà enregistré dans le registre.",
                    id,
                ));
            }
        } else {
            map.insert(id, ebrim::new_uuid_urn());
        }
    }
    Ok(map)
}

/// Whether a DocumentEntry is masked to this professional: `MASQUE_PS` hides it from every
/// professional but its author and the one who sent it (`dmp.md` §5.4).
pub(crate) fn masked_for(e: &EntryRow, ps_id: &str) -> bool {
    let masked = e
        .confidentiality
        .iter()
        .any(|c| ebrim::split_coded(c).0 == ebrim::MASQUE_PS);
    masked
        && e.submitter != ps_id
        && !e
            .author_persons
            .iter()
            .any(|a| ebrim::first_component(a) == ps_id)
}

/// The stored form of a DocumentEntry: ids remapped, `lid`, `status`, version and the
/// repository's slots set.
pub(crate) fn stored_entry_xml(
    element: &Element,
    map: &BTreeMap<String, String>,
    row: &EntryRow,
) -> String {
    let mut el = element.clone();
    ebrim::remap_ids(&mut el, map);
    ebrim::set_attr(&mut el, "id", &row.entry_uuid);
    ebrim::set_attr(&mut el, "lid", &row.logical_id);
    ebrim::set_attr(&mut el, "status", &row.status);
    ebrim::put_slot(&mut el, "hash", &[&row.hash]);
    ebrim::put_slot(&mut el, "size", &[&row.size.to_string()]);
    ebrim::put_slot(&mut el, "repositoryUniqueId", &[&row.repository_unique_id]);
    ebrim::put_version(&mut el, row.version);
    let mut out = String::with_capacity(4096);
    ebrim::write_fragment(&mut out, &el);
    out
}

/// The stored form of any other registry object: ids remapped, `status` Approved.
pub(crate) fn stored_object_xml(element: &Element, map: &BTreeMap<String, String>) -> String {
    let mut el = element.clone();
    ebrim::remap_ids(&mut el, map);
    ebrim::set_attr(&mut el, "status", ebrim::APPROVED);
    let mut out = String::with_capacity(2048);
    ebrim::write_fragment(&mut out, &el);
    out
}

/// The registry id for a message id.
pub(crate) fn mapped(map: &BTreeMap<String, String>, id: &str) -> String {
    map.get(id).cloned().unwrap_or_else(|| id.to_owned())
}
