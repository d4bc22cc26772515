//! `rs:RegistryResponse`: status and registry errors, typed (ebRS 3.0 §2.1.5; ITI TF-3 §4.2.4,
//! Table 4.2.4.1-2 for the IHE error codes; DMP codes in `docs/dmp-wire.md`).
//!
//! The same reader serves ITI-41 and ITI-57 responses, the head of an ITI-18
//! `AdhocQueryResponse` (which extends `RegistryResponseType`) and the `rs:RegistryResponse` of an
//! ITI-43 response. A failure becomes [`DmpError::Registry`] through [`RegistryResponse::outcome`];
//! a partial success is reported with its errors, not as an error.

use std::fmt;

use segur_net::xml::{Element, XmlLimits};

use super::ebrim::attr;
use super::ids::*;
use crate::error::{DmpError, Result};

/// The status of a registry response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseStatus {
    /// `…:ResponseStatusType:Success`.
    Success,
    /// `…:ResponseStatusType:Failure`.
    Failure,
    /// `urn:ihe:iti:2007:ResponseStatusType:PartialSuccess`.
    PartialSuccess,
}

impl ResponseStatus {
    /// The status URN.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => RESPONSE_SUCCESS,
            Self::Failure => RESPONSE_FAILURE,
            Self::PartialSuccess => RESPONSE_PARTIAL_SUCCESS,
        }
    }

    /// Reads a status URN (the ebRS 2.1 short forms `Success`/`Failure` are accepted too).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            RESPONSE_SUCCESS | "Success" => Some(Self::Success),
            RESPONSE_FAILURE | "Failure" => Some(Self::Failure),
            RESPONSE_PARTIAL_SUCCESS | "PartialSuccess" => Some(Self::PartialSuccess),
            _ => None,
        }
    }
}

/// Severity of a registry error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `…:ErrorSeverityType:Error` (the schema default).
    Error,
    /// `…:ErrorSeverityType:Warning`.
    Warning,
}

impl Severity {
    /// The severity URN.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => SEVERITY_ERROR,
            Self::Warning => SEVERITY_WARNING,
        }
    }
}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// A registry error code: the IHE codes (ITI TF-3 Table 4.2.4.1-2), or any other (DMP
        /// codes such as `DMP_ACCES_NON_AUTORISE`) kept as received.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
            /// Another code (DMP-specific), as received.
            Other(String),
        }

        impl ErrorCode {
            /// The code as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Other(s) => s,
                }
            }

            /// Reads a code.
            pub fn parse(s: &str) -> Self {
                match s.trim() {
                    $($code => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }
    };
}

error_codes! {
    /// Generic registry error.
    XdsRegistryError = "XDSRegistryError",
    /// Generic repository error.
    XdsRepositoryError = "XDSRepositoryError",
    /// The registry did not respond to the repository.
    XdsRegistryNotAvailable = "XDSRegistryNotAvailable",
    /// A document referenced by the metadata is missing from the submission.
    XdsMissingDocument = "XDSMissingDocument",
    /// A document was sent without metadata.
    XdsMissingDocumentMetadata = "XDSMissingDocumentMetadata",
    /// patientId differs between objects of the submission.
    XdsPatientIdDoesNotMatch = "XDSPatientIdDoesNotMatch",
    /// uniqueId already used or malformed.
    XdsDocumentUniqueIdError = "XDSDocumentUniqueIdError",
    /// Metadata invalid.
    XdsRegistryMetadataError = "XDSRegistryMetadataError",
    /// Metadata invalid (repository side).
    XdsRepositoryMetadataError = "XDSRepositoryMetadataError",
    /// Unknown patient (no DMP for this INS).
    XdsUnknownPatientId = "XDSUnknownPatientId",
    /// The registry is busy.
    XdsRegistryBusy = "XDSRegistryBusy",
    /// The repository is busy.
    XdsRepositoryBusy = "XDSRepositoryBusy",
    /// The registry is out of resources.
    XdsRegistryOutOfResources = "XDSRegistryOutOfResources",
    /// The repository is out of resources.
    XdsRepositoryOutOfResources = "XDSRepositoryOutOfResources",
    /// A uniqueId already registered (ITI TF-3 Table 4.2.4.1-2): e.g. a retry of a submission
    /// whose answer was lost.
    XdsDuplicateUniqueIdInRegistry = "XDSDuplicateUniqueIdInRegistry",
    /// Duplicate uniqueId in the submission (registry side).
    XdsRegistryDuplicateUniqueIdInMessage = "XDSRegistryDuplicateUniqueIdInMessage",
    /// Duplicate uniqueId in the submission.
    XdsRepositoryDuplicateUniqueIdInMessage = "XDSRepositoryDuplicateUniqueIdInMessage",
    /// Same uniqueId as an existing document with a different hash.
    XdsNonIdenticalHash = "XDSNonIdenticalHash",
    /// Same uniqueId as an existing document with a different size.
    XdsNonIdenticalSize = "XDSNonIdenticalSize",
    /// Unknown stored query id.
    XdsUnknownStoredQuery = "XDSUnknownStoredQuery",
    /// Wrong number of stored query parameters.
    XdsStoredQueryParamNumber = "XDSStoredQueryParamNumber",
    /// A required stored query parameter is missing.
    XdsStoredQueryMissingParam = "XDSStoredQueryMissingParam",
    /// Too many results for a LeafClass query.
    XdsTooManyResults = "XDSTooManyResults",
    /// The registry deprecated a document during a replacement.
    XdsRegistryDeprecatedDocumentError = "XDSRegistryDeprecatedDocumentError",
    /// Unknown repository (ITI-43).
    XdsUnknownRepositoryId = "XDSUnknownRepositoryId",
    /// Unknown community.
    XdsUnknownCommunity = "XDSUnknownCommunity",
    /// Unavailable document (ITI-43).
    XdsDocumentUnavailable = "XDSDocumentUnavailable",
    /// Replacement target not found or not current.
    UnresolvedReferenceException = "UnresolvedReferenceException",
    /// ITI-57: metadata update refused.
    XdsMetadataUpdateError = "XDSMetadataUpdateError",
    /// ITI-57: wrong previous version.
    XdsMetadataVersionError = "XDSMetadataVersionError",
    /// ITI-57: operation not allowed.
    XdsMetadataUpdateOperationError = "XDSMetadataUpdateOperationError",
    /// ITI-57: the registry does not support metadata update.
    XdsMetadataUpdateNotSupported = "XDSMetadataUpdateNotSupported",
    /// ITI-57: the patientId of an update differs.
    XdsPatientIdReconciliationError = "XDSPatientIdReconciliationError",
}

/// One `rs:RegistryError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// `errorCode`.
    pub code: ErrorCode,
    /// `codeContext`: the registry's explanation. May quote submitted values: shown to the user,
    /// never logged.
    pub context: String,
    /// `location`.
    pub location: Option<String>,
    /// `severity`.
    pub severity: Severity,
}

/// The errors of a failed response (carried by [`DmpError::Registry`]). Its `Display` lists the
/// codes only: a `codeContext` may quote patient data.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RegistryErrors(pub Vec<RegistryError>);

impl RegistryErrors {
    /// Whether any error has this code.
    pub fn has(&self, code: &ErrorCode) -> bool {
        self.0.iter().any(|e| &e.code == code)
    }
}

impl fmt::Display for RegistryErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no error detail");
        }
        for (i, e) in self.0.iter().take(8).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let code: String = e.code.as_str().chars().take(64).collect();
            f.write_str(&code)?;
            if e.severity == Severity::Warning {
                f.write_str(" (warning)")?;
            }
        }
        if self.0.len() > 8 {
            write!(f, " and {} more", self.0.len() - 8)?;
        }
        Ok(())
    }
}

/// What an accepted request gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Success, possibly with warnings.
    Success {
        /// Warnings returned with the success.
        warnings: Vec<RegistryError>,
    },
    /// Partial success: some of the request was done; the errors say what was not.
    PartialSuccess {
        /// Errors and warnings.
        errors: Vec<RegistryError>,
    },
}

/// A registry response: status and errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryResponse {
    /// Status.
    pub status: ResponseStatus,
    /// `RegistryErrorList/RegistryError`.
    pub errors: Vec<RegistryError>,
    /// `requestId`, when given.
    pub request_id: Option<String>,
}

impl RegistryResponse {
    /// A success without errors.
    pub fn success() -> Self {
        Self {
            status: ResponseStatus::Success,
            errors: Vec::new(),
            request_id: None,
        }
    }

    /// A failure with these errors.
    pub fn failure(errors: Vec<RegistryError>) -> Self {
        Self {
            status: ResponseStatus::Failure,
            errors,
            request_id: None,
        }
    }

    /// `Ok` with the outcome on success or partial success; [`DmpError::Registry`] on failure.
    pub fn outcome(&self) -> Result<Outcome> {
        match self.status {
            ResponseStatus::Success => Ok(Outcome::Success {
                warnings: self.errors.clone(),
            }),
            ResponseStatus::PartialSuccess => Ok(Outcome::PartialSuccess {
                errors: self.errors.clone(),
            }),
            ResponseStatus::Failure => Err(DmpError::Registry(RegistryErrors(self.errors.clone()))),
        }
    }

    /// Reads the status and errors of any element of type `rs:RegistryResponseType`
    /// (`rs:RegistryResponse`, `query:AdhocQueryResponse`).
    pub fn read(el: &Element) -> Result<Self> {
        let status = el
            .attr("status")
            .and_then(ResponseStatus::parse)
            .ok_or_else(|| {
                DmpError::Malformed(format!("{}: missing or unknown status", el.name))
            })?;
        let errors: Vec<RegistryError> = el
            .child(RS_NS, "RegistryErrorList")
            .map(|l| {
                l.children_named(RS_NS, "RegistryError")
                    .map(|e| RegistryError {
                        code: ErrorCode::parse(e.attr("errorCode").unwrap_or_default()),
                        context: e
                            .attr("codeContext")
                            .map(str::to_owned)
                            .unwrap_or_else(|| e.text().trim().to_owned()),
                        location: e.attr("location").map(str::to_owned),
                        severity: match e.attr("severity").map(str::trim) {
                            Some(SEVERITY_WARNING) | Some("Warning") => Severity::Warning,
                            _ => Severity::Error,
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        if status == ResponseStatus::Failure && !has_error(&errors) {
            // ITI TF-3 §4.2.4: a failure carries at least one error; keep a typed one.
            return Ok(Self {
                status,
                errors: vec![RegistryError {
                    code: ErrorCode::XdsRegistryError,
                    context: "Failure without RegistryErrorList".into(),
                    location: None,
                    severity: Severity::Error,
                }],
                request_id: el.attr("requestId").map(str::to_owned),
            });
        }
        Ok(Self {
            status,
            errors,
            request_id: el.attr("requestId").map(str::to_owned),
        })
    }

    /// Parses an `rs:RegistryResponse` (ITI-41/57 answer), bare or in a SOAP envelope.
    pub fn parse(xml: &[u8]) -> Result<Self> {
        let el = payload(xml, &XmlLimits::default())?;
        if !el.is(RS_NS, "RegistryResponse") {
            return Err(DmpError::Malformed(format!(
                "{} where rs:RegistryResponse was expected",
                el.name
            )));
        }
        Self::read(&el)
    }

    /// Writes the attributes and `RegistryErrorList` (without the enclosing element).
    pub(crate) fn write_inner(&self, out: &mut String) {
        attr(out, "status", self.status.as_str());
        if let Some(r) = &self.request_id {
            attr(out, "requestId", r);
        }
        out.push('>');
        if !self.errors.is_empty() {
            out.push_str("<rs:RegistryErrorList");
            let highest = if has_error(&self.errors) {
                SEVERITY_ERROR
            } else {
                SEVERITY_WARNING
            };
            attr(out, "highestSeverity", highest);
            out.push('>');
            for e in &self.errors {
                out.push_str("<rs:RegistryError");
                attr(out, "codeContext", &e.context);
                attr(out, "errorCode", e.code.as_str());
                if let Some(l) = &e.location {
                    attr(out, "location", l);
                }
                attr(out, "severity", e.severity.as_str());
                out.push_str("/>");
            }
            out.push_str("</rs:RegistryErrorList>");
        }
    }

    /// The `rs:RegistryResponse` element (what a registry answers to ITI-41/57; used by the
    /// sandbox and the tests).
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<rs:RegistryResponse xmlns:rs=\"");
        out.push_str(RS_NS);
        out.push('"');
        self.write_inner(&mut out);
        out.push_str("</rs:RegistryResponse>");
        out
    }
}

fn has_error(errors: &[RegistryError]) -> bool {
    errors.iter().any(|e| e.severity == Severity::Error)
}

/// Parses `xml` and returns the SOAP body's payload, or the root element itself when it is not a
/// SOAP envelope. A SOAP fault becomes [`DmpError::Fault`].
pub(crate) fn payload(xml: &[u8], limits: &XmlLimits) -> Result<Element> {
    let root = segur_net::xml::parse(xml, limits)?;
    let soap = segur_net::soap::SOAP12_NS;
    if !root.is(soap, "Envelope") {
        return Ok(root);
    }
    let env = segur_net::soap::Envelope::from_element(root)?;
    match env.content()? {
        segur_net::soap::Content::Payload(p) => Ok(p.clone()),
        segur_net::soap::Content::Fault(f) => Err(DmpError::Fault {
            code: f.code,
            subcodes: f.subcodes,
            reason: f.reason.chars().take(200).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<RegistryResponse> {
        RegistryResponse::parse(s.as_bytes())
    }

    #[test]
    fn success() {
        let r = parse(&RegistryResponse::success().to_xml()).unwrap();
        assert_eq!(r.status, ResponseStatus::Success);
        assert_eq!(r.outcome().unwrap(), Outcome::Success { warnings: vec![] });
    }

    #[test]
    fn failure_is_a_typed_error_without_context() {
        let xml = format!(
            r#"<rs:RegistryResponse xmlns:rs="{RS_NS}" status="{RESPONSE_FAILURE}">
              <rs:RegistryErrorList highestSeverity="{SEVERITY_ERROR}">
                <rs:RegistryError errorCode="XDSUnknownPatientId" codeContext="Patient 279035121518989 unknown" location="x"/>
                <rs:RegistryError errorCode="DMP_ACCES_NON_AUTORISE" codeContext="acces refuse" severity="{SEVERITY_ERROR}"/>
              </rs:RegistryErrorList></rs:RegistryResponse>"#
        );
        let r = parse(&xml).unwrap();
        assert_eq!(r.errors.len(), 2);
        assert_eq!(r.errors[0].code, ErrorCode::XdsUnknownPatientId);
        assert_eq!(r.errors[0].location.as_deref(), Some("x"));
        assert_eq!(
            r.errors[1].code,
            ErrorCode::Other("DMP_ACCES_NON_AUTORISE".into())
        );
        let e = r.outcome().unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("XDSUnknownPatientId, DMP_ACCES_NON_AUTORISE"),
            "{msg}"
        );
        assert!(!msg.contains("279035121518989"));
        match e {
            DmpError::Registry(list) => assert!(list.has(&ErrorCode::XdsUnknownPatientId)),
            other => panic!("{other:?}"),
        }
        // Round trip through the writer.
        assert_eq!(parse(&r.to_xml()).unwrap(), r);
    }

    #[test]
    fn partial_success_and_warnings() {
        let mut r = RegistryResponse::success();
        r.status = ResponseStatus::PartialSuccess;
        r.errors.push(RegistryError {
            code: ErrorCode::XdsDocumentUnavailable,
            context: "one missing".into(),
            location: None,
            severity: Severity::Error,
        });
        let back = parse(&r.to_xml()).unwrap();
        assert!(
            matches!(back.outcome().unwrap(), Outcome::PartialSuccess { errors } if errors.len() == 1)
        );
        let w = format!(
            r#"<RegistryResponse xmlns="{RS_NS}" status="{RESPONSE_SUCCESS}"><RegistryErrorList><RegistryError errorCode="XDSRegistryBusy" codeContext="slow" severity="{SEVERITY_WARNING}"/></RegistryErrorList></RegistryResponse>"#
        );
        assert!(
            matches!(parse(&w).unwrap().outcome().unwrap(), Outcome::Success { warnings } if warnings[0].severity == Severity::Warning)
        );
    }

    #[test]
    fn envelope_fault_and_malformed() {
        let env = format!(
            r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>{}</s:Body></s:Envelope>"#,
            RegistryResponse::success().to_xml()
        );
        assert_eq!(parse(&env).unwrap().status, ResponseStatus::Success);
        let fault = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang="fr">non</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>"#;
        assert!(matches!(parse(fault).unwrap_err(), DmpError::Fault { .. }));
        assert!(parse(&format!(
            r#"<RegistryResponse xmlns="{RS_NS}" status="maybe"/>"#
        ))
        .is_err());
        assert!(parse("<x/>").is_err());
        assert!(parse("<RegistryResponse").is_err());
        // Failure without errors still carries a typed error.
        let f = parse(&format!(
            r#"<RegistryResponse xmlns="{RS_NS}" status="{RESPONSE_FAILURE}"/>"#
        ))
        .unwrap();
        assert!(
            matches!(f.outcome(), Err(DmpError::Registry(l)) if l.has(&ErrorCode::XdsRegistryError))
        );
    }
}
