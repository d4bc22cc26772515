//! # segur-cda — CDA R2 documents for the Ségur stack
//!
//! - [`header`]: the CI-SIS en-tête (model + writer): patient from a
//!   [`QualifiedIdentity`](segur_ins_core::QualifiedIdentity) only, RPPS authors, custodian,
//!   legal authenticator, recipients, médecin traitant, serviceEvent, encompassingEncounter,
//!   RPLC.
//! - [`level1`]: level 1 documents (PDF body, IHE XDS-SD).
//! - [`vsm`]: the Volet de Synthèse Médicale, 2013 and 2023.01, from a [`VsmSummary`]
//!   (JSON-deserialisable).
//! - [`codes`]: JDV_J07 document types (generated from the value set), N/R/V, class and
//!   format codes.
//!
//! Spec notes: `../shared/domain/cda.md`. Every document we write is validated in the tests with
//! the ANS XSD and schematrons (`../shared/tools/cda-validate`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod codes;
pub mod error;
/// Test fixtures (feature `testing`): the ANS test patient, qualified from a forged INSi answer,
/// and the example documents. Never in shipped code (RNIV rule 28).
#[cfg(any(test, feature = "testing"))]
pub mod examples;
pub mod header;
pub mod level1;
pub mod parse;
mod patient_block;
pub mod pdf;
pub mod vsm;
mod write;
pub mod xds;

pub use codes::{Code, Confidentiality, DocumentType, FormatCode};
pub use error::{CdaError, Result};
pub use header::{
    Address, Author, CdaTime, Encounter, Header, Informant, InformantKind, InsMode, InstanceId,
    MedecinTraitant, Organization, Patient, PersonName, Professional, Recipient, ServiceEvent,
    Telecom,
};
pub use level1::Level1Document;
pub use parse::{compare_versions, parse, Item, ItemId, ItemKind, ParsedDocument, VersionDecision};
pub use vsm::{Vsm, VsmSummary, VsmVersion};
pub use xds::{metadata, XdsMetadata};
