"""An independent INSi client (Python zeep + the official WSDL) against `segur sandbox`.

DESIGN.md §3 "Sandbox": faithful to the specs, not to our client — a third-party SOAP stack
driven only by the official WSDL (`DESIR_ICIR_EXP_1.5.0.wsdl`) must be able to use it, over
mutual TLS with the sandbox's generated PKI.

Environment: SEGUR_BIN (the `segur` binary; scripts/test sets it), SEGUR_REFERENCE (the shared
reference folder; default <repo>/../shared/reference). Nothing here touches the network beyond
127.0.0.1: the WSDL is loaded offline (its one remote import, the W3C WS-Addressing schema, is
mapped to a local stand-in; any other remote URL is refused).
"""

import datetime
import os
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
import uuid

import pytest

zeep = pytest.importorskip("zeep")
requests = pytest.importorskip("requests")
from lxml import etree  # noqa: E402
from zeep.exceptions import Fault  # noqa: E402
from zeep.transports import Transport  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
REFERENCE = os.environ.get("SEGUR_REFERENCE") or os.path.join(REPO, "..", "shared", "reference")
WSDL = os.path.join(REFERENCE, "insi", "wsdl", "DESIR_ICIR_EXP_1.5.0.wsdl")
WSA_XSD_URL = "http://www.w3.org/2006/03/addressing/ws-addr.xsd"
WSA_STAND_IN = os.path.join(REFERENCE, "insi", "wsdl", "xsd", "ws-addr-min.xsd")
BINDING = "{http://www.cnamts.fr/webservice}ICIRServiceBinding"
OID_NIR = "1.2.250.1.213.1.4.8"
READY_TIMEOUT = 30.0


# ---------------------------------------------------------------- offline zeep transport


class OfflineTransport(Transport):
    """zeep transport: local files only while loading the WSDL; SOAP calls use `session`."""

    def load(self, url):
        if url == WSA_XSD_URL:
            with open(WSA_STAND_IN, "rb") as f:
                return f.read()
        if "://" in url and not url.startswith("file://"):
            raise IOError("offline transport: refusing to fetch %s" % url)
        return super().load(url)


# ---------------------------------------------------------------- the sandbox process


def find_segur_bin():
    """(path or None, explicitly configured?)"""
    explicit = os.environ.get("SEGUR_BIN")
    if explicit:
        return explicit, True
    candidates = []
    for target in (
        os.environ.get("CARGO_TARGET_DIR"),
        os.path.join(os.path.expanduser("~"), ".cache", "segur", "target"),
        os.path.join(REPO, "target"),
    ):
        if target:
            candidates.append(os.path.join(target, "release", "segur"))
            candidates.append(os.path.join(target, "debug", "segur"))
    for c in candidates:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c, False
    return shutil.which("segur"), False


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sandbox:
    def __init__(self, directory, insi_url, proc, lines):
        self.dir = directory
        self.insi_url = insi_url
        self.proc = proc
        self.lines = lines
        self.trust_anchors = os.path.join(directory, "ca", "trust-anchors.pem")
        self.client_cert = os.path.join(directory, "client", "insi-auto.pem")
        self.client_key = os.path.join(directory, "client", "insi-auto.key.pem")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    binary, explicit = find_segur_bin()
    if not binary:
        pytest.fail("segur binary not found: SEGUR_BIN is unset and no target/release/segur was built "
                    "(scripts/test builds it and sets SEGUR_BIN)")
    assert os.path.isfile(binary) and os.access(binary, os.X_OK), (
        "SEGUR_BIN=%s is not an executable file" % binary if explicit else binary)

    directory = str(tmp_path_factory.mktemp("sandbox"))
    port = free_port()
    proc = subprocess.Popen(
        [binary, "sandbox", "--dir", directory, "--port-base", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines = []
    q = queue.Queue()

    def pump():
        # Keep draining the pipe for the whole life of the process (a full pipe would block it).
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            q.put(line)
        q.put(None)

    threading.Thread(target=pump, daemon=True).start()

    insi_url = None
    ready = False
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while not ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = q.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                break
            m = re.search(r"INSi:\s*(https://127\.0\.0\.1:\d+/\S*)", line)
            if m:
                insi_url = m.group(1).rstrip(".,;")
            if line.strip() == "ready":
                ready = True
        if not ready:
            raise AssertionError(
                "`segur sandbox` did not print `ready` within %.0fs (exit status %s); output:\n%s"
                % (READY_TIMEOUT, proc.poll(), "\n".join(lines)))
        assert insi_url, "no `INSi: https://127.0.0.1:PORT/lps` line before `ready`:\n" + "\n".join(lines)
        yield Sandbox(directory, insi_url, proc, lines)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# ---------------------------------------------------------------- the zeep client


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class InsiZeepClient:
    def __init__(self, sb, idam="SEGURSANDBOX", cert=True):
        session = requests.Session()
        # Ignore REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE / *_proxy from the environment: with
        # trust_env, requests lets REQUESTS_CA_BUNDLE override session.verify (requests#3829).
        session.trust_env = False
        session.verify = sb.trust_anchors
        if cert:
            session.cert = (sb.client_cert, sb.client_key)
        self.client = zeep.Client(WSDL, transport=OfflineTransport(session=session, timeout=10,
                                                                   operation_timeout=10))
        self.service = self.client.create_service(BINDING, sb.insi_url)
        self.idam = idam
        self.instance = str(uuid.uuid4())
        get = self.client.get_element
        self._bam = get("{urn:siram:bam:ctxbam}ContexteBAM")
        self._lps = get("{urn:siram:lps:ctxlps}ContexteLPS")
        self._message_id = get("{http://www.w3.org/2005/08/addressing}MessageID")

    def headers(self):
        t = now()
        return [
            self._bam(Version="01_02", Id=str(uuid.uuid4()), Temps=t, COUVERTURE={}),
            self._lps(
                Nature="CTXLPS",
                Version="01_00",
                Id=str(uuid.uuid4()),
                Temps=t,
                LPS={
                    "IDAM": {"_value_1": self.idam, "R": "4"},
                    "Version": "0.1.0",
                    "Instance": self.instance,
                    "Nom": "urn:lps:segur:0.1",
                },
            ),
            self._message_id("uuid:" + str(uuid.uuid4())),
        ]

    def rechercher(self, nom, prenom, sexe, date, lieu=None):
        kwargs = dict(NomNaissance=nom, Prenom=[prenom], Sexe=sexe, DateNaissance=date)
        if lieu is not None:
            kwargs["LieuNaissance"] = lieu
        return self.service.rechercherInsAvecTraitsIdentite(_soapheaders=self.headers(), **kwargs)


def fault_text(fault):
    parts = [str(fault.message), str(fault.code)]
    parts += [str(s) for s in (fault.subcodes or [])]
    if fault.detail is not None:
        parts.append(etree.tostring(fault.detail, encoding="unicode")
                     if isinstance(fault.detail, etree._Element) else str(fault.detail))
    return " ".join(parts)


@pytest.fixture(scope="module")
def insi(sandbox):
    return InsiZeepClient(sandbox)


# ---------------------------------------------------------------- tests


def test_sandbox_wrote_its_pki(sandbox):
    for f in (sandbox.trust_anchors, sandbox.client_cert, sandbox.client_key,
              os.path.join(sandbox.dir, "client", "insi-auto.p12"),
              os.path.join(sandbox.dir, "segur.toml")):
        assert os.path.isfile(f), f


def test_cr00_adrdeux(insi):
    r = insi.rechercher("ADRDEUX", "LAURENT", "M", "1981-01-01")
    assert r.CR.CodeCR == "00"
    ins = r.INDIVIDU.INSACTIF
    assert ins.IdIndividu.NumIdentifiant == "1810163220751"
    assert ins.IdIndividu.Cle == "40"
    assert ins.OID == OID_NIR
    assert r.INDIVIDU.TIQ.NomNaissance == "ADRDEUX"


def test_cr00_with_history_ecetinsi(insi):
    r = insi.rechercher("ECETINSI", "PIERRE-ALAIN", "M", "2009-07-14")
    assert r.CR.CodeCR == "00"
    assert r.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant
    assert len(r.INDIVIDU.INSHISTO) == 2


def test_cr01_no_identity_houilles(insi):
    r = insi.rechercher("HOUILLES", "PIERRE PAUL JACQUES", "M", "1993-01-27")
    assert r.CR.CodeCR == "01"
    assert r.INDIVIDU is None


def test_cr02_then_birthplace_disambiguates_de_vinci(insi):
    r = insi.rechercher("DE VINCI", "LEONARDO", "M", "2014-02-01")
    assert r.CR.CodeCR == "02"
    assert r.INDIVIDU is None
    r = insi.rechercher("DE VINCI", "LEONARDO", "M", "2014-02-01", lieu="63220")
    assert r.CR.CodeCR == "00"
    assert r.INDIVIDU.INSACTIF.IdIndividu.NumIdentifiant


def test_unknown_idam_is_a_soap_fault(sandbox):
    client = InsiZeepClient(sandbox, idam="UNKNOWNIDAM0")
    with pytest.raises(Fault) as exc:
        client.rechercher("ADRDEUX", "LAURENT", "M", "1981-01-01")
    text = fault_text(exc.value)
    # Generic SOAP subcode siram_100, the specific reason in Detail/siram:Erreur/@code.
    assert "desir_550" in text, text
    assert exc.value.subcodes, text


def test_empty_sexe_is_a_soap_fault(insi):
    with pytest.raises(Fault) as exc:
        insi.rechercher("ADRDEUX", "LAURENT", "", "1981-01-01")
    text = fault_text(exc.value)
    assert "insi_24" in text, text


def test_no_client_certificate_cannot_connect(sandbox):
    client = InsiZeepClient(sandbox, cert=False)
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        client.rechercher("ADRDEUX", "LAURENT", "M", "1981-01-01")
