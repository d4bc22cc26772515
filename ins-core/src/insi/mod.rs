//! The INSi téléservice (CNAM WSDL `DESIR_ICIR_EXP_1.5.0`): the two search operations, their
//! SOAP headers, the `RESULTAT` reply and the `siram` faults, a client over mutual TLS, a replay
//! mode for the CNDA "injection" tests, and the first-names strategy of CNDA 2.07.

mod client;
mod context;
mod request;
mod response;
pub mod settings;
mod strategy;

pub use client::{InsiClient, InsiClientBuilder, Transport};
pub use context::{AuthMode, LpsContext};
pub use request::{write_request, Operation, RequestIds};
pub use response::{parse_reply, parse_resultat, CodeCr, InsiIdentity, InsiReply};
pub use settings::{Environment, InsiSettings, LpsSettings, Settings};
pub use strategy::{Attempt, StrategyOutcome};

use crate::matricule::Matricule;
use crate::traits::{Cog, Sexe, TraitsStricts};

/// Namespace of `RECSANSVITALE`.
pub const NS_RECSANS: &str = "http://www.cnamts.fr/INSiRecSans";
/// Namespace of `RECVITALE`.
pub const NS_RECVIT: &str = "http://www.cnamts.fr/INSiRecVit";
/// Namespace of `RESULTAT`.
pub const NS_RESULTAT: &str = "http://www.cnamts.fr/INSiResultat";
/// Namespace of `ContexteBAM`.
pub const NS_CTXBAM: &str = "urn:siram:bam:ctxbam";
/// Namespace of `ContexteLPS`.
pub const NS_CTXLPS: &str = "urn:siram:lps:ctxlps";
/// Namespace of the `siram:Erreur` fault detail.
pub const NS_SIRAM: &str = "urn:siram";

/// A `rechercherInsAvecTraitsIdentite` query (`RECSANSVITALE`). Built from normalised traits
/// ([`TraitsQuery::from_traits`]) so that only the INSi alphabet is ever sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraitsQuery {
    /// NomNaissance.
    pub nom_naissance: String,
    /// Prénoms, sent as one `Prenom` element, space-joined (see [`InsiClient::search_strategy`]
    /// for the per-name strategy).
    pub prenoms: Vec<String>,
    /// Sexe (INSi knows M and F only; `I` is sent as is and refused by the service).
    pub sexe: Option<Sexe>,
    /// DateNaissance `YYYY-MM-DD`.
    pub date_naissance: String,
    /// LieuNaissance, when known.
    pub lieu_naissance: Option<Cog>,
}

impl TraitsQuery {
    /// The query for strict traits.
    pub fn from_traits(t: &TraitsStricts) -> Self {
        Self {
            nom_naissance: t.nom_naissance.clone(),
            prenoms: t.prenoms.clone(),
            sexe: Some(t.sexe),
            date_naissance: t.date_naissance.raw().to_owned(),
            lieu_naissance: t.lieu_naissance.clone(),
        }
    }
}

/// A `rechercherInsAvecCarteVitale` query (`RECVITALE`), from the Vitale card data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarteVitaleQuery {
    /// `MatriculeIndividu`: the beneficiary's NIR as read from the card.
    pub matricule_individu: Matricule,
    /// `MatriculeOD`: the insured person's (ouvrant droit) NIR, when different.
    pub matricule_od: Option<Matricule>,
    /// `NomNaissance`, when on the card.
    pub nom_naissance: Option<String>,
    /// `DateNaissance` as on the card (date lunaire).
    pub date_naissance: String,
    /// `RangNaissance` (rank of birth, for twins).
    pub rang_naissance: String,
}
