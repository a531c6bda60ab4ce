"""The browser WebContainer client from a page on ANOTHER origin, as a WebContainer app
runs it: a plain page served by a small HTTP server on 127.0.0.1:<its own port> imports
the client from the Jupyter server (``ServerApp.allow_origin`` names the page's origin),
boots it with a token and makes every call of the client, failures included. Chromium
enforces CORS, so a missing header anywhere (a preflight, an error answer, a stream)
shows up as "Failed to fetch" (ECONNREFUSED) instead of the code the test expects.

Also: processes run on a terminal as WebContainer's do; mount takes bytes and the binary
export; the token never becomes a Jupyter cookie; teardown releases the socket, the
processes and the container (or keeps the container when asked).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.ui.conftest import LabServer, launch_lab, serving

pytestmark = pytest.mark.ui

FLOW_MS = 150_000
MAX_CONTAINERS = 2  # the page boots two; a third answers 429

FLOW = r"""
import { WebContainer } from '__BASE__webcontainer-client/webcontainer.js?token=__TOKEN__';

const results = (window.results = { steps: [], errors: {} });
const step = name => results.steps.push(name);
const sleep = ms => new Promise(r => setTimeout(r, ms));
const until = async (predicate, ms, what) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(50);
  }
};
const timeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error('timed out: ' + what)), ms))
]);
// The error a call throws, as the app sees it (or 'no error').
const failure = async (name, work) => {
  try {
    await work();
    results.errors[name] = 'no error';
  } catch (error) {
    results.errors[name] = {
      isError: error instanceof Error, code: error.code, errno: error.errno,
      syscall: error.syscall, path: error.path, status: error.status, message: error.message
    };
  }
};
// Everything a process prints, and a way to wait for some of it.
const collect = process => {
  const seen = { text: '' };
  seen.done = process.output.pipeTo(new WritableStream({ write(chunk) { seen.text += chunk; } }));
  return seen;
};
const bytesOf = list => new Uint8Array(list);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const BINARY = bytesOf([0, 1, 2, 127, 128, 200, 255, 10, 13, 0]);
const options = { serverUrl: '__BASE__', token: '__TOKEN__' };

let wc, kept;
try {
  // A wrong token: the page reads the server's 403, not a network failure.
  await failure('badToken', () => WebContainer.boot({ ...options, token: 'not-the-token' }));
  step('bad token');

  wc = await WebContainer.boot({
    ...options,
    workdirName: 'app',
    files: {
      'seed.txt': { file: { contents: 'seed' } },
      'seed.bin': { file: { contents: BINARY } }
    }
  });
  results.containerId = wc.containerId;
  results.workdir = wc.workdir;
  step('boot');

  await wc.mount({
    'package.json': { file: { contents: '{"name": "cross-origin"}' } },
    src: { directory: {
      'logo.bin': { file: { contents: BINARY } },
      'a.txt': { file: { contents: 'A' } }
    } }
  });
  results.mountedBinary = same(await wc.fs.readFile('src/logo.bin'), BINARY);
  results.seedBinary = same(await wc.fs.readFile('/seed.bin'), BINARY);
  step('mount');

  // Every fs call: JSON POST (preflighted), raw PUT, GETs, DELETE.
  await wc.fs.writeFile('/hello.txt', 'Hello from another origin');
  await wc.fs.writeFile('/raw.bin', BINARY);
  results.text = await wc.fs.readFile('/hello.txt', 'utf-8');
  results.base64 = await wc.fs.readFile('/raw.bin', 'base64');
  results.raw = same(await wc.fs.readFile('/raw.bin'), BINARY);
  results.names = (await wc.fs.readdir('/')).sort();
  results.entries = (await wc.fs.readdir('/src', { withFileTypes: true }))
    .map(e => [e.name, e.isFile(), e.isDirectory()]).sort();
  await wc.fs.mkdir('/deep/er', { recursive: true });
  await wc.fs.rename('/hello.txt', '/deep/er/moved.txt');
  results.moved = await wc.fs.readFile('/deep/er/moved.txt', 'utf-8');
  await wc.fs.rm('/deep', { recursive: true });
  results.afterRm = (await wc.fs.readdir('/')).sort();
  step('fs');

  // Failures, each with Node's code and message, over REST and over the socket.
  await failure('enoent', () => wc.fs.readFile('/missing.js', 'utf-8'));
  const link = await wc.spawn('ln', ['-s', '/etc', 'etc-link'], { terminal: false });
  results.linkExit = await timeout(link.exit, 15000, 'ln exit');
  await failure('eacces', () => wc.fs.readFile('/etc-link/passwd'));
  await failure('eexist', () => wc.fs.mkdir('/src'));
  await failure('enotdir', () => wc.fs.writeFile('/seed.txt/inner.txt', 'x'));
  await failure('noParent', () => wc.fs.writeFile('/no/such/dir.txt', 'x'));
  await failure('rmDir', () => wc.fs.rm('/src'));
  await failure('renameMissing', () => wc.fs.rename('/nope', '/nope2'));
  await failure('spawnCwd', () => wc.spawn('ls', [], { cwd: '/missing-dir' }));
  await failure('watchMissing', () => wc.fs.watch('/missing-dir', () => undefined).ready);
  await failure('exportFormat', () => wc.export('/', { format: 'tar' }));
  step('errors');

  const events = [];
  const watcher = wc.fs.watch('/', (event, filename) => events.push([event, filename]));
  await timeout(watcher.ready, 15000, 'watch ready');
  await wc.fs.writeFile('/watched.txt', 'w');
  await until(() => events.some(e => e[1] === 'watched.txt'), 15000, 'a watch event');
  watcher.close();
  results.events = events;
  step('watch');

  // Processes run on a terminal, as WebContainer's: node alone is its REPL.
  const repl = await wc.spawn('node');
  const replOut = collect(repl);
  await until(() => replOut.text.includes('Welcome to Node.js'), 20000, 'the REPL banner');
  const replWriter = repl.input.getWriter();
  const mark = replOut.text.length;
  await replWriter.write('21 * 2\n');
  await until(() => replOut.text.slice(mark).includes('42'), 15000, 'the REPL answer');
  await replWriter.write('.exit\n');
  results.replExit = await timeout(repl.exit, 15000, 'REPL exit');
  await replOut.done;
  results.replBanner = replOut.text.includes('Welcome to Node.js');
  step('repl');

  const probe = "const o = process.stdout; " +
    "console.log('tty=' + [o.isTTY, process.stdin.isTTY, o.columns + 'x' + o.rows].join(','))";
  const sized = async spawnOptions => {
    const p = await wc.spawn('node', ['-e', probe], spawnOptions);
    const out = collect(p);
    const code = await timeout(p.exit, 15000, 'probe exit');
    await out.done;
    return [code, (out.text.match(/tty=[^\r\n]*/) || [''])[0], out.text.includes('\r\n')];
  };
  results.ttyDefault = await sized(undefined);
  results.ttySized = await sized({ terminal: { cols: 100, rows: 30 } });
  results.ttyOff = await sized({ terminal: false });

  const resizable = await wc.spawn('node', ['-e',
    "const o = process.stdout;" +
    " o.on('resize', () => console.log('size=' + o.columns + 'x' + o.rows));" +
    " console.log('ready'); setInterval(() => {}, 1000)"]);
  const resizeOut = collect(resizable);
  await until(() => resizeOut.text.includes('ready'), 15000, 'resizable ready');
  await resizable.resize({ cols: 120, rows: 40 });
  await until(() => resizeOut.text.includes('size=120x40'), 15000, 'the resize reaching the tty');
  await resizable.kill();
  results.resizeExit = await timeout(resizable.exit, 15000, 'resizable exit');

  const silent = await wc.spawn('sh', ['-c', 'echo not shown; exit 3'], { output: false });
  const silentOut = collect(silent);
  const silentExit = await timeout(silent.exit, 15000, 'silent exit');
  results.silent = [silentExit, await silentOut.done, silentOut.text];
  step('spawn');

  // export -> mount round trips, json (Uint8Array for binary files) and binary (a zip).
  const tree = await wc.export('/src', { format: 'json' });
  results.exportedTypes = [
    typeof tree['a.txt'].file.contents, tree['logo.bin'].file.contents instanceof Uint8Array
  ];
  await wc.mount(tree, { mountPoint: '/from-json' });
  results.jsonRoundTrip = same(await wc.fs.readFile('/from-json/logo.bin'), BINARY);
  const archive = await wc.export('/', { format: 'binary' });
  results.archive = [archive instanceof Uint8Array, archive[0], archive[1]];
  await wc.mount(archive, { mountPoint: '/from-binary' });
  results.binaryRoundTrip = [
    same(await wc.fs.readFile('/from-binary/src/logo.bin'), BINARY),
    await wc.fs.readFile('/from-binary/seed.txt', 'utf-8'),
    same(await wc.fs.readFile('/from-binary/raw.bin'), BINARY)
  ];
  const zip = await wc.export('/src', { format: 'zip' });
  results.zip = [zip.length > 0, zip[0], zip[1]];
  await failure('badArchive', () => wc.mount(new Uint8Array([1, 2, 3])));
  step('export');

  results.previewUrl = await wc.previewUrl(3000);
  step('url');

  // A second container that teardown keeps; a third is over the quota.
  kept = await WebContainer.boot({ ...options, keepContainer: true });
  results.keptId = kept.containerId;
  await failure('quota', () => WebContainer.boot(options));
  const sleeper = await kept.spawn('sleep', ['4321']);
  const keptWatcher = kept.fs.watch('/', () => undefined);
  await timeout(keptWatcher.ready, 15000, 'kept watch ready');
  step('kept ready');
  // The test looks into the container now, then lets the page go on.
  results.phase = 'before-teardown';
  await new Promise(resolve => { window.proceed = resolve; });

  await kept.teardown();
  results.sleeperExit = await sleeper.exit;
  await failure('keptAfter', () => kept.fs.readdir('/'));
  step('teardown kept');

  await wc.teardown();
  await failure('afterTeardown', () => wc.fs.readdir('/'));
  await failure('spawnAfterTeardown', () => wc.spawn('ls'));
  step('teardown');
} catch (error) {
  results.failure = String(error && error.stack || error) + ' code=' + (error && error.code);
  if (wc) await wc.teardown().catch(() => undefined);
  if (kept) await kept.teardown({ keepContainer: false }).catch(() => undefined);
}
results.done = true;
"""


class _PageServer(ThreadingHTTPServer):
    page = b""
    daemon_threads = True


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.split("?")[0] != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.server.page)))
        self.end_headers()
        self.wfile.write(self.server.page)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page_server() -> Iterator[_PageServer]:
    """A plain web server of the app, on a loopback origin of its own."""
    with serving(_PageServer(("127.0.0.1", 0), _PageHandler)) as server:
        yield server


@pytest.fixture(scope="module")
def page_origin(page_server) -> str:
    return f"http://127.0.0.1:{page_server.server_address[1]}"


@pytest.fixture(scope="module")
def cross_origin_lab(tmp_path_factory, chromium_path, docker_client, page_origin):
    with launch_lab(
        tmp_path_factory,
        manager={"max_containers_per_user": MAX_CONTAINERS},
        args=(f"--ServerApp.allow_origin={page_origin}",),
        log_name="jupyter-lab-cross-origin.log",
    ) as server:
        yield server


def container_processes(docker_client, container_id: str) -> str:
    box = docker_client.containers.get(f"jcm-{container_id}")
    return box.exec_run(["ps", "-eo", "args"]).output.decode("utf-8", "replace")


def test_every_client_call_from_another_origin(
    cross_origin_lab: LabServer, page_server, page_origin, browser, docker_client,
    artifacts: Path,
):
    server = cross_origin_lab
    assert not page_origin.endswith(server.url.rstrip("/").rsplit(":", 1)[1])
    page_server.page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Another origin</title></head>"
        "<body><h1>app</h1><script type='module'>"
        + FLOW.replace("__BASE__", server.url).replace("__TOKEN__", server.token)
        + "</script></body></html>"
    ).encode()

    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    sockets: list[dict] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))

    def on_socket(ws):
        record = {"url": ws.url, "closed": False}
        sockets.append(record)
        ws.on("close", lambda _: record.update(closed=True))

    page.on("websocket", on_socket)
    results: dict = {}
    before: str = ""
    try:
        page.goto(f"{page_origin}/")
        page.wait_for_function(
            "window.results && (window.results.phase === 'before-teardown' || window.results.done)",
            timeout=FLOW_MS,
        )
        results = page.evaluate("window.results")
        for created in (results.get("containerId"), results.get("keptId")):
            if created:
                server.created.append(created)
        assert "failure" not in results, f"{results.get('failure')}\nsteps: {results['steps']}"
        before = container_processes(docker_client, results["keptId"])
        page.evaluate("window.proceed()")
        page.wait_for_function("window.results && window.results.done", timeout=FLOW_MS)
        results = page.evaluate("window.results")
        # The token never became a Jupyter cookie: not for this context, not for a page of
        # the same site (cookies ignore ports), nor for the Jupyter origin itself.
        cookies = context.cookies()
        contents = context.request.get(f"{server.url}api/contents", max_redirects=0)
        contents_status = contents.status
        other_page = context.new_page()
        direct = other_page.goto(f"{server.url}api/contents")
        direct_status = direct.status if direct else None
    finally:
        (artifacts / "cross-origin-client.json").write_text(json.dumps(results, indent=2))
        (artifacts / "cross-origin-client-console.log").write_text("\n".join(console))
        context.close()

    assert "failure" not in results, f"{results.get('failure')}\nsteps: {results['steps']}"
    assert results["steps"] == [
        "bad token", "boot", "mount", "fs", "errors", "watch", "repl", "spawn", "export", "url",
        "kept ready", "teardown kept", "teardown",
    ]
    errors = results["errors"]

    bad_token = errors["badToken"]
    assert bad_token["status"] == 403, bad_token  # read, not "Failed to fetch"
    assert bad_token["code"] == "ERR_HTTP_403" and bad_token["isError"] is True
    assert "token" in bad_token["message"], bad_token  # says why

    assert results["workdir"] == "/home/app"
    assert results["mountedBinary"] is True and results["seedBinary"] is True
    assert results["text"] == "Hello from another origin"
    assert results["base64"] == "AAECf4DI/woNAA=="
    assert results["raw"] is True
    assert results["names"] == ["hello.txt", "package.json", "raw.bin", "seed.bin",
                                "seed.txt", "src"]
    assert results["entries"] == [["a.txt", True, False], ["logo.bin", True, False]]
    assert results["moved"] == "Hello from another origin"
    assert results["afterRm"] == ["package.json", "raw.bin", "seed.bin", "seed.txt", "src"]

    def node_error(name: str, code: str, status: int, syscall: str | None = None, path=None):
        error = errors[name]
        assert error != "no error", name
        assert error["isError"] is True, (name, error)
        assert error["code"] == code, (name, error)
        assert error["message"].startswith(f"{code}: "), (name, error)
        if status:
            assert error["status"] == status, (name, error)
        if syscall:
            assert error["syscall"] == syscall, (name, error)
        if path:
            assert error["path"] == path, (name, error)
        return error

    node_error("enoent", "ENOENT", 404, "open", "/home/app/missing.js")
    assert errors["enoent"]["errno"] == -2
    assert results["linkExit"] == 0
    node_error("eacces", "EACCES", 403, path="/home/app/etc-link/passwd")
    node_error("eexist", "EEXIST", 409, "mkdir", "/home/app/src")
    node_error("enotdir", "ENOTDIR", 409)
    node_error("noParent", "ENOENT", 404)
    node_error("rmDir", "EISDIR", 409, "rm", "/home/app/src")
    node_error("renameMissing", "ENOENT", 404, "rename")
    node_error("spawnCwd", "ENOENT", 0)  # over the socket: no HTTP status
    node_error("watchMissing", "ENOENT", 0, "watch")
    assert errors["exportFormat"]["code"] == "ERR_INVALID_ARG_VALUE"
    node_error("badArchive", "EINVAL", 400)
    quota = node_error("quota", "EQUOTA", 429)
    assert "max_containers_per_user" in quota["message"]

    assert ["rename", "watched.txt"] in results["events"]

    assert results["replBanner"] is True and results["replExit"] == 0
    assert results["ttyDefault"] == [0, "tty=true,true,80x24", True]
    assert results["ttySized"] == [0, "tty=true,true,100x30", True]
    assert results["ttyOff"] == [0, "tty=,,undefinedxundefined", False]
    assert results["resizeExit"] == 137
    assert results["silent"] == [3, None, ""]

    assert results["exportedTypes"] == ["string", True]
    assert results["jsonRoundTrip"] is True
    assert results["archive"] == [True, 0x50, 0x4B]  # "PK": a zip
    assert results["binaryRoundTrip"] == [True, "seed", True]
    assert results["zip"] == [True, 0x50, 0x4B]
    container_id = results["containerId"]
    # An absolute preview URL of that container and port (its form is the previews').
    assert results["previewUrl"].startswith("http"), results["previewUrl"]
    assert container_id in results["previewUrl"] and "3000" in results["previewUrl"]

    # Before teardown the kept container ran the sleeper and the socket's watcher.
    assert "sleep 4321" in before and "jcm-watch" in before, before
    # teardown({keep}) ended them: the process, the socket (closed on the server, which
    # stopped the watcher it held), and kept the container.
    kept_id = results["keptId"]
    after = container_processes(docker_client, kept_id)
    assert "sleep 4321" not in after, after
    assert "jcm-watch" not in after and "jcm-ports" not in after, after
    assert results["sleeperExit"] == 137
    assert errors["keptAfter"]["code"] == "ERR_TORN_DOWN"
    assert errors["afterTeardown"]["code"] == "ERR_TORN_DOWN"
    assert errors["spawnAfterTeardown"]["code"] == "ERR_TORN_DOWN"
    listed = {c["id"] for c in server.api("GET", "containers").json()}
    assert kept_id in listed
    assert container_id not in listed  # teardown() deleted the other one
    deadline = time.monotonic() + 10
    while not all(s["closed"] for s in sockets) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(sockets) == 2 and all(s["closed"] for s in sockets), sockets

    # The token: in no socket URL, and never a cookie of the Jupyter server's site.
    assert all("token" not in s["url"] for s in sockets), sockets
    assert not [c for c in cookies if c["domain"] in ("127.0.0.1", "localhost")], cookies
    assert contents_status == 403
    assert direct_status == 403
    anonymous = requests.get(f"{server.url}api/contents", timeout=30)
    assert anonymous.status_code == 403
    assert not [line for line in console if "CORS" in line or "pageerror" in line], console
