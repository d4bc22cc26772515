use std::borrow::Cow;
use std::sync::Arc;

use super::*;
use crate::error::{NetError, Result};

fn p(s: &str) -> Result<Element> {
    parse(s.as_bytes(), &XmlLimits::default())
}

#[test]
fn namespaces_resolved_whatever_the_prefix() {
    let a = p(r#"<a:R xmlns:a="urn:x"><a:C>1</a:C></a:R>"#).unwrap();
    let b = p(r#"<R xmlns="urn:x"><C>1</C></R>"#).unwrap();
    assert!(a.is("urn:x", "R") && b.is("urn:x", "R"));
    assert_eq!(a.child_text("urn:x", "C").as_deref(), Some("1"));
    assert_eq!(b.child_text("urn:x", "C").as_deref(), Some("1"));
}

#[test]
fn entities_and_cdata() {
    let e = p(r#"<r>a&amp;b&#233;<![CDATA[<x>]]></r>"#).unwrap();
    assert_eq!(e.text(), "a&bé<x>");
}

#[test]
fn doctype_refused() {
    let e = p(r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>"#);
    assert!(matches!(e, Err(NetError::XmlDoctype)), "{e:?}");
}

#[test]
fn unknown_entity_refused() {
    assert!(matches!(
        p("<r>&x;</r>"),
        Err(NetError::XmlMalformed { .. })
    ));
}

#[test]
fn encoding_checks() {
    assert!(matches!(
        p(r#"<?xml version="1.0" encoding="ISO-8859-1"?><r/>"#),
        Err(NetError::XmlEncoding(_))
    ));
    assert!(matches!(
        parse(b"<r>\xe9</r>", &XmlLimits::default()),
        Err(NetError::XmlEncoding(_))
    ));
    assert!(parse(b"\xEF\xBB\xBF<r/>", &XmlLimits::default()).is_ok());
}

#[test]
fn limits() {
    let big = format!("<r>{}</r>", "x".repeat(2000));
    let small = XmlLimits {
        max_bytes: 1000,
        ..XmlLimits::default()
    };
    assert!(matches!(
        parse(big.as_bytes(), &small),
        Err(NetError::XmlTooLarge { .. })
    ));
    let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    assert!(matches!(p(&deep), Err(NetError::XmlTooDeep { .. })));
}

#[test]
fn truncated_and_mismatched() {
    assert!(matches!(
        p("<a><b></b>"),
        Err(NetError::XmlTruncated { .. })
    ));
    assert!(matches!(
        p("<a><b></a>"),
        Err(NetError::XmlMalformed { .. })
    ));
    assert!(matches!(p("<a/><b/>"), Err(NetError::XmlMalformed { .. })));
    assert!(matches!(p(""), Err(NetError::XmlMalformed { .. })));
    assert!(matches!(p("<x:a/>"), Err(NetError::XmlMalformed { .. })));
}

#[test]
fn arbitrary_bytes_never_panic() {
    proptest::proptest!(|(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300))| {
        let _ = parse(&bytes, &XmlLimits::default());
    });
}

#[test]
fn document_matches_owned_tree() {
    let cases = [
        r#"<a:R xmlns:a="urn:x" xmlns:b="urn:y" b:k="1" k="2"><a:C>1</a:C> <b:D/>t&lt;u</a:R>"#,
        r#"<?xml version="1.0" encoding="UTF-8"?><!-- c --><r xmlns="urn:x"><p>a<b>bold</b> c&amp;d<![CDATA[<x>]]>e<?pi x?>f</p><q xmlns="">n</q></r>"#,
        "<r>\r\n  <s xml:lang=\"fr\" v=\"a&amp;b&#233;\"/>\r\n</r>",
    ];
    for c in cases {
        let owned = p(c).unwrap();
        let doc = parse_document(c.as_bytes(), &XmlLimits::default()).unwrap();
        assert_eq!(doc.root().to_element(), owned, "{c}");
    }
}

#[test]
fn document_navigation() {
    let src = r#"<R xmlns="urn:x" xmlns:xsi="urn:xsi"><C a="1">x<i>y</i>z</C><C a="2"/><D xsi:type="PQ"/></R>"#;
    let doc = parse_document(src.as_bytes(), &XmlLimits::default()).unwrap();
    let r = doc.root();
    assert!(r.is("urn:x", "R"));
    assert_eq!(r.namespace(), "urn:x");
    assert_eq!(r.children_named("urn:x", "C").count(), 2);
    assert_eq!(r.children_named("urn:other", "C").count(), 0);
    let c = r.child("urn:x", "C").unwrap();
    assert_eq!(c.attr("a"), Some("1"));
    assert_eq!(c.text(), "xz");
    assert!(c.has_element_children());
    assert_eq!(r.child_text("urn:x", "C").as_deref(), Some("xz"));
    let d = r.child("urn:x", "D").unwrap();
    assert_eq!(d.attr_ns("urn:xsi", "type"), Some("PQ"));
    assert_eq!(d.attr("type"), None);
    assert_eq!(d.attributes().len(), 1);
    assert!(matches!(c.children().next(), Some(NodeRef::Text("x"))));
}

#[test]
fn document_checks_like_parse() {
    let l = XmlLimits::default();
    let d = |s: &str| parse_document(s.as_bytes(), &l).map(|_| ());
    assert!(matches!(
        d(r#"<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>"#),
        Err(NetError::XmlDoctype)
    ));
    assert!(matches!(
        d("<r>&x;</r>"),
        Err(NetError::XmlMalformed { .. })
    ));
    assert!(matches!(
        d("<a><b></b>"),
        Err(NetError::XmlTruncated { .. })
    ));
    assert!(matches!(d("<x:a/>"), Err(NetError::XmlMalformed { .. })));
    assert!(matches!(
        d(r#"<a p:x="1"/>"#),
        Err(NetError::XmlMalformed { .. })
    ));
    let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    assert!(matches!(d(&deep), Err(NetError::XmlTooDeep { .. })));
    let few = XmlLimits { max_nodes: 3, ..l };
    assert!(parse_document(b"<a><b/>t</a>", &few).is_ok());
    assert!(matches!(
        parse_document(b"<a><b/>t<c/></a>", &few),
        Err(NetError::XmlMalformed { .. })
    ));
    match d("<a><b><c></b></a>") {
        Err(NetError::XmlMalformed { path, .. }) => assert_eq!(path, "/a/b/c"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn arbitrary_bytes_never_panic_document() {
    proptest::proptest!(|(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300))| {
        if let (Ok(d), Ok(e)) = (parse_document(&bytes, &XmlLimits::default()), parse(&bytes, &XmlLimits::default())) {
            proptest::prop_assert_eq!(d.root().to_element(), e);
        }
    });
}

/// Rebuilds the owned tree from the pull reader's events (adjacent text runs joined, as
/// the tree builders do).
fn tree_from_reader(r: &mut XmlReader<'_>, replay: bool) -> Result<Element> {
    let mut stack: Vec<Element> = Vec::new();
    let mut root = None;
    loop {
        match r.read_event()? {
            XmlEvent::Start { ns, name } => {
                let arc = |id: NsId, r: &XmlReader<'_>| r.namespace_uri(id).map(Arc::<str>::from);
                let attributes = r
                    .attributes()
                    .map(|(ans, n, v)| Attribute {
                        ns: arc(ans, r),
                        name: n.to_owned(),
                        value: v.to_string(),
                    })
                    .collect();
                stack.push(Element {
                    ns: arc(ns, r),
                    name: name.to_owned(),
                    attributes,
                    children: Vec::new(),
                });
            }
            XmlEvent::End => {
                let done = stack.pop().expect("balanced");
                match stack.last_mut() {
                    Some(p) => p.children.push(Node::Element(done)),
                    None => {
                        root = Some(done);
                        if replay {
                            // A replay stops at the marked element's end.
                            break;
                        }
                    }
                }
            }
            XmlEvent::Text(t) => {
                let p = stack.last_mut().expect("inside the root");
                match p.children.last_mut() {
                    Some(Node::Text(prev)) => prev.push_str(&t),
                    _ => p.children.push(Node::Text(t.into_owned())),
                }
            }
            XmlEvent::Eof => break,
        }
    }
    Ok(root.expect("root"))
}

fn pulled(bytes: &[u8], limits: &XmlLimits) -> Result<Element> {
    let mut r = XmlReader::new(bytes, limits)?;
    tree_from_reader(&mut r, false)
}

#[test]
fn reader_events_give_the_same_tree_and_errors() {
    let l = XmlLimits::default();
    let cases = [
        r#"<a:R xmlns:a="urn:x" xmlns:b="urn:y" b:k="1" k="2"><a:C>1</a:C> <b:D/>t&lt;u</a:R>"#,
        r#"<?xml version="1.0" encoding="UTF-8"?><!-- c --><r xmlns="urn:x"><p>a<b>bold</b> c&amp;d<![CDATA[<x>]]>e<?pi x?>f</p><q xmlns="">n</q></r>"#,
        "<r>\r\n  <s xml:lang=\"fr\" v=\"a&amp;b&#233;\" w='x\"y'/>\r\n</r>",
        "<r><![CDATA[]]></r>",
    ];
    for c in cases {
        assert_eq!(pulled(c.as_bytes(), &l).unwrap(), p(c).unwrap(), "{c}");
    }
    for bad in [
        "<a><b></b>",
        "<a><b></a>",
        "<a/><b/>",
        "",
        "<x:a/>",
        r#"<a p:x="1"/>"#,
        r#"<a x="1" x="2"/>"#,
        r#"<a x="<"/>"#,
        r#"<a x="&bad;"/>"#,
        "<r>&x;</r>",
        r#"<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>"#,
    ] {
        let (a, b) = (pulled(bad.as_bytes(), &l), p(bad));
        assert_eq!(format!("{a:?}"), format!("{b:?}"), "{bad}");
        assert!(a.is_err(), "{bad}");
    }
    let few = XmlLimits { max_nodes: 3, ..l };
    assert!(pulled(b"<a><b/>t</a>", &few).is_ok());
    assert!(matches!(
        pulled(b"<a><b/>t<c/></a>", &few),
        Err(NetError::XmlMalformed { .. })
    ));
}

#[test]
fn reader_attributes_namespaces_and_empty_tags() {
    let src = r#"<R xmlns="urn:x" xmlns:xsi="urn:xsi"><D xsi:type="PQ" v="a&amp;b"/>t</R>"#;
    let mut r = XmlReader::new(src.as_bytes(), &XmlLimits::default()).unwrap();
    let x = r.namespace_id("urn:x");
    let xsi = r.namespace_id("urn:xsi");
    assert_ne!(x, xsi);
    assert_eq!(
        r.read_event().unwrap(),
        XmlEvent::Start { ns: x, name: "R" }
    );
    assert_eq!(r.attributes().len(), 0);
    assert_eq!(
        r.read_event().unwrap(),
        XmlEvent::Start { ns: x, name: "D" }
    );
    assert_eq!(r.attr_ns(xsi, "type").as_deref(), Some("PQ"));
    assert_eq!(r.attr("type"), None);
    assert_eq!(r.attr("v").as_deref(), Some("a&b"));
    assert_eq!(r.namespace_uri(x), Some("urn:x"));
    assert_eq!(r.namespace_uri(NsId::NONE), None);
    assert_eq!(r.read_event().unwrap(), XmlEvent::End);
    assert_eq!(
        r.attr("v"),
        None,
        "attributes are those of the last start tag only"
    );
    assert_eq!(r.read_event().unwrap(), XmlEvent::Text("t".into()));
    assert_eq!(r.read_event().unwrap(), XmlEvent::End);
    assert_eq!(r.read_event().unwrap(), XmlEvent::Eof);
    assert_eq!(r.read_event().unwrap(), XmlEvent::Eof);
}

#[test]
fn replay_reads_the_marked_element_again() {
    let src = r#"<a:R xmlns:a="urn:x" xmlns:xsi="urn:xsi"><a:S><a:E xsi:type="CD" k="1">x<a:F/>y</a:E></a:S><a:G/></a:R>"#;
    let whole = p(src).unwrap();
    let mut r = XmlReader::new(src.as_bytes(), &XmlLimits::default()).unwrap();
    let mut marks = Vec::new();
    loop {
        match r.read_event().unwrap() {
            XmlEvent::Start { name, .. } => marks.push((name, r.mark())),
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    let find = |e: &Element, n: &str| -> Element {
        fn f(e: &Element, n: &str) -> Option<Element> {
            if e.name == n {
                return Some(e.clone());
            }
            e.elements().find_map(|c| f(c, n))
        }
        f(e, n).unwrap()
    };
    for (name, m) in &marks {
        let mut again = r.replay(m);
        let e = tree_from_reader(&mut again, true).unwrap();
        assert_eq!(e, find(&whole, name), "{name}");
    }
    assert_eq!(marks.len(), 5);
}

#[test]
fn arbitrary_bytes_reader_agrees_with_parse() {
    proptest::proptest!(|(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300))| {
        let l = XmlLimits::default();
        match (pulled(&bytes, &l), parse(&bytes, &l)) {
            (Ok(a), Ok(b)) => proptest::prop_assert_eq!(a, b),
            (a, b) => proptest::prop_assert_eq!(format!("{a:?}"), format!("{b:?}")),
        }
    });
}

#[test]
fn names_are_checked() {
    let e = p("<a b.c-1=\"1\" x:y=\"2\" xmlns:x=\"urn:x\" d = '3'/>").unwrap();
    let names: Vec<_> = e
        .attributes
        .iter()
        .map(|a| (a.name.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(names, [("b.c-1", "1"), ("y", "2"), ("d", "3")]);
    // XML 1.0 §2.3 Name, Namespaces in XML 1.0 §4 QName.
    for bad in [
        "<a b\u{1}c=\"1\"/>",
        "<a\u{1}/>",
        "<a\"b/>",
        "<1a/>",
        "< a/>",
        "<a 1b=\"1\"/>",
        "<:a/>",
        "<a:/>",
        "<a:b:c xmlns:a=\"urn:x\"/>",
        "<a x:=\"1\"/>",
        "<a></a >x",
        "<a></ a>",
        "<a/ >",
        "<?xml version=\"1.0\"?><a/><?xml version=\"1.0\"?>",
        "<a><?xml version=\"1.0\"?></a>",
        "<a><?=?></a>",
        "<a><!ELEMENT a ANY></a>",
        "<a>&#0;</a>",
        "<a>& b</a>",
        "<a x=\"&#xD800;\"/>",
        "<a x=\"\u{1}\"/>",
        "<a xmlns:p=\"urn:x\" xmlns:q=\"urn:x\" p:x=\"1\" q:x=\"2\"/>",
        "<a><!-- a -- b --></a>",
        "<a><!-- a ---></a>",
        "<a>x]]>y</a>",
        "<a>]]></a>",
    ] {
        assert!(
            matches!(p(bad), Err(NetError::XmlMalformed { .. })),
            "{bad:?}: {:?}",
            p(bad)
        );
    }
    assert!(p("<a></a >").is_ok());
    assert!(p("<a xmlns:p=\"urn:x\" xmlns:q=\"urn:y\" p:x=\"1\" q:x=\"2\" x=\"3\"/>").is_ok());
    assert_eq!(p("<a>x]]y]>z]</a>").unwrap().text(), "x]]y]>z]");
    assert!(p("<a><?pi?><?pi x?></a>").is_ok());
    assert!(p("<é:ü xmlns:é=\"urn:x\" ß=\"1\"/>").is_ok());
    assert!(matches!(
        p("<a b c=\"1\"/>"),
        Err(NetError::XmlMalformed { .. })
    ));
    assert!(matches!(
        p("<a b=\"1\"c=\"2\"/>"),
        Err(NetError::XmlMalformed { .. })
    ));
    assert!(matches!(
        p("<a b=\"1/>"),
        Err(NetError::XmlMalformed { .. })
    ));
}

#[test]
fn read_markup_skips_text_only() {
    let src = "<r>a<b x=\"1\">t</b>&amp;<![CDATA[c]]><c/></r>";
    let l = XmlLimits::default();
    let mut all = XmlReader::new(src.as_bytes(), &l).unwrap();
    let mut markup = XmlReader::new(src.as_bytes(), &l).unwrap();
    let mut want = Vec::new();
    loop {
        match all.read_event().unwrap() {
            XmlEvent::Text(_) => {}
            XmlEvent::Eof => break,
            e => want.push(e),
        }
    }
    let mut got = Vec::new();
    loop {
        match markup.read_markup().unwrap() {
            XmlEvent::Eof => break,
            e @ XmlEvent::Start { name: "b", .. } => {
                assert_eq!(markup.attr("x").as_deref(), Some("1"));
                got.push(e);
            }
            e => got.push(e),
        }
    }
    assert_eq!(got, want);
    // Text still counts against the node limit.
    let few = XmlLimits { max_nodes: 2, ..l };
    let mut r = XmlReader::new(b"<r>a<b/></r>", &few).unwrap();
    let err = loop {
        match r.read_markup() {
            Ok(XmlEvent::Eof) => break None,
            Ok(_) => {}
            Err(e) => break Some(e),
        }
    };
    assert!(
        matches!(err, Some(NetError::XmlMalformed { .. })),
        "{err:?}"
    );
}

/// Records what a visitor is shown, as pulled events.
struct Record<'a>(Vec<XmlEvent<'a>>, Vec<Option<String>>, bool);

impl<'a> Visitor<'a> for Record<'a> {
    fn wants_text(&self) -> bool {
        self.2
    }
    fn start(&mut self, ns: NsId, name: &'a str, attributes: Attributes<'_, 'a>) {
        self.0.push(XmlEvent::Start { ns, name });
        self.1.push(attributes.get("k").map(Cow::into_owned));
    }
    fn text(&mut self, text: Cow<'a, str>) {
        self.0.push(XmlEvent::Text(text));
    }
    fn end(&mut self) {
        self.0.push(XmlEvent::End);
    }
}

#[test]
fn read_to_end_with_pushes_what_read_event_pulls() {
    let src = r#"<r xmlns="urn:x"><a k="1">t<b/>&amp;<c k="2"><d/></c></a><e/>tail</r>"#;
    let l = XmlLimits::default();
    for text in [true, false] {
        let mut pull = XmlReader::new(src.as_bytes(), &l).unwrap();
        let mut push = XmlReader::new(src.as_bytes(), &l).unwrap();
        // Both at <a>.
        for r in [&mut pull, &mut push] {
            assert!(matches!(
                r.read_event().unwrap(),
                XmlEvent::Start { name: "r", .. }
            ));
            assert!(matches!(
                r.read_event().unwrap(),
                XmlEvent::Start { name: "a", .. }
            ));
        }
        let mut want = Vec::new();
        let mut depth = 0;
        loop {
            match pull.read_event().unwrap() {
                XmlEvent::Text(_) if !text => {}
                e @ XmlEvent::Start { .. } => {
                    depth += 1;
                    want.push(e);
                }
                XmlEvent::End if depth == 0 => {
                    want.push(XmlEvent::End);
                    break;
                }
                XmlEvent::End => {
                    depth -= 1;
                    want.push(XmlEvent::End);
                }
                e => want.push(e),
            }
        }
        let mut rec = Record(Vec::new(), Vec::new(), text);
        push.read_to_end_with(&mut rec).unwrap();
        assert_eq!(rec.0, want, "text: {text}");
        assert_eq!(rec.1, [None, Some("2".to_owned()), None]);
        // Both go on from the same place.
        assert_eq!(push.read_event().unwrap(), pull.read_event().unwrap());
    }
    // An empty element: only its end is left.
    let mut r = XmlReader::new(b"<r><e/><f/></r>", &l).unwrap();
    r.read_event().unwrap();
    assert!(matches!(
        r.read_event().unwrap(),
        XmlEvent::Start { name: "e", .. }
    ));
    let mut rec = Record(Vec::new(), Vec::new(), true);
    r.read_to_end_with(&mut rec).unwrap();
    assert_eq!(rec.0, [XmlEvent::End]);
    assert!(matches!(
        r.read_event().unwrap(),
        XmlEvent::Start { name: "f", .. }
    ));
    // Errors inside are the reader's.
    let mut r = XmlReader::new(b"<r><a x='1' x='2'/></r>", &l).unwrap();
    r.read_event().unwrap();
    let mut rec = Record(Vec::new(), Vec::new(), true);
    assert!(matches!(
        r.read_to_end_with(&mut rec),
        Err(NetError::XmlMalformed { .. })
    ));
}
