//! Issue #4 point 6: the PDF copy — `qpdf --check`, the INS DataMatrix decoded back by an
//! independent decoder (Debian `dmtx-utils` `dmtxread`), the MSSanté file name.

use std::process::Command;

use segur_cda::examples::*;
use segur_cda::pdf::*;
use segur_cda::*;

fn manual_pdf() -> (Vec<u8>, PdfPatient) {
    let p = Patient::qualified(&qualified_patient(), IPP_ROOT, InsMode::Sandbox).unwrap();
    let pp = p.pdf_patient();
    let lines: Vec<String> = (0..120)
        .map(|i| format!("Ligne {i} : Pyélonéphrite aiguë — œdème"))
        .collect();
    (
        render_text_pdf("Synthèse médicale", &pp, &lines).unwrap(),
        pp,
    )
}

#[test]
fn qpdf_check_passes() {
    let (pdf, _) = manual_pdf();
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("copie.pdf");
    std::fs::write(&f, &pdf).unwrap();
    match Command::new("qpdf").arg("--check").arg(&f).output() {
        Ok(o) => {
            let out = String::from_utf8_lossy(&o.stdout);
            assert!(
                o.status.success(),
                "qpdf --check: {out}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(out.contains("No syntax or stream encoding errors"), "{out}");
        }
        Err(e) => eprintln!("SKIPPED: qpdf not runnable: {e}"),
    }
}

#[test]
fn ins_datamatrix_decodes_back_with_dmtxread() {
    let (_, pp) = manual_pdf();
    let payload = ins_datamatrix_payload(&pp).unwrap();
    assert!(payload
        .starts_with("IS010000000000000000000000S1279035121518989S21.2.250.1.213.1.4.10\u{1d}"));
    assert!(payload.ends_with("S5FS628-03-1979S751215"));
    let rows = datamatrix_modules(&payload).unwrap();
    // Render exactly the modules drawn in the PDF to a PGM, 8 px per module, 2-module quiet zone.
    let (n, m) = (rows.len(), rows[0].len());
    let s = 8;
    let (w, h) = ((m + 4) * s, (n + 4) * s);
    let mut img = format!("P5 {w} {h} 255\n").into_bytes();
    for y in 0..h {
        for x in 0..w {
            let (r, c) = ((y / s) as isize - 2, (x / s) as isize - 2);
            let dark = r >= 0
                && c >= 0
                && (r as usize) < n
                && (c as usize) < m
                && rows[r as usize][c as usize];
            img.push(if dark { 0 } else { 255 });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ins.pgm");
    std::fs::write(&f, &img).unwrap();
    match Command::new("dmtxread").arg("-N1").arg(&f).output() {
        Ok(o) => {
            assert!(
                o.status.success(),
                "dmtxread: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let decoded = String::from_utf8_lossy(&o.stdout);
            assert_eq!(decoded.trim_end_matches('\n'), payload);
        }
        Err(e) => eprintln!("SKIPPED: dmtxread not runnable: {e}"),
    }
}

#[test]
fn no_datamatrix_without_ins_and_file_name() {
    let mut pp = manual_pdf().1;
    pp.ins = None;
    assert!(ins_datamatrix_payload(&pp).is_none());
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
fn pdf_copy_of_a_vsm_and_of_a_level1() {
    let xml = manual_vsm(VsmVersion::V2013).to_xml().unwrap();
    let d = segur_cda::parse(xml.as_bytes()).unwrap();
    let (pdf, name) = pdf_copy(&d).unwrap();
    assert_eq!(name, "20240312_SYNTH_PAT-TROIS_DOMINIQUE.pdf");
    let text = String::from_utf8_lossy(&pdf);
    assert!(text.contains("POINTS DE VIGILANCE"), "narrative rendered");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join(&name);
    std::fs::write(&f, &pdf).unwrap();
    if let Ok(o) = Command::new("qpdf").arg("--check").arg(&f).output() {
        assert!(o.status.success());
    }
    let p = Patient::qualified(&qualified_patient(), IPP_ROOT, InsMode::Sandbox).unwrap();
    let own = render_text_pdf("CR", &p.pdf_patient(), &[]).unwrap();
    let n1 = Level1Document::cr_consultation(header(p, time(2024, 1, 2, 3, 4, 5)), own.clone());
    let d = segur_cda::parse(n1.to_xml().unwrap().as_bytes()).unwrap();
    assert_eq!(pdf_copy(&d).unwrap().0, own);
}
