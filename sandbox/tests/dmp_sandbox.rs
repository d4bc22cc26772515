//! The DMP simulator over real mutual TLS, driven by hand-written SOAP 1.2 requests (not our
//! client): VIHFs signed by `xmlsec1 --sign` from a template, ITI-41 MTOM bodies assembled by
//! hand, answers read with the hardened XML reader and validated with `xmllint` against the
//! official schemas (`../shared/reference/xds/wsdl/schema`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use segur_net::http::{HttpsClient, HttpsConfig};
use segur_net::tls::client_config;
use segur_net::xml::{parse, Element, XmlLimits};
use segur_sandbox::dmp::seeds::{
    ADRDEUX_VSM_UNIQUE_ID, INS_PAT_TROIS, LAB_UNIQUE_ID, OID_NIR_TEST, PS_BIOLOGISTE, PS_EXPIRE,
    PS_MEDECIN_TRAITANT, VSM_UNIQUE_ID,
};
use segur_sandbox::dmp::REPOSITORY_UNIQUE_ID;
use segur_sandbox::pki::Issued;
use segur_sandbox::{Sandbox, SandboxOptions, SANDBOX_P12_PASSWORD};

const REFERENCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/reference");
const SOAP_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
const WSSE_NS: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const RS_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
const RIM_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
const QUERY_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";
const LCM_NS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
const XDSB_NS: &str = "urn:ihe:iti:xds-b:2007";
const HL7_NS: &str = "urn:hl7-org:v3";
const HAB_NS: &str = "urn:si-dmp-habilitations";

const APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
const DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
const DELETED: &str = "urn:asip:ci-sis:2010:StatusType:Deleted";
const ARCHIVED: &str = "urn:asip:ci-sis:2010:StatusType:Archived";
const SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
const FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";
const PARTIAL: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";

const FIND_DOCUMENTS: &str = "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d";
const FIND_SUBMISSION_SETS: &str = "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9";
const GET_DOCUMENTS: &str = "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4";

const A_ITI18: &str = "urn:ihe:iti:2007:RegistryStoredQuery";
const A_ITI41: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
const A_ITI43: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";
const A_ITI57: &str = "urn:ihe:iti:2010:UpdateDocumentSet";
const A_TD02: &str = "urn:hl7-org:v3:PRPA_IN201307UV02";
const A_SET_AUTH: &str = "urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization";
const A_LIST_AUTH: &str =
    "urn:si-dmp-habilitations:HabilitationsEndPoint:listAuthorizationByPatient";

/// Test identities of the INSi simulator with a DMP (see `dmp::seeds`).
const INS_ADRUN: &str = "275126322074974";
const INS_ADRDEUX: &str = "181016322075140";
const INS_CLOSED: &str = "160012B02077713";
const INS_NO_DMP: &str = "297022A02077878";
const INS_INTERDIT: &str = "109076322083489";
const INS_NO_FEED: &str = "236066322083656";
const INS_EXPIRED: &str = "180032B02040123";
const INS_HERMAN: &str = "181036322045676";
const OID_NIR: &str = "1.2.250.1.213.1.4.8";

// ---- shared sandbox ------------------------------------------------------------------------

struct Env {
    rt: tokio::runtime::Runtime,
    sb: Sandbox,
    client: HttpsClient,
    _dir: tempfile::TempDir,
    signed: Mutex<HashMap<String, String>>,
}

fn start() -> (
    tokio::runtime::Runtime,
    Sandbox,
    HttpsClient,
    tempfile::TempDir,
) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sb = rt
        .block_on(Sandbox::start(SandboxOptions::new(dir.path())))
        .unwrap();
    let pki = sb.pki();
    let anchors = pki.trust_anchors().unwrap();
    let id = pki.client_identity(&pki.client).unwrap();
    let client = HttpsClient::new(
        client_config(&anchors, Some(&id)).unwrap(),
        HttpsConfig {
            max_response_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(20),
            ..HttpsConfig::default()
        },
    );
    (rt, sb, client, dir)
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let (rt, sb, client, dir) = start();
        Env {
            rt,
            sb,
            client,
            _dir: dir,
            signed: Mutex::new(HashMap::new()),
        }
    })
}

fn tools_present() -> bool {
    ["/usr/bin/xmlsec1", "/usr/bin/xmllint", "/usr/bin/openssl"]
        .iter()
        .all(|p| Path::new(p).exists())
}

// ---- VIHF ----------------------------------------------------------------------------------

/// What goes into a test VIHF.
#[derive(Clone)]
struct V {
    ps: String,
    ins: String,
    oid: String,
    purpose: &'static str,
    /// An attribute (or `NameID`) left out.
    omit: Option<&'static str>,
    /// `Issuer` text (default: the signer's subject).
    issuer: Option<String>,
    /// `Conditions/@NotOnOrAfter`.
    not_on_or_after: Option<String>,
    /// PKCS#12 of the signer (default: the sandbox signing certificate).
    p12: Option<PathBuf>,
}

fn v(ps: &str, ins: &str, oid: &str) -> V {
    V {
        ps: ps.into(),
        ins: ins.into(),
        oid: oid.into(),
        purpose: "normal",
        omit: None,
        issuer: None,
        not_on_or_after: None,
        p12: None,
    }
}

fn pat_trois(ps: &str) -> V {
    v(ps, INS_PAT_TROIS, OID_NIR_TEST)
}

fn attr(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!(
        "<saml:Attribute Name=\"{name}\"><saml:AttributeValue>{value}</saml:AttributeValue></saml:Attribute>"
    ));
}

fn assertion_template(v: &V, issuer: &str) -> String {
    let id = format!("_{}", uuid::Uuid::new_v4());
    let now = Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let omit = |n: &str| v.omit == Some(n);
    let mut a = format!(
        "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ID=\"{id}\" IssueInstant=\"{now}\" Version=\"2.0\"><saml:Issuer Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName\">{issuer}</saml:Issuer>"
    );
    a.push_str(&format!(
        "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"ds saml #default xsi\"/></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>"
    ));
    a.push_str("<saml:Subject>");
    if !omit("NameID") {
        a.push_str(&format!("<saml:NameID>{}</saml:NameID>", v.ps));
    }
    a.push_str("</saml:Subject>");
    if let Some(na) = &v.not_on_or_after {
        a.push_str(&format!("<saml:Conditions NotOnOrAfter=\"{na}\"/>"));
    }
    a.push_str(&format!("<saml:AuthnStatement AuthnInstant=\"{now}\"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement><saml:AttributeStatement>"));
    let simple = [
        ("VIHF_Version", "3.0".to_owned()),
        ("Authentification_Mode", "INDIRECTE".to_owned()),
        ("Secteur_Activite", "SA07^1.2.250.1.71.4.2.4".to_owned()),
        (
            "urn:oasis:names:tc:xacml:2.0:resource:resource-id",
            format!("{}^^^&amp;{}&amp;ISO^NH", v.ins, v.oid),
        ),
        ("Ressource_URN", "urn:dmp".to_owned()),
        (
            "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
            "TESTEUR Dominique".to_owned(),
        ),
        ("Identifiant_Structure", "1499999999".to_owned()),
        ("LPS_Version", "1.0".to_owned()),
        ("LPS_Nom", "TESTS-MAIN".to_owned()),
        ("LPS_ID_HOMOLOGATION_DMP", "SEGURSANDBOX".to_owned()),
    ];
    for (name, value) in simple {
        if !omit(name) {
            attr(&mut a, name, &value);
        }
    }
    if !omit("purposeofuse") {
        attr(
            &mut a,
            "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse",
            &format!("<PurposeOfUse xmlns=\"urn:hl7-org:v3\" xsi:type=\"CE\" code=\"{}\" codeSystem=\"1.2.250.1.213.1.1.4.248\" codeSystemName=\"mode acces VIHF 1.0\" displayName=\"Accès\"/>", v.purpose),
        );
    }
    if !omit("role") {
        attr(
            &mut a,
            "urn:oasis:names:tc:xacml:2.0:subject:role",
            "<Role xmlns=\"urn:hl7-org:v3\" xsi:type=\"CE\" code=\"10\" codeSystem=\"1.2.250.1.71.1.2.7\" codeSystemName=\"TRE_G15\" displayName=\"Médecin\"/>",
        );
    }
    a.push_str("</saml:AttributeStatement></saml:Assertion>");
    a
}

/// A PKCS#12 holding only the key and the leaf certificate: `xmlsec1` writes every certificate
/// of the file into `X509Data`, and the VIHF carries the signer's certificate (`dmp.md` §4).
fn leaf_p12(issued: &Issued, dir: &Path, name: &str) -> PathBuf {
    let cert = dir.join(format!("{name}.pem"));
    let key = dir.join(format!("{name}.key"));
    let p12 = dir.join(format!("{name}.p12"));
    std::fs::write(&cert, &issued.cert_pem).unwrap();
    std::fs::write(&key, &issued.key_pem).unwrap();
    let out = Command::new("openssl")
        .args(["pkcs12", "-export", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&cert)
        .arg("-out")
        .arg(&p12)
        .args(["-passout", &format!("pass:{SANDBOX_P12_PASSWORD}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    p12
}

fn signing_p12(e: &Env) -> PathBuf {
    static P12: OnceLock<PathBuf> = OnceLock::new();
    P12.get_or_init(|| leaf_p12(&e.sb.pki().signing, e._dir.path(), "signing-leaf"))
        .clone()
}

/// Signs a VIHF with `xmlsec1 --sign` (cached per spec).
fn vihf(spec: &V) -> String {
    let e = env();
    let p12 = spec.p12.clone().unwrap_or_else(|| signing_p12(e));
    let issuer = spec
        .issuer
        .clone()
        .unwrap_or_else(|| segur_net::dsig::subject_dn_of(&e.sb.pki().signing.cert_der).unwrap());
    let key = format!(
        "{}|{}|{}|{}|{:?}|{}|{:?}|{}",
        spec.ps,
        spec.ins,
        spec.oid,
        spec.purpose,
        spec.omit,
        issuer,
        spec.not_on_or_after,
        p12.display()
    );
    if let Some(s) = e.signed.lock().unwrap().get(&key) {
        return s.clone();
    }
    let signed = xmlsec_sign(
        &assertion_template(spec, &issuer),
        &p12,
        SANDBOX_P12_PASSWORD,
    );
    e.signed.lock().unwrap().insert(key, signed.clone());
    signed
}

fn xmlsec_sign(template: &str, p12: &Path, password: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.xml");
    let output = dir.path().join("out.xml");
    std::fs::write(&input, template).unwrap();
    let out = Command::new("xmlsec1")
        .arg("--sign")
        .arg("--pkcs12")
        .arg(p12)
        .args(["--pwd", password])
        .args([
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
        ])
        .arg("--output")
        .arg(&output)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmlsec1 --sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&output).unwrap();
    match text.find("?>") {
        Some(i) if text.starts_with("<?xml") => text[i + 2..].trim().to_owned(),
        _ => text.trim().to_owned(),
    }
}

// ---- requests ------------------------------------------------------------------------------

fn envelope(action: Option<&str>, to: &str, assertion: Option<&str>, body: &str) -> String {
    let mut h = String::new();
    if let Some(a) = action {
        h.push_str(&format!(
            "<wsa:Action s:mustUnderstand=\"true\">{a}</wsa:Action>"
        ));
    }
    h.push_str(&format!(
        "<wsa:MessageID>urn:uuid:{}</wsa:MessageID><wsa:To>{to}</wsa:To>",
        uuid::Uuid::new_v4()
    ));
    if let Some(a) = assertion {
        h.push_str(&format!(
            "<wsse:Security xmlns:wsse=\"{WSSE_NS}\">{a}</wsse:Security>"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope xmlns:s=\"{SOAP_NS}\" xmlns:wsa=\"{WSA_NS}\"><s:Header>{h}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    )
}

struct Resp {
    status: u16,
    content_type: String,
    body: Bytes,
}

impl Resp {
    /// The SOAP envelope: the whole body, or the root part of an MTOM answer.
    fn envelope_text(&self) -> String {
        if self.content_type.starts_with("multipart/related") {
            let parts = split_multipart(&self.content_type, &self.body);
            String::from_utf8(parts[0].2.clone()).unwrap()
        } else {
            String::from_utf8(self.body.to_vec()).unwrap()
        }
    }

    fn envelope(&self) -> Element {
        parse(self.envelope_text().as_bytes(), &XmlLimits::default()).unwrap()
    }

    /// The first child of the SOAP body.
    fn payload(&self) -> Element {
        let env = self.envelope();
        let payload = env
            .child(SOAP_NS, "Body")
            .unwrap()
            .elements()
            .next()
            .unwrap()
            .clone();
        payload
    }

    /// The fault's subcode value, when a fault.
    fn fault(&self) -> Option<(String, Option<String>, String)> {
        let p = self.payload();
        if !p.is(SOAP_NS, "Fault") {
            return None;
        }
        let code = p.child(SOAP_NS, "Code").unwrap();
        let value = code.child_text(SOAP_NS, "Value").unwrap();
        let sub = code
            .child(SOAP_NS, "Subcode")
            .and_then(|s| s.child_text(SOAP_NS, "Value"));
        let reason = p
            .child(SOAP_NS, "Reason")
            .and_then(|r| r.child_text(SOAP_NS, "Text"))
            .unwrap_or_default();
        Some((value, sub, reason))
    }

    /// Every `RegistryError/@errorCode` of the answer.
    fn error_codes(&self) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(e: &Element, out: &mut Vec<String>) {
            if e.is(RS_NS, "RegistryError") {
                out.push(e.attr("errorCode").unwrap_or("").to_owned());
            }
            for c in e.elements() {
                walk(c, out);
            }
        }
        walk(&self.payload(), &mut out);
        out
    }

    /// The `status` of the registry response (nested in ITI-43 answers).
    fn registry_status(&self) -> String {
        let p = self.payload();
        let rr = if p.is(XDSB_NS, "RetrieveDocumentSetResponse") {
            p.child(RS_NS, "RegistryResponse").unwrap().clone()
        } else {
            p
        };
        rr.attr("status").unwrap_or("").to_owned()
    }

    /// The wsa:Action header.
    fn action(&self) -> String {
        self.envelope()
            .child(SOAP_NS, "Header")
            .and_then(|h| h.child_text(WSA_NS, "Action"))
            .unwrap_or_default()
    }
}

fn url(service: &str) -> String {
    format!("{}/{service}", env().sb.dmp_url())
}

fn post_raw(url: &str, content_type: &str, body: Vec<u8>) -> Resp {
    let e = env();
    let r =
        e.rt.block_on(e.client.post(url, content_type, &[], Bytes::from(body)))
            .unwrap();
    Resp {
        status: r.status,
        content_type: r.content_type.unwrap_or_default(),
        body: r.body,
    }
}

fn soap(service: &str, action: &str, v: Option<&V>, body: &str) -> Resp {
    let assertion = v.map(vihf);
    let to = url(service);
    let env = envelope(Some(action), &to, assertion.as_deref(), body);
    post_raw(
        &to,
        &format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
        env.into_bytes(),
    )
}

const BOUNDARY: &str = "MIMEBoundary_test_5f0c";

/// An MTOM/XOP message assembled by hand (XOP 1.0, RFC 2387).
fn mtom(action: &str, envelope: &str, parts: &[(String, String, Vec<u8>)]) -> (String, Vec<u8>) {
    let ct = format!(
        "multipart/related; boundary=\"{BOUNDARY}\"; type=\"application/xop+xml\"; start=\"<root@test>\"; start-info=\"application/soap+xml\"; action=\"{action}\""
    );
    let mut b = Vec::new();
    b.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <root@test>\r\n\r\n").as_bytes());
    b.extend_from_slice(envelope.as_bytes());
    for (cid, ctype, bytes) in parts {
        b.extend_from_slice(format!("\r\n--{BOUNDARY}\r\nContent-Type: {ctype}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <{cid}>\r\n\r\n").as_bytes());
        b.extend_from_slice(bytes);
    }
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    (ct, b)
}

/// Splits a multipart body: (content-id, content-type, bytes) per part.
fn split_multipart(content_type: &str, body: &[u8]) -> Vec<(String, String, Vec<u8>)> {
    let b = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let delim = format!("--{b}");
    let text = body;
    let mut out = Vec::new();
    let mut pos = find(text, delim.as_bytes(), 0).expect("first boundary");
    loop {
        let after = pos + delim.len();
        if text.get(after..after + 2) == Some(b"--") {
            break;
        }
        let next = find(text, delim.as_bytes(), after).expect("closing boundary");
        let part = &text[after..next];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let split = find(part, b"\r\n\r\n", 0).unwrap();
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let mut content = &part[split + 4..];
        content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let header = |n: &str| {
            headers
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(n)
                        .then(|| v.trim().to_owned())
                })
                .unwrap_or_default()
        };
        out.push((
            header("content-id").trim_matches(['<', '>']).to_owned(),
            header("content-type"),
            content.to_vec(),
        ));
        pos = next;
    }
    out
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

// ---- xmllint -------------------------------------------------------------------------------

fn schema(rel: &str) -> String {
    format!("{REFERENCE}/xds/wsdl/schema/{rel}")
}

fn xmllint(xml: &str, xsd: &str) {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("doc.xml");
    std::fs::write(&f, xml).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", xsd])
        .arg(&f)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmllint {xsd}:\n{}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The body payload of an answer as a standalone document, XOP includes replaced by the base64
/// of their parts (the XOP infoset, XOP 1.0 §3).
fn payload_document(r: &Resp) -> String {
    let env = r.envelope_text();
    let start = env.find("<soap:Body>").unwrap() + "<soap:Body>".len();
    let end = env.rfind("</soap:Body>").unwrap();
    let mut body = env[start..end].to_owned();
    if r.content_type.starts_with("multipart/related") {
        use base64::Engine as _;
        for (cid, _, bytes) in split_multipart(&r.content_type, &r.body)
            .into_iter()
            .skip(1)
        {
            // RFC 2392: the `@` of the Content-ID may be written verbatim or as `%40`.
            let verbatim = format!("<xop:Include href=\"cid:{cid}\"/>");
            let encoded = format!("<xop:Include href=\"cid:{}\"/>", cid.replace('@', "%40"));
            let inc = if body.contains(&verbatim) {
                verbatim
            } else {
                encoded
            };
            assert!(body.contains(&inc), "{inc} not in {body}");
            body = body.replace(
                &inc,
                &base64::engine::general_purpose::STANDARD.encode(&bytes),
            );
        }
    }
    body
}

// ---- message bodies ------------------------------------------------------------------------

fn td02(ins: &str, oid: &str) -> String {
    format!(
        "<PRPA_IN201307UV02 xmlns=\"{HL7_NS}\" ITSVersion=\"XML_1.0\"><id root=\"1.2.3.4.5\" extension=\"{req}\"/><creationTime value=\"20250101120000\"/><interactionId root=\"2.16.840.1.113883.1.6\" extension=\"PRPA_IN201307UV02\"/><processingCode code=\"P\"/><processingModeCode code=\"T\"/><acceptAckCode code=\"AL\"/><receiver typeCode=\"RCV\"><device classCode=\"DEV\" determinerCode=\"INSTANCE\"><id root=\"1.2.250.1.213.4.1.1.1\"/><softwareName>DMP</softwareName></device></receiver><sender typeCode=\"SND\"><device classCode=\"DEV\" determinerCode=\"INSTANCE\"><id root=\"1.2.3.4.5.6\"/><softwareName>TESTS</softwareName></device></sender><controlActProcess classCode=\"CACT\" moodCode=\"EVN\"><reasonCode code=\"TEST_EXST\" codeSystem=\"1.2.250.1.213.1.1.4.11\" displayName=\"Test d'existence de dossier\"/><queryByParameter><queryId root=\"1.2.3.4.5.7\" extension=\"q-{req}\"/><statusCode code=\"new\"/><parameterList><patientIdentifier><value root=\"{oid}\" extension=\"{ins}\"/><semanticsText>Patient.id</semanticsText></patientIdentifier></parameterList></queryByParameter></controlActProcess></PRPA_IN201307UV02>",
        req = uuid::Uuid::new_v4()
    )
}

fn set_auth(action: &str) -> String {
    format!("<setAuthorization xmlns=\"{HAB_NS}\"><action>{action}</action></setAuthorization>")
}

fn list_auth() -> String {
    format!("<listAuthorizationByPatient xmlns=\"{HAB_NS}\"><mode>TOUTE</mode></listAuthorizationByPatient>")
}

fn slot(name: &str, values: &[&str]) -> String {
    let vals: String = values
        .iter()
        .map(|v| format!("<rim:Value>{}</rim:Value>", v.replace('&', "&amp;")))
        .collect();
    format!("<rim:Slot name=\"{name}\"><rim:ValueList>{vals}</rim:ValueList></rim:Slot>")
}

fn query(id: &str, return_type: &str, params: &[(&str, &[&str])]) -> String {
    let slots: String = params.iter().map(|(n, v)| slot(n, v)).collect();
    format!(
        "<query:AdhocQueryRequest xmlns:query=\"{QUERY_NS}\" xmlns:rim=\"{RIM_NS}\"><query:ResponseOption returnComposedObjects=\"true\" returnType=\"{return_type}\"/><rim:AdhocQuery id=\"{id}\">{slots}</rim:AdhocQuery></query:AdhocQueryRequest>"
    )
}

fn cx(ins: &str, oid: &str) -> String {
    format!("{ins}^^^&{oid}&ISO^NH")
}

fn find_docs(ins: &str, oid: &str, statuses: &[&str], extra: &[(&str, &[&str])]) -> String {
    let pid = format!("'{}'", cx(ins, oid));
    let st = format!(
        "({})",
        statuses
            .iter()
            .map(|s| format!("'{s}'"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut params: Vec<(&str, &[&str])> = Vec::new();
    let pid_arr = [pid.as_str()];
    let st_arr = [st.as_str()];
    params.push(("$XDSDocumentEntryPatientId", &pid_arr));
    params.push(("$XDSDocumentEntryStatus", &st_arr));
    params.extend_from_slice(extra);
    query(FIND_DOCUMENTS, "LeafClass", &params)
}

fn retrieve(uids: &[(&str, &str)]) -> String {
    let reqs: String = uids
        .iter()
        .map(|(repo, uid)| format!("<xdsb:DocumentRequest><xdsb:RepositoryUniqueId>{repo}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>"))
        .collect();
    format!("<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"{XDSB_NS}\">{reqs}</xdsb:RetrieveDocumentSetRequest>")
}

/// One document of a test submission.
#[derive(Clone)]
struct Doc {
    id: String,
    unique_id: String,
    bytes: Vec<u8>,
    patient: String,
    /// hash slot value (None: left out, the repository computes it).
    hash: Option<String>,
    size: Option<String>,
    masked: bool,
    omit_class: bool,
    /// `lid` for an ITI-57 new version.
    lid: Option<String>,
}

fn doc(id: &str, patient: &str, bytes: &[u8]) -> Doc {
    Doc {
        id: id.into(),
        unique_id: format!("2.25.{}", uuid::Uuid::new_v4().as_u128()),
        bytes: bytes.to_vec(),
        patient: patient.into(),
        hash: Some(sha1_hex(bytes)),
        size: Some(bytes.len().to_string()),
        masked: false,
        omit_class: false,
        lid: None,
    }
}

fn sha1_hex(b: &[u8]) -> String {
    use sha1::Digest;
    sha1::Sha1::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn classification(scheme: &str, obj: &str, code: &str, system: &str, name: &str) -> String {
    format!(
        "<rim:Classification id=\"urn:uuid:{}\" classificationScheme=\"{scheme}\" classifiedObject=\"{obj}\" nodeRepresentation=\"{code}\">{}<rim:Name><rim:LocalizedString value=\"{name}\"/></rim:Name></rim:Classification>",
        uuid::Uuid::new_v4(),
        slot("codingScheme", &[system])
    )
}

fn ext_id(scheme: &str, obj: &str, value: &str, name: &str) -> String {
    format!(
        "<rim:ExternalIdentifier id=\"urn:uuid:{}\" identificationScheme=\"{scheme}\" registryObject=\"{obj}\" value=\"{}\"><rim:Name><rim:LocalizedString value=\"{name}\"/></rim:Name></rim:ExternalIdentifier>",
        uuid::Uuid::new_v4(),
        value.replace('&', "&amp;")
    )
}

const AUTHOR: &str = "810000000001^TESTEUR^Dominique^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS";

fn extrinsic(d: &Doc) -> String {
    let id = &d.id;
    let mut s = format!(
        "<rim:ExtrinsicObject id=\"{id}\" mimeType=\"text/xml\" objectType=\"urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1\"{}>",
        d.lid
            .as_ref()
            .map(|l| format!(" lid=\"{l}\""))
            .unwrap_or_default()
    );
    s.push_str(&slot("creationTime", &["20250101100000"]));
    if let Some(h) = &d.hash {
        s.push_str(&slot("hash", &[h]));
    }
    s.push_str(&slot("languageCode", &["fr-FR"]));
    s.push_str(&slot("serviceStartTime", &["20250101093000"]));
    if let Some(sz) = &d.size {
        s.push_str(&slot("size", &[sz]));
    }
    s.push_str(&slot("sourcePatientId", &["42^^^&1.2.3.4&ISO^PI"]));
    s.push_str("<rim:Name><rim:LocalizedString value=\"Synthèse médicale\"/></rim:Name>");
    s.push_str(&format!(
        "<rim:Classification id=\"urn:uuid:{}\" classificationScheme=\"urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d\" classifiedObject=\"{id}\" nodeRepresentation=\"\">{}</rim:Classification>",
        uuid::Uuid::new_v4(),
        slot("authorPerson", &[AUTHOR])
    ));
    if !d.omit_class {
        s.push_str(&classification(
            "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
            id,
            "11",
            "1.2.250.1.213.1.1.4.1",
            "Synthèse",
        ));
    }
    s.push_str(&classification(
        "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
        id,
        "N",
        "2.16.840.1.113883.5.25",
        "Normal",
    ));
    if d.masked {
        s.push_str(&classification(
            "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
            id,
            "MASQUE_PS",
            "1.2.250.1.213.1.1.4.13",
            "Masqué",
        ));
    }
    s.push_str(&classification(
        "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
        id,
        "urn:asip:ci-sis:vsm:2012",
        "1.2.250.1.213.1.1.4.2.282",
        "VSM",
    ));
    s.push_str(&classification(
        "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
        id,
        "SA07",
        "1.2.250.1.71.4.2.4",
        "Cabinet individuel",
    ));
    s.push_str(&classification(
        "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
        id,
        "AMBULATOIRE",
        "1.2.250.1.213.1.1.4.9",
        "Ambulatoire",
    ));
    s.push_str(&classification(
        "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
        id,
        "SYNTH",
        "1.2.250.1.213.1.1.4.12",
        "Synthèse",
    ));
    s.push_str(&ext_id(
        "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
        id,
        &d.patient,
        "XDSDocumentEntry.patientId",
    ));
    s.push_str(&ext_id(
        "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
        id,
        &d.unique_id,
        "XDSDocumentEntry.uniqueId",
    ));
    s.push_str("</rim:ExtrinsicObject>");
    s
}

fn submission_set(patient: &str) -> String {
    let mut s = String::from("<rim:RegistryPackage id=\"SubmissionSet01\">");
    s.push_str(&slot("submissionTime", &["20250101100500"]));
    s.push_str(&format!(
        "<rim:Classification id=\"urn:uuid:{}\" classificationScheme=\"urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d\" classifiedObject=\"SubmissionSet01\" nodeRepresentation=\"\">{}</rim:Classification>",
        uuid::Uuid::new_v4(),
        slot("authorPerson", &[AUTHOR])
    ));
    s.push_str(&classification(
        "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
        "SubmissionSet01",
        "SA07",
        "1.2.250.1.71.4.2.4",
        "Cabinet individuel",
    ));
    s.push_str(&ext_id(
        "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
        "SubmissionSet01",
        patient,
        "XDSSubmissionSet.patientId",
    ));
    s.push_str(&ext_id(
        "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
        "SubmissionSet01",
        "1.2.3.4.5.6",
        "XDSSubmissionSet.sourceId",
    ));
    s.push_str(&ext_id(
        "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
        "SubmissionSet01",
        &format!("2.25.{}", uuid::Uuid::new_v4().as_u128()),
        "XDSSubmissionSet.uniqueId",
    ));
    s.push_str("</rim:RegistryPackage>");
    s.push_str(&format!("<rim:Classification id=\"urn:uuid:{}\" classifiedObject=\"SubmissionSet01\" classificationNode=\"urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd\"/>", uuid::Uuid::new_v4()));
    s
}

fn association(kind: &str, source: &str, target: &str, slots: &[(&str, &str)]) -> String {
    let s: String = slots.iter().map(|(n, v)| slot(n, &[v])).collect();
    format!(
        "<rim:Association id=\"urn:uuid:{}\" associationType=\"{kind}\" sourceObject=\"{source}\" targetObject=\"{target}\">{s}</rim:Association>",
        uuid::Uuid::new_v4()
    )
}

const HAS_MEMBER: &str = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
const RPLC: &str = "urn:ihe:iti:2007:AssociationType:RPLC";

fn submit_objects(patient: &str, docs: &[Doc], extra: &str) -> String {
    let mut s = format!(
        "<lcm:SubmitObjectsRequest xmlns:lcm=\"{LCM_NS}\" xmlns:rim=\"{RIM_NS}\"><rim:RegistryObjectList>"
    );
    s.push_str(&submission_set(patient));
    for d in docs {
        s.push_str(&extrinsic(d));
        s.push_str(&association(
            HAS_MEMBER,
            "SubmissionSet01",
            &d.id,
            &[("SubmissionSetStatus", "Original")],
        ));
    }
    s.push_str(extra);
    s.push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
    s
}

/// ITI-41 with MTOM: one XOP part per document in `parts` (default: every doc).
fn pnr_mtom(v: &V, sor: &str, parts: &[(&str, &[u8])]) -> Resp {
    let docs: String = parts
        .iter()
        .enumerate()
        .map(|(i, (id, _))| {
            format!("<xdsb:Document id=\"{id}\"><xop:Include xmlns:xop=\"http://www.w3.org/2004/08/xop/include\" href=\"cid:doc{i}%40test\"/></xdsb:Document>")
        })
        .collect();
    let body = format!(
        "<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"{XDSB_NS}\">{sor}{docs}</xdsb:ProvideAndRegisterDocumentSetRequest>"
    );
    let to = url("repository");
    let env = envelope(Some(A_ITI41), &to, Some(&vihf(v)), &body);
    let mime_parts: Vec<(String, String, Vec<u8>)> = parts
        .iter()
        .enumerate()
        .map(|(i, (_, b))| (format!("doc{i}@test"), "text/xml".to_owned(), b.to_vec()))
        .collect();
    let (ct, body) = mtom(A_ITI41, &env, &mime_parts);
    post_raw(&to, &ct, body)
}

fn pnr(v: &V, docs: &[Doc], extra: &str) -> Resp {
    let sor = submit_objects(&docs[0].patient, docs, extra);
    let parts: Vec<(&str, &[u8])> = docs
        .iter()
        .map(|d| (d.id.as_str(), d.bytes.as_slice()))
        .collect();
    pnr_mtom(v, &sor, &parts)
}

fn vsm_bytes() -> Vec<u8> {
    std::fs::read(format!("{REFERENCE}/cda/ExemplesCDA/VSM_1.4_2022.01.xml")).unwrap()
}

/// The ExtrinsicObjects of a LeafClass answer.
fn extrinsics(r: &Resp) -> Vec<Element> {
    r.payload()
        .child(RIM_NS, "RegistryObjectList")
        .unwrap()
        .children_named(RIM_NS, "ExtrinsicObject")
        .cloned()
        .collect()
}

fn unique_id_of(eo: &Element) -> String {
    eo.children_named(RIM_NS, "ExternalIdentifier")
        .find(|x| {
            x.attr("identificationScheme") == Some("urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab")
        })
        .and_then(|x| x.attr("value"))
        .unwrap_or("")
        .to_owned()
}

fn slot_of(eo: &Element, name: &str) -> Option<String> {
    eo.children_named(RIM_NS, "Slot")
        .find(|s| s.attr("name") == Some(name))
        .and_then(|s| s.child(RIM_NS, "ValueList"))
        .and_then(|l| l.child_text(RIM_NS, "Value"))
}

fn authorize(v: &V) {
    let r = soap("habilitations", A_SET_AUTH, Some(v), &set_auth("AJOUT"));
    assert_eq!(r.status, 200, "{}", r.envelope_text());
}

// ---- tests ---------------------------------------------------------------------------------

#[test]
fn td02_existence_and_access_state() {
    if !tools_present() {
        return;
    }
    let r = soap(
        "patients",
        A_TD02,
        Some(&pat_trois(PS_MEDECIN_TRAITANT)),
        &td02(INS_PAT_TROIS, OID_NIR_TEST),
    );
    assert_eq!(r.status, 200, "{}", r.envelope_text());
    assert_eq!(r.action(), "urn:hl7-org:v3:PRPA_IN201308UV02");
    let p = r.payload();
    assert!(p.is(HL7_NS, "PRPA_IN201308UV02"));
    let cap = p.child(HL7_NS, "controlActProcess").unwrap();
    let ack = cap.child(HL7_NS, "queryAck").unwrap();
    assert_eq!(
        ack.child(HL7_NS, "queryResponseCode").unwrap().attr("code"),
        Some("OK")
    );
    let reg = cap
        .child(HL7_NS, "subject")
        .unwrap()
        .child(HL7_NS, "registrationEvent")
        .unwrap();
    assert_eq!(
        reg.child(HL7_NS, "statusCode").unwrap().attr("code"),
        Some("active")
    );
    let person = reg
        .child(HL7_NS, "subject1")
        .unwrap()
        .child(HL7_NS, "patient")
        .unwrap();
    assert_eq!(
        person.child(HL7_NS, "id").unwrap().attr("extension"),
        Some(INS_PAT_TROIS)
    );
    let pp = person.child(HL7_NS, "patientPerson").unwrap();
    let name = pp.child(HL7_NS, "name").unwrap();
    assert_eq!(
        name.child_text(HL7_NS, "family").as_deref(),
        Some("PAT-TROIS")
    );
    assert_eq!(
        name.child_text(HL7_NS, "given").as_deref(),
        Some("DOMINIQUE")
    );
    assert_eq!(
        pp.child(HL7_NS, "birthTime").unwrap().attr("value"),
        Some("19790328")
    );
    let etat = reg.child("urn:si-dmp:td02", "etatAcces").unwrap();
    assert_eq!(etat.attr("autorisation"), Some("AUTORISE"));
    assert_eq!(etat.attr("medecinTraitant"), Some("true"));
    assert_eq!(etat.attr("oppositionAlimentation"), Some("false"));

    let state = |ps: &str, ins: &str, oid: &str| -> (String, Option<Element>) {
        let r = soap("patients", A_TD02, Some(&v(ps, ins, oid)), &td02(ins, oid));
        assert_eq!(r.status, 200, "{}", r.envelope_text());
        let cap = r
            .payload()
            .child(HL7_NS, "controlActProcess")
            .unwrap()
            .clone();
        let code = cap
            .child(HL7_NS, "queryAck")
            .and_then(|a| a.child(HL7_NS, "queryResponseCode"))
            .and_then(|c| c.attr("code"))
            .unwrap()
            .to_owned();
        let reg = cap
            .child(HL7_NS, "subject")
            .and_then(|s| s.child(HL7_NS, "registrationEvent"))
            .cloned();
        (code, reg)
    };
    let etat = |reg: &Element, a: &str| {
        reg.child("urn:si-dmp:td02", "etatAcces")
            .unwrap()
            .attr(a)
            .unwrap()
            .to_owned()
    };
    // No DMP.
    let (code, reg) = state("810000000001", INS_NO_DMP, OID_NIR);
    assert_eq!(code, "NF");
    assert!(reg.is_none());
    // Closed DMP.
    let (code, reg) = state("810000000001", INS_CLOSED, OID_NIR);
    assert_eq!(code, "OK");
    assert_eq!(
        reg.unwrap()
            .child(HL7_NS, "statusCode")
            .unwrap()
            .attr("code"),
        Some("terminated")
    );
    // Oppositions, expired and missing authorizations.
    let (_, reg) = state("810000000001", INS_INTERDIT, OID_NIR);
    assert_eq!(etat(&reg.unwrap(), "autorisation"), "INTERDIT");
    let (_, reg) = state("810000000001", INS_NO_FEED, OID_NIR);
    let reg = reg.unwrap();
    assert_eq!(etat(&reg, "oppositionAlimentation"), "true");
    assert_eq!(etat(&reg, "autorisation"), "NON_AUTORISE");
    let (_, reg) = state(PS_EXPIRE, INS_EXPIRED, OID_NIR);
    assert_eq!(etat(&reg.unwrap(), "autorisation"), "EXPIRE");
    // The queried INS must be the VIHF's patient.
    let r = soap(
        "patients",
        A_TD02,
        Some(&pat_trois(PS_MEDECIN_TRAITANT)),
        &td02(INS_ADRUN, OID_NIR),
    );
    assert_eq!(r.status, 400);
    let (code, sub, _) = r.fault().unwrap();
    assert_eq!(code, "soap:Sender");
    assert_eq!(sub.as_deref(), Some("DMP_PATIENT_DIFFERENT"));
}

#[test]
fn td03_authorizations() {
    if !tools_present() {
        return;
    }
    let ps = "810000000101";
    let me = v(ps, INS_HERMAN, OID_NIR);
    let listed = |who: &V| -> Vec<(String, String)> {
        let r = soap("habilitations", A_LIST_AUTH, Some(who), &list_auth());
        assert_eq!(r.status, 200, "{}", r.envelope_text());
        assert!(r.action().ends_with("listAuthorizationByPatientResponse"));
        r.payload()
            .children_named(HAB_NS, "authorization")
            .map(|a| {
                (
                    a.child_text(HAB_NS, "idNat").unwrap(),
                    a.child_text(HAB_NS, "statut").unwrap(),
                )
            })
            .collect()
    };
    assert!(!listed(&me).iter().any(|(id, _)| id == ps));
    let r = soap("habilitations", A_SET_AUTH, Some(&me), &set_auth("AJOUT"));
    assert_eq!(r.status, 200, "{}", r.envelope_text());
    let p = r.payload();
    assert!(p.is(HAB_NS, "setAuthorizationResponse"));
    assert_eq!(p.child_text(HAB_NS, "status").as_deref(), Some("OK"));
    assert_eq!(
        p.child_text(HAB_NS, "autorisation").as_deref(),
        Some("AUTORISE")
    );
    assert!(listed(&me).contains(&(ps.to_owned(), "AUTORISE".to_owned())));
    let r = soap("patients", A_TD02, Some(&me), &td02(INS_HERMAN, OID_NIR));
    let reg = r.payload();
    let etat = reg
        .child(HL7_NS, "controlActProcess")
        .unwrap()
        .child(HL7_NS, "subject")
        .unwrap()
        .child(HL7_NS, "registrationEvent")
        .unwrap()
        .child("urn:si-dmp:td02", "etatAcces")
        .unwrap()
        .clone();
    assert_eq!(etat.attr("autorisation"), Some("AUTORISE"));
    let r = soap(
        "habilitations",
        A_SET_AUTH,
        Some(&me),
        &set_auth("SUPPRESSION"),
    );
    assert_eq!(
        r.payload().child_text(HAB_NS, "autorisation").as_deref(),
        Some("NON_AUTORISE")
    );
    assert!(!listed(&me).iter().any(|(id, _)| id == ps));

    // Refusals are SOAP faults with the DMP code.
    for (ins, code) in [
        (INS_INTERDIT, "DMP_OPPOSITION"),
        (INS_NO_DMP, "DMP_INEXISTANT"),
        (INS_CLOSED, "DMP_FERME"),
    ] {
        let r = soap(
            "habilitations",
            A_SET_AUTH,
            Some(&v(ps, ins, OID_NIR)),
            &set_auth("AJOUT"),
        );
        assert_eq!(r.status, 400, "{ins}");
        assert_eq!(r.fault().unwrap().1.as_deref(), Some(code), "{ins}");
    }
    let r = soap(
        "habilitations",
        A_SET_AUTH,
        Some(&me),
        &set_auth("PEUT-ETRE"),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.fault().unwrap().0, "soap:Sender");
}

#[test]
fn vihf_mandatory_attributes_signature_and_signer() {
    if !tools_present() {
        return;
    }
    let td02_fault = |spec: &V| -> (u16, Option<String>, String) {
        let r = soap(
            "patients",
            A_TD02,
            Some(spec),
            &td02(INS_PAT_TROIS, OID_NIR_TEST),
        );
        let (_, sub, reason) = r.fault().unwrap_or_default();
        (r.status, sub, reason)
    };
    for (omit, named) in [
        ("VIHF_Version", "VIHF_Version"),
        ("Identifiant_Structure", "Identifiant_Structure"),
        ("Secteur_Activite", "Secteur_Activite"),
        (
            "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
            "subject-id",
        ),
        ("role", "role"),
        ("purposeofuse", "purposeofuse"),
        (
            "urn:oasis:names:tc:xacml:2.0:resource:resource-id",
            "resource-id",
        ),
        ("Ressource_URN", "Ressource_URN"),
        ("LPS_Nom", "LPS_Nom"),
        ("LPS_Version", "LPS_Version"),
        ("LPS_ID_HOMOLOGATION_DMP", "LPS_ID_HOMOLOGATION_DMP"),
        ("Authentification_Mode", "Authentification_Mode"),
        ("NameID", "NameID"),
    ] {
        let mut spec = pat_trois(PS_MEDECIN_TRAITANT);
        spec.omit = Some(omit);
        let (status, sub, reason) = td02_fault(&spec);
        assert_eq!(status, 400, "{omit}");
        assert_eq!(sub.as_deref(), Some("DMP_VIHF_INVALIDE"), "{omit}");
        assert!(reason.contains(named), "{omit}: {reason}");
    }
    // On the XDS services the refusal is a registry error.
    let mut spec = pat_trois(PS_MEDECIN_TRAITANT);
    spec.omit = Some("LPS_Nom");
    let r = soap(
        "registry",
        A_ITI18,
        Some(&spec),
        &find_docs(INS_PAT_TROIS, OID_NIR_TEST, &[APPROVED], &[]),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.error_codes(), ["DMP_VIHF_INVALIDE"]);
    assert_eq!(r.registry_status(), FAILURE);
    xmllint(&payload_document(&r), &schema("ebRS30/query.xsd"));

    // No VIHF at all.
    let r = soap("patients", A_TD02, None, &td02(INS_PAT_TROIS, OID_NIR_TEST));
    assert_eq!(r.fault().unwrap().1.as_deref(), Some("DMP_VIHF_INVALIDE"));

    // A one-byte change after signing breaks the signature.
    let good = vihf(&pat_trois(PS_MEDECIN_TRAITANT));
    let tampered = good.replace(">TESTS-MAIN<", ">TESTS-MAIM<");
    assert_ne!(good, tampered);
    let to = url("patients");
    let r = post_raw(
        &to,
        "application/soap+xml; charset=UTF-8",
        envelope(
            Some(A_TD02),
            &to,
            Some(&tampered),
            &td02(INS_PAT_TROIS, OID_NIR_TEST),
        )
        .into_bytes(),
    );
    let (_, sub, reason) = r.fault().unwrap();
    assert_eq!(sub.as_deref(), Some("DMP_VIHF_INVALIDE"));
    assert!(reason.contains("signature"), "{reason}");
    // The untouched one passes.
    let r = post_raw(
        &to,
        "application/soap+xml; charset=UTF-8",
        envelope(
            Some(A_TD02),
            &to,
            Some(&good),
            &td02(INS_PAT_TROIS, OID_NIR_TEST),
        )
        .into_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.envelope_text());

    // Signers: outside the sandbox PKI, expired, Issuer not the signer.
    let dir = tempfile::tempdir().unwrap();
    let foreign = foreign_p12(dir.path());
    let mut spec = pat_trois(PS_MEDECIN_TRAITANT);
    spec.p12 = Some(foreign);
    spec.issuer = Some("CN=FOREIGN,O=ELSEWHERE,C=FR".into());
    let (_, sub, reason) = td02_fault(&spec);
    assert_eq!(sub.as_deref(), Some("DMP_VIHF_INVALIDE"));
    assert!(reason.contains("certificat"), "{reason}");

    let e = env();
    let now = Utc::now();
    let expired: Issued =
        e.sb.pki()
            .issue_signing(
                "SEGUR SANDBOX CACHET OLD",
                now - chrono::Duration::days(30),
                now - chrono::Duration::days(1),
            )
            .unwrap();
    let p12 = leaf_p12(&expired, dir.path(), "old");
    let mut spec = pat_trois(PS_MEDECIN_TRAITANT);
    spec.issuer = Some(segur_net::dsig::subject_dn_of(&expired.cert_der).unwrap());
    spec.p12 = Some(p12);
    let (_, sub, reason) = td02_fault(&spec);
    assert_eq!(sub.as_deref(), Some("DMP_VIHF_INVALIDE"));
    assert!(reason.contains("validité"), "{reason}");

    let mut spec = pat_trois(PS_MEDECIN_TRAITANT);
    spec.issuer = Some("CN=SOMEONE ELSE,O=SEGUR SANDBOX,C=FR".into());
    let (_, sub, reason) = td02_fault(&spec);
    assert_eq!(sub.as_deref(), Some("DMP_VIHF_INVALIDE"));
    assert!(reason.contains("Issuer"), "{reason}");

    // Expired assertion.
    let mut spec = pat_trois(PS_MEDECIN_TRAITANT);
    spec.not_on_or_after = Some(
        (now - chrono::Duration::hours(2))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string(),
    );
    let (_, sub, reason) = td02_fault(&spec);
    assert_eq!(sub.as_deref(), Some("DMP_VIHF_INVALIDE"));
    assert!(reason.contains("expirée"), "{reason}");
}

/// An RSA certificate and key outside the sandbox PKI (self-signed with OpenSSL).
fn foreign_p12(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
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
        "f.key",
        "-out",
        "f.pem",
        "-days",
        "5",
        "-subj",
        "/C=FR/O=ELSEWHERE/CN=FOREIGN",
        "-addext",
        "keyUsage=digitalSignature,nonRepudiation",
    ]);
    run(&[
        "pkcs12",
        "-export",
        "-inkey",
        "f.key",
        "-in",
        "f.pem",
        "-out",
        "f.p12",
        "-passout",
        &format!("pass:{SANDBOX_P12_PASSWORD}"),
    ]);
    dir.join("f.p12")
}

#[test]
fn addressing_and_envelope_faults() {
    if !tools_present() {
        return;
    }
    let spec = pat_trois(PS_MEDECIN_TRAITANT);
    // An action of another service.
    let r = soap(
        "repository",
        A_ITI18,
        Some(&spec),
        &find_docs(INS_PAT_TROIS, OID_NIR_TEST, &[APPROVED], &[]),
    );
    assert_eq!(r.status, 400);
    let (code, sub, _) = r.fault().unwrap();
    assert_eq!(code, "soap:Sender");
    assert_eq!(sub.as_deref(), Some("wsa:ActionNotSupported"));
    let detail = r.payload().child(SOAP_NS, "Detail").unwrap().clone();
    assert_eq!(
        detail
            .child(WSA_NS, "ProblemAction")
            .and_then(|p| p.child_text(WSA_NS, "Action"))
            .as_deref(),
        Some(A_ITI18)
    );
    assert_eq!(r.action(), "http://www.w3.org/2005/08/addressing/fault");
    // No Action.
    let to = url("registry");
    let r = post_raw(
        &to,
        "application/soap+xml",
        envelope(None, &to, Some(&vihf(&spec)), "<x/>").into_bytes(),
    );
    assert_eq!(
        r.fault().unwrap().1.as_deref(),
        Some("wsa:MessageAddressingHeaderRequired")
    );
    // SOAP 1.1.
    let r = post_raw(
        &to,
        "text/xml",
        b"<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body/></e:Envelope>"
            .to_vec(),
    );
    assert_eq!(r.status, 500);
    assert_eq!(r.fault().unwrap().0, "soap:VersionMismatch");
    // Not XML.
    let r = post_raw(&to, "application/soap+xml", b"<<<".to_vec());
    assert_eq!(r.status, 400);
    // Unknown path, wrong method.
    let r = post_raw(
        &format!("{}/nothing", env().sb.dmp_url()),
        "text/plain",
        Vec::new(),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn feed_find_retrieve_replace_mask_delete() {
    if !tools_present() {
        return;
    }
    let ps = "810000000201";
    let me = v(ps, INS_ADRUN, OID_NIR);
    let patient = cx(INS_ADRUN, OID_NIR);
    let bytes = vsm_bytes();
    let d1 = doc("Document01", &patient, &bytes);

    // The request itself follows the schema (base64 in place of the XOP include).
    {
        use base64::Engine as _;
        let inline = format!(
            "<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"{XDSB_NS}\">{}<xdsb:Document id=\"Document01\">{}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>",
            submit_objects(&patient, std::slice::from_ref(&d1), ""),
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        xmllint(&inline, &schema("IHE/IHEXDSB-libxml2.xsd"));
    }

    // Feeding needs no authorization (dmp.md §9); the answer to MTOM is MTOM.
    let r = pnr(&me, std::slice::from_ref(&d1), "");
    assert_eq!(r.status, 200, "{}", r.envelope_text());
    assert!(
        r.content_type.starts_with("multipart/related"),
        "{}",
        r.content_type
    );
    assert_eq!(
        r.action(),
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse"
    );
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    xmllint(&payload_document(&r), &schema("ebRS30/rs.xsd"));

    // Consulting does.
    let q = find_docs(INS_ADRUN, OID_NIR, &[APPROVED], &[]);
    let r = soap("registry", A_ITI18, Some(&me), &q);
    assert_eq!(r.error_codes(), ["DMP_ACCES_NON_AUTORISE"]);
    authorize(&me);
    let r = soap("registry", A_ITI18, Some(&me), &q);
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    assert_eq!(r.action(), "urn:ihe:iti:2007:RegistryStoredQueryResponse");
    xmllint(&payload_document(&r), &schema("ebRS30/query.xsd"));
    assert_eq!(r.payload().attr("totalResultCount"), Some("1"));
    let eos = extrinsics(&r);
    assert_eq!(eos.len(), 1);
    let eo = &eos[0];
    assert_eq!(unique_id_of(eo), d1.unique_id);
    assert_eq!(eo.attr("status"), Some(APPROVED));
    let entry_uuid = eo.attr("id").unwrap().to_owned();
    assert!(
        entry_uuid.starts_with("urn:uuid:"),
        "symbolic id replaced: {entry_uuid}"
    );
    assert_eq!(eo.attr("lid"), Some(entry_uuid.as_str()));
    assert_eq!(slot_of(eo, "hash").unwrap(), sha1_hex(&bytes));
    assert_eq!(slot_of(eo, "size").unwrap(), bytes.len().to_string());
    assert_eq!(
        slot_of(eo, "repositoryUniqueId").as_deref(),
        Some(REPOSITORY_UNIQUE_ID)
    );
    for c in eo.children_named(RIM_NS, "Classification") {
        assert_eq!(c.attr("classifiedObject"), Some(entry_uuid.as_str()));
    }

    // ObjectRef.
    let q = query(
        FIND_DOCUMENTS,
        "ObjectRef",
        &[
            ("$XDSDocumentEntryPatientId", &[&format!("'{patient}'")]),
            ("$XDSDocumentEntryStatus", &[&format!("('{APPROVED}')")]),
        ],
    );
    let r = soap("registry", A_ITI18, Some(&me), &q);
    let refs: Vec<String> = r
        .payload()
        .child(RIM_NS, "RegistryObjectList")
        .unwrap()
        .children_named(RIM_NS, "ObjectRef")
        .map(|o| o.attr("id").unwrap().to_owned())
        .collect();
    assert_eq!(refs, std::slice::from_ref(&entry_uuid));
    xmllint(&payload_document(&r), &schema("ebRS30/query.xsd"));

    // Retrieve: MTOM, bytes as sent.
    let r = soap(
        "repository",
        A_ITI43,
        Some(&me),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, &d1.unique_id)]),
    );
    assert_eq!(r.status, 200, "{}", r.envelope_text());
    assert!(r.content_type.starts_with("multipart/related"));
    assert_eq!(r.action(), "urn:ihe:iti:2007:RetrieveDocumentSetResponse");
    assert_eq!(r.registry_status(), SUCCESS);
    let parts = split_multipart(&r.content_type, &r.body);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1].2, bytes);
    xmllint(&payload_document(&r), &schema("IHE/IHEXDSB-libxml2.xsd"));

    // Replace (RPLC): the old entry becomes Deprecated.
    let mut d2 = doc("Document02", &patient, &bytes[..bytes.len() - 1]);
    d2.hash = None;
    d2.size = None;
    let rplc = association(RPLC, "Document02", &entry_uuid, &[]);
    let r = pnr(&me, std::slice::from_ref(&d2), &rplc);
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    let r = soap(
        "registry",
        A_ITI18,
        Some(&me),
        &find_docs(INS_ADRUN, OID_NIR, &[APPROVED, DEPRECATED], &[]),
    );
    let eos = extrinsics(&r);
    let status_of = |uid: &str| {
        eos.iter()
            .find(|e| unique_id_of(e) == uid)
            .unwrap()
            .attr("status")
            .unwrap()
            .to_owned()
    };
    assert_eq!(status_of(&d1.unique_id), DEPRECATED);
    assert_eq!(status_of(&d2.unique_id), APPROVED);
    let new = eos
        .iter()
        .find(|e| unique_id_of(e) == d2.unique_id)
        .unwrap();
    assert_eq!(slot_of(new, "size").unwrap(), (bytes.len() - 1).to_string());
    let new_uuid = new.attr("id").unwrap().to_owned();
    // A second replacement of the deprecated entry is refused.
    let d3 = doc("Document03", &patient, b"<x/>");
    let r = pnr(
        &me,
        std::slice::from_ref(&d3),
        &association(RPLC, "Document03", &entry_uuid, &[]),
    );
    assert_eq!(r.error_codes(), ["XDSRegistryDeprecatedDocumentError"]);

    // Mask (ITI-57 new metadata version with MASQUE_PS): new entryUUID, same lid, version 2.
    let mut v2 = d2.clone();
    v2.id = "NewVersion".into();
    v2.lid = Some(new_uuid.clone());
    v2.masked = true;
    v2.hash = None;
    v2.size = None;
    let mut sor = format!("<lcm:SubmitObjectsRequest xmlns:lcm=\"{LCM_NS}\" xmlns:rim=\"{RIM_NS}\"><rim:RegistryObjectList>");
    sor.push_str(&submission_set(&patient));
    sor.push_str(&extrinsic(&v2));
    sor.push_str(&association(
        HAS_MEMBER,
        "SubmissionSet01",
        "NewVersion",
        &[
            ("SubmissionSetStatus", "Original"),
            ("PreviousVersion", "1"),
        ],
    ));
    sor.push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
    xmllint(&sor, &schema("ebRS30/lcm.xsd"));
    let r = soap("registry", A_ITI57, Some(&me), &sor);
    assert_eq!(r.status, 200, "{}", r.envelope_text());
    assert_eq!(r.action(), "urn:ihe:iti:2010:UpdateDocumentSetResponse");
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    xmllint(&payload_document(&r), &schema("ebRS30/rs.xsd"));
    let get = query(
        GET_DOCUMENTS,
        "LeafClass",
        &[(
            "$XDSDocumentEntryUniqueId",
            &[&format!("('{}')", d2.unique_id)],
        )],
    );
    let r = soap("registry", A_ITI18, Some(&me), &get);
    let eos = extrinsics(&r);
    assert_eq!(eos.len(), 1);
    let masked_uuid = eos[0].attr("id").unwrap().to_owned();
    assert_ne!(masked_uuid, new_uuid);
    assert_eq!(eos[0].attr("lid"), Some(new_uuid.as_str()));
    assert_eq!(
        eos[0]
            .child(RIM_NS, "VersionInfo")
            .unwrap()
            .attr("versionName"),
        Some("2")
    );
    xmllint(&payload_document(&r), &schema("ebRS30/query.xsd"));
    // The old version is Deprecated; the same PreviousVersion again is a version error.
    let r = soap(
        "registry",
        A_ITI18,
        Some(&me),
        &query(
            GET_DOCUMENTS,
            "LeafClass",
            &[("$XDSDocumentEntryEntryUUID", &[&format!("('{new_uuid}')")])],
        ),
    );
    assert_eq!(extrinsics(&r)[0].attr("status"), Some(DEPRECATED));
    let r = soap(
        "registry",
        A_ITI57,
        Some(&me),
        &sor.replace("SubmissionSet01", "SubmissionSet02"),
    );
    assert!(
        r.error_codes()
            .contains(&"XDSMetadataVersionError".to_owned()),
        "{:?}",
        r.error_codes()
    );
    // Another authorized professional no longer sees it, nor retrieves it.
    let other = v("810000000202", INS_ADRUN, OID_NIR);
    authorize(&other);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&other),
        &find_docs(INS_ADRUN, OID_NIR, &[APPROVED], &[]),
    );
    assert!(extrinsics(&r)
        .iter()
        .all(|e| unique_id_of(e) != d2.unique_id));
    let r = soap(
        "repository",
        A_ITI43,
        Some(&other),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, &d2.unique_id)]),
    );
    assert_eq!(r.error_codes(), ["DMP_ACCES_NON_AUTORISE"]);
    // The author still does.
    let r = soap(
        "repository",
        A_ITI43,
        Some(&me),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, &d2.unique_id)]),
    );
    assert_eq!(r.registry_status(), SUCCESS);

    // Archive, back, delete (ITI-57 UpdateAvailabilityStatus).
    let status_update = |target: &str, from: &str, to: &str| -> Resp {
        let mut s = format!("<lcm:SubmitObjectsRequest xmlns:lcm=\"{LCM_NS}\" xmlns:rim=\"{RIM_NS}\"><rim:RegistryObjectList>");
        s.push_str(&submission_set(&patient));
        s.push_str(&association(
            "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus",
            "SubmissionSet01",
            target,
            &[("OriginalStatus", from), ("NewStatus", to)],
        ));
        s.push_str("</rim:RegistryObjectList></lcm:SubmitObjectsRequest>");
        soap("registry", A_ITI57, Some(&me), &s)
    };
    let r = status_update(&masked_uuid, APPROVED, ARCHIVED);
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    let r = status_update(&masked_uuid, ARCHIVED, APPROVED);
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    let r = status_update(&masked_uuid, ARCHIVED, DELETED);
    assert_eq!(r.error_codes(), ["XDSMetadataUpdateError"]);
    let r = status_update(&masked_uuid, APPROVED, DELETED);
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    let r = status_update(&masked_uuid, DELETED, APPROVED);
    assert_eq!(r.error_codes(), ["XDSMetadataUpdateOperationError"]);
    let r = status_update(
        "urn:uuid:00000000-0000-4000-8000-000000000000",
        APPROVED,
        DELETED,
    );
    assert_eq!(r.error_codes(), ["XDSMetadataUpdateError"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&me),
        &find_docs(INS_ADRUN, OID_NIR, &[APPROVED], &[]),
    );
    assert!(extrinsics(&r)
        .iter()
        .all(|e| unique_id_of(e) != d2.unique_id));
    let r = soap(
        "registry",
        A_ITI18,
        Some(&me),
        &find_docs(INS_ADRUN, OID_NIR, &[DELETED], &[]),
    );
    assert_eq!(
        extrinsics(&r).iter().map(unique_id_of).collect::<Vec<_>>(),
        [d2.unique_id.clone()]
    );
    let r = soap(
        "repository",
        A_ITI43,
        Some(&me),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, &d2.unique_id)]),
    );
    assert_eq!(r.error_codes(), ["XDSMissingDocument"]);

    // The submission sets are found too.
    let q = query(
        FIND_SUBMISSION_SETS,
        "LeafClass",
        &[
            ("$XDSSubmissionSetPatientId", &[&format!("'{patient}'")]),
            ("$XDSSubmissionSetStatus", &[&format!("('{APPROVED}')")]),
        ],
    );
    let r = soap("registry", A_ITI18, Some(&me), &q);
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    let packages = r
        .payload()
        .child(RIM_NS, "RegistryObjectList")
        .unwrap()
        .children_named(RIM_NS, "RegistryPackage")
        .count();
    assert!(packages >= 6, "{packages}");
    xmllint(&payload_document(&r), &schema("ebRS30/query.xsd"));
}

#[test]
fn iti41_registry_errors() {
    if !tools_present() {
        return;
    }
    let ps = "810000000301";
    let patient = cx(INS_HERMAN, OID_NIR);
    let me = v(ps, INS_HERMAN, OID_NIR);
    let codes = |r: &Resp| {
        assert_eq!(r.status, 200, "{}", r.envelope_text());
        assert_eq!(r.registry_status(), FAILURE);
        let mut c = r.error_codes();
        c.sort();
        c
    };
    let b = b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"/>".to_vec();

    let mut d = doc("Document01", &patient, &b);
    d.omit_class = true;
    let r = pnr(&me, &[d], "");
    assert_eq!(codes(&r), ["XDSRegistryMetadataError"]);
    xmllint(&payload_document(&r), &schema("ebRS30/rs.xsd"));

    let d = doc("Document01", &patient, &b);
    let sor = submit_objects(&patient, std::slice::from_ref(&d), "");
    assert_eq!(codes(&pnr_mtom(&me, &sor, &[])), ["XDSMissingDocument"]);
    assert_eq!(
        codes(&pnr_mtom(&me, &sor, &[("Document01", &b), ("Stray", &b)])),
        ["XDSMissingDocumentMetadata"]
    );

    let mut d = doc("Document01", &patient, &b);
    d.hash = Some("0".repeat(40));
    assert_eq!(codes(&pnr(&me, &[d], "")), ["XDSRepositoryMetadataError"]);
    let mut d = doc("Document01", &patient, &b);
    d.size = Some("1".into());
    assert_eq!(codes(&pnr(&me, &[d], "")), ["XDSRepositoryMetadataError"]);

    let d = doc("Document01", &patient, &b);
    let mut twin = doc("Document02", &patient, &b);
    twin.unique_id = d.unique_id.clone();
    assert_eq!(
        codes(&pnr(&me, &[d.clone(), twin], "")),
        ["XDSRegistryDuplicateUniqueIdInMessage"]
    );
    // Registered, then sent again: same bytes, other bytes.
    let r = pnr(&me, std::slice::from_ref(&d), "");
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
    assert_eq!(
        codes(&pnr(&me, std::slice::from_ref(&d), "")),
        ["XDSDuplicateUniqueIdInRegistry"]
    );
    let resend = |bytes: &[u8]| {
        let mut other = d.clone();
        other.bytes = bytes.to_vec();
        other.hash = Some(sha1_hex(bytes));
        other.size = Some(bytes.len().to_string());
        codes(&pnr(&me, &[other], ""))
    };
    assert_eq!(
        resend(b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><x/></ClinicalDocument>"),
        ["XDSNonIdenticalSize"]
    );
    assert_eq!(
        resend(b"<ClinicalDocument xmlns=\"urn:hl7-org:v4\"/>"),
        ["XDSNonIdenticalHash"]
    );

    // Patient checks.
    let d = doc("Document01", &cx(INS_ADRUN, OID_NIR), &b);
    assert_eq!(
        codes(&pnr(&me, &[d], "")),
        ["DMP_PATIENT_DIFFERENT", "XDSPatientIdDoesNotMatch"]
    );
    for (ins, expected) in [
        (INS_NO_DMP, vec!["DMP_INEXISTANT", "XDSUnknownPatientId"]),
        (INS_CLOSED, vec!["DMP_FERME"]),
        (INS_NO_FEED, vec!["DMP_OPPOSITION"]),
        (INS_INTERDIT, vec!["DMP_OPPOSITION"]),
    ] {
        let d = doc("Document01", &cx(ins, OID_NIR), &b);
        assert_eq!(
            codes(&pnr(&v(ps, ins, OID_NIR), &[d], "")),
            expected,
            "{ins}"
        );
    }
    // RPLC towards nothing.
    let d = doc("Document01", &patient, &b);
    let rplc = association(
        RPLC,
        "Document01",
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        &[],
    );
    assert_eq!(codes(&pnr(&me, &[d], &rplc)), ["XDSRegistryMetadataError"]);

    // Plain SOAP with the document inline (base64) is accepted too.
    use base64::Engine as _;
    let d = doc("Document01", &patient, &b);
    let body = format!(
        "<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb=\"{XDSB_NS}\">{}<xdsb:Document id=\"Document01\">{}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>",
        submit_objects(&patient, std::slice::from_ref(&d), ""),
        base64::engine::general_purpose::STANDARD.encode(&b)
    );
    let r = soap("repository", A_ITI41, Some(&me), &body);
    assert!(r.content_type.starts_with("application/soap+xml"));
    assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
}

#[test]
fn iti18_queries_and_errors() {
    if !tools_present() {
        return;
    }
    let mt = pat_trois(PS_MEDECIN_TRAITANT);
    let codes = |r: &Resp| {
        assert_eq!(r.status, 200, "{}", r.envelope_text());
        r.error_codes()
    };
    let uids = |r: &Resp| -> Vec<String> {
        assert_eq!(r.registry_status(), SUCCESS, "{:?}", r.error_codes());
        let mut v: Vec<String> = extrinsics(r).iter().map(unique_id_of).collect();
        v.sort();
        v
    };
    // The seeded DMP: the masked lab report is hidden from the médecin traitant.
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &find_docs(INS_PAT_TROIS, OID_NIR_TEST, &[APPROVED], &[]),
    );
    let all = uids(&r);
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.contains(&VSM_UNIQUE_ID.to_owned()) && !all.contains(&LAB_UNIQUE_ID.to_owned()));
    xmllint(&payload_document(&r), &schema("ebRS30/query.xsd"));
    // Its author sees it (emergency access: he has no authorization).
    let mut bio = pat_trois(PS_BIOLOGISTE);
    bio.purpose = "bris_de_glace";
    let r = soap(
        "registry",
        A_ITI18,
        Some(&bio),
        &find_docs(INS_PAT_TROIS, OID_NIR_TEST, &[APPROVED], &[]),
    );
    assert!(uids(&r).contains(&LAB_UNIQUE_ID.to_owned()));
    let r = soap(
        "repository",
        A_ITI43,
        Some(&bio),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, LAB_UNIQUE_ID)]),
    );
    assert_eq!(r.registry_status(), SUCCESS);

    // Filters.
    let q = |extra: &[(&str, &[&str])]| {
        soap(
            "registry",
            A_ITI18,
            Some(&mt),
            &find_docs(INS_PAT_TROIS, OID_NIR_TEST, &[APPROVED], extra),
        )
    };
    assert_eq!(
        uids(&q(&[(
            "$XDSDocumentEntryTypeCode",
            &["('SYNTH^^^1.2.250.1.213.1.1.4.12')"]
        )])),
        [VSM_UNIQUE_ID]
    );
    assert_eq!(
        uids(&q(&[(
            "$XDSDocumentEntryClassCode",
            &["('11^^^1.2.250.1.213.1.1.4.1','52^^^1.2.250.1.213.1.1.4.1')"]
        )]))
        .len(),
        2
    );
    assert_eq!(
        uids(&q(&[(
            "$XDSDocumentEntryFormatCode",
            &["('urn:asip:ci-sis:vsm:2012^^^1.2.250.1.213.1.1.4.2.282')"]
        )])),
        [VSM_UNIQUE_ID]
    );
    assert_eq!(
        uids(&q(&[
            ("$XDSDocumentEntryCreationTimeFrom", &["20210101"]),
            ("$XDSDocumentEntryCreationTimeTo", &["20220101"])
        ]))
        .len(),
        1
    );
    assert_eq!(
        uids(&q(&[("$XDSDocumentEntryCreationTimeFrom", &["2023"])])).len(),
        1
    );
    assert_eq!(
        uids(&q(&[(
            "$XDSDocumentEntryServiceStartTimeTo",
            &["20200313"]
        )])),
        [VSM_UNIQUE_ID]
    );
    assert_eq!(
        uids(&q(&[("$XDSDocumentEntryAuthorPerson", &["('%MEDIONI%')"])])),
        [VSM_UNIQUE_ID]
    );
    assert_eq!(
        uids(&q(&[(
            "$XDSDocumentEntryConfidentialityCode",
            &["('N^^^2.16.840.1.113883.5.25')"]
        )]))
        .len(),
        3
    );
    assert_eq!(
        uids(&q(&[
            (
                "$XDSDocumentEntryConfidentialityCode",
                &["('N^^^2.16.840.1.113883.5.25')"]
            ),
            (
                "$XDSDocumentEntryConfidentialityCode",
                &["('MASQUE_PS^^^1.2.250.1.213.1.1.4.13')"]
            )
        ]))
        .len(),
        0
    );
    assert_eq!(
        uids(&q(&[
            (
                "$XDSDocumentEntryHealthcareFacilityTypeCode",
                &["('SA04^^^1.2.250.1.71.4.2.4')"]
            ),
            (
                "$XDSDocumentEntryPracticeSettingCode",
                &["('ETABLISSEMENT^^^1.2.250.1.213.1.1.4.9')"]
            )
        ])),
        [VSM_UNIQUE_ID]
    );
    // Paging (ebRS 3.0 startIndex / maxResults, totalResultCount).
    let mut paged = find_docs(INS_PAT_TROIS, OID_NIR_TEST, &[APPROVED], &[]);
    paged = paged.replace(
        "<query:AdhocQueryRequest ",
        "<query:AdhocQueryRequest startIndex=\"1\" maxResults=\"1\" ",
    );
    let r = soap("registry", A_ITI18, Some(&mt), &paged);
    assert_eq!(extrinsics(&r).len(), 1);
    assert_eq!(r.payload().attr("totalResultCount"), Some("3"));
    assert_eq!(r.payload().attr("startIndex"), Some("1"));
    // GetDocuments.
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &query(
            GET_DOCUMENTS,
            "LeafClass",
            &[(
                "$XDSDocumentEntryUniqueId",
                &[&format!("('{VSM_UNIQUE_ID}','{LAB_UNIQUE_ID}')")],
            )],
        ),
    );
    assert_eq!(uids(&r), [VSM_UNIQUE_ID]);

    // Errors.
    let pid = format!("'{}'", cx(INS_PAT_TROIS, OID_NIR_TEST));
    let st = format!("('{APPROVED}')");
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &query(
            "urn:uuid:00000000-0000-4000-8000-000000000000",
            "LeafClass",
            &[],
        ),
    );
    assert_eq!(codes(&r), ["XDSUnknownStoredQuery"]);
    xmllint(&payload_document(&r), &schema("ebRS30/query.xsd"));
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &query(
            FIND_DOCUMENTS,
            "LeafClass",
            &[("$XDSDocumentEntryPatientId", &[&pid])],
        ),
    );
    assert_eq!(codes(&r), ["XDSStoredQueryMissingParam"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &query(
            FIND_DOCUMENTS,
            "LeafClass",
            &[
                ("$XDSDocumentEntryPatientId", &[&pid, &pid]),
                ("$XDSDocumentEntryStatus", &[&st]),
            ],
        ),
    );
    assert_eq!(codes(&r), ["XDSStoredQueryParamNumber"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &query(
            FIND_DOCUMENTS,
            "LeafClass",
            &[
                ("$XDSDocumentEntryPatientId", &[&pid]),
                ("$XDSDocumentEntryStatus", &[&st]),
                ("$XDSDocumentEntryTypeCode", &["('A')"]),
                ("$XDSDocumentEntryTypeCode", &["('B')"]),
            ],
        ),
    );
    assert_eq!(codes(&r), ["XDSStoredQueryParamNumber"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &query(GET_DOCUMENTS, "LeafClass", &[]),
    );
    assert_eq!(codes(&r), ["XDSStoredQueryMissingParam"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&mt),
        &find_docs(INS_ADRDEUX, OID_NIR, &[APPROVED], &[]),
    );
    assert_eq!(
        codes(&r),
        ["DMP_PATIENT_DIFFERENT", "XDSPatientIdDoesNotMatch"]
    );
    let r = soap(
        "registry",
        A_ITI18,
        Some(&v(PS_EXPIRE, INS_EXPIRED, OID_NIR)),
        &find_docs(INS_EXPIRED, OID_NIR, &[APPROVED], &[]),
    );
    assert_eq!(codes(&r), ["DMP_ACCES_NON_AUTORISE"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&v(PS_MEDECIN_TRAITANT, INS_INTERDIT, OID_NIR)),
        &find_docs(INS_INTERDIT, OID_NIR, &[APPROVED], &[]),
    );
    assert_eq!(codes(&r), ["DMP_OPPOSITION"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&v(PS_MEDECIN_TRAITANT, INS_CLOSED, OID_NIR)),
        &find_docs(INS_CLOSED, OID_NIR, &[APPROVED], &[]),
    );
    assert_eq!(codes(&r), ["DMP_FERME"]);
    let r = soap(
        "registry",
        A_ITI18,
        Some(&v(PS_MEDECIN_TRAITANT, INS_NO_DMP, OID_NIR)),
        &find_docs(INS_NO_DMP, OID_NIR, &[APPROVED], &[]),
    );
    assert_eq!(codes(&r), ["DMP_INEXISTANT"]);
}

#[test]
fn iti43_retrieve_errors_and_partial_success() {
    if !tools_present() {
        return;
    }
    let mt = pat_trois(PS_MEDECIN_TRAITANT);
    let r = soap(
        "repository",
        A_ITI43,
        Some(&mt),
        &retrieve(&[
            (REPOSITORY_UNIQUE_ID, VSM_UNIQUE_ID),
            (REPOSITORY_UNIQUE_ID, "1.2.3.999"),
        ]),
    );
    assert_eq!(r.registry_status(), PARTIAL);
    assert_eq!(r.error_codes(), ["XDSMissingDocument"]);
    let parts = split_multipart(&r.content_type, &r.body);
    assert_eq!(parts.len(), 2);
    assert_eq!(parts[1].2, vsm_bytes());
    xmllint(&payload_document(&r), &schema("IHE/IHEXDSB-libxml2.xsd"));
    let r = soap(
        "repository",
        A_ITI43,
        Some(&mt),
        &retrieve(&[("1.2.3.4", VSM_UNIQUE_ID)]),
    );
    assert_eq!(r.registry_status(), FAILURE);
    assert_eq!(r.error_codes(), ["XDSUnknownRepositoryId"]);
    xmllint(&payload_document(&r), &schema("IHE/IHEXDSB-libxml2.xsd"));
    let r = soap(
        "repository",
        A_ITI43,
        Some(&mt),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, LAB_UNIQUE_ID)]),
    );
    assert_eq!(r.error_codes(), ["DMP_ACCES_NON_AUTORISE"]);
    // Another patient's document is not in this DMP.
    let r = soap(
        "repository",
        A_ITI43,
        Some(&mt),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, ADRDEUX_VSM_UNIQUE_ID)]),
    );
    assert_eq!(r.error_codes(), ["XDSMissingDocument"]);
    // Without authorization.
    let r = soap(
        "repository",
        A_ITI43,
        Some(&pat_trois("810000000401")),
        &retrieve(&[(REPOSITORY_UNIQUE_ID, VSM_UNIQUE_ID)]),
    );
    assert_eq!(r.error_codes(), ["DMP_ACCES_NON_AUTORISE"]);
    assert_eq!(r.registry_status(), FAILURE);
}

#[test]
fn fault_switches() {
    if !tools_present() {
        return;
    }
    // A sandbox of its own: the switches are global.
    let (rt, sb, client, _dir) = start();
    let e = env();
    let spec = pat_trois(PS_MEDECIN_TRAITANT);
    // The VIHF must be signed by this sandbox's PKI.
    let p12 = leaf_p12(&sb.pki().signing, _dir.path(), "signing-leaf");
    let issuer = segur_net::dsig::subject_dn_of(&sb.pki().signing.cert_der).unwrap();
    let assertion = xmlsec_sign(
        &assertion_template(&spec, &issuer),
        &p12,
        SANDBOX_P12_PASSWORD,
    );
    let base = sb.dmp_url();
    let send = |service: &str, action: &str, body: &str| -> Resp {
        let to = format!("{base}/{service}");
        let env = envelope(Some(action), &to, Some(&assertion), body);
        let r = rt
            .block_on(client.post(
                &to,
                "application/soap+xml; charset=UTF-8",
                &[],
                Bytes::from(env),
            ))
            .unwrap();
        Resp {
            status: r.status,
            content_type: r.content_type.unwrap_or_default(),
            body: r.body,
        }
    };
    let control = |method_post: Option<&str>| -> (u16, String) {
        let faults = sb
            .dmp_url()
            .replace("/si-dmp-server/v2/services", "/sandbox/dmp/faults");
        match method_post {
            Some(b) => {
                let r = rt
                    .block_on(client.post(&faults, "text/plain", &[], Bytes::from(b.to_owned())))
                    .unwrap();
                (r.status, String::from_utf8_lossy(&r.body).into_owned())
            }
            None => {
                // GET, straight to the handler (the test client only POSTs).
                let req = segur_net::http::HttpRequest {
                    method: "GET".into(),
                    path: "/sandbox/dmp/faults".into(),
                    query: None,
                    headers: Vec::new(),
                    body: Bytes::new(),
                    peer_certificates: Vec::new(),
                    peer_addr: sb.dmp_addr(),
                };
                let r = rt.block_on(sb.dmp().clone().handle(req));
                (r.status, String::from_utf8_lossy(&r.body).into_owned())
            }
        }
    };
    let _ = e;
    let (st, text) = control(None);
    assert_eq!(st, 200);
    assert_eq!(
        text,
        "fault=off\ndelay_ms=0\nmalformed=off\nlost_answers=0\n"
    );
    // Lost ITI-41 answers (committed, then cut): set and read over HTTP.
    assert_eq!(control(Some("lost_answers=2")).0, 200);
    assert_eq!(sb.dmp_faults().lost_answers(), 2);
    assert_eq!(control(Some("lost_answers=x")).0, 400);
    assert!(control(Some("lost_answers=0")).1.contains("lost_answers=0"));

    // SOAP faults.
    assert_eq!(control(Some("fault=soap")).0, 200);
    assert!(sb.dmp_faults().soap_fault());
    let r = send("patients", A_TD02, &td02(INS_PAT_TROIS, OID_NIR_TEST));
    assert_eq!(r.status, 500);
    assert_eq!(r.fault().unwrap().0, "soap:Receiver");
    control(Some("fault=off"));
    let r = send("patients", A_TD02, &td02(INS_PAT_TROIS, OID_NIR_TEST));
    assert_eq!(r.status, 200);

    // Malformed answers: truncated XML, truncated MTOM.
    sb.dmp_faults().set_malformed(true);
    assert!(control(None).1.contains("malformed=on"));
    let r = send("patients", A_TD02, &td02(INS_PAT_TROIS, OID_NIR_TEST));
    assert!(parse(&r.body, &XmlLimits::default()).is_err());
    let r = send(
        "repository",
        A_ITI43,
        &retrieve(&[(REPOSITORY_UNIQUE_ID, VSM_UNIQUE_ID)]),
    );
    assert!(r.content_type.starts_with("multipart/related"));
    let closing = format!(
        "--{}--",
        r.content_type
            .split("boundary=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
    );
    assert!(find(&r.body, closing.as_bytes(), 0).is_none());
    assert!(segur_dmp::mtom::parse(&r.content_type, &r.body, &Default::default()).is_err());
    assert_eq!(control(Some("malformed=off")).0, 200);

    // Delay: a client with a short timeout gives up.
    assert_eq!(control(Some("delay_ms=1500")).0, 200);
    assert_eq!(sb.dmp_faults().delay(), Duration::from_millis(1500));
    let pki = sb.pki();
    let impatient = HttpsClient::new(
        client_config(
            &pki.trust_anchors().unwrap(),
            Some(&pki.client_identity(&pki.client).unwrap()),
        )
        .unwrap(),
        HttpsConfig {
            request_timeout: Duration::from_millis(300),
            ..HttpsConfig::default()
        },
    );
    let to = format!("{base}/patients");
    let env_text = envelope(
        Some(A_TD02),
        &to,
        Some(&assertion),
        &td02(INS_PAT_TROIS, OID_NIR_TEST),
    );
    let err = rt
        .block_on(impatient.post(&to, "application/soap+xml", &[], Bytes::from(env_text)))
        .unwrap_err();
    assert!(matches!(err, segur_net::NetError::Timeout { .. }), "{err}");
    sb.dmp_faults().set_delay(Duration::ZERO);
    assert_eq!(control(Some("delay_ms=x")).0, 400);
    assert_eq!(control(Some("bogus=1")).0, 400);
    rt.block_on(sb.shutdown());
}
