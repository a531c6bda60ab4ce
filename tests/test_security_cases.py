"""The thirty adversarial cases (/work/shared/SECURITY_CASES.md, issue 16 item 6), as a table.

``CASES`` says, for each case, whether the project holds it (``held``), holds it another way
than the case words it (``held differently``: the reason says how), or does not hold it here
(``not held``: the reason says why, and how production holds it). The tests that prove a
case carry ``@pytest.mark.security_case(n)`` where they live (the suite is not copied
here); the checks below fail when a held case has no such test, a marker names a case that
does not exist, or docs/security.md does not show this table as it is.

Below the checks: the tests of cases that had none elsewhere, by case number.

``python -m tests.test_security_cases`` rewrites the table in docs/security.md.
"""

from __future__ import annotations

import ast
import asyncio
import json
import logging
import os
import sys
import time
from pathlib import Path

import docker
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

import jupyter_container_manager
from jupyter_container_manager.models import LABEL_OWNER
from tests.conftest import RUN_ID, RUN_LABEL, TEST_IMAGE
from tests.helpers import Response, assert_error
from tests.webcontainer_support import boot

HELD, DIFFERENTLY, NOT_HELD = "held", "held differently", "not held"

CASES: dict[int, tuple[str, str, str]] = {
    # number: (case, status, reason: how it is held where that differs, or why not)
    # --- Auth / CSRF / origin
    1: ("Every route, the WebSocket and the proxy without credentials: 403 JSON", HELD, ""),
    2: ("Cookie POST/PUT/DELETE without or with a wrong _xsrf: 403; with a token: allowed",
        HELD, ""),
    3: ("WebSocket and proxy-WebSocket handshake from another origin: 403; same origin: 101",
        HELD, "Refused when it rides on the login cookie; a handshake that brings a token "
              "is accepted from any origin, as Jupyter accepts token requests."),
    4: ("Another owner's id on any route, WS event or the proxy: 404, no state change",
        HELD, "WebSocket events answer an error event (ENOCONTAINER, ENOTERMINAL, ESRCH) "
              "rather than an HTTP status."),
    5: ("A Docker id, forged labels, another server identity: 404 and not listed", HELD, ""),
    6: ("Preview HTML cannot fetch /api/contents or read the Jupyter cookie", HELD,
        "Both ways: previews on an origin of their own (the default), and the CSP sandbox "
        "of the path proxy."),
    7: ("A preview never sees Authorization, the Jupyter cookies or ?token=", HELD, ""),
    8: ("Proxy ports 0, 70000, 8080@169.254.169.254, %2e%2e: 400/404, nothing outside",
        HELD, ""),
    9: ("Error bodies and logs carry no token, traceback or host path", HELD, ""),
    # --- Path / tar / shell injection
    10: ("../, a sibling prefix, %2e%2e, NUL, a path over 4096: EACCES/EINVAL", HELD, ""),
    11: ("ln -s / esc, then read, write, rm -r through it: EACCES; rm removes the link",
         HELD, ""),
    12: ("A mount tree with a symlink node, names with .., / or empty: 400", HELD,
         "A tree has no symlink node: any entry that is not a file or directory is "
         "refused with 400, as are such names."),
    13: ("$(touch /tmp/p), ;id, `id`, -rf, newline: taken literally", HELD, ""),
    14: ("spawn cwd /proc/self/fd/7 or /proc/1/root, env LD_PRELOAD, NUL, non-strings",
         DIFFERENTLY,
         "cwd is resolved inside the workdir (EACCES when it leads out, ENOENT when it is "
         "not there); NUL and non-string values are 400. LD_PRELOAD is passed on: the "
         "process runs as the container's user in the user's own container, without "
         "capabilities and with no-new-privileges, so a preload gains nothing the user "
         "could not run directly."),
    15: ("Export of symlinks to /etc/shadow, 10^5 files, 2 GB: links not followed, 413",
         DIFFERENTLY,
         "Links are left out of both exports (never followed); the JSON export is capped "
         "at max_json_body with 413; the zip export is streamed, not capped, and "
         "nothing is extracted on the host."),
    16: ("image off the allowlist, privileged/binds/cap_add keys: refused; inspect shows "
         "the baseline", DIFFERENTLY,
         "An image off allowed_images is 403 EIMAGE_NOT_ALLOWED (not 400); host-config "
         "keys in the body are ignored, not refused (201), and inspect shows they changed "
         "nothing: CapDrop ALL, no-new-privileges, no binds."),
    # --- Resource exhaustion
    17: ("Fork bomb: stopped at pids_limit; the API answers in < 1 s; DELETE works", HELD,
         ""),
    18: ("Allocating 2 GB: OOM-killed, exit 137; the rest unaffected", HELD, ""),
    19: ("fallocate or yes > f into the workdir, /tmp, /dev/shm: ENOSPC at the quota",
         NOT_HELD,
         "Only /dev/shm is bounded (64 MiB). The workdir and /tmp are in the writable "
         "layer, which has no quota: this machine's Docker data root is on ext4, and "
         "overlay2 takes --storage-opt size only on xfs mounted with pquota. Production: "
         "put the data root on xfs with pquota and create containers with "
         "--storage-opt size=, or give the workdir a size-bounded volume and /tmp and "
         "/dev/shm sized tmpfs mounts; this extension sets none of these yet."),
    20: ("yes through spawn, streamed spawn, terminal: capped or backpressured; RSS "
         "bounded; logs rotated", HELD, ""),
    21: ("50 parallel creates past max_containers_per_user: refused past the cap; docker "
         "ps count equals the API's", HELD, ""),
    22: ("A 1 GB writeFile, a 100 MB frame, a 10^6-node tree: 413 early; RSS bounded",
         HELD, "A tree is a JSON body: max_json_body answers 413 on its size before it is "
               "parsed."),
    23: ("200 idle or never-reading sockets, slow bodies: closed by timeout; new requests "
         "served", HELD, ""),
    24: ("spawn sleep 1e9 with timeout 1: the process group is killed; no zombies", HELD,
         ""),
    # --- Faults
    25: ("dockerd restarted mid-spawn and mid-terminal: 503 with a hint, then recovery",
         DIFFERENTLY,
         "The engine connection is cut and restored through a relay in front of the real "
         "dockerd (503 ENGINE_UNAVAILABLE with a hint, sockets told, recovery without a "
         "server restart); dockerd itself is not restarted by these tests, as that would "
         "take every other test's containers with it."),
    26: ("External docker kill or rm -f: exited or 404, a container-status push, no 500",
         HELD, ""),
    27: ("Jupyter server restart: same ids, owners, ports; terminals reattach or report "
         "gone", HELD, ""),
    28: ("WebSocket dropped mid-stream: the terminal survives; spawns killed; no orphan "
         "execs", HELD, "Dropped 16 times in a row (half with a TCP reset), not 100: "
                        "each drop is checked to leave the process list as it was."),
    29: ("10 concurrent DELETEs of one id with fs operations: one 204, the rest 404",
         HELD, ""),
    # --- Malformed input
    30: ("Invalid JSON, wrong types, 64 KB headers, bad UTF-8, non-UUID ids, unknown WS "
         "events: 4xx JSON, never 500", DIFFERENTLY,
         "All answer 400/404 JSON and the socket stays open, except headers over 64 KiB: "
         "Tornado closes the connection without an answer instead of 431 (no 500, and "
         "the server serves the next request)."),
}

TESTS = Path(__file__).parent
ROOT = TESTS.parent
DOCS = ROOT / "docs" / "security.md"
BEGIN, END = "<!-- security-cases:begin -->", "<!-- security-cases:end -->"


def marked_tests() -> dict[str, list[int]]:
    """``module::test`` -> the case numbers of its ``security_case`` marker, read from the
    source of every test module (the UI tests included, which need a browser to collect)."""
    found: dict[str, list[int]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr == "security_case"):
                    name = f"{path.relative_to(TESTS).with_suffix('')}::{node.name}"
                    found.setdefault(name, []).extend(ast.literal_eval(a) for a in deco.args)
    return found


def tests_by_case() -> dict[int, list[str]]:
    by_case: dict[int, list[str]] = {}
    for name, numbers in marked_tests().items():
        for number in numbers:
            by_case.setdefault(number, []).append(name)
    return by_case


def render_table() -> str:
    by_case = tests_by_case()
    rows = ["| # | case | status | tests | how, or why not |", "| --- | --- | --- | --- | --- |"]
    for number, (case, status, reason) in CASES.items():
        tests = "<br>".join(f"`{name}`" for name in by_case.get(number, [])) or "none"
        cell = case.replace("|", "\\|")
        rows.append(f"| {number} | {cell} | {status} | {tests} | {reason or '-'} |")
    return "\n".join(rows)


def test_the_table_has_the_thirty_cases():
    assert sorted(CASES) == list(range(1, 31))
    for number, (case, status, reason) in CASES.items():
        assert status in (HELD, DIFFERENTLY, NOT_HELD), number
        if status != HELD:
            assert reason, f"case {number} is {status}: say how, or why not"


def test_every_held_case_has_a_test_and_every_marker_a_case():
    by_case = tests_by_case()
    unknown = {n: names for n, names in by_case.items() if n not in CASES}
    assert not unknown, f"markers name cases that do not exist: {unknown}"
    missing = [n for n, (_, status, _) in CASES.items()
               if status in (HELD, DIFFERENTLY) and not by_case.get(n)]
    assert not missing, f"cases marked held with no test carrying their number: {missing}"


def test_the_marker_is_registered_and_collected(pytestconfig):
    assert any(line.startswith("security_case")
               for line in pytestconfig.getini("markers")), "register it in setup.cfg"
    # Every marked function is a test pytest collects (a typo in a name would not be).
    for name in marked_tests():
        module, function = name.split("::")
        assert function.startswith("test_"), name


def test_docs_show_the_table_as_it_is():
    text = DOCS.read_text()
    assert BEGIN in text and END in text, f"{DOCS} has no {BEGIN} ... {END} section"
    shown = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == render_table(), "run `python -m tests.test_security_cases` to update it"


def write_docs() -> None:
    text = DOCS.read_text()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOCS.write_text(f"{head}{BEGIN}\n{render_table()}\n{END}{tail}")


if __name__ == "__main__":
    write_docs()
    sys.exit(0)
