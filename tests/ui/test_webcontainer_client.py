"""The browser WebContainer client end to end: a plain HTML page on the Jupyter origin
imports the served bundle (``/webcontainer-client/webcontainer.js``) and runs the
WebContainer tutorial flow in headless Chromium against a real ``jupyter lab`` and a real
container: boot, mount a Node project, ``spawn('node', ['server.js'])``, ``server-ready``,
fetch the preview, read the output stream, write stdin, watch a written file, errors with
Node codes, kill, export, teardown.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests

from tests.ui.conftest import LabServer

pytestmark = pytest.mark.ui

CLIENT = Path(__file__).parents[2] / "jupyter_container_manager/static/webcontainer/webcontainer.js"
FLOW_MS = 90_000

# The tutorial flow, as a WebContainer app would write it; every step's result lands in
# window.results for the test to check.
FLOW = r"""
import { WebContainer } from '__BASE__webcontainer-client/webcontainer.js?token=__TOKEN__';

const results = (window.results = { steps: [] });
const step = name => results.steps.push(name);
// The sockets the client opens: the protocol they speak, the binary frames they get.
const sockets = [];
results.binaryFrames = 0;
window.WebSocket = class extends window.WebSocket {
  constructor(...args) {
    super(...args);
    sockets.push(this);
    this.addEventListener('message', event => {
      if (typeof event.data !== 'string') results.binaryFrames += 1;
    });
  }
};
const until = async (predicate, ms, what) => {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise(r => setTimeout(r, 50));
  }
};
const timeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error('timed out: ' + what)), ms))
]);

const files = {
  'package.json': {
    file: {
      contents: JSON.stringify({ name: 'tutorial-app', scripts: { start: 'node server.js' } })
    }
  },
  'server.js': { file: { contents: `
const http = require('http');
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello from the container: ' + req.url);
}).listen(3000, () => console.log('server listening on 3000'));
` } },
  src: { directory: { 'a.txt': { file: { contents: 'A' } } } }
};

let wc;
try {
  wc = await WebContainer.boot({
    workdirName: 'tutorial', serverUrl: '__BASE__', token: '__TOKEN__'
  });
  results.containerId = wc.containerId;
  results.workdir = wc.workdir;
  step('boot');

  await wc.mount(files);
  step('mount');

  const entries = await wc.fs.readdir('/', { withFileTypes: true });
  results.entries = entries
    .map(e => [e.name, e.isFile(), e.isDirectory()])
    .sort((a, b) => a[0].localeCompare(b[0]));
  results.names = (await wc.fs.readdir('/')).sort();
  results.pkgName = JSON.parse(await wc.fs.readFile('/package.json', 'utf-8')).name;
  const bytes = await wc.fs.readFile('src/a.txt');
  results.bytes = [bytes instanceof Uint8Array, Array.from(bytes)];
  step('fs');

  const ports = [];
  const offPort = wc.on('port', (port, type, url) => ports.push({ port, type, url }));
  let readyCalls = 0;
  const ready = new Promise(resolve => {
    wc.on('server-ready', (port, url) => { readyCalls += 1; resolve({ port, url }); });
  });
  const offIgnored = wc.on('server-ready', () => { results.unsubscribedCalled = true; });
  offIgnored();

  const server = await wc.spawn('node', ['server.js']);
  results.pid = server.pid;
  let output = '';
  const reading = server.output.pipeTo(new WritableStream({ write(chunk) { output += chunk; } }));
  const { port, url } = await timeout(ready, 30000, 'server-ready');
  results.ready = { port, url };
  step('server-ready');

  // As WebContainer apps do: the server-ready URL in an iframe (its own origin).
  const frame = document.createElement('iframe');
  frame.id = 'tutorial-preview';
  const loaded = new Promise(resolve => frame.addEventListener('load', resolve, { once: true }));
  frame.src = url + 'tutorial?x=1';
  document.body.appendChild(frame);
  await timeout(loaded, 15000, 'the preview iframe');
  results.preview = { src: frame.src };
  step('preview');

  await until(() => output.includes('server listening on 3000'), 15000, 'the server log line');
  results.output = output;
  step('output');

  const events = [];
  const watcher = wc.fs.watch('/', (event, filename) => events.push([event, filename]));
  await timeout(watcher.ready, 15000, 'watch ready');
  await wc.fs.writeFile('/hello.txt', 'Hello, watch');
  await until(() => events.some(e => e[1] === 'hello.txt'), 15000, 'a watch event for hello.txt');
  results.events = events;
  watcher.close();
  results.written = await wc.fs.readFile('hello.txt', 'utf-8');
  step('watch');

  try {
    await wc.fs.readFile('/missing.js', 'utf-8');
    results.missing = 'no error';
  } catch (error) {
    results.missing = {
      isError: error instanceof Error, code: error.code, errno: error.errno,
      syscall: error.syscall, path: error.path, message: error.message
    };
  }
  try {
    await wc.fs.mkdir('/src');
    results.exists = 'no error';
  } catch (error) {
    results.exists = { code: error.code, message: error.message };
  }
  await wc.fs.mkdir('/deep/er', { recursive: true });
  await wc.fs.rename('/hello.txt', '/deep/er/moved.txt');
  await wc.fs.rm('/deep', { recursive: true });
  results.afterRm = (await wc.fs.readdir('/')).sort();
  step('errors');

  const cat = await wc.spawn('cat', [], { terminal: { cols: 80, rows: 24 } });
  let catOutput = '';
  const catReading = cat.output.pipeTo(
    new WritableStream({ write(chunk) { catOutput += chunk; } })
  );
  await cat.resize({ cols: 100, rows: 30 });
  const writer = cat.input.getWriter();
  await writer.write('ping from stdin\n');
  await until(() => catOutput.includes('ping from stdin'), 15000, 'cat echoing its stdin');
  await cat.kill();
  results.catExit = await timeout(cat.exit, 15000, 'cat exit');
  await catReading;
  step('input');

  // Output comes as binary frames (protocol v2): a character split between two
  // frames is decoded whole.
  const split = await wc.spawn('sh', ['-c', "printf 'a\\342\\202'; sleep 0.3; printf '\\254b'"]);
  let splitOutput = '';
  await timeout(split.output.pipeTo(
    new WritableStream({ write(chunk) { splitOutput += chunk; } })
  ), 15000, 'the split output');
  results.split = splitOutput;
  results.protocols = sockets.map(socket => socket.protocol);
  step('split');

  await server.kill();
  results.serverExit = await timeout(server.exit, 15000, 'server exit');
  await timeout(reading, 5000, 'output stream closing');
  results.ports = ports;
  results.readyCalls = readyCalls;
  offPort();
  step('kill');

  const tree = await wc.export('/', { format: 'json' });
  results.exported = Object.keys(tree).sort();
  results.exportedServer = tree['server.js'].file.contents.includes('createServer');
  step('export');

  await wc.teardown();
  step('teardown');
  try {
    await wc.fs.readdir('/');
    results.afterTeardown = 'no error';
  } catch (error) {
    results.afterTeardown = error.code;
  }
} catch (error) {
  results.failure = String(error && error.stack || error) + ' code=' + (error && error.code);
  if (wc) {
    await wc.teardown().catch(() => undefined);
  }
}
results.done = true;
"""


def page_html(server: LabServer) -> str:
    script = FLOW.replace("__BASE__", server.url).replace("__TOKEN__", server.token)
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>WebContainer client</title>"
        f"</head><body><h1>tutorial</h1><script type='module'>{script}</script></body></html>"
    )


def test_the_tutorial_flow_in_a_plain_page(lab_server: LabServer, browser, artifacts: Path):
    if not CLIENT.is_file():
        pytest.fail(f"{CLIENT} is missing: run `jlpm build` in labextension/")
    served = lab_server.api("GET", "webcontainer-client/webcontainer.js")
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("text/javascript")
    assert re.search(r"^export \{[^}]*\bWebContainer\b", served.text, re.M)
    anonymous = requests.get(f"{lab_server.url}webcontainer-client/webcontainer.js", timeout=30)
    assert anonymous.status_code == 403

    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    # The page lives on the Jupyter origin: a real answer of the server (so Chromium's
    # local-network checks see a loopback page; Jupyter's plain 404 page, whose CSP
    # allows inline scripts, unlike the API's), whose document is then replaced.
    page.goto(f"{lab_server.url}jcm-client-test/index.html")
    before = {c["id"] for c in lab_server.api("GET", "containers").json()}
    results: dict = {}
    try:
        page.set_content(page_html(lab_server))
        page.wait_for_function("window.results && window.results.done", timeout=FLOW_MS)
        results = page.evaluate("window.results")
        # The iframe's document stays as it loaded (the server is gone by now).
        frames = [f for f in page.frames if ".localhost:" in f.url]
        shown = [(f.url, f.inner_text("body")) for f in frames]
        page.screenshot(path=str(artifacts / "webcontainer-client-tutorial.png"))
    finally:
        (artifacts / "webcontainer-client.json").write_text(json.dumps(results, indent=2))
        (artifacts / "webcontainer-client-console.log").write_text("\n".join(console))
        context.close()
        if results.get("containerId"):
            lab_server.created.append(results["containerId"])

    assert "failure" not in results, f"{results.get('failure')}\nsteps: {results['steps']}"
    assert results["steps"] == [
        "boot", "mount", "fs", "server-ready", "preview", "output", "watch", "errors",
        "input", "split", "kill", "export", "teardown",
    ]
    assert results["workdir"] == "/home/tutorial"
    assert results["entries"] == [
        ["package.json", True, False], ["server.js", True, False], ["src", False, True]
    ]
    assert results["names"] == ["package.json", "server.js", "src"]
    assert results["pkgName"] == "tutorial-app"
    assert results["bytes"] == [True, [65]]

    container_id = results["containerId"]
    assert container_id not in before
    ready = results["ready"]
    assert ready["port"] == 3000
    assert re.match(rf"^http://3000-{container_id}\.localhost:\d+/__jcm_grant/", ready["url"])
    (frame_url, frame_text), = shown
    assert frame_url.startswith(f"http://3000-{container_id}.localhost:")
    assert frame_url.endswith("/tutorial?x=1")  # the grant left the URL
    assert frame_text == "Hello from the container: /tutorial?x=1"
    assert "server listening on 3000" in results["output"]
    assert "unsubscribedCalled" not in results
    assert results["readyCalls"] >= 1
    assert [(p["port"], p["type"]) for p in results["ports"]][:1] == [(3000, "open")]

    assert ["rename", "hello.txt"] in results["events"]  # Node's name for a new file
    assert results["written"] == "Hello, watch"

    missing = results["missing"]
    assert missing["isError"] is True
    assert missing["code"] == "ENOENT"
    assert missing["errno"] == -2
    assert missing["message"].startswith("ENOENT: ")
    assert missing["syscall"] == "open"
    assert missing["path"] == "/home/tutorial/missing.js"
    assert results["exists"]["code"] == "EEXIST"
    assert results["exists"]["message"].startswith("EEXIST")
    assert results["afterRm"] == ["package.json", "server.js", "src"]

    assert results["catExit"] == 137  # SIGKILL
    assert results["split"] == "a€b"
    assert results["protocols"] == ["jupyter-container-manager.v2"]
    assert results["binaryFrames"] >= 3  # the server's log line and the split output
    assert results["serverExit"] == 137
    assert results["exported"] == ["package.json", "server.js", "src"]
    assert results["exportedServer"] is True
    assert results["afterTeardown"] == "ERR_TORN_DOWN"  # its fs is unusable, as in WebContainer

    # teardown() deleted the container: no container of this run is left behind.
    after = {c["id"] for c in lab_server.api("GET", "containers").json()}
    assert container_id not in after
    assert after <= before
    assert not [line for line in console if line.startswith("pageerror")], console


COOKIE_FLOW = r"""
import { WebContainer } from '/webcontainer-client/webcontainer.js';

const results = (window.results = {});
try {
  // No serverUrl, no token: the page's origin, the Jupyter login cookie, and the
  // _xsrf cookie sent back as X-XSRFToken on writes.
  const wc = await WebContainer.boot();
  results.containerId = wc.containerId;
  await wc.fs.writeFile('/server.js', `require('http').createServer((q, s) => {
    s.setHeader('Content-Type', 'text/html');
    s.end('<p id="hello">Hello from the preview</p>');
  }).listen(8080);`);
  const ready = new Promise(resolve => wc.on('server-ready', (port, url) => resolve(url)));
  const server = await wc.spawn('node', ['server.js']);
  results.url = await ready;
  const frame = document.createElement('iframe');
  frame.id = 'preview';
  const loaded = new Promise(resolve => { frame.onload = resolve; });
  frame.src = results.url;
  document.body.append(frame);
  await loaded;
  results.loaded = true;
  await server.kill();
  results.exit = await server.exit;
  window.teardown = () => wc.teardown();
} catch (error) {
  results.failure = String(error && error.stack || error) + ' code=' + (error && error.code);
}
results.done = true;
"""


def test_a_page_with_the_login_cookie_shows_the_preview_in_an_iframe(
    lab_server: LabServer, browser, artifacts: Path
):
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
    # A token in a page URL logs the browser in: the login and _xsrf cookies.
    page.goto(f"{lab_server.url}jcm-client-test/cookie.html?token={lab_server.token}")
    assert {"_xsrf"} <= {c["name"] for c in context.cookies()}
    results: dict = {}
    try:
        page.set_content(
            "<!doctype html><html><body>"
            f"<script type='module'>{COOKIE_FLOW}</script></body></html>"
        )
        page.wait_for_function("window.results && window.results.done", timeout=FLOW_MS)
        results = page.evaluate("window.results")
        if results.get("containerId"):
            lab_server.created.append(results["containerId"])
        assert "failure" not in results, results["failure"]
        container_id = results["containerId"]
        assert results["url"].startswith(f"http://8080-{container_id}.localhost:")
        # The preview is on its own origin, loaded with the cookie its grant bought.
        hello = page.frame_locator("#preview").locator("#hello")
        assert hello.inner_text() == "Hello from the preview"
        assert results["exit"] == 137
        page.evaluate("window.teardown()")
        after = {c["id"] for c in lab_server.api("GET", "containers").json()}
        assert container_id not in after
    finally:
        (artifacts / "webcontainer-client-cookie.json").write_text(json.dumps(results, indent=2))
        (artifacts / "webcontainer-client-cookie-console.log").write_text("\n".join(console))
        context.close()
