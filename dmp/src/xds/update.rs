//! ITI-57 Update Document Set (`lcm:SubmitObjectsRequest` on `/registry`, action
//! `urn:ihe:iti:2010:UpdateDocumentSet`; IHE XDS Metadata Update, `dmp.md` §5.4):
//!
//! - status changes (TD3.3c deletion, TD3.3d archiving): a submission set and an
//!   `UpdateAvailabilityStatus` association from it to the entry, slots `OriginalStatus` and
//!   `NewStatus`. \[I\] As the DMP implementations seen (DRIMbox, a French LPS), no `HasMember`
//!   to that association is sent.
//! - confidentiality changes (TD3.3a masking to professionals, TD3.3b visibility to the patient
//!   or legal representatives): a new version of the DocumentEntry metadata — same `lid`, a new
//!   entry id, every other metadata unchanged — and a `HasMember` from the submission set with
//!   slots `SubmissionSetStatus=Original` and `PreviousVersion`.

use segur_net::xml::Element;

use super::confidentiality::DmpConfidentiality;
use super::ebrim::{attr, RimWriter};
use super::entry::{AvailabilityStatus, DocumentEntry, EntryContext, SubmissionSet};
use super::ids::*;
use super::submit::Submission;
use crate::error::{DmpError, Result};

/// An availability status change (`dmp.md` §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusChange {
    /// TD3.3c: Approved → `urn:asip:ci-sis:2010:StatusType:Deleted`.
    Delete,
    /// TD3.3d: Approved → `urn:asip:ci-sis:2010:StatusType:Archived`.
    Archive,
    /// \[I\] Archived → Approved (undoing TD3.3d).
    Unarchive,
}

impl StatusChange {
    /// `OriginalStatus`.
    pub fn original(self) -> AvailabilityStatus {
        match self {
            Self::Delete | Self::Archive => AvailabilityStatus::Approved,
            Self::Unarchive => AvailabilityStatus::Archived,
        }
    }

    /// `NewStatus`.
    pub fn new_status(self) -> AvailabilityStatus {
        match self {
            Self::Delete => AvailabilityStatus::Deleted,
            Self::Archive => AvailabilityStatus::Archived,
            Self::Unarchive => AvailabilityStatus::Approved,
        }
    }
}

/// What an ITI-57 request changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOperation {
    /// Change the availability status of the entry `entry_uuid`.
    Status {
        /// The entryUUID of the current version (from ITI-18).
        entry_uuid: String,
        /// The change.
        change: StatusChange,
    },
    /// A new metadata version with other DMP confidentiality codes.
    Confidentiality {
        /// The new version, as written (symbolic id, `lid` of the previous one).
        entry: Box<DocumentEntry>,
        /// The version it replaces (`PreviousVersion`).
        previous_version: String,
    },
}

/// An ITI-57 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateDocumentSet {
    /// The submission set of the update.
    pub submission_set: SubmissionSet,
    /// The change.
    pub operation: UpdateOperation,
}

impl UpdateDocumentSet {
    /// A status change of the entry `entry_uuid`.
    pub fn status(submission_set: SubmissionSet, entry_uuid: &str, change: StatusChange) -> Self {
        Self {
            submission_set,
            operation: UpdateOperation::Status {
                entry_uuid: entry_uuid.to_owned(),
                change,
            },
        }
    }

    /// A new version of `current` (a DocumentEntry read by ITI-18) whose DMP codes express
    /// `confidentiality`; N/R/V and every other metadata are kept. Refuses an entry that is not
    /// the current version, or of another patient than the submission set's. \[I\] When the
    /// registry did not return `VersionInfo`, the previous version is taken as `1`.
    pub fn confidentiality(
        submission_set: SubmissionSet,
        current: &DocumentEntry,
        confidentiality: DmpConfidentiality,
    ) -> Result<Self> {
        if current
            .status
            .as_ref()
            .is_some_and(|s| *s != AvailabilityStatus::Approved)
        {
            return Err(DmpError::Invalid {
                field: "DocumentEntry status",
                detail: "only the current (Approved) version can be updated".into(),
            });
        }
        if current.patient_id != submission_set.patient_id {
            return Err(DmpError::Invalid {
                field: "patientId",
                detail: "the entry and the submission set differ".into(),
            });
        }
        let mut entry = current.clone();
        entry.logical_id = Some(
            current
                .logical_id
                .clone()
                .unwrap_or_else(|| current.entry_uuid.clone()),
        );
        entry.entry_uuid = "Document01".into();
        entry.status = None;
        entry.version = None;
        entry.home_community_id = None;
        entry.confidentiality_codes = confidentiality.apply(&current.confidentiality_codes);
        Ok(Self {
            submission_set,
            operation: UpdateOperation::Confidentiality {
                entry: Box::new(entry),
                previous_version: current.version.clone().unwrap_or_else(|| "1".into()),
            },
        })
    }

    /// The `lcm:SubmitObjectsRequest` body.
    pub fn to_xml(&self) -> Result<String> {
        let mut w = RimWriter::with_capacity(8192);
        w.out.push_str("<lcm:SubmitObjectsRequest");
        attr(&mut w.out, "xmlns:lcm", LCM_NS);
        attr(&mut w.out, "xmlns:rim", RIM_NS);
        w.out.push_str("><rim:RegistryObjectList>");
        self.submission_set.write(&mut w, EntryContext::Submit)?;
        let ss = self.submission_set.entry_uuid.as_str();
        match &self.operation {
            UpdateOperation::Status { entry_uuid, change } => {
                super::ebrim::check_len("entryUUID", entry_uuid, super::MAX_LONG_NAME)?;
                if entry_uuid.trim().is_empty() {
                    return Err(DmpError::Invalid {
                        field: "entryUUID",
                        detail: "empty".into(),
                    });
                }
                w.association(
                    "Association01",
                    ASSOC_UPDATE_AVAILABILITY_STATUS,
                    ss,
                    entry_uuid,
                    &[
                        ("OriginalStatus", change.original().as_str()),
                        ("NewStatus", change.new_status().as_str()),
                    ],
                )?;
            }
            UpdateOperation::Confidentiality {
                entry,
                previous_version,
            } => {
                entry.write(&mut w, EntryContext::Update)?;
                w.association(
                    "Association01",
                    ASSOC_HAS_MEMBER,
                    ss,
                    &entry.entry_uuid,
                    &[
                        ("SubmissionSetStatus", "Original"),
                        ("PreviousVersion", previous_version),
                    ],
                )?;
            }
        }
        w.out
            .push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
        Ok(w.out)
    }

    /// Reads an ITI-57 request back (the registry side) into its typed operation.
    pub fn read(el: &Element) -> Result<Self> {
        let s = Submission::read(el, None)?;
        let submission_set = s
            .objects
            .submission_sets
            .into_iter()
            .next()
            .ok_or_else(|| DmpError::Malformed("ITI-57 without submission set".into()))?;
        let assoc = s
            .objects
            .associations
            .iter()
            .find(|a| a.source == submission_set.entry_uuid)
            .ok_or_else(|| DmpError::Malformed("ITI-57 without association".into()))?;
        let operation = match assoc.kind {
            super::AssociationType::UpdateAvailabilityStatus => {
                let from = assoc.slot("OriginalStatus").map(AvailabilityStatus::parse);
                let to = assoc.slot("NewStatus").map(AvailabilityStatus::parse);
                let change = [
                    StatusChange::Delete,
                    StatusChange::Archive,
                    StatusChange::Unarchive,
                ]
                .into_iter()
                .find(|c| Some(c.original()) == from && Some(c.new_status()) == to)
                .ok_or(DmpError::Invalid {
                    field: "UpdateAvailabilityStatus",
                    detail: "status change not allowed by the DMP".into(),
                })?;
                UpdateOperation::Status {
                    entry_uuid: assoc.target.clone(),
                    change,
                }
            }
            super::AssociationType::HasMember => {
                let entry = s
                    .objects
                    .documents
                    .into_iter()
                    .find(|d| d.entry_uuid == assoc.target)
                    .ok_or_else(|| DmpError::Malformed("HasMember to no DocumentEntry".into()))?;
                let previous_version = assoc
                    .slot("PreviousVersion")
                    .ok_or_else(|| DmpError::Malformed("HasMember without PreviousVersion".into()))?
                    .to_owned();
                UpdateOperation::Confidentiality {
                    entry: Box::new(entry),
                    previous_version,
                }
            }
            _ => {
                return Err(DmpError::Invalid {
                    field: "Association",
                    detail: "not an ITI-57 operation".into(),
                })
            }
        };
        Ok(Self {
            submission_set,
            operation,
        })
    }
}
