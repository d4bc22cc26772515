//! Python bindings of segur: the native module `segur._segur` of the `segur` wheel.
//!
//! A thin surface over the facade (`segur` crate): native classes for its views, one exception
//! tree converted in one place ([`errors`]), the GIL released around every blocking call
//! (`py.detach`), and `*_async` variants returning asyncio awaitables (pyo3-async-runtimes, on the
//! one tokio runtime of the module). No protocol logic here.
//!
//! Input paths never panic: strings are borrowed with [`types::Text`] (non-`str` → `TypeError`,
//! lone surrogates → `InsError`), everything else goes through the facade's `Result`s.

#![deny(unsafe_code)]

mod cda;
mod client;
mod dmp;
mod errors;
mod runtime;
mod types;

use pyo3::prelude::*;
use segur::Field;

use crate::errors::{invalid_input, to_pyerr};
use crate::types::Text;

/// Checks a typed matricule INS: 13 characters, or 15 with the key; or 13 + `key`.
/// Raises `InsError` (code 100) when malformed or when the key does not match.
#[pyfunction]
#[pyo3(signature = (matricule, key=None))]
fn check_matricule(matricule: Text<'_>, key: Option<Text<'_>>) -> PyResult<types::Matricule> {
    types::check(matricule.0, key.map(|k| k.0))
}

/// Whether a typed matricule (13 or 15 characters) is well formed with a right key; never
/// raises for a bad value (the fast path for form validation).
#[pyfunction]
fn is_valid_matricule(matricule: Text<'_>) -> bool {
    segur::ins::Matricule::parse(matricule.0).is_ok()
}

fn field(name: &str) -> PyResult<Field> {
    Ok(match name {
        "nom_naissance" => Field::NomNaissance,
        "prenom" => Field::Prenom,
        "premier_prenom" => Field::PremierPrenom,
        "nom_utilise" => Field::NomUtilise,
        "prenom_utilise" => Field::PrenomUtilise,
        _ => return Err(invalid_input(
            "field must be nom_naissance, prenom, premier_prenom, nom_utilise or prenom_utilise",
        )),
    })
}

/// Normalises a typed name for INSi (upper case, accents removed, separators checked).
/// Characters with a standard transliteration (’, Æ, Œ) raise `NeedsConfirmation` carrying the
/// proposal unless `confirm` is true.
#[pyfunction]
#[pyo3(signature = (nom, confirm=false, field="nom_naissance"))]
fn normalize(nom: Text<'_>, confirm: bool, field: &str) -> PyResult<String> {
    segur::normalize(self::field(field)?, nom.0, confirm).map_err(to_pyerr)
}

#[pymodule]
fn _segur(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", segur::VERSION)?;
    errors::register(m)?;
    m.add_class::<types::Matricule>()?;
    m.add_class::<types::IdentityStatus>()?;
    m.add_class::<types::Actor>()?;
    m.add_class::<types::IdentityInput>()?;
    m.add_class::<types::Traits>()?;
    m.add_class::<types::Ins>()?;
    m.add_class::<types::Attributes>()?;
    m.add_class::<types::Document>()?;
    m.add_class::<types::HistoryEntry>()?;
    m.add_class::<types::Identity>()?;
    m.add_class::<types::InsiIdentity>()?;
    m.add_class::<types::Attempt>()?;
    m.add_class::<types::InsiResult>()?;
    m.add_class::<types::IdentitySearch>()?;
    m.add_class::<types::Exchange>()?;
    m.add_class::<types::RnivEvent>()?;
    m.add_class::<cda::BuiltDocument>()?;
    m.add_class::<dmp::Practitioner>()?;
    m.add_class::<dmp::DmpStatus>()?;
    m.add_class::<dmp::DmpConsent>()?;
    m.add_class::<dmp::DmpAuthorization>()?;
    m.add_class::<dmp::DmpSendOptions>()?;
    m.add_class::<dmp::DmpDocumentStatus>()?;
    m.add_class::<dmp::DmpSendResult>()?;
    m.add_class::<dmp::DmpFindQuery>()?;
    m.add_class::<dmp::DmpEntry>()?;
    m.add_class::<dmp::DmpUpdate>()?;
    m.add_class::<dmp::DmpDocumentRow>()?;
    m.add_class::<client::Client>()?;
    m.add_function(wrap_pyfunction!(check_matricule, m)?)?;
    m.add_function(wrap_pyfunction!(is_valid_matricule, m)?)?;
    m.add_function(wrap_pyfunction!(normalize, m)?)?;
    m.add_function(wrap_pyfunction!(cda::cda_parse, m)?)?;
    m.add_function(wrap_pyfunction!(cda::cda_integrate, m)?)?;
    m.add_function(wrap_pyfunction!(cda::cda_metadata, m)?)?;
    m.add_function(wrap_pyfunction!(cda::cda_pdf, m)?)?;
    Ok(())
}
