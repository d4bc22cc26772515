//! Reading a [`Document`]: the project's tokenizer ([`crate::xml`]) with a lexical sink, which is
//! also told the markup as written (qualified names, namespace declarations, comments, processing
//! instructions, byte spans). The tokenizer makes every check of [`crate::xml::parse`]; this sink
//! adds the XML 1.0 §2.2 `Char` rule on text and comments and the §2.11 line-end normalisation.

use std::borrow::Cow;

use super::tree::{Attr, Child, Document, Elem, ElementSpan, NONE};
use crate::error::Result;
use crate::xml::{check_input, tokenize, Lexical, Sink, XmlLimits};

impl<'a> Document<'a> {
    /// Reads a document under `limits` (size, depth, node count), refusing DOCTYPE, non-UTF-8
    /// input, undeclared prefixes and any entity other than the predefined ones.
    pub fn parse(input: &'a [u8], limits: &XmlLimits) -> Result<Self> {
        parse(input, limits)
    }
}

/// Reads `input` under `limits` (see [`Document::parse`]).
pub(super) fn parse<'a>(input: &'a [u8], limits: &XmlLimits) -> Result<Document<'a>> {
    let src = check_input(input, limits)?;
    let mut b = Builder {
        elements: Vec::new(),
        top: Vec::new(),
        open: Vec::new(),
        root: NONE,
        error: None,
    };
    let namespaces = tokenize(src, limits, &mut b)?;
    Ok(Document {
        src,
        namespaces,
        elements: b.elements,
        top: b.top,
        root: b.root,
    })
}

/// XML 1.0 §2.2 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML 1.0 §2.11: `\r\n` and lone `\r` become `\n`.
fn normalize_eol(s: &str) -> Cow<'_, str> {
    if !s.contains('\r') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

struct Builder<'a> {
    elements: Vec<Elem<'a>>,
    top: Vec<Child<'a>>,
    /// Open elements.
    open: Vec<u32>,
    root: u32,
    /// A `Char` check that failed, for the tokenizer to report.
    error: Option<String>,
}

impl<'a> Builder<'a> {
    fn children(&mut self) -> &mut Vec<Child<'a>> {
        match self.open.last() {
            Some(id) => &mut self.elements[*id as usize].children,
            None => &mut self.top,
        }
    }

    /// Whether `s` holds only XML characters (else the error is kept for the tokenizer).
    fn chars_ok(&mut self, s: &str) -> bool {
        match s.chars().find(|c| !is_xml_char(*c)) {
            Some(c) => {
                self.error = Some(format!("character U+{:04X} not allowed", c as u32));
                false
            }
            None => true,
        }
    }
}

impl<'a> Sink<'a> for Builder<'a> {
    const LEXICAL: bool = true;

    fn lexical(&mut self, markup: Lexical<'_, 'a>) {
        match markup {
            Lexical::Start(t) => {
                let attrs = t
                    .attrs
                    .drain(..)
                    .zip(t.attr_prefixes)
                    .map(|(a, &prefix)| Attr {
                        prefix,
                        local: a.name,
                        ns: a.ns,
                        value: a.value,
                    })
                    .collect();
                let id = self.elements.len() as u32;
                let after = t.content_start;
                self.elements.push(Elem {
                    qname: t.qname,
                    prefix: t.prefix,
                    local: t.local,
                    ns: t.ns,
                    // `xmlns:xml` is allowed and meaningless: never rendered (C14N 1.0 §4.7).
                    decls: t
                        .declarations
                        .iter()
                        .filter(|(p, _)| *p != "xml")
                        .copied()
                        .collect(),
                    attrs,
                    children: Vec::new(),
                    parent: self.open.last().copied().unwrap_or(NONE),
                    span: ElementSpan {
                        start: t.start,
                        content_start: after,
                        content_end: after,
                        end: after,
                    },
                });
                self.children().push(Child::Element(id));
                if self.root == NONE {
                    self.root = id;
                }
                if !t.empty {
                    self.open.push(id);
                }
            }
            Lexical::End { start, end } => {
                if let Some(id) = self.open.pop() {
                    let span = &mut self.elements[id as usize].span;
                    span.content_end = start;
                    span.end = end;
                }
            }
            Lexical::Comment(text) => {
                if self.chars_ok(text) {
                    let text = normalize_eol(text);
                    self.children().push(Child::Comment(text));
                }
            }
            Lexical::Pi { target, data } => {
                let data = normalize_eol(data);
                self.children().push(Child::Pi { target, data });
            }
        }
    }

    fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }

    fn text(&mut self, text: Cow<'a, str>, _: bool) {
        if !self.chars_ok(&text) {
            return;
        }
        // Text as written has its line ends normalised; a character reference stands as is.
        let text = match text {
            Cow::Borrowed(raw) => normalize_eol(raw),
            owned => owned,
        };
        match self.children().last_mut() {
            Some(Child::Text(prev)) => prev.to_mut().push_str(&text),
            _ => self.children().push(Child::Text(text)),
        }
    }
}
