//! ITI-18 Registry Stored Query (`query:AdhocQueryRequest` / `AdhocQueryResponse`; ITI TF-2a
//! §3.18, `dmp.md` §2 TD3.1) as typed queries.
//!
//! Parameter values follow the ebRS stored-query syntax (ITI TF-2a §3.18.4.1.2.3.5–6): strings in
//! single quotes with inner quotes doubled, lists as `('a','b')`, codes as `'code^^scheme'`,
//! times as unquoted DTM numbers. A list longer than an ebRIM `Value` (256 characters) is split
//! over several `Value` elements, which the registry ORs together.
//! [`StoredQuery::read`] reads a request back (the sandbox side) and refuses unbalanced quoting.

use chrono::{DateTime, Utc};
use segur_cda::Code;
use segur_net::xml::{Element, XmlLimits};

use super::ebrim::{attr, MAX_LONG_NAME};
use super::entry::{format_dtm, parse_dtm, AvailabilityStatus, EntryContext, RegistryObjects};
use super::ids::*;
use super::response::{payload, RegistryResponse};
use crate::error::{DmpError, Result};

/// Limits for query responses: a LeafClass answer lists whole DocumentEntries.
pub const QUERY_RESPONSE_LIMITS: XmlLimits = XmlLimits {
    max_bytes: 32 * 1024 * 1024,
    max_depth: 64,
    max_nodes: 2_000_000,
};

/// What the registry returns (`ResponseOption/@returnType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnType {
    /// Whole objects (ExtrinsicObject, RegistryPackage, Association).
    #[default]
    LeafClass,
    /// Only references (ids).
    ObjectRef,
}

impl ReturnType {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LeafClass => "LeafClass",
            Self::ObjectRef => "ObjectRef",
        }
    }
}

/// Quotes a string value: `'…'` with inner single quotes doubled.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A coded value `'code^^scheme'`.
fn quote_code(c: &Code) -> String {
    quote(&format!("{}^^{}", c.code, c.system))
}

/// `('a','b',…)` lists of already-quoted items, split so that each fits an ebRIM Value.
fn lists(field: &'static str, items: Vec<String>) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for item in items {
        if item.chars().count() + 2 > MAX_LONG_NAME {
            return Err(DmpError::Invalid {
                field,
                detail: "a value is too long for a stored query parameter".into(),
            });
        }
        if !cur.is_empty() && cur.chars().count() + item.chars().count() + 2 > MAX_LONG_NAME {
            cur.push(')');
            out.push(std::mem::take(&mut cur));
        }
        cur.push(if cur.is_empty() { '(' } else { ',' });
        cur.push_str(&item);
    }
    if !cur.is_empty() {
        cur.push(')');
        out.push(cur);
    }
    Ok(out)
}

/// Reads an ebRS parameter value: a quoted string, a number, or a parenthesised list of those.
pub fn parse_values(value: &str) -> Result<Vec<String>> {
    let v = value.trim();
    let inner = match v.strip_prefix('(') {
        Some(rest) => rest
            .strip_suffix(')')
            .ok_or_else(|| DmpError::Malformed("stored query list without ')'".into()))?,
        None => v,
    };
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut item = String::new();
        if c == '\'' {
            chars.next();
            loop {
                match chars.next() {
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        item.push('\'');
                    }
                    Some('\'') => break,
                    Some(ch) => item.push(ch),
                    None => {
                        return Err(DmpError::Malformed(
                            "unterminated quoted stored query value".into(),
                        ))
                    }
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch == ',' {
                    break;
                }
                if ch == '\'' || ch == '(' || ch == ')' {
                    return Err(DmpError::Malformed(
                        "misplaced quote in stored query value".into(),
                    ));
                }
                item.push(ch);
                chars.next();
            }
            item = item.trim().to_owned();
        }
        out.push(item);
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(_) => {
                return Err(DmpError::Malformed(
                    "unexpected text after a stored query value".into(),
                ))
            }
        }
    }
    Ok(out)
}

/// Reads a coded value `code^^scheme`.
fn parse_code(s: &str) -> Code {
    let mut it = s.splitn(3, '^');
    let code = it.next().unwrap_or_default();
    let _ = it.next();
    let scheme = it.next().unwrap_or_default();
    Code::new(code, scheme, "")
}

/// ITI-18 FindDocuments: the patient's documents matching every given criterion (TD3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindDocuments {
    /// `$XDSDocumentEntryPatientId` (required): the INS as CX.
    pub patient_id: String,
    /// `$XDSDocumentEntryStatus` (required, at least one; Approved by default).
    pub statuses: Vec<AvailabilityStatus>,
    /// `$XDSDocumentEntryClassCode`.
    pub class_codes: Vec<Code>,
    /// `$XDSDocumentEntryTypeCode`.
    pub type_codes: Vec<Code>,
    /// `$XDSDocumentEntryPracticeSettingCode`.
    pub practice_setting_codes: Vec<Code>,
    /// `$XDSDocumentEntryHealthcareFacilityTypeCode`.
    pub healthcare_facility_type_codes: Vec<Code>,
    /// `$XDSDocumentEntryEventCodeList`.
    pub event_codes: Vec<Code>,
    /// `$XDSDocumentEntryConfidentialityCode`.
    pub confidentiality_codes: Vec<Code>,
    /// `$XDSDocumentEntryFormatCode`.
    pub format_codes: Vec<Code>,
    /// `$XDSDocumentEntryCreationTimeFrom` (inclusive).
    pub creation_time_from: Option<DateTime<Utc>>,
    /// `$XDSDocumentEntryCreationTimeTo` (exclusive).
    pub creation_time_to: Option<DateTime<Utc>>,
    /// `$XDSDocumentEntryServiceStartTimeFrom`.
    pub service_start_time_from: Option<DateTime<Utc>>,
    /// `$XDSDocumentEntryServiceStartTimeTo`.
    pub service_start_time_to: Option<DateTime<Utc>>,
    /// `$XDSDocumentEntryServiceStopTimeFrom`.
    pub service_stop_time_from: Option<DateTime<Utc>>,
    /// `$XDSDocumentEntryServiceStopTimeTo`.
    pub service_stop_time_to: Option<DateTime<Utc>>,
    /// `$XDSDocumentEntryAuthorPerson`: XCN patterns (SQL LIKE: `%`, `_`), ORed.
    pub author_persons: Vec<String>,
}

impl FindDocuments {
    /// The current (Approved) documents of a patient.
    pub fn new(patient_id: &str) -> Self {
        Self {
            patient_id: patient_id.to_owned(),
            statuses: vec![AvailabilityStatus::Approved],
            class_codes: Vec::new(),
            type_codes: Vec::new(),
            practice_setting_codes: Vec::new(),
            healthcare_facility_type_codes: Vec::new(),
            event_codes: Vec::new(),
            confidentiality_codes: Vec::new(),
            format_codes: Vec::new(),
            creation_time_from: None,
            creation_time_to: None,
            service_start_time_from: None,
            service_start_time_to: None,
            service_stop_time_from: None,
            service_stop_time_to: None,
            author_persons: Vec::new(),
        }
    }

    /// Replaces the statuses.
    pub fn statuses(mut self, statuses: &[AvailabilityStatus]) -> Self {
        self.statuses = statuses.to_vec();
        self
    }

    /// Adds a classCode.
    pub fn class_code(mut self, code: Code) -> Self {
        self.class_codes.push(code);
        self
    }

    /// Adds a typeCode (e.g. `SYNTH` for the VSM).
    pub fn type_code(mut self, code: Code) -> Self {
        self.type_codes.push(code);
        self
    }

    /// Adds a formatCode.
    pub fn format_code(mut self, code: Code) -> Self {
        self.format_codes.push(code);
        self
    }

    /// Adds a confidentialityCode.
    pub fn confidentiality_code(mut self, code: Code) -> Self {
        self.confidentiality_codes.push(code);
        self
    }

    /// Restricts creationTime to `[from, to)`.
    pub fn created_between(
        mut self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Self {
        self.creation_time_from = from;
        self.creation_time_to = to;
        self
    }

    /// Restricts serviceStartTime to `[from, to)`.
    pub fn service_start_between(
        mut self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
    ) -> Self {
        self.service_start_time_from = from;
        self.service_start_time_to = to;
        self
    }

    /// Adds an authorPerson pattern.
    pub fn author_person(mut self, pattern: &str) -> Self {
        self.author_persons.push(pattern.to_owned());
        self
    }

    fn params(&self) -> Result<Vec<(&'static str, Vec<String>)>> {
        if self.statuses.is_empty() {
            return Err(DmpError::Invalid {
                field: "$XDSDocumentEntryStatus",
                detail: "at least one status is required".into(),
            });
        }
        let mut p = vec![
            ("$XDSDocumentEntryPatientId", vec![quote(&self.patient_id)]),
            (
                "$XDSDocumentEntryStatus",
                lists(
                    "$XDSDocumentEntryStatus",
                    self.statuses.iter().map(|s| quote(s.as_str())).collect(),
                )?,
            ),
        ];
        for (name, codes) in [
            ("$XDSDocumentEntryClassCode", &self.class_codes),
            ("$XDSDocumentEntryTypeCode", &self.type_codes),
            (
                "$XDSDocumentEntryPracticeSettingCode",
                &self.practice_setting_codes,
            ),
            (
                "$XDSDocumentEntryHealthcareFacilityTypeCode",
                &self.healthcare_facility_type_codes,
            ),
            ("$XDSDocumentEntryEventCodeList", &self.event_codes),
            (
                "$XDSDocumentEntryConfidentialityCode",
                &self.confidentiality_codes,
            ),
            ("$XDSDocumentEntryFormatCode", &self.format_codes),
        ] {
            if !codes.is_empty() {
                p.push((name, lists(name, codes.iter().map(quote_code).collect())?));
            }
        }
        for (name, t) in [
            ("$XDSDocumentEntryCreationTimeFrom", self.creation_time_from),
            ("$XDSDocumentEntryCreationTimeTo", self.creation_time_to),
            (
                "$XDSDocumentEntryServiceStartTimeFrom",
                self.service_start_time_from,
            ),
            (
                "$XDSDocumentEntryServiceStartTimeTo",
                self.service_start_time_to,
            ),
            (
                "$XDSDocumentEntryServiceStopTimeFrom",
                self.service_stop_time_from,
            ),
            (
                "$XDSDocumentEntryServiceStopTimeTo",
                self.service_stop_time_to,
            ),
        ] {
            if let Some(t) = t {
                p.push((name, vec![format_dtm(&t)]));
            }
        }
        if !self.author_persons.is_empty() {
            let name = "$XDSDocumentEntryAuthorPerson";
            p.push((
                name,
                lists(name, self.author_persons.iter().map(|a| quote(a)).collect())?,
            ));
        }
        Ok(p)
    }
}

/// How GetDocuments names the documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentRef {
    /// `$XDSDocumentEntryUniqueId`.
    UniqueIds(Vec<String>),
    /// `$XDSDocumentEntryEntryUUID`.
    EntryUuids(Vec<String>),
}

/// ITI-18 GetDocuments: entries by uniqueId or entryUUID (e.g. the entryUUID needed for RPLC and
/// ITI-57).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetDocuments {
    /// The documents.
    pub documents: DocumentRef,
    /// `$homeCommunityId`.
    pub home_community_id: Option<String>,
}

/// ITI-18 FindSubmissionSets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindSubmissionSets {
    /// `$XDSSubmissionSetPatientId` (required).
    pub patient_id: String,
    /// `$XDSSubmissionSetStatus` (required).
    pub statuses: Vec<AvailabilityStatus>,
    /// `$XDSSubmissionSetSourceId`.
    pub source_ids: Vec<String>,
    /// `$XDSSubmissionSetSubmissionTimeFrom`.
    pub submission_time_from: Option<DateTime<Utc>>,
    /// `$XDSSubmissionSetSubmissionTimeTo`.
    pub submission_time_to: Option<DateTime<Utc>>,
    /// `$XDSSubmissionSetAuthorPerson` (one LIKE pattern).
    pub author_person: Option<String>,
    /// `$XDSSubmissionSetContentType`.
    pub content_type_codes: Vec<Code>,
}

impl FindSubmissionSets {
    /// The Approved submission sets of a patient.
    pub fn new(patient_id: &str) -> Self {
        Self {
            patient_id: patient_id.to_owned(),
            statuses: vec![AvailabilityStatus::Approved],
            source_ids: Vec::new(),
            submission_time_from: None,
            submission_time_to: None,
            author_person: None,
            content_type_codes: Vec::new(),
        }
    }
}

/// A typed stored query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredQuery {
    /// FindDocuments.
    FindDocuments(FindDocuments),
    /// GetDocuments.
    GetDocuments(GetDocuments),
    /// FindSubmissionSets.
    FindSubmissionSets(FindSubmissionSets),
}

impl StoredQuery {
    /// The stored query id (ITI TF-2a §3.18.4.1.2.3.7).
    pub fn id(&self) -> &'static str {
        match self {
            Self::FindDocuments(_) => SQ_FIND_DOCUMENTS,
            Self::GetDocuments(_) => SQ_GET_DOCUMENTS,
            Self::FindSubmissionSets(_) => SQ_FIND_SUBMISSION_SETS,
        }
    }

    fn params(&self) -> Result<Vec<(&'static str, Vec<String>)>> {
        match self {
            Self::FindDocuments(q) => q.params(),
            Self::GetDocuments(q) => {
                let (name, ids) = match &q.documents {
                    DocumentRef::UniqueIds(ids) => ("$XDSDocumentEntryUniqueId", ids),
                    DocumentRef::EntryUuids(ids) => ("$XDSDocumentEntryEntryUUID", ids),
                };
                if ids.is_empty() {
                    return Err(DmpError::Invalid {
                        field: "GetDocuments",
                        detail: "no document given".into(),
                    });
                }
                let mut p = vec![(name, lists(name, ids.iter().map(|i| quote(i)).collect())?)];
                if let Some(h) = &q.home_community_id {
                    p.push(("$homeCommunityId", vec![quote(h)]));
                }
                Ok(p)
            }
            Self::FindSubmissionSets(q) => {
                if q.statuses.is_empty() {
                    return Err(DmpError::Invalid {
                        field: "$XDSSubmissionSetStatus",
                        detail: "at least one status is required".into(),
                    });
                }
                let mut p = vec![
                    ("$XDSSubmissionSetPatientId", vec![quote(&q.patient_id)]),
                    (
                        "$XDSSubmissionSetStatus",
                        lists(
                            "$XDSSubmissionSetStatus",
                            q.statuses.iter().map(|s| quote(s.as_str())).collect(),
                        )?,
                    ),
                ];
                if !q.source_ids.is_empty() {
                    let n = "$XDSSubmissionSetSourceId";
                    p.push((
                        n,
                        lists(n, q.source_ids.iter().map(|s| quote(s)).collect())?,
                    ));
                }
                if let Some(t) = q.submission_time_from {
                    p.push(("$XDSSubmissionSetSubmissionTimeFrom", vec![format_dtm(&t)]));
                }
                if let Some(t) = q.submission_time_to {
                    p.push(("$XDSSubmissionSetSubmissionTimeTo", vec![format_dtm(&t)]));
                }
                if let Some(a) = &q.author_person {
                    p.push(("$XDSSubmissionSetAuthorPerson", vec![quote(a)]));
                }
                if !q.content_type_codes.is_empty() {
                    let n = "$XDSSubmissionSetContentType";
                    p.push((
                        n,
                        lists(n, q.content_type_codes.iter().map(quote_code).collect())?,
                    ));
                }
                Ok(p)
            }
        }
    }

    /// The `query:AdhocQueryRequest` body (ITI TF-2a §3.18.4.1.2).
    pub fn to_xml(&self, return_type: ReturnType) -> Result<String> {
        let params = self.params()?;
        let mut out = String::with_capacity(1024);
        out.push_str("<query:AdhocQueryRequest");
        attr(&mut out, "xmlns:query", QUERY_NS);
        attr(&mut out, "xmlns:rim", RIM_NS);
        out.push_str("><query:ResponseOption");
        attr(&mut out, "returnComposedObjects", "true");
        attr(&mut out, "returnType", return_type.as_str());
        out.push_str("/><rim:AdhocQuery");
        attr(&mut out, "id", self.id());
        out.push('>');
        let mut w = super::ebrim::RimWriter::default();
        for (name, values) in &params {
            w.slot("stored query parameter", name, values)?;
        }
        out.push_str(&w.out);
        out.push_str("</rim:AdhocQuery></query:AdhocQueryRequest>");
        Ok(out)
    }

    /// Reads a `query:AdhocQueryRequest` back (the registry side): the query and return type.
    /// Unknown query ids give [`DmpError::Invalid`] (the registry answers
    /// `XDSUnknownStoredQuery`); malformed values give [`DmpError::Malformed`].
    pub fn read(request: &Element) -> Result<(Self, ReturnType)> {
        let return_type = match request
            .child(QUERY_NS, "ResponseOption")
            .and_then(|r| r.attr("returnType"))
        {
            Some("ObjectRef") => ReturnType::ObjectRef,
            _ => ReturnType::LeafClass,
        };
        let q = request
            .child(RIM_NS, "AdhocQuery")
            .ok_or_else(|| DmpError::Malformed("AdhocQueryRequest without AdhocQuery".into()))?;
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for (name, values) in super::ebrim::slots(q) {
            let mut all = Vec::new();
            for v in values {
                all.extend(parse_values(&v)?);
            }
            params.push((name.to_owned(), all));
        }
        let get = |n: &str| -> Vec<String> {
            params
                .iter()
                .filter(|(k, _)| k == n)
                .flat_map(|(_, v)| v.iter().cloned())
                .collect()
        };
        let one = |n: &'static str| -> Result<String> {
            get(n).into_iter().next().ok_or(DmpError::Invalid {
                field: n,
                detail: "required parameter missing".into(),
            })
        };
        let time = |n: &str| -> Result<Option<DateTime<Utc>>> {
            match get(n).first() {
                None => Ok(None),
                Some(v) => parse_dtm(v)
                    .map(Some)
                    .ok_or_else(|| DmpError::Malformed(format!("{n}: not a DTM"))),
            }
        };
        let codes = |n: &str| get(n).iter().map(|c| parse_code(c)).collect::<Vec<_>>();
        let statuses = |n: &str| {
            get(n)
                .iter()
                .map(|s| AvailabilityStatus::parse(s))
                .collect::<Vec<_>>()
        };
        let id = q.attr("id").unwrap_or_default().trim();
        let query = match id {
            SQ_FIND_DOCUMENTS => Self::FindDocuments(FindDocuments {
                patient_id: one("$XDSDocumentEntryPatientId")?,
                statuses: statuses("$XDSDocumentEntryStatus"),
                class_codes: codes("$XDSDocumentEntryClassCode"),
                type_codes: codes("$XDSDocumentEntryTypeCode"),
                practice_setting_codes: codes("$XDSDocumentEntryPracticeSettingCode"),
                healthcare_facility_type_codes: codes(
                    "$XDSDocumentEntryHealthcareFacilityTypeCode",
                ),
                event_codes: codes("$XDSDocumentEntryEventCodeList"),
                confidentiality_codes: codes("$XDSDocumentEntryConfidentialityCode"),
                format_codes: codes("$XDSDocumentEntryFormatCode"),
                creation_time_from: time("$XDSDocumentEntryCreationTimeFrom")?,
                creation_time_to: time("$XDSDocumentEntryCreationTimeTo")?,
                service_start_time_from: time("$XDSDocumentEntryServiceStartTimeFrom")?,
                service_start_time_to: time("$XDSDocumentEntryServiceStartTimeTo")?,
                service_stop_time_from: time("$XDSDocumentEntryServiceStopTimeFrom")?,
                service_stop_time_to: time("$XDSDocumentEntryServiceStopTimeTo")?,
                author_persons: get("$XDSDocumentEntryAuthorPerson"),
            }),
            SQ_GET_DOCUMENTS => {
                let uids = get("$XDSDocumentEntryUniqueId");
                let documents = if uids.is_empty() {
                    DocumentRef::EntryUuids(get("$XDSDocumentEntryEntryUUID"))
                } else {
                    DocumentRef::UniqueIds(uids)
                };
                Self::GetDocuments(GetDocuments {
                    documents,
                    home_community_id: get("$homeCommunityId").into_iter().next(),
                })
            }
            SQ_FIND_SUBMISSION_SETS => Self::FindSubmissionSets(FindSubmissionSets {
                patient_id: one("$XDSSubmissionSetPatientId")?,
                statuses: statuses("$XDSSubmissionSetStatus"),
                source_ids: get("$XDSSubmissionSetSourceId"),
                submission_time_from: time("$XDSSubmissionSetSubmissionTimeFrom")?,
                submission_time_to: time("$XDSSubmissionSetSubmissionTimeTo")?,
                author_person: get("$XDSSubmissionSetAuthorPerson").into_iter().next(),
                content_type_codes: codes("$XDSSubmissionSetContentType"),
            }),
            _ => {
                return Err(DmpError::Invalid {
                    field: "AdhocQuery/@id",
                    detail: "unknown or unsupported stored query".into(),
                })
            }
        };
        Ok((query, return_type))
    }
}

/// A `query:AdhocQueryResponse`: status, errors and the returned objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryResponse {
    /// Status and registry errors (an `AdhocQueryResponse` is a `RegistryResponseType`).
    pub response: RegistryResponse,
    /// The objects (LeafClass) or references (ObjectRef).
    pub objects: RegistryObjects,
    /// `totalResultCount`, when given.
    pub total_result_count: Option<u64>,
}

impl QueryResponse {
    /// Reads a `query:AdhocQueryResponse` element.
    pub fn read(el: &Element) -> Result<Self> {
        if !el.is(QUERY_NS, "AdhocQueryResponse") {
            return Err(DmpError::Malformed(format!(
                "{} where query:AdhocQueryResponse was expected",
                el.name
            )));
        }
        let response = RegistryResponse::read(el)?;
        let objects = match el.child(RIM_NS, "RegistryObjectList") {
            Some(list) => RegistryObjects::read(list)?,
            None => RegistryObjects::default(),
        };
        Ok(Self {
            response,
            objects,
            total_result_count: el
                .attr("totalResultCount")
                .and_then(|c| c.trim().parse().ok()),
        })
    }

    /// Parses an ITI-18 response, bare or in a SOAP envelope.
    pub fn parse(xml: &[u8]) -> Result<Self> {
        Self::read(&payload(xml, &QUERY_RESPONSE_LIMITS)?)
    }

    /// Writes the `query:AdhocQueryResponse` (the registry side: sandbox and tests).
    pub fn to_xml(&self, return_type: ReturnType) -> Result<String> {
        let mut w = super::ebrim::RimWriter::with_capacity(4096);
        w.out.push_str("<query:AdhocQueryResponse");
        attr(&mut w.out, "xmlns:query", QUERY_NS);
        attr(&mut w.out, "xmlns:rim", RIM_NS);
        attr(&mut w.out, "xmlns:rs", RS_NS);
        if let Some(n) = self.total_result_count {
            attr(&mut w.out, "totalResultCount", &n.to_string());
        }
        self.response.write_inner(&mut w.out);
        w.out.push_str("<rim:RegistryObjectList>");
        match return_type {
            ReturnType::ObjectRef => {
                let ids = self
                    .objects
                    .object_refs
                    .iter()
                    .chain(self.objects.documents.iter().map(|d| &d.entry_uuid))
                    .chain(self.objects.submission_sets.iter().map(|s| &s.entry_uuid));
                for id in ids {
                    w.out.push_str("<rim:ObjectRef");
                    attr(&mut w.out, "id", id);
                    w.out.push_str("/>");
                }
            }
            ReturnType::LeafClass => {
                for s in &self.objects.submission_sets {
                    s.write(&mut w, EntryContext::Response)?;
                }
                for d in &self.objects.documents {
                    d.write(&mut w, EntryContext::Response)?;
                }
                for a in &self.objects.associations {
                    let slots: Vec<(&str, &str)> = a
                        .slots
                        .iter()
                        .filter_map(|(n, v)| Some((n.as_str(), v.first()?.as_str())))
                        .collect();
                    w.association(&a.id, a.kind.as_str(), &a.source, &a.target, &slots)?;
                }
            }
        }
        w.out
            .push_str("</rim:RegistryObjectList></query:AdhocQueryResponse>");
        Ok(w.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("O'Neil"), "'O''Neil'");
        assert_eq!(
            parse_values("('a','b''c' , 'd')").unwrap(),
            ["a", "b'c", "d"]
        );
        assert_eq!(parse_values("'x'").unwrap(), ["x"]);
        assert_eq!(parse_values("20240101").unwrap(), ["20240101"]);
        assert_eq!(parse_values("()").unwrap(), Vec::<String>::new());
        for bad in ["'abc", "('a'", "'a' junk", "('a' 'b')", "ab'c"] {
            assert!(parse_values(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn long_lists_split_over_values() {
        let ids: Vec<String> = (0..40)
            .map(|i| format!("1.2.250.1.999.{i}.123456789"))
            .collect();
        let q = StoredQuery::GetDocuments(GetDocuments {
            documents: DocumentRef::UniqueIds(ids.clone()),
            home_community_id: None,
        });
        let xml = q.to_xml(ReturnType::ObjectRef).unwrap();
        let el = segur_net::xml::parse(xml.as_bytes(), &XmlLimits::default()).unwrap();
        let values: Vec<_> = el
            .child(RIM_NS, "AdhocQuery")
            .unwrap()
            .child(RIM_NS, "Slot")
            .unwrap()
            .child(RIM_NS, "ValueList")
            .unwrap()
            .children_named(RIM_NS, "Value")
            .map(|v| v.text().into_owned())
            .collect();
        assert!(values.len() > 1);
        assert!(values.iter().all(|v| v.chars().count() <= MAX_LONG_NAME));
        let (back, rt) = StoredQuery::read(&el).unwrap();
        assert_eq!(rt, ReturnType::ObjectRef);
        assert_eq!(back, q);
    }

    #[test]
    fn find_documents_round_trip() {
        let t = |s| parse_dtm(s).unwrap();
        let q = FindDocuments::new("279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH")
            .statuses(&[AvailabilityStatus::Approved, AvailabilityStatus::Archived])
            .type_code(Code::new("SYNTH", "1.2.250.1.213.1.1.4.12", ""))
            .class_code(Code::new("11", "1.2.250.1.213.1.1.4.1", ""))
            .created_between(Some(t("20240101")), Some(t("20250101120000")))
            .service_start_between(Some(t("2023")), None)
            .author_person("%O'Brien%")
            .format_code(Code::new(
                "urn:asip:ci-sis:vsm:2012",
                "1.2.250.1.213.1.1.4.2.282",
                "",
            ))
            .confidentiality_code(Code::new("MASQUE_PS", "1.2.250.1.213.1.1.4.13", ""));
        let q = StoredQuery::FindDocuments(q);
        let xml = q.to_xml(ReturnType::LeafClass).unwrap();
        assert!(
            xml.contains("<rim:Value>'%O''Brien%'</rim:Value>")
                || xml.contains("&apos;%O&apos;&apos;Brien%&apos;")
        );
        let el = segur_net::xml::parse(xml.as_bytes(), &XmlLimits::default()).unwrap();
        assert_eq!(StoredQuery::read(&el).unwrap().0, q);
        // A status list is required.
        let empty = StoredQuery::FindDocuments(FindDocuments::new("x").statuses(&[]));
        assert!(empty.to_xml(ReturnType::LeafClass).is_err());
    }
}
