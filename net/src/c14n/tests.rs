use super::*;
use crate::error::NetError;

fn limits() -> XmlLimits {
    XmlLimits::default()
}

fn c14n(xml: &str, m: &Method) -> String {
    String::from_utf8(canonicalize(xml.as_bytes(), m, &limits()).unwrap()).unwrap()
}

fn inc(with_comments: bool) -> Method {
    Method::Inclusive { with_comments }
}

fn exc(prefixes: &[&str]) -> Method {
    Method::exclusive(prefixes)
}

/// C14N 1.0 §3.1 (PIs, comments, outside of document element), without and with comments.
#[test]
fn w3c_3_1_pis_comments_outside_root() {
    let input = "<?xml version=\"1.0\"?>\n\n<?xml-stylesheet   href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n\n<doc>Hello, world!<!-- Comment 1 --></doc>\n\n<?pi-without-data     ?>\n\n<!-- Comment 2 -->\n\n<!-- Comment 3 -->";
    assert_eq!(
            c14n(input, &inc(false)),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!</doc>\n<?pi-without-data?>"
        );
    assert_eq!(
            c14n(input, &inc(true)),
            "<?xml-stylesheet href=\"doc.xsl\"\n   type=\"text/xsl\"   ?>\n<doc>Hello, world!<!-- Comment 1 --></doc>\n<?pi-without-data?>\n<!-- Comment 2 -->\n<!-- Comment 3 -->"
        );
}

/// C14N 1.0 §3.2 (whitespace in document content).
#[test]
fn w3c_3_2_whitespace() {
    let input = "<doc>\n   <clean>   </clean>\n   <dirty>   A   B   </dirty>\n   <mixed>\n      A\n      <clean>   </clean>\n      B\n      <dirty>   A   B   </dirty>\n      C\n   </mixed>\n</doc>";
    assert_eq!(c14n(input, &inc(false)), input);
}

/// C14N 1.0 §3.3 (start and end tags), without the DTD parts (DOCTYPE is refused here, so
/// the defaulted attributes of the W3C example are written explicitly).
#[test]
fn w3c_3_3_tags() {
    let input = r#"<doc>
   <e1   />
   <e2   ></e2>
   <e3   name = "elem3"   id="elem3"   />
   <e4   name="elem4"   id="elem4"   ></e4>
   <e5 a:attr="out" b:attr="sorted" attr2="all" attr="I'm"
      xmlns:b="http://www.ietf.org"
      xmlns:a="http://www.w3.org"
      xmlns="http://example.org"/>
   <e6 xmlns="" xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="" xmlns:a="http://www.w3.org">
            <e9 xmlns="" xmlns:a="http://www.ietf.org"/>
         </e8>
      </e7>
   </e6>
</doc>"#;
    let expected = r#"<doc>
   <e1></e1>
   <e2></e2>
   <e3 id="elem3" name="elem3"></e3>
   <e4 id="elem4" name="elem4"></e4>
   <e5 xmlns="http://example.org" xmlns:a="http://www.w3.org" xmlns:b="http://www.ietf.org" attr="I'm" attr2="all" b:attr="sorted" a:attr="out"></e5>
   <e6 xmlns:a="http://www.w3.org">
      <e7 xmlns="http://www.ietf.org">
         <e8 xmlns="">
            <e9 xmlns:a="http://www.ietf.org"></e9>
         </e8>
      </e7>
   </e6>
</doc>"#;
    assert_eq!(c14n(input, &inc(false)), expected);
}

/// C14N 1.0 §3.4 (character modifications and character references), without the DTD
/// (normId's whitespace collapsing needs an ID type declaration, not available here).
#[test]
fn w3c_3_4_characters() {
    let input = "<doc>\n   <text>First line&#x0d;&#10;Second line</text>\n   <value>&#x32;</value>\n   <compute><![CDATA[value>\"0\" && value<\"10\" ?\"valid\":\"error\"]]></compute>\n   <compute expr='value>\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"'>valid</compute>\n   <norm attr=' &apos;   &#x20;&#13;&#xa;&#9;   &apos; '/>\n</doc>";
    let expected = "<doc>\n   <text>First line&#xD;\nSecond line</text>\n   <value>2</value>\n   <compute>value&gt;\"0\" &amp;&amp; value&lt;\"10\" ?\"valid\":\"error\"</compute>\n   <compute expr=\"value>&quot;0&quot; &amp;&amp; value&lt;&quot;10&quot; ?&quot;valid&quot;:&quot;error&quot;\">valid</compute>\n   <norm attr=\" '    &#xD;&#xA;&#x9;   ' \"></norm>\n</doc>";
    assert_eq!(c14n(input, &inc(false)), expected);
}

/// C14N 1.0 §3.5 / §3.6 (UTF-8 kept as is; no entity other than predefined ones).
#[test]
fn w3c_3_6_utf8() {
    assert_eq!(
        c14n("<doc>&#169;é</doc>", &inc(false)),
        "<doc>\u{a9}é</doc>"
    );
}

/// C14N 1.0 §3.7-like document subset: an element of a document with inherited namespaces
/// and xml:* attributes (inclusive), and the exclusive form of the same subset.
#[test]
fn subset_inherits_context() {
    let input = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org" xml:lang="fr"><n1:elem2 xmlns:n1="http://example.net" xml:space="preserve"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
    let doc = Document::parse(input.as_bytes(), &limits()).unwrap();
    let elem2 = doc.root().elements().next().unwrap();
    let inc = String::from_utf8(doc.canonicalize(Subset::Element(elem2.id()), None, &inc(false)))
        .unwrap();
    assert_eq!(
        inc,
        r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xmlns:n3="ftp://example.org" xml:lang="fr" xml:space="preserve"><n3:stuff></n3:stuff></n1:elem2>"#
    );
    let ex =
        String::from_utf8(doc.canonicalize(Subset::Element(elem2.id()), None, &exc(&[]))).unwrap();
    assert_eq!(
        ex,
        r#"<n1:elem2 xmlns:n1="http://example.net" xml:space="preserve"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
    );
    let ex = String::from_utf8(doc.canonicalize(
        Subset::Element(elem2.id()),
        None,
        &exc(&["n0", "#default"]),
    ))
    .unwrap();
    assert_eq!(
        ex,
        r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xml:space="preserve"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
    );
}

/// exc-c14n §2.2's motivating example: the same signed element in two envelopes gives the
/// same exclusive form but different inclusive forms.
#[test]
fn exclusive_is_independent_of_the_envelope() {
    let a = r#"<n0:local xmlns:n0="foo:bar" xmlns:n3="ftp://example.org"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n0:local>"#;
    let b = r#"<n2:pdu xmlns:n1="http://example.com" xmlns:n2="http://foo.example" xml:lang="fr" xml:space="retain"><n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"/></n1:elem2></n2:pdu>"#;
    let sub = |xml: &str, m: &Method| {
        let doc = Document::parse(xml.as_bytes(), &limits()).unwrap();
        let e = doc.root().elements().next().unwrap();
        String::from_utf8(doc.canonicalize(Subset::Element(e.id()), None, m)).unwrap()
    };
    assert_eq!(
        sub(a, &exc(&[])),
        r#"<n1:elem2 xmlns:n1="http://example.net" xml:lang="en"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
    );
    assert_eq!(sub(a, &exc(&[])), sub(b, &exc(&[])));
    assert_eq!(
        sub(a, &inc(false)),
        r#"<n1:elem2 xmlns:n0="foo:bar" xmlns:n1="http://example.net" xmlns:n3="ftp://example.org" xml:lang="en"><n3:stuff></n3:stuff></n1:elem2>"#
    );
    assert_eq!(
        sub(b, &inc(false)),
        r#"<n1:elem2 xmlns:n1="http://example.net" xmlns:n2="http://foo.example" xml:lang="en" xml:space="retain"><n3:stuff xmlns:n3="ftp://example.org"></n3:stuff></n1:elem2>"#
    );
}

#[test]
fn exclusive_default_namespace_rules() {
    // An unprefixed element under a non-empty default rendered above gets xmlns="".
    let x = r#"<a xmlns="urn:a"><b xmlns=""><c/></b><p:d xmlns:p="urn:p"><e xmlns=""/></p:d></a>"#;
    assert_eq!(
        c14n(x, &exc(&[])),
        r#"<a xmlns="urn:a"><b xmlns=""><c></c></b><p:d xmlns:p="urn:p"><e xmlns=""></e></p:d></a>"#
    );
    // Nothing to undo: no xmlns="" at all.
    let x = r#"<p:a xmlns:p="urn:p"><b xmlns=""/></p:a>"#;
    assert_eq!(c14n(x, &exc(&[])), r#"<p:a xmlns:p="urn:p"><b></b></p:a>"#);
    // Unused declarations disappear; attribute prefixes are visibly utilised.
    let x = r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q" xmlns:r="urn:r" r:x="1"><q:b/></p:a>"#;
    assert_eq!(
        c14n(x, &exc(&[])),
        r#"<p:a xmlns:p="urn:p" xmlns:r="urn:r" r:x="1"><q:b xmlns:q="urn:q"></q:b></p:a>"#
    );
    // The PrefixList keeps q on the apex.
    assert_eq!(
        c14n(x, &exc(&["q"])),
        r#"<p:a xmlns:p="urn:p" xmlns:q="urn:q" xmlns:r="urn:r" r:x="1"><q:b></q:b></p:a>"#
    );
}

#[test]
fn enveloped_signature_subtree_is_left_out() {
    let x = r#"<r xmlns="urn:r"><a ID="x" xmlns:s="urn:s"><s:Signature><s:V>1</s:V></s:Signature><b>t</b></a></r>"#;
    let doc = Document::parse(x.as_bytes(), &limits()).unwrap();
    let a = doc.element_by_id("x").unwrap();
    let sig = a.child("urn:s", "Signature").unwrap();
    let out = doc.canonicalize(Subset::Element(a.id()), Some(sig.id()), &exc(&[]));
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        r#"<a xmlns="urn:r" ID="x"><b>t</b></a>"#
    );
    assert_eq!(
        &x[sig.span().start..sig.span().end],
        "<s:Signature><s:V>1</s:V></s:Signature>"
    );
    let b = a.child("urn:r", "b").unwrap();
    assert_eq!(&x[b.span().content_start..b.span().content_end], "t");
}

#[test]
fn ids_must_be_unique_and_present() {
    let x = r#"<r><a ID="x"/><b Id="y"/><c id="y"/></r>"#;
    let doc = Document::parse(x.as_bytes(), &limits()).unwrap();
    assert_eq!(doc.element_by_id("x").unwrap().local_name(), "a");
    assert!(matches!(
        doc.element_by_id("y"),
        Err(NetError::DuplicateId { count: 2, .. })
    ));
    assert!(matches!(
        doc.element_by_id("z"),
        Err(NetError::XmlIdNotFound { .. })
    ));
}

#[test]
fn line_ends_and_escapes() {
    let x = "<a b=\"1\r\n2\t3&#9;&#xD;\">x\r\ny\rz &gt; &#13;</a>";
    assert_eq!(
        c14n(x, &inc(false)),
        "<a b=\"1 2 3&#x9;&#xD;\">x\ny\nz &gt; &#xD;</a>"
    );
    // In comments, processing instructions and CDATA too; `xmlns:xml` is never rendered.
    let x = "<a xmlns:xml=\"http://www.w3.org/XML/1998/namespace\"><!--x\r\ny--><?p a\rb?><![CDATA[c\r\nd]]></a>";
    assert_eq!(c14n(x, &inc(true)), "<a><!--x\ny--><?p a\nb?>c\nd</a>");
}

#[test]
fn hardening() {
    let bad: &[&[u8]] = &[
        b"<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>",
        b"<a>&e;</a>",
        b"<p:a/>",
        b"<a p:b='1'/>",
        b"<a b='1' b='2'/>",
        b"<a xmlns:p='urn:x' xmlns:q='urn:x' p:b='1' q:b='2'/>",
        b"<a>",
        b"<a></b>",
        b"<a/><b/>",
        b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>",
        b"<a>\xff</a>",
        b"<a>&#0;</a>",
        b"<a><!-- a -- b --></a>",
        b"<a b='<'/>",
        b"text<a/>",
        b"",
        b"<a>\x01</a>",
        b"<a><!--\x01--></a>",
    ];
    for b in bad {
        assert!(
            Document::parse(b, &limits()).is_err(),
            "{}",
            String::from_utf8_lossy(b)
        );
    }
    let deep = "<a>".repeat(100) + &"</a>".repeat(100);
    assert!(matches!(
        Document::parse(deep.as_bytes(), &limits()),
        Err(NetError::XmlTooDeep { .. })
    ));
    let small = XmlLimits {
        max_bytes: 10,
        ..limits()
    };
    assert!(matches!(
        Document::parse(b"<a>0123456789</a>", &small),
        Err(NetError::XmlTooLarge { .. })
    ));
}

#[test]
fn method_uris_round_trip() {
    for uri in [C14N, C14N_WITH_COMMENTS, EXC_C14N, EXC_C14N_WITH_COMMENTS] {
        let m = Method::from_uri(uri, Some("ds  #default xsi ds")).unwrap();
        assert_eq!(m.uri(), uri);
        assert_eq!(m.with_comments(), uri.ends_with("WithComments"));
        assert!(!m.without_comments().with_comments());
    }
    let m = Method::from_uri(EXC_C14N, Some("ds  #default xsi ds")).unwrap();
    assert_eq!(m.prefix_list().as_deref(), Some("ds #default xsi"));
    assert!(Method::from_uri("urn:other", None).is_none());
}

#[test]
fn pi_and_comments_inside() {
    let x = "<a><?p  d ?><!--c--><b/></a>";
    assert_eq!(c14n(x, &inc(false)), "<a><?p d ?><b></b></a>");
    assert_eq!(c14n(x, &inc(true)), "<a><?p d ?><!--c--><b></b></a>");
    let m = Method::Exclusive {
        with_comments: true,
        inclusive_prefixes: vec![],
    };
    assert_eq!(c14n(x, &m), "<a><?p d ?><!--c--><b></b></a>");
}
