#!/usr/bin/env python3
"""Peer benchmark: CPU per INSi call with Python zeep and the official WSDL.

What one iteration does (the same work as the Rust INSi benchmark in tests/benches):
  1. build the SOAP 1.2 request of `rechercherInsAvecTraitsIdentite` (headers ContexteBAM,
     ContexteLPS, wsa:Action, wsa:MessageID; body RECSANSVITALE) with `client.create_message`
     and serialise it with `lxml.etree.tostring`;
  2. parse a canned CNDA reply (insi/examples/sapa-connecteur-java/TEST_2.04_cas2.xml) through
     zeep's own reply path (`binding.process_reply`, i.e. XML parse + fault check + typed
     deserialisation of the RESULTAT element), then read CodeCR, the INSACTIF NumIdentifiant
     and ListePrenom.
No network: the WSDL is loaded offline; its only remote import (the W3C WS-Addressing schema)
is mapped to the local stand-in `insi/wsdl/xsd/ws-addr-min.xsd` and any other remote URL is
refused.

How to run (from the repository root, with the test venv that scripts/test creates, or any
venv with bench/requirements.txt installed):

    VENV=${SEGUR_VENV:-$HOME/.cache/segur/venv}
    $VENV/bin/python bench/insi_zeep.py --reference ../shared/reference [--iterations 2000]

Prints one JSON line: {"tool": "zeep", "zeep_version": ..., "us_per_call": ..., "iterations": ...}
"""

import argparse
import datetime
import json
import os
import sys
import time
import uuid

import lxml
from lxml import etree
import zeep
from zeep.transports import Transport

WSA_XSD_URL = "http://www.w3.org/2006/03/addressing/ws-addr.xsd"
WSDL = "insi/wsdl/DESIR_ICIR_EXP_1.5.0.wsdl"
WSA_STAND_IN = "insi/wsdl/xsd/ws-addr-min.xsd"
REPLY = "insi/examples/sapa-connecteur-java/TEST_2.04_cas2.xml"
OPERATION = "rechercherInsAvecTraitsIdentite"
ACTION = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
BINDING = "{http://www.cnamts.fr/webservice}ICIRServiceBinding"


class OfflineTransport(Transport):
    """zeep transport that never touches the network while loading the WSDL and schemas."""

    def __init__(self, reference, **kwargs):
        super().__init__(**kwargs)
        self._local = {WSA_XSD_URL: os.path.join(reference, WSA_STAND_IN)}

    def load(self, url):
        if url in self._local:
            with open(self._local[url], "rb") as f:
                return f.read()
        if "://" in url and not url.startswith("file://"):
            raise IOError("offline transport: refusing to fetch %s" % url)
        return super().load(url)


class CannedResponse:
    """The part of requests.Response that zeep's reply path reads."""

    status_code = 200
    encoding = "utf-8"

    def __init__(self, content):
        self.content = content
        self.headers = {"Content-Type": 'application/soap+xml; charset=utf-8; action="%s"' % ACTION}


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class InsiZeep:
    def __init__(self, reference):
        self.client = zeep.Client(os.path.join(reference, WSDL), transport=OfflineTransport(reference))
        self.service = self.client.create_service(BINDING, "https://127.0.0.1:1/lps")
        self.binding = self.service._binding
        self.operation = self.binding.get(OPERATION)
        get = self.client.get_element
        self.ContexteBAM = get("{urn:siram:bam:ctxbam}ContexteBAM")
        self.ContexteLPS = get("{urn:siram:lps:ctxlps}ContexteLPS")
        self.MessageID = get("{http://www.w3.org/2005/08/addressing}MessageID")
        self.Action = get("{http://www.w3.org/2005/08/addressing}Action")
        self.instance = str(uuid.uuid4())

    def headers(self):
        t = now()
        return [
            self.ContexteBAM(Version="01_02", Id=str(uuid.uuid4()), Temps=t, COUVERTURE={}),
            self.ContexteLPS(
                Nature="CTXLPS",
                Version="01_00",
                Id=str(uuid.uuid4()),
                Temps=t,
                LPS={
                    "IDAM": {"_value_1": "SEGURSANDBOX", "R": "4"},
                    "Version": "0.1.0",
                    "Instance": self.instance,
                    "Nom": "urn:lps:segur:0.1",
                },
            ),
            self.Action(ACTION),
            self.MessageID("uuid:" + str(uuid.uuid4())),
        ]

    def request(self, nom, prenoms, sexe, date, lieu=None):
        kwargs = dict(NomNaissance=nom, Prenom=list(prenoms), Sexe=sexe, DateNaissance=date)
        if lieu is not None:
            kwargs["LieuNaissance"] = lieu
        envelope = self.client.create_message(self.service, OPERATION, _soapheaders=self.headers(), **kwargs)
        return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")

    def reply(self, content):
        result = self.binding.process_reply(self.client, self.operation, CannedResponse(content))
        individu = result.INDIVIDU
        return (
            result.CR.CodeCR,
            individu.INSACTIF.IdIndividu.NumIdentifiant if individu is not None else None,
            individu.TIQ.ListePrenom if individu is not None else None,
        )


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    default_ref = os.environ.get("SEGUR_REFERENCE", os.path.join(here, "..", "..", "shared", "reference"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reference", default=default_ref, help="path to shared/reference (default: %(default)s)")
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--dump", action="store_true", help="print one request and the parsed reply, then exit")
    args = p.parse_args(argv)

    bench = InsiZeep(args.reference)
    with open(os.path.join(args.reference, REPLY), "rb") as f:
        reply = f.read()

    def one():
        req = bench.request("ECETINSI", ["PIERRE-ALAIN"], "M", "2009-07-14")
        out = bench.reply(reply)
        return req, out

    if args.dump:
        req, out = one()
        sys.stdout.write(req.decode("utf-8") + "\n")
        print(out)
        return 0

    req, out = one()
    assert out == ("00", "1090763220834", "PIERRE-ALAIN MURIEL FLORIANT"), out
    assert b"RECSANSVITALE" in req and b"ContexteLPS" in req
    for _ in range(args.warmup):
        one()
    start = time.perf_counter()
    for _ in range(args.iterations):
        one()
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "tool": "zeep",
                "zeep_version": zeep.__version__,
                "lxml_version": lxml.__version__,
                "python": sys.version.split()[0],
                "us_per_call": round(elapsed / args.iterations * 1e6, 1),
                "iterations": args.iterations,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
