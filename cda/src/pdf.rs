//! PDF copy of a document: a text rendering (title, patient birth traits, body lines) and, for a
//! qualified identity, the INS DataMatrix; plus the MSSanté file name rule
//! `<date>_<type>_<NOM>_<prénom>.pdf`.
//!
//! Written with `pdf-writer` (pure Rust). Level: PDF 1.7 with the standard Helvetica font
//! (WinAnsi), **not embedded**, so the output is not yet PDF/A (PDF/A-1b and -2b both require
//! embedded fonts and an OutputIntent); see the crate report.

use datamatrix::{DataMatrix, SymbolList};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

use crate::error::{CdaError, Result};

/// The patient block printed at the top of a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PdfPatient {
    /// Nom de naissance.
    pub nom_naissance: String,
    /// Prénoms de naissance.
    pub prenoms: String,
    /// Sexe (M/F/I).
    pub sexe: String,
    /// Birth date `YYYYMMDD`.
    pub date_naissance: String,
    /// Birthplace COG.
    pub lieu_naissance: Option<String>,
    /// Matricule INS (15 characters) and its OID, only for a qualified identity.
    pub ins: Option<(String, String)>,
}

/// The INS DataMatrix payload (`ins.md` §3.4, marked \[I\] there): header `IS010000000000000000000000`, then
/// `S1` matricule (15), `S2` OID + GS, `S3` given names + GS, `S4` birth name + GS, `S5` sex,
/// `S6` `JJ-MM-AAAA`, `S7` COG.
pub fn ins_datamatrix_payload(p: &PdfPatient) -> Option<String> {
    let (mat, oid) = p.ins.as_ref()?;
    let d = &p.date_naissance;
    let date = match (d.get(6..8), d.get(4..6), d.get(0..4)) {
        (Some(j), Some(m), Some(a)) => format!("{j}-{m}-{a}"),
        _ => d.clone(),
    };
    const GS: char = '\u{1d}';
    Some(format!(
        "IS010000000000000000000000S1{mat}S2{oid}{GS}S3{}{GS}S4{}{GS}S5{}S6{date}S7{}",
        p.prenoms,
        p.nom_naissance,
        p.sexe,
        p.lieu_naissance.as_deref().unwrap_or("")
    ))
}

/// The DataMatrix of a payload as rows of modules (true = dark), without quiet zone.
pub fn datamatrix_modules(payload: &str) -> Result<Vec<Vec<bool>>> {
    // Latin-1 bytes (no ECI) when possible: the INS traits are upper-case ASCII after INSi.
    let bytes: Vec<u8> = if payload.chars().all(|c| (c as u32) < 0x100) {
        payload.chars().map(|c| c as u32 as u8).collect()
    } else {
        payload.as_bytes().to_vec()
    };
    let dm = DataMatrix::encode(&bytes, SymbolList::default())
        .map_err(|e| CdaError::Pdf(format!("DataMatrix: {e:?}")))?;
    let bm = dm.bitmap();
    let mut rows = vec![vec![false; bm.width()]; bm.height()];
    for (x, y) in bm.pixels() {
        rows[y][x] = true;
    }
    Ok(rows)
}

/// MSSanté attachment name: `<YYYYMMDD>_<type>_<NOM>_<prénom>.pdf`, characters outside
/// `[A-Za-z0-9-]` replaced by `-` (accents stripped).
pub fn mssante_file_name(date_yyyymmdd: &str, doc_type: &str, nom: &str, prenom: &str) -> String {
    fn clean(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                'à' | 'â' | 'ä' => 'a',
                'é' | 'è' | 'ê' | 'ë' => 'e',
                'î' | 'ï' => 'i',
                'ô' | 'ö' => 'o',
                'ù' | 'û' | 'ü' => 'u',
                'ç' => 'c',
                'À' | 'Â' | 'Ä' => 'A',
                'É' | 'È' | 'Ê' | 'Ë' => 'E',
                'Î' | 'Ï' => 'I',
                'Ô' | 'Ö' => 'O',
                'Ù' | 'Û' | 'Ü' => 'U',
                'Ç' => 'C',
                c if c.is_ascii_alphanumeric() || c == '-' => c,
                _ => '-',
            })
            .collect()
    }
    format!(
        "{}_{}_{}_{}.pdf",
        clean(date_yyyymmdd),
        clean(doc_type),
        clean(&nom.to_uppercase()),
        clean(prenom)
    )
}

fn winansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c as u32 {
            0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
            0x2019 => 0x92,
            0x20ac => 0x80,
            0x0152 => 0x8c,
            0x0153 => 0x9c,
            _ => b'?',
        })
        .collect()
}

fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for w in line.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    out.push(cur);
    out
}

/// Renders a text document: title, patient block (+ INS DataMatrix when `patient.ins` is set),
/// then `lines` (wrapped, paginated, A4).
pub fn render_text_pdf(title: &str, patient: &PdfPatient, lines: &[String]) -> Result<Vec<u8>> {
    const W: f32 = 595.0;
    const H: f32 = 842.0;
    const LEAD: f32 = 13.0;
    let mut all: Vec<(f32, String)> = Vec::new();
    all.push((16.0, title.to_owned()));
    all.push((
        10.0,
        format!(
            "Patient : {} {}  -  sexe {}  -  né(e) le {}  -  lieu de naissance (COG) {}",
            patient.nom_naissance,
            patient.prenoms,
            patient.sexe,
            fr_date(&patient.date_naissance),
            patient.lieu_naissance.as_deref().unwrap_or("-")
        ),
    ));
    if let Some((m, oid)) = &patient.ins {
        all.push((10.0, format!("INS : {m} ({oid})")));
    }
    all.push((10.0, String::new()));
    for l in lines {
        for w in wrap(l, 100) {
            all.push((10.0, w));
        }
    }
    let dm = match ins_datamatrix_payload(patient) {
        Some(p) => Some(datamatrix_modules(&p)?),
        None => None,
    };
    let per_page = ((H - 120.0) / LEAD) as usize;
    let pages: Vec<&[(f32, String)]> = all.chunks(per_page.max(1)).collect();
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let info = Ref::new(4);
    let mut next = 5;
    let page_ids: Vec<(Ref, Ref)> = pages
        .iter()
        .map(|_| {
            let r = (Ref::new(next), Ref::new(next + 1));
            next += 2;
            r
        })
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(page_ids.len() as i32);
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("segur-cda"));
    for (i, (lines, (pid, cid))) in pages.iter().zip(&page_ids).enumerate() {
        let mut page = pdf.page(*pid);
        page.media_box(Rect::new(0.0, 0.0, W, H));
        page.parent(tree);
        page.contents(*cid);
        page.resources().fonts().pair(Name(b"F1"), font);
        page.finish();
        let mut c = Content::new();
        let mut y = H - 60.0;
        for (size, text) in lines.iter() {
            c.begin_text();
            c.set_font(Name(b"F1"), *size);
            c.next_line(50.0, y);
            c.show(Str(&winansi(text)));
            c.end_text();
            y -= if *size > 12.0 { 22.0 } else { LEAD };
        }
        if let (0, Some(rows)) = (i, &dm) {
            // 2 pt per module, top right corner, quiet zone left white.
            let m = 2.0f32;
            let x0 = W - 50.0 - m * rows[0].len() as f32;
            let y0 = H - 40.0;
            c.set_fill_gray(0.0);
            for (r, row) in rows.iter().enumerate() {
                for (col, dark) in row.iter().enumerate() {
                    if *dark {
                        c.rect(x0 + m * col as f32, y0 - m * (r as f32 + 1.0), m, m);
                    }
                }
            }
            c.fill_nonzero();
        }
        pdf.stream(*cid, &c.finish());
    }
    Ok(pdf.finish())
}

fn fr_date(d: &str) -> String {
    match (d.get(6..8), d.get(4..6), d.get(0..4)) {
        (Some(j), Some(m), Some(a)) => format!("{j}/{m}/{a}"),
        _ => d.to_owned(),
    }
}

/// The PDF copy of any parsed document and its MSSanté file name: a level 1 document's own PDF;
/// for a structured document (VSM), its narrative (section titles and table rows / paragraphs)
/// with the patient's birth traits and, when the document carries an INS, the INS DataMatrix.
pub fn pdf_copy(doc: &crate::parse::ParsedDocument) -> Result<(Vec<u8>, String)> {
    use crate::parse::{deep_text, Body, NS};
    use segur_net::xml::Element;
    let h = &doc.header;
    let p = &h.patient;
    let name = mssante_file_name(
        h.effective_time.get(..8).unwrap_or(""),
        &h.code.code,
        p.nom_utilise
            .as_deref()
            .or(p.nom_naissance.as_deref())
            .unwrap_or("PATIENT"),
        p.prenom_utilise
            .as_deref()
            .or(p.premier_prenom.as_deref())
            .unwrap_or(""),
    );
    if let Body::NonXml { media_type, data } = &doc.body {
        if media_type == "application/pdf" {
            return Ok((data.clone(), name));
        }
    }
    let patient = PdfPatient {
        nom_naissance: p.nom_naissance.clone().unwrap_or_default(),
        prenoms: p.prenoms.clone().unwrap_or_default(),
        sexe: p.sexe.clone().unwrap_or_default(),
        date_naissance: p.birth_time.clone().unwrap_or_default(),
        lieu_naissance: p.birth_cog.clone(),
        ins: p
            .ins()
            .map(|i| (i.extension.clone().unwrap_or_default(), i.root.clone())),
    };
    fn section(s: &Element, depth: usize, out: &mut Vec<String>) {
        if let Some(t) = s.child_text(NS, "title") {
            out.push(format!("{}{}", "  ".repeat(depth), t.to_uppercase()));
        }
        if let Some(text) = s.child(NS, "text") {
            fn rows(e: &Element, depth: usize, out: &mut Vec<String>) {
                for c in e.elements() {
                    match c.name.as_str() {
                        "tr" | "item" | "paragraph" => {
                            let cells: Vec<String> = if c.name == "tr" {
                                c.elements().map(deep_text).collect()
                            } else {
                                vec![deep_text(c)]
                            };
                            let line = cells.join(" | ");
                            if !line.trim().is_empty() {
                                out.push(format!("{}{}", "  ".repeat(depth + 1), line));
                            }
                        }
                        _ => rows(c, depth, out),
                    }
                }
            }
            rows(text, depth, out);
        }
        for sub in s
            .children_named(NS, "component")
            .filter_map(|c| c.child(NS, "section"))
        {
            section(sub, depth + 1, out);
        }
    }
    let mut lines = Vec::new();
    if let Some(sb) = doc
        .root
        .child(NS, "component")
        .and_then(|c| c.child(NS, "structuredBody"))
    {
        for s in sb
            .children_named(NS, "component")
            .filter_map(|c| c.child(NS, "section"))
        {
            section(s, 0, &mut lines);
            lines.push(String::new());
        }
    }
    Ok((render_text_pdf(&h.title, &patient, &lines)?, name))
}
