//! A small string-building XML writer (same style as `ins-core`'s INSi request writer): every
//! text and attribute value is escaped with `segur_net::xml::escape`; elements are written in the
//! order of the CDA schema (`POCD_MT000040`), indented for readability.

use segur_net::xml::escape;

use crate::codes::Code;

/// An XML output buffer with indentation.
#[derive(Debug, Default)]
pub(crate) struct Xml {
    pub(crate) out: String,
    depth: usize,
}

impl Xml {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            out: String::with_capacity(n),
            depth: 0,
        }
    }

    fn indent(&mut self) {
        self.out.push('\n');
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn attrs(&mut self, attrs: &[(&str, &str)]) {
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&escape(v));
            self.out.push('"');
        }
    }

    /// `<name attrs>` and one level deeper.
    pub(crate) fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push('>');
        self.depth += 1;
    }

    /// `</name>`.
    pub(crate) fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name attrs/>`.
    pub(crate) fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push_str("/>");
    }

    /// `<name attrs>text</name>`.
    pub(crate) fn text(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.indent();
        self.out.push('<');
        self.out.push_str(name);
        self.attrs(attrs);
        self.out.push('>');
        self.out.push_str(&escape(text));
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// Leaves one level of depth after a raw end tag.
    pub(crate) fn close_raw_depth(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Raw, already well-formed XML (escaped by the caller).
    pub(crate) fn raw(&mut self, xml: &str) {
        self.out.push_str(xml);
    }

    /// `<name code codeSystem displayName [codeSystemName]/>` (or with children through `inner`).
    pub(crate) fn code(&mut self, name: &str, c: &Code) {
        self.code_with(name, c, &[], |_| {});
    }

    /// A coded element with extra leading attributes (e.g. `xsi:type`) and children.
    pub(crate) fn code_with(
        &mut self,
        name: &str,
        c: &Code,
        extra: &[(&str, &str)],
        inner: impl FnOnce(&mut Xml),
    ) {
        let mut attrs: Vec<(&str, &str)> = extra.to_vec();
        attrs.push(("code", &c.code));
        attrs.push(("displayName", &c.display));
        attrs.push(("codeSystem", &c.system));
        if let Some(n) = &c.system_name {
            attrs.push(("codeSystemName", n));
        }
        let before = self.out.len();
        self.open(name, &attrs);
        let mark = self.out.len();
        inner(self);
        if self.out.len() == mark {
            // No children: rewrite as an empty element.
            self.out.truncate(before);
            self.depth -= 1;
            self.empty(name, &attrs);
        } else {
            self.close(name);
        }
    }

    /// `<templateId root=".."/>` for each root.
    pub(crate) fn templates(&mut self, roots: &[&str]) {
        for r in roots {
            self.empty("templateId", &[("root", r)]);
        }
    }
}
