"""os.fork(): the child gets a working runtime of its own (sync and asyncio calls work there); a
client the parent opened is refused in the child with a clear ConfigError, never a hang."""

import asyncio
import json
import os
import select
import time

import pytest

import segur
from conftest import ADRDEUX, ADRDEUX_INS

# Python >= 3.12 warns when a multi-threaded process forks (the library's runtime has threads):
# that is exactly the situation under test.
pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")

CHILD_TIMEOUT = 60.0


def in_child(fn):
    """Runs `fn` in a forked child; returns what it returned, or the exception it raised, as a
    dict. A child that does not answer within CHILD_TIMEOUT is killed and the test fails."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running the parent's atexit/pytest code
        code = 0
        try:
            os.close(r)
            try:
                msg = {"ok": fn()}
            except BaseException as e:  # noqa: BLE001 - everything goes back to the parent
                msg = {"error": type(e).__name__, "message": str(e),
                       "code": getattr(e, "code", None)}
            os.write(w, json.dumps(msg).encode())
            os.close(w)
        except BaseException:  # noqa: BLE001
            code = 1
        os._exit(code)
    os.close(w)
    data = b""
    deadline = time.monotonic() + CHILD_TIMEOUT
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, 9)
                pytest.fail("the forked child hung")
            ready, _, _ = select.select([r], [], [], remaining)
            if ready:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                data += chunk
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    assert data, "the child died without an answer"
    return json.loads(data)


async def search_async(c):
    # The awaitable must be made inside the running loop.
    return await c.insi_search_async(segur.IdentityInput(**ADRDEUX))


def test_child_gets_a_working_runtime(sandbox, client):
    # The parent's runtime is running (a search made its threads) before the fork.
    assert client.insi_search(segur.IdentityInput(**ADRDEUX)).code == "00"
    config = sandbox.variant("fork-child")

    def child():
        c = segur.Client.open(config, actor=segur.Actor("child"))
        sync = c.insi_search(segur.IdentityInput(**ADRDEUX))
        async_ = asyncio.run(search_async(c))
        return [sync.identity.ins.matricule, async_.code, segur.cda_parse is not None]

    assert in_child(child) == {"ok": [ADRDEUX_INS, "00", True]}
    # And the parent still works after its child used the library.
    assert client.insi_search(segur.IdentityInput(**ADRDEUX)).code == "00"


def test_parent_client_is_refused_in_child(client):
    client.insi_search(segur.IdentityInput(**ADRDEUX))

    def child():
        out = []
        for call in (
            lambda: client.insi_search(segur.IdentityInput(**ADRDEUX)),
            lambda: client.identity_get("IPP-ANY"),
            lambda: asyncio.run(search_async(client)),
        ):
            try:
                call()
                out.append("no error")
            except segur.ConfigError as e:
                out.append(("fork()" in str(e), e.code))
        return out

    assert in_child(child) == {"ok": [[True, 400]] * 3}
