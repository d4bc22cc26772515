//! The XDS registry objects as typed values, with one writer and one reader each (ITI TF-3
//! §4.2.3, `dmp.md` §5): [`DocumentEntry`] (`rim:ExtrinsicObject`), [`SubmissionSet`]
//! (`rim:RegistryPackage`), [`Association`]; and [`RegistryObjects`], the reader of a
//! `rim:RegistryObjectList` (query responses, submissions).

use chrono::{DateTime, NaiveDate, Utc};
use segur_cda::{Code, XdsMetadata};
use segur_net::xml::Element;

use super::confidentiality::DmpConfidentiality;
use super::ebrim::{self, attr, RimWriter};
use super::ids::*;
use crate::error::{DmpError, Result};

/// Author of a document or submission set (ITI TF-3 §4.2.3.1.4; HL7 v2 XCN/XON strings,
/// `dmp.md` §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Author {
    /// authorPerson (XCN), e.g. `<IdNatPS>^NOM^Prénom^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS`.
    pub person: Option<String>,
    /// authorInstitution (XON).
    pub institutions: Vec<String>,
    /// authorRole.
    pub roles: Vec<String>,
    /// authorSpecialty (`code^display^system`).
    pub specialties: Vec<String>,
    /// authorTelecommunication (XTN).
    pub telecommunications: Vec<String>,
}

impl Author {
    /// Whether nothing is known of this author.
    pub fn is_empty(&self) -> bool {
        self.person.is_none()
            && self.institutions.is_empty()
            && self.roles.is_empty()
            && self.specialties.is_empty()
            && self.telecommunications.is_empty()
    }

    /// The authors of a document's metadata. \[I\] `XdsMetadata` lists persons, institutions and
    /// specialties separately: with one person every institution and specialty is theirs; with
    /// several they are paired by position.
    pub fn from_metadata(meta: &XdsMetadata) -> Vec<Author> {
        let n = meta.author_person.len();
        if n <= 1 {
            let a = Author {
                person: meta.author_person.first().cloned(),
                institutions: meta.author_institution.clone(),
                specialties: meta.author_specialty.clone(),
                ..Default::default()
            };
            return if a.is_empty() { Vec::new() } else { vec![a] };
        }
        meta.author_person
            .iter()
            .enumerate()
            .map(|(i, p)| Author {
                person: Some(p.clone()),
                institutions: meta
                    .author_institution
                    .get(i)
                    .cloned()
                    .into_iter()
                    .collect(),
                specialties: meta.author_specialty.get(i).cloned().into_iter().collect(),
                ..Default::default()
            })
            .collect()
    }
}

/// Availability status of a registry object (ebRIM status; JDV_J52, `dmp.md` §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AvailabilityStatus {
    /// Current.
    Approved,
    /// Replaced by a newer version.
    Deprecated,
    /// `urn:asip:ci-sis:2010:StatusType:Archived` (TD3.3d).
    Archived,
    /// `urn:asip:ci-sis:2010:StatusType:Deleted` (TD3.3c).
    Deleted,
    /// Any other status URN.
    Other(String),
}

impl AvailabilityStatus {
    /// The status URN.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Approved => STATUS_APPROVED,
            Self::Deprecated => STATUS_DEPRECATED,
            Self::Archived => STATUS_ARCHIVED,
            Self::Deleted => STATUS_DELETED,
            Self::Other(s) => s,
        }
    }

    /// Reads a status URN.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            STATUS_APPROVED => Self::Approved,
            STATUS_DEPRECATED => Self::Deprecated,
            STATUS_ARCHIVED => Self::Archived,
            STATUS_DELETED => Self::Deleted,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Formats a UTC time as an XDS DTM (`YYYYMMDDHHMMSS`, ITI TF-3 Table 4.2.3.1.7-2).
pub fn format_dtm(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%d%H%M%S").to_string()
}

/// Reads an XDS DTM of any precision (`YYYY` to `YYYYMMDDHHMMSS`, UTC); missing parts are the
/// start of the period.
pub fn parse_dtm(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if !s.bytes().all(|b| b.is_ascii_digit()) || !matches!(s.len(), 4 | 6 | 8 | 10 | 12 | 14) {
        return None;
    }
    let n = |a: usize, b: usize, d: u32| -> Option<u32> {
        s.get(a..b).map_or(Some(d), |x| x.parse().ok())
    };
    let year: i32 = s.get(0..4)?.parse().ok()?;
    let date = NaiveDate::from_ymd_opt(year, n(4, 6, 1)?, n(6, 8, 1)?)?;
    let t = date.and_hms_opt(n(8, 10, 0)?, n(10, 12, 0)?, n(12, 14, 0)?)?;
    Some(t.and_utc())
}

/// What an ExtrinsicObject is written for: which registry-assigned attributes appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryContext {
    /// ITI-41 submission: no `lid`, status, version, repositoryUniqueId or home.
    Submit,
    /// ITI-57 metadata update: `lid` of the previous version, full metadata, no status/version.
    Update,
    /// Query response (registry side): everything known.
    Response,
}

/// A DocumentEntry (`rim:ExtrinsicObject`, ITI TF-3 §4.2.3.2; `dmp.md` §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentEntry {
    /// entryUUID (`@id`): symbolic in a submission, `urn:uuid:` once registered; changes with
    /// every metadata version.
    pub entry_uuid: String,
    /// logicalID (`@lid`), stable across metadata versions.
    pub logical_id: Option<String>,
    /// Metadata version (`VersionInfo/@versionName`).
    pub version: Option<String>,
    /// availabilityStatus (`@status`).
    pub status: Option<AvailabilityStatus>,
    /// objectType (stable or on-demand).
    pub object_type: Option<String>,
    /// homeCommunityId (`@home`).
    pub home_community_id: Option<String>,
    /// uniqueId (the CDA `id`, `root` or `root^extension`).
    pub unique_id: String,
    /// patientId: the INS as CX.
    pub patient_id: String,
    /// repositoryUniqueId (set by the repository).
    pub repository_unique_id: Option<String>,
    /// mimeType.
    pub mime_type: String,
    /// title.
    pub title: Option<String>,
    /// comments.
    pub comments: Option<String>,
    /// classCode.
    pub class_code: Option<Code>,
    /// typeCode.
    pub type_code: Option<Code>,
    /// formatCode.
    pub format_code: Option<Code>,
    /// confidentialityCode, all of them (N/R/V first, then the DMP codes).
    pub confidentiality_codes: Vec<Code>,
    /// eventCodeList.
    pub event_codes: Vec<Code>,
    /// healthcareFacilityTypeCode.
    pub healthcare_facility_type_code: Option<Code>,
    /// practiceSettingCode.
    pub practice_setting_code: Option<Code>,
    /// author(s).
    pub authors: Vec<Author>,
    /// legalAuthenticator (XCN).
    pub legal_authenticator: Option<String>,
    /// creationTime (DTM).
    pub creation_time: Option<String>,
    /// serviceStartTime (DTM).
    pub service_start_time: Option<String>,
    /// serviceStopTime (DTM).
    pub service_stop_time: Option<String>,
    /// languageCode.
    pub language_code: Option<String>,
    /// sourcePatientId (CX).
    pub source_patient_id: Option<String>,
    /// sourcePatientInfo (`PID-5|…` lines).
    pub source_patient_info: Vec<String>,
    /// hash: SHA-1 of the document, lowercase hex.
    pub hash: Option<String>,
    /// size in bytes.
    pub size: Option<u64>,
    /// `urn:ihe:iti:xds:2013:referenceIdList` (CXi).
    pub reference_ids: Vec<String>,
    /// Slots not mapped above, kept so that a metadata update writes them back.
    pub other_slots: Vec<(String, Vec<String>)>,
}

const REFERENCE_ID_LIST: &str = "urn:ihe:iti:xds:2013:referenceIdList";

/// The slots mapped to fields of [`DocumentEntry`].
const KNOWN_SLOTS: [&str; 12] = [
    "creationTime",
    "hash",
    "languageCode",
    "legalAuthenticator",
    "repositoryUniqueId",
    "serviceStartTime",
    "serviceStopTime",
    "size",
    "sourcePatientId",
    "sourcePatientInfo",
    REFERENCE_ID_LIST,
    "URI",
];

fn required<T>(value: Option<T>, field: &'static str) -> Result<T> {
    value.ok_or(DmpError::Invalid {
        field,
        detail: "required by the DMP (dmp.md §5.2) and not found in the document".into(),
    })
}

impl DocumentEntry {
    /// The DocumentEntry of a document to submit, from the CDA crate's metadata (`dmp.md` §5.2):
    /// `id` is its symbolic entryUUID in the submission; the confidentialityCodes are the CDA's
    /// N/R/V then `dmp` codes. Refuses metadata the DMP requires but the document lacks (INS,
    /// classCode, formatCode, healthcareFacilityTypeCode, practiceSettingCode).
    pub fn from_metadata(
        meta: &XdsMetadata,
        id: &str,
        dmp: DmpConfidentiality,
        event_codes: Vec<Code>,
    ) -> Result<Self> {
        Ok(Self {
            entry_uuid: id.to_owned(),
            object_type: Some(DE_OBJECT_TYPE.to_owned()),
            unique_id: meta.unique_id.clone(),
            patient_id: required(meta.patient_id.clone(), "patientId (INS)")?,
            mime_type: meta.mime_type.to_owned(),
            title: Some(meta.title.clone()).filter(|t| !t.trim().is_empty()),
            class_code: Some(required(meta.class_code.clone(), "classCode")?),
            type_code: Some(meta.type_code.clone()),
            format_code: Some(required(meta.format_code.clone(), "formatCode")?),
            confidentiality_codes: dmp.apply(std::slice::from_ref(&meta.confidentiality_code)),
            event_codes,
            healthcare_facility_type_code: Some(required(
                meta.healthcare_facility_type_code.clone(),
                "healthcareFacilityTypeCode",
            )?),
            practice_setting_code: Some(required(
                meta.practice_setting_code.clone(),
                "practiceSettingCode",
            )?),
            authors: Author::from_metadata(meta),
            legal_authenticator: meta.legal_authenticator.clone(),
            creation_time: Some(meta.creation_time.clone()),
            service_start_time: meta.service_start_time.clone(),
            service_stop_time: meta.service_stop_time.clone(),
            language_code: Some(meta.language_code.clone()),
            source_patient_id: Some(meta.source_patient_id.clone()).filter(|s| !s.is_empty()),
            source_patient_info: meta.source_patient_info.clone(),
            hash: Some(meta.hash.clone()),
            size: Some(meta.size as u64),
            ..Default::default()
        })
    }

    /// The DMP masking and visibility this entry's confidentialityCodes express.
    pub fn dmp_confidentiality(&self) -> DmpConfidentiality {
        DmpConfidentiality::from_codes(&self.confidentiality_codes)
    }

    /// creationTime as a UTC time.
    pub fn creation_time_utc(&self) -> Option<DateTime<Utc>> {
        self.creation_time.as_deref().and_then(parse_dtm)
    }

    /// Whether the entry is the current version (status Approved).
    pub fn is_approved(&self) -> bool {
        self.status == Some(AvailabilityStatus::Approved)
    }

    /// Writes the `rim:ExtrinsicObject` in ebRIM schema order.
    pub(crate) fn write(&self, w: &mut RimWriter, ctx: EntryContext) -> Result<()> {
        ebrim::check_len("entryUUID", &self.entry_uuid, ebrim::MAX_LONG_NAME)?;
        let id = self.entry_uuid.as_str();
        w.out.push_str("<rim:ExtrinsicObject");
        attr(&mut w.out, "id", id);
        if ctx != EntryContext::Submit {
            if let Some(lid) = &self.logical_id {
                attr(&mut w.out, "lid", lid);
            }
        }
        if ctx == EntryContext::Response {
            if let Some(home) = &self.home_community_id {
                attr(&mut w.out, "home", home);
            }
            if let Some(s) = &self.status {
                attr(&mut w.out, "status", s.as_str());
            }
        }
        let mime = if self.mime_type.is_empty() {
            "text/xml"
        } else {
            &self.mime_type
        };
        attr(&mut w.out, "mimeType", mime);
        attr(
            &mut w.out,
            "objectType",
            self.object_type.as_deref().unwrap_or(DE_OBJECT_TYPE),
        );
        w.out.push('>');
        // Slot*
        w.slot_opt(
            "creationTime",
            "creationTime",
            self.creation_time.as_deref(),
        )?;
        w.slot_opt("hash", "hash", self.hash.as_deref())?;
        w.slot_opt(
            "languageCode",
            "languageCode",
            self.language_code.as_deref(),
        )?;
        w.slot_opt(
            "legalAuthenticator",
            "legalAuthenticator",
            self.legal_authenticator.as_deref(),
        )?;
        if ctx != EntryContext::Submit {
            w.slot_opt(
                "repositoryUniqueId",
                "repositoryUniqueId",
                self.repository_unique_id.as_deref(),
            )?;
        }
        w.slot_opt(
            "serviceStartTime",
            "serviceStartTime",
            self.service_start_time.as_deref(),
        )?;
        w.slot_opt(
            "serviceStopTime",
            "serviceStopTime",
            self.service_stop_time.as_deref(),
        )?;
        if let Some(size) = self.size {
            w.slot("size", "size", &[size.to_string()])?;
        }
        w.slot_opt(
            "sourcePatientId",
            "sourcePatientId",
            self.source_patient_id.as_deref(),
        )?;
        if !self.source_patient_info.is_empty() {
            w.slot(
                "sourcePatientInfo",
                "sourcePatientInfo",
                &self.source_patient_info,
            )?;
        }
        if !self.reference_ids.is_empty() {
            w.slot("referenceIdList", REFERENCE_ID_LIST, &self.reference_ids)?;
        }
        for (name, values) in &self.other_slots {
            w.slot("slot", name, values)?;
        }
        // Name?, Description?, VersionInfo?
        if let Some(t) = &self.title {
            w.localized("title", "rim:Name", t)?;
        }
        if let Some(c) = &self.comments {
            w.localized("comments", "rim:Description", c)?;
        }
        if ctx == EntryContext::Response {
            if let Some(v) = &self.version {
                w.out.push_str("<rim:VersionInfo");
                attr(&mut w.out, "versionName", v);
                w.out.push_str("/>");
            }
        }
        // Classification*
        for a in &self.authors {
            w.author(DE_AUTHOR, id, a)?;
        }
        if let Some(c) = &self.class_code {
            w.coded("classCode", DE_CLASS_CODE, id, c)?;
        }
        if self.confidentiality_codes.is_empty() || self.confidentiality_codes.len() > 4 {
            return Err(DmpError::Invalid {
                field: "confidentialityCode",
                detail: format!(
                    "{} codes, 1 to 4 expected (dmp.md §5.2)",
                    self.confidentiality_codes.len()
                ),
            });
        }
        for c in &self.confidentiality_codes {
            w.coded("confidentialityCode", DE_CONFIDENTIALITY_CODE, id, c)?;
        }
        for c in &self.event_codes {
            w.coded("eventCodeList", DE_EVENT_CODE, id, c)?;
        }
        if let Some(c) = &self.format_code {
            w.coded("formatCode", DE_FORMAT_CODE, id, c)?;
        }
        if let Some(c) = &self.healthcare_facility_type_code {
            w.coded(
                "healthcareFacilityTypeCode",
                DE_HEALTHCARE_FACILITY_TYPE_CODE,
                id,
                c,
            )?;
        }
        if let Some(c) = &self.practice_setting_code {
            w.coded("practiceSettingCode", DE_PRACTICE_SETTING_CODE, id, c)?;
        }
        if let Some(c) = &self.type_code {
            w.coded("typeCode", DE_TYPE_CODE, id, c)?;
        }
        // ExternalIdentifier*
        w.external_id(
            "patientId",
            DE_PATIENT_ID,
            id,
            &self.patient_id,
            "XDSDocumentEntry.patientId",
        )?;
        w.external_id(
            "uniqueId",
            DE_UNIQUE_ID,
            id,
            &self.unique_id,
            "XDSDocumentEntry.uniqueId",
        )?;
        w.out.push_str("</rim:ExtrinsicObject>");
        Ok(())
    }

    /// Reads a `rim:ExtrinsicObject` (any child order). The entryUUID, uniqueId and patientId are
    /// required; everything else is optional, as registries vary.
    pub fn read(el: &Element) -> Result<Self> {
        let entry_uuid = el
            .attr("id")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| DmpError::Malformed("ExtrinsicObject without id".into()))?
            .trim()
            .to_owned();
        let code = |scheme: &str| {
            ebrim::classifications(el, scheme)
                .next()
                .map(ebrim::read_code)
        };
        let codes = |scheme: &str| {
            ebrim::classifications(el, scheme)
                .map(ebrim::read_code)
                .collect::<Vec<_>>()
        };
        let first = |name: &str| ebrim::slot_first(el, name).filter(|s| !s.is_empty());
        Ok(Self {
            logical_id: el.attr("lid").map(str::to_owned),
            version: el
                .child(RIM_NS, "VersionInfo")
                .and_then(|v| v.attr("versionName"))
                .map(str::to_owned),
            status: el.attr("status").map(AvailabilityStatus::parse),
            object_type: el.attr("objectType").map(str::to_owned),
            home_community_id: el.attr("home").filter(|h| !h.is_empty()).map(str::to_owned),
            unique_id: ebrim::external_id(el, DE_UNIQUE_ID).ok_or_else(|| {
                DmpError::Malformed("ExtrinsicObject without uniqueId ExternalIdentifier".into())
            })?,
            patient_id: ebrim::external_id(el, DE_PATIENT_ID).ok_or_else(|| {
                DmpError::Malformed("ExtrinsicObject without patientId ExternalIdentifier".into())
            })?,
            repository_unique_id: first("repositoryUniqueId"),
            mime_type: el.attr("mimeType").unwrap_or_default().to_owned(),
            title: ebrim::localized(el, "Name"),
            comments: ebrim::localized(el, "Description"),
            class_code: code(DE_CLASS_CODE),
            type_code: code(DE_TYPE_CODE),
            format_code: code(DE_FORMAT_CODE),
            confidentiality_codes: codes(DE_CONFIDENTIALITY_CODE),
            event_codes: codes(DE_EVENT_CODE),
            healthcare_facility_type_code: code(DE_HEALTHCARE_FACILITY_TYPE_CODE),
            practice_setting_code: code(DE_PRACTICE_SETTING_CODE),
            authors: ebrim::classifications(el, DE_AUTHOR)
                .map(ebrim::read_author)
                .collect(),
            legal_authenticator: first("legalAuthenticator"),
            creation_time: first("creationTime"),
            service_start_time: first("serviceStartTime"),
            service_stop_time: first("serviceStopTime"),
            language_code: first("languageCode"),
            source_patient_id: first("sourcePatientId"),
            source_patient_info: ebrim::slot_values(el, "sourcePatientInfo"),
            hash: first("hash").map(|h| h.to_ascii_lowercase()),
            size: first("size").and_then(|s| s.parse().ok()),
            reference_ids: ebrim::slot_values(el, REFERENCE_ID_LIST),
            other_slots: ebrim::slots(el)
                .filter(|(n, _)| !KNOWN_SLOTS.contains(n))
                .map(|(n, v)| (n.to_owned(), v))
                .collect(),
            entry_uuid,
        })
    }
}

/// A SubmissionSet (`rim:RegistryPackage` classified by the SubmissionSet node; ITI TF-3
/// §4.2.3.3, `dmp.md` §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SubmissionSet {
    /// entryUUID (`@id`; symbolic in a submission).
    pub entry_uuid: String,
    /// uniqueId, an OID assigned by the LPS (see [`new_oid`]).
    pub unique_id: String,
    /// sourceId: the LPS's OID.
    pub source_id: String,
    /// patientId: the INS as CX.
    pub patient_id: String,
    /// submissionTime (DTM, UTC).
    pub submission_time: String,
    /// contentTypeCode (JDV_J59).
    pub content_type_code: Option<Code>,
    /// author(s).
    pub authors: Vec<Author>,
    /// title.
    pub title: Option<String>,
    /// comments.
    pub comments: Option<String>,
    /// availabilityStatus (registry side).
    pub status: Option<AvailabilityStatus>,
    /// homeCommunityId (`@home`, registry side).
    pub home_community_id: Option<String>,
}

impl SubmissionSet {
    /// A submission set to send now: symbolic id `SubmissionSet01`, a fresh uniqueId.
    pub fn new(source_id: &str, patient_id: &str, content_type_code: Code, author: Author) -> Self {
        Self {
            entry_uuid: "SubmissionSet01".into(),
            unique_id: new_oid(),
            source_id: source_id.to_owned(),
            patient_id: patient_id.to_owned(),
            submission_time: format_dtm(&Utc::now()),
            content_type_code: Some(content_type_code),
            authors: if author.is_empty() {
                Vec::new()
            } else {
                vec![author]
            },
            ..Default::default()
        }
    }

    /// Writes the `rim:RegistryPackage` in ebRIM schema order.
    pub(crate) fn write(&self, w: &mut RimWriter, ctx: EntryContext) -> Result<()> {
        if self.submission_time.is_empty() || parse_dtm(&self.submission_time).is_none() {
            return Err(DmpError::Invalid {
                field: "submissionTime",
                detail: "not an XDS DTM".into(),
            });
        }
        let ct = self.content_type_code.as_ref().ok_or(DmpError::Invalid {
            field: "contentTypeCode",
            detail: "required (ITI TF-3 §4.2.3.3.4)".into(),
        })?;
        let id = self.entry_uuid.as_str();
        w.out.push_str("<rim:RegistryPackage");
        attr(&mut w.out, "id", id);
        if ctx == EntryContext::Response {
            if let Some(home) = &self.home_community_id {
                attr(&mut w.out, "home", home);
            }
            if let Some(s) = &self.status {
                attr(&mut w.out, "status", s.as_str());
            }
        }
        w.out.push('>');
        w.slot("submissionTime", "submissionTime", &[&self.submission_time])?;
        if let Some(t) = &self.title {
            w.localized("title", "rim:Name", t)?;
        }
        if let Some(c) = &self.comments {
            w.localized("comments", "rim:Description", c)?;
        }
        for a in &self.authors {
            w.author(SS_AUTHOR, id, a)?;
        }
        w.coded("contentTypeCode", SS_CONTENT_TYPE_CODE, id, ct)?;
        w.node(SS_CLASSIFICATION_NODE, id);
        w.external_id(
            "SubmissionSet uniqueId",
            SS_UNIQUE_ID,
            id,
            &self.unique_id,
            "XDSSubmissionSet.uniqueId",
        )?;
        w.external_id(
            "sourceId",
            SS_SOURCE_ID,
            id,
            &self.source_id,
            "XDSSubmissionSet.sourceId",
        )?;
        w.external_id(
            "SubmissionSet patientId",
            SS_PATIENT_ID,
            id,
            &self.patient_id,
            "XDSSubmissionSet.patientId",
        )?;
        w.out.push_str("</rim:RegistryPackage>");
        Ok(())
    }

    /// Reads a `rim:RegistryPackage` known to be a submission set.
    pub fn read(el: &Element) -> Result<Self> {
        let missing = |what: &str| DmpError::Malformed(format!("RegistryPackage without {what}"));
        Ok(Self {
            entry_uuid: el
                .attr("id")
                .ok_or_else(|| missing("id"))?
                .trim()
                .to_owned(),
            unique_id: ebrim::external_id(el, SS_UNIQUE_ID).ok_or_else(|| missing("uniqueId"))?,
            source_id: ebrim::external_id(el, SS_SOURCE_ID).unwrap_or_default(),
            patient_id: ebrim::external_id(el, SS_PATIENT_ID)
                .ok_or_else(|| missing("patientId"))?,
            submission_time: ebrim::slot_first(el, "submissionTime").unwrap_or_default(),
            content_type_code: ebrim::classifications(el, SS_CONTENT_TYPE_CODE)
                .next()
                .map(ebrim::read_code),
            authors: ebrim::classifications(el, SS_AUTHOR)
                .map(ebrim::read_author)
                .collect(),
            title: ebrim::localized(el, "Name"),
            comments: ebrim::localized(el, "Description"),
            status: el.attr("status").map(AvailabilityStatus::parse),
            home_community_id: el.attr("home").filter(|h| !h.is_empty()).map(str::to_owned),
        })
    }
}

/// The kind of an association (ITI TF-3 §4.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AssociationType {
    /// `HasMember` (submission set membership).
    HasMember,
    /// `RPLC` (replacement).
    Replace,
    /// `signs` (signature document → signed object).
    Signs,
    /// `UpdateAvailabilityStatus` (ITI-57).
    UpdateAvailabilityStatus,
    /// Any other association type URN.
    Other(String),
}

impl AssociationType {
    /// The association type URN.
    pub fn as_str(&self) -> &str {
        match self {
            Self::HasMember => ASSOC_HAS_MEMBER,
            Self::Replace => ASSOC_RPLC,
            Self::Signs => ASSOC_SIGNS,
            Self::UpdateAvailabilityStatus => ASSOC_UPDATE_AVAILABILITY_STATUS,
            Self::Other(s) => s,
        }
    }

    /// Reads an association type URN.
    pub fn parse(s: &str) -> Self {
        match s.trim() {
            ASSOC_HAS_MEMBER => Self::HasMember,
            ASSOC_RPLC => Self::Replace,
            ASSOC_SIGNS => Self::Signs,
            ASSOC_UPDATE_AVAILABILITY_STATUS => Self::UpdateAvailabilityStatus,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// An association between two registry objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    /// Its id.
    pub id: String,
    /// Its type.
    pub kind: AssociationType,
    /// sourceObject.
    pub source: String,
    /// targetObject.
    pub target: String,
    /// Its slots (SubmissionSetStatus, PreviousVersion, OriginalStatus, NewStatus...).
    pub slots: Vec<(String, Vec<String>)>,
}

impl Association {
    /// The first value of a slot.
    pub fn slot(&self, name: &str) -> Option<&str> {
        self.slots
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    /// Reads a `rim:Association`.
    pub fn read(el: &Element) -> Result<Self> {
        let get = |name: &str| {
            el.attr(name)
                .map(|s| s.trim().to_owned())
                .ok_or_else(|| DmpError::Malformed(format!("Association without {name}")))
        };
        Ok(Self {
            id: get("id")?,
            kind: AssociationType::parse(&get("associationType")?),
            source: get("sourceObject")?,
            target: get("targetObject")?,
            slots: ebrim::slots(el).map(|(n, v)| (n.to_owned(), v)).collect(),
        })
    }
}

/// The content of a `rim:RegistryObjectList`, typed (unknown objects — folders, other
/// classifications — are skipped).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryObjects {
    /// DocumentEntries (`ExtrinsicObject`).
    pub documents: Vec<DocumentEntry>,
    /// SubmissionSets.
    pub submission_sets: Vec<SubmissionSet>,
    /// Associations.
    pub associations: Vec<Association>,
    /// ObjectRef ids (`returnType="ObjectRef"`).
    pub object_refs: Vec<String>,
}

impl RegistryObjects {
    /// Reads a `rim:RegistryObjectList` (or any element whose children are registry objects).
    pub fn read(list: &Element) -> Result<Self> {
        // A RegistryPackage is a submission set when classified by the SubmissionSet node,
        // inside it or by a Classification at list level (both occur).
        let outer_ss: Vec<&str> = list
            .children_named(RIM_NS, "Classification")
            .filter(|c| ebrim::is_urn(c.attr("classificationNode"), SS_CLASSIFICATION_NODE))
            .filter_map(|c| c.attr("classifiedObject"))
            .collect();
        let mut out = Self::default();
        for el in list.elements() {
            if el.namespace() != RIM_NS {
                continue;
            }
            match el.name.as_str() {
                "ExtrinsicObject" => out.documents.push(DocumentEntry::read(el)?),
                "RegistryPackage" => {
                    let inner = el.children_named(RIM_NS, "Classification").any(|c| {
                        ebrim::is_urn(c.attr("classificationNode"), SS_CLASSIFICATION_NODE)
                    });
                    let outer = el.attr("id").is_some_and(|id| outer_ss.contains(&id));
                    if inner || outer {
                        out.submission_sets.push(SubmissionSet::read(el)?);
                    }
                }
                "Association" => out.associations.push(Association::read(el)?),
                "ObjectRef" => {
                    if let Some(id) = el.attr("id") {
                        out.object_refs.push(id.trim().to_owned());
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtm() {
        let t = parse_dtm("20240312101700").unwrap();
        assert_eq!(format_dtm(&t), "20240312101700");
        assert_eq!(format_dtm(&parse_dtm("2024").unwrap()), "20240101000000");
        assert_eq!(
            format_dtm(&parse_dtm("202403121017").unwrap()),
            "20240312101700"
        );
        for bad in [
            "",
            "2024031",
            "20241312",
            "2024-03-12",
            "abcd",
            "202403121099",
        ] {
            assert!(parse_dtm(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn status_and_association_urns() {
        for s in [
            AvailabilityStatus::Approved,
            AvailabilityStatus::Deprecated,
            AvailabilityStatus::Archived,
            AvailabilityStatus::Deleted,
            AvailabilityStatus::Other("urn:x".into()),
        ] {
            assert_eq!(AvailabilityStatus::parse(s.as_str()), s);
        }
        for a in [
            AssociationType::HasMember,
            AssociationType::Replace,
            AssociationType::Signs,
            AssociationType::UpdateAvailabilityStatus,
        ] {
            assert_eq!(AssociationType::parse(a.as_str()), a);
        }
    }
}
