"""The client against `segur sandbox`: identity workflow (sync and asyncio), journal, errors, GIL."""

import asyncio
import csv
import io
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import segur
from conftest import ADRDEUX, ADRDEUX_INS, HOUILLES

S = segur.IdentityStatus


def test_identity_workflow_to_qual_sync(client):
    ident = client.identity_create("IPP-SYNC-1", segur.IdentityInput(**ADRDEUX))
    assert ident.status == S.PROV and ident.ins is None and ident.transmissible_ins is None
    assert ident.traits.nom_naissance == "ADRDEUX" and ident.traits.prenoms == ["LAURENT"]
    found = client.identity_search_insi("IPP-SYNC-1")
    assert found.result.code == "00"
    assert found.result.identity.ins.matricule == ADRDEUX_INS
    assert found.identity.status == S.RECUP
    assert found.identity.ins.matricule == ADRDEUX_INS
    assert found.identity.transmissible_ins is None  # RNIV rule 28: only when qualifiée
    ident = client.identity_add_document("IPP-SYNC-1", "CN")
    assert ident.status == S.QUAL and ident.status.code == "QUAL"
    assert ident.transmissible_ins.matricule == ADRDEUX_INS
    assert [d.code for d in ident.documents] == ["CN"]
    assert client.identity_get("IPP-SYNC-1").status == S.QUAL
    changes = [h.change for h in ident.history]
    assert "ins_retrieved" in changes and "document_checked" in changes
    assert all(h.by == "pytest" for h in ident.history)


@pytest.mark.asyncio
async def test_identity_workflow_to_qual_async(client):
    client.identity_create("IPP-ASYNC-1", segur.IdentityInput(**ADRDEUX))
    found = await client.identity_search_insi_async("IPP-ASYNC-1")
    assert isinstance(found, segur.IdentitySearch)
    assert found.result.code == "00" and found.identity.status == S.RECUP
    assert client.identity_add_document("IPP-ASYNC-1", "CN").status == S.QUAL


@pytest.mark.asyncio
async def test_insi_search_async_concurrent(client):
    results = await asyncio.gather(
        client.insi_search_async(segur.IdentityInput(**ADRDEUX)),
        client.insi_search_async(segur.IdentityInput(**HOUILLES)),
        client.insi_search_async(segur.IdentityInput(**ADRDEUX)),
    )
    assert [r.code for r in results] == ["00", "01", "00"]
    assert results[1].identity is None


@pytest.mark.asyncio
async def test_async_errors_are_raised_by_await(client):
    with pytest.raises(segur.NotFoundError):
        await client.identity_search_insi_async("IPP-NOBODY")
    with pytest.raises(segur.NeedsConfirmation) as ei:
        await client.insi_search_async(segur.IdentityInput("D’ÆION", "JEAN", "1980-01-01", "M"))
    assert ei.value.proposal == "D'AEION"


def test_insi_search_sync(client):
    r = client.insi_search(segur.IdentityInput(**ADRDEUX))
    assert r.code == "00" and r.identity.ins.matricule == ADRDEUX_INS
    assert r.identity.traits.nom_naissance == "ADRDEUX"
    assert r.attempts and r.attempts[-1].code == "00"
    r = client.insi_search(segur.IdentityInput(**HOUILLES))
    assert r.code == "01" and r.identity is None


def test_needs_confirmation_then_confirm(client):
    traits = segur.IdentityInput("D’ÆION", "JEAN", "1980-01-01", "M")
    with pytest.raises(segur.NeedsConfirmation) as ei:
        client.identity_create("IPP-CONFIRM", traits)
    assert ei.value.proposal == "D'AEION" and ei.value.code == 101
    ident = client.identity_create("IPP-CONFIRM", traits, confirm=True)
    assert ident.traits.nom_naissance == "D'AEION"


def test_rniv_error_for_douteuse_search(client):
    client.identity_create("IPP-DOUT", segur.IdentityInput(**ADRDEUX))
    ident = client.identity_set_attribute("IPP-DOUT", "douteuse", reason="pièce d'identité absente")
    assert ident.attributes.douteuse is True
    with pytest.raises(segur.RnivError) as ei:
        client.identity_search_insi("IPP-DOUT")
    assert ei.value.code == 102 and not ei.value.retryable
    ident = client.identity_set_attribute("IPP-DOUT", "douteuse", False, reason="vérifiée")
    assert ident.attributes.douteuse is False


def test_edit_traits_needs_downgrade_confirmation(client):
    client.identity_create("IPP-EDIT", segur.IdentityInput(**ADRDEUX))
    client.identity_search_insi("IPP-EDIT")
    edited = segur.IdentityInput("ADRDEUX", "LAURENT MARC", "1981-01-01", "M")
    with pytest.raises(segur.RnivError):
        client.identity_edit_traits("IPP-EDIT", edited, reason="typo")
    ident = client.identity_edit_traits("IPP-EDIT", edited, reason="typo", confirm_downgrade=True)
    assert ident.status == S.PROV and ident.ins is None


def test_not_found(client):
    with pytest.raises(segur.NotFoundError) as ei:
        client.identity_get("IPP-NOBODY")
    assert ei.value.code == 103 and isinstance(ei.value, LookupError)
    with pytest.raises(segur.NotFoundError):
        client.identity_add_document("IPP-NOBODY", "CN")


def test_already_exists(client):
    client.identity_create("IPP-TWICE", segur.IdentityInput(**ADRDEUX))
    with pytest.raises(segur.SegurError) as ei:
        client.identity_create("IPP-TWICE", segur.IdentityInput(**ADRDEUX))
    assert ei.value.code == 104 and type(ei.value) is segur.AlreadyExistsError


@pytest.mark.parametrize("traits, code", [
    (dict(ADRDEUX, date_naissance="01/01/1981"), 100),
    (dict(ADRDEUX, sexe="X"), 100),
    (dict(ADRDEUX, nom_naissance="ADR2"), 100),
    (dict(ADRDEUX, lieu_naissance="6322"), 100),
])
def test_malformed_traits_are_ins_errors(client, traits, code):
    with pytest.raises(segur.InsError) as ei:
        client.insi_search(segur.IdentityInput(**traits))
    assert ei.value.code == code and type(ei.value) is segur.InsError
    assert "ADRDEUX" not in str(ei.value) and "1981" not in str(ei.value)


def test_bad_arguments(client):
    with pytest.raises(segur.InsError):
        client.identity_set_attribute("IPP-SYNC-1", "bizarre", reason="x")
    with pytest.raises(segur.InsError):
        client.identity_create("  ", segur.IdentityInput(**ADRDEUX))
    with pytest.raises(TypeError):
        client.identity_get(123)
    with pytest.raises(TypeError):
        client.insi_search(ADRDEUX)  # a dict is not an IdentityInput
    with pytest.raises(segur.InsError):
        client.identity_get("\udcff")
    with pytest.raises(segur.InsError):
        client.exchanges(since="yesterday")
    with pytest.raises(segur.InsError):
        client.exchanges(since=datetime(2020, 1, 1))  # naive
    with pytest.raises(TypeError):
        client.exchanges(since=12)


def test_insi_error_for_unknown_idam(sandbox):
    bad = segur.Client.open(sandbox.variant("badidam", idam="UNKNOWNIDAM0"))
    with pytest.raises(segur.InsiError) as ei:
        bad.insi_search(segur.IdentityInput(**ADRDEUX))
    e = ei.value
    assert e.code == 200 and (e.subcode, e.service_code) == ("siram_100", "desir_550")
    assert e.retryable is False and e.cr is None
    rows = bad.exchanges()
    assert rows and rows[0].status == "fault"


def test_transport_error_for_a_closed_port(sandbox):
    bad = segur.Client.open(sandbox.variant("closed", endpoint="https://127.0.0.1:1/lps"))
    with pytest.raises(segur.TransportError) as ei:
        bad.insi_search(segur.IdentityInput(**ADRDEUX))
    assert ei.value.code == 300 and isinstance(ei.value, ConnectionError)
    assert ei.value.retryable is True


def test_journal_query_and_csv(client):
    client.identity_create("IPP-JOURNAL", segur.IdentityInput(**ADRDEUX))
    client.identity_search_insi("IPP-JOURNAL")
    rows = client.exchanges(patient_local_id="IPP-JOURNAL")
    assert len(rows) >= 1
    r = rows[0]
    assert (r.channel, r.status, r.result_code, r.patient_local_id) == ("insi", "ok", "00", "IPP-JOURNAL")
    assert r.practitioner == "10000000001" and r.ins == ADRDEUX_INS and r.ins_qualified is False
    assert len(r.request_sha256) == 64 and r.http_status == 200
    now = datetime.now(timezone.utc)
    assert client.exchanges(patient_local_id="IPP-JOURNAL", since=now + timedelta(hours=1)) == []
    assert len(client.exchanges(patient_local_id="IPP-JOURNAL", since=now - timedelta(hours=1),
                                until=(now + timedelta(hours=1)).isoformat())) == len(rows)
    assert len(client.exchanges(limit=1)) == 1
    assert client.exchanges(status="no-such-status") == []
    text = client.export_csv(patient_local_id="IPP-JOURNAL")
    lines = list(csv.DictReader(io.StringIO(text)))
    assert len(lines) == len(rows) and lines[0]["patient_local_id"] == "IPP-JOURNAL"
    events = client.rniv_events("IPP-JOURNAL")
    assert [e.change for e in events][:1] == ["status"]
    assert any(e.to_status == "RECUP" for e in events)
    assert all(e.patient_local_id == "IPP-JOURNAL" for e in events)
    assert len(client.rniv_events()) > len(events)


def test_gil_is_released_during_a_sync_search(client):
    # With a long switch interval, another thread only runs while this one has released the GIL
    # (voluntarily); so it counts during the call only if the call releases the GIL.
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
        during = []
        for _ in range(3):
            before = counter[0]
            r = client.insi_search(segur.IdentityInput(**ADRDEUX))
            during.append(counter[0] - before)
            assert r.code == "00"
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert min(during) > 0, during


def test_client_from_several_threads(client):
    errors = []

    def work():
        try:
            assert client.insi_search(segur.IdentityInput(**ADRDEUX)).code == "00"
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
