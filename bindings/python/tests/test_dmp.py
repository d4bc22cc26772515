"""The DMP against `segur sandbox`: status → authorize (consent) → send → find → get →
update (mask, delete) → dashboard, sync and asyncio; refusals, the outbox that never loses a
document, the retry, and the exception tree (NotSent 106, TooLarge 107, ServiceRefused 202)."""

import asyncio
import json
import os
import re
from datetime import datetime, timedelta, timezone

import pytest

import segur
from conftest import REPO

S = segur.IdentityStatus
REQUEST_FILE = os.path.join(REPO, "cli", "examples", "vsm-request.json")

# INSi seeds of the sandbox that have a DMP (sandbox/src/dmp/seeds.rs).
PAT_TROIS = dict(nom_naissance="PAT-TROIS", prenoms="DOMINIQUE MARIE-LOUISE", sexe="F",
                 date_naissance="1979-03-28")
PAT_TROIS_INS = "279035121518989"
ADRUN = dict(nom_naissance="ADRUN", prenoms="ZOE", sexe="F", date_naissance="1975-12-31")
NESSI = dict(nom_naissance="NESSI", prenoms="NATHALIE", sexe="F", date_naissance="1977-07-14",
             lieu_naissance="63220")
TCHITCHI = dict(nom_naissance="TCHITCHI", prenoms="CATARINA", sexe="F", date_naissance="1936-06-21")
# The [practitioner] of the sandbox's segur.toml.
ME = "810000001239"


def qualify(client, local_id, traits):
    """Creates the identity, INSi → RECUP, identity card → QUAL."""
    client.identity_create(local_id, segur.IdentityInput(**traits))
    assert client.identity_search_insi(local_id).result.code == "00"
    assert client.identity_add_document(local_id, "CN").status == S.QUAL


def vsm(client, local_id):
    with open(REQUEST_FILE, encoding="utf-8") as f:
        req = json.load(f)
    req["patient"] = local_id
    return client.cda_vsm_build(req)


def variant(sandbox, name, *, own_journal=True, dmp_endpoint=None, max_document_bytes=None,
            practitioner=True):
    """A copy of the sandbox's segur.toml with DMP settings changed. Without `own_journal` it
    shares the journal (and so the outbox) of the module's client."""
    with open(sandbox.config, encoding="utf-8") as f:
        text = f.read()
    if not practitioner:
        text = text[:text.index("[practitioner]")]
    if dmp_endpoint:
        text, n = re.subn(r'(?m)(^\[dmp\]\nendpoint = )".*"$', r'\1"%s"' % dmp_endpoint, text)
        assert n == 1
    if max_document_bytes:
        text = text.replace("[dmp]\n", "[dmp]\nmax_document_bytes = %d\n" % max_document_bytes, 1)
    if own_journal:
        text += '\n[journal]\npath = "%s.sqlite"\n' % name
    path = os.path.join(sandbox.dir, name + ".toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def test_practitioner_class_and_default(client):
    me = client.default_practitioner
    assert isinstance(me, segur.Practitioner)
    assert (me.id_nat, me.profession, me.specialty, me.auth_mode) == (ME, "10", "SM26", "INDIRECTE")
    assert me.purpose is None
    same = segur.Practitioner(ME, me.nom, me.prenom, "10", specialty="SM26", auth_mode="INDIRECTE")
    assert same == me and same != same.with_purpose("bris_de_glace")
    assert same.with_purpose("centre_15").purpose == "centre_15"
    assert me.nom not in repr(me) and ME in repr(me)
    with pytest.raises(TypeError):
        segur.Practitioner(ME, "TEST", "Camille")  # profession is required


def test_dmp_workflow_sync(client):
    qualify(client, "IPP-PT", PAT_TROIS)
    assert client.identity_by_ins(PAT_TROIS_INS) == "IPP-PT"

    # TD0.2: a DMP where we are not yet authorised: feeding allowed, consulting not.
    st = client.dmp_status("IPP-PT")
    assert isinstance(st, segur.DmpStatus)
    assert st.exists and not st.closed and st.can_feed and not st.can_consult
    assert st.authorization == "NON_AUTORISE" and st.feed_blocked is None
    assert repr(st) == '<segur.DmpStatus exists=True authorization="NON_AUTORISE" can_feed=True can_consult=False>'

    # Consulting without authorization: refused by the DMP with its own code.
    with pytest.raises(segur.ServiceRefusedError) as ei:
        client.dmp_find("IPP-PT")
    e = ei.value
    assert e.code == 202 and isinstance(e, segur.ServiceError) and isinstance(e, segur.SegurError)
    assert e.subcode == "DMP_ACCES_NON_AUTORISE" and e.retryable is False
    assert not isinstance(e, segur.InsiError)

    # TD0.3 with the patient's consent.
    with pytest.raises(segur.InsError):
        client.dmp_authorize("IPP-PT", segur.DmpConsent("telepathie"))
    consent = segur.DmpConsent("oral", collected_at=datetime.now(timezone.utc) - timedelta(minutes=5))
    assert consent.collected_at.tzinfo is not None
    assert client.dmp_authorize("IPP-PT", consent) == "AUTORISE"
    auths = client.dmp_authorizations("IPP-PT")
    assert any(a.id_nat == ME and a.status == "AUTORISE" for a in auths), auths
    assert client.dmp_status("IPP-PT").can_consult is True

    # Send a VSM built for this qualifiée identity (a BuiltDocument is accepted as is).
    doc = vsm(client, "IPP-PT")
    sent = client.dmp_send("IPP-PT", doc)
    assert isinstance(sent, segur.DmpSendResult)
    assert sent.unique_id == doc.id and sent.status == segur.DmpDocumentStatus.ACCESSIBLE
    assert sent.status_label == "Accessible dans le DMP" and sent.partial is False
    board = client.dmp_dashboard()
    assert [r.unique_id for r in board] == [sent.unique_id]
    assert board[0].status == segur.DmpDocumentStatus.ACCESSIBLE and board[0].practitioner == ME
    assert board[0].ins == PAT_TROIS_INS and PAT_TROIS_INS not in repr(board[0])

    # Find: ours among the seeded ones, typed, newest first; the latest VSM is ours.
    found = client.dmp_find("IPP-PT", segur.DmpFindQuery(type_codes=["SYNTH"]))
    assert found and all(isinstance(x, segur.DmpEntry) for x in found)
    assert all(x.type_code == "SYNTH" for x in found)
    mine = next(x for x in found if x.unique_id == sent.unique_id)
    assert mine.status == "approved" and mine.masked is False and mine.mime_type == "text/xml"
    assert isinstance(mine.creation_time, datetime) and mine.creation_time.utcoffset() == timedelta(0)
    assert mine.size == len(doc.xml.encode())
    times = [x.creation_time for x in found if x.creation_time]
    assert times == sorted(times, reverse=True)
    everything = client.dmp_find("IPP-PT")
    assert len(everything) > len(found), "the seeded lab report, prescription... are not VSMs"
    future = client.dmp_find("IPP-PT", segur.DmpFindQuery(since=datetime.now(timezone.utc) + timedelta(days=1)))
    assert future == []
    latest = client.dmp_latest_vsm("IPP-PT")
    assert latest is not None and latest.unique_id == sent.unique_id

    # Get: the same bytes, and they parse.
    entry, content = client.dmp_get("IPP-PT", sent.unique_id)
    assert isinstance(content, bytes) and content == doc.xml.encode()
    assert entry.unique_id == sent.unique_id
    assert segur.cda_parse(content)["header"]["id"]

    # Mask (enum), then delete (code): the dashboard follows.
    assert isinstance(client.dmp_update("IPP-PT", sent.unique_id, segur.DmpUpdate.MASK), list)
    assert "MASQUE_PS" in client.dmp_dashboard()[0].confidentiality
    client.dmp_update("IPP-PT", sent.unique_id, "delete")
    row = client.dmp_dashboard()[0]
    assert row.status == segur.DmpDocumentStatus.DELETED and row.status_label == "Supprimé dans le DMP"
    assert client.dmp_dashboard(status="accessible") == []
    assert len(client.dmp_dashboard(status=segur.DmpDocumentStatus.DELETED, patient_local_id="IPP-PT")) == 1
    assert client.dmp_dashboard(practitioner="899999999999") == []
    assert client.dmp_dashboard(since=datetime.now(timezone.utc) + timedelta(hours=1)) == []
    deleted = client.dmp_find("IPP-PT", segur.DmpFindQuery(statuses=["deleted"]))
    assert any(x.unique_id == sent.unique_id and x.status == "deleted" for x in deleted)
    assert all(x.unique_id != sent.unique_id for x in client.dmp_find("IPP-PT"))

    # Every call is journaled on the dmp channel, the refused find included.
    rows = client.exchanges(channel="dmp", patient_local_id="IPP-PT")
    assert len(rows) >= 10
    assert all(r.practitioner == ME and r.ins == PAT_TROIS_INS and r.ins_qualified for r in rows)
    assert any(r.status == "fault" for r in rows)


@pytest.mark.asyncio
async def test_dmp_workflow_async(client):
    qualify(client, "IPP-AZ", ADRUN)
    st = await client.dmp_status_async("IPP-AZ")
    assert st.exists and st.can_feed
    assert await client.dmp_authorize_async("IPP-AZ", segur.DmpConsent("ecrit")) == "AUTORISE"
    doc = vsm(client, "IPP-AZ")
    sent = await client.dmp_send_async("IPP-AZ", doc.xml.encode(), segur.DmpSendOptions(invisible_patient=True))
    assert sent.status == segur.DmpDocumentStatus.ACCESSIBLE
    found, latest, auths = await asyncio.gather(
        client.dmp_find_async("IPP-AZ", segur.DmpFindQuery(type_codes=["SYNTH"])),
        client.dmp_latest_vsm_async("IPP-AZ"),
        client.dmp_authorizations_async("IPP-AZ"),
    )
    mine = next(x for x in found if x.unique_id == sent.unique_id)
    assert mine.invisible_patient is True and "INVISIBLE_PATIENT" in mine.confidentiality
    assert latest.unique_id == sent.unique_id
    assert any(a.id_nat == ME for a in auths)
    entry, content = await client.dmp_get_async("IPP-AZ", sent.unique_id)
    assert content == doc.xml.encode() and entry.invisible_patient is True
    await client.dmp_update_async("IPP-AZ", sent.unique_id, segur.DmpUpdate.SHOW_TO_PATIENT)
    entry, _ = await client.dmp_get_async("IPP-AZ", sent.unique_id)
    assert entry.invisible_patient is False
    await client.dmp_update_async("IPP-AZ", sent.unique_id, segur.DmpUpdate.ARCHIVE)
    rows = client.dmp_dashboard(patient_local_id="IPP-AZ")
    assert [r.status for r in rows] == [segur.DmpDocumentStatus.ARCHIVED]
    # TD0.3 SUPPRESSION: our access is gone, consulting is refused again.
    assert await client.dmp_revoke_async("IPP-AZ") == "NON_AUTORISE"
    with pytest.raises(segur.ServiceRefusedError):
        await client.dmp_find_async("IPP-AZ")
    assert (await client.dmp_status_async("IPP-AZ")).can_consult is False


def test_opposition_is_not_sent_and_the_document_is_kept(client):
    qualify(client, "IPP-TC", TCHITCHI)
    st = client.dmp_status("IPP-TC")
    assert st.feeding_opposed and not st.can_feed and st.feed_blocked == "feeding_opposed"
    doc = vsm(client, "IPP-TC")
    with pytest.raises(segur.NotSentError) as ei:
        client.dmp_send("IPP-TC", doc)
    assert ei.value.code == 106 and not ei.value.retryable
    assert ei.value.reason == segur.NotSentError.FEEDING_OPPOSED == "feeding_opposed"
    assert ei.value.fields == ()
    assert "TCHITCHI" not in str(ei.value)
    row = client.dmp_dashboard(patient_local_id="IPP-TC")[0]
    assert row.status == segur.DmpDocumentStatus.FAILED and row.last_error
    assert row.not_sent_reason == "feeding_opposed"
    with pytest.raises(segur.NotSentError):
        client.dmp_retry(doc.id)
    ops = {r.operation for r in client.exchanges(channel="dmp", patient_local_id="IPP-TC")}
    assert ops == {"TD0.2"}, "no ITI-41 after the opposition"


def test_traits_mismatch_names_the_fields_only(client):
    # DMP/CONF.01: the DMP knows NESSI NATHALIE as RUTH; the field is shown, not the value.
    qualify(client, "IPP-NN", NESSI)
    st = client.dmp_status("IPP-NN")
    assert st.exists and st.traits_mismatch, st
    assert not any("RUTH" in f or "NATHALIE" in f for f in st.traits_mismatch)
    assert st.feed_blocked == "traits_mismatch" and not st.can_feed and not st.traits_confirmed
    # Feeding stops until the mismatch is confirmed (then the retry sends the kept document).
    doc = vsm(client, "IPP-NN")
    with pytest.raises(segur.NotSentError) as ei:
        client.dmp_send("IPP-NN", doc)
    assert ei.value.reason == segur.NotSentError.TRAITS_MISMATCH
    assert ei.value.fields == ("prenoms",)
    assert "RUTH" not in str(ei.value)
    row = client.dmp_dashboard(patient_local_id="IPP-NN")[0]
    assert (row.not_sent_reason, row.traits_mismatch) == ("traits_mismatch", ["prenoms"])
    assert client.dmp_confirm_traits("IPP-NN") == ["prenoms"]
    st = client.dmp_status("IPP-NN")
    assert st.can_feed and st.traits_confirmed
    sent = client.dmp_retry(doc.id)
    assert sent.status == segur.DmpDocumentStatus.ACCESSIBLE and not sent.already_registered


def test_confirm_traits_without_mismatch_is_refused(client):
    qualify(client, "IPP-AZ2", ADRUN)
    with pytest.raises(segur.InsError):
        client.dmp_confirm_traits("IPP-AZ2")


def test_transport_failure_keeps_the_document_and_a_retry_sends_it(client, sandbox):
    # Same journal as `client`, DMP on a closed port.
    down = segur.Client.open(variant(sandbox, "dmp-down", own_journal=False,
                                     dmp_endpoint="https://127.0.0.1:1/si-dmp-server/v2/services"))
    qualify(down, "IPP-DOWN", ADRUN)
    doc = vsm(down, "IPP-DOWN")
    with pytest.raises(segur.TransportError) as ei:
        down.dmp_send("IPP-DOWN", doc)
    assert ei.value.code == 300 and ei.value.retryable is True
    assert client.dmp_dashboard(patient_local_id="IPP-DOWN")[0].status == segur.DmpDocumentStatus.FAILED
    # The DMP is reachable again (the module's client): the stored document is sent.
    sent = client.dmp_retry(doc.id)
    assert sent.unique_id == doc.id and sent.status == segur.DmpDocumentStatus.ACCESSIBLE
    assert client.dmp_dashboard(patient_local_id="IPP-DOWN")[0].status_label == "Accessible dans le DMP"
    with pytest.raises(segur.InsError):
        client.dmp_retry(doc.id)  # only a failed or pending send is retried
    with pytest.raises(segur.NotFoundError):
        client.dmp_retry("1.2.3.4.5.404")


def test_too_large_is_refused_before_anything_is_sent(sandbox):
    small = segur.Client.open(variant(sandbox, "small", max_document_bytes=1000))
    qualify(small, "IPP-BIG", ADRUN)
    with pytest.raises(segur.TooLargeError) as ei:
        small.dmp_send("IPP-BIG", vsm(small, "IPP-BIG"))
    assert ei.value.code == 107 and isinstance(ei.value, ValueError)
    assert small.exchanges(channel="dmp") == []


def test_no_practitioner_configured(sandbox):
    bare = segur.Client.open(variant(sandbox, "bare", practitioner=False))
    assert bare.default_practitioner is None
    qualify(bare, "IPP-BARE", ADRUN)
    with pytest.raises(segur.ConfigError):
        bare.dmp_status("IPP-BARE")
    someone = segur.Practitioner(ME, "TEST", "Camille", "10", specialty="SM26")
    assert bare.dmp_status("IPP-BARE", practitioner=someone).exists is True
    with pytest.raises(segur.InsError):
        bare.dmp_status("IPP-BARE", practitioner=segur.Practitioner(ME, " ", "Camille", "10"))
    with pytest.raises(segur.InsError):
        bare.dmp_status("IPP-BARE", practitioner=someone.with_purpose("curiosite"))


def test_refusals_before_the_dmp(client):
    # RNIV rule 28: only a qualifiée identity reaches the DMP.
    client.identity_create("IPP-PROV", segur.IdentityInput("MARTIN", "PAUL", "1970-01-01", "M"))
    with pytest.raises(segur.RnivError) as ei:
        client.dmp_status("IPP-PROV")
    assert ei.value.code == 102
    with pytest.raises(segur.NotFoundError):
        client.dmp_status("IPP-NOBODY")
    with pytest.raises(segur.NotFoundError):
        client.identity_by_ins("181016322075140")  # ADRDEUX: no qualifiée record here
    with pytest.raises(segur.InsError):
        client.identity_by_ins("123")
    qualify(client, "IPP-PT2", PAT_TROIS)
    with pytest.raises(segur.InsError):
        client.identity_by_ins(PAT_TROIS_INS)  # IPP-PT and IPP-PT2: duplicates to merge
    with pytest.raises(segur.DocumentError):
        client.dmp_send("IPP-PT2", b"<note/>")
    with pytest.raises(TypeError):
        client.dmp_send("IPP-PT2", 42)
    with pytest.raises(TypeError):
        client.dmp_find("IPP-PT2", {"type_codes": ["SYNTH"]})
    with pytest.raises(segur.InsError):
        client.dmp_find("IPP-PT2", segur.DmpFindQuery(type_codes=["NOT-A-TYPE"]))
    with pytest.raises(segur.InsError):
        client.dmp_find("IPP-PT2", segur.DmpFindQuery(statuses=["lost"]))
    with pytest.raises(segur.InsError):
        client.dmp_update("IPP-PT2", "1.2.3", "shred")
    with pytest.raises(TypeError):
        client.dmp_update("IPP-PT2", "1.2.3", 3)
    with pytest.raises(segur.InsError):
        client.dmp_dashboard(status="lost")
    with pytest.raises(TypeError):
        segur.DmpFindQuery(type_codes="SYNTH")
    with pytest.raises(segur.InsError):
        segur.DmpFindQuery(since="yesterday")
    with pytest.raises(segur.InsError):
        segur.DmpConsent("oral", collected_at=datetime(2020, 1, 1))  # naive


def test_enums_and_the_exception_tree():
    assert segur.DmpDocumentStatus.ACCESSIBLE.code == "accessible"
    assert segur.DmpDocumentStatus.DELETED.label == "Supprimé dans le DMP"
    assert str(segur.DmpUpdate.HIDE_FROM_PATIENT) == "hide_from_patient"
    assert len({segur.DmpUpdate.MASK, segur.DmpUpdate.MASK, segur.DmpUpdate.DELETE}) == 2
    assert issubclass(segur.InsiError, segur.ServiceError)
    assert issubclass(segur.DmpError, segur.ServiceError)
    assert issubclass(segur.ServiceRefusedError, segur.ServiceError)
    assert issubclass(segur.TooLargeError, ValueError)
    assert (segur.NotSentError.code, segur.TooLargeError.code, segur.ServiceRefusedError.code) == (106, 107, 202)
    assert segur.ServiceError.subcode is None and segur.ServiceError.service_code is None
    opts = segur.DmpSendOptions(mask_ps=True, replaces="1.2.3")
    assert (opts.mask_ps, opts.invisible_patient, opts.replaces) == (True, False, "1.2.3")
