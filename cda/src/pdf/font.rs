//! The embedded font: DejaVu Sans (TrueType, Bitstream Vera / DejaVu licence, shipped by the
//! `dejavu` crate), subset with `subsetter`, written as a Type0 / CIDFontType2 font with
//! Identity-H encoding, identity CIDToGIDMap, widths, CIDSet (PDF/A-1 §6.3.5 for subsets) and a
//! ToUnicode CMap so that the text (accents, ’, « ») extracts correctly.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use sha1::{Digest, Sha1};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

use crate::error::{CdaError, Result};

const SYSTEM_INFO: SystemInfo = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// The font bytes (DejaVu Sans Book 2.37).
pub fn font_data() -> &'static [u8] {
    dejavu::sans::regular()
}

/// Object ids of the font's PDF objects.
pub struct FontRefs {
    pub type0: Ref,
    pub cid_font: Ref,
    pub descriptor: Ref,
    pub file: Ref,
    pub cid_set: Ref,
    pub to_unicode: Ref,
}

/// A font being used on the pages: records the glyphs shown (CID = glyph id in the subset).
pub struct EmbeddedFont {
    face: Face<'static>,
    data: &'static [u8],
    remap: GlyphRemapper,
    /// CID → (old glyph id, the character it shows).
    used: BTreeMap<u16, (u16, char)>,
    upem: f32,
}

impl EmbeddedFont {
    pub fn new() -> Result<Self> {
        let data = font_data();
        let face = Face::parse(data, 0).map_err(|e| CdaError::Pdf(format!("font: {e}")))?;
        let upem = face.units_per_em() as f32;
        Ok(Self {
            face,
            data,
            remap: GlyphRemapper::new(),
            used: BTreeMap::new(),
            upem,
        })
    }

    fn glyph(&self, c: char) -> Option<GlyphId> {
        self.face.glyph_index(c).filter(|g| g.0 != 0)
    }

    /// Replaces control characters by a space and characters the font lacks by `?`, so that no
    /// `.notdef` glyph is ever shown.
    pub fn sanitize(&self, s: &str) -> String {
        s.chars()
            .map(|c| match c {
                c if c.is_control() => ' ',
                c if self.glyph(c).is_some() => c,
                _ => '?',
            })
            .collect()
    }

    /// Advance of a (sanitized) character in 1/1000 em.
    fn advance(&self, c: char) -> f32 {
        self.glyph(c)
            .and_then(|g| self.face.glyph_hor_advance(g))
            .map_or(0.0, |a| a as f32 * 1000.0 / self.upem)
    }

    /// Width of a (sanitized) character at `size` points.
    pub fn char_width(&self, c: char, size: f32) -> f32 {
        self.advance(c) * size / 1000.0
    }

    /// Width of a sanitized string at `size` points.
    pub fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.advance(c)).sum::<f32>() * size / 1000.0
    }

    /// The string operand (2-byte big-endian CIDs, Identity-H) of a sanitized string.
    pub fn encode(&mut self, s: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 * s.len());
        for c in s.chars() {
            let old = self.glyph(c).map_or(0, |g| g.0);
            let cid = self.remap.remap(old);
            self.used.entry(cid).or_insert((old, c));
            out.extend(cid.to_be_bytes());
        }
        out
    }

    /// Writes the Type0 font and its dependants.
    pub fn write(&self, pdf: &mut Pdf, r: &FontRefs) -> Result<()> {
        let subset = subsetter::subset(self.data, 0, &self.remap)
            .map_err(|e| CdaError::Pdf(format!("font subset: {e}")))?;
        let glyph_count = Face::parse(&subset, 0)
            .map_err(|e| CdaError::Pdf(format!("font subset: {e}")))?
            .number_of_glyphs();
        // Subset tag: six capitals derived from the glyph set.
        let mut h = Sha1::new();
        for (cid, (old, _)) in &self.used {
            h.update(cid.to_be_bytes());
            h.update(old.to_be_bytes());
        }
        let digest = h.finalize();
        let tag: String = digest[..6]
            .iter()
            .map(|b| (b'A' + b % 26) as char)
            .collect();
        let ps_name = self
            .face
            .names()
            .into_iter()
            .find(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME && n.is_unicode())
            .and_then(|n| n.to_string())
            .unwrap_or_else(|| "DejaVuSans".to_owned());
        let base = format!("{tag}+{ps_name}");
        let scale = |v: f32| v * 1000.0 / self.upem;

        pdf.type0_font(r.type0)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(r.cid_font)
            .to_unicode(r.to_unicode);

        let notdef_w = self
            .face
            .glyph_hor_advance(GlyphId(0))
            .map_or(0.0, |a| scale(a as f32));
        let mut cid = pdf.cid_font(r.cid_font);
        cid.subtype(CidFontType::Type2)
            .base_font(Name(base.as_bytes()))
            .system_info(SYSTEM_INFO)
            .font_descriptor(r.descriptor)
            .default_width(notdef_w)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        {
            let mut w = cid.widths();
            for (c, (old, _)) in &self.used {
                let a = self
                    .face
                    .glyph_hor_advance(GlyphId(*old))
                    .map_or(0.0, |a| scale(a as f32));
                w.consecutive(*c, [a]);
            }
        }
        cid.finish();

        let bb = self.face.global_bounding_box();
        pdf.font_descriptor(r.descriptor)
            .name(Name(base.as_bytes()))
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                scale(bb.x_min as f32),
                scale(bb.y_min as f32),
                scale(bb.x_max as f32),
                scale(bb.y_max as f32),
            ))
            .italic_angle(self.face.italic_angle())
            .ascent(scale(self.face.ascender() as f32))
            .descent(scale(self.face.descender() as f32))
            .cap_height(scale(
                self.face.capital_height().unwrap_or(self.face.ascender()) as f32,
            ))
            .stem_v(80.0)
            .font_file2(r.file)
            .cid_set(r.cid_set);

        let z = super::deflate(&subset);
        pdf.stream(r.file, &z)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), subset.len() as i32);

        // Every CID present in the subset font program (0..glyph_count).
        let mut bits = vec![0u8; (glyph_count as usize).div_ceil(8)];
        for g in 0..glyph_count as usize {
            bits[g / 8] |= 0x80 >> (g % 8);
        }
        let z = super::deflate(&bits);
        pdf.stream(r.cid_set, &z).filter(Filter::FlateDecode);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), SYSTEM_INFO);
        for (c, (_, ch)) in &self.used {
            if *c != 0 {
                cmap.pair(*c, *ch);
            }
        }
        let cmap = cmap.finish();
        let z = super::deflate(&cmap);
        pdf.stream(r.to_unicode, &z).filter(Filter::FlateDecode);
        Ok(())
    }
}
