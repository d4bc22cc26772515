//! Writing the canonical form (C14N 1.0 §2.3, §4; exc-c14n §3): namespace axis, attribute
//! order, escapes.

use super::tree::{Child, Document, ElementId, Subset, NONE, XML_ID};
use super::Method;
use crate::xml::XML_NS;

impl Document<'_> {
    /// Appends the canonical form of `subset` to `out`, leaving out the subtree of `exclude`
    /// (the enveloped-signature transform, XMLDSig §6.6.4) when given.
    pub fn canonicalize_into(
        &self,
        subset: Subset,
        exclude: Option<ElementId>,
        method: &Method,
        out: &mut Vec<u8>,
    ) {
        let mut w = Writer {
            doc: self,
            exclusive: match method {
                Method::Inclusive { .. } => None,
                Method::Exclusive {
                    inclusive_prefixes, ..
                } => Some(inclusive_prefixes.as_slice()),
            },
            comments: method.with_comments(),
            exclude: exclude.map_or(NONE, |e| e.0),
            scope: Vec::new(),
            rendered: Vec::new(),
            out,
        };
        match subset {
            Subset::Element(apex) => {
                let apex = self.element(apex).id;
                // The namespace context of the apex: its ancestors' declarations, outermost
                // first.
                let mut chain = Vec::new();
                let mut p = self.elements[apex as usize].parent;
                while p != NONE {
                    chain.push(p);
                    p = self.elements[p as usize].parent;
                }
                for &a in chain.iter().rev() {
                    w.scope.extend_from_slice(&self.elements[a as usize].decls);
                }
                if apex != w.exclude {
                    w.subtree(apex);
                }
            }
            Subset::Document => {
                let mut after_root = false;
                for child in &self.top {
                    match child {
                        Child::Element(root) => {
                            if *root != w.exclude {
                                w.subtree(*root);
                            }
                            after_root = true;
                        }
                        Child::Comment(_) | Child::Pi { .. } => {
                            if matches!(child, Child::Comment(_)) && !w.comments {
                                continue;
                            }
                            if after_root {
                                w.out.push(b'\n');
                            }
                            w.leaf(child);
                            if !after_root {
                                w.out.push(b'\n');
                            }
                        }
                        Child::Text(_) => {}
                    }
                }
            }
        }
    }

    /// The canonical form of `subset` (see [`Document::canonicalize_into`]).
    pub fn canonicalize(
        &self,
        subset: Subset,
        exclude: Option<ElementId>,
        method: &Method,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.src.len());
        self.canonicalize_into(subset, exclude, method, &mut out);
        out
    }
}

struct Writer<'d, 'a, 'o> {
    doc: &'d Document<'a>,
    /// `Some(PrefixList)` for the exclusive methods.
    exclusive: Option<&'d [String]>,
    comments: bool,
    exclude: u32,
    /// Namespace declarations in scope (prefix, namespace id).
    scope: Vec<(&'d str, u32)>,
    /// Namespace declarations rendered by the output ancestors (prefix, namespace id).
    rendered: Vec<(&'d str, u32)>,
    out: &'o mut Vec<u8>,
}

/// Appends `s` to `out`, each byte for which `rep` has a replacement replaced.
fn escape(s: &str, out: &mut Vec<u8>, rep: fn(u8) -> Option<&'static [u8]>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(r) = rep(b) {
            out.extend_from_slice(&s.as_bytes()[last..i]);
            out.extend_from_slice(r);
            last = i + 1;
        }
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

/// C14N 1.0 §2.3: text nodes.
fn escape_text(s: &str, out: &mut Vec<u8>) {
    escape(s, out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// C14N 1.0 §2.3: attribute nodes.
fn escape_attr(s: &str, out: &mut Vec<u8>) {
    escape(s, out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

impl<'d, 'a, 'o> Writer<'d, 'a, 'o> {
    fn in_scope(&self, prefix: &str) -> Option<u32> {
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, id)| *id)
    }

    fn rendered(&self, prefix: &str) -> Option<u32> {
        self.rendered
            .iter()
            .rev()
            .find(|(p, _)| *p == prefix)
            .map(|(_, id)| *id)
    }

    fn leaf(&mut self, child: &Child<'_>) {
        match child {
            Child::Text(t) => escape_text(t, self.out),
            Child::Comment(c) => {
                if self.comments {
                    self.out.extend_from_slice(b"<!--");
                    self.out.extend_from_slice(c.as_bytes());
                    self.out.extend_from_slice(b"-->");
                }
            }
            Child::Pi { target, data } => {
                self.out.extend_from_slice(b"<?");
                self.out.extend_from_slice(target.as_bytes());
                if !data.is_empty() {
                    self.out.push(b' ');
                    self.out.extend_from_slice(data.as_bytes());
                }
                self.out.extend_from_slice(b"?>");
            }
            Child::Element(_) => {}
        }
    }

    /// Writes the start tag of `id` and returns the marks to restore at its end tag.
    fn open(&mut self, id: u32, apex: bool) -> (usize, usize) {
        let doc = self.doc;
        let e = &doc.elements[id as usize];
        let scope_mark = self.scope.len();
        self.scope.extend_from_slice(&e.decls);
        let rendered_mark = self.rendered.len();

        // Candidate prefixes for the namespace axis.
        let mut candidates: Vec<&'d str> = Vec::new();
        fn add<'s>(p: &'s str, c: &mut Vec<&'s str>) {
            if p != "xml" && !c.contains(&p) {
                c.push(p);
            }
        }
        match self.exclusive {
            None => {
                if apex {
                    for (p, _) in self.scope.iter().rev() {
                        add(p, &mut candidates);
                    }
                } else {
                    for (p, _) in &e.decls {
                        add(p, &mut candidates);
                    }
                }
            }
            Some(list) => {
                // Visibly utilised (exc-c14n §3): the element's prefix (the default namespace
                // for an unprefixed element) and the prefixes of its attributes.
                add(e.prefix, &mut candidates);
                for a in &e.attrs {
                    if a.ns != 0 {
                        add(a.prefix, &mut candidates);
                    }
                }
                // The PrefixList follows the inclusive rules.
                for p in list {
                    let listed = if apex {
                        self.in_scope(p).is_some() || p.is_empty()
                    } else {
                        e.decls.iter().any(|(d, _)| d == p)
                    };
                    if listed {
                        add(p.as_str(), &mut candidates);
                    }
                }
            }
        }
        let mut to_render: Vec<(&'d str, u32)> = Vec::with_capacity(candidates.len());
        for p in candidates {
            let value = match self.in_scope(p) {
                Some(v) => v,
                None if p.is_empty() => 0,
                None => continue,
            };
            let rendered = self.rendered(p);
            if value == 0 {
                // `xmlns=""` only to undo a non-empty default rendered above.
                if matches!(rendered, Some(r) if r != 0) {
                    to_render.push((p, 0));
                }
            } else if rendered != Some(value) {
                to_render.push((p, value));
            }
        }
        to_render.sort_unstable_by(|a, b| a.0.cmp(b.0));
        self.rendered.extend_from_slice(&to_render);

        let out = &mut *self.out;
        out.push(b'<');
        out.extend_from_slice(e.qname.as_bytes());
        for (p, v) in &to_render {
            if p.is_empty() {
                out.extend_from_slice(b" xmlns=\"");
            } else {
                out.extend_from_slice(b" xmlns:");
                out.extend_from_slice(p.as_bytes());
                out.extend_from_slice(b"=\"");
            }
            escape_attr(doc.ns_str(*v), out);
            out.push(b'"');
        }

        // Attributes sorted by namespace URI then local name (C14N 1.0 §2.2).
        let mut attrs: Vec<(&'d str, &'d str, &'d str, &'d str)> = e
            .attrs
            .iter()
            .map(|a| (doc.ns_str(a.ns), a.local, a.prefix, a.value.as_ref()))
            .collect();
        if apex && self.exclusive.is_none() {
            // C14N 1.0 §2.4: the apex inherits the xml:* attributes of its ancestors.
            let mut p = e.parent;
            while p != NONE {
                let anc = &doc.elements[p as usize];
                for a in anc.attrs.iter().filter(|a| a.ns == XML_ID) {
                    if !attrs
                        .iter()
                        .any(|(ns, l, _, _)| *ns == XML_NS && *l == a.local)
                    {
                        attrs.push((XML_NS, a.local, a.prefix, a.value.as_ref()));
                    }
                }
                p = anc.parent;
            }
        }
        if attrs.len() > 1 {
            attrs.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        }
        for (_, local, prefix, value) in attrs {
            out.push(b' ');
            if !prefix.is_empty() {
                out.extend_from_slice(prefix.as_bytes());
                out.push(b':');
            }
            out.extend_from_slice(local.as_bytes());
            out.extend_from_slice(b"=\"");
            escape_attr(value, out);
            out.push(b'"');
        }
        out.push(b'>');
        (scope_mark, rendered_mark)
    }

    fn close(&mut self, id: u32, marks: (usize, usize)) {
        let e = &self.doc.elements[id as usize];
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(e.qname.as_bytes());
        self.out.push(b'>');
        self.scope.truncate(marks.0);
        self.rendered.truncate(marks.1);
    }

    /// Writes the subtree of `apex` (iteratively: the depth is bounded by the limits, but the
    /// stack is not the place to find out).
    fn subtree(&mut self, apex: u32) {
        let doc = self.doc;
        let marks = self.open(apex, true);
        let mut stack: Vec<(u32, usize, (usize, usize))> = vec![(apex, 0, marks)];
        while let Some(top) = stack.last_mut() {
            let (id, next, marks) = *top;
            let e = &doc.elements[id as usize];
            match e.children.get(next) {
                Some(child) => {
                    top.1 += 1;
                    match child {
                        Child::Element(c) => {
                            if *c != self.exclude {
                                let m = self.open(*c, false);
                                stack.push((*c, 0, m));
                            }
                        }
                        other => self.leaf(other),
                    }
                }
                None => {
                    self.close(id, marks);
                    stack.pop();
                }
            }
        }
    }
}
