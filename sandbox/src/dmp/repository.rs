//! `/repository`: ITI-41 Provide and Register Document Set-b (TD2.1/2.2, MTOM/XOP or inline
//! base64) and ITI-43 Retrieve Document Set (TD3.2, MTOM response), IHE ITI TF-2b 3.41 / 3.43.
//!
//! Feeding needs no TD0.3 authorization (`dmp.md` §9) but an open DMP whose patient did not
//! oppose; retrieving needs an authorization and a document visible to the professional.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use segur_dmp::mtom::{Attachment, Multipart};
use segur_net::xml::{escape, Element};
use sha1::{Digest, Sha1};

use super::ebrim::{self, PatientId, RegistryError, XDSB_NS};
use super::store::{AssociationRow, Db, EntryRow};
use super::submission::{self, mapped};
use super::vihf::Vihf;
use super::{
    check_access, registry_response, Access, Answer, DmpSimulator, OpError, Operation,
    REPOSITORY_UNIQUE_ID,
};
use crate::SandboxError;

const META_ERROR: &str = "XDSRegistryMetadataError";

/// SHA-1 of the bytes, lowercase hex (ITI TF-3 4.2.3.2.10).
pub fn sha1_hex(bytes: &[u8]) -> String {
    let digest = Sha1::digest(bytes);
    let mut out = String::with_capacity(40);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Who submits, for [`register`].
pub(crate) struct Submitter<'a> {
    /// The patient of the VIHF (`resource-id`).
    pub patient: &'a PatientId,
    /// The professional (VIHF `NameID`).
    pub ps_id: &'a str,
}

/// Registers a submission (ITI-41 expected actions, ITI TF-2b 3.41.4.1.3 and ITI TF-3 4.2):
/// checks the metadata, the documents (present, hash and size when given), the uniqueIds, the
/// patient, the associations (HasMember, RPLC, signs), then stores everything. Returns the
/// registry errors (nothing is stored when there is one).
pub(crate) fn register(
    db: &Db<'_>,
    sor: &Element,
    documents: &BTreeMap<String, Bytes>,
    who: &Submitter<'_>,
) -> Result<Vec<RegistryError>, SandboxError> {
    let mut errors = Vec::new();
    let objs = match submission::objects(sor) {
        Ok(o) => o,
        Err(e) => return Ok(vec![e]),
    };
    let ss = submission::submission_set(&objs, &mut errors);
    let mut entries = Vec::new();
    for eo in &objs.extrinsics {
        if let Some(e) = submission::entry(eo, &mut errors) {
            entries.push(e);
        }
    }
    let Some(ss) = ss else {
        return Ok(errors);
    };
    if !errors.is_empty() {
        return Ok(errors);
    }
    if entries.is_empty() {
        return Ok(vec![RegistryError::new(
            META_ERROR,
            "Aucune fiche document (ExtrinsicObject) dans la soumission.",
        )]);
    }
    // The patient: the VIHF's, the submission set's and every entry's must agree.
    if &ss.patient != who.patient || entries.iter().any(|e| &e.patient != who.patient) {
        errors.extend(
            super::Refusal::PatientDifferent.registry_errors(Operation::ProvideAndRegister),
        );
        return Ok(errors);
    }
    if db.submission_set_unique_id_used(&ss.unique_id)? {
        errors.push(RegistryError::at(
            "XDSDuplicateUniqueIdInRegistry",
            "uniqueId du lot de soumission déjà enregistré.",
            ss.unique_id.as_str(),
        ));
    }
    // Documents: one part per entry, hash and size checked when the source gave them.
    let entry_ids: BTreeSet<String> = entries.iter().map(|e| e.id.clone()).collect();
    for id in documents.keys() {
        if !entry_ids.contains(id) {
            errors.push(RegistryError::at(
                "XDSMissingDocumentMetadata",
                "Document sans fiche (ExtrinsicObject) correspondante.",
                id.as_str(),
            ));
        }
    }
    let mut unique_ids = BTreeSet::new();
    for e in entries.iter_mut() {
        let Some(bytes) = documents.get(&e.id) else {
            errors.push(RegistryError::at(
                "XDSMissingDocument",
                "Fiche document sans document joint.",
                e.id.as_str(),
            ));
            continue;
        };
        let hash = sha1_hex(bytes);
        let size = bytes.len() as u64;
        if e.hash.as_ref().is_some_and(|h| *h != hash) {
            errors.push(RegistryError::at(
                "XDSRepositoryMetadataError",
                "hash (SHA-1) différent de celui du document reçu.",
                e.row.unique_id.as_str(),
            ));
        }
        if e.size.is_some_and(|s| s != size) {
            errors.push(RegistryError::at(
                "XDSRepositoryMetadataError",
                "size différent de la taille du document reçu.",
                e.row.unique_id.as_str(),
            ));
        }
        if e.repository
            .as_deref()
            .is_some_and(|r| r != REPOSITORY_UNIQUE_ID)
        {
            errors.push(RegistryError::at(
                "XDSRepositoryMetadataError",
                "repositoryUniqueId différent de celui de l'entrepôt.",
                e.row.unique_id.as_str(),
            ));
        }
        if !unique_ids.insert(e.row.unique_id.clone()) {
            errors.push(RegistryError::at(
                "XDSRegistryDuplicateUniqueIdInMessage",
                "uniqueId présent deux fois dans la soumission.",
                e.row.unique_id.as_str(),
            ));
        }
        if let Some(existing) = db.entries_by_unique_id(&e.row.unique_id)?.first() {
            // ITI TF-3 4.2.4.1: a uniqueId already registered with other content.
            let (code, why) = if existing.size != size {
                (
                    "XDSNonIdenticalSize",
                    "uniqueId déjà enregistré avec une autre taille.",
                )
            } else if existing.hash != hash {
                (
                    "XDSNonIdenticalHash",
                    "uniqueId déjà enregistré avec un autre contenu (hash).",
                )
            } else {
                (
                    "XDSDuplicateUniqueIdInRegistry",
                    "uniqueId déjà enregistré.",
                )
            };
            errors.push(RegistryError::at(code, why, e.row.unique_id.as_str()));
        }
        e.row.hash = hash;
        e.row.size = size;
        e.row.repository_unique_id = REPOSITORY_UNIQUE_ID.to_owned();
        e.row.submitter = who.ps_id.to_owned();
        if e.lid.as_deref().is_some_and(|l| l != e.id) {
            errors.push(RegistryError::at(
                META_ERROR,
                "lid différent de l'id d'une nouvelle fiche (utiliser ITI-57 pour une nouvelle version).",
                e.id.as_str(),
            ));
        }
    }
    // Associations.
    let mut members = BTreeSet::new();
    let mut deprecate = Vec::new();
    for a in &objs.associations {
        let kind = a.attr("associationType").unwrap_or("");
        let source = a.attr("sourceObject").unwrap_or("");
        let target = a.attr("targetObject").unwrap_or("");
        let id = a.attr("id").unwrap_or("");
        if kind.is_empty() || source.is_empty() || target.is_empty() {
            errors.push(RegistryError::at(
                META_ERROR,
                "Association sans associationType, sourceObject ou targetObject.",
                id,
            ));
            continue;
        }
        match kind {
            ebrim::HAS_MEMBER => {
                if source != ss.id {
                    errors.push(RegistryError::at(
                        META_ERROR,
                        "HasMember dont la source n'est pas le lot de soumission.",
                        id,
                    ));
                } else if entry_ids.contains(target) {
                    members.insert(target.to_owned());
                } else {
                    errors.push(RegistryError::at(
                        META_ERROR,
                        "HasMember vers un objet absent de la soumission.",
                        id,
                    ));
                }
            }
            ebrim::RPLC => {
                if !entry_ids.contains(source) {
                    errors.push(RegistryError::at(
                        META_ERROR,
                        "RPLC dont la source n'est pas une fiche de la soumission.",
                        id,
                    ));
                    continue;
                }
                match db.entry(target)? {
                    None => errors.push(RegistryError::at(
                        META_ERROR,
                        "RPLC vers une fiche inconnue du registre.",
                        target,
                    )),
                    Some(t) if PatientId::parse(&t.patient_id).as_ref() != Some(who.patient) => {
                        errors.push(RegistryError::at(
                            "XDSPatientIdDoesNotMatch",
                            "RPLC vers une fiche d'un autre patient.",
                            target,
                        ))
                    }
                    Some(t) if t.status != ebrim::APPROVED => errors.push(RegistryError::at(
                        "XDSRegistryDeprecatedDocumentError",
                        "RPLC vers une fiche qui n'est pas à l'état Approved.",
                        target,
                    )),
                    Some(t) => deprecate.push(t.entry_uuid),
                }
            }
            ebrim::SIGNS => {
                if !entry_ids.contains(source) || (target != ss.id && !entry_ids.contains(target)) {
                    errors.push(RegistryError::at(
                        META_ERROR,
                        "signs : la source doit être une fiche de la soumission et la cible le lot ou une fiche.",
                        id,
                    ));
                }
            }
            _ => errors.push(RegistryError::at(
                META_ERROR,
                "Type d'association non géré par le DMP.",
                id,
            )),
        }
    }
    for e in &entries {
        if !members.contains(&e.id) {
            errors.push(RegistryError::at(
                META_ERROR,
                "Fiche non rattachée au lot de soumission (HasMember absent).",
                e.id.as_str(),
            ));
        }
    }
    let mut roots: Vec<&Element> = Vec::new();
    roots.push(&ss.element);
    roots.extend(entries.iter().map(|e| &e.element));
    roots.extend(objs.associations.iter().copied());
    let map = submission::assign_ids(db, &roots, &mut errors)?;
    if !errors.is_empty() {
        return Ok(errors);
    }

    // Store.
    let row = ss.row(&map);
    let ss_uuid = row.entry_uuid.clone();
    db.insert_submission_set(&row)?;
    for e in &entries {
        let mut row: EntryRow = e.row.clone();
        row.entry_uuid = mapped(&map, &e.id);
        row.logical_id = row.entry_uuid.clone();
        row.submission_set = ss_uuid.clone();
        row.raw_xml = submission::stored_entry_xml(&e.element, &map, &row);
        db.insert_entry(&row)?;
        if let Some(bytes) = documents.get(&e.id) {
            db.insert_document(&row.unique_id, &row.mime_type, &row.hash, bytes)?;
        }
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
    for target in deprecate {
        db.set_entry_status(&target, ebrim::DEPRECATED)?;
    }
    Ok(Vec::new())
}

/// ITI-41: reads the documents (XOP parts or inline base64), checks the DMP, registers.
pub(crate) fn provide_and_register(
    sim: &DmpSimulator,
    vihf: &Vihf,
    req: &Element,
    message: &Multipart,
    now: DateTime<Utc>,
) -> Result<Answer, OpError> {
    let refusal = sim
        .store()
        .read(|db| check_access(db, vihf, Access::Feed, now))?;
    if let Err(r) = refusal {
        return Ok(Answer::xml(registry_response(
            &r.registry_errors(Operation::ProvideAndRegister),
        )));
    }
    let Some(sor) = req.child(ebrim::LCM_NS, "SubmitObjectsRequest") else {
        return Ok(Answer::xml(registry_response(&[RegistryError::new(
            META_ERROR,
            "SubmitObjectsRequest absent.",
        )])));
    };
    let mut documents = BTreeMap::new();
    let mut errors = Vec::new();
    for d in req.children_named(XDSB_NS, "Document") {
        let Some(id) = d.attr("id").filter(|i| !i.is_empty()) else {
            errors.push(RegistryError::new(
                "XDSRepositoryMetadataError",
                "xdsb:Document sans attribut id.",
            ));
            continue;
        };
        let bytes = match d.child(ebrim::XOP_NS, "Include") {
            Some(inc) => match message.resolve(inc.attr("href").unwrap_or("")) {
                Ok(part) => part.body.clone(),
                Err(_) => {
                    errors.push(RegistryError::at(
                        "XDSMissingDocument",
                        "Partie MIME référencée par xop:Include absente.",
                        id,
                    ));
                    continue;
                }
            },
            None => {
                let text: String = d.text().chars().filter(|c| !c.is_whitespace()).collect();
                match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
                    Ok(b) => Bytes::from(b),
                    Err(_) => {
                        errors.push(RegistryError::at(
                            "XDSRepositoryError",
                            "Contenu base64 du document invalide.",
                            id,
                        ));
                        continue;
                    }
                }
            }
        };
        if documents.insert(id.to_owned(), bytes).is_some() {
            errors.push(RegistryError::at(
                "XDSRepositoryDuplicateUniqueIdInMessage",
                "Deux documents portent le même id.",
                id,
            ));
        }
    }
    if !errors.is_empty() {
        return Ok(Answer::xml(registry_response(&errors)));
    }
    let who = Submitter {
        patient: &vihf.patient,
        ps_id: &vihf.ps_id,
    };
    // Validation errors are returned before anything is written: the transaction then commits
    // nothing; a store failure rolls back.
    let errors = sim
        .store()
        .write(|db| register(db, sor, &documents, &who))?;
    Ok(Answer::xml(registry_response(&errors)))
}

/// One document found for ITI-43.
pub(crate) struct Found {
    unique_id: String,
    mime_type: String,
    content_id: String,
}

/// `xdsb:RetrieveDocumentSetResponse` (IHEXDSB.xsd): the registry response then one
/// `DocumentResponse` per document, each `Document` an `xop:Include` of its part.
pub(crate) fn retrieve_response(status: &str, errors: &[RegistryError], found: &[Found]) -> String {
    let mut out = String::with_capacity(512 + found.len() * 400);
    out.push_str("<xdsb:RetrieveDocumentSetResponse xmlns:xdsb=\"");
    out.push_str(XDSB_NS);
    out.push_str("\" xmlns:rs=\"");
    out.push_str(ebrim::RS_NS);
    out.push_str("\" xmlns:xop=\"");
    out.push_str(ebrim::XOP_NS);
    out.push_str("\"><rs:RegistryResponse status=\"");
    out.push_str(status);
    out.push_str("\">");
    ebrim::write_error_list(&mut out, errors);
    out.push_str("</rs:RegistryResponse>");
    for f in found {
        out.push_str("<xdsb:DocumentResponse><xdsb:RepositoryUniqueId>");
        out.push_str(REPOSITORY_UNIQUE_ID);
        out.push_str("</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>");
        out.push_str(&escape(&f.unique_id));
        out.push_str("</xdsb:DocumentUniqueId><xdsb:mimeType>");
        out.push_str(&escape(&f.mime_type));
        out.push_str("</xdsb:mimeType><xdsb:Document><xop:Include href=\"");
        out.push_str(&escape(&segur_dmp::mtom::href_for_cid(&f.content_id)));
        out.push_str("\"/></xdsb:Document></xdsb:DocumentResponse>");
    }
    out.push_str("</xdsb:RetrieveDocumentSetResponse>");
    out
}

/// ITI-43: each requested document of this patient's DMP, visible to the professional.
pub(crate) fn retrieve(
    sim: &DmpSimulator,
    vihf: &Vihf,
    req: &Element,
    now: DateTime<Utc>,
) -> Result<Answer, OpError> {
    let requests: Vec<(String, String)> = req
        .children_named(XDSB_NS, "DocumentRequest")
        .map(|r| {
            (
                r.child_text(XDSB_NS, "RepositoryUniqueId")
                    .unwrap_or_default(),
                r.child_text(XDSB_NS, "DocumentUniqueId")
                    .unwrap_or_default(),
            )
        })
        .collect();
    let refusal = sim
        .store()
        .read(|db| check_access(db, vihf, Access::Consult, now))?;
    if let Err(r) = refusal {
        return Ok(super::xds_refusal(
            Operation::Retrieve,
            &r.registry_errors(Operation::Retrieve),
        ));
    }
    if requests.is_empty() {
        return Ok(super::xds_refusal(
            Operation::Retrieve,
            &[RegistryError::new(
                "XDSRepositoryError",
                "Aucun DocumentRequest dans la requête.",
            )],
        ));
    }
    let mut errors = Vec::new();
    let mut found = Vec::new();
    let mut attachments = Vec::new();
    for (repo, uid) in requests {
        if repo.is_empty() || uid.is_empty() {
            errors.push(RegistryError::new(
                "XDSRepositoryError",
                "DocumentRequest sans RepositoryUniqueId ou DocumentUniqueId.",
            ));
            continue;
        }
        if repo != REPOSITORY_UNIQUE_ID {
            errors.push(RegistryError::at(
                "XDSUnknownRepositoryId",
                "RepositoryUniqueId inconnu.",
                repo,
            ));
            continue;
        }
        let doc = sim.store().read(|db| -> Result<_, SandboxError> {
            let latest = db
                .entries_by_unique_id(&uid)?
                .into_iter()
                .filter(|e| PatientId::parse(&e.patient_id).as_ref() == Some(&vihf.patient))
                .max_by_key(|e| e.version);
            let Some(entry) = latest else {
                return Ok(Err(("XDSMissingDocument", "Document inconnu dans ce DMP.")));
            };
            if entry.status == ebrim::DELETED {
                return Ok(Err(("XDSMissingDocument", "Document supprimé du DMP.")));
            }
            if submission::masked_for(&entry, &vihf.ps_id) {
                return Ok(Err((
                    "DMP_ACCES_NON_AUTORISE",
                    "Document masqué aux professionnels de santé.",
                )));
            }
            Ok(db
                .document(&uid)?
                .ok_or(("XDSMissingDocument", "Document absent de l'entrepôt.")))
        })?;
        match doc {
            Ok((mime_type, bytes)) => {
                let content_id = format!(
                    "doc{}.{}@dmp.sandbox",
                    found.len() + 1,
                    uuid::Uuid::new_v4().simple()
                );
                attachments.push(Attachment {
                    content_id: content_id.clone(),
                    content_type: mime_type.clone(),
                    body: Bytes::from(bytes),
                });
                found.push(Found {
                    unique_id: uid,
                    mime_type,
                    content_id,
                });
            }
            Err((code, why)) => errors.push(RegistryError::at(code, why, uid)),
        }
    }
    let status = match (found.is_empty(), errors.is_empty()) {
        (false, true) => ebrim::STATUS_SUCCESS,
        (false, false) => ebrim::STATUS_PARTIAL,
        _ => ebrim::STATUS_FAILURE,
    };
    Ok(Answer {
        body: retrieve_response(status, &errors, &found),
        attachments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_of_known_input() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }
}
