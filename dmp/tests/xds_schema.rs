//! Every XDS.b body we emit validates against the official schemas (issue #5 point 7): ITI-41 and
//! ITI-43 against `IHE/IHEXDSB-libxml2.xsd`, ITI-18 against `ebRS30/query.xsd`, ITI-57 against
//! `ebRS30/lcm.xsd` (xmllint), for varied inputs built by the CDA crate; the submission-set
//! signature verifies with `xmlsec1`; the reference examples of `xds/examples/` parse with our
//! readers; what we write reads back the same.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bytes::Bytes;
use segur_cda::{Code, XdsMetadata};
use segur_dmp::mtom::{self, MtomLimits};
use segur_dmp::xds::ids::*;
use segur_dmp::xds::*;
use segur_dmp::DmpError;
use segur_net::dsig::Pkcs12Signer;
use segur_net::xml::{parse, XmlLimits};

fn reference(rel: &str) -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/reference/"
    ))
    .join(rel)
}

const IHE_XDSB: &str = "xds/wsdl/schema/IHE/IHEXDSB-libxml2.xsd";
const QUERY_XSD: &str = "xds/wsdl/schema/ebRS30/query.xsd";
const LCM_XSD: &str = "xds/wsdl/schema/ebRS30/lcm.xsd";

/// xmllint against a schema: Ok, or the errors.
fn xmllint(xsd: &str, xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(reference(xsd))
        .arg(&file)
        .output()
        .expect("xmllint is installed");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn assert_valid(xsd: &str, xml: &str, what: &str) {
    if let Err(e) = xmllint(xsd, xml) {
        panic!("{what} is not valid against {xsd}:\n{e}");
    }
}

struct TestSigner {
    signer: Pkcs12Signer,
    cert_pem: PathBuf,
    _dir: tempfile::TempDir,
}

/// An RSA 2048 signing certificate made by OpenSSL, as the structure's "cachet".
fn signer() -> &'static TestSigner {
    static S: OnceLock<TestSigner> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "30",
            "-subj",
            "/C=FR/O=CABINET TEST, SARL/OU=499999999/CN=CACHET TEST",
        ]);
        run(&[
            "pkcs12",
            "-export",
            "-inkey",
            "k.pem",
            "-in",
            "c.pem",
            "-out",
            "s.p12",
            "-passout",
            "pass:secret",
        ]);
        let signer = Pkcs12Signer::from_pkcs12_file(dir.path().join("s.p12"), "secret").unwrap();
        TestSigner {
            signer,
            cert_pem: dir.path().join("c.pem"),
            _dir: dir,
        }
    })
}

/// The CDA crate's conformance set: 12 VSMs and 4 level 1 documents, with their metadata.
fn documents() -> Vec<(String, Bytes, Result<XdsMetadata, String>)> {
    segur_cda::examples::conformance_documents()
        .into_iter()
        .map(|(name, xml)| {
            let bytes = Bytes::from(xml.into_bytes());
            let meta = segur_cda::metadata(&bytes).map_err(|e| e.to_string());
            (name, bytes, meta)
        })
        .collect()
}

fn submission_set(meta: &XdsMetadata) -> SubmissionSet {
    let author = Author::from_metadata(meta)
        .into_iter()
        .next()
        .unwrap_or_default();
    SubmissionSet::new(
        "1.2.250.1.999.1.1.8121",
        meta.patient_id.as_deref().unwrap(),
        Code::new("04", "1.2.250.1.213.2.2", "Hospitalisation de jour"),
        author,
    )
}

fn masked(i: usize) -> DmpConfidentiality {
    DmpConfidentiality {
        masking: if i.is_multiple_of(2) {
            Masking::MaskedToProfessionals
        } else {
            Masking::NotMasked
        },
        visibility: Visibility {
            patient: !i.is_multiple_of(3),
            legal_representatives: !i.is_multiple_of(4),
        },
    }
}

/// ITI-41 for every document of the conformance set: alone, masked, replacing an earlier
/// version, signed; and all documents with an INS in one signed submission.
#[test]
fn iti41_bodies_validate() {
    let docs = documents();
    let mut all = Vec::new();
    let mut without_ins = 0;
    let mut tested = 0;
    for (i, (name, bytes, meta)) in docs.iter().enumerate() {
        let meta = meta.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
        let sub = match DocumentSubmission::new(meta, bytes.clone(), masked(i)) {
            Ok(s) => s,
            Err(DmpError::Invalid { field, .. }) if meta.patient_id.is_none() => {
                assert_eq!(field, "patientId (INS)", "{name}");
                without_ins += 1;
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        let sub = if i % 2 == 1 {
            sub.replacing(&new_urn_uuid())
        } else {
            sub
        };
        let mut pnr = ProvideAndRegister::new(submission_set(meta), vec![sub.clone()]).unwrap();
        if i % 3 == 0 {
            pnr.sign(&signer().signer, chrono::Utc::now()).unwrap();
        }
        let inline = pnr.to_inline_xml().unwrap();
        assert_valid(IHE_XDSB, &inline, name);
        // Every DMP code requested is there, after the CDA's N/R/V.
        for c in masked(i).codes() {
            assert!(
                inline.contains(&format!("nodeRepresentation=\"{}\"", c.code())),
                "{name}"
            );
        }
        assert_eq!(inline.contains(ASSOC_RPLC), i % 2 == 1, "{name}");
        assert_eq!(inline.contains(ASSOC_SIGNS), i % 3 == 0, "{name}");
        // The MTOM form carries the same objects and the exact bytes.
        let msg = pnr.to_message().unwrap();
        assert!(msg.body.contains("<xop:Include href=\"cid:"));
        let env = envelope(&msg.body);
        let (ct, body) = mtom::build(env.as_bytes(), ACTION_ITI41, &msg.attachments);
        let m = mtom::parse(&ct, &body, &MtomLimits::default()).unwrap();
        let back = Submission::parse(&m).unwrap();
        let de = back
            .objects
            .documents
            .iter()
            .find(|d| d.unique_id == meta.unique_id)
            .unwrap();
        assert_eq!(
            de, &pnr.documents[0].entry,
            "{name}: DocumentEntry round trip"
        );
        assert_eq!(
            back.objects.submission_sets,
            vec![pnr.submission_set.clone()]
        );
        assert_eq!(back.documents[0], ("Document01".to_owned(), bytes.clone()));
        assert_eq!(de.dmp_confidentiality(), masked(i));
        all.push(
            DocumentSubmission::new(meta, bytes.clone(), DmpConfidentiality::VISIBLE).unwrap(),
        );
        tested += 1;
    }
    assert!(
        tested >= 14 && without_ins >= 1,
        "{tested} tested, {without_ins} without INS"
    );
    // All of them in one signed submission (same patient in the conformance set).
    let first = docs[0].2.as_ref().unwrap();
    let mut pnr = ProvideAndRegister::new(submission_set(first), all).unwrap();
    pnr.sign(&signer().signer, chrono::Utc::now()).unwrap();
    let inline = pnr.to_inline_xml().unwrap();
    assert_valid(IHE_XDSB, &inline, "one submission of every document");
    let n = pnr.documents.len() + 1;
    assert_eq!(inline.matches(ASSOC_HAS_MEMBER).count(), n);
}

fn envelope(body: &str) -> String {
    format!(
        r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>{body}</soap:Body></soap:Envelope>"#
    )
}

#[test]
fn iti41_refusals() {
    let docs = documents();
    let (_, bytes, meta) = &docs[0];
    let meta = meta.as_ref().unwrap();
    // Bytes that are not those of the metadata.
    let mut other = bytes.to_vec();
    other.push(b'\n');
    let e = DocumentSubmission::new(meta, other.into(), DmpConfidentiality::VISIBLE).unwrap_err();
    assert!(matches!(e, DmpError::Invalid { field: "hash", .. }));
    // Over 50 MiB.
    let big = Bytes::from(vec![b' '; mtom::MAX_DOCUMENT_SIZE + 1]);
    let e = DocumentSubmission::new(meta, big, DmpConfidentiality::VISIBLE).unwrap_err();
    assert!(matches!(e, DmpError::TooLarge { .. }));
    // Another patient, and the same document twice.
    let sub = DocumentSubmission::new(meta, bytes.clone(), DmpConfidentiality::VISIBLE).unwrap();
    let mut ss = submission_set(meta);
    ss.patient_id = "1^^^&1.2.250.1.213.1.4.10&ISO^NH".into();
    let e = ProvideAndRegister::new(ss, vec![sub.clone()]).unwrap_err();
    assert!(matches!(
        e,
        DmpError::Invalid {
            field: "patientId",
            ..
        }
    ));
    let e = ProvideAndRegister::new(submission_set(meta), vec![sub.clone(), sub]).unwrap_err();
    assert!(matches!(
        e,
        DmpError::Invalid {
            field: "uniqueId",
            ..
        }
    ));
    assert!(ProvideAndRegister::new(submission_set(meta), vec![]).is_err());
}

/// The signature document: `xmlsec1 --verify` accepts it and refuses it once one byte changed;
/// its manifest references every document and the submission set as sent.
#[test]
fn submission_set_signature_verifies() {
    let docs = documents();
    let subs: Vec<_> = docs
        .iter()
        .take(3)
        .map(|(_, b, m)| {
            DocumentSubmission::new(m.as_ref().unwrap(), b.clone(), DmpConfidentiality::VISIBLE)
                .unwrap()
        })
        .collect();
    let mut pnr =
        ProvideAndRegister::new(submission_set(docs[0].2.as_ref().unwrap()), subs).unwrap();
    let at = chrono::Utc::now();
    pnr.sign(&signer().signer, at).unwrap();
    let sig = pnr.signature.clone().unwrap();
    let xml = String::from_utf8(sig.content.to_vec()).unwrap();
    assert!(xml.contains("<ds:SignatureProperty Id=\"purposeOfSignature\""));
    assert!(xml.contains("xades:SigningCertificate"));
    assert!(xml.contains("<ds:X509IssuerName>CN=CACHET TEST,OU=499999999,O=CABINET TEST\\, SARL,C=FR</ds:X509IssuerName>"), "{xml}");
    xmlsec_verify(&xml).unwrap();
    let tampered = xml.replacen(
        "1.2.840.10065.1.12.1.14</ds:SignatureProperty>",
        "1.2.840.10065.1.12.1.15</ds:SignatureProperty>",
        1,
    );
    assert_ne!(tampered, xml);
    // purposeOfSignature is not under SignedInfo: tamper with a signed part instead.
    let tampered = xml.replacen("<xades:SigningTime>", "<xades:SigningTime>1", 1);
    assert!(xmlsec_verify(&tampered).is_err());
    let m_tampered = xml.replacen(
        "<ds:Manifest Id=\"IHEManifest\"><ds:Reference URI=\"urn:oid:",
        "<ds:Manifest Id=\"IHEManifest\"><ds:Reference URI=\"urn:oid:9",
        1,
    );
    assert!(xmlsec_verify(&m_tampered).is_err());

    // The signature entry and its association, and the manifest against what is sent.
    assert_eq!(
        sig.entry.class_code.as_ref().unwrap().code,
        SIGNATURE_CLASS_CODE
    );
    assert_eq!(sig.entry.type_code.as_ref().unwrap().code, "E1762");
    assert_eq!(
        sig.entry.format_code.as_ref().unwrap().code,
        SIGNATURE_FORMAT_CODE
    );
    assert_eq!(sig.entry.language_code.as_deref(), Some("art"));
    let msg = pnr.to_message().unwrap();
    let body = pnr.to_inline_xml().unwrap();
    let ss_c14n = segur_net::c14n::canonicalize_by_id(
        body.as_bytes(),
        "SubmissionSet01",
        &segur_net::c14n::Method::exclusive(&[]),
        &XmlLimits {
            max_bytes: 64 << 20,
            ..XmlLimits::default()
        },
    )
    .unwrap();
    let mut expected: Vec<xades::ManifestItem<'_>> = pnr
        .documents
        .iter()
        .map(|d| xades::ManifestItem {
            unique_id: &d.entry.unique_id,
            bytes: &d.content,
        })
        .collect();
    expected.push(xades::ManifestItem {
        unique_id: &pnr.submission_set.unique_id,
        bytes: &ss_c14n,
    });
    xades::check_manifest(&sig.content, &expected).unwrap();
    let changed = b"x".repeat(10);
    expected[0].bytes = &changed;
    assert!(xades::check_manifest(&sig.content, &expected).is_err());
    let env = envelope(&msg.body);
    let (ct, raw) = mtom::build(env.as_bytes(), ACTION_ITI41, &msg.attachments);
    let back = Submission::parse(&mtom::parse(&ct, &raw, &MtomLimits::default()).unwrap()).unwrap();
    let signs = back
        .objects
        .associations
        .iter()
        .find(|a| a.kind == AssociationType::Signs)
        .unwrap();
    assert_eq!(
        (signs.source.as_str(), signs.target.as_str()),
        ("Signature01", "SubmissionSet01")
    );
    assert!(back
        .documents
        .iter()
        .any(|(id, b)| id == "Signature01" && b == &sig.content));
}

fn xmlsec_verify(xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sig.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmlsec1")
        .arg("--verify")
        .arg("--pubkey-cert-pem")
        .arg(&signer().cert_pem)
        .arg("--ignore-manifests")
        .arg("--id-attr:Id")
        .arg("http://uri.etsi.org/01903/v1.1.1#:SignedProperties")
        .arg("--id-attr:Id")
        .arg("http://www.w3.org/2000/09/xmldsig#:Manifest")
        .arg(&file)
        .output()
        .expect("xmlsec1 is installed");
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn ins() -> String {
    "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH".into()
}

#[test]
fn iti18_requests_validate() {
    let t = |s| entry::parse_dtm(s).unwrap();
    let queries = [
        StoredQuery::FindDocuments(FindDocuments::new(&ins())),
        StoredQuery::FindDocuments(
            FindDocuments::new(&ins())
                .statuses(&[
                    AvailabilityStatus::Approved,
                    AvailabilityStatus::Archived,
                    AvailabilityStatus::Deprecated,
                ])
                .class_code(Code::new("11", "1.2.250.1.213.1.1.4.1", ""))
                .type_code(Code::new("SYNTH", "1.2.250.1.213.1.1.4.12", ""))
                .type_code(Code::new("11488-4", "2.16.840.1.113883.6.1", ""))
                .created_between(Some(t("20240101")), Some(t("20250101")))
                .service_start_between(Some(t("2023")), Some(t("2024")))
                .author_person("%D'ARTAGNAN%")
                .confidentiality_code(Code::new("MASQUE_PS", "1.2.250.1.213.1.1.4.13", ""))
                .format_code(Code::new(
                    "urn:asip:ci-sis:vsm:2012",
                    "1.2.250.1.213.1.1.4.2.282",
                    "",
                )),
        ),
        StoredQuery::GetDocuments(GetDocuments {
            documents: DocumentRef::UniqueIds(vec![
                "1.2.250.1.999.1.1.1".into(),
                "1.2.3^x'y".into(),
            ]),
            home_community_id: Some("urn:oid:1.2.250.1.213.4.1".into()),
        }),
        StoredQuery::GetDocuments(GetDocuments {
            documents: DocumentRef::EntryUuids((0..30).map(|_| new_urn_uuid()).collect()),
            home_community_id: None,
        }),
        StoredQuery::FindSubmissionSets(FindSubmissionSets {
            source_ids: vec!["1.2.250.1.999".into()],
            submission_time_from: Some(t("20240101")),
            author_person: Some("%MEDIONI%".into()),
            content_type_codes: vec![Code::new("04", "1.2.250.1.213.2.2", "")],
            ..FindSubmissionSets::new(&ins())
        }),
    ];
    for (i, q) in queries.iter().enumerate() {
        for rt in [ReturnType::LeafClass, ReturnType::ObjectRef] {
            let xml = q.to_xml(rt).unwrap();
            assert_valid(QUERY_XSD, &xml, &format!("query {i}"));
            let el = parse(xml.as_bytes(), &XmlLimits::default()).unwrap();
            assert_eq!(StoredQuery::read(&el).unwrap(), (q.clone(), rt));
        }
    }
}

/// A registry answer built from what we submitted: LeafClass and ObjectRef, both valid against
/// query.xsd, read back into the same entries; then ITI-57 requests from a read entry.
#[test]
fn query_response_and_iti57_validate() {
    let docs = documents();
    let mut entries = Vec::new();
    for (i, (_, bytes, meta)) in docs.iter().enumerate() {
        let Ok(meta) = meta else { continue };
        let Ok(sub) = DocumentSubmission::new(meta, bytes.clone(), masked(i)) else {
            continue;
        };
        let mut e = sub.entry;
        e.entry_uuid = new_urn_uuid();
        e.logical_id = if i % 2 == 0 {
            Some(e.entry_uuid.clone())
        } else {
            None
        };
        e.version = if i % 2 == 0 { Some("2".into()) } else { None };
        e.status = Some(AvailabilityStatus::Approved);
        e.repository_unique_id = Some("1.2.250.1.213.4.1.1.2".into());
        e.home_community_id = Some("urn:oid:1.2.250.1.213.4.1".into());
        e.other_slots.push((
            "documentAvailability".into(),
            vec!["urn:ihe:iti:2010:DocumentAvailability:Online".into()],
        ));
        entries.push(e);
    }
    let resp = QueryResponse {
        response: RegistryResponse::success(),
        objects: RegistryObjects {
            documents: entries.clone(),
            ..Default::default()
        },
        total_result_count: Some(entries.len() as u64),
    };
    let leaf = resp.to_xml(ReturnType::LeafClass).unwrap();
    assert_valid(QUERY_XSD, &leaf, "AdhocQueryResponse LeafClass");
    let back = QueryResponse::parse(envelope(&leaf).as_bytes()).unwrap();
    assert_eq!(back.objects.documents, entries);
    let refs = resp.to_xml(ReturnType::ObjectRef).unwrap();
    assert_valid(QUERY_XSD, &refs, "AdhocQueryResponse ObjectRef");
    let back = QueryResponse::parse(refs.as_bytes()).unwrap();
    assert_eq!(back.objects.object_refs.len(), entries.len());
    assert!(back.objects.documents.is_empty());

    let meta = docs[0].2.as_ref().unwrap();
    for (i, e) in entries.iter().enumerate().take(6) {
        let ss = submission_set(meta);
        for change in [
            StatusChange::Delete,
            StatusChange::Archive,
            StatusChange::Unarchive,
        ] {
            let u = UpdateDocumentSet::status(ss.clone(), &e.entry_uuid, change);
            let xml = u.to_xml().unwrap();
            assert_valid(LCM_XSD, &xml, "ITI-57 status");
            assert_eq!(
                UpdateDocumentSet::read(&parse(xml.as_bytes(), &XmlLimits::default()).unwrap())
                    .unwrap(),
                u
            );
        }
        let target = masked(i + 1);
        let u = UpdateDocumentSet::confidentiality(ss, e, target).unwrap();
        let xml = u.to_xml().unwrap();
        assert_valid(LCM_XSD, &xml, "ITI-57 confidentiality");
        let read = UpdateDocumentSet::read(&parse(xml.as_bytes(), &XmlLimits::default()).unwrap())
            .unwrap();
        assert_eq!(read, u);
        let UpdateOperation::Confidentiality {
            entry,
            previous_version,
        } = &read.operation
        else {
            panic!("not a metadata update")
        };
        assert_eq!(
            entry.logical_id.as_ref(),
            Some(e.logical_id.as_ref().unwrap_or(&e.entry_uuid))
        );
        assert_eq!(previous_version, e.version.as_deref().unwrap_or("1"));
        assert_eq!(entry.dmp_confidentiality(), target);
        assert_eq!(entry.confidentiality_codes[0], e.confidentiality_codes[0]);
        assert_eq!(
            (&entry.unique_id, &entry.hash, &entry.repository_unique_id),
            (&e.unique_id, &e.hash, &e.repository_unique_id)
        );
    }
    // Not the current version.
    let mut old = entries[0].clone();
    old.status = Some(AvailabilityStatus::Deprecated);
    assert!(UpdateDocumentSet::confidentiality(
        submission_set(meta),
        &old,
        DmpConfidentiality::VISIBLE
    )
    .is_err());
}

#[test]
fn iti43_request_and_response_validate() {
    let req = RetrieveRequest {
        documents: vec![
            DocumentRequest {
                home_community_id: None,
                repository_unique_id: "1.2.250.1.213.4.1.1.2".into(),
                document_unique_id: "1.2.250.1.999.1.1.8121.1".into(),
            },
            DocumentRequest {
                home_community_id: Some("urn:oid:1.2.250.1.213.4.1".into()),
                repository_unique_id: "1.2.250.1.213.4.1.1.2".into(),
                document_unique_id: "1.2.3^ext<&>".into(),
            },
        ],
    };
    let xml = req.to_xml().unwrap();
    assert_valid(IHE_XDSB, &xml, "RetrieveDocumentSetRequest");
    assert_eq!(
        RetrieveRequest::read(&parse(xml.as_bytes(), &XmlLimits::default()).unwrap()).unwrap(),
        req
    );
    let resp = RetrieveResponse {
        response: RegistryResponse::success(),
        documents: vec![RetrievedDocument {
            home_community_id: None,
            repository_unique_id: "1.2.250.1.213.4.1.1.2".into(),
            document_unique_id: "1.2.3".into(),
            mime_type: "text/xml".into(),
            content: documents()[0].1.clone(),
        }],
    };
    let (inline, _) = resp.to_xml(false);
    assert_valid(IHE_XDSB, &inline, "RetrieveDocumentSetResponse");
    // The MTOM form reads back to a document the CDA parser accepts.
    let (body, atts) = resp.to_xml(true);
    let (ct, raw) = mtom::build(envelope(&body).as_bytes(), ACTION_ITI43_RESPONSE, &atts);
    let back =
        RetrieveResponse::parse(&mtom::parse(&ct, &raw, &MtomLimits::default()).unwrap()).unwrap();
    assert_eq!(back, resp);
    segur_cda::parse(&back.documents[0].content).unwrap();
}

/// The reference examples parse with our readers (`xds/examples/`).
#[test]
fn reference_examples_parse() {
    let read = |rel: &str| std::fs::read(reference(rel)).unwrap();
    let big = XmlLimits {
        max_bytes: 8 << 20,
        ..XmlLimits::default()
    };

    let sor = parse(&read("xds/examples/SubmitObjectsRequest_ebrs30.xml"), &big).unwrap();
    let s = Submission::read(&sor, None).unwrap();
    assert!(!s.objects.documents.is_empty());
    assert_eq!(s.objects.submission_sets.len(), 1);
    assert!(!s.objects.associations.is_empty());
    let d = &s.objects.documents[0];
    assert!(!d.unique_id.is_empty() && !d.patient_id.is_empty());
    assert!(d.class_code.is_some() && !d.confidentiality_codes.is_empty() && !d.authors.is_empty());

    let pnr = parse(
        &read("xds/examples/ProvideAndRegisterDocumentSet_continua-hrn.xml"),
        &big,
    )
    .unwrap();
    let s = Submission::read(&pnr, None).unwrap();
    assert_eq!(s.objects.documents.len(), 1);
    let e = &s.objects.documents[0];
    assert_eq!(
        e.hash.as_deref(),
        Some("aaaaaaaaaabbbbbbbbbbccccccccccdddddddddd")
    );
    assert_eq!(e.size, Some(815));
    assert_eq!(e.source_patient_info.len(), 5);
    assert_eq!(s.documents.len(), 1);
    assert_eq!(s.documents[0].0, e.entry_uuid);
    assert!(s.documents[0].1.starts_with(b"<ClinicalDocument"));

    // The ITI-18 example carries an injection attempt in its patientId (an unbalanced quote):
    // refused as malformed, never passed on.
    let q = read("xds/examples/iti18request.xml");
    let el = parse(&q, &XmlLimits::default()).unwrap();
    let e = StoredQuery::read(&el).unwrap_err();
    assert!(matches!(e, DmpError::Malformed(_)), "{e}");
    let fixed = String::from_utf8(q)
        .unwrap()
        .replace("ISO''%20and%20611%3d611--%20", "ISO'");
    let (query, rt) =
        StoredQuery::read(&parse(fixed.as_bytes(), &XmlLimits::default()).unwrap()).unwrap();
    assert_eq!(rt, ReturnType::LeafClass);
    let StoredQuery::FindDocuments(f) = query else {
        panic!("not FindDocuments")
    };
    assert_eq!(f.patient_id, "593603^^^&2.16.756.5.33.2.5.1.5.1&ISO");
    assert_eq!(f.statuses, vec![AvailabilityStatus::Approved]);
    assert_eq!(
        f.creation_time_from
            .map(|t| entry::format_dtm(&t))
            .as_deref(),
        Some("20221015151515")
    );
    assert_eq!(
        f.creation_time_to.map(|t| entry::format_dtm(&t)).as_deref(),
        Some("20221016161616")
    );
}

/// The reference examples themselves validate (the harness works: a broken body fails).
#[test]
fn schema_check_can_fail() {
    assert_valid(
        LCM_XSD,
        &String::from_utf8(
            std::fs::read(reference("xds/examples/SubmitObjectsRequest_ebrs30.xml")).unwrap(),
        )
        .unwrap(),
        "example",
    );
    let q = StoredQuery::FindDocuments(FindDocuments::new(&ins()))
        .to_xml(ReturnType::LeafClass)
        .unwrap();
    let broken = q.replace("<query:ResponseOption", "<query:Nope");
    assert!(xmllint(QUERY_XSD, &broken).is_err());
}
