#!/usr/bin/env python3
"""Issue #4 point 10: Python lxml + XPath extracting the same fields as segur_cda::parse from the
ANS VSM example, timed in the same run as the Rust figures (criterion, `cargo bench -p segur-cda
--bench cda`, whose medians are read from $CARGO_TARGET_DIR/criterion when present).

Usage: bench/cda/compare.sh (runs the criterion bench, then this script), or
       $SEGUR_VENV/bin/python bench/cda/lxml_compare.py [path/to/VSM_1.4_2022.01.xml]
"""
import json
import os
import sys
import time

from lxml import etree

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "../../../shared/reference/cda/ExemplesCDA/VSM_1.4_2022.01.xml")
NS = {"h": "urn:hl7-org:v3"}
DATA = open(SRC, "rb").read()
PARSER = etree.XMLParser(resolve_entities=False, no_network=True)

X = {k: etree.XPath(v, namespaces=NS) for k, v in {
    "id": "/h:ClinicalDocument/h:id/@root",
    "setid": "/h:ClinicalDocument/h:setId/@root",
    "version": "/h:ClinicalDocument/h:versionNumber/@value",
    "code": "/h:ClinicalDocument/h:code/@code",
    "title": "string(/h:ClinicalDocument/h:title)",
    "ids": "/h:ClinicalDocument/h:recordTarget/h:patientRole/h:id",
    "family": "string(//h:patient/h:name/h:family[@qualifier='BR'])",
    "given": "string(//h:patient/h:name/h:given[@qualifier='BR'])",
    "birth": "string(//h:patient/h:birthTime/@value)",
    "authors": "/h:ClinicalDocument/h:author/h:assignedAuthor/h:id/@extension",
    "narrative": "//*[@ID]",
    "problems": "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.132' or h:templateId/@root='1.2.250.1.213.1.1.2.134']/h:entry/h:act",
    "procedures": "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.136']/h:entry/h:procedure",
    "allergies": "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.137']/h:entry/h:act/h:entryRelationship/h:observation",
    "habitus": "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.141']/h:entry/h:observation",
    "family_hist": "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.139']/h:entry/h:organizer",
    "treatments": "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.143']/h:entry/h:substanceAdministration",
    "rows": "//h:section[h:templateId/@root='1.2.250.1.213.1.1.2.150' or h:templateId/@root='1.2.250.1.213.1.1.2.74']/h:text//h:tr",
}.items()}
VAL = etree.XPath("h:entryRelationship/h:observation/h:value", namespaces=NS)
CODE = etree.XPath("h:code", namespaces=NS)
CIS = etree.XPath("h:consumable/h:manufacturedProduct/h:manufacturedMaterial/h:code", namespaces=NS)
REF = etree.XPath("string(h:text/h:reference/@value)", namespaces=NS)


def extract():
    root = etree.fromstring(DATA, PARSER)
    narr = {e.get("ID"): " ".join("".join(e.itertext()).split()) for e in X["narrative"](root)}
    out = {k: X[k](root) for k in ("id", "setid", "version", "code", "title", "family", "given",
                                     "birth", "authors")}
    out["ids"] = [(i.get("root"), i.get("extension")) for i in X["ids"](root)]
    items = []
    for a in X["problems"](root):
        for v in VAL(a):
            items.append((v.get("code"), v.get("codeSystem"), narr.get(REF(v.getparent())[1:])))
    for p in X["procedures"](root) + X["habitus"](root):
        c = CODE(p)[0]
        items.append((c.get("code"), c.get("codeSystem"), narr.get(REF(p)[1:])))
    for o in X["allergies"](root):
        c = CODE(o)[0]
        items.append((c.get("code"), c.get("codeSystem"), narr.get(REF(o)[1:])))
    for o in X["family_hist"](root):
        items.append(len(o))
    for s in X["treatments"](root):
        c = CIS(s)[0]
        items.append((c.get("code"), c.get("codeSystem"), narr.get(REF(s)[1:])))
    items += [" ".join("".join(r.itertext()).split()) for r in X["rows"](root)]
    out["items"] = items
    return out


def bench(fn, seconds=2.0):
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        n += 1
    return (time.perf_counter() - t0) / n * 1e6


def best_of(fn, batches=100, size=5):
    """Best batch mean, as the Rust side's SEGUR_BENCH_MIN mode."""
    best = float("inf")
    for _ in range(batches):
        t0 = time.perf_counter()
        for _ in range(size):
            fn()
        best = min(best, (time.perf_counter() - t0) / size * 1e6)
    return best


def best_of_rust():
    base = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "../../target"))
    out = {}
    try:
        for line in open(os.path.join(base, "criterion", "segur_best_of.txt")):
            f = line.split()
            out[f[0]] = float(f[1])
    except OSError:
        pass
    return out


def criterion(name):
    base = os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "../../target"))
    p = os.path.join(base, "criterion", name, "new", "estimates.json")
    try:
        return json.load(open(p))["median"]["point_estimate"] / 1000.0
    except OSError:
        return None


if __name__ == "__main__":
    r = extract()
    print(f"lxml+XPath: {len(r['items'])} items extracted from {len(DATA)} bytes")
    lx = bench(extract)
    print(f"{'lxml_xpath_extract':32s} {lx:9.1f} µs")
    names = ("cda_parse_ans_vsm_typed_model", "segur_net_xml_reader_events",
             "segur_net_xml_document_only", "segur_net_xml_tree_only",
             "quick_xml_bare_scan_ans_vsm", "vsm_build_serialise_200_entries")
    t = {n: criterion(n) for n in names}
    for n in names:
        if t[n] is not None:
            print(f"{n:32s} {t[n]:9.1f} µs  (lxml / this = {lx / t[n]:5.1f}x)")
    parse, scan = t["cda_parse_ans_vsm_typed_model"], t["quick_xml_bare_scan_ans_vsm"]
    if parse and scan:
        ok10, ok2 = lx / parse >= 10, parse / scan <= 2
        print(f"target: typed parse ≥ 10x faster than lxml: {lx / parse:.1f}x "
              f"[{'ok' if ok10 else 'MISSED'}]; within 2x of the quick-xml scan: "
              f"{parse / scan:.2f}x [{'ok' if ok2 else 'MISSED'}]")
    best = best_of_rust()
    if best.get("cda_parse_ans_vsm_typed_model") and best.get("quick_xml_bare_scan_ans_vsm"):
        lb = best_of(extract)
        p, q = best["cda_parse_ans_vsm_typed_model"], best["quick_xml_bare_scan_ans_vsm"]
        print(f"best-of batches: lxml {lb:.1f} µs, typed parse {p:.1f} µs, quick-xml scan "
              f"{q:.1f} µs: lxml / parse = {lb / p:.1f}x, parse / scan = {p / q:.2f}x")
    if not (parse and scan):
        print("no criterion figures: run bench/cda/compare.sh (or cargo bench -p segur-cda "
              "--bench cda) first")
