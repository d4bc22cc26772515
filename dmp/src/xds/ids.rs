//! Fixed identifiers of XDS.b: namespaces, SOAP actions, IHE classification UUIDs (ITI TF-3
//! §4.2.5, `dmp.md` §5.1), association and status types, stored query ids (ITI TF-2a §3.18.4.1.2.3.7).

// ---- Namespaces (dmp.md §2) -----------------------------------------------------------------

/// ebRIM 3.0.
pub const RIM_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
/// ebRS 3.0 registry services (RegistryResponse).
pub const RS_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
/// ebRS 3.0 life cycle management (SubmitObjectsRequest).
pub const LCM_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
/// ebRS 3.0 query (AdhocQueryRequest/Response).
pub const QUERY_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";
/// IHE XDS.b.
pub const XDSB_NS: &str = "urn:ihe:iti:xds-b:2007";
/// XOP include.
pub const XOP_NS: &str = crate::mtom::XOP_NS;

// ---- SOAP actions (ITI TF-2 WSDLs, `xds/wsdl/*.wsdl`) ----------------------------------------

/// ITI-41 Provide and Register Document Set-b.
pub const ACTION_ITI41: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
/// ITI-41 response.
pub const ACTION_ITI41_RESPONSE: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse";
/// ITI-18 Registry Stored Query.
pub const ACTION_ITI18: &str = "urn:ihe:iti:2007:RegistryStoredQuery";
/// ITI-18 response.
pub const ACTION_ITI18_RESPONSE: &str = "urn:ihe:iti:2007:RegistryStoredQueryResponse";
/// ITI-43 Retrieve Document Set.
pub const ACTION_ITI43: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";
/// ITI-43 response.
pub const ACTION_ITI43_RESPONSE: &str = "urn:ihe:iti:2007:RetrieveDocumentSetResponse";
/// ITI-57 Update Document Set.
pub const ACTION_ITI57: &str = "urn:ihe:iti:2010:UpdateDocumentSet";
/// ITI-57 response.
pub const ACTION_ITI57_RESPONSE: &str = "urn:ihe:iti:2010:UpdateDocumentSetResponse";

// ---- Object types and classification UUIDs (ITI TF-3 §4.2.5, dmp.md §5.1) --------------------

/// DocumentEntry objectType, stable document.
pub const DE_OBJECT_TYPE: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
/// DocumentEntry objectType, on-demand document.
pub const DE_OBJECT_TYPE_ON_DEMAND: &str = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
/// SubmissionSet classification node.
pub const SS_CLASSIFICATION_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
/// DocumentEntry author.
pub const DE_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
/// SubmissionSet author.
pub const SS_AUTHOR: &str = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
/// classCode.
pub const DE_CLASS_CODE: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
/// confidentialityCode.
pub const DE_CONFIDENTIALITY_CODE: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
/// eventCodeList.
pub const DE_EVENT_CODE: &str = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4";
/// formatCode.
pub const DE_FORMAT_CODE: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
/// healthcareFacilityTypeCode.
pub const DE_HEALTHCARE_FACILITY_TYPE_CODE: &str = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
/// practiceSettingCode.
pub const DE_PRACTICE_SETTING_CODE: &str = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
/// typeCode.
pub const DE_TYPE_CODE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
/// SubmissionSet contentTypeCode.
pub const SS_CONTENT_TYPE_CODE: &str = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
/// DocumentEntry patientId (ExternalIdentifier).
pub const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
/// DocumentEntry uniqueId (ExternalIdentifier).
pub const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
/// SubmissionSet patientId (ExternalIdentifier).
pub const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
/// SubmissionSet uniqueId (ExternalIdentifier).
pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
/// SubmissionSet sourceId (ExternalIdentifier).
pub const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";

// ---- Association types (ITI TF-3 §4.2.2, dmp.md §5.4) ----------------------------------------

/// SubmissionSet (or folder) membership.
pub const ASSOC_HAS_MEMBER: &str = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
/// Replacement of an earlier document.
pub const ASSOC_RPLC: &str = "urn:ihe:iti:2007:AssociationType:RPLC";
/// Signature document signs its target (IHE DSG).
pub const ASSOC_SIGNS: &str = "urn:ihe:iti:2007:AssociationType:signs";
/// Availability status change (ITI-57).
pub const ASSOC_UPDATE_AVAILABILITY_STATUS: &str =
    "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus";

// ---- Availability statuses (JDV_J52, dmp.md §5.4) --------------------------------------------

/// Current version.
pub const STATUS_APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
/// Replaced version.
pub const STATUS_DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
/// Archived by the author (TD3.3d).
pub const STATUS_ARCHIVED: &str = "urn:asip:ci-sis:2010:StatusType:Archived";
/// Deleted by the author (TD3.3c).
pub const STATUS_DELETED: &str = "urn:asip:ci-sis:2010:StatusType:Deleted";

// ---- Registry responses (ebRS 3.0 §2.1.5, ITI TF-3 §4.2.4) -----------------------------------

/// Success.
pub const RESPONSE_SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
/// Failure.
pub const RESPONSE_FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";
/// Partial success (IHE extension).
pub const RESPONSE_PARTIAL_SUCCESS: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
/// Error severity.
pub const SEVERITY_ERROR: &str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error";
/// Warning severity.
pub const SEVERITY_WARNING: &str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning";

// ---- Stored queries (ITI TF-2a §3.18.4.1.2.3.7) ----------------------------------------------

/// FindDocuments.
pub const SQ_FIND_DOCUMENTS: &str = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
/// FindSubmissionSets.
pub const SQ_FIND_SUBMISSION_SETS: &str = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9";
/// GetDocuments.
pub const SQ_GET_DOCUMENTS: &str = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";

// ---- Submission-set signature entry (IHE DSG, dmp.md §6) -------------------------------------

/// classCode "Digital Signature" (coding scheme `URN`).
pub const SIGNATURE_CLASS_CODE: &str = "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1";
/// typeCode "Full Document" (ASTM E1762).
pub const SIGNATURE_TYPE_CODE: &str = "E1762";
/// formatCode of an XML-DSig document (coding scheme `URN`).
pub const SIGNATURE_FORMAT_CODE: &str = "http://www.w3.org/2000/09/xmldsig#";
/// eventCode / purposeOfSignature "Source" (ASTM E1762 / ISO 17090).
pub const PURPOSE_SOURCE: &str = "1.2.840.10065.1.12.1.14";
/// The code system of [`PURPOSE_SOURCE`].
pub const PURPOSE_SYSTEM: &str = "1.2.840.10065.1.12";

/// A fresh OID under `2.25` (ITU-T X.667: a UUID as a decimal integer), for the uniqueIds the
/// LPS assigns (submission set, signature document).
pub fn new_oid() -> String {
    format!("2.25.{}", uuid::Uuid::new_v4().as_u128())
}

/// A fresh `urn:uuid:` identifier.
pub fn new_urn_uuid() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

#[cfg(test)]
mod tests {
    #[test]
    fn oids_are_fresh_and_numeric() {
        let a = super::new_oid();
        assert!(a.starts_with("2.25.") && a[5..].bytes().all(|b| b.is_ascii_digit()));
        assert!(a.len() <= 64);
        assert_ne!(a, super::new_oid());
        assert!(super::new_urn_uuid().starts_with("urn:uuid:"));
    }
}
