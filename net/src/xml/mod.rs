//! Hardened XML reading and small writing helpers.
//!
//! Every message that comes from the network (or from a file a user hands us) is read by one
//! tokenizer loop, our own (one pass over the bytes, eight at a time where it can: `lex`), that
//! enforces, before and while parsing:
//! - a size limit ([`XmlLimits::max_bytes`], 1 MiB by default: the INSi replies are a few KiB);
//! - UTF-8 only: the bytes must be valid UTF-8 and an `encoding` declaration, if present, must say
//!   UTF-8;
//! - no DOCTYPE at all, hence no entity declarations, no external entities, no entity expansion:
//!   only character references (legal XML characters) and the five predefined entities;
//! - a nesting depth limit, a node count limit and at most [`MAX_ATTRIBUTES`] attributes per
//!   element; duplicate attributes and `<` in attribute values refused;
//! - well-formedness (XML 1.0 §2–§4): names, one root, end tags matching their start tag
//!   exactly, quoted attribute values, no `--` in comments, no `]]>` in text, a well-formed XML
//!   declaration only before the root;
//! - namespace awareness (Namespaces in XML 1.0): elements are identified by (namespace URI,
//!   local name), never by prefix; undeclared prefixes and reserved bindings refused.
//!
//! Attribute values are normalised as XML 1.0 §3.3.3 requires (white space to spaces). Text is
//! handed out exactly as written (line ends not normalised, XML 1.0 §2.11): CDA narrative is
//! mixed content and callers trim. Characters below U+0020 other than white space are refused in
//! names and attribute values but not in text (the one XML 1.0 `Char` rule not checked there: it
//! would cost a second look at every byte).
//!
//! `tests/xml_oracle.rs` holds this reader to an independent one (`roxmltree`) on every XML file
//! of the reference data and on thousands of damaged variants: same documents accepted, same
//! trees; the few places where XML 1.0 is stricter than `roxmltree` are listed there.
//!
//! Two representations come out of that loop:
//! - [`parse_document`] → [`Document`], a compact tree that borrows from the input: one arena of
//!   nodes linked by index, names and text as `&str` slices of the input (an owned string only
//!   where a reference had to be resolved or text runs joined), namespaces interned as small
//!   indices, child elements also linked past the text runs. Navigated through [`ElementRef`]
//!   handles (`Copy`) with the same methods as [`Element`]. The fast path (received CDA).
//! - [`parse`] → [`Element`], a small owned tree (one `String` per name, attribute and text),
//!   convenient when the tree must outlive the input.
//!
//! And [`XmlReader`] hands out the same loop's events one by one (start tag with its resolved
//! namespace and attributes, end tag, text), with no tree at all, for readers that fill their
//! own model in a single pass; a [`Mark`] lets such a reader read one element again.
//! [`crate::c14n`] reads with the same loop too, through a lexical sink that is also told the
//! markup as written (qualified names, namespace declarations, comments, processing
//! instructions, byte offsets): the project has one XML reader.
//!
//! Both are navigated by namespace and local name, in any order, which is what the national
//! services' replies require (prefixes and element order vary between the CNDA files and the live
//! services). Text is kept exactly (whitespace-only runs included: CDA narrative is mixed content).

mod lex;
mod reader;
mod tokenizer;
mod tree;
mod write;

#[cfg(test)]
mod tests;

pub use reader::{Attributes, Mark, NsId, Visitor, XmlEvent, XmlReader};
pub use tokenizer::check_input;
pub(crate) use tokenizer::{tokenize, Lexical, Sink};
pub(crate) use tree::concat;
pub use tree::{
    parse, parse_document, Attribute, AttributeRef, Children, Document, Element, ElementRef,
    Elements, Node, NodeRef,
};
pub use write::{escape, push_text_element};

/// The namespace bound to the `xml` prefix (Namespaces in XML 1.0 §3).
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
/// Most attributes (namespace declarations included) accepted on one element.
pub const MAX_ATTRIBUTES: usize = 64;

/// Limits applied by [`parse`] and [`parse_document`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XmlLimits {
    /// Largest accepted input, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted element nesting.
    pub max_depth: usize,
    /// Largest accepted number of elements and text nodes.
    pub max_nodes: usize,
}

impl Default for XmlLimits {
    fn default() -> Self {
        Self {
            max_bytes: 1024 * 1024,
            max_depth: 64,
            max_nodes: 100_000,
        }
    }
}
