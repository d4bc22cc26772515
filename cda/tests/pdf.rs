//! Issue #4 point 6: the PDF/A-1b copy — `qpdf --check`, the page rasterised by two independent
//! renderers (poppler `pdftoppm`, Ghostscript) and the INS DataMatrix decoded FROM THE RENDERED
//! PAGE by Debian `dmtx-utils` `dmtxread`, the birth traits extracted with `pdftotext`, fonts
//! checked with `pdffonts`, PDF/A structure (OutputIntent + ICC v2, XMP pdfaid, Info = XMP,
//! trailer ID, no transparency/encryption/LZW), the MSSanté file name.
//! Full PDF/A-1b validation by veraPDF: `scripts/checks/51-pdfa.sh`.
//!
//! The external tools are Debian `qpdf`, `poppler-utils`, `ghostscript`, `dmtx-utils`; a test
//! whose tool is missing says SKIPPED on stderr (scripts/test installs them).

use std::path::Path;
use std::process::{Command, Output};

use segur_cda::examples::*;
use segur_cda::pdf::*;
use segur_cda::*;

fn created() -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339("2024-03-12T10:30:05+01:00").unwrap()
}

fn manual_pdf() -> (Vec<u8>, PdfPatient) {
    let p = Patient::qualified(&qualified_patient(), IPP_ROOT, InsMode::Sandbox).unwrap();
    let pp = p.pdf_patient();
    let lines: Vec<String> = (0..120)
        .map(|i| format!("Ligne {i} : Pyélonéphrite aiguë — œdème, « suivi » à l’hôpital"))
        .collect();
    (
        render_text_pdf_at("Synthèse médicale", &pp, &lines, &created()).unwrap(),
        pp,
    )
}

/// A patient with accented traits, as a local (non-INSi) identity may carry.
fn accented_patient() -> PdfPatient {
    PdfPatient {
        nom_naissance: "D’ARTAGNAN DE L’HÉRAULT".into(),
        prenoms: "Hélène Éloïse Zoë".into(),
        sexe: "F".into(),
        date_naissance: "19790328".into(),
        lieu_naissance: Some("2B020".into()),
        ins: Some(("279035121518989".into(), "1.2.250.1.213.1.4.10".into())),
    }
}

/// Runs a tool; `None` (and SKIPPED on stderr) when it is not installed.
fn run(cmd: &str, args: &[&std::ffi::OsStr]) -> Option<Output> {
    match Command::new(cmd).args(args).output() {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("SKIPPED: {cmd} not runnable: {e}");
            None
        }
    }
}

fn os<S: AsRef<std::ffi::OsStr> + ?Sized>(s: &S) -> &std::ffi::OsStr {
    s.as_ref()
}

fn write_tmp(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let f = dir.join(name);
    std::fs::write(&f, bytes).unwrap();
    f
}

fn assert_qpdf_ok(f: &Path) {
    if let Some(o) = run("qpdf", &[os("--check"), os(f)]) {
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "qpdf --check: {out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.contains("No syntax or stream encoding errors"), "{out}");
        assert!(!out.to_lowercase().contains("warning"), "{out}");
    }
}

fn pdftotext(f: &Path) -> Option<String> {
    let o = run("pdftotext", &[os("-enc"), os("UTF-8"), os(f), os("-")])?;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8(o.stdout).unwrap())
}

/// The decoded-stream bytes of object `id` (qpdf).
fn qpdf_stream(f: &Path, id: u32) -> Option<Vec<u8>> {
    let o = run(
        "qpdf",
        &[
            os(&format!("--show-object={id}")),
            os("--filtered-stream-data"),
            os(f),
        ],
    )?;
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some(o.stdout)
}

#[test]
fn qpdf_check_passes() {
    let (pdf, _) = manual_pdf();
    assert!(pdf.starts_with(b"%PDF-1.4\n%"), "PDF/A-1 is PDF 1.4");
    assert!(pdf[10..14].iter().all(|b| *b >= 128), "binary comment line");
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), "copie.pdf", &pdf);
    assert_qpdf_ok(&f);
    // Deterministic for the same creation date.
    assert_eq!(pdf, manual_pdf().0);
}

/// Rasterises page 1's top right corner with poppler and the whole page with Ghostscript, and
/// decodes the INS DataMatrix from both images.
#[test]
fn ins_datamatrix_decodes_back_from_the_rendered_pdf() {
    let (pdf, pp) = manual_pdf();
    let payload = ins_datamatrix_payload(&pp).unwrap();
    assert!(payload
        .starts_with("IS010000000000000000000000S1279035121518989S21.2.250.1.213.1.4.10\u{1d}"));
    assert!(payload.ends_with("S5FS628-03-1979S751215"));
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), "copie.pdf", &pdf);

    let mut decoded_by = Vec::new();
    // poppler: 300 dpi, grey, crop of the top right corner (A4 = 2480 px wide at 300 dpi).
    let stem = dir.path().join("poppler");
    if let Some(o) = run(
        "pdftoppm",
        &[
            os("-r"),
            os("300"),
            os("-gray"),
            os("-f"),
            os("1"),
            os("-l"),
            os("1"),
            os("-x"),
            os("1480"),
            os("-y"),
            os("0"),
            os("-W"),
            os("1000"),
            os("-H"),
            os("700"),
            os("-singlefile"),
            os(&f),
            os(&stem),
        ],
    ) {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        decoded_by.push(("pdftoppm", dir.path().join("poppler.pgm")));
    }
    // Ghostscript: the whole first page, 150 dpi, 8-bit grey.
    let gs_out = dir.path().join("gs.pgm");
    if let Some(o) = run(
        "gs",
        &[
            os("-q"),
            os("-dNOPAUSE"),
            os("-dBATCH"),
            os("-dSAFER"),
            os("-sDEVICE=pgmraw"),
            os("-r150"),
            os("-dFirstPage=1"),
            os("-dLastPage=1"),
            os(&format!("-sOutputFile={}", gs_out.display())),
            os(&f),
        ],
    ) {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        decoded_by.push(("ghostscript", gs_out));
    }
    for (renderer, img) in decoded_by {
        let Some(o) = run("dmtxread", &[os("-N1"), os("-m"), os("20000"), os(&img)]) else {
            return;
        };
        assert!(
            o.status.success(),
            "dmtxread on the {renderer} rendering: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let decoded = String::from_utf8_lossy(&o.stdout);
        assert_eq!(decoded.trim_end_matches('\n'), payload, "{renderer}");
    }
}

#[test]
fn pdftotext_extracts_the_accented_birth_traits() {
    let pp = accented_patient();
    let lines = vec![
        "Allergie : « PARACÉTAMOL » — œdème de Quincke, l’été dernier.".to_owned(),
        "Ça, c’est très sûr : ÀÉÈÊËÎÏÔÙÛÜŸÇŒÆ àéèêëîïôùûüÿçœæ €".to_owned(),
    ];
    let pdf = render_text_pdf_at("Compte rendu – Hélène", &pp, &lines, &created()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), "accents.pdf", &pdf);
    assert_qpdf_ok(&f);
    let Some(text) = pdftotext(&f) else { return };
    for want in [
        "Compte rendu – Hélène",
        "D’ARTAGNAN DE L’HÉRAULT",
        "Hélène Éloïse Zoë",
        "né(e) le",
        "28/03/1979",
        "2B020",
        "INS : 279035121518989 (1.2.250.1.213.1.4.10)",
        "« PARACÉTAMOL » — œdème de Quincke, l’été dernier.",
        "ÀÉÈÊËÎÏÔÙÛÜŸÇŒÆ àéèêëîïôùûüÿçœæ €",
    ] {
        assert!(
            text.contains(want),
            "{want:?} not in pdftotext output:\n{text}"
        );
    }
}

#[test]
fn fonts_embedded_subset_with_tounicode() {
    let (pdf, _) = manual_pdf();
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), "copie.pdf", &pdf);
    let Some(o) = run("pdffonts", &[os(&f)]) else {
        return;
    };
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "one font:\n{out}");
    let cols: Vec<&str> = rows[0].split_whitespace().collect();
    // name, type (2 words), encoding, emb, sub, uni, object ID (2 words)
    assert!(cols[0].ends_with("+DejaVuSans"), "{out}");
    assert_eq!(&cols[1..3], ["CID", "TrueType"], "{out}");
    assert_eq!(cols[3], "Identity-H", "{out}");
    assert_eq!(&cols[4..7], ["yes", "yes", "yes"], "emb sub uni:\n{out}");
}

#[test]
fn pdfa_structure_output_intent_xmp_info_id() {
    let (pdf, _) = manual_pdf();
    let raw = String::from_utf8_lossy(&pdf);
    // Catalog with OutputIntent (GTS_PDFA1, sRGB) and Metadata.
    for want in [
        "/OutputIntents [<<\n    /Type /OutputIntent\n    /S /GTS_PDFA1",
        "/OutputConditionIdentifier (sRGB IEC61966-2.1)",
        "/DestOutputProfile 5 0 R",
        "/Metadata 4 0 R",
        "/Type /Metadata",
        "/Subtype /XML",
        "/FontFile2 9 0 R",
        "/CIDSet 10 0 R",
        "/ToUnicode 11 0 R",
        "/CIDToGIDMap /Identity",
    ] {
        assert!(raw.contains(want), "{want:?} missing");
    }
    // Trailer ID; no encryption, LZW, transparency, xref streams, standard 14 fonts.
    let trailer = &raw[raw.rfind("trailer").unwrap()..];
    assert!(trailer.contains("/ID [<"), "{trailer}");
    for banned in [
        "/Encrypt",
        "/LZWDecode",
        "/SMask",
        "/Group",
        "/CA ",
        "/ca ",
        "/BM ",
        "/Type /XRef",
        "/ObjStm",
        "/Helvetica",
        "/JavaScript",
    ] {
        assert!(!raw.contains(banned), "{banned:?} present");
    }
    // XMP (uncompressed, PDF/A-1 §6.7.2) agrees with the Info dictionary (§6.7.3).
    assert!(raw.contains("<pdfaid:part>1</pdfaid:part>"));
    assert!(raw.contains("<pdfaid:conformance>B</pdfaid:conformance>"));
    assert!(raw.contains("<rdf:li xml:lang=\"x-default\">Synthèse médicale</rdf:li>"));
    assert!(raw.contains("<xmp:CreateDate>2024-03-12T10:30:05+01:00</xmp:CreateDate>"));
    // pdf-writer writes the offset as `+01'00` (PDF 1.7 form, no trailing apostrophe).
    assert!(raw.contains("/CreationDate (D:20240312103005+01'00"));
    assert!(raw.contains("<xmp:ModifyDate>2024-03-12T10:30:05+01:00</xmp:ModifyDate>"));
    assert!(raw.contains("/ModDate (D:20240312103005+01'00"));
    assert!(raw.contains("<xmp:CreatorTool>segur-cda</xmp:CreatorTool>"));
    assert!(raw.contains("/Creator (segur-cda)"));
    let producer = format!("segur-cda {} (pdf-writer)", env!("CARGO_PKG_VERSION"));
    assert!(raw.contains(&format!("<pdf:Producer>{producer}</pdf:Producer>")));
    assert!(raw.contains(&format!("/Producer ({producer})")));
    // The embedded ICC profile is an ICC v2 RGB display profile (qpdf decodes the stream).
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), "copie.pdf", &pdf);
    if let Some(icc) = qpdf_stream(&f, 5) {
        assert_eq!(icc, pdfa::srgb_v2_icc());
        assert_eq!(
            u32::from_be_bytes(icc[0..4].try_into().unwrap()) as usize,
            icc.len()
        );
        assert_eq!(icc[8], 2, "ICC major version 2 (PDF/A-1)");
        assert_eq!(&icc[12..24], b"mntrRGB XYZ ");
        assert_eq!(&icc[36..40], b"acsp");
    }
}

#[test]
fn srgb_v2_icc_is_well_formed() {
    let icc = pdfa::srgb_v2_icc();
    assert_eq!(
        u32::from_be_bytes(icc[0..4].try_into().unwrap()) as usize,
        icc.len()
    );
    assert_eq!(icc.len() % 4, 0);
    let n = u32::from_be_bytes(icc[128..132].try_into().unwrap()) as usize;
    let mut sigs = Vec::new();
    for i in 0..n {
        let e = &icc[132 + 12 * i..144 + 12 * i];
        let off = u32::from_be_bytes(e[4..8].try_into().unwrap()) as usize;
        let len = u32::from_be_bytes(e[8..12].try_into().unwrap()) as usize;
        assert_eq!(off % 4, 0);
        assert!(off >= 132 + 12 * n && off + len <= icc.len());
        let sig = std::str::from_utf8(&e[0..4]).unwrap().to_owned();
        let ty = &icc[off..off + 4];
        let want: &[u8] = match sig.as_str() {
            "desc" => b"desc",
            "cprt" => b"text",
            "rTRC" | "gTRC" | "bTRC" => b"curv",
            _ => b"XYZ ",
        };
        assert_eq!(ty, want, "{sig}");
        sigs.push(sig);
    }
    for s in [
        "desc", "cprt", "wtpt", "rXYZ", "gXYZ", "bXYZ", "rTRC", "gTRC", "bTRC",
    ] {
        assert!(sigs.iter().any(|x| x == s), "{s}");
    }
    // Colorants sum to the D50 PCS white (matrix/TRC profile requirement).
    let xyz = |sig: &str| -> [f64; 3] {
        let i = sigs.iter().position(|x| x == sig).unwrap();
        let e = &icc[132 + 12 * i..144 + 12 * i];
        let off = u32::from_be_bytes(e[4..8].try_into().unwrap()) as usize;
        let v = |k: usize| {
            i32::from_be_bytes(icc[off + 8 + 4 * k..off + 12 + 4 * k].try_into().unwrap()) as f64
                / 65536.0
        };
        [v(0), v(1), v(2)]
    };
    let (r, g, b) = (xyz("rXYZ"), xyz("gXYZ"), xyz("bXYZ"));
    for (k, d50) in [0.9642, 1.0, 0.8249].into_iter().enumerate() {
        assert!((r[k] + g[k] + b[k] - d50).abs() < 0.001, "{k}");
    }
}

#[test]
fn ghostscript_renders_without_complaint() {
    let (pdf, _) = manual_pdf();
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), "copie.pdf", &pdf);
    let Some(o) = run(
        "gs",
        &[
            os("-q"),
            os("-dNOPAUSE"),
            os("-dBATCH"),
            os("-dSAFER"),
            os("-sDEVICE=nullpage"),
            os(&f),
        ],
    ) else {
        return;
    };
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{all}");
    assert!(!all.contains("Error") && !all.contains("****"), "{all}");
}

#[test]
fn no_datamatrix_without_ins_and_file_name() {
    let mut pp = manual_pdf().1;
    pp.ins = None;
    assert!(ins_datamatrix_payload(&pp).is_none());
    let pdf = render_text_pdf("Sans INS", &pp, &[]).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.4"));
    assert_eq!(
        mssante_file_name("20240312", "SYNTH", "Pat-Trois", "Dominique Marie-Louise"),
        "20240312_SYNTH_PAT-TROIS_Dominique-Marie-Louise.pdf"
    );
    assert_eq!(
        mssante_file_name("20240312", "11488-4", "Hélène", "Éloïse"),
        "20240312_11488-4_HELENE_Eloise.pdf"
    );
}

#[test]
fn long_words_and_missing_glyphs_are_safe() {
    let pp = accented_patient();
    let lines = vec![
        "x".repeat(400),
        "tab\there, bell\u{7} and a CJK 漢 glyph DejaVu Sans lacks".to_owned(),
        String::new(),
        "   indented line that is long enough to wrap around the right margin of the A4 page at ten points".to_owned(),
    ];
    let pdf = render_text_pdf_at("Bords", &pp, &lines, &created()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), "bords.pdf", &pdf);
    assert_qpdf_ok(&f);
    let Some(text) = pdftotext(&f) else { return };
    assert!(text.contains("tab here, bell and a CJK ? glyph"), "{text}");
    let xs: usize = text
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| c == 'x'))
        .map(str::len)
        .sum();
    assert_eq!(xs, 400, "the long word is cut, not lost:\n{text}");
}

#[test]
fn pdf_copy_of_a_vsm_and_of_a_level1() {
    let xml = manual_vsm(VsmVersion::V2013).to_xml().unwrap();
    let d = segur_cda::parse(xml.as_bytes()).unwrap();
    let (pdf, name) = pdf_copy(&d).unwrap();
    assert_eq!(name, "20240312_SYNTH_PAT-TROIS_DOMINIQUE.pdf");
    assert!(pdf.starts_with(b"%PDF-1.4"));
    let dir = tempfile::tempdir().unwrap();
    let f = write_tmp(dir.path(), &name, &pdf);
    assert_qpdf_ok(&f);
    if let Some(text) = pdftotext(&f) {
        assert!(text.contains("POINTS DE VIGILANCE"), "narrative rendered");
        assert!(text.contains("PAT-TROIS"), "{text}");
    }
    let p = Patient::qualified(&qualified_patient(), IPP_ROOT, InsMode::Sandbox).unwrap();
    let own = render_text_pdf("CR", &p.pdf_patient(), &[]).unwrap();
    let n1 = Level1Document::cr_consultation(header(p, time(2024, 1, 2, 3, 4, 5)), own.clone());
    let d = segur_cda::parse(n1.to_xml().unwrap().as_bytes()).unwrap();
    assert_eq!(pdf_copy(&d).unwrap().0, own);
}

/// With `SEGUR_PDF_OUT=DIR`, writes the test PDFs there (for veraPDF or a look).
#[test]
fn write_samples_when_asked() {
    let Ok(dir) = std::env::var("SEGUR_PDF_OUT") else {
        return;
    };
    std::fs::create_dir_all(&dir).unwrap();
    let dir = Path::new(&dir);
    write_tmp(dir, "manual.pdf", &manual_pdf().0);
    let pdf = render_text_pdf_at(
        "Compte rendu – Hélène",
        &accented_patient(),
        &["« PARACÉTAMOL » — œdème, l’été.".to_owned()],
        &created(),
    )
    .unwrap();
    write_tmp(dir, "accents.pdf", &pdf);
}
