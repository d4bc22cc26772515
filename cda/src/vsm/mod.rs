//! The Volet de Synthèse Médicale (VSM): templateId `1.2.250.1.213.1.1.1.13`, code `SYNTH`,
//! serviceEvent `34117-2`, formatCode `urn:asip:ci-sis:vsm:2012`; 2013 and 2023.01 models.

mod build;
mod model;

pub use build::{Vsm, TEMPLATE_VSM};
pub use model::*;
