"""Micro-benchmark: the CDA functions on the ANS VSM example, per call (wall time, GIL released
inside), and what the Python side adds (conversion of the model to dicts).

    python bench/python/bench_cda.py [file.xml]     # with the segur wheel installed
Default file: $SEGUR_REFERENCE/cda/ExemplesCDA/VSM_1.4_2022.01.xml (SEGUR_REFERENCE defaults to
../shared/reference relative to the repository root). Prints the best of 5 repeats, in µs.
"""

import os
import sys
import timeit

import segur

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
REFERENCE = os.environ.get("SEGUR_REFERENCE") or os.path.join(ROOT, "..", "shared", "reference")
DEFAULT = os.path.join(REFERENCE, "cda", "ExemplesCDA", "VSM_1.4_2022.01.xml")

if __name__ == "__main__":
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT
    with open(path, "rb") as f:
        xml = f.read()
    first = [i["id"] for i in segur.cda_parse(xml)["items"]][:2]
    cases = {
        "cda_parse(bytes)": (lambda: segur.cda_parse(xml), 200),
        "cda_integrate(bytes, 2 ids)": (lambda: segur.cda_integrate(xml, first), 200),
        "cda_metadata(bytes)": (lambda: segur.cda_metadata(xml), 200),
        "cda_pdf(bytes)": (lambda: segur.cda_pdf(xml), 20),
    }
    print(f"{os.path.basename(path)}: {len(xml)} bytes")
    for name, (fn, n) in cases.items():
        best = min(timeit.repeat(fn, number=n, repeat=5)) / n * 1e6
        print(f"{name:32s} {best:10.1f} µs/call")
