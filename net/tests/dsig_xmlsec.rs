//! XML canonicalization and signatures checked against libxml2/xmlsec (Debian `xmlsec1`
//! 1.2.37, `xmllint`): our signatures verified by `xmlsec1 --verify`, xmlsec1-made signatures
//! verified by us, one-byte changes refused by both, and our canonical forms compared with
//! `xmllint --c14n` / `--exc-c14n` on generated documents.
//!
//! The signing key is an RSA-2048 certificate issued by a test CA, both made with the
//! `openssl` command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use segur_net::c14n::{self, Method};
use segur_net::dsig::{
    self, DigestAlgorithm, Pkcs12Signer, Position, SignOptions, SignatureAlgorithm, Signer as _,
};
use segur_net::xml::XmlLimits;
use segur_net::NetError;

const XMLSEC: &str = "/usr/bin/xmlsec1";
const XMLLINT: &str = "/usr/bin/xmllint";
const OPENSSL: &str = "/usr/bin/openssl";
const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

fn tools_present() -> bool {
    let ok = [XMLSEC, XMLLINT, OPENSSL]
        .iter()
        .all(|t| Path::new(t).exists());
    // A missing tool is a failure, never a skip (TESTING.md).
    assert!(
        ok,
        "xmlsec1, xmllint or openssl not found: apt-get install xmlsec1 libxml2-utils openssl"
    );
    ok
}

/// A test CA and an RSA signing certificate issued by it, as files.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            let out = Command::new(OPENSSL)
                .current_dir(dir.path())
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(
            dir.path().join("ext.cnf"),
            "keyUsage=critical,digitalSignature,nonRepudiation\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        run(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "30",
            "-subj",
            "/C=FR/O=TEST/CN=TEST CA",
        ]);
        run(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "sig.key",
            "-out",
            "sig.csr",
            "-subj",
            "/C=FR/O=SEGUR TEST/OU=1499999999/CN=TEST CACHET",
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            "sig.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "sig.pem",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
        ]);
        run(&[
            "pkcs12",
            "-export",
            "-inkey",
            "sig.key",
            "-in",
            "sig.pem",
            "-certfile",
            "ca.pem",
            "-out",
            "sig.p12",
            "-passout",
            "pass:pw",
        ]);
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn signer(&self) -> Pkcs12Signer {
        Pkcs12Signer::from_pkcs12_file(self.path("sig.p12"), "pw").unwrap()
    }

    /// `xmlsec1 --verify` of `xml`, the ID attribute `ID` declared on `node` (`ns:local` or
    /// `local`). Returns whether it verified, and xmlsec1's output.
    fn xmlsec_verify(&self, xml: &[u8], node: &str) -> (bool, String) {
        let file = self.path(&format!("verify-{}.xml", unique()));
        std::fs::write(&file, xml).unwrap();
        let out = Command::new(XMLSEC)
            .arg("--verify")
            .arg("--trusted-pem")
            .arg(self.path("ca.pem"))
            .arg("--id-attr:ID")
            .arg(node)
            .arg(&file)
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    /// `xmlsec1 --sign` of a document holding a signature template.
    fn xmlsec_sign(&self, template: &str, node: &str) -> Result<String, String> {
        let n = unique();
        let input = self.path(&format!("template-{n}.xml"));
        let output = self.path(&format!("signed-{n}.xml"));
        std::fs::write(&input, template).unwrap();
        let keys = format!(
            "{},{}",
            self.path("sig.key").display(),
            self.path("sig.pem").display()
        );
        let out = Command::new(XMLSEC)
            .arg("--sign")
            .arg("--privkey-pem")
            .arg(keys)
            .arg("--id-attr:ID")
            .arg(node)
            .arg("--output")
            .arg(&output)
            .arg(&input)
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(std::fs::read_to_string(&output).unwrap())
    }
}

/// A number for file names unique in this process (the tests run in parallel).
fn unique() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Changes one character at `at` (the byte there must be ASCII alphanumeric).
fn flip(s: &str, at: usize) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b[at] = match b[at] {
        b'A' => b'B',
        b'0' => b'1',
        _ => b'A',
    };
    b
}

/// Offsets of one byte in signed content, in the digest value and in the signature value.
fn mutation_points(signed: &str, content_marker: &str) -> [(&'static str, usize); 3] {
    let content = signed.find(content_marker).unwrap() + content_marker.len() - 1;
    let dv = signed.find("DigestValue>").unwrap() + "DigestValue>".len() + 3;
    let sv = signed.find("SignatureValue>").unwrap() + "SignatureValue>".len() + 7;
    [("content", content), ("digest", dv), ("signature", sv)]
}

/// Our signature is accepted by xmlsec1 and by us; each one-byte change is refused by both.
fn check_ours(pki: &Pki, signed: &str, id: &str, node: &str, content_marker: &str) {
    let (ok, out) = pki.xmlsec_verify(signed.as_bytes(), node);
    assert!(ok, "xmlsec1 refused our signature:\n{out}\n{signed}");
    let v = dsig::verify_enveloped(signed.as_bytes(), id).unwrap();
    assert_eq!(v.certificate, pki.signer().certificate_der());
    for (what, at) in mutation_points(signed, content_marker) {
        let bad = flip(signed, at);
        let (ok, _) = pki.xmlsec_verify(&bad, node);
        assert!(!ok, "xmlsec1 accepted a change in the {what}");
        let err = dsig::verify_enveloped(&bad, id).unwrap_err();
        assert!(
            matches!(
                err,
                NetError::DigestMismatch { .. }
                    | NetError::BadSignature
                    | NetError::SignatureStructure(_)
            ),
            "{what}: {err}"
        );
    }
}

const VIHF_LIKE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Assertion xmlns="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="_9c1d" IssueInstant="2024-09-02T13:22:25.789Z" Version="2.0">
  <Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">CN=TEST CACHET,OU=1499999999,O=SEGUR TEST,C=FR</Issuer>
  <Subject><NameID>899700012345</NameID></Subject>
  <AttributeStatement>
    <Attribute Name="urn:oasis:names:tc:xacml:2.0:resource:resource-id"><AttributeValue>279035121518989^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH</AttributeValue></Attribute>
    <Attribute Name="urn:oasis:names:tc:xacml:2.0:subject:role"><AttributeValue><Role xmlns="urn:hl7-org:v3" code="10" codeSystem="1.2.250.1.71.1.2.7" displayName="Médecin" xsi:type="CE"/></AttributeValue></Attribute>
    <Attribute Name="urn:oasis:names:tc:xspa:1.0:subject:subject-id"><AttributeValue>MEDIONI Stéphane</AttributeValue></Attribute>
  </AttributeStatement>
</Assertion>
"#;

#[test]
fn our_signatures_verify_with_xmlsec1_and_changes_fail() {
    if !tools_present() {
        return;
    }
    let pki = Pki::new();
    let signer = pki.signer();
    assert_eq!(
        signer.subject_dn().unwrap(),
        "CN=TEST CACHET,OU=1499999999,O=SEGUR TEST,C=FR"
    );

    // 1. A VIHF-like assertion (default namespace, IG PrefixList), after Issuer.
    let opts = SignOptions {
        prefix_list: &["ds", "saml", "#default", "xsi"],
        position: Position::After {
            ns: SAML,
            local: "Issuer",
        },
        ..Default::default()
    };
    let signed = dsig::sign_enveloped(VIHF_LIKE, "_9c1d", &signer, &opts).unwrap();
    check_ours(
        &pki,
        &signed,
        "_9c1d",
        &format!("{SAML}:Assertion"),
        "899700012345",
    );

    // 2. The same assertion inside a SOAP envelope with other bindings (verified in place).
    let body = signed.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let envelope = format!(
        r#"<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope" xmlns:ds="urn:other" xmlns="urn:default"><soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">{body}</wsse:Security></soap:Header><soap:Body><x xmlns="urn:x"/></soap:Body></soap:Envelope>"#
    );
    check_ours(
        &pki,
        &envelope,
        "_9c1d",
        &format!("{SAML}:Assertion"),
        "899700012345",
    );

    // 3. An element deep in a document: namespaces and xml:lang inherited from ancestors,
    //    comments, PIs, CDATA, character references, CRLF line ends, non-ASCII.
    let doc = "<?xml version=\"1.0\"?>\r\n<!-- before -->\r\n<r:root xmlns:r=\"urn:r\" xmlns:p=\"urn:p\" xmlns=\"urn:d\" xml:lang=\"fr\">\r\n <r:mid p:a=\"1\">\r\n  <p:Signed ID=\"s-1\" b=\"x&#9;y&#10;z&#13;\" a=\"tab\tnl\r\nq&quot;\">\r\n   <p:v>5 &lt; 6 &amp;&amp; 7 &gt; 3 &#xD; é ✓</p:v><!-- inside --><?pi data ?>\r\n   <w><![CDATA[<raw> & ]]></w><e xmlns=\"\"/><q:x xmlns:q=\"urn:q\"/>\r\n  </p:Signed>\r\n </r:mid>\r\n</r:root>\r\n<!-- after -->";
    for list in [&[][..], &["#default", "r"][..]] {
        let opts = SignOptions {
            prefix_list: list,
            ..Default::default()
        };
        let signed = dsig::sign_enveloped(doc, "s-1", &signer, &opts).unwrap();
        check_ours(&pki, &signed, "s-1", "urn:p:Signed", "<p:v>5");
    }

    // 4. The document element itself, signature last.
    let opts = SignOptions {
        position: Position::LastChild,
        ..Default::default()
    };
    let signed = dsig::sign_enveloped(
        "<Doc ID=\"d\"><a>1</a><b c=\"2\"/></Doc>",
        "d",
        &signer,
        &opts,
    )
    .unwrap();
    check_ours(&pki, &signed, "d", "Doc", "<a>1");
}

fn template(c14n_uri: &str, sig_uri: &str, transforms: &str, digest_uri: &str, id: &str) -> String {
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
<ds:SignedInfo>
<ds:CanonicalizationMethod Algorithm="{c14n_uri}"/>
<ds:SignatureMethod Algorithm="{sig_uri}"/>
<ds:Reference URI="#{id}">
<ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>{transforms}</ds:Transforms>
<ds:DigestMethod Algorithm="{digest_uri}"/>
<ds:DigestValue></ds:DigestValue>
</ds:Reference>
</ds:SignedInfo>
<ds:SignatureValue></ds:SignatureValue>
<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>
</ds:Signature>"##
    )
}

#[test]
fn xmlsec1_signatures_verify_with_us_and_changes_fail() {
    if !tools_present() {
        return;
    }
    let pki = Pki::new();
    let exc_t = |list: &str| {
        format!(
            r#"<ds:Transform Algorithm="{}"><ec:InclusiveNamespaces xmlns:ec="{}" PrefixList="{list}"/></ds:Transform>"#,
            c14n::EXC_C14N,
            c14n::EXC_C14N
        )
    };
    let cases: Vec<(String, SignatureAlgorithm, DigestAlgorithm)> = vec![
        (
            template(
                c14n::EXC_C14N,
                dsig::RSA_SHA256,
                &exc_t("saml xsi #default"),
                dsig::SHA256,
                "a1",
            ),
            SignatureAlgorithm::RsaSha256,
            DigestAlgorithm::Sha256,
        ),
        // DRIMbox/OpenSAML style: inclusive c14n, RSA-SHA1, SHA-1, no c14n transform.
        (
            template(c14n::C14N, dsig::RSA_SHA1, "", dsig::SHA1, "a1"),
            SignatureAlgorithm::RsaSha1,
            DigestAlgorithm::Sha1,
        ),
        // With comments (SignedInfo keeps them; the #id reference drops them).
        (
            template(
                c14n::C14N_WITH_COMMENTS,
                dsig::RSA_SHA512,
                &format!(
                    r#"<ds:Transform Algorithm="{}"/>"#,
                    c14n::EXC_C14N_WITH_COMMENTS
                ),
                dsig::SHA512,
                "a1",
            ),
            SignatureAlgorithm::RsaSha512,
            DigestAlgorithm::Sha512,
        ),
        (
            template(
                c14n::EXC_C14N_WITH_COMMENTS,
                dsig::RSA_SHA256,
                &format!(r#"<ds:Transform Algorithm="{}"/>"#, c14n::C14N),
                dsig::SHA256,
                "a1",
            ),
            SignatureAlgorithm::RsaSha256,
            DigestAlgorithm::Sha256,
        ),
    ];
    for (tmpl, sig_alg, digest_alg) in cases {
        let doc = format!(
            r#"<env:E xmlns:env="urn:env" xmlns:x="urn:x" xml:lang="fr"><saml:Assertion xmlns:saml="{SAML}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="a1"><saml:Issuer>CN=X</saml:Issuer>{tmpl}<!-- c --><saml:Subject x:k="v"><saml:NameID>899700012345</saml:NameID></saml:Subject></saml:Assertion></env:E>"#
        );
        let signed = pki.xmlsec_sign(&doc, &format!("{SAML}:Assertion")).unwrap();
        let v = dsig::verify_enveloped(signed.as_bytes(), "a1")
            .unwrap_or_else(|e| panic!("{e}\n{signed}"));
        assert_eq!(v.signature_algorithm, sig_alg);
        assert_eq!(v.digest_algorithm, digest_alg);
        assert_eq!(
            v.uses_sha1(),
            sig_alg == SignatureAlgorithm::RsaSha1,
            "{sig_alg:?}"
        );
        assert_eq!(
            v.subject_dn().unwrap(),
            "CN=TEST CACHET,OU=1499999999,O=SEGUR TEST,C=FR"
        );
        for (what, at) in mutation_points(&signed, "899700012345") {
            let bad = flip(&signed, at);
            assert!(
                dsig::verify_enveloped(&bad, "a1").is_err(),
                "{what} change accepted"
            );
            let (ok, _) = pki.xmlsec_verify(&bad, &format!("{SAML}:Assertion"));
            assert!(!ok, "xmlsec1 accepted a change in the {what}");
        }
        // SHA-1 refused by policy when asked.
        let strict = dsig::VerifyOptions {
            allow_sha1: false,
            ..Default::default()
        };
        assert_eq!(
            dsig::verify_enveloped_with(signed.as_bytes(), "a1", &strict).is_ok(),
            !v.uses_sha1()
        );
    }
}

// ---- generated documents ---------------------------------------------------------------------

const PREFIXES: [&str; 4] = ["", "a", "b", "c"];
/// Namespace names. None holds `&`, `<` or `"`: libxml2 writes namespace URIs unescaped
/// (`xmlns="a&b"`, not well-formed), where C14N 1.0 §2.3 processes namespace nodes as
/// attribute nodes (`xmlns="a&amp;b"`, which is what we write).
const URIS: [&str; 4] = ["", "urn:u1", "urn:u2", "http://example.org/u3?x=1#y"];
const LOCALS: [&str; 3] = ["e", "f", "g"];
const ATTRS: [&str; 3] = ["x", "y", "z"];

#[derive(Debug, Clone)]
enum GNode {
    El(GEl),
    Text(String),
    Comment(String),
    Pi(String, String),
    CData(String),
}

#[derive(Debug, Clone)]
struct GEl {
    prefix: usize,
    local: usize,
    decls: Vec<(usize, usize)>,
    attrs: Vec<(usize, usize, String)>,
    lang: Option<bool>,
    children: Vec<GNode>,
}

#[derive(Debug, Clone)]
struct GDoc {
    prolog: Vec<GNode>,
    root: GEl,
    epilog: Vec<GNode>,
    /// Which element (in document order, modulo the count) carries `ID="s1"`.
    signed: usize,
}

fn text_strategy() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('a'),
            Just(' '),
            Just('&'),
            Just('<'),
            Just('>'),
            Just('"'),
            Just('\''),
            Just('\t'),
            Just('\n'),
            Just('\r'),
            Just('é'),
            Just('✓'),
            Just('😀'),
        ],
        0..8,
    )
    .prop_map(|v| v.into_iter().collect())
}

fn leaf_strategy() -> impl Strategy<Value = GNode> {
    prop_oneof![
        4 => text_strategy().prop_map(GNode::Text),
        1 => "[a-z ]{0,6}".prop_map(GNode::Comment),
        1 => ("[a-w][a-z]{0,3}", "[a-z =]{0,6}").prop_map(|(t, d)| GNode::Pi(t, d)),
        1 => "[a-z<>& ]{0,6}".prop_map(GNode::CData),
    ]
}

fn element_strategy() -> impl Strategy<Value = GEl> {
    let leaf = (
        0..4usize,
        0..3usize,
        proptest::collection::vec((0..4usize, 0..4usize), 0..3),
        proptest::collection::vec((0..4usize, 0..3usize, text_strategy()), 0..3),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(leaf_strategy(), 0..3),
    )
        .prop_map(|(prefix, local, decls, attrs, lang, children)| GEl {
            prefix,
            local,
            decls,
            attrs,
            lang,
            children,
        });
    leaf.prop_recursive(4, 24, 4, |inner| {
        (
            0..4usize,
            0..3usize,
            proptest::collection::vec((0..4usize, 0..4usize), 0..3),
            proptest::collection::vec((0..4usize, 0..3usize, text_strategy()), 0..3),
            proptest::option::of(any::<bool>()),
            proptest::collection::vec(
                prop_oneof![2 => inner.prop_map(GNode::El), 3 => leaf_strategy()],
                0..4,
            ),
        )
            .prop_map(|(prefix, local, decls, attrs, lang, children)| GEl {
                prefix,
                local,
                decls,
                attrs,
                lang,
                children,
            })
    })
}

fn misc_strategy() -> impl Strategy<Value = Vec<GNode>> {
    proptest::collection::vec(
        prop_oneof![
            "[a-z ]{0,6}".prop_map(GNode::Comment),
            ("[a-w][a-z]{0,3}", "[a-z =]{0,6}").prop_map(|(t, d)| GNode::Pi(t, d)),
        ],
        0..2,
    )
}

fn doc_strategy() -> impl Strategy<Value = GDoc> {
    (
        misc_strategy(),
        element_strategy(),
        misc_strategy(),
        0..64usize,
    )
        .prop_map(|(prolog, root, epilog, signed)| GDoc {
            prolog,
            root,
            epilog,
            signed,
        })
}

fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

fn escape_attr(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c), // a literal tab is normalised to a space by the parser
        }
    }
}

/// Serialises a generated document, adding the declarations its prefixes need; returns the
/// text and, for the element carrying `ID="s1"`, the node name for `xmlsec1 --id-attr`.
struct Ser {
    out: String,
    /// In-scope (prefix, uri) bindings.
    scope: Vec<(usize, usize)>,
    count: usize,
    signed: usize,
    signed_node: Option<String>,
    sig_template: Option<String>,
}

impl Ser {
    fn lookup(&self, p: usize) -> usize {
        self.scope
            .iter()
            .rev()
            .find(|(q, _)| *q == p)
            .map_or(0, |(_, u)| *u)
    }

    fn element(&mut self, e: &GEl) {
        let index = self.count;
        self.count += 1;
        let mark = self.scope.len();
        let mut decls: Vec<(usize, usize)> = Vec::new();
        for &(p, u) in &e.decls {
            // A prefix cannot be undeclared in XML 1.0 namespaces; the default one can.
            let u = if p != 0 && u == 0 { 1 } else { u };
            if !decls.iter().any(|(q, _)| *q == p) {
                decls.push((p, u));
            }
        }
        let needs = |p: usize, decls: &mut Vec<(usize, usize)>, scope: &[(usize, usize)]| {
            if p != 0 && !decls.iter().any(|(q, _)| *q == p) && !scope.iter().any(|(q, _)| *q == p)
            {
                decls.push((p, p.min(3)));
            }
        };
        needs(e.prefix, &mut decls, &self.scope);
        for (p, _, _) in &e.attrs {
            needs(*p, &mut decls, &self.scope);
        }
        self.scope.extend_from_slice(&decls);
        let qname = if e.prefix == 0 {
            LOCALS[e.local].to_owned()
        } else {
            format!("{}:{}", PREFIXES[e.prefix], LOCALS[e.local])
        };
        self.out.push('<');
        self.out.push_str(&qname);
        for (p, u) in &decls {
            if *p == 0 {
                self.out.push_str(" xmlns=\"");
            } else {
                self.out.push_str(" xmlns:");
                self.out.push_str(PREFIXES[*p]);
                self.out.push_str("=\"");
            }
            escape_attr(URIS[*u], &mut self.out);
            self.out.push('"');
        }
        let mut seen: Vec<(usize, usize)> = Vec::new();
        for (p, a, v) in &e.attrs {
            let key = (if *p == 0 { 0 } else { self.lookup(*p) + 10 }, *a);
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            self.out.push(' ');
            if *p != 0 {
                self.out.push_str(PREFIXES[*p]);
                self.out.push(':');
            }
            self.out.push_str(ATTRS[*a]);
            self.out.push_str("=\"");
            escape_attr(v, &mut self.out);
            self.out.push('"');
        }
        if let Some(l) = e.lang {
            self.out.push_str(if l {
                " xml:lang=\"fr\""
            } else {
                " xml:space=\"preserve\""
            });
        }
        let is_signed = index == self.signed;
        if is_signed {
            self.out.push_str(" ID=\"s1\"");
            let ns = URIS[self.lookup(e.prefix)];
            self.signed_node = Some(if ns.is_empty() {
                LOCALS[e.local].to_owned()
            } else {
                format!("{ns}:{}", LOCALS[e.local])
            });
        }
        if e.children.is_empty() && !is_signed {
            self.out.push_str("/>");
        } else {
            self.out.push('>');
            if is_signed {
                if let Some(t) = self.sig_template.clone() {
                    self.out.push_str(&t);
                }
            }
            for c in &e.children {
                self.node(c);
            }
            self.out.push_str("</");
            self.out.push_str(&qname);
            self.out.push('>');
        }
        self.scope.truncate(mark);
    }

    fn node(&mut self, n: &GNode) {
        match n {
            GNode::El(e) => self.element(e),
            GNode::Text(t) => escape_text(t, &mut self.out),
            GNode::Comment(c) => {
                self.out.push_str("<!--");
                self.out.push_str(c);
                self.out.push_str("-->");
            }
            GNode::Pi(t, d) => {
                self.out.push_str("<?");
                self.out.push_str(t);
                self.out.push(' ');
                self.out.push_str(d);
                self.out.push_str("?>");
            }
            GNode::CData(c) => {
                self.out.push_str("<![CDATA[");
                self.out.push_str(c);
                self.out.push_str("]]>");
            }
        }
    }
}

fn count(e: &GEl) -> usize {
    1 + e
        .children
        .iter()
        .map(|c| match c {
            GNode::El(e) => count(e),
            _ => 0,
        })
        .sum::<usize>()
}

fn serialize(d: &GDoc, sig_template: Option<String>) -> (String, String) {
    let mut s = Ser {
        out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        scope: Vec::new(),
        count: 0,
        signed: d.signed % count(&d.root),
        signed_node: None,
        sig_template,
    };
    for n in &d.prolog {
        s.node(n);
        s.out.push('\n');
    }
    s.element(&d.root);
    for n in &d.epilog {
        s.out.push('\n');
        s.node(n);
    }
    s.out.push('\n');
    let node = s.signed_node.unwrap_or_default();
    (s.out, node)
}

fn xmllint(flag: &str, input: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut child = Command::new(XMLLINT)
        .arg(flag)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "xmllint {flag}: {}\n{input}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whole documents: ours = `xmllint --c14n` (C14N 1.0 with comments) and
    /// `xmllint --exc-c14n` (exclusive, with comments).
    #[test]
    fn whole_documents_match_xmllint(d in doc_strategy()) {
        if !tools_present() {
            return Ok(());
        }
        let (xml, _) = serialize(&d, None);
        let limits = XmlLimits::default();
        for (flag, method) in [
            ("--c14n", Method::Inclusive { with_comments: true }),
            ("--exc-c14n", Method::Exclusive { with_comments: true, inclusive_prefixes: vec![] }),
        ] {
            let ours = c14n::canonicalize(xml.as_bytes(), &method, &limits).unwrap();
            let theirs = xmllint(flag, &xml);
            prop_assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "{} on\n{}", flag, xml
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Element subsets, exclusive c14n: our enveloped signature of an element anywhere in a
    /// generated document (inherited namespaces, PrefixList) verifies with xmlsec1.
    #[test]
    fn our_subset_signatures_verify_with_xmlsec1(d in doc_strategy(), list in 0..4usize) {
        if !tools_present() {
            return Ok(());
        }
        let pki = pki();
        let (xml, node) = serialize(&d, None);
        let lists: [&[&str]; 4] = [&[], &["#default"], &["a", "b"], &["#default", "a", "b", "c"]];
        let opts = SignOptions { prefix_list: lists[list], ..Default::default() };
        let signed = dsig::sign_enveloped(&xml, "s1", &pki.signer(), &opts).unwrap();
        let (ok, out) = pki.xmlsec_verify(signed.as_bytes(), &node);
        prop_assert!(ok, "{}\n{}", out, signed);
        prop_assert!(dsig::verify_enveloped(signed.as_bytes(), "s1").is_ok());
    }

    /// Element subsets, inclusive and exclusive c14n: xmlsec1's signatures of an element
    /// anywhere in a generated document verify with us.
    #[test]
    fn xmlsec1_subset_signatures_verify_with_us(d in doc_strategy(), inclusive in any::<bool>()) {
        if !tools_present() {
            return Ok(());
        }
        let pki = pki();
        let (c14n_uri, transform) = if inclusive {
            (c14n::C14N, format!(r#"<ds:Transform Algorithm="{}"/>"#, c14n::C14N))
        } else {
            (c14n::EXC_C14N, format!(
                r#"<ds:Transform Algorithm="{}"><ec:InclusiveNamespaces xmlns:ec="{}" PrefixList="a #default"/></ds:Transform>"#,
                c14n::EXC_C14N, c14n::EXC_C14N))
        };
        let tmpl = template(c14n_uri, dsig::RSA_SHA256, &transform, dsig::SHA256, "s1");
        let (xml, node) = serialize(&d, Some(tmpl));
        let signed = pki.xmlsec_sign(&xml, &node).map_err(|e| TestCaseError::fail(format!("{e}\n{xml}")))?;
        let v = dsig::verify_enveloped(signed.as_bytes(), "s1");
        prop_assert!(v.is_ok(), "{:?}\n{}", v, signed);
    }
}

/// One PKI for the property tests (openssl RSA key generation is not free).
fn pki() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(Pki::new)
}
