//! `/registry`: ITI-18 Registry Stored Query (TD3.1: FindDocuments, FindSubmissionSets,
//! GetDocuments; LeafClass or ObjectRef; ITI TF-2a 3.18.4.1.2.3.7 parameter rules) and ITI-57
//! Update Document Set (TD3.3: availability status Deleted / Archived and back, new metadata
//! versions for confidentiality changes; ITI TF-2b 3.57).
//!
//! Both need the professional's TD0.3 authorization (or emergency access); documents masked to
//! the professional (`MASQUE_PS`) are left out of query results.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use segur_net::xml::{parse, Element, XmlLimits};

use super::ebrim::{self, PatientId, RegistryError, QUERY_NS, RIM_NS};
use super::store::{AssociationRow, Db, EntryRow, SubmissionSetRow};
use super::submission::{self, mapped};
use super::vihf::Vihf;
use super::{
    check_access, registry_response, Access, Answer, DmpSimulator, OpError, Operation, Refusal,
};
use crate::SandboxError;

/// FindDocuments stored query id.
pub const FIND_DOCUMENTS: &str = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
/// FindSubmissionSets stored query id.
pub const FIND_SUBMISSION_SETS: &str = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9";
/// GetDocuments stored query id.
pub const GET_DOCUMENTS: &str = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";
/// The other stored queries of ITI-18 (known, not offered by the sandbox).
const OTHER_IHE_QUERIES: &[&str] = &[
    "urn:uuid:958f3006-baad-4929-a4de-ff1114824431", // FindFolders
    "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3", // GetAll
    "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4", // GetFolders
    "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155", // GetAssociations
    "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a", // GetDocumentsAndAssociations
    "urn:uuid:51224314-5390-4169-9b91-b1980040715a", // GetSubmissionSets
    "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83", // GetSubmissionSetAndContents
    "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7", // GetFolderAndContents
    "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578", // GetFoldersForDocument
    "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6", // GetRelatedDocuments
    "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492", // FindDocumentsByReferenceId
];

const PARAM_NUMBER: &str = "XDSStoredQueryParamNumber";
const MISSING_PARAM: &str = "XDSStoredQueryMissingParam";

// ---- ITI-18 ----------------------------------------------------------------------------------

/// Parses a stored query parameter value: `'text'`, a number, or a list `('a','b',3)`
/// (ITI TF-2a 3.18.4.1.2.3.5; `''` is a quote inside a quoted string).
pub fn parse_value(v: &str) -> Option<Vec<String>> {
    let v = v.trim();
    let inner = match v.strip_prefix('(') {
        Some(rest) => rest.strip_suffix(')')?,
        None => v,
    };
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.peek() {
            None => break,
            Some('\'') => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return None,
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            s.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => s.push(c),
                    }
                }
                out.push(s);
            }
            Some(_) => {
                let mut s = String::new();
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    s.push(c);
                    chars.next();
                }
                let s = s.trim().to_owned();
                if s.is_empty() {
                    return None;
                }
                out.push(s);
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') if chars.clone().any(|c| !c.is_whitespace()) => continue,
            Some(_) => return None,
        }
    }
    if out.is_empty() {
        return None;
    }
    Some(out)
}

/// The parameters of a stored query: name → one entry per `Slot`, each the parsed values.
struct Params {
    slots: BTreeMap<String, Vec<Vec<String>>>,
}

impl Params {
    fn read(query: &Element) -> Result<Self, RegistryError> {
        let mut slots: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        for slot in query.children_named(RIM_NS, "Slot") {
            let name = slot.attr("name").unwrap_or("").trim().to_owned();
            let mut values = Vec::new();
            for v in slot
                .child(RIM_NS, "ValueList")
                .into_iter()
                .flat_map(|l| l.children_named(RIM_NS, "Value"))
            {
                let items = parse_value(&v.text()).ok_or_else(|| {
                    RegistryError::at(
                        "XDSRegistryError",
                        "Valeur de paramètre mal formée.",
                        name.as_str(),
                    )
                })?;
                values.extend(items);
            }
            slots.entry(name).or_default().push(values);
        }
        Ok(Self { slots })
    }

    /// A parameter that takes one value.
    fn single(&self, name: &str) -> Result<Option<String>, RegistryError> {
        match self.slots.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([one]) if one.len() == 1 => Ok(one.first().cloned()),
            Some(_) => Err(RegistryError::at(
                PARAM_NUMBER,
                "Paramètre à valeur unique donné plusieurs fois.",
                name,
            )),
        }
    }

    /// A parameter whose values are OR-ed (one slot).
    fn list(&self, name: &str) -> Result<Option<Vec<String>>, RegistryError> {
        match self.slots.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([one]) => Ok(Some(one.clone())),
            Some(_) => Err(RegistryError::at(
                PARAM_NUMBER,
                "Paramètre donné dans plusieurs Slot alors qu'il n'accepte pas la sémantique ET.",
                name,
            )),
        }
    }

    /// A parameter with AND/OR semantics: slots AND-ed, values within a slot OR-ed.
    fn and_or(&self, name: &str) -> Option<Vec<Vec<String>>> {
        self.slots.get(name).cloned()
    }

    fn required_single(&self, name: &str) -> Result<String, RegistryError> {
        self.single(name)?
            .ok_or_else(|| RegistryError::at(MISSING_PARAM, "Paramètre obligatoire absent.", name))
    }

    fn required_list(&self, name: &str) -> Result<Vec<String>, RegistryError> {
        self.list(name)?
            .ok_or_else(|| RegistryError::at(MISSING_PARAM, "Paramètre obligatoire absent.", name))
    }

    fn time(&self, name: &str) -> Result<Option<String>, RegistryError> {
        match self.single(name)? {
            Some(t) if submission::valid_dtm(&t) => Ok(Some(t)),
            Some(_) => Err(RegistryError::at(
                "XDSRegistryError",
                "Date mal formée (AAAA[MM[JJ[hh[mm[ss]]]]] attendu).",
                name,
            )),
            None => Ok(None),
        }
    }
}

/// Whether a coded value `code^^^scheme` matches a query value (the scheme may be omitted).
fn code_matches(have: &str, want: &str) -> bool {
    let (hc, hs) = ebrim::split_coded(have);
    let (wc, ws) = ebrim::split_coded(want);
    hc == wc && (ws.is_empty() || hs == ws)
}

fn any_code(have: &[String], wanted: &[String]) -> bool {
    have.iter()
        .any(|h| wanted.iter().any(|w| code_matches(h, w)))
}

/// SQL `LIKE` (ASCII case-insensitive; `%` any run, `_` one character), as ITI-18 specifies
/// for author parameters.
pub fn like(value: &str, pattern: &str) -> bool {
    fn rec(v: &[char], p: &[char]) -> bool {
        match p.split_first() {
            None => v.is_empty(),
            Some(('%', rest)) => (0..=v.len()).any(|i| v.get(i..).is_some_and(|t| rec(t, rest))),
            Some(('_', rest)) => v.split_first().is_some_and(|(_, t)| rec(t, rest)),
            Some((c, rest)) => v
                .split_first()
                .is_some_and(|(h, t)| h.eq_ignore_ascii_case(c) && rec(t, rest)),
        }
    }
    let v: Vec<char> = value.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    if p.len() > 256 || v.len() > 4096 {
        return false;
    }
    rec(&v, &p)
}

/// `time >= from` and `time < to`, compared on the common precision.
fn in_range(time: Option<&str>, from: Option<&str>, to: Option<&str>) -> bool {
    if from.is_none() && to.is_none() {
        return true;
    }
    let Some(t) = time else { return false };
    let cut = |a: &str, b: &str| {
        let n = a.len().min(b.len());
        (
            a.get(..n).unwrap_or("").to_owned(),
            b.get(..n).unwrap_or("").to_owned(),
        )
    };
    from.is_none_or(|f| {
        let (a, b) = cut(t, f);
        a >= b
    }) && to.is_none_or(|x| {
        let (a, b) = cut(t, x);
        a < b
    })
}

/// What a query returns.
enum Found {
    Entries(Vec<EntryRow>),
    SubmissionSets(Vec<SubmissionSetRow>),
}

/// `query:AdhocQueryResponse` (ebRS 3.0 query.xsd): Failure with the errors, else Success with
/// the objects; `paging` = (startIndex, totalResultCount).
pub(crate) fn query_response(
    errors: &[RegistryError],
    paging: Option<(usize, usize)>,
    objects: &[String],
) -> String {
    let mut out = String::with_capacity(512 + objects.iter().map(String::len).sum::<usize>());
    out.push_str("<query:AdhocQueryResponse xmlns:query=\"");
    out.push_str(QUERY_NS);
    out.push_str("\" xmlns:rs=\"");
    out.push_str(ebrim::RS_NS);
    out.push_str("\" xmlns:rim=\"");
    out.push_str(RIM_NS);
    out.push_str("\" status=\"");
    out.push_str(if errors.is_empty() {
        ebrim::STATUS_SUCCESS
    } else {
        ebrim::STATUS_FAILURE
    });
    out.push('"');
    if let Some((start, total)) = paging {
        out.push_str(&format!(
            " startIndex=\"{start}\" totalResultCount=\"{total}\""
        ));
    }
    out.push('>');
    ebrim::write_error_list(&mut out, errors);
    out.push_str("<rim:RegistryObjectList>");
    for o in objects {
        out.push_str(o);
    }
    out.push_str("</rim:RegistryObjectList></query:AdhocQueryResponse>");
    out
}

/// A stored object with its current status.
fn leaf(raw: &str, status: &str) -> Option<String> {
    let mut el = parse(raw.as_bytes(), &XmlLimits::default()).ok()?;
    ebrim::set_attr(&mut el, "status", status);
    let mut out = String::with_capacity(raw.len() + 64);
    ebrim::write_fragment(&mut out, &el);
    Some(out)
}

/// ITI-18: runs FindDocuments, FindSubmissionSets or GetDocuments for the VIHF's patient.
pub(crate) fn stored_query(
    sim: &DmpSimulator,
    vihf: &Vihf,
    req: &Element,
    now: DateTime<Utc>,
) -> Result<Answer, OpError> {
    let fail = |e: Vec<RegistryError>| Ok(Answer::xml(query_response(&e, None, &[])));
    let return_type = req
        .child(QUERY_NS, "ResponseOption")
        .map(|r| r.attr("returnType").unwrap_or("RegistryObject").to_owned());
    let leaf_class = match return_type.as_deref() {
        Some("LeafClass") => true,
        Some("ObjectRef") => false,
        Some(_) => {
            return fail(vec![RegistryError::new(
                "XDSRegistryError",
                "returnType non géré (LeafClass ou ObjectRef).",
            )])
        }
        None => {
            return fail(vec![RegistryError::new(
                "XDSRegistryError",
                "ResponseOption absent.",
            )])
        }
    };
    let Some(query) = req.child(RIM_NS, "AdhocQuery") else {
        return fail(vec![RegistryError::new(
            "XDSRegistryError",
            "AdhocQuery absent.",
        )]);
    };
    let query_id = query.attr("id").unwrap_or("").trim().to_owned();
    let start = req
        .attr("startIndex")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let max = req
        .attr("maxResults")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(-1);
    if query_id != FIND_DOCUMENTS && query_id != FIND_SUBMISSION_SETS && query_id != GET_DOCUMENTS {
        let e = if OTHER_IHE_QUERIES.contains(&query_id.as_str()) {
            RegistryError::at(
                "XDSRegistryError",
                "Requête stockée non proposée par le DMP du bac à sable.",
                query_id.as_str(),
            )
        } else {
            RegistryError::at(
                "XDSUnknownStoredQuery",
                "Identifiant de requête stockée inconnu.",
                query_id.as_str(),
            )
        };
        return fail(vec![e]);
    }
    let params = match Params::read(query) {
        Ok(p) => p,
        Err(e) => return fail(vec![e]),
    };
    let refusal = sim
        .store()
        .read(|db| check_access(db, vihf, Access::Consult, now))?;
    if let Err(r) = refusal {
        return fail(r.registry_errors(Operation::StoredQuery));
    }
    let found = sim.store().read(|db| -> Result<_, OpError> {
        Ok(match query_id.as_str() {
            FIND_DOCUMENTS => find_documents(db, vihf, &params)?,
            FIND_SUBMISSION_SETS => find_submission_sets(db, vihf, &params)?,
            _ => get_documents(db, vihf, &params)?,
        })
    })?;
    let found = match found {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let mut objects = Vec::new();
    let (total, take) = {
        let total = match &found {
            Found::Entries(v) => v.len(),
            Found::SubmissionSets(v) => v.len(),
        };
        let take = if max < 0 {
            usize::MAX
        } else {
            usize::try_from(max).unwrap_or(usize::MAX)
        };
        (total, take)
    };
    match found {
        Found::Entries(v) => {
            for e in v.iter().skip(start).take(take) {
                objects.push(if leaf_class {
                    leaf(&e.raw_xml, &e.status).unwrap_or_default()
                } else {
                    object_ref(&e.entry_uuid)
                });
            }
        }
        Found::SubmissionSets(v) => {
            for s in v.iter().skip(start).take(take) {
                objects.push(if leaf_class {
                    leaf(&s.raw_xml, &s.status).unwrap_or_default()
                } else {
                    object_ref(&s.entry_uuid)
                });
            }
        }
    }
    Ok(Answer::xml(query_response(
        &[],
        Some((start, total)),
        &objects,
    )))
}

fn object_ref(id: &str) -> String {
    format!("<rim:ObjectRef id=\"{}\"/>", segur_net::xml::escape(id))
}

/// The patientId parameter must name the VIHF's patient.
fn same_patient(vihf: &Vihf, cx: &str) -> Result<(), Vec<RegistryError>> {
    if PatientId::parse(cx).as_ref() == Some(&vihf.patient) {
        Ok(())
    } else {
        Err(Refusal::PatientDifferent.registry_errors(Operation::StoredQuery))
    }
}

type QueryResult = Result<Found, Vec<RegistryError>>;

fn find_documents(db: &Db<'_>, vihf: &Vihf, p: &Params) -> Result<QueryResult, SandboxError> {
    let read = || -> Result<_, RegistryError> {
        let patient = p.required_single("$XDSDocumentEntryPatientId")?;
        let status = p.required_list("$XDSDocumentEntryStatus")?;
        let codes = [
            ("$XDSDocumentEntryClassCode", 0),
            ("$XDSDocumentEntryTypeCode", 1),
            ("$XDSDocumentEntryPracticeSettingCode", 2),
            ("$XDSDocumentEntryHealthcareFacilityTypeCode", 3),
            ("$XDSDocumentEntryFormatCode", 4),
        ]
        .into_iter()
        .map(|(n, i)| Ok((i, p.list(n)?)))
        .collect::<Result<Vec<_>, RegistryError>>()?;
        let times = [
            "$XDSDocumentEntryCreationTimeFrom",
            "$XDSDocumentEntryCreationTimeTo",
            "$XDSDocumentEntryServiceStartTimeFrom",
            "$XDSDocumentEntryServiceStartTimeTo",
            "$XDSDocumentEntryServiceStopTimeFrom",
            "$XDSDocumentEntryServiceStopTimeTo",
        ]
        .into_iter()
        .map(|n| p.time(n))
        .collect::<Result<Vec<_>, RegistryError>>()?;
        let authors = p.list("$XDSDocumentEntryAuthorPerson")?;
        let types = p.list("$XDSDocumentEntryType")?;
        Ok((patient, status, codes, times, authors, types))
    };
    let (patient, status, codes, times, authors, types) = match read() {
        Ok(v) => v,
        Err(e) => return Ok(Err(vec![e])),
    };
    if let Err(e) = same_patient(vihf, &patient) {
        return Ok(Err(e));
    }
    let conf = p.and_or("$XDSDocumentEntryConfidentialityCode");
    let events = p.and_or("$XDSDocumentEntryEventCodeList");
    if types
        .as_ref()
        .is_some_and(|t| !t.iter().any(|t| t == ebrim::DE_STABLE))
    {
        return Ok(Ok(Found::Entries(Vec::new())));
    }
    let t = |i: usize| times.get(i).cloned().flatten();
    let entries = db
        .entries_for_patient(&vihf.patient.to_cx())?
        .into_iter()
        .filter(|e| PatientId::parse(&e.patient_id).as_ref() == Some(&vihf.patient))
        .filter(|e| status.contains(&e.status))
        .filter(|e| !submission::masked_for(e, &vihf.ps_id))
        .filter(|e| {
            codes.iter().all(|(i, wanted)| {
                let have = match i {
                    0 => &e.class_code,
                    1 => &e.type_code,
                    2 => &e.practice_setting,
                    3 => &e.healthcare_facility,
                    _ => &e.format_code,
                };
                wanted.as_ref().is_none_or(|w| any_code(have, w))
            })
        })
        .filter(|e| {
            in_range(e.creation_time.as_deref(), t(0).as_deref(), t(1).as_deref())
                && in_range(e.service_start.as_deref(), t(2).as_deref(), t(3).as_deref())
                && in_range(e.service_stop.as_deref(), t(4).as_deref(), t(5).as_deref())
        })
        .filter(|e| {
            authors.as_ref().is_none_or(|pats| {
                e.author_persons
                    .iter()
                    .any(|a| pats.iter().any(|pat| like(a, pat)))
            })
        })
        .filter(|e| {
            conf.as_ref()
                .is_none_or(|groups| groups.iter().all(|g| any_code(&e.confidentiality, g)))
        })
        .filter(|e| {
            events
                .as_ref()
                .is_none_or(|groups| groups.iter().all(|g| any_code(&e.event_codes, g)))
        })
        .collect();
    Ok(Ok(Found::Entries(entries)))
}

fn find_submission_sets(db: &Db<'_>, vihf: &Vihf, p: &Params) -> Result<QueryResult, SandboxError> {
    let read = || -> Result<_, RegistryError> {
        Ok((
            p.required_single("$XDSSubmissionSetPatientId")?,
            p.required_list("$XDSSubmissionSetStatus")?,
            p.list("$XDSSubmissionSetSourceId")?,
            p.time("$XDSSubmissionSetSubmissionTimeFrom")?,
            p.time("$XDSSubmissionSetSubmissionTimeTo")?,
            p.single("$XDSSubmissionSetAuthorPerson")?,
            p.list("$XDSSubmissionSetContentType")?,
        ))
    };
    let (patient, status, sources, from, to, author, content) = match read() {
        Ok(v) => v,
        Err(e) => return Ok(Err(vec![e])),
    };
    if let Err(e) = same_patient(vihf, &patient) {
        return Ok(Err(e));
    }
    let sets = db
        .submission_sets_for_patient(&vihf.patient.to_cx())?
        .into_iter()
        .filter(|s| status.contains(&s.status))
        .filter(|s| sources.as_ref().is_none_or(|v| v.contains(&s.source_id)))
        .filter(|s| in_range(Some(&s.submission_time), from.as_deref(), to.as_deref()))
        .filter(|s| {
            author
                .as_ref()
                .is_none_or(|pat| s.author_persons.iter().any(|a| like(a, pat)))
        })
        .filter(|s| {
            content
                .as_ref()
                .is_none_or(|w| any_code(&s.content_type, w))
        })
        .collect();
    Ok(Ok(Found::SubmissionSets(sets)))
}

fn get_documents(db: &Db<'_>, vihf: &Vihf, p: &Params) -> Result<QueryResult, SandboxError> {
    let read = || -> Result<_, RegistryError> {
        Ok((
            p.list("$XDSDocumentEntryEntryUUID")?,
            p.list("$XDSDocumentEntryUniqueId")?,
        ))
    };
    let (uuids, unique_ids) = match read() {
        Ok(v) => v,
        Err(e) => return Ok(Err(vec![e])),
    };
    let mut out: Vec<EntryRow> = Vec::new();
    match (uuids, unique_ids) {
        (Some(_), Some(_)) => {
            return Ok(Err(vec![RegistryError::new(
                PARAM_NUMBER,
                "$XDSDocumentEntryEntryUUID et $XDSDocumentEntryUniqueId sont exclusifs.",
            )]))
        }
        (None, None) => {
            return Ok(Err(vec![RegistryError::new(
                MISSING_PARAM,
                "$XDSDocumentEntryEntryUUID ou $XDSDocumentEntryUniqueId attendu.",
            )]))
        }
        (Some(uuids), None) => {
            for u in uuids {
                out.extend(db.entry(&u)?);
            }
        }
        (None, Some(uids)) => {
            // The current version of each document [I: GetDocuments by uniqueId answers the
            // latest metadata version, whose entryUUID ITI-57 and RPLC need].
            for u in uids {
                out.extend(
                    db.entries_by_unique_id(&u)?
                        .into_iter()
                        .max_by_key(|e| e.version),
                );
            }
        }
    }
    out.retain(|e| {
        PatientId::parse(&e.patient_id).as_ref() == Some(&vihf.patient)
            && !submission::masked_for(e, &vihf.ps_id)
    });
    Ok(Ok(Found::Entries(out)))
}

// ---- ITI-57 ----------------------------------------------------------------------------------

const UPDATE_ERROR: &str = "XDSMetadataUpdateError";

/// Availability status changes the DMP accepts (TD3.3c delete, TD3.3d archive and back).
fn transition_allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        (ebrim::APPROVED, ebrim::DELETED)
            | (ebrim::ARCHIVED, ebrim::DELETED)
            | (ebrim::APPROVED, ebrim::ARCHIVED)
            | (ebrim::ARCHIVED, ebrim::APPROVED)
    )
}

/// ITI-57: availability status updates and new metadata versions, all or nothing.
pub(crate) fn update(
    sim: &DmpSimulator,
    vihf: &Vihf,
    sor: &Element,
    now: DateTime<Utc>,
) -> Result<Answer, OpError> {
    let refusal = sim
        .store()
        .read(|db| check_access(db, vihf, Access::Consult, now))?;
    if let Err(r) = refusal {
        return Ok(Answer::xml(registry_response(
            &r.registry_errors(Operation::UpdateDocumentSet),
        )));
    }
    let errors = sim.store().write(|db| apply_update(db, vihf, sor))?;
    Ok(Answer::xml(registry_response(&errors)))
}

fn apply_update(
    db: &Db<'_>,
    vihf: &Vihf,
    sor: &Element,
) -> Result<Vec<RegistryError>, SandboxError> {
    let mut errors = Vec::new();
    let objs = match submission::objects(sor) {
        Ok(o) => o,
        Err(e) => return Ok(vec![e]),
    };
    let Some(ss) = submission::submission_set(&objs, &mut errors) else {
        return Ok(errors);
    };
    if ss.patient != vihf.patient {
        return Ok(Refusal::PatientDifferent.registry_errors(Operation::UpdateDocumentSet));
    }
    if db.submission_set_unique_id_used(&ss.unique_id)? {
        errors.push(RegistryError::at(
            "XDSDuplicateUniqueIdInRegistry",
            "uniqueId du lot de soumission déjà enregistré.",
            ss.unique_id.as_str(),
        ));
    }
    // Status updates.
    let mut status_changes: Vec<(String, String)> = Vec::new();
    let mut previous_versions: BTreeMap<String, String> = BTreeMap::new();
    for a in &objs.associations {
        let kind = a.attr("associationType").unwrap_or("");
        let source = a.attr("sourceObject").unwrap_or("");
        let target = a.attr("targetObject").unwrap_or("");
        let id = a.attr("id").unwrap_or("");
        match kind {
            ebrim::UPDATE_AVAILABILITY => {
                if source != ss.id {
                    errors.push(RegistryError::at(
                        UPDATE_ERROR,
                        "UpdateAvailabilityStatus dont la source n'est pas le lot de soumission.",
                        id,
                    ));
                    continue;
                }
                let original = ebrim::slot_value(a, "OriginalStatus");
                let new = ebrim::slot_value(a, "NewStatus");
                let (Some(original), Some(new)) = (original, new) else {
                    errors.push(RegistryError::at(
                        UPDATE_ERROR,
                        "Slot OriginalStatus ou NewStatus absent.",
                        id,
                    ));
                    continue;
                };
                let Some(entry) = db.entry(target)? else {
                    errors.push(RegistryError::at(
                        UPDATE_ERROR,
                        "Fiche cible inconnue du registre.",
                        target,
                    ));
                    continue;
                };
                if PatientId::parse(&entry.patient_id).as_ref() != Some(&vihf.patient) {
                    errors.extend(
                        Refusal::PatientDifferent.registry_errors(Operation::UpdateDocumentSet),
                    );
                    continue;
                }
                if submission::masked_for(&entry, &vihf.ps_id) {
                    errors.push(RegistryError::at(
                        "DMP_ACCES_NON_AUTORISE",
                        "Document masqué aux professionnels de santé.",
                        target,
                    ));
                    continue;
                }
                if original != entry.status {
                    errors.push(RegistryError::at(
                        UPDATE_ERROR,
                        "OriginalStatus différent du statut actuel de la fiche.",
                        target,
                    ));
                    continue;
                }
                if !transition_allowed(&original, &new) {
                    errors.push(RegistryError::at(
                        "XDSMetadataUpdateOperationError",
                        "Changement de statut non autorisé.",
                        target,
                    ));
                    continue;
                }
                status_changes.push((entry.entry_uuid, new));
            }
            ebrim::HAS_MEMBER => {
                if source != ss.id {
                    errors.push(RegistryError::at(
                        UPDATE_ERROR,
                        "HasMember dont la source n'est pas le lot de soumission.",
                        id,
                    ));
                    continue;
                }
                if let Some(pv) = ebrim::slot_value(a, "PreviousVersion") {
                    previous_versions.insert(target.to_owned(), pv);
                }
            }
            _ => errors.push(RegistryError::at(
                UPDATE_ERROR,
                "Type d'association non géré par ITI-57 dans le DMP.",
                id,
            )),
        }
    }
    // New metadata versions.
    let mut versions = Vec::new();
    for eo in &objs.extrinsics {
        let Some(meta) = submission::entry(eo, &mut errors) else {
            continue;
        };
        let Some(pv) = previous_versions.get(&meta.id) else {
            errors.push(RegistryError::at(
                UPDATE_ERROR,
                "Nouvelle version sans HasMember portant PreviousVersion.",
                meta.id.as_str(),
            ));
            continue;
        };
        let Some(lid) = meta.lid.clone().filter(|l| *l != meta.id) else {
            errors.push(RegistryError::at(
                UPDATE_ERROR,
                "lid absent : ITI-57 ne crée pas de nouveau document.",
                meta.id.as_str(),
            ));
            continue;
        };
        let Some(latest) = db
            .entries_by_logical_id(&lid)?
            .into_iter()
            .max_by_key(|e| e.version)
        else {
            errors.push(RegistryError::at(
                UPDATE_ERROR,
                "lid inconnu du registre.",
                lid.as_str(),
            ));
            continue;
        };
        if PatientId::parse(&latest.patient_id).as_ref() != Some(&vihf.patient)
            || meta.patient != vihf.patient
        {
            errors.extend(Refusal::PatientDifferent.registry_errors(Operation::UpdateDocumentSet));
            continue;
        }
        if submission::masked_for(&latest, &vihf.ps_id) {
            errors.push(RegistryError::at(
                "DMP_ACCES_NON_AUTORISE",
                "Document masqué aux professionnels de santé.",
                lid.as_str(),
            ));
            continue;
        }
        if pv.trim() != latest.version.to_string() {
            errors.push(RegistryError::at(
                "XDSMetadataVersionError",
                "PreviousVersion n'est pas la version courante.",
                lid.as_str(),
            ));
            continue;
        }
        if latest.status != ebrim::APPROVED {
            errors.push(RegistryError::at(
                "XDSMetadataUpdateOperationError",
                "Seule une fiche Approved peut recevoir une nouvelle version.",
                lid.as_str(),
            ));
            continue;
        }
        if meta.row.unique_id != latest.unique_id
            || meta.hash.as_ref().is_some_and(|h| *h != latest.hash)
            || meta.size.is_some_and(|s| s != latest.size)
            || meta
                .repository
                .as_ref()
                .is_some_and(|r| *r != latest.repository_unique_id)
        {
            errors.push(RegistryError::at(
                UPDATE_ERROR,
                "uniqueId, hash, size ou repositoryUniqueId modifié.",
                lid.as_str(),
            ));
            continue;
        }
        versions.push((meta, latest));
    }
    if status_changes.is_empty() && versions.is_empty() && errors.is_empty() {
        errors.push(RegistryError::new(
            UPDATE_ERROR,
            "Aucune mise à jour dans la requête.",
        ));
    }
    let mut roots: Vec<&Element> = vec![&ss.element];
    roots.extend(versions.iter().map(|(m, _)| &m.element));
    roots.extend(objs.associations.iter().copied());
    let map = submission::assign_ids(db, &roots, &mut errors)?;
    if !errors.is_empty() {
        return Ok(errors);
    }

    let row = ss.row(&map);
    let ss_uuid = row.entry_uuid.clone();
    db.insert_submission_set(&row)?;
    for (meta, latest) in &versions {
        let mut row = meta.row.clone();
        row.entry_uuid = mapped(&map, &meta.id);
        row.logical_id = latest.logical_id.clone();
        row.version = latest.version + 1;
        row.hash = latest.hash.clone();
        row.size = latest.size;
        row.repository_unique_id = latest.repository_unique_id.clone();
        row.submitter = latest.submitter.clone();
        row.submission_set = ss_uuid.clone();
        row.raw_xml = submission::stored_entry_xml(&meta.element, &map, &row);
        db.set_entry_status(&latest.entry_uuid, ebrim::DEPRECATED)?;
        db.insert_entry(&row)?;
    }
    for a in &objs.associations {
        let id = a.attr("id").unwrap_or("");
        db.insert_association(&AssociationRow {
            entry_uuid: if id.is_empty() {
                ebrim::new_uuid_urn()
            } else {
                mapped(&map, id)
            },
            association_type: a.attr("associationType").unwrap_or("").to_owned(),
            source: mapped(&map, a.attr("sourceObject").unwrap_or("")),
            target: mapped(&map, a.attr("targetObject").unwrap_or("")),
            raw_xml: submission::stored_object_xml(a, &map),
        })?;
    }
    for (uuid, status) in status_changes {
        db.set_entry_status(&uuid, &status)?;
    }
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_value("'a'"), Some(vec!["a".into()]));
        assert_eq!(
            parse_value("('a', 'b''c')"),
            Some(vec!["a".into(), "b'c".into()])
        );
        assert_eq!(
            parse_value("20221016161616"),
            Some(vec!["20221016161616".into()])
        );
        assert_eq!(parse_value("('x',3)"), Some(vec!["x".into(), "3".into()]));
        assert_eq!(parse_value("('a'"), None);
        assert_eq!(parse_value("'a' 'b'"), None);
        assert_eq!(parse_value("()"), None);
        assert_eq!(parse_value("('a',)"), None);
        assert_eq!(parse_value("('a', )"), None);
    }

    #[test]
    fn matching() {
        assert!(code_matches("SYNTH^^^1.2", "SYNTH^^^1.2"));
        assert!(code_matches("SYNTH^^^1.2", "SYNTH"));
        assert!(!code_matches("SYNTH^^^1.2", "SYNTH^^^1.3"));
        assert!(like("801234567897^MEDIONI^Stéphane", "%MEDIONI%"));
        assert!(like("abc", "a_c") && !like("abc", "a_") && like("ABC", "abc"));
        assert!(in_range(Some("20200312101700"), Some("2020"), Some("2021")));
        assert!(!in_range(Some("20200312101700"), Some("20200313"), None));
        assert!(!in_range(Some("20200312101700"), None, Some("20200312")));
        assert!(!in_range(None, Some("2020"), None));
        assert!(in_range(None, None, None));
        assert!(transition_allowed(ebrim::APPROVED, ebrim::DELETED));
        assert!(!transition_allowed(ebrim::DELETED, ebrim::APPROVED));
    }
}
