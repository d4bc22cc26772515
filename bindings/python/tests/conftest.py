"""Fixtures: the `segur sandbox` process (one per test module) and a client on it.

The tests import the INSTALLED wheel (scripts/checks/30-python.sh installs it into a fresh venv);
`test_installed_wheel` checks that `segur` does not come from the source tree.
"""

import os
import queue
import re
import shutil
import subprocess
import threading
import time

import pytest

import segur

READY_TIMEOUT = 60.0
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def find_segur_bin():
    explicit = os.environ.get("SEGUR_BIN")
    if explicit:
        return explicit
    for target in (
        os.environ.get("CARGO_TARGET_DIR"),
        os.path.join(os.path.expanduser("~"), ".cache", "segur", "target"),
        os.path.join(REPO, "target"),
    ):
        if not target:
            continue
        for profile in ("release", "debug"):
            c = os.path.join(target, profile, "segur")
            if os.path.isfile(c) and os.access(c, os.X_OK):
                return c
    return shutil.which("segur")


class Sandbox:
    def __init__(self, directory, insi_url, proc):
        self.dir = directory
        self.insi_url = insi_url
        self.proc = proc
        self.config = os.path.join(directory, "segur.toml")

    def variant(self, name, **replace):
        """A copy of segur.toml (own journal) with some `key = "value"` lines replaced."""
        with open(self.config, encoding="utf-8") as f:
            text = f.read()
        for key, value in replace.items():
            text, n = re.subn(r'(?m)^%s = ".*"$' % re.escape(key), '%s = "%s"' % (key, value), text, count=1)  # the first: [insi] precedes [dmp]
            assert n == 1, key
        text += '\n[journal]\npath = "%s.sqlite"\n' % name
        path = os.path.join(self.dir, name + ".toml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    binary = find_segur_bin()
    if not binary:
        pytest.fail("segur binary not found: set SEGUR_BIN or build `cargo build -p segur-cli`")
    directory = str(tmp_path_factory.mktemp("sandbox"))
    proc = subprocess.Popen(
        [binary, "sandbox", "--dir", directory, "--port-base", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines = []
    q = queue.Queue()

    def pump():
        # Drain the pipe for the whole life of the process (a full pipe would block it).
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            q.put(line)
        q.put(None)

    pumper = threading.Thread(target=pump, daemon=True)
    pumper.start()
    insi_url = None
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            line = q.get(timeout=max(remaining, 0.01)) if remaining > 0 else None
            if line is None:
                raise AssertionError("sandbox not ready (exit %s):\n%s" % (proc.poll(), "\n".join(lines)))
            m = re.search(r"INSi:\s*(https://127\.0\.0\.1:\d+/\S*)", line)
            if m:
                insi_url = m.group(1)
            if line.strip() == "ready":
                break
        assert insi_url, "\n".join(lines)
        yield Sandbox(directory, insi_url, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        pumper.join(timeout=10)
        proc.stdout.close()


@pytest.fixture(scope="module")
def client(sandbox):
    return segur.Client.open(sandbox.config, actor=segur.Actor("pytest", rpps="10000000001"))


ADRDEUX = dict(nom_naissance="ADRDEUX", prenoms="LAURENT", sexe="M", date_naissance="1981-01-01")
ADRDEUX_INS = "181016322075140"
HOUILLES = dict(nom_naissance="HOUILLES", prenoms="PIERRE PAUL JACQUES", sexe="M",
                date_naissance="1993-01-27")
