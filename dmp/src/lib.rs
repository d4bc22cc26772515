//! # segur-dmp — the DMP (Mon espace santé) client
//!
//! Feeding and consulting the patient's shared medical record from practice software
//! (`../shared/domain/dmp.md`): every request is a SOAP 1.2 message over mutual TLS carrying a
//! signed VIHF (a SAML 2.0 assertion) in `wsse:Security`.
//!
//! - [`vihf`]: the VIHF assertion and its enveloped XML signature (RSA-SHA256, exclusive c14n).
//! - [`patients`]: TD0.2, does the DMP exist, is it closed, are we authorised (HL7v3
//!   `PRPA_IN201307UV02` on `/patients`).
//! - [`habilitations`]: TD0.3, `setAuthorization` and `listAuthorizationByPatient`.
//! - [`xds`]: XDS.b messages: ITI-41 Provide and Register, ITI-18 stored queries, ITI-43
//!   Retrieve, ITI-57 Update, and registry errors.
//! - [`mtom`]: MTOM/XOP multipart packaging and parsing.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod envelope;
pub mod error;
pub mod habilitations;
pub mod mtom;
pub mod patients;
mod refusal;
pub mod settings;
pub mod vihf;
pub mod xds;

pub use error::{DmpError, Result};
