"""Real dev servers with real npm, previewed the WebContainer way, in Chromium: a plain
page on ANOTHER origin (127.0.0.1:<its own port>, ``ServerApp.allow_origin``) imports the
browser client from the Jupyter server, boots it with a token, mounts a project, runs
``npm install`` against the registry (through this machine's TLS-re-signing gateway,
hence ``ca_certificates``), starts the dev server and shows the ``server-ready`` URL in an
iframe, on the preview's own origin. The page is cross-origin isolated
(``COEP: require-corp`` and ``COOP: same-origin``), as every WebContainer app is.

1. The official WebContainer tutorial: Express + nodemon; an edit of index.js through the
   tutorial's textarea (``wc.fs.writeFile``) restarts the server, a second
   ``server-ready`` comes, the iframe's src is set again and shows the edited text.
2. React + Vite with ``npm run dev`` and no flags (Vite binds localhost in the container):
   the app renders in the iframe, and edits of App.jsx show WITHOUT a reload (React Fast
   Refresh over the preview origin's WebSocket): a marker on the frame's window and a
   clicked counter survive every edit. The time from the write to the change on screen
   is measured in the browser and printed (p50 target 500 ms).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.ui.conftest import LabServer, launch_lab, serving

pytestmark = pytest.mark.ui

IMAGE = "jupyter-container-manager/node:24"
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
INSTALL_MS = 180_000  # npm install on a loaded 2-core machine
FLOW_MS = INSTALL_MS + 120_000  # boot + install + the first server-ready
ISOLATION_HEADERS = {
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Opener-Policy": "same-origin",
}


# --- the app's own web server, on another loopback origin --------------------------


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pages: dict[str, tuple[bytes, dict[str, str]]] = {}


class _PageHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        found = self.server.pages.get(self.path.split("?")[0])
        if self.path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        if found is None:
            self.send_error(404)
            return
        body, headers = found
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page_server() -> Iterator[_PageServer]:
    """The app's pages, on a loopback origin of their own."""
    with serving(_PageServer(("127.0.0.1", 0), _PageHandler)) as server:
        yield server


@pytest.fixture(scope="module")
def page_origin(page_server) -> str:
    return f"http://127.0.0.1:{page_server.server_address[1]}"


@pytest.fixture(scope="module")
def dev_lab(tmp_path_factory, chromium_path, docker_client, page_origin) -> Iterator[LabServer]:
    try:
        docker_client.images.get(IMAGE)
    except Exception:  # noqa: BLE001 - docker.errors.ImageNotFound, or the engine
        pytest.skip(f"the image {IMAGE} is missing")
    with launch_lab(
        tmp_path_factory,
        manager={"image": IMAGE, "ca_certificates": HOST_CA_BUNDLE},
        args=(f"--ServerApp.allow_origin={page_origin}",),
        log_name="jupyter-lab-dev-servers.log",
    ) as server:
        yield server


def serve_page(page_server: _PageServer, path: str, *, title: str, body: str, script: str,
               files: dict, server: LabServer, headers: dict[str, str]) -> None:
    """Put a page of the app at ``path``: ``body``'s markup, then ``script`` as a module
    (with the server's URL and token, and ``files`` as the FileSystemTree to mount)."""
    script = (script.replace("__BASE__", server.url).replace("__TOKEN__", server.token)
              .replace("__INSTALL_MS__", str(INSTALL_MS))
              .replace("__FILES__", script_json(files)))
    page_server.pages[path] = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:8px} iframe{width:640px;height:220px;"
        "border:1px solid #888;display:block} textarea{width:640px;height:200px}</style>"
        f"</head><body>{body}<script type='module'>{script}</script></body></html>"
    ).encode(), headers


def script_json(value) -> str:
    """``value`` as a JavaScript literal that can sit inside a <script> element."""
    return json.dumps(value).replace("</", "<\\/")


# What both pages share: the client, result records, npm install as the tutorial runs it.
COMMON = r"""
import { WebContainer } from '__BASE__webcontainer-client/webcontainer.js?token=__TOKEN__';

const results = (window.results = {
  steps: [], ready: [], loads: [], isolated: window.crossOriginIsolated
});
const step = name => results.steps.push(name);
const timeout = (promise, ms, what) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error('timed out: ' + what)), ms))
]);
const keepOutput = (process, key) => {
  results[key] = '';
  process.output.pipeTo(new WritableStream({
    write(chunk) { results[key] = (results[key] + chunk).slice(-20000); }
  }));
};
const iframeEl = document.querySelector('iframe');
iframeEl.addEventListener('load', () => results.loads.push(Date.now()));
const files = __FILES__;

async function installDependencies(wc) {
  const started = performance.now();
  // The install is the tutorial's; its settings suit this machine's network, whose
  // gateway sometimes leaves a registry request hanging: npm waits 5 minutes for one by
  // default, here 30 s before it retries. No audit and no funding notice: two more calls.
  const env = {
    npm_config_fetch_timeout: '30000', npm_config_fetch_retries: '3',
    npm_config_audit: 'false', npm_config_fund: 'false'
  };
  const installProcess = await wc.spawn('npm', ['install'], { env });
  keepOutput(installProcess, 'installLog');
  try {
    const exitCode = await timeout(installProcess.exit, __INSTALL_MS__, 'npm install');
    results.installMs = Math.round(performance.now() - started);
    return exitCode;
  } catch (error) {
    // What npm was doing: its processes and the end of its debug log.
    const look = await wc.spawn('sh', ['-c',
      'ps -eo pid,stat,etime,args; tail -n 40 "$HOME"/.npm/_logs/*-debug-0.log'],
      { terminal: false });
    results.installDebug = '';
    look.output.pipeTo(new WritableStream({ write(c) { results.installDebug += c; } }));
    await timeout(look.exit, 15000, 'the npm diagnosis').catch(() => undefined);
    throw error;
  }
}
"""

# --- 1. the WebContainer tutorial: Express + nodemon --------------------------------

TUTORIAL_INDEX = """import express from 'express';
const app = express();
const port = 3111;

app.get('/', (req, res) => {
  res.send('Welcome to a WebContainers app! 🥳');
});

app.listen(port, () => {
  console.log(`App is live at http://localhost:${port}`);
});
"""
TUTORIAL_FILES = {
    "index.js": {"file": {"contents": TUTORIAL_INDEX}},
    "package.json": {"file": {"contents": json.dumps({
        "name": "example-app",
        "type": "module",
        "dependencies": {"express": "latest", "nodemon": "latest"},
        "scripts": {"start": "nodemon --watch './' index.js"},
    }, indent=2)}},
}
EDITED_TEXT = "Edited in the textarea: nodemon restarted me"

TUTORIAL = COMMON + r"""
const textareaEl = document.querySelector('textarea');
let webcontainerInstance;

async function startDevServer() {
  const serverProcess = await webcontainerInstance.spawn('npm', ['run', 'start']);
  keepOutput(serverProcess, 'serverLog');
  // Wait for `server-ready` event
  webcontainerInstance.on('server-ready', (port, url) => {
    results.ready.push({ port, url, at: Date.now() });
    iframeEl.src = url;
  });
}

async function writeIndexJS(content) {
  results.writes = (results.writes || 0) + 1;
  results.writeStarted = Date.now();
  await webcontainerInstance.fs.writeFile('/index.js', content);
  results.writeDone = Date.now();
}

try {
  textareaEl.value = files['index.js'].file.contents;
  textareaEl.addEventListener('input', e => {
    writeIndexJS(e.currentTarget.value).catch(error => {
      results.writeError = String(error) + ' code=' + error.code;
    });
  });
  webcontainerInstance = window.wc = await WebContainer.boot({
    serverUrl: '__BASE__', token: '__TOKEN__'
  });
  results.containerId = webcontainerInstance.containerId;
  step('boot');
  await webcontainerInstance.mount(files);
  step('mount');
  const exitCode = await installDependencies(webcontainerInstance);
  results.installExit = exitCode;
  if (exitCode !== 0) throw new Error('Installation failed');
  step('install');
  await startDevServer();
  step('start');
} catch (error) {
  results.failure = String(error && error.stack || error) + ' code=' + (error && error.code);
}
"""

# --- 2. React + Vite, npm run dev without flags ------------------------------------

APP_JSX = """import { useState } from 'react';

export default function App() {
  const [count, setCount] = useState(0);
  return (
    <main>
      <h1 id="title">__TITLE__</h1>
      <button id="count" onClick={() => setCount(c => c + 1)}>count is {count}</button>
    </main>
  );
}
"""
REACT_FILES = {
    "package.json": {"file": {"contents": json.dumps({
        "name": "react-vite-app",
        "private": True,
        "type": "module",
        "scripts": {"dev": "vite"},
        "dependencies": {"react": "^19.0.0", "react-dom": "^19.0.0"},
        "devDependencies": {"vite": "^8.0.0", "@vitejs/plugin-react": "^6.0.0"},
    }, indent=2)}},
    "vite.config.js": {"file": {"contents": (
        "import { defineConfig } from 'vite';\n"
        "import react from '@vitejs/plugin-react';\n\n"
        "export default defineConfig({ plugins: [react()] });\n"
    )}},
    "index.html": {"file": {"contents": (
        "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"UTF-8\" />\n"
        "    <title>React + Vite</title>\n  </head>\n  <body>\n    <div id=\"root\"></div>\n"
        "    <script type=\"module\" src=\"/src/main.jsx\"></script>\n  </body>\n</html>\n"
    )}},
    "src": {"directory": {
        "main.jsx": {"file": {"contents": (
            "import { StrictMode } from 'react';\n"
            "import { createRoot } from 'react-dom/client';\n"
            "import App from './App.jsx';\n\n"
            "createRoot(document.getElementById('root')).render(\n"
            "  <StrictMode><App /></StrictMode>\n);\n"
        )}},
        "App.jsx": {"file": {"contents": APP_JSX.replace("__TITLE__", "Hello from React")}},
    }},
}

REACT = COMMON + r"""
const APP_JSX = __APP_JSX__;
let wc;
// The test calls this: an edit of App.jsx through the client, timed from its start.
window.editApp = async title => {
  const started = Date.now();
  await wc.fs.writeFile('/src/App.jsx', APP_JSX.replace('__TITLE__', title));
  return { started, written: Date.now() };
};
try {
  wc = window.wc = await WebContainer.boot({
    workdirName: 'react-app', serverUrl: '__BASE__', token: '__TOKEN__'
  });
  results.containerId = wc.containerId;
  step('boot');
  await wc.mount(files);
  step('mount');
  const exitCode = await installDependencies(wc);
  results.installExit = exitCode;
  if (exitCode !== 0) throw new Error('Installation failed');
  step('install');
  wc.on('server-ready', (port, url) => {
    results.ready.push({ port, url, at: Date.now() });
    iframeEl.src = url;
  });
  const dev = await wc.spawn('npm', ['run', 'dev']);
  keepOutput(dev, 'serverLog');
  step('start');
} catch (error) {
  results.failure = String(error && error.stack || error) + ' code=' + (error && error.code);
}
"""


# --- helpers of the tests ------------------------------------------------------------


class Browsing:
    """A page of the app with what the test reads about it: console lines (the page's and
    its frames'), WebSockets, the preview's document answers and the frame's navigations."""

    def __init__(self, browser, port: int):
        self.port = port
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.console: list[str] = []
        self.sockets: list[str] = []
        self.documents: list[dict] = []
        self.navigations: list[str] = []
        page = self.page
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        page.on("websocket", lambda ws: self.sockets.append(ws.url))
        page.on("response", self._response)
        page.on("framenavigated", self._navigated)
        page.on("requestfailed", lambda r: self.console.append(
            f"requestfailed: {r.url} {r.failure}"))

    def _is_preview(self, url: str) -> bool:
        return url.startswith(f"http://{self.port}-")

    def _response(self, response) -> None:
        if self._is_preview(response.url) and response.request.resource_type == "document":
            headers = response.headers
            self.documents.append({
                "url": response.url, "status": response.status,
                "corp": headers.get("cross-origin-resource-policy"),
                "coep": headers.get("cross-origin-embedder-policy"),
            })

    def _navigated(self, frame) -> None:
        if frame != self.page.main_frame and self._is_preview(frame.url):
            self.navigations.append(frame.url)

    def results(self) -> dict:
        return self.page.evaluate("window.results || {}")

    def wait(self, condition: str, timeout_ms: int, what: str) -> dict:
        """Poll ``window.results`` until ``condition`` (a JS expression on ``r``) holds or
        the page reports a failure; the results then."""
        try:
            self.page.wait_for_function(
                f"(() => {{ const r = window.results; "
                f"return r && (r.failure || ({condition})); }})()",
                timeout=timeout_ms, polling=250,
            )
        except Exception as error:  # noqa: BLE001 - Playwright's TimeoutError
            results = self.results()
            pytest.fail(f"timed out waiting for {what}: {error}\n{summary(results)}")
        results = self.results()
        assert "failure" not in results, f"{results['failure']}\n{summary(results)}"
        return results

    def pause(self, ms: int) -> None:
        """Wait while Playwright takes in the browser's events (frames navigating...):
        the sync API learns of them only inside its own calls, never in time.sleep()."""
        self.page.wait_for_timeout(ms)

    def preview_frame(self):
        for frame in self.page.frames:
            if frame != self.page.main_frame and self._is_preview(frame.url):
                return frame
        return None

    def frame_value(self, expression: str, expected, timeout_s: float, what: str):
        """Poll ``expression`` in the preview frame (cross-origin: Playwright reads it
        through the frame's own context) until it equals ``expected``."""
        deadline = time.monotonic() + timeout_s
        seen = None
        while time.monotonic() < deadline:
            frame = self.preview_frame()
            if frame is not None:
                try:
                    seen = frame.evaluate(expression)
                except Exception as error:  # noqa: BLE001 - navigating, or not loaded yet
                    seen = f"<{type(error).__name__}>"
                if seen == expected:
                    return seen
            self.pause(100)
        pytest.fail(f"the preview never showed {what}: last {seen!r}; frames "
                    f"{[f.url for f in self.page.frames]}, preview documents "
                    f"{self.documents}\n{summary(self.results())}")

    def teardown(self) -> None:
        try:
            self.page.evaluate("window.wc && window.wc.teardown()")
        except Exception as error:  # noqa: BLE001 - the page may be gone already
            print(f"teardown from the page failed: {error}")
        self.context.close()


def summary(results: dict) -> str:
    shown = {k: v for k, v in results.items() if k not in ("installLog", "serverLog")}
    return (f"results: {json.dumps(shown)[:6000]}\n--- npm install ---\n"
            f"{results.get('installLog', '')[-3000:]}\n--- server ---\n"
            f"{results.get('serverLog', '')[-3000:]}")


def body_text(browsing: Browsing, expected: str, timeout_s: float = 60) -> str:
    return browsing.frame_value("document.body && document.body.innerText.trim()", expected,
                                timeout_s, repr(expected))


def check_isolated_embedding(browsing: Browsing, results: dict) -> None:
    """The page is cross-origin isolated and its preview iframe loaded there: every
    document answer of the preview, the grant's redirect included, says that such a page
    may embed it (Chromium blocks the frame at the first answer that does not)."""
    assert results["isolated"] is True
    statuses = {document["status"] for document in browsing.documents}
    assert {200, 307} <= statuses, browsing.documents
    for document in browsing.documents:
        assert document["corp"] == "cross-origin", document
        assert document["coep"] == "credentialless", document


EDITS = 10  # timed edits of App.jsx
LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1 in /proc/net


def listen_addresses(docker_client, container_id: str, port: int) -> list[str]:
    """The local addresses (as /proc/net/tcp{,6} spell them) of the sockets listening on
    ``port`` in the container."""
    box = docker_client.containers.get(f"jcm-{container_id}")
    table = box.exec_run(["cat", "/proc/net/tcp", "/proc/net/tcp6"]).output.decode()
    found = []
    for line in table.splitlines()[1:]:
        parts = line.split()
        if len(parts) > 3 and parts[3] == "0A" and ":" in parts[1]:
            address, _, hex_port = parts[1].rpartition(":")
            if hex_port and int(hex_port, 16) == port:
                found.append(address)
    return found


# --- the tests -------------------------------------------------------------------------


@pytest.mark.timeout(600)  # a lab, a container, npm install (up to 180 s) on a loaded machine
def test_the_webcontainer_tutorial_express_and_nodemon(
    dev_lab: LabServer, page_server, page_origin, browser, artifacts: Path
):
    server = dev_lab
    serve_page(page_server, "/tutorial", title="WebContainers tutorial",
               body="<h1>WebContainers tutorial</h1><div class='editor'><textarea>"
                    "I am a textarea</textarea></div><div class='preview'>"
                    "<iframe></iframe></div>",
               script=TUTORIAL, files=TUTORIAL_FILES, server=server, headers=ISOLATION_HEADERS)
    browsing = Browsing(browser, 3111)
    results: dict = {}
    try:
        browsing.page.goto(f"{page_origin}/tutorial")
        results = browsing.wait("r.ready.length >= 1", FLOW_MS, "the first server-ready")
        server.created.append(results["containerId"])
        first = body_text(browsing, "Welcome to a WebContainers app! 🥳")
        ready_before_edit = len(results["ready"])

        # The tutorial's editor: an edit of the textarea (here a paste of the new text,
        # one input event) writes index.js.
        edited = TUTORIAL_INDEX.replace("Welcome to a WebContainers app! 🥳", EDITED_TEXT)
        browsing.page.eval_on_selector("textarea", """(area, text) => {
            area.value = text;
            area.dispatchEvent(
                new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));
        }""", edited)
        results = browsing.wait(
            f"r.writeDone && r.ready.length > {ready_before_edit}", 90_000,
            "a server-ready after the edit (nodemon's restart)")
        second = body_text(browsing, EDITED_TEXT)
        results = browsing.results()
        browsing.page.screenshot(path=str(artifacts / "dev-servers-tutorial.png"))
    finally:
        (artifacts / "dev-servers-tutorial.json").write_text(json.dumps(results, indent=2))
        (artifacts / "dev-servers-tutorial-console.log").write_text("\n".join(browsing.console))
        browsing.teardown()

    print(f"\ntutorial: npm install {results['installMs']} ms; server-ready "
          f"{results['ready'][-1]['at'] - results['writeStarted']} ms after the write")
    assert results["steps"] == ["boot", "mount", "install", "start"]
    assert results["installExit"] == 0
    assert "writeError" not in results and results["writes"] == 1
    assert first == "Welcome to a WebContainers app! 🥳"
    assert second == EDITED_TEXT
    container_id = results["containerId"]
    urls = [ready["url"] for ready in results["ready"]]
    assert all(url.startswith(f"http://3111-{container_id}.localhost:") for url in urls), urls
    assert len(set(urls)) == len(urls)  # a fresh single-use grant each time
    after_write = [r for r in results["ready"] if r["at"] >= results["writeStarted"]]
    assert after_write, results["ready"]  # the restart's server-ready
    assert "restarting due to changes" in results["serverLog"], results["serverLog"][-2000:]
    # The iframe's src was set again and its new document loaded after the write.
    assert [t for t in results["loads"] if t >= after_write[0]["at"]], results["loads"]
    check_isolated_embedding(browsing, results)
    assert not [line for line in browsing.console if "pageerror" in line], browsing.console


@pytest.mark.timeout(600)
def test_react_vite_dev_server_hot_reloads_without_a_reload(
    dev_lab: LabServer, page_server, page_origin, browser, docker_client, artifacts: Path
):
    server = dev_lab
    serve_page(page_server, "/react", title="React + Vite",
               body="<h1>React + Vite</h1><iframe></iframe>",
               script=REACT.replace("__APP_JSX__", script_json(APP_JSX)),
               files=REACT_FILES, server=server, headers=ISOLATION_HEADERS)
    browsing = Browsing(browser, 5173)
    results: dict = {}
    latencies: list[int] = []
    try:
        browsing.page.goto(f"{page_origin}/react")
        results = browsing.wait("r.ready.length >= 1", FLOW_MS, "server-ready of Vite")
        server.created.append(results["containerId"])
        browsing.frame_value("document.getElementById('title')?.textContent",
                             "Hello from React", 60, "the React app")
        listening = listen_addresses(docker_client, results["containerId"], 5173)
        # Edits start once Vite's client has its hot-update socket (through the preview).
        deadline = time.monotonic() + 30
        while not [line for line in browsing.console if "[vite] connected." in line]:
            assert time.monotonic() < deadline, f"Vite never connected: {browsing.console}"
            browsing.pause(100)
        frame = browsing.preview_frame()
        # State that a reload would lose: a marker on the window and a clicked counter.
        frame.evaluate("""() => {
            window.__jcmMarker = 'no reload';
            window.__seen = {};
            const note = () => {
                const title = document.getElementById('title')?.textContent;
                if (title && !(title in window.__seen)) window.__seen[title] = Date.now();
            };
            new MutationObserver(note).observe(document.body,
                { subtree: true, childList: true, characterData: true });
        }""")
        for _ in range(3):
            frame.click("#count")
        browsing.frame_value("document.getElementById('count').textContent", "count is 3", 10,
                             "the counter at 3")
        navigations = len(browsing.navigations)

        for edit in range(1, EDITS + 1):
            # At a person's pace: file watchers (chokidar's handling of atomic writes) fold
            # changes of one file that come within ~100 ms of each other.
            browsing.pause(500)
            title = f"Edit number {edit}"
            timing = browsing.page.evaluate("title => window.editApp(title)", title)
            seen = None
            deadline = time.monotonic() + 30
            while seen is None and time.monotonic() < deadline:
                seen = browsing.preview_frame().evaluate(
                    "t => window.__seen && window.__seen[t]", title)
                if seen is None:
                    browsing.pause(20)
            assert seen is not None, f"{title!r} never showed\n{summary(browsing.results())}"
            latencies.append(seen - timing["started"])
        marker = browsing.preview_frame().evaluate("window.__jcmMarker")
        count = browsing.preview_frame().evaluate(
            "document.getElementById('count').textContent")
        title_now = browsing.preview_frame().evaluate(
            "document.getElementById('title').textContent")
        results = browsing.results()
        browsing.page.screenshot(path=str(artifacts / "dev-servers-react-vite.png"))
    finally:
        results["latenciesMs"] = latencies
        (artifacts / "dev-servers-react-vite.json").write_text(json.dumps(results, indent=2))
        (artifacts / "dev-servers-react-vite-console.log").write_text(
            "\n".join(browsing.console))
        browsing.teardown()

    p50 = statistics.median(latencies)
    print(f"\nreact-vite: npm install {results['installMs']} ms; write -> visible "
          f"{latencies} ms, p50 {p50:.0f} ms, max {max(latencies)} ms")
    assert results["steps"] == ["boot", "mount", "install", "start"]
    assert results["installExit"] == 0
    container_id = results["containerId"]
    assert results["ready"][0]["port"] == 5173
    assert results["ready"][0]["url"].startswith(f"http://5173-{container_id}.localhost:")
    # Vite bound the container's loopback only (no --host), and it still previews.
    assert listening, "nothing listened on 5173"
    assert set(listening) <= LOOPBACK, listening
    assert title_now == f"Edit number {EDITS}"
    assert marker == "no reload"  # the same window: Fast Refresh, no reload
    assert count == "count is 3"  # React state kept across the edits
    assert len(browsing.navigations) == navigations, browsing.navigations
    # The hot-update socket is Vite's own, on the preview's origin.
    assert [url for url in browsing.sockets
            if url.startswith(f"ws://5173-{container_id}.localhost:")], browsing.sockets
    updates = [line for line in browsing.console if "[vite] hot updated: /src/App.jsx" in line]
    assert len(updates) >= EDITS, browsing.console
    assert not [line for line in browsing.console if "page reload" in line], browsing.console
    check_isolated_embedding(browsing, results)
    assert not [line for line in browsing.console if "pageerror" in line], browsing.console
