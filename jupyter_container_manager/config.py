"""``c.ContainerManager.*``: every setting of the extension, each with its help."""

from __future__ import annotations

import getpass
import os
import re

from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, default, validate
from traitlets.config import Configurable

DEFAULT_IMAGE = "jupyter-container-manager/node:24"

_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
MIN_DISK = 16 * 1024**2


def parse_memory(value: str | int) -> int:
    """``"512m"`` -> 536870912 bytes; an int is taken as bytes."""
    if isinstance(value, int):
        return value
    match = _MEMORY.match(str(value))
    if not match:
        raise ValueError(f"not a memory size: {value!r} (use e.g. 512m, 1g or bytes)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


class ContainerManager(Configurable):
    """Settings of jupyter-container-manager (``c.ContainerManager.<name>``)."""

    image = Unicode(
        DEFAULT_IMAGE,
        help="""Image of new containers when a request names none. Any image with a POSIX
        shell works; Node.js in the image makes it a WebContainer. The default is built
        from the project's source tree, offline (Debian trixie, Node.js 24 LTS, npm,
        corepack, Python 3, git, user `node`; README, "The default image"). With a registry, set e.g. 'node:22' or 'node:22-alpine' (pulled
        on first use if `pull_missing_images`).""",
    ).tag(config=True)

    pull_missing_images = Bool(
        True,
        help="Pull an image that is not on the engine before creating a container from it.",
    ).tag(config=True)

    user = Unicode(
        "auto",
        help="""User the container's processes (files, spawn, terminals) run as. "auto":
        the user the image declares (USER), else its `node` user (official Node.js
        images), else root. Or a name or uid[:gid] ("node", "1000:1000"), or "root".
        With a user that is not root the workdir is made theirs at create.""",
    ).tag(config=True)

    agent = Bool(
        True,
        help="""Run file operations and processes (not terminals) through a resident agent
        in each container (a Node.js script on one long-lived exec) instead of a
        `docker exec` per call: a fork instead of ~85 ms. Images without `node` fall back
        to `docker exec` with the same behaviour. False: always `docker exec`.""",
    ).tag(config=True)

    warm_pool_size = Int(
        1,
        help="""Started containers of the default `image` kept waiting, so `boot` and
        `POST /containers` with the defaults (no name, env, ports or other workdir) answer
        at once; refilled in the background. They do not count against
        max_containers_per_user; a server that stops removes them (after a crash the next
        server adopts them). 0: no pool.""",
    ).tag(config=True)

    workdir = Unicode(
        "/workspace",
        help="Working directory of new containers, created at start; API paths are taken from it.",
    ).tag(config=True)

    memory_limit = Unicode(
        "512m",
        help="""Memory limit of each container (e.g. '512m', '2g'). Swap is set equal, so a
        container gets no extra swap.""",
    ).tag(config=True)

    disk_limit = Unicode(
        "",
        help="""Disk quota of each container (e.g. '2g', at least 16m); writing past it
        fails with ENOSPC (No space left on device). Where the engine takes
        `--storage-opt size` (overlay2 on xfs mounted with pquota) that bounds the
        container's whole writable layer. Elsewhere (overlay2 on ext4) the workdir and /tmp
        share one ext4 file system of this size, a sparse image file in a Docker volume of
        the container's own, loop-mounted by this server, which must then run as root on
        the engine's host; the rest of the root file system is not bounded there. Either
        way /dev/shm is at most 64 MiB (less when the quota is less). Empty: no quota.""",
    ).tag(config=True)

    cpu_shares = Int(
        512, help="Relative CPU weight of each container (Docker --cpu-shares)."
    ).tag(config=True)

    pids_limit = Int(
        512, help="Maximum number of processes in one container (Docker --pids-limit)."
    ).tag(config=True)

    cpu_limit = Float(
        1.0,
        help="""Hard CPU cap of each container in cores (Docker --cpus), e.g. 0.5 or 2.
        0: no cap (only `cpu_shares` weighs containers against each other).""",
    ).tag(config=True)

    nofile_limit = Int(
        4096,
        help="""Open files one process in a container may have (soft and hard `nofile`
        ulimit). 0: the engine's default.""",
    ).tag(config=True)

    log_max_size = Unicode(
        "10m",
        help="""Size at which the engine rotates a container's log (json-file `max-size`,
        e.g. '10m'). The log holds only the keep-alive process's output.""",
    ).tag(config=True)

    log_max_files = Int(
        3, help="Rotated log files kept per container (json-file `max-file`, at least 1)."
    ).tag(config=True)

    allowed_images = List(
        Unicode(),
        help="""Images containers may be created from, as shell-style patterns (e.g.
        ['jupyter-container-manager/*', 'node:2?-alpine']); a name without a tag also
        matches as name:latest. Any other image, the default `image` included, is refused
        with 403 (code EIMAGE_NOT_ALLOWED) before anything is created. Empty: any image.""",
    ).tag(config=True)

    max_containers_per_user = Int(
        10,
        help="How many containers one owner may have at once; creating one more answers 429. 0: no limit.",
    ).tag(config=True)

    idle_timeout = Int(
        0,
        help="""Stop a running container after this many seconds without API activity
        (0: never). Its files stay; start it again to continue.""",
    ).tag(config=True)

    idle_remove_timeout = Int(
        0,
        help="""Remove a container this many seconds after `idle_timeout` stopped it, if
        nobody used it meanwhile (0: never; its files go with it). Only containers the
        idle reaper stopped are removed: it stops them with SIGUSR1 (exit code 138), a mark
        Docker keeps across server restarts. Containers stopped through the API, by hand,
        killed or crashed are never removed. Any request naming a stopped container puts
        its removal off; one started again is not removed.""",
    ).tag(config=True)

    on_shutdown = Enum(
        ["keep", "stop", "remove"],
        "keep",
        help="""What a stopping Jupyter server does with its owner's containers. "keep"
        (default): they go on running and the next server adopts them. "stop": they are
        stopped (files kept; started again on request). "remove": they are deleted with
        their files. Bounded: the server waits at most 20 s for the engine.""",
    ).tag(config=True)

    publish_ports = Bool(
        False,
        help="""Also publish announced container ports on host ports (8000 and up, bound to
        127.0.0.1). Off by default: previews go through the authenticated proxy.""",
    ).tag(config=True)

    proxy_forward_credentials = Bool(
        False,
        help="""Forward the Jupyter credentials of a preview request to the container: the
        Jupyter (and JupyterHub) login and `_xsrf` cookies, an Authorization header or a
        `token` query argument holding a Jupyter token, X-XSRFToken and `_xsrf`. The app's
        own cookies, bearer tokens and `?token=` (Vite's hot-reload socket uses one) always
        pass. Off by default: a preview is code running in the container, and with the
        user's token it could act as the user on the Jupyter server. With it on, the app
        may also set Jupyter's cookies (Set-Cookie). Turn it on only for trusted apps.""",
    ).tag(config=True)

    proxy_sandbox = Bool(
        True,
        help="""Mark every preview answer with `Content-Security-Policy: sandbox allow-scripts
        allow-forms allow-popups allow-modals allow-downloads` (no allow-same-origin). The
        browser then gives the page an opaque origin, so scripts in a preview cannot call
        the Jupyter API as the user even though they are served on the Jupyter origin. The
        cost: an opaque origin sends no cookies, so under cookie login a preview's own
        scripts, styles, fetches and hot-reload socket are refused (403) unless they carry
        a token, and it cannot use localStorage or its own cookies. Turn it off for trusted
        code (Vite, Next dev servers), or publish ports (`publish_ports`) instead.""",
    ).tag(config=True)

    preview_host = Unicode(
        "auto",
        help="""Where previews are served. Every (container, port) preview gets an origin of
        its own, at path /, so dev servers work unchanged (absolute URLs, hot-reload
        sockets, cookies, service workers). "auto": when the browser reached this server
        under a loopback name (localhost, 127.0.0.1, [::1]), previews are
        http://<port>-<id>.localhost:<server port>/ (browsers resolve *.localhost to this
        machine); under any other name, the path proxy. A template such as
        "{port}-{id}.preview.example.org" (wildcard DNS and TLS pointing at this server,
        see docs/previews.md): that origin. "path": always the path proxy
        /containers/{id}/proxy/{port}/ on the Jupyter origin.""",
    ).tag(config=True)

    @validate("preview_host")
    def _valid_preview_host(self, proposal):
        from .core.preview_hosts import PreviewHosts

        try:
            PreviewHosts(proposal["value"])
        except ValueError as err:
            raise TraitError(str(err)) from err
        return proposal["value"]

    preview_grant_lifetime = Float(
        300.0,
        help="""Seconds a preview URL handed out by the API stays valid before it is first
        opened. The URL carries a single-use signed grant, bound to this owner, the
        container and the port, that the preview origin trades for a cookie of its own.""",
    ).tag(config=True)

    preview_cookie_lifetime = Float(
        12 * 3600.0,
        help="""Seconds the cookie of a preview origin (made from a grant) stays valid.""",
    ).tag(config=True)

    preview_sandbox = Bool(
        False,
        help="""Also send the CSP sandbox of `proxy_sandbox` from previews on their own
        origin. Not needed there: a preview origin is cross-origin to Jupyter by
        construction, so its scripts cannot call the Jupyter API as the user.""",
    ).tag(config=True)

    preview_embedder_policy = Unicode(
        "credentialless",
        help="""Cross-Origin-Embedder-Policy sent with preview answers that set none (with
        Cross-Origin-Resource-Policy: cross-origin), so that cross-origin isolated pages
        (COEP require-corp, as WebContainer apps run) can embed previews in iframes.
        "credentialless" (as WebContainer's preview hosts), "require-corp", or "" for none.""",
    ).tag(config=True)

    docker_url = Unicode(
        "",
        help="""Docker engine address, e.g. 'unix:///var/run/docker.sock' or
        'tcp://127.0.0.1:2375'. Empty: DOCKER_HOST, else the local socket.""",
    ).tag(config=True)

    owner = Unicode(
        help="""Owner label of the containers this server creates and sees. Servers with
        different owners can share one Docker engine without seeing each other's
        containers. Default: JUPYTERHUB_USER, else the operating-system user.""",
    ).tag(config=True)

    docker_workers = Int(
        8,
        help="Threads that run blocking Docker calls (at least 2, so a slow call never blocks the others).",
    ).tag(config=True)

    docker_timeout = Float(
        60.0, help="Seconds to wait for one Docker engine call before giving up."
    ).tag(config=True)

    max_file_size = Int(
        1024**3,
        help="Largest file, in bytes, that one writeFile or readFile moves; past it, 413.",
    ).tag(config=True)

    max_json_body = Int(
        64 * 1024**2,
        help="Largest JSON request body in bytes (mount trees, base64 files); past it, 413.",
    ).tag(config=True)

    spawn_output_limit = Int(
        16 * 1024**2,
        help="""Bytes of output a waiting (non-streamed) spawn collects; past it the output is
        cut and `truncated: true` is set. Streamed spawns have no limit.""",
    ).tag(config=True)

    # --- the /container WebSocket ---------------------------------------------------

    ws_send_buffer = Int(
        4 * 1024**2,
        help="""Bytes of outgoing frames one WebSocket may have queued. Past it, replies and
        process output wait (the process is slowed down, not buffered), and shared pushes
        (terminal output, file changes) are dropped for that socket only, with a `dropped`
        count on its next terminal output.""",
    ).tag(config=True)

    ws_max_inflight = Int(
        32,
        help="""Requests one WebSocket may have running at once; past it the server stops
        reading that socket until one finishes.""",
    ).tag(config=True)

    ws_max_processes = Int(
        64, help="Processes one WebSocket may have running at once (0: no limit)."
    ).tag(config=True)

    ws_max_file_size = Int(
        16 * 1024**2,
        help="""Largest file, in bytes, that readFile sends over the WebSocket; larger files
        are read with GET /webcontainer/{id}/fs/readFile.""",
    ).tag(config=True)

    ws_ping_interval = Float(
        30.0,
        help="""Seconds between the pings the server sends on each /container socket (any
        WebSocket client answers them by itself). 0: no pings, and `ws_ping_timeout` does
        not apply.""",
    ).tag(config=True)

    ws_ping_timeout = Float(
        90.0,
        help="""Seconds a /container socket may go without answering a ping; then it is
        closed. Catches dead peers (a laptop that went away without closing) and clients
        that never read what the server sends. Checked at each ping, so a socket goes
        after at most `ws_ping_timeout` + `ws_ping_interval` seconds.""",
    ).tag(config=True)

    ws_idle_timeout = Float(
        3600.0,
        help="""Seconds a /container socket may go without a frame from its client while
        no process it spawned is running; then it is closed (code 4408). Its terminals
        and the container go on: a client that reconnects re-attaches. 0: never.""",
    ).tag(config=True)

    ws_send_timeout = Float(
        60.0,
        help="""Seconds a /container socket may go without its client taking any byte of
        what is queued for it (a client that stops reading while the server has
        something to say); then it is closed (code 4408). A slow client that keeps
        reading is never cut. 0: never.""",
    ).tag(config=True)

    http_body_timeout = Float(
        60.0,
        help="""Seconds a request body streamed to this extension (writeFile, the preview
        proxies) may go without a byte arriving; then the connection is cut. Time spent
        waiting for the container to take the bytes does not count, so large slow
        uploads that keep moving are never cut (as nginx's client_body_timeout). 0:
        never.""",
    ).tag(config=True)

    pty_replay_bytes = Int(
        256 * 1024,
        help="""Bytes of recent output each PTY terminal keeps, replayed to a socket that
        re-attaches (at least 256 KiB).""",
    ).tag(config=True)

    max_terminals_per_container = Int(
        16, help="PTY terminals one container may have open at once (0: no limit)."
    ).tag(config=True)

    terminal_timeout = Float(
        300.0,
        help="""Seconds one line of the line terminal (terminal-input) may run; then its
        process group is killed and it answers exit code 124.""",
    ).tag(config=True)

    watch_interval = Float(
        0.25,
        help="""Seconds between two looks at a watched directory (fs-operation watch) where
        the kernel cannot watch it (no node in the image, no agent, inotify refused), so
        it is polled. Shorter: changes reported sooner, more work in the container.""",
    ).tag(config=True)

    watch_ignore = List(
        Unicode(),
        ["node_modules", ".git"],
        help="""Globs a watch (fs-operation watch) neither looks into nor reports, unless the
        watch names its own (its `exclude`). A glob without "/" matches any name below the
        watched path ("node_modules": every such folder and all in it); one with "/" a path
        from the workdir ("src/**/*.gen.ts"); `*`, `?`, `**` and {a,b} as usual.""",
    ).tag(config=True)

    max_watches_per_container = Int(
        32, help="Distinct paths watched in one container at once (0: no limit)."
    ).tag(config=True)

    ports_interval = Float(
        0.25,
        help="Seconds between two looks at the listening ports of a joined container.",
    ).tag(config=True)

    # --- corporate networks ---------------------------------------------------------

    ca_certificates = Unicode(
        "",
        help="""A PEM bundle on the server's machine (e.g. your company's root CA, or
        '/etc/ssl/certs/ca-certificates.crt') that every new container trusts in addition
        to its image's own CAs. Each container gets its image's system bundle plus these
        certificates at /etc/jupyter-container-manager/ca-certificates.crt, and
        NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, REQUESTS_CA_BUNDLE, PIP_CERT, CURL_CA_BUNDLE
        and GIT_SSL_CAINFO naming it (node, npm, yarn, pnpm, Python, pip, curl, git,
        openssl). Read once at server start: a file that is missing or not PEM is logged
        as an error and every create answers 503 (CA_CERTIFICATES_INVALID) until it is
        fixed and the server restarted. Empty: containers trust only their image's CAs.""",
    ).tag(config=True)

    pass_proxy_env = Bool(
        True,
        help="""Pass the server's HTTP_PROXY, HTTPS_PROXY, NO_PROXY and ALL_PROXY (upper and
        lower case, as set) on to the environment of every new container. A request's own
        `env` wins (setting a proxy variable in either case replaces both of the server's).
        A proxy on the server's loopback address does not serve containers (their
        127.0.0.1 is their own); a warning says so at start.""",
    ).tag(config=True)

    extra_labels = Dict(
        help="Extra Docker labels put on every container this server creates.",
    ).tag(config=True)

    @default("owner")
    def _default_owner(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @validate("memory_limit")
    def _valid_memory(self, proposal):
        try:
            parse_memory(proposal["value"])
        except ValueError as err:
            raise TraitError(str(err)) from err
        return proposal["value"]

    @validate("disk_limit")
    def _valid_disk_limit(self, proposal):
        value = proposal["value"].strip()
        if value:
            try:
                size = parse_memory(value)
            except ValueError as err:
                raise TraitError(f"disk_limit: {err}") from err
            if size < MIN_DISK:
                raise TraitError(f"disk_limit must be empty (no quota) or at least 16m, "
                                 f"not {value!r}")
        return value

    @validate("workdir")
    def _valid_workdir(self, proposal):
        value = proposal["value"]
        if not value.startswith("/") or value.rstrip("/") == "":
            raise TraitError(f"workdir must be an absolute path below /, not {value!r}")
        return value.rstrip("/")

    @validate("pty_replay_bytes")
    def _valid_replay(self, proposal):
        if proposal["value"] < 256 * 1024:
            raise TraitError("pty_replay_bytes must be at least 262144 (256 KiB)")
        return proposal["value"]

    @validate("watch_interval", "ports_interval")
    def _valid_interval(self, proposal):
        if not 0.05 <= proposal["value"] <= 10:
            raise TraitError(f"{proposal['trait'].name} must be from 0.05 to 10 seconds")
        return proposal["value"]

    @validate("ws_ping_interval", "ws_ping_timeout", "ws_idle_timeout", "ws_send_timeout",
              "http_body_timeout")
    def _valid_timeout(self, proposal):
        if proposal["value"] < 0:
            raise TraitError(f"{proposal['trait'].name} must be 0 (off) or a positive number "
                             "of seconds")
        return proposal["value"]

    @validate("ws_send_buffer", "ws_max_inflight")
    def _valid_positive(self, proposal):
        if proposal["value"] < 1:
            raise TraitError(f"{proposal['trait'].name} must be at least 1")
        return proposal["value"]

    @validate("cpu_limit")
    def _valid_cpu_limit(self, proposal):
        if proposal["value"] < 0:
            raise TraitError("cpu_limit must be 0 (no cap) or a positive number of cores")
        return proposal["value"]

    @validate("nofile_limit")
    def _valid_nofile(self, proposal):
        if proposal["value"] != 0 and proposal["value"] < 64:
            raise TraitError("nofile_limit must be 0 (engine default) or at least 64")
        return proposal["value"]

    @validate("log_max_size")
    def _valid_log_size(self, proposal):
        try:
            parse_memory(proposal["value"])
        except ValueError as err:
            raise TraitError(f"log_max_size: {err}") from err
        return proposal["value"].strip()

    @validate("log_max_files")
    def _valid_log_files(self, proposal):
        if proposal["value"] < 1:
            raise TraitError("log_max_files must be at least 1")
        return proposal["value"]

    @validate("ca_certificates")
    def _valid_ca_certificates(self, proposal):
        value = proposal["value"].strip()
        return os.path.abspath(os.path.expanduser(value)) if value else ""

    @validate("docker_workers")
    def _valid_workers(self, proposal):
        if proposal["value"] < 2:
            raise TraitError("docker_workers must be at least 2")
        return proposal["value"]

    @property
    def memory_bytes(self) -> int:
        return parse_memory(self.memory_limit)

    @property
    def disk_bytes(self) -> int:
        """The disk quota in bytes (0: none)."""
        return parse_memory(self.disk_limit) if self.disk_limit else 0
