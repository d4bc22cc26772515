//! ITI-57 updates of a document's current version: masking, visibility, deletion, archiving.

use segur_ins_core::QualifiedIdentity;

use super::{default_content_type, registry_outcome, Acting, Call, DmpClient};
use crate::envelope::{self, Service};
use crate::error::{DmpError, Result};
use crate::xds::{
    self, DmpConfidentiality, Masking, RegistryResponse, StatusChange, UpdateDocumentSet,
    Visibility,
};

impl DmpClient {
    /// TD3.3a: masks the document to professionals (`MASQUE_PS`).
    pub async fn mask<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.masking = Masking::MaskedToProfessionals
        })
        .await
    }

    /// TD3.3a: unmasks the document.
    pub async fn unmask<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.masking = Masking::NotMasked
        })
        .await
    }

    /// TD3.3b: visibility to the patient only (`INVISIBLE_PATIENT` set or cleared); the other
    /// confidentiality codes in force in the registry (`MASQUE_PS`,
    /// `INVISIBLE_REPRESENTANTS_LEGAUX`) are kept.
    pub async fn set_patient_visibility<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        visible: bool,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.visibility.patient = visible
        })
        .await
    }

    /// TD3.3b: visibility to the patient and legal representatives (both set as given).
    pub async fn set_visibility<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        visibility: Visibility,
    ) -> Result<xds::Outcome> {
        self.change_confidentiality(who.into(), patient, unique_id, |c| {
            c.visibility = visibility
        })
        .await
    }

    /// TD3.3c: deletes the document (status `urn:asip:ci-sis:2010:StatusType:Deleted`).
    pub async fn delete<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_status(who.into(), patient, unique_id, StatusChange::Delete)
            .await
    }

    /// TD3.3d: archives the document (status `urn:asip:ci-sis:2010:StatusType:Archived`).
    pub async fn archive<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        unique_id: &str,
    ) -> Result<xds::Outcome> {
        self.change_status(who.into(), patient, unique_id, StatusChange::Archive)
            .await
    }

    async fn change_confidentiality(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        change: impl FnOnce(&mut DmpConfidentiality),
    ) -> Result<xds::Outcome> {
        let current = self.current_entry(who, patient, unique_id).await?;
        let mut conf = current.dmp_confidentiality();
        change(&mut conf);
        let ss = self.submission_set(who.user, &current.patient_id, default_content_type());
        let update = UpdateDocumentSet::confidentiality(ss, &current, conf)?;
        self.update(who, patient, update).await
    }

    async fn change_status(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        unique_id: &str,
        change: StatusChange,
    ) -> Result<xds::Outcome> {
        let entries = self
            .get_documents(who, patient, &[unique_id.to_owned()])
            .await?;
        let original = change.original();
        let current = entries
            .into_iter()
            .filter(|e| e.unique_id == unique_id)
            .find(|e| e.status.as_ref().is_none_or(|s| *s == original))
            .ok_or_else(|| DmpError::DocumentNotFound {
                unique_id: unique_id.to_owned(),
            })?;
        let ss = self.submission_set(who.user, &current.patient_id, default_content_type());
        let update = UpdateDocumentSet::status(ss, &current.entry_uuid, change);
        self.update(who, patient, update).await
    }

    async fn update(
        &self,
        who: Acting<'_>,
        patient: &QualifiedIdentity,
        update: UpdateDocumentSet,
    ) -> Result<xds::Outcome> {
        let body = update.to_xml()?;
        self.call(
            who,
            Call::soap(
                "ITI-57",
                Service::Registry,
                envelope::ACTION_ITI57,
                body,
                patient,
            ),
            |r| registry_outcome(&RegistryResponse::read(&r.reply.payload)?),
        )
        .await
    }
}
