#!/usr/bin/env python3
"""Regenerates cda/src/codes/jdv_j07.rs from the SVS value set JDV_J07 (standard library only).

Usage (from the repository root): python3 cda/gen_jdv_j07.py [path/to/JDV_J07_XdsTypeCode_CISIS.xml]
"""
import sys
import xml.etree.ElementTree as ET

SRC = sys.argv[1] if len(sys.argv) > 1 else "../shared/reference/cda/jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml"
NS = "{urn:ihe:iti:svs:2008}"
vs = ET.parse(SRC).getroot().find(NS + "ValueSet")
rows = [(c.get("code"), c.get("codeSystem"), c.get("displayName")) for c in vs.iter(NS + "Concept")]


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


out = [
    "//! JDV_J07-XdsTypeCode-CISIS (`1.2.250.1.213.1.1.5.471`), dateMaj %s: generated from" % vs.get("dateMaj"),
    "//! `../shared/reference/cda/jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml` (SVS) by",
    "//! `cda/gen_jdv_j07.py`; the test `codes::tests::jdv_j07_matches_reference` compares it with the",
    "//! reference file. Do not edit by hand.",
    "",
    "/// `(code, codeSystem, displayName)` of every concept, in the order of the value set.",
    "pub(crate) const JDV_J07: &[(&str, &str, &str)] = &[",
]
out += ["    (%s, %s, %s)," % tuple(q(x) for x in r) for r in rows]
out.append("];")
open("cda/src/codes/jdv_j07.rs", "w").write("\n".join(out) + "\n")
print(len(rows), "concepts")
