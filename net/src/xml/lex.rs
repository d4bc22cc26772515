//! Byte-level scanning for the tokenizer ([`super::tokenizer`]): finders that read eight bytes
//! at a time (SWAR), markup ends, names, and references (XML 1.0 §4.1, predefined entities §4.6).
//!
//! Every index handed back is the position of an ASCII byte (or the end of the input), so slicing
//! the input `str` there always falls on a character boundary.

use std::borrow::Cow;

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Flags (high bit) the bytes of `v` that are zero; the lowest flag is exact (borrows only
/// run towards higher bytes), which is all the finders below use.
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// Eight bytes of `b` from `at`, little-endian, if there are eight.
#[inline(always)]
fn load(b: &[u8], at: usize) -> Option<u64> {
    let c = b.get(at..at.checked_add(8)?)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(c);
    Some(u64::from_le_bytes(w))
}

/// The index of the first byte of `b` from `at` equal to `x`, `y` or `z` (`b.len()` if none),
/// eight bytes at a time (a byte of `w ^ splat(x)` is zero where `w` holds `x`).
#[inline(always)]
pub(super) fn find3(b: &[u8], mut at: usize, x: u8, y: u8, z: u8) -> usize {
    let (sx, sy, sz) = (LO * x as u64, LO * y as u64, LO * z as u64);
    while let Some(w) = load(b, at) {
        let hit = zero_bytes(w ^ sx) | zero_bytes(w ^ sy) | zero_bytes(w ^ sz);
        if hit != 0 {
            return at + (hit.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&c) = b.get(at) {
        if c == x || c == y || c == z {
            break;
        }
        at += 1;
    }
    at
}

/// The end of the plain part of an attribute value from `at`: the closing `quote`, or the first
/// byte that needs a closer look (`&`, `<`, or a byte below 0x20: white space to normalise,
/// XML 1.0 §3.3.3), `b.len()` if none.
#[inline(always)]
pub(super) fn value_end(b: &[u8], mut at: usize, quote: u8) -> usize {
    const AMP: u64 = LO * b'&' as u64;
    const LT: u64 = LO * b'<' as u64;
    let q = LO * quote as u64;
    while let Some(w) = load(b, at) {
        let hit = zero_bytes(w ^ q)
            | zero_bytes(w ^ AMP)
            | zero_bytes(w ^ LT)
            | (w.wrapping_sub(LO * 0x20) & !w & HI);
        if hit != 0 {
            return at + (hit.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&c) = b.get(at) {
        if c == quote || c == b'&' || c == b'<' || c < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// The end of a text run from `at`: the next `<`, `&` or `]` (`b.len()` if none; `]` because
/// `]]>` may not appear in text, XML 1.0 §2.4). Short runs (the indentation between tags) are
/// read inline; long ones (narrative) with `memchr`.
#[inline(always)]
pub(super) fn text_end(b: &[u8], at: usize) -> usize {
    const LT: u64 = LO * b'<' as u64;
    const AMP: u64 = LO * b'&' as u64;
    const RSQB: u64 = LO * b']' as u64;
    let mut i = at;
    for _ in 0..4 {
        let Some(w) = load(b, i) else {
            return find3(b, i, b'<', b'&', b']');
        };
        let hit = zero_bytes(w ^ LT) | zero_bytes(w ^ AMP) | zero_bytes(w ^ RSQB);
        if hit != 0 {
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    b.get(i..)
        .and_then(|rest| memchr::memchr3(b'<', b'&', b']', rest))
        .map_or(b.len(), |n| i + n)
}

/// Bytes that may appear in a name (XML 1.0 §2.3 NameChar, ASCII part: letters, digits, `-`,
/// `.`, `_`, `:`; every non-ASCII byte, the non-ASCII ranges being left to the UTF-8 check).
static NAME_CHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':') || b >= 0x80;
        c += 1;
    }
    t
};

/// The end of the name starting at `at`: the first byte from `at` that is not a name character
/// (`b.len()` if none).
#[inline(always)]
pub(super) fn name_end(b: &[u8], mut at: usize) -> usize {
    while let Some(&c) = b.get(at) {
        if !NAME_CHAR[c as usize] {
            break;
        }
        at += 1;
    }
    at
}

/// Whether `c` may start a name: a letter, `_` or any non-ASCII byte (XML 1.0 §2.3
/// NameStartChar, its non-ASCII ranges left to the UTF-8 check); `:` is refused, as Namespaces
/// in XML 1.0 §3 forbids an empty prefix.
#[inline(always)]
pub(super) fn name_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

/// The index of the first `:` in `name` (a slice of `src` followed there by at least the tag's
/// `>`), read eight bytes at a time from `src`.
#[inline(always)]
pub(super) fn colon_in(src: &str, name: &str) -> Option<usize> {
    const COLON: u64 = LO * b':' as u64;
    let b = src.as_bytes();
    let start = (name.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    let mut at = 0;
    while at < name.len() {
        let Some(w) = load(b, start + at) else {
            return name
                .bytes()
                .skip(at)
                .position(|c| c == b':')
                .map(|i| at + i);
        };
        let hit = zero_bytes(w ^ COLON);
        if hit != 0 {
            let i = at + (hit.trailing_zeros() / 8) as usize;
            return (i < name.len()).then_some(i);
        }
        at += 8;
    }
    None
}

/// XML white space (S: space, tab, CR, LF).
#[inline(always)]
pub(super) fn ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// The index of the first occurrence of `needle` (2 or 3 bytes: `--`, `?>`, `]]>`) in `b` from
/// `at`: its first byte found with `memchr`, the rest compared there (no searcher to build for
/// the few bytes of a comment or processing instruction).
#[inline]
pub(super) fn find_seq(b: &[u8], mut at: usize, needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    loop {
        let i = at + memchr::memchr(first, b.get(at..)?)?;
        if b.get(i + 1..i + 1 + rest.len()) == Some(rest) {
            return Some(i);
        }
        at = i + 1;
    }
}

/// What a reference stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolved {
    /// A character reference.
    Char(char),
    /// One of the five predefined entities (XML 1.0 §4.6).
    Text(&'static str),
}

impl Resolved {
    /// Appends the resolved text to `out`.
    pub(super) fn push_to(self, out: &mut String) {
        match self {
            Resolved::Char(c) => out.push(c),
            Resolved::Text(s) => out.push_str(s),
        }
    }
}

/// Reads the reference at `b[at] == b'&'`: its end (after `;`) and what it stands for, or why it
/// is refused. No DOCTYPE is ever accepted, so only character references (§4.1, a legal `Char`,
/// §2.2) and the five predefined entities exist.
pub(super) fn reference(b: &[u8], at: usize) -> std::result::Result<(usize, Resolved), String> {
    let start = at + 1;
    // Names of predefined entities and numbers are short: look no further than this.
    let limit = b.len().min(start + 32);
    let Some(semi) = b
        .get(start..limit)
        .and_then(|s| s.iter().position(|&c| c == b';'))
        .map(|i| start + i)
    else {
        return Err("'&' that does not start a reference ending in ';'".into());
    };
    let body = b.get(start..semi).unwrap_or_default();
    let resolved = match body {
        b"lt" => Resolved::Text("<"),
        b"gt" => Resolved::Text(">"),
        b"amp" => Resolved::Text("&"),
        b"apos" => Resolved::Text("'"),
        b"quot" => Resolved::Text("\""),
        [b'#', rest @ ..] => {
            let (digits, radix) = match rest {
                [b'x', hex @ ..] => (hex, 16),
                dec => (dec, 10),
            };
            let n = if digits.is_empty() || digits.len() > 8 {
                None
            } else {
                std::str::from_utf8(digits)
                    .ok()
                    .filter(|d| d.bytes().all(|c| c.is_ascii_hexdigit()))
                    .and_then(|d| u32::from_str_radix(d, radix).ok())
            };
            match n.and_then(char::from_u32) {
                // XML 1.0 §2.2 Char.
                Some(c) if c >= ' ' || matches!(c, '\t' | '\n' | '\r') => {
                    if matches!(c, '\u{FFFE}' | '\u{FFFF}') {
                        return Err("character reference to a non-character".into());
                    }
                    Resolved::Char(c)
                }
                _ => return Err("invalid character reference".into()),
            }
        }
        name => {
            return Err(format!(
                "undeclared entity &{};",
                String::from_utf8_lossy(name)
            ))
        }
    };
    Ok((semi + 1, resolved))
}

/// An attribute value as an XML processor reports it (XML 1.0 §3.3.3, CDATA attributes): every
/// white-space character (a CR LF pair counting as one, §2.11) becomes a space and references are
/// resolved, what they stand for being kept as is.
pub(super) fn attr_value(raw: &str) -> std::result::Result<Cow<'_, str>, String> {
    let b = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let (mut i, mut run) = (0, 0);
    while let Some(&c) = b.get(i) {
        match c {
            b'&' => {
                out.push_str(raw.get(run..i).unwrap_or_default());
                let (end, r) = reference(b, i)?;
                r.push_to(&mut out);
                i = end;
            }
            b'\r' | b'\n' | b'\t' => {
                out.push_str(raw.get(run..i).unwrap_or_default());
                out.push(' ');
                i += if c == b'\r' && b.get(i + 1) == Some(&b'\n') {
                    2
                } else {
                    1
                };
            }
            // XML 1.0 §2.2 Char.
            0..0x20 => return Err("control character in value".into()),
            _ => {
                i += 1;
                continue;
            }
        }
        run = i;
    }
    out.push_str(raw.get(run..).unwrap_or_default());
    Ok(Cow::Owned(out))
}

/// Reads the content of an XML declaration (between `<?xml` and `?>`, XML 1.0 §2.8 XMLDecl:
/// `VersionInfo EncodingDecl? SDDecl? S?`, in that order) and returns its encoding, if declared.
pub(super) fn xml_decl(decl: &str) -> std::result::Result<Option<&str>, String> {
    /// `S name Eq quoted-value`: the value and the rest, or `None` if `name` does not come next.
    fn pseudo<'d>(
        rest: &'d str,
        name: &str,
    ) -> Option<std::result::Result<(&'d str, &'d str), String>> {
        let after_s = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        if after_s.len() == rest.len() {
            return None;
        }
        let after = after_s.strip_prefix(name)?;
        let after = after.trim_start_matches([' ', '\t', '\r', '\n']);
        let Some(after) = after.strip_prefix('=') else {
            return Some(Err(format!("XML declaration: '=' expected after {name}")));
        };
        let after = after.trim_start_matches([' ', '\t', '\r', '\n']);
        let Some(q) = after.chars().next().filter(|q| matches!(q, '"' | '\'')) else {
            return Some(Err(format!("XML declaration: {name} value not quoted")));
        };
        let body = &after[1..];
        Some(match body.find(q) {
            Some(end) => Ok((&body[..end], &body[end + 1..])),
            None => Err(format!("XML declaration: {name} value not closed")),
        })
    }
    let (version, mut rest) =
        pseudo(decl, "version").ok_or_else(|| "XML declaration without a version".to_owned())??;
    let ok = version
        .strip_prefix("1.")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()));
    if !ok {
        return Err("XML declaration: invalid version".into());
    }
    let mut encoding = None;
    if let Some(r) = pseudo(rest, "encoding") {
        let (enc, r) = r?;
        // EncName ::= [A-Za-z] ([A-Za-z0-9._] | '-')*
        let ok = enc.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
            && enc
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
        if !ok {
            return Err("XML declaration: invalid encoding name".into());
        }
        encoding = Some(enc);
        rest = r;
    }
    if let Some(r) = pseudo(rest, "standalone") {
        let (sd, r) = r?;
        if sd != "yes" && sd != "no" {
            return Err("XML declaration: standalone must be yes or no".into());
        }
        rest = r;
    }
    if !rest.bytes().all(ws) {
        return Err("XML declaration: unexpected content".into());
    }
    Ok(encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn finders_match_byte_loops(
            b in proptest::collection::vec(proptest::sample::select(vec![
                b'a', b'"', b'&', b'<', b'>', b']', b'/', b'=', b':', b' ', b'\t', 0x01, 0x20, 0x21,
                0x80, 0xff, 0xa1, 0xc3, 0xa9,
            ]), 0..80),
            from in 0usize..80,
        ) {
            let from = from.min(b.len());
            let pos = |f: &dyn Fn(u8) -> bool| {
                b[from..].iter().position(|&c| f(c)).map_or(b.len(), |i| from + i)
            };
            proptest::prop_assert_eq!(
                find3(&b, from, b'"', b'&', b'<'),
                pos(&|c| matches!(c, b'"' | b'&' | b'<'))
            );
            proptest::prop_assert_eq!(
                value_end(&b, from, b'"'),
                pos(&|c| matches!(c, b'"' | b'&' | b'<') || c < 0x20)
            );
            proptest::prop_assert_eq!(text_end(&b, from), pos(&|c| matches!(c, b'<' | b'&' | b']')));
            proptest::prop_assert_eq!(
                name_end(&b, from),
                pos(&|c| !(c.is_ascii_alphanumeric() || b"-._:".contains(&c) || c >= 0x80))
            );
            if let Ok(text) = std::str::from_utf8(&b) {
                for end in (from..=b.len()).filter(|e| text.is_char_boundary(*e)) {
                    if text.is_char_boundary(from) {
                        let name = &text[from..end];
                        proptest::prop_assert_eq!(colon_in(text, name), name.find(':'));
                    }
                }
            }
        }
    }

    #[test]
    fn sequences() {
        let f = |s: &str, at, n: &str| find_seq(s.as_bytes(), at, n.as_bytes());
        assert_eq!(f("<!-- a - b -- -->", 4, "--"), Some(11));
        assert_eq!(f("a]]b]]>", 0, "]]>"), Some(4));
        assert_eq!(f("a]]b]]", 0, "]]>"), None);
        assert_eq!(f("x?", 0, "?>"), None);
        assert_eq!(f("?>", 3, "?>"), None);
        assert_eq!(f("<?a?>", 2, "?>"), Some(3));
    }

    #[test]
    fn long_text_runs_use_memchr_and_agree() {
        for stop in [b'<', b'&', b']'] {
            let mut b = vec![b'x'; 300];
            b.push(stop);
            assert_eq!(text_end(&b, 0), 300);
            assert_eq!(text_end(&b, 299), 300);
            assert_eq!(text_end(&b[..300], 5), 300);
        }
    }

    #[test]
    fn references() {
        let r = |s: &str| reference(s.as_bytes(), 0);
        assert_eq!(r("&lt;x"), Ok((4, Resolved::Text("<"))));
        assert_eq!(r("&#233;"), Ok((6, Resolved::Char('é'))));
        assert_eq!(r("&#xE9;"), Ok((6, Resolved::Char('é'))));
        assert_eq!(r("&#x1F600;"), Ok((9, Resolved::Char('😀'))));
        for bad in [
            "&#0;",
            "&#x1;",
            "&#xD800;",
            "&#xFFFE;",
            "&#x110000;",
            "&#;",
            "&#x;",
            "&#12a;",
            "&#-1;",
            "&#x+1;",
        ] {
            assert!(r(bad).is_err(), "{bad}");
        }
        assert_eq!(r("&nbsp;"), Err("undeclared entity &nbsp;".into()));
        assert!(r("& b").is_err());
        assert!(r("&amp").is_err());
        assert_eq!(attr_value("a&amp;b&#233;").unwrap(), "a&bé");
        assert_eq!(
            attr_value("a\r\nb\tc\nd\re&#10;&#x9;f").unwrap(),
            "a b c d e\n\tf"
        );
        assert!(attr_value("a&b").is_err());
        assert!(attr_value("a\u{1}b").is_err());
        assert!(attr_value("a\u{0}").is_err());
    }

    #[test]
    fn declaration() {
        assert_eq!(
            xml_decl(r#" version="1.0" encoding = 'ISO-8859-1'"#),
            Ok(Some("ISO-8859-1"))
        );
        assert_eq!(xml_decl(r#" version="1.0""#), Ok(None));
        assert_eq!(
            xml_decl(" version='1.1'\tencoding=\"UTF-8\" standalone=\"yes\" "),
            Ok(Some("UTF-8"))
        );
        for bad in [
            "",
            " ",
            r#" encoding="UTF-8""#,
            r#"version="1.0""#,
            r#" version="2.0""#,
            r#" version="1.""#,
            r#" version="1.0"encoding="UTF-8""#,
            r#" version="1.0" encoding<="UTF-8""#,
            r#" version="1.0" encodingUTF-8""#,
            r#" version="1.0" encoding="8BIT""#,
            r#" version="1.0" standalone="maybe""#,
            r#" version="1.0" standalone="yes" encoding="UTF-8""#,
            r#" version="1.0" x"#,
            r#" version="1.0"#,
        ] {
            assert!(xml_decl(bad).is_err(), "{bad:?}");
        }
    }
}
