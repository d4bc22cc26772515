"""Documents (CDA R2) against `segur sandbox`: build a VSM for a qualifiée identity, parse it,
integrate a selection, XDS metadata, PDF copy; the ANS example; errors and the GIL."""

import copy
import json
import os
import sys
import threading
import time
from datetime import datetime

import pytest

import segur
from conftest import ADRDEUX, ADRDEUX_INS, REPO

S = segur.IdentityStatus
REQUEST_FILE = os.path.join(REPO, "cli", "examples", "vsm-request.json")
REFERENCE = os.environ.get("SEGUR_REFERENCE") or os.path.join(REPO, "..", "shared", "reference")
ANS_VSM = os.path.join(REFERENCE, "cda", "ExemplesCDA", "VSM_1.4_2022.01.xml")
NOT_CDA = b'<?xml version="1.0" encoding="UTF-8"?><note xmlns="urn:example">x</note>'
DOCTYPE = (b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY x "y">]>'
           b'<ClinicalDocument xmlns="urn:hl7-org:v3">&x;</ClinicalDocument>')


def request(**replace):
    with open(REQUEST_FILE, encoding="utf-8") as f:
        req = json.load(f)
    req.update(replace)
    return req


@pytest.fixture(scope="module")
def qualified(client):
    """ADRDEUX as IPP-0001: created PROV, INSi → RECUP, document CN → QUAL."""
    assert client.identity_create("IPP-0001", segur.IdentityInput(**ADRDEUX)).status == S.PROV
    assert client.identity_search_insi("IPP-0001").identity.status == S.RECUP
    assert client.identity_add_document("IPP-0001", "CN").status == S.QUAL
    return "IPP-0001"


@pytest.fixture(scope="module")
def built(client, qualified):
    return client.cda_vsm_build(request(patient=qualified))


def test_vsm_build_for_a_qualified_identity(built):
    assert isinstance(built, segur.BuiltDocument)
    assert built.with_ins is True
    assert ADRDEUX_INS in built.xml and built.xml.lstrip().startswith("<?xml")
    assert built.id and built.set_id and built.id != built.set_id
    assert "ADRDEUX" not in repr(built) and ADRDEUX_INS not in repr(built)


def test_vsm_build_from_the_json_text(client, qualified):
    with open(REQUEST_FILE, encoding="utf-8") as f:
        doc = client.cda_vsm_build(f.read())
    assert doc.with_ins is True and ADRDEUX_INS in doc.xml


def test_vsm_build_without_ins_when_not_qualified(client):
    client.identity_create("IPP-RECUP", segur.IdentityInput(**ADRDEUX))
    assert client.identity_search_insi("IPP-RECUP").identity.status == S.RECUP
    doc = client.cda_vsm_build(request(patient="IPP-RECUP"))
    assert doc.with_ins is False and ADRDEUX_INS not in doc.xml  # RNIV rule 28


def test_parse_the_built_vsm(built):
    doc = segur.cda_parse(built.xml.encode())
    assert set(doc) >= {"header", "vsm_version", "body", "items"}
    items = doc["items"]
    assert len(items) >= 10
    ids = [i["id"] for i in items]
    assert len(set(ids)) == len(ids) and all(isinstance(i, str) and i for i in ids)
    assert all(isinstance(i["kind"], str) and isinstance(i["label"], str) for i in items)
    kinds = {i["kind"] for i in items}
    assert {"Pathologie", "Traitement", "Allergie"} <= kinds
    labels = {i["label"] for i in items}
    assert "Angine de poitrine instable" in labels
    # str and bytearray give the same model; ids are stable.
    assert segur.cda_parse(built.xml) == doc
    assert segur.cda_parse(bytearray(built.xml.encode())) == doc


def test_integrate_exactly_the_selection(built):
    items = segur.cda_parse(built.xml)["items"]
    chosen = [next(i for i in items if i["kind"] == "Pathologie"),
              next(i for i in items if i["kind"] == "Traitement")]
    summary = segur.cda_integrate(built.xml, [i["id"] for i in chosen])
    entries = [e for v in summary.values() if isinstance(v, list) for e in v]
    assert len(entries) == 2
    assert [e["label"] for e in summary["pathologies"]] == [chosen[0]["label"]]
    assert [e["label"] for e in summary["traitements"]] == [chosen[1]["label"]]
    # A tuple works too; nothing selected → an empty summary.
    assert segur.cda_integrate(built.xml, tuple(i["id"] for i in chosen)) == summary
    empty = segur.cda_integrate(built.xml, [])
    assert all(v == [] for v in empty.values() if isinstance(v, list))


def test_metadata(built):
    m = segur.cda_metadata(built.xml)
    assert ADRDEUX_INS in m["patient_id"]
    assert "IPP-0001" in m["source_patient_id"]
    assert m["type_code"]["code"] == "SYNTH"


def test_pdf_copy(built):
    pdf, name = segur.cda_pdf(built.xml.encode())
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    assert isinstance(name, str) and name.endswith(".pdf") and "ADRDEUX" in name
    assert segur.cda_pdf(built.xml)[1] == name


def test_parse_the_ans_example():
    if not os.path.isfile(ANS_VSM):
        pytest.fail("ANS reference not found: %s (set SEGUR_REFERENCE)" % ANS_VSM)
    with open(ANS_VSM, "rb") as f:
        xml = f.read()
    doc = segur.cda_parse(xml)
    assert doc["vsm_version"] is not None
    items = doc["items"]
    assert items and all(i["id"] and i["kind"] and isinstance(i["label"], str) for i in items)
    assert "Angine de poitrine instable" in {i["label"] for i in items}
    pdf, name = segur.cda_pdf(xml)
    assert pdf.startswith(b"%PDF-") and name.endswith(".pdf")


@pytest.mark.parametrize("fn", [segur.cda_parse, segur.cda_metadata, segur.cda_pdf,
                                lambda x: segur.cda_integrate(x, [])])
@pytest.mark.parametrize("bad", [NOT_CDA, DOCTYPE, b"", b"<ClinicalDocument", "pas du XML"])
def test_refused_documents_are_document_errors(fn, bad):
    with pytest.raises(segur.DocumentError) as ei:
        fn(bad)
    e = ei.value
    assert e.code == 105 and isinstance(e, ValueError) and e.retryable is False
    assert not isinstance(e, segur.InsError)


def test_doctype_message(built):
    with pytest.raises(segur.DocumentError, match="DOCTYPE"):
        segur.cda_parse(DOCTYPE)


@pytest.mark.parametrize("bad", [
    {"patient": "IPP-0001"},                      # required fields missing
    "{not json",
    "[]",
    "null",
])
def test_malformed_request_is_an_ins_error(client, qualified, bad):
    with pytest.raises(segur.InsError) as ei:
        client.cda_vsm_build(bad)
    assert ei.value.code == 100 and isinstance(ei.value, ValueError)


def test_malformed_request_values(client, qualified):
    with pytest.raises(segur.InsError):
        client.cda_vsm_build(request(patient=qualified, unknown_field=1))  # deny_unknown_fields
    with pytest.raises(segur.InsError):
        client.cda_vsm_build(request(patient=qualified, confidentiality="Z"))
    with pytest.raises(segur.InsError):
        client.cda_vsm_build(request(patient=qualified, version_number=float("nan")))
    with pytest.raises(segur.InsError):
        client.cda_vsm_build(request(patient=qualified, version_number=2**70))
    with pytest.raises(segur.InsError):
        client.cda_vsm_build(request(patient="\udcff"))
    cyclic = request(patient=qualified)
    cyclic["summary"]["self"] = cyclic
    with pytest.raises(segur.InsError, match="deep"):
        client.cda_vsm_build(cyclic)


def test_unknown_patient_is_not_found(client):
    with pytest.raises(segur.NotFoundError) as ei:
        client.cda_vsm_build(request(patient="IPP-NOBODY"))
    assert ei.value.code == 103


def test_wrong_types_are_type_errors(client, qualified, built):
    for bad in (None, 42, [request()], json.dumps(request()).encode()):
        with pytest.raises(TypeError):
            client.cda_vsm_build(bad)
    with pytest.raises(TypeError):
        client.cda_vsm_build(request(patient=qualified, title=datetime(2024, 1, 1)))
    with pytest.raises(TypeError):
        client.cda_vsm_build({**request(patient=qualified), 1: "x"})
    for fn in (segur.cda_parse, segur.cda_metadata, segur.cda_pdf):
        for bad in (None, 42, ["<x/>"], [60, 120, 47, 62], memoryview(b"<x/>")):
            with pytest.raises(TypeError):
                fn(bad)
    with pytest.raises(TypeError):
        segur.cda_integrate(built.xml, "pathologie:1")  # a str is not a list of ids
    with pytest.raises(TypeError):
        segur.cda_integrate(built.xml, [1])
    with pytest.raises(TypeError):
        segur.cda_integrate(built.xml, None)


def test_unknown_item_id_is_an_ins_error(built):
    ids = [i["id"] for i in segur.cda_parse(built.xml)["items"]]
    with pytest.raises(segur.InsError) as ei:
        segur.cda_integrate(built.xml, [ids[0], "pathologie:NO-SUCH-ITEM"])
    assert ei.value.code == 100


def test_the_request_is_not_modified(client, qualified):
    req = request(patient=qualified)
    before = copy.deepcopy(req)
    client.cda_vsm_build(req)
    assert req == before


def test_gil_is_released_while_rendering(built):
    # As in test_client: with a long switch interval, the other thread only counts while the
    # call has released the GIL.
    xml = built.xml.encode()
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1
            time.sleep(0)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1.0)
    t = threading.Thread(target=count)
    try:
        t.start()
        while counter[0] == 0:
            time.sleep(0.001)
        before = counter[0]
        for _ in range(5):
            segur.cda_pdf(xml)
            segur.cda_parse(xml)
        during = counter[0] - before
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert during > 0
