//! Issue #5 point 10: VIHF build + sign (target ≤ 2 ms): validate the fields, write the
//! assertion, exclusive c14n, SHA-256, RSA-2048 PKCS#1 v1.5 signature with the sandbox signing
//! ("cachet") certificate. Parts measured apart: the build alone, the RSA signature alone, and
//! the verification of the result.
//! `cargo bench -p segur-tests --bench dmp_vihf`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use segur_cda::examples::qualified_patient;
use segur_cda::InsMode;
use segur_dmp::vihf::{AuthentificationMode, Lps, PsId, Role, SecteurActivite, Vihf, VihfBuilder};
use segur_net::dsig::{self, Pkcs12Signer, Signer as _};
use segur_sandbox::pki::TestPki;

fn builder(patient: &segur_ins_core::QualifiedIdentity) -> VihfBuilder {
    Vihf::builder()
        .ps_id(PsId::rpps("01234567897").expect("rpps"))
        .subject_name("MEDIONI Stéphane")
        .role(Role::profession("10").expect("role"))
        .specialty(Role::savoir_faire("SM26").expect("role"))
        .structure("1499999999")
        .secteur_activite(SecteurActivite::tre_r02("SA07").expect("secteur"))
        .patient(patient, InsMode::Sandbox)
        .lps(Lps {
            nom: "SEGUR".into(),
            version: "0.1.0".into(),
            id_homologation_dmp: "HOMOLOG-TEST".into(),
            id: None,
        })
        .authentification_mode(AuthentificationMode::Indirecte)
}

fn benches(c: &mut Criterion) {
    let pki = TestPki::generate().expect("pki");
    let p12 = pki.client_pkcs12(&pki.signing, "pw").expect("p12");
    let signer = Pkcs12Signer::from_pkcs12(&p12, "pw").expect("signer");
    let patient = qualified_patient();

    c.bench_function("vihf_build_and_sign", |b| {
        b.iter(|| {
            let v = builder(black_box(&patient)).build().expect("build");
            black_box(v.sign(&signer).expect("sign"))
        })
    });
    c.bench_function("vihf_build_only", |b| {
        b.iter(|| {
            let v = builder(black_box(&patient)).build().expect("build");
            black_box(v.to_unsigned_xml("CN=SEGUR SANDBOX CACHET"))
        })
    });
    c.bench_function("rsa2048_sha256_sign_only", |b| {
        b.iter(|| {
            black_box(
                signer
                    .sign_rsa_sha256(black_box(b"<ds:SignedInfo/>"))
                    .expect("sign"),
            )
        })
    });
    let signed = builder(&patient)
        .build()
        .expect("build")
        .sign(&signer)
        .expect("sign");
    c.bench_function("vihf_verify", |b| {
        b.iter(|| {
            black_box(
                dsig::verify_enveloped(black_box(signed.xml().as_bytes()), signed.id())
                    .expect("verify"),
            )
        })
    });
}

criterion_group!(vihf, benches);
criterion_main!(vihf);
