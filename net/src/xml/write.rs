//! Small writing helpers (messages are written with quick-xml's writer or by hand).

use std::borrow::Cow;

/// Escapes text for element content or a double-quoted attribute value.
pub fn escape(text: &str) -> Cow<'_, str> {
    quick_xml::escape::escape(text)
}

/// Appends `<prefix:name>escaped text</prefix:name>` to `out`.
pub fn push_text_element(out: &mut String, qname: &str, text: &str) {
    out.push('<');
    out.push_str(qname);
    out.push('>');
    out.push_str(&escape(text));
    out.push_str("</");
    out.push_str(qname);
    out.push('>');
}
