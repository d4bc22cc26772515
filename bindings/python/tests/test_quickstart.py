"""The README example (examples/quickstart.py) runs against the sandbox and type-checks."""

import os
import subprocess
import sys

import pytest

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "quickstart.py")


def test_quickstart_runs(sandbox):
    out = subprocess.run([sys.executable, EXAMPLE, sandbox.config], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert out.splitlines() == [
        "matricule: 181016322075140 computed",
        "INSi CR 00 181016322075140",
        "to confirm: D'AEION - error code 101",
    ]


def test_quickstart_type_checks_with_the_stubs():
    pytest.importorskip("mypy")
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", EXAMPLE],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
