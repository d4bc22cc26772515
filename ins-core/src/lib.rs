//! # segur-ins-core — patient identities for the Ségur stack
//!
//! - [`matricule`]: the matricule INS (NIR/NIA, key, Corsica), the INS OIDs, CX encodings.
//! - [`traits`]: strict and complementary identity traits, normalisation of typed input.
//! - [`rniv`]: RNIV statuses and attributes, identity documents, history, and
//!   [`QualifiedIdentity`](rniv::QualifiedIdentity) — the only type from which an INS may be
//!   transmitted (RNIV rule 28).
//! - [`insi`]: the INSi téléservice client (SOAP 1.2 over mutual TLS), replay mode, CNDA 2.07
//!   strategy.
//!
//! No patient identity is ever written to logs or error messages by this crate.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod error;
pub mod insi;
pub mod matricule;
pub mod rniv;
pub mod traits;

pub use error::{Field, InsError};
pub use matricule::{Ins, InsOid, KeyStatus, Matricule};
pub use rniv::{IdentityRecord, IdentityStatus, QualifiedIdentity, TrustPolicy};
pub use traits::{Cog, DateNaissance, Sexe, TraitsComplementaires, TraitsStricts};
