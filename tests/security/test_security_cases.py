"""The thirty adversarial cases (/work/shared/SECURITY_CASES.md), as a table.

``CASES`` says, for each case, whether the project holds it (``held``), holds it another way
than the case words it (``held differently``: the reason says how), or does not hold it here
(``not held``: the reason says why, and how production holds it). The tests that prove a
case carry ``@pytest.mark.security_case(n)`` where they live (the suite is not copied
here); the checks below fail when a held case has no such test, a marker names a case that
does not exist, or docs/security.md does not show this table as it is.

Below the checks: the tests of cases that had none elsewhere, by case number.

``python -m tests.security.test_security_cases`` rewrites the table in docs/security.md.
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

import pytest

import jupyter_container_manager
from jupyter_container_manager.core.models import LABEL_OWNER
from tests.support.helpers import Response, assert_error
from tests.support.webcontainer_support import boot

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
         "cwd is taken inside the workdir and resolved there (EACCES when .. or a symlink "
         "leads out, ENOENT when it is not there); NUL and non-string values are 400. "
         "LD_PRELOAD is passed on: the process runs as the container's user in the "
         "user's own container, without capabilities and with no-new-privileges, so a "
         "preload gains nothing the user could not run directly."),
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
         DIFFERENTLY,
         "With disk_limit set (off by default). An engine that takes --storage-opt size "
         "(overlay2 on xfs with pquota, the production setup) bounds the whole writable "
         "layer. On ext4, as here, the workdir and /tmp share an ext4 file system of "
         "disk_limit bytes, a sparse image loop-mounted by the server (root, beside the "
         "engine), and the rest of the root file system is not bounded. /dev/shm is a "
         "tmpfs of at most 64 MiB. The API answers and other containers write on."),
    20: ("yes through spawn, streamed spawn, terminal: capped or backpressured; RSS "
         "bounded; logs rotated", HELD, ""),
    21: ("50 parallel creates past max_containers_per_user: refused past the cap; docker "
         "ps count equals the API's", HELD,
         "For one Jupyter server: its quota looks take turns. Two servers of one owner on "
         "one engine can still race past the cap together."),
    22: ("A 1 GB writeFile, a 100 MB frame, a 10^6-node tree: 413 early; RSS bounded",
         HELD, "A tree is a JSON body: max_json_body answers 413 on its size before it is "
               "parsed."),
    23: ("200 idle or never-reading sockets, slow bodies: closed by timeout; new requests "
         "served", HELD, ""),
    24: ("spawn sleep 1e9 with timeout 1: the process group is killed; no zombies", HELD,
         ""),
    # --- Faults
    25: ("dockerd restarted mid-spawn and mid-terminal: 503 with a hint, then recovery",
         HELD, ""),
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

TESTS = Path(__file__).parents[1]
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
    assert shown == render_table(), "run `python -m tests.security.test_security_cases` to update it"



# --- tests of the cases that had none elsewhere ------------------------------------------


@pytest.mark.security_case(2)
async def test_cookie_writes_need_the_xsrf_token(
    api, http_server_client, jp_base_url, jp_auth_header, docker_client, owner
):
    """A browser's login cookie carries no write on its own: Jupyter's _xsrf check applies
    to every write route; a token header (a script, not a page) needs none."""
    login_page = await http_server_client.fetch(f"{jp_base_url}login")
    xsrf = login_page.headers["Set-Cookie"].split("_xsrf=", 1)[1].split(";", 1)[0]
    token = jp_auth_header["Authorization"].split()[1]
    login = await http_server_client.fetch(
        f"{jp_base_url}login", method="POST", body=f"_xsrf={xsrf}&password={token}",
        headers={"Cookie": f"_xsrf={xsrf}"}, follow_redirects=False, raise_error=False)
    assert login.code == 302, login.code
    user = next(c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie")
                if c.startswith("username-"))
    cookie = {"Cookie": f"{user}; _xsrf={xsrf}"}
    wc = await boot(api, docker_client, files={"a.txt": {"file": {"contents": "old"}}})

    async def call(method, path, headers, body=None):
        return Response(await http_server_client.fetch(
            f"{jp_base_url}{path}", method=method, headers=headers, body=body,
            allow_nonstandard_methods=True, raise_error=False))

    writes = [
        ("POST", "containers", b"{}"),
        ("POST", f"webcontainer/{wc.id}/fs/writeFile", b'{"path": "a.txt", "contents": "new"}'),
        ("PUT", f"webcontainer/{wc.id}/fs/writeFile?path=a.txt", b"new"),
        ("POST", f"containers/{wc.id}/stop", b""),
        ("DELETE", f"webcontainer/{wc.id}/fs/rm?path=a.txt", None),
        ("DELETE", f"containers/{wc.id}", None),
    ]
    for xsrf_header in ({}, {"X-XSRFToken": "wrong"}, {"X-XSRFToken": ""}):
        for method, path, body in writes:
            answer = await call(method, path, {**cookie, **xsrf_header}, body)
            assert answer.status == 403, (xsrf_header, method, path, answer)
            assert_error(answer, 403)
    # Nothing changed.
    assert (await wc.read("a.txt")).body == b"old"
    assert [c["id"] for c in (await api.get("containers")).json()] == [wc.id]
    assert (await api.get("containers", wc.id)).json()["status"] == "running"
    # The cookie with its _xsrf writes; so does a token without any cookie.
    answer = await call("PUT", f"webcontainer/{wc.id}/fs/writeFile?path=a.txt",
                        {**cookie, "X-XSRFToken": xsrf}, b"by-cookie")
    assert answer.status == 204, answer
    answer = await call("PUT", f"webcontainer/{wc.id}/fs/writeFile?path=a.txt",
                        jp_auth_header, b"by-token")
    assert answer.status == 204, answer
    assert (await wc.read("a.txt")).body == b"by-token"
    assert (await call("DELETE", f"containers/{wc.id}", jp_auth_header)).status == 204


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.mark.security_case(9)
async def test_errors_and_logs_carry_no_token_traceback_or_host_path(
    api, ws, http_server_client, jp_base_url, jp_auth_header, jp_serverapp, docker_client,
    jp_root_dir
):
    token = jp_auth_header["Authorization"].split()[1]
    records = _Records()
    # Each logger itself, not only the root: traitlets apps may stop propagating.
    names = ("", "ServerApp", "ContainerManagerApp", "jupyter_container_manager",
             "tornado.access", "tornado.application", "tornado.general")
    loggers = {jp_serverapp.log, *(logging.getLogger(name) for name in names)}
    for logger in loggers:
        logger.addHandler(records)
    bodies: list[str] = []
    try:
        wc = await boot(api, docker_client)
        unknown = "0b6f43f5-3f0e-4bd2-9a58-5a1f0e0a2f4b"
        answers = [
            await api.get("containers", unknown),
            await api.get("containers", unknown, params={"token": token}),
            await api.post("containers", raw=b"{not json"),
            await api.post("containers", body={"image": "jcm-no-such-image:0"}),
            await api.post("containers", body={"name": 5}),
            await wc.read("../../etc/passwd"),
            await wc.read("nope/missing.txt"),
            await wc.write("a\x00b", "x"),
            await wc.spawn("pwd", cwd="nope"),
            await wc.export("nope"),
            await api.get("containers", wc.id, "proxy", "4000", "x", params={"token": token}),
            await api.get("containers", wc.id, "proxy", "abc", "x"),
        ]
        for headers in ({}, {"Authorization": f"token {token}x"}):
            answers.append(Response(await http_server_client.fetch(
                f"{jp_base_url}containers?token={token}x", headers=headers,
                raise_error=False)))
        for answer in answers:
            assert answer.status >= 400, answer
            bodies.append(answer.text)
        client = await ws()
        for frame in ("{", '{"event": "nope", "id": "x"}',
                      json.dumps({"event": "join-container", "data": {"containerId": "x" * 48}})):
            start = len(client.frames)
            await client.send_raw(frame)
            bodies.append(json.dumps(await client.wait_for(lambda f: True, start=start)))
        await api.delete("containers", wc.id)
    finally:
        for logger in loggers:
            logger.removeHandler(records)
    host_paths = [str(jp_root_dir), os.path.dirname(jupyter_container_manager.__file__),
                  os.path.expanduser("~"), sys.prefix]
    logged = []
    for record in set(records.records):
        # Jupyter's own debug lines name its static files' paths; ours are all checked.
        if record.levelno >= logging.INFO or record.name.startswith(
                ("jupyter_container_manager", "ContainerManagerApp")):
            assert record.exc_info is None, record.getMessage()
            logged.append(record.getMessage())
    assert logged, "nothing was logged: the check would prove nothing"
    for text in bodies + logged:
        assert token not in text, text
        assert "Traceback" not in text and 'File "' not in text, text
        for path in host_paths:
            assert path not in text, (path, text)


@pytest.mark.security_case(10)
async def test_sibling_prefixes_and_overlong_paths_are_refused(api, docker_client):
    wc = await boot(api, docker_client)
    code, _ = wc.sh("mkdir -p /workspaceX && echo kept > /workspaceX/a && "
                    "chmod 777 /workspaceX /workspaceX/a", user="root")
    assert code == 0
    for path in ("../workspaceX/a", "/../workspaceX/a", "a/../../workspaceX/a"):
        assert_error(await wc.write(path, "pwned"), 403, "EACCES")
        assert_error(await wc.put(path, b"pwned"), 403, "EACCES")
        assert_error(await wc.rm(path, force=True), 403, "EACCES")
    assert wc.cat("/workspaceX/a") == b"kept\n"
    for path in ("a" * 4097, "/".join(["d"] * 2100), "a" * 300):
        answer = await wc.write(path, "x")
        assert 400 <= answer.status < 500, answer
        assert assert_error(answer, answer.status)["code"] in ("EINVAL", "ENAMETOOLONG")
    assert (await wc.readdir()).json() == []


@pytest.mark.security_case(14)
async def test_spawn_cwds_into_proc_are_refused(api, docker_client):
    wc = await boot(api, docker_client)
    code, _ = wc.sh("ln -s /proc/1/root /workspace/root && ln -s /proc/self/fd /workspace/fd")
    assert code == 0
    for cwd in ("../../proc/1/root", "/../proc/self/fd/7", "root", "fd"):
        answer = await wc.spawn("pwd", cwd=cwd)
        assert answer.status == 403, (cwd, answer)
        assert_error(answer, 403, "EACCES")
    for cwd in ("/proc/1/root", "/proc/self/fd/7", "fd/7"):  # not there (fd 7 is not open)
        assert_error(await wc.spawn("pwd", cwd=cwd), 404, "ENOENT")
    for env in ({"A": "x\x00y"}, {"A\x00": "x"}, {"A": None}, {"A": ["x"]}):
        assert_error(await wc.spawn("true", env=env), 400)
    # LD_PRELOAD is the user's own business: it runs as that user, nothing more.
    answer = await wc.spawn("sh", "-c", "echo $LD_PRELOAD; id -u",
                            env={"LD_PRELOAD": "/nonexistent.so"})
    assert answer.status == 200 and answer.json()["output"].endswith("1000\n"), answer


@pytest.fixture
def small_json_body(manager_config):
    manager_config["max_json_body"] = 1_000_000


@pytest.mark.security_case(15)
async def test_export_leaves_links_out_and_is_capped(small_json_body, api, docker_client):
    import io
    import zipfile

    wc = await boot(api, docker_client, files={"a.txt": {"file": {"contents": "a"}}})
    code, _ = wc.sh("ln -s /etc/shadow /workspace/shadow && ln -s /etc /workspace/etc && "
                    "ln -s / /workspace/root")
    assert code == 0
    tree = (await wc.export()).json()
    assert tree == {"a.txt": {"file": {"contents": "a"}}}, tree
    zipped = await wc.export(form="zip")
    assert zipped.status == 200, zipped
    assert zipfile.ZipFile(io.BytesIO(zipped.body)).namelist() == ["a.txt"]
    # Past max_json_body, the JSON export is refused; the zip streams it.
    wc.sh('head -c 2000000 /dev/urandom > "$1"', "/workspace/big.bin")
    assert_error(await wc.export(), 413)
    zipped = await wc.export(form="zip")
    assert zipped.status == 200 and len(zipped.body) > 2_000_000


@pytest.fixture
def cap_of_three(manager_config):
    manager_config["max_containers_per_user"] = 3


@pytest.mark.security_case(21)
async def test_parallel_creates_past_the_cap(cap_of_three, api, docker_client, owner):
    answers = await asyncio.gather(*(api.post("containers", body={}) for _ in range(50)))
    created = [a for a in answers if a.status == 201]
    refused = [a for a in answers if a.status != 201]
    assert len(created) == 3, [a.status for a in answers]
    for answer in refused:
        assert_error(answer, 429, code="EQUOTA")
    listed = sorted(c["id"] for c in (await api.get("containers")).json())
    on_engine = docker_client.containers.list(
        all=True, filters={"label": f"{LABEL_OWNER}={owner}"})
    assert listed == sorted(a.json()["id"] for a in created)
    assert sorted(c.name for c in on_engine) == [f"jcm-{cid}" for cid in listed]


@pytest.mark.security_case(30)
async def test_headers_past_64_kib_are_refused_and_the_server_serves_on(
    api, jp_http_port, jp_base_url, jp_auth_header
):
    reader, writer = await asyncio.open_connection("127.0.0.1", jp_http_port)
    writer.write((f"GET {jp_base_url}containers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  f"Authorization: {jp_auth_header['Authorization']}\r\n"
                  f"X-Big: {'x' * 70_000}\r\n\r\n").encode())
    try:
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    except ConnectionResetError:
        answer = b""
    finally:
        writer.close()
    assert answer == b"" or answer.split()[1] == b"431", answer[:200]
    started = time.monotonic()
    assert (await api.get("containers")).status == 200
    assert time.monotonic() - started < 2


def write_docs() -> None:
    text = DOCS.read_text()
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    DOCS.write_text(f"{head}{BEGIN}\n{render_table()}\n{END}{tail}")


if __name__ == "__main__":
    write_docs()
    sys.exit(0)
