//! TD0.2 (does the patient have a DMP, may we feed it) and TD0.3 (authorizations) calls.

use chrono::Utc;
use segur_ins_core::QualifiedIdentity;
use uuid::Uuid;

use super::{Acting, Call, DmpClient};
use crate::envelope::{self, Service};
use crate::error::Result;
use crate::habilitations::{
    self, AuthorizationAction, AuthorizationEntry, SetAuthorizationOutcome,
};
use crate::patients::{self, DmpStatus, Td02Request};

impl DmpClient {
    /// TD0.2: does the patient have a DMP, is it closed, what is our access status; the DMP's
    /// traits are compared with ours (a mismatch is reported in the status, DMP/CONF.01).
    pub async fn status<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
    ) -> Result<DmpStatus> {
        let query_id = Uuid::new_v4();
        let body = patients::write_request(&Td02Request {
            patient,
            sender_oid: &self.inner.id.sender_oid,
            sender_name: &self.inner.id.lps.nom,
            message_id: Uuid::new_v4(),
            query_id,
            created: Utc::now(),
        });
        let q = query_id.to_string();
        self.call(
            who.into(),
            Call::soap(
                "TD0.2",
                Service::Patients,
                envelope::ACTION_TD02,
                body,
                patient,
            ),
            |r| patients::read_response(&r.reply.payload, Some(&q), patient),
        )
        .await
    }

    /// TD0.3 `setAuthorization`: AJOUT (with the patient's consent, which the caller records) or
    /// SUPPRESSION.
    pub async fn set_authorization<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
        action: AuthorizationAction,
    ) -> Result<SetAuthorizationOutcome> {
        let body = habilitations::write_set_authorization(&action);
        self.call(
            who.into(),
            Call::soap(
                "TD0.3 setAuthorization",
                Service::Habilitations,
                envelope::ACTION_SET_AUTHORIZATION,
                body,
                patient,
            ),
            |r| habilitations::read_set_authorization(&r.reply.payload),
        )
        .await
    }

    /// `listAuthorizationByPatient`: who is authorised on the patient's DMP.
    pub async fn list_authorizations<'a>(
        &self,
        who: impl Into<Acting<'a>>,
        patient: &QualifiedIdentity,
    ) -> Result<Vec<AuthorizationEntry>> {
        let body = habilitations::write_list_authorizations();
        self.call(
            who.into(),
            Call::soap(
                "listAuthorizationByPatient",
                Service::Habilitations,
                envelope::ACTION_LIST_AUTHORIZATIONS,
                body,
                patient,
            ),
            |r| habilitations::read_list_authorizations(&r.reply.payload),
        )
        .await
    }
}
