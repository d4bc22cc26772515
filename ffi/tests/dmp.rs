//! The DMP through the C ABI (`segur_dmp_*`, `segur_identity_by_ins`), called as C calls them,
//! against an in-process sandbox: the boundary (NULLs, bad JSON, bad UTF-8, outputs written only
//! on success, checks made before any effect, the last error's size reporting), the workflow
//! (status → authorize → send → dashboard → find → latest VSM → get → mask → delete → revoke),
//! the DMP's own codes in the error details (106, 107, 200, 202 with their subcodes), the
//! configured default practitioner, and the `*_async` variants.

use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Mutex;

use segur::buf::{segur_buf_data, segur_buf_free, segur_buf_len};
use segur::client::{segur_client_free, segur_client_open};
use segur::{
    segur_buf, segur_client, segur_last_error_details, segur_last_error_message, segur_result,
    ErrorDetails,
};
use segur_sandbox::{Sandbox, SandboxOptions};

const ACTOR: &str = r#"{"user":"ffi-dmp"}"#;
/// A practitioner given explicitly (not the configured one), not authorised anywhere.
const OTHER_PS: &str = r#"{"id_nat":"810000002237","nom":"AUTRE","prenom":"Alex","profession":"10","specialty":"SM26"}"#;

/// A sandbox, its runtime and a client of the C ABI (freed first).
struct Env {
    sb: Sandbox,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    client: *mut segur_client,
}

impl Drop for Env {
    fn drop(&mut self) {
        segur_client_free(self.client);
    }
}

impl Env {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sb = rt
            .block_on(Sandbox::start(SandboxOptions::new(dir.path().join("sb"))))
            .unwrap();
        let client = open(sb.settings_path().to_str().unwrap()).expect("segur_client_open");
        Self {
            sb,
            _rt: rt,
            _dir: dir,
            client,
        }
    }

    fn c(&self) -> *const segur_client {
        self.client
    }

    /// A variant of the sandbox's `segur.toml` (same folder, same journal).
    fn config_variant(&self, name: &str, edit: impl Fn(&str) -> String) -> PathBuf {
        let text = std::fs::read_to_string(self.sb.settings_path()).unwrap();
        let path = self.sb.settings_path().with_file_name(name);
        let new = edit(&text);
        assert_ne!(new, text, "the edit changed nothing");
        std::fs::write(&path, new).unwrap();
        path
    }
}

fn open(path: &str) -> Result<*mut segur_client, segur_result> {
    let mut c = std::ptr::null_mut();
    match segur_client_open(path.as_ptr(), path.len(), &mut c) {
        segur_result::Ok => Ok(c),
        r => Err(r),
    }
}

/// The bytes of a buffer, then frees it.
fn take(b: *mut segur_buf) -> Vec<u8> {
    assert!(!b.is_null(), "no output");
    let n = segur_buf_len(b);
    // SAFETY: a live buffer of `n` bytes from the library.
    let v = unsafe { std::slice::from_raw_parts(segur_buf_data(b), n) }.to_vec();
    segur_buf_free(b);
    v
}

fn take_json(b: *mut segur_buf) -> serde_json::Value {
    serde_json::from_slice(&take(b)).expect("JSON output")
}

/// A failed call: its code and the last error's details.
type Failed = (segur_result, Box<ErrorDetails>);
/// The outcome of a call writing one JSON buffer.
type Out = Result<serde_json::Value, Failed>;

fn details() -> Box<ErrorDetails> {
    let mut d = std::ptr::null_mut();
    assert_eq!(segur_last_error_details(&mut d), segur_result::Ok);
    Box::new(serde_json::from_slice(&take(d)).unwrap())
}

/// `Ok(json)` or `Err((code, details))` of a call writing one buffer.
fn call(f: impl FnOnce(*mut *mut segur_buf) -> segur_result) -> Out {
    let mut out = std::ptr::null_mut();
    match f(&mut out) {
        segur_result::Ok => Ok(take_json(out)),
        r => {
            assert!(out.is_null(), "{r:?}: output written on failure");
            Err((r, details()))
        }
    }
}

fn code(r: Out) -> segur_result {
    match r {
        Ok(v) => panic!("expected a failure, got {v}"),
        Err((c, _)) => c,
    }
}

/// Creates `id` and qualifies it: INSi (CR 00, RECUP), then an identity card (QUAL).
fn qualify(c: *const segur_client, id: &str, traits: &str) {
    call(|o| {
        segur::client::segur_identity_create(
            c,
            id.as_ptr(),
            id.len(),
            traits.as_ptr(),
            traits.len(),
            false,
            ACTOR.as_ptr(),
            ACTOR.len(),
            o,
        )
    })
    .unwrap();
    let s = call(|o| {
        segur::client::segur_identity_search_insi(
            c,
            id.as_ptr(),
            id.len(),
            ACTOR.as_ptr(),
            ACTOR.len(),
            o,
        )
    })
    .unwrap();
    assert_eq!(s["result"]["code"], "00", "{id}");
    let v = call(|o| {
        segur::client::segur_identity_add_document(
            c,
            id.as_ptr(),
            id.len(),
            "CN".as_ptr(),
            2,
            ACTOR.as_ptr(),
            ACTOR.len(),
            o,
        )
    })
    .unwrap();
    assert_eq!(v["status"], "QUAL");
}

/// A VSM built by the library for the recorded patient `id` (cli/examples/vsm-request.json).
fn vsm(c: *const segur_client, id: &str) -> Vec<u8> {
    let mut req: serde_json::Value =
        serde_json::from_str(include_str!("../../cli/examples/vsm-request.json")).unwrap();
    req["patient"] = id.into();
    let req = req.to_string();
    let (mut doc, mut xml) = (std::ptr::null_mut(), std::ptr::null_mut());
    let r = segur::cda::segur_cda_vsm_build(c, req.as_ptr(), req.len(), &mut doc, &mut xml);
    assert_eq!(r, segur_result::Ok, "{:?}", details());
    take(doc);
    take(xml)
}

const ADRDEUX: &str =
    r#"{"nom_naissance":"ADRDEUX","prenoms":"LAURENT","sexe":"M","date_naissance":"1981-01-01"}"#;
const ADRDEUX_INS: &str = "181016322075140";
const TCHITCHI: &str =
    r#"{"nom_naissance":"TCHITCHI","prenoms":"CATARINA","sexe":"F","date_naissance":"1936-06-21"}"#;
const NESSI: &str =
    r#"{"nom_naissance":"NESSI","prenoms":"NATHALIE","sexe":"F","date_naissance":"1977-07-14"}"#;
const ADRUN: &str =
    r#"{"nom_naissance":"ADRUN","prenoms":"ZOE","sexe":"F","date_naissance":"1975-12-31"}"#;

fn status(c: *const segur_client, id: &str, ps: Option<&str>) -> Out {
    let (p, n) = ps.map_or((std::ptr::null(), 0), |p| (p.as_ptr(), p.len()));
    call(|o| segur::dmp::segur_dmp_status(c, id.as_ptr(), id.len(), p, n, o))
}

fn find(c: *const segur_client, id: &str, q: &str) -> Out {
    call(|o| {
        segur::dmp::segur_dmp_find(
            c,
            id.as_ptr(),
            id.len(),
            std::ptr::null(),
            0,
            q.as_ptr(),
            q.len(),
            o,
        )
    })
}

fn send(c: *const segur_client, id: &str, doc: &[u8], options: &str) -> Out {
    call(|o| {
        segur::dmp::segur_dmp_send(
            c,
            id.as_ptr(),
            id.len(),
            std::ptr::null(),
            0,
            doc.as_ptr(),
            doc.len(),
            options.as_ptr(),
            options.len(),
            o,
        )
    })
}

fn update(c: *const segur_client, id: &str, uid: &str, what: &str) -> Out {
    call(|o| {
        segur::dmp::segur_dmp_update(
            c,
            id.as_ptr(),
            id.len(),
            std::ptr::null(),
            0,
            uid.as_ptr(),
            uid.len(),
            what.as_ptr(),
            what.len(),
            o,
        )
    })
}

fn dashboard(c: *const segur_client, q: &str) -> Out {
    call(|o| segur::dmp::segur_dmp_dashboard(c, q.as_ptr(), q.len(), o))
}

fn by_ins(c: *const segur_client, ins: &str) -> Result<String, Failed> {
    let mut out = std::ptr::null_mut();
    match segur::dmp::segur_identity_by_ins(c, ins.as_ptr(), ins.len(), &mut out) {
        segur_result::Ok => Ok(String::from_utf8(take(out)).unwrap()),
        r => {
            assert!(out.is_null());
            Err((r, details()))
        }
    }
}

#[test]
fn boundary_checks_come_first_and_outputs_only_on_success() {
    let env = Env::start();
    let c = env.c();
    let id = "IPP-B";
    qualify(c, id, ADRDEUX);
    let doc = vsm(c, id);
    let bad_utf8: &[u8] = &[b'I', 0xC3, 0x28];
    let nul = std::ptr::null::<u8>();

    // NULL client, id, output, options, document, consent, query, update.
    assert_eq!(
        code(status(std::ptr::null(), id, None)),
        segur_result::NullParameter
    );
    assert_eq!(
        code(call(|o| segur::dmp::segur_dmp_status(c, nul, 3, nul, 0, o))),
        segur_result::NullParameter
    );
    assert_eq!(
        segur::dmp::segur_dmp_status(c, id.as_ptr(), id.len(), nul, 0, std::ptr::null_mut()),
        segur_result::NullParameter
    );
    assert!(details().message.contains("status_out"), "{:?}", details());
    assert_eq!(
        code(call(|o| segur::dmp::segur_dmp_send(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            doc.as_ptr(),
            doc.len(),
            nul,
            2,
            o
        ))),
        segur_result::NullParameter
    );
    assert_eq!(
        code(call(|o| segur::dmp::segur_dmp_send(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            nul,
            10,
            b"{}".as_ptr(),
            2,
            o
        ))),
        segur_result::NullParameter
    );
    assert_eq!(
        code(call(|o| segur::dmp::segur_dmp_authorize(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            nul,
            0,
            o
        ))),
        segur_result::NullParameter
    );
    assert_eq!(
        code(call(|o| segur::dmp::segur_dmp_find(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            nul,
            0,
            o
        ))),
        segur_result::NullParameter
    );
    assert_eq!(
        code(call(|o| segur::dmp::segur_dmp_update(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            b"x".as_ptr(),
            1,
            nul,
            0,
            o
        ))),
        segur_result::NullParameter
    );
    assert_eq!(
        code(call(|o| segur::dmp::segur_dmp_dashboard(c, nul, 0, o))),
        segur_result::NullParameter
    );
    assert_eq!(
        code(call(|o| segur::dmp::segur_identity_by_ins(c, nul, 0, o))),
        segur_result::NullParameter
    );
    let (mut e, mut b) = (std::ptr::null_mut(), std::ptr::null_mut());
    assert_eq!(
        segur::dmp::segur_dmp_get(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            b"1.2".as_ptr(),
            3,
            &mut e,
            std::ptr::null_mut()
        ),
        segur_result::NullParameter
    );
    assert_eq!(
        segur::dmp::segur_dmp_get(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            b"1.2".as_ptr(),
            3,
            std::ptr::null_mut(),
            &mut b
        ),
        segur_result::NullParameter
    );
    assert!(e.is_null() && b.is_null());
    assert_eq!(
        segur::dmp::segur_dmp_status_async(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            None,
            std::ptr::null_mut()
        ),
        segur_result::NullParameter
    );
    assert_eq!(
        segur::dmp::segur_dmp_send_async(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            doc.as_ptr(),
            doc.len(),
            b"{}".as_ptr(),
            2,
            None,
            std::ptr::null_mut()
        ),
        segur_result::NullParameter
    );

    // A send refused at the boundary (NULL output) stores nothing: checks come before effects.
    assert_eq!(
        segur::dmp::segur_dmp_send(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            doc.as_ptr(),
            doc.len(),
            b"{}".as_ptr(),
            2,
            std::ptr::null_mut()
        ),
        segur_result::NullParameter
    );
    assert_eq!(dashboard(c, "{}").unwrap(), serde_json::json!([]));

    // Bad UTF-8 and bad JSON; messages name the argument, never a value.
    let r = call(|o| segur::dmp::segur_dmp_status(c, bad_utf8.as_ptr(), bad_utf8.len(), nul, 0, o));
    assert_eq!(code(r), segur_result::InvalidUtf8);
    let r = call(|o| {
        segur::dmp::segur_dmp_status(
            c,
            id.as_ptr(),
            id.len(),
            bad_utf8.as_ptr(),
            bad_utf8.len(),
            o,
        )
    });
    assert_eq!(code(r), segur_result::InvalidUtf8);
    let (r, d) = status(c, id, Some(r#"{"id_nat":"810000002237","nom":"AUTRE""#)).unwrap_err();
    assert_eq!(r, segur_result::InvalidJson);
    assert!(
        d.message.contains("practitioner_json") && !d.message.contains("AUTRE"),
        "{}",
        d.message
    );
    let (r, d) = status(
        c,
        id,
        Some(r#"{"nom":"SECRET","prenom":"X","profession":"10"}"#),
    )
    .unwrap_err();
    assert_eq!(r, segur_result::InvalidJson);
    assert!(
        d.message.contains("missing field `id_nat`") && !d.message.contains("SECRET"),
        "{}",
        d.message
    );
    assert_eq!(
        code(send(c, id, &doc, r#"{"mask_ps":"yes"}"#)),
        segur_result::InvalidJson
    );
    assert_eq!(
        code(find(c, id, r#"{"type_codes":"SYNTH"}"#)),
        segur_result::InvalidJson
    );
    assert_eq!(
        code(dashboard(c, r#"{"status":"lost"}"#)),
        segur_result::InvalidJson
    );
    let r = call(|o| {
        let consent = br#"{"collected_at":null}"#;
        segur::dmp::segur_dmp_authorize(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            consent.as_ptr(),
            consent.len(),
            o,
        )
    });
    assert_eq!(code(r), segur_result::InvalidJson);

    // Values the library refuses: consent mode, update name, practitioner fields, INS.
    let r = call(|o| {
        let consent = br#"{"mode":"telepathie"}"#;
        segur::dmp::segur_dmp_authorize(
            c,
            id.as_ptr(),
            id.len(),
            nul,
            0,
            consent.as_ptr(),
            consent.len(),
            o,
        )
    });
    assert_eq!(code(r), segur_result::InvalidInput);
    assert_eq!(
        code(update(c, id, "1.2.3", "erase")),
        segur_result::InvalidInput
    );
    let (r, _) = status(c, id, Some(r#"{"id_nat":"810000002237","nom":"A","prenom":"B","profession":"10","purpose":"curiosity"}"#)).unwrap_err();
    assert_eq!(r, segur_result::InvalidInput);
    assert_eq!(
        code(by_ins(c, "12345").map(Into::into)),
        segur_result::InvalidInput
    );
    assert_eq!(
        by_ins(c, "279035121518989").unwrap_err().0,
        segur_result::NotFound,
        "PAT-TROIS was never recorded here"
    );
    assert_eq!(by_ins(c, ADRDEUX_INS).unwrap(), id);
    assert_eq!(
        by_ins(c, "1810163220751").unwrap(),
        id,
        "13 characters: key computed"
    );

    // Unknown patient, identity not qualified (RNIV rule 28).
    assert_eq!(code(status(c, "no-such-ipp", None)), segur_result::NotFound);
    call(|o| {
        let t = r#"{"nom_naissance":"MARTIN","prenoms":"PAUL","sexe":"M","date_naissance":"1970-01-01"}"#;
        segur::client::segur_identity_create(c, b"IPP-PROV".as_ptr(), 8, t.as_ptr(), t.len(), false, ACTOR.as_ptr(), ACTOR.len(), o)
    })
    .unwrap();
    assert_eq!(code(status(c, "IPP-PROV", None)), segur_result::RnivRefused);

    // The last error message of a DMP failure, through a buffer too small: its size is reported.
    let _ = status(c, "IPP-PROV", None);
    let mut small = [0x55u8; 4];
    let mut need = 0usize;
    assert_eq!(
        segur_last_error_message(small.as_mut_ptr().cast(), small.len(), &mut need),
        segur_result::InsufficientSize
    );
    assert!(
        need > small.len() && small == [0x55; 4],
        "need {need}, nothing written"
    );
    let mut big = vec![0u8; need];
    let mut need2 = 0usize;
    assert_eq!(
        segur_last_error_message(big.as_mut_ptr().cast(), big.len(), &mut need2),
        segur_result::Ok
    );
    assert_eq!(need2, need);
    assert_eq!(big[need - 1], 0, "NUL-terminated");
    assert!(
        !String::from_utf8_lossy(&big).contains("MARTIN"),
        "no identity in errors"
    );

    // No [practitioner] in the configuration: NULL is refused with CONFIG, a JSON one works.
    let cfg = env.config_variant("no-practitioner.toml", |t| {
        t.replace(segur_sandbox::SANDBOX_PRACTITIONER_TOML, "")
    });
    let c2 = open(cfg.to_str().unwrap()).unwrap();
    assert_eq!(code(status(c2, id, None)), segur_result::Config);
    let st = status(c2, id, Some(OTHER_PS)).unwrap();
    assert_eq!(st["exists"], true);
    segur_client_free(c2);

    // Over the configured size limit: 107, and nothing stored.
    let cfg = env.config_variant("small.toml", |t| {
        t.replacen("[dmp]\n", "[dmp]\nmax_document_bytes = 2000\n", 1)
    });
    let c3 = open(cfg.to_str().unwrap()).unwrap();
    let (r, d) = send(c3, id, &doc, "{}").unwrap_err();
    assert_eq!(r, segur_result::TooLarge, "{d:?}");
    assert_eq!(d.code, 107);
    assert_eq!(d.name, "too_large");
    segur_client_free(c3);
    assert_eq!(dashboard(c, "{}").unwrap(), serde_json::json!([]));
}

#[test]
fn workflow_status_authorize_send_find_get_update() {
    let env = Env::start();
    let c = env.c();
    let id = "IPP-W";
    qualify(c, id, ADRDEUX);

    // TD0.2 with the configured practitioner (NULL): a DMP, not yet authorised.
    let st = status(c, id, None).unwrap();
    assert_eq!(st["exists"], true);
    assert_eq!(st["can_feed"], true);
    assert_eq!(st["can_consult"], false);
    assert_eq!(st["authorization"], "NON_AUTORISE");

    // Consulting before authorization: 202 with the DMP's code as subcode.
    let (r, d) = find(c, id, "{}").unwrap_err();
    assert_eq!(r, segur_result::ServiceRefused);
    assert_eq!(d.code, 202);
    assert_eq!(d.name, "service_refused");
    assert_eq!(d.subcode.as_deref(), Some("DMP_ACCES_NON_AUTORISE"));
    assert_eq!(d.service_code, None);

    // TD0.3 with the patient's consent.
    let a = call(|o| {
        let consent = br#"{"mode":"oral"}"#;
        segur::dmp::segur_dmp_authorize(
            c,
            id.as_ptr(),
            id.len(),
            std::ptr::null(),
            0,
            consent.as_ptr(),
            consent.len(),
            o,
        )
    })
    .unwrap();
    assert_eq!(a, serde_json::json!({"authorization": "AUTORISE"}));
    let list = call(|o| {
        segur::dmp::segur_dmp_authorizations(c, id.as_ptr(), id.len(), std::ptr::null(), 0, o)
    })
    .unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id_nat"] == "810000001239" && a["status"] == "AUTORISE"),
        "{list}"
    );

    // Send a VSM built for this qualified identity.
    let doc = vsm(c, id);
    let sent = send(c, id, &doc, "{}").unwrap();
    assert_eq!(sent["status"], "accessible");
    assert_eq!(sent["status_label"], "Accessible dans le DMP");
    let uid = sent["unique_id"].as_str().unwrap().to_owned();
    let board = dashboard(c, &format!(r#"{{"patient_local_id":"{id}"}}"#)).unwrap();
    assert_eq!(board.as_array().unwrap().len(), 1);
    assert_eq!(board[0]["unique_id"], uid.as_str());
    assert_eq!(board[0]["status"], "accessible");
    assert_eq!(
        dashboard(c, r#"{"status":"failed"}"#).unwrap(),
        serde_json::json!([])
    );

    // Retrying a document the DMP accepted is refused.
    let r =
        call(|o| segur::dmp::segur_dmp_retry(c, uid.as_ptr(), uid.len(), std::ptr::null(), 0, o));
    assert_eq!(code(r), segur_result::InvalidInput);

    // Find (SYNTH), latest VSM, get: the same bytes.
    let found = find(c, id, r#"{"type_codes":["SYNTH"]}"#).unwrap();
    let found = found.as_array().unwrap();
    assert!(
        found.iter().any(|e| e["unique_id"] == uid.as_str()),
        "{found:?}"
    );
    assert!(found.iter().all(|e| e["type_code"] == "SYNTH"));
    let latest = call(|o| {
        segur::dmp::segur_dmp_latest_vsm(c, id.as_ptr(), id.len(), std::ptr::null(), 0, o)
    })
    .unwrap();
    assert_eq!(latest["unique_id"], uid.as_str());
    let (mut e, mut b) = (std::ptr::null_mut(), std::ptr::null_mut());
    let r = segur::dmp::segur_dmp_get(
        c,
        id.as_ptr(),
        id.len(),
        std::ptr::null(),
        0,
        uid.as_ptr(),
        uid.len(),
        &mut e,
        &mut b,
    );
    assert_eq!(r, segur_result::Ok, "{:?}", details());
    assert_eq!(take_json(e)["unique_id"], uid.as_str());
    assert_eq!(take(b), doc);
    let unknown = "1.2.250.1.999.404";
    (e, b) = (std::ptr::null_mut(), std::ptr::null_mut());
    let r = segur::dmp::segur_dmp_get(
        c,
        id.as_ptr(),
        id.len(),
        std::ptr::null(),
        0,
        unknown.as_ptr(),
        unknown.len(),
        &mut e,
        &mut b,
    );
    assert_eq!(r, segur_result::NotFound, "{:?}", details());
    assert!(e.is_null() && b.is_null(), "nothing written on failure");

    // Mask, then delete: the dashboard follows.
    assert_eq!(
        update(c, id, &uid, "mask").unwrap(),
        serde_json::json!({"warnings": []})
    );
    let board = dashboard(c, "{}").unwrap();
    assert!(
        board[0]["confidentiality"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "MASQUE_PS"),
        "{board}"
    );
    update(c, id, &uid, "delete").unwrap();
    let board = dashboard(c, "{}").unwrap();
    assert_eq!(board[0]["status"], "deleted");
    assert_eq!(board[0]["status_label"], "Supprimé dans le DMP");
    let deleted = find(c, id, r#"{"statuses":["deleted"]}"#).unwrap();
    assert!(deleted
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["unique_id"] == uid.as_str() && e["status"] == "deleted"));

    // The INS leads back to the record; revoking ends our access.
    assert_eq!(by_ins(c, ADRDEUX_INS).unwrap(), id);
    let a =
        call(|o| segur::dmp::segur_dmp_revoke(c, id.as_ptr(), id.len(), std::ptr::null(), 0, o))
            .unwrap();
    assert_ne!(a["authorization"], "AUTORISE", "{a}");
    assert_eq!(
        find(c, id, "{}").unwrap_err().0,
        segur_result::ServiceRefused
    );

    // An explicit practitioner is used instead of the configured one.
    let st = status(c, id, Some(OTHER_PS)).unwrap();
    assert_eq!(st["authorization"], "NON_AUTORISE");

    // Every call is journaled on the dmp channel.
    let rows = call(|o| {
        let q = br#"{"channel":"dmp"}"#;
        segur::client::segur_journal_query(c, q.as_ptr(), q.len(), o)
    })
    .unwrap();
    assert!(
        rows.as_array().unwrap().len() >= 10,
        "{}",
        rows.as_array().unwrap().len()
    );
}

/// What a completion callback received.
#[derive(Debug)]
struct Received {
    code: segur_result,
    data: Option<String>,
    err: Option<Box<ErrorDetails>>,
    /// The result of a blocking call made inside the callback.
    inner: segur_result,
}

/// The state a callback's `user_data` points to.
struct Op {
    client: *const segur_client,
    tx: Mutex<mpsc::Sender<Box<Received>>>,
}

unsafe extern "C" fn on_done(user_data: *mut c_void, code: segur_result, data: *const segur_buf) {
    // SAFETY: `user_data` is the `Op` the test keeps alive until the callback has run.
    let op = unsafe { &*(user_data as *const Op) };
    let text = (!data.is_null()).then(|| {
        let n = segur_buf_len(data);
        // SAFETY: borrowed buffer, valid during the callback.
        String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(segur_buf_data(data), n) })
            .into_owned()
    });
    let err = (code != segur_result::Ok).then(details);
    // A blocking call inside the callback is refused instead of deadlocking.
    let mut b = std::ptr::null_mut();
    let inner =
        segur::dmp::segur_dmp_status(op.client, b"x".as_ptr(), 1, std::ptr::null(), 0, &mut b);
    segur_buf_free(b);
    let r = Box::new(Received {
        code,
        data: text,
        err,
        inner,
    });
    if let Ok(tx) = op.tx.lock() {
        let _ = tx.send(r);
    }
}

fn wait(rx: &mpsc::Receiver<Box<Received>>) -> Received {
    *rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("callback called")
}

#[test]
fn refusals_keep_their_codes_and_async_variants() {
    let env = Env::start();
    let c = env.c();
    let (tx, rx) = mpsc::channel();
    let op = Op {
        client: c,
        tx: Mutex::new(tx),
    };
    let ud = &op as *const Op as *mut c_void;

    // A patient who opposed feeding: 106, nothing sent, the document kept as failed.
    qualify(c, "IPP-TC", TCHITCHI);
    let doc = vsm(c, "IPP-TC");
    let (r, d) = send(c, "IPP-TC", &doc, "{}").unwrap_err();
    assert_eq!(r, segur_result::NotSent, "{d:?}");
    assert_eq!((d.code, d.name.as_str()), (106, "not_sent"));
    assert_eq!(
        serde_json::to_value(&d.reason).unwrap(),
        serde_json::json!({"kind": "feeding_opposed"})
    );
    let board = dashboard(c, r#"{"status":"failed"}"#).unwrap();
    assert_eq!(board.as_array().unwrap().len(), 1);
    assert!(board[0]["last_error"].is_string());
    assert_eq!(board[0]["not_sent_reason"], "feeding_opposed");

    // DMP/CONF.01: the DMP knows NESSI NATHALIE as RUTH: 106 with the fields, then confirmed
    // through the C ABI, and the retry sends it.
    qualify(c, "IPP-NN", NESSI);
    let doc = vsm(c, "IPP-NN");
    let (r, d) = send(c, "IPP-NN", &doc, "{}").unwrap_err();
    assert_eq!(r, segur_result::NotSent, "{d:?}");
    assert_eq!(
        serde_json::to_value(&d.reason).unwrap(),
        serde_json::json!({"kind": "traits_mismatch", "fields": ["prenoms"]})
    );
    assert!(!d.message.contains("RUTH"));
    let conf = call(|o| {
        segur::dmp::segur_dmp_confirm_traits(c, b"IPP-NN".as_ptr(), 6, std::ptr::null(), 0, o)
    })
    .unwrap();
    assert_eq!(conf["fields"], serde_json::json!(["prenoms"]));
    let uid = board_uid(c, "IPP-NN");
    let sent =
        call(|o| segur::dmp::segur_dmp_retry(c, uid.as_ptr(), uid.len(), std::ptr::null(), 0, o))
            .unwrap();
    assert_eq!(sent["status"], "accessible");

    // A SOAP fault of the DMP: 200 with its codes; then a retry sends the kept document.
    qualify(c, "IPP-AZ", ADRUN);
    let doc = vsm(c, "IPP-AZ");
    env.sb.dmp_faults().set_soap_fault(true);
    let (r, d) = send(c, "IPP-AZ", &doc, r#"{"invisible_patient":true}"#).unwrap_err();
    assert_eq!(r, segur_result::ServiceFault, "{d:?}");
    assert_eq!(d.code, 200);
    assert!(d.subcode.is_some() && d.service_code.is_some(), "{d:?}");
    // The async form reports the same failure through the callback.
    let st = segur::dmp::segur_dmp_status_async(
        c,
        b"IPP-AZ".as_ptr(),
        6,
        std::ptr::null(),
        0,
        Some(on_done),
        ud,
    );
    assert_eq!(st, segur_result::Ok);
    let Received {
        code,
        data,
        err,
        inner,
    } = wait(&rx);
    assert_eq!(code, segur_result::ServiceFault);
    assert!(data.is_none());
    assert_eq!(
        err.map(|e| e.code),
        Some(200),
        "details readable in the callback"
    );
    assert_eq!(inner, segur_result::WouldBlockInCallback);
    env.sb.dmp_faults().set_soap_fault(false);
    let uid = board_uid(c, "IPP-AZ");
    let sent =
        call(|o| segur::dmp::segur_dmp_retry(c, uid.as_ptr(), uid.len(), std::ptr::null(), 0, o))
            .unwrap();
    assert_eq!(sent["status"], "accessible");
    assert_eq!(sent["unique_id"], uid.as_str());
    let row = dashboard(c, r#"{"patient_local_id":"IPP-AZ"}"#).unwrap();
    assert!(
        row[0]["confidentiality"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "INVISIBLE_PATIENT"),
        "{row}"
    );

    // Async status and send.
    let r = segur::dmp::segur_dmp_status_async(
        c,
        b"IPP-AZ".as_ptr(),
        6,
        std::ptr::null(),
        0,
        Some(on_done),
        ud,
    );
    assert_eq!(r, segur_result::Ok);
    let Received { code, data, .. } = wait(&rx);
    assert_eq!(code, segur_result::Ok);
    let st: serde_json::Value = serde_json::from_str(&data.unwrap()).unwrap();
    assert_eq!(st["exists"], true);
    let doc2 = vsm(c, "IPP-AZ");
    let opts = br#"{"mask_ps":true}"#;
    let r = segur::dmp::segur_dmp_send_async(
        c,
        b"IPP-AZ".as_ptr(),
        6,
        OTHER_PS.as_ptr(),
        OTHER_PS.len(),
        doc2.as_ptr(),
        doc2.len(),
        opts.as_ptr(),
        opts.len(),
        Some(on_done),
        ud,
    );
    assert_eq!(r, segur_result::Ok);
    drop(doc2); // copied before the call returned
    let Received {
        code, data, err, ..
    } = wait(&rx);
    assert_eq!(code, segur_result::Ok, "{err:?}");
    let sent2: serde_json::Value = serde_json::from_str(&data.unwrap()).unwrap();
    assert_eq!(sent2["status"], "accessible");
    let mine = dashboard(c, r#"{"practitioner":"810000002237"}"#).unwrap();
    assert_eq!(
        mine.as_array().unwrap().len(),
        1,
        "sent as the explicit practitioner"
    );
    assert_eq!(mine[0]["unique_id"], sent2["unique_id"]);

    // Async find: refused without authorization (202 and its subcode), in the callback.
    let q = b"{}";
    let r = segur::dmp::segur_dmp_find_async(
        c,
        b"IPP-AZ".as_ptr(),
        6,
        std::ptr::null(),
        0,
        q.as_ptr(),
        2,
        Some(on_done),
        ud,
    );
    assert_eq!(r, segur_result::Ok);
    let Received { code, err, .. } = wait(&rx);
    assert_eq!(code, segur_result::ServiceRefused);
    assert_eq!(
        err.and_then(|e| e.subcode).as_deref(),
        Some("DMP_ACCES_NON_AUTORISE")
    );
    // Bad JSON is reported by the call itself; the callback is never called.
    let r = segur::dmp::segur_dmp_find_async(
        c,
        b"IPP-AZ".as_ptr(),
        6,
        std::ptr::null(),
        0,
        b"[".as_ptr(),
        1,
        Some(on_done),
        ud,
    );
    assert_eq!(r, segur_result::InvalidJson);
    assert!(rx
        .recv_timeout(std::time::Duration::from_millis(300))
        .is_err());
}

fn board_uid(c: *const segur_client, id: &str) -> String {
    let b = dashboard(c, &format!(r#"{{"patient_local_id":"{id}"}}"#)).unwrap();
    b[0]["unique_id"].as_str().unwrap().to_owned()
}
