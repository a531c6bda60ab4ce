"""``ContainerManager``: the settings (``c.ContainerManager.*``) and the one object that
REST handlers, the /container socket and the preview proxy call.

As jupyter_server's kernel manager, it is a ``LoggingConfigurable`` that the app builds
from ``c.ContainerManagerApp.container_manager_class``; a subclass swaps the backend it
runs containers on (:meth:`ContainerManager.make_backend`). Its parts (lifecycle, files,
processes, agents, warm pool, idle reaper, port tunnels) live in ``engine/`` and are
built here from that backend; callers reach them only through the methods below. There
is one way to delete (:meth:`delete_container`, which runs the removal hooks), one way to
mark a container as used (:meth:`touch`), and reads have no side effects.
"""

from __future__ import annotations

import asyncio
import getpass
import inspect
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from traitlets import Bool, Dict, Enum, Float, Int, List, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

from .core.errors import BadRequest, ContainerManagerError, ContainerNotFound, ImageNotFound
from .core.fstree import Tree, tree_to_tar
from .core.image_policy import image_allowed
from .core.models import ContainerInfo
from .core.sizes import ByteSize, parse_size
from .tasks import TaskOwner

if TYPE_CHECKING:
    from .core.snapshots import SnapshotInfo
    from .engine.backend import EngineBackend
    from .engine.file_streams import FileReader, FileWriter, ZipReader
    from .engine.metrics import MetricsStream
    from .engine.port_forward import LoopbackForward
    from .engine.ports import PortWatcher
    from .engine.processes import Process
    from .engine.terminals import LineTerminal, PtySession
    from .engine.watch import TreeWatcher

MIN_DISK = 16 * 1024**2  # the smallest disk_limit
DEFAULT_IMAGE = "jupyter-container-manager/node:24"
SHUTDOWN_TIMEOUT = 20.0  # seconds a stopping server gives on_shutdown
RemovalHook = Callable[[str], object]


class ContainerManager(LoggingConfigurable):
    """Containers of one owner, their files, processes, terminals and ports; and every
    setting of the extension (``c.ContainerManager.<name>``), each with its help."""

    image = Unicode(
        DEFAULT_IMAGE,
        help="""Image of new containers when a request names none. Any image with a POSIX
        shell works; Node.js in the image makes it a WebContainer. The default is built
        from the project's source tree, offline (Debian trixie, Node.js 24 LTS, npm,
        corepack, Python 3, git, user `node`; README, "The default image"). With a
        registry, set e.g. 'node:22' or 'node:22-alpine' (pulled on first use if
        `pull_missing_images`).""",
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
        `docker exec` per call (a create, a start and an inspect on the engine). Images without `node` fall back
        to `docker exec` with the same behaviour. False: always `docker exec`.""",
    ).tag(config=True)

    agent_lane = Bool(
        True,
        help="""Send the agent's file operations over a direct TCP connection to the
        container's address (a private port, for this server alone, behind a random
        secret) instead of through the engine's exec stream, where this server reaches
        that address (a single engine on this host). Any failure of it falls back to the
        exec stream. False: always the exec stream.""",
    ).tag(config=True)

    warm_pool_size = Int(
        1,
        min=0,
        help="""Started containers of the default `image` kept waiting, so `boot` and
        `POST /containers` with the defaults (no name, env, ports or other workdir) answer
        at once; refilled in the background. They do not count against
        max_containers_per_user; a server that stops removes them (after a crash the next
        server adopts them). 0: no pool. The hand-out renames the container on one
        engine, and labels its service on a swarm (engine/swarm_pool.py).""",
    ).tag(config=True)

    kernel_standby_in_pool = Bool(
        True,
        help="""In a server, each warm-pool container waits with a kernel bootstrap started
        (ipykernel imported, docs/kernels.md), so a "Python 3 (new container)" kernel
        starts in about a fork. A container handed out for anything else has it killed
        as the create answers. Costs one idle interpreter per pooled container (about
        60 MB) and its import at each refill.""",
    ).tag(config=True)

    workdir = Unicode(
        "/workspace",
        help="Working directory of new containers, created at start; API paths are taken from it.",
    ).tag(config=True)

    memory_limit = ByteSize(
        512 * 1024**2,
        help="""Memory limit of each container (e.g. '512m', '2g', or bytes; reads back in
        bytes). Swap is set equal, so a container gets no extra swap.""",
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
        512, min=0, help="Relative CPU weight of each container (Docker --cpu-shares)."
    ).tag(config=True)

    pids_limit = Int(
        512, help="Maximum number of processes in one container (Docker --pids-limit)."
    ).tag(config=True)

    cpu_limit = Float(
        1.0,
        min=0.0,
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
        3, min=1, help="Rotated log files kept per container (json-file `max-file`, at least 1)."
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
        min=0,
        help="How many containers one owner may have at once; creating one more answers 429. 0: no limit.",
    ).tag(config=True)

    max_snapshots_per_user = Int(
        10,
        min=0,
        help="""Snapshots (POST /containers/{id}/snapshots) one owner may keep; one more
        answers 429. A fork's own snapshot does not count. 0: no limit.""",
    ).tag(config=True)

    max_snapshot_size = ByteSize(
        4 * 1024**3,
        min=0,
        help="""Largest snapshot (bytes, or e.g. '2g'): what it adds to the image its
        container was made from. A larger one is removed again and answers 413. 0: no
        bound.""",
    ).tag(config=True)

    max_checkpoints_per_container = Int(
        20,
        min=2,
        help="""Checkpoints of the workdir one container keeps (at least 2). Past it the
        oldest is folded into the next: its copies that the next did not replace move
        there.""",
    ).tag(config=True)

    max_checkpoint_size = ByteSize(
        256 * 1024**2,
        min=0,
        help="""Bytes of file copies the checkpoints of one container keep. Past it the
        oldest checkpoints are folded into the next; a checkpoint that still does not fit
        answers 429 and records nothing.""",
    ).tag(config=True)

    checkpoint_ignore = List(
        Unicode(),
        ["node_modules", ".git"],
        help="""Names of files and folders a checkpoint neither records nor looks into
        (anywhere in the workdir); a restore leaves them alone.""",
    ).tag(config=True)

    idle_timeout = Int(
        0,
        min=0,
        help="""Stop a running container after this many seconds without API activity
        (0: never). Its files stay; start it again to continue.""",
    ).tag(config=True)

    idle_remove_timeout = Int(
        0,
        min=0,
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
        min=0.0,
        help="""Seconds a preview URL handed out by the API stays valid before it is first
        opened. The URL carries a single-use signed grant, bound to this owner, the
        container and the port, that the preview origin trades for a cookie of its own.""",
    ).tag(config=True)

    preview_cookie_lifetime = Float(
        12 * 3600.0,
        min=0.0,
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
        help="""Docker engine address, e.g. 'unix:///var/run/docker.sock',
        'tcp://127.0.0.1:2375', 'tcp://engine:2376' (TLS when DOCKER_TLS_VERIFY or
        DOCKER_CERT_PATH say so) or 'ssh://user@host'. Empty: DOCKER_HOST (with
        DOCKER_TLS_VERIFY and DOCKER_CERT_PATH), else the Docker context (`docker_context`,
        DOCKER_CONTEXT, or the CLI's current one), else the local socket.""",
    ).tag(config=True)

    docker_context = Unicode(
        "",
        help="""A Docker CLI context (`docker context ls`) whose engine to use, with its
        TLS material, when neither `docker_url` nor DOCKER_HOST is set. Empty:
        DOCKER_CONTEXT, else the CLI's current context.""",
    ).tag(config=True)

    backend = Enum(
        ["docker", "swarm"],
        "docker",
        help="""Where containers run. "docker": one Docker engine (`docker_url`).
        "swarm": a Docker Swarm, each container a service of one task placed by the
        swarm, every operation sent to the engine of the node that runs it (the
        `swarm_*` settings; docs/scale-out.md says what differs there).""",
    ).tag(config=True)

    swarm_manager_url = Unicode(
        "",
        help="""With backend "swarm": the engine of a swarm manager node, where services
        are created, e.g. 'unix:///run/docker-sw1.sock' or 'tcp://manager:2375'. Empty:
        `docker_url` (DOCKER_HOST, else the local socket).""",
    ).tag(config=True)

    swarm_node_engines = List(
        Unicode(),
        help="""With backend "swarm": the engines of the swarm's nodes (URLs as
        `docker_url`); each is asked its swarm node id. Nodes labelled
        `jupyter-container-manager.engine=<URL>` (`docker node update --label-add`) are
        found without being listed here. A container on a node with no known engine
        answers status "lost".""",
    ).tag(config=True)

    swarm_placement_constraints = List(
        Unicode(),
        help="""With backend "swarm": placement constraints of every container, as
        `docker service create --constraint` takes them (e.g. 'node.labels.jcm==yes',
        'node.role==worker'). Empty: any node.""",
    ).tag(config=True)

    swarm_placement_preferences = List(
        Unicode(),
        help="""With backend "swarm": placement preferences, as `docker service create
        --placement-pref` takes them (e.g. 'spread=node.labels.zone'). Empty: the swarm
        scheduler's own choice, which spreads tasks over the nodes (the one with the
        fewest running tasks first).""",
    ).tag(config=True)

    swarm_memory_reservation = ByteSize(
        128 * 1024**2,
        help="""With backend "swarm": memory reserved for each container (e.g. '128m'; 0:
        none); the scheduler places a container only on a node with that much
        unreserved. The limit is `memory_limit`.""",
    ).tag(config=True)

    swarm_cpu_reservation = Float(
        0.1,
        min=0.0,
        help="""With backend "swarm": CPUs (cores) reserved for each container (0: none);
        the scheduler places a container only on a node with that much unreserved. The
        limit is `cpu_limit`.""",
    ).tag(config=True)

    swarm_networks = List(
        Unicode(),
        help="""With backend "swarm": networks (swarm-scoped, e.g. an attachable overlay)
        every container joins. Empty: the engine's default for service tasks.""",
    ).tag(config=True)

    swarm_start_timeout = Float(
        60.0,
        min=1.0,
        help="""With backend "swarm": seconds a new container's task may take to run
        before the create fails (and its service is removed).""",
    ).tag(config=True)

    swarm_node_tls = Dict(
        help="""With backend "swarm": TLS material of the nodes' `tcp://` engines, by
        engine URL (as in `swarm_node_engines`, `swarm_manager_url` or a node's engine
        label), and "*" for every other `tcp://` engine: a directory holding ca.pem,
        cert.pem and key.pem (as DOCKER_CERT_PATH does), or a dict of `ca_cert`,
        `client_cert`, `client_key` (paths) and `verify` (default true). Checked when the
        backend is built. docs/scale-out.md shows a whole setup.""",
    ).tag(config=True)

    swarm_node_timeout = Float(
        10.0,
        min=0.1,
        help="""With backend "swarm": seconds a node's engine may leave a call unanswered
        before the node counts as down: its containers then answer status "lost" (with
        the node named in `reason`) and operations on them 503, at once, until the node
        answers again (every node is pinged every 2 s).""",
    ).tag(config=True)

    owner = Unicode(
        help="""Owner label of the containers this server creates and sees. Servers with
        different owners can share one Docker engine without seeing each other's
        containers. Default: JUPYTERHUB_USER, else the operating-system user.""",
    ).tag(config=True)

    docker_workers = Int(
        8,
        min=2,
        help="Threads that run blocking Docker calls (at least 2, so a slow call never blocks the others).",
    ).tag(config=True)

    freeze_startup_heap = Bool(
        True,
        help="""Freeze the objects the Jupyter server holds once it has started out of
        Python's garbage collector (gc.freeze), so a full collection walks only what came
        later: it no longer stalls every request for 50-190 ms under load. Process-wide;
        the frozen objects are the server's start (modules, classes, settings), never
        freed anyway.""",
    ).tag(config=True)

    docker_timeout = Float(
        60.0, min=0.0, help="Seconds to wait for one Docker engine call before giving up."
    ).tag(config=True)

    max_file_size = ByteSize(
        1024**3,
        min=1,
        help="Largest file (bytes, or e.g. '1g') that one writeFile or readFile moves; past it, 413.",
    ).tag(config=True)

    max_json_body = ByteSize(
        64 * 1024**2,
        min=1,
        help="Largest JSON request body (bytes, or e.g. '64m') (mount trees, base64 files); past it, 413.",
    ).tag(config=True)

    spawn_output_limit = ByteSize(
        16 * 1024**2,
        min=0,
        help="""Bytes of output a waiting (non-streamed) spawn collects; past it the output is
        cut and `truncated: true` is set. Streamed spawns have no limit.""",
    ).tag(config=True)

    # --- the /container WebSocket ---------------------------------------------------

    ws_send_buffer = ByteSize(
        4 * 1024**2,
        min=1,
        help="""Bytes of outgoing frames one WebSocket may have queued. Past it, replies and
        process output wait (the process is slowed down, not buffered), and shared pushes
        (terminal output, file changes) are dropped for that socket only, with a `dropped`
        count on its next terminal output.""",
    ).tag(config=True)

    ws_max_inflight = Int(
        32,
        min=1,
        help="""Requests one WebSocket may have running at once; past it the server stops
        reading that socket until one finishes.""",
    ).tag(config=True)

    ws_max_processes = Int(
        64, min=0, help="Processes one WebSocket may have running at once (0: no limit)."
    ).tag(config=True)

    ws_max_file_size = ByteSize(
        16 * 1024**2,
        min=1,
        help="""Largest file, in bytes, that readFile sends over the WebSocket; larger files
        are read with GET /webcontainer/{id}/fs/readFile.""",
    ).tag(config=True)

    ws_ping_interval = Float(
        30.0,
        min=0.0,
        help="""Seconds between the pings the server sends on each /container socket (any
        WebSocket client answers them by itself). 0: no pings, and `ws_ping_timeout` does
        not apply.""",
    ).tag(config=True)

    ws_ping_timeout = Float(
        90.0,
        min=0.0,
        help="""Seconds a /container socket may go without answering a ping; then it is
        closed. Catches dead peers (a laptop that went away without closing) and clients
        that never read what the server sends. Checked at each ping, so a socket goes
        after at most `ws_ping_timeout` + `ws_ping_interval` seconds.""",
    ).tag(config=True)

    ws_idle_timeout = Float(
        3600.0,
        min=0.0,
        help="""Seconds a /container socket may go without a frame from its client while
        no process it spawned is running; then it is closed (code 4408). Its terminals
        and the container go on: a client that reconnects re-attaches. 0: never.""",
    ).tag(config=True)

    ws_send_timeout = Float(
        60.0,
        min=0.0,
        help="""Seconds a /container socket may go without its client taking any byte of
        what is queued for it (a client that stops reading while the server has
        something to say); then it is closed (code 4408). A slow client that keeps
        reading is never cut. 0: never.""",
    ).tag(config=True)

    http_body_timeout = Float(
        60.0,
        min=0.0,
        help="""Seconds a request body streamed to this extension (writeFile, the preview
        proxies) may go without a byte arriving; then the connection is cut. Time spent
        waiting for the container to take the bytes does not count, so large slow
        uploads that keep moving are never cut (as nginx's client_body_timeout). 0:
        never.""",
    ).tag(config=True)

    pty_replay_bytes = ByteSize(
        256 * 1024,
        min=256 * 1024,
        help="""Bytes of recent output each PTY terminal keeps, replayed to a socket that
        re-attaches (at least 256 KiB).""",
    ).tag(config=True)

    max_terminals_per_container = Int(
        16, min=0, help="PTY terminals one container may have open at once (0: no limit)."
    ).tag(config=True)

    terminal_timeout = Float(
        300.0,
        min=0.0,
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
        32, min=0, help="Distinct paths watched in one container at once (0: no limit)."
    ).tag(config=True)

    ports_interval = Float(
        0.25,
        help="Seconds between two looks at the listening ports of a joined container.",
    ).tag(config=True)

    metrics_disk_interval = Float(
        10.0,
        min=0.0,
        help="""Seconds between two readings of the disk use in a container's live
        metrics (socket pushes) when it has no "loop" disk quota: the engine walks the
        container's writable layer for it. 0: no disk use in the pushes. A "loop" disk's
        use is read at every push (it costs nothing).""",
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

    extra_host_config = Dict(
        help="""Docker host-config options every new container gets on top of ours, as
        dockerspawner's `extra_host_config`: docker-py's keyword arguments of a
        container's HostConfig (e.g. {"shm_size": "1g"}, {"runtime": "runsc"},
        {"device_requests": [...]}). Applied after the extension's own (memory, CPU,
        pids, ulimits, log rotation, dropped capabilities, no-new-privileges), so a key
        given here replaces ours. This can open up the host: "privileged": True,
        "volumes" or "mounts" (the Docker socket, the host's files), "cap_add",
        "devices", "network_mode": "host", "pid_mode": "host" or "security_opt" each
        give code in the container power over the machine. Only an administrator sets
        it, for every user of the server, as with `allowed_images`. Unknown keys are
        refused when the server starts.""",
    ).tag(config=True)

    @default("owner")
    def _default_owner(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @validate("disk_limit")
    def _valid_disk_limit(self, proposal):
        value = proposal["value"].strip()
        if value:
            try:
                size = parse_size(value)
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

    @validate("watch_interval", "ports_interval")
    def _valid_interval(self, proposal):
        if not 0.05 <= proposal["value"] <= 10:
            raise TraitError(f"{proposal['trait'].name} must be from 0.05 to 10 seconds")
        return proposal["value"]

    @validate("nofile_limit")
    def _valid_nofile(self, proposal):
        if proposal["value"] != 0 and proposal["value"] < 64:
            raise TraitError("nofile_limit must be 0 (engine default) or at least 64")
        return proposal["value"]

    @validate("log_max_size")
    def _valid_log_size(self, proposal):
        try:
            parse_size(proposal["value"])
        except ValueError as err:
            raise TraitError(f"log_max_size: {err}") from err
        return proposal["value"].strip()

    @validate("ca_certificates")
    def _valid_ca_certificates(self, proposal):
        value = proposal["value"].strip()
        return os.path.abspath(os.path.expanduser(value)) if value else ""

    @property
    def memory_bytes(self) -> int:
        """``memory_limit`` in bytes (it reads back in bytes already)."""
        return self.memory_limit

    @property
    def disk_bytes(self) -> int:
        """The disk quota in bytes (0: none)."""
        return parse_size(self.disk_limit) if self.disk_limit else 0

    # --- the parts -------------------------------------------------------------------

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.tasks = TaskOwner(self.log)
        self._removal_hooks: list[RemovalHook] = []
        # Ports of a container that serve us, not the user (a kernel's ZMQ ports): never
        # announced as previews. Container id -> owner (e.g. a kernel id) -> ports.
        self._private_ports: dict[str, dict[str, frozenset[int]]] = {}
        self._pull_listeners: list[Callable[[dict], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None  # where pull progress is told
        self._stop_hooks: list[RemovalHook] = []
        self._pooled_hooks: list[Callable[[ContainerInfo], object]] = []
        self._hand_out_hooks: list[Callable[[ContainerInfo], object]] = []
        self._built = False

    def make_backend(self) -> EngineBackend:
        """The engine containers run on. Override in a subclass (named by
        ``c.ContainerManagerApp.container_manager_class``) to run them elsewhere."""
        if self.backend == "swarm":
            return self._make_swarm_backend()
        from .engine.docker_backend import DockerBackend
        from .engine.docker_create import DockerCreation
        from .engine.engine_address import resolve_engine

        return DockerBackend(resolve_engine(self.docker_url, context=self.docker_context),
                             workers=self.docker_workers,
                             timeout=self.docker_timeout,
                             creation=DockerCreation(self, self._network))

    def _make_swarm_backend(self) -> EngineBackend:
        from .engine.engine_address import resolve_engine
        from .engine.swarm_backend import SwarmBackend
        from .engine.swarm_create import SwarmCreation

        refused = [name for name, value in (("disk_limit", self.disk_limit),
                                            ("extra_host_config", self.extra_host_config),
                                            ("publish_ports", self.publish_ports)) if value]
        if refused:
            raise ValueError(
                f"c.ContainerManager.{', '.join(refused)}: not available with backend "
                "'swarm' (docs/scale-out.md)"
            )
        from .engine.swarm_tls import parse_node_tls

        return SwarmBackend(resolve_engine(self.swarm_manager_url or self.docker_url,
                                           context=self.docker_context),
                            list(self.swarm_node_engines), workers=self.docker_workers,
                            timeout=self.docker_timeout,
                            creation=SwarmCreation(self, self._network),
                            start_timeout=self.swarm_start_timeout,
                            node_timeout=self.swarm_node_timeout,
                            tls=parse_node_tls(self.swarm_node_tls))

    def _build(self) -> None:
        """Build the parts on first use (a manager made only to read settings builds
        nothing: no engine client, no CA bundle read)."""
        if self._built:
            return
        from .engine.agent import Agents
        from .engine.checkpoints import Checkpoints
        from .engine.containers import ContainerLifecycle
        from .engine.files import ContainerFiles
        from .engine.idle import IdleReaper
        from .engine.index import ContainerIndex
        from .engine.network_setup import NetworkSetup
        from .engine.pool import WarmPool
        from .engine.port_tunnel import PortTunnels
        from .engine.processes import ContainerProcesses
        from .engine.snapshots import SnapshotStore
        from .engine.terminals import LineTerminal
        from .engine.watch import KernelWatchers

        self._built = True
        # ca_certificates is read and checked here, once, at server start.
        self._network = NetworkSetup(self, self.log)
        self._backend = backend = self.make_backend()
        # The owner's containers, followed through the engine's events (started by
        # start(), or by the first call that reads them).
        self._index = ContainerIndex(backend, self.owner, self.log)
        self._lifecycle = ContainerLifecycle(backend, self, self._network, self._index)
        self._agents = Agents(backend, enabled=self.agent, lanes=self.agent_lane, ports=self)
        self._files = ContainerFiles(backend, self, self._agents, tasks=self.tasks)
        self._processes = ContainerProcesses(backend, self._agents)
        self._tunnels = PortTunnels(self._agents)
        self._kernel_watchers = KernelWatchers(self._agents)  # inotify in the containers
        self._removal_hooks.insert(0, self._processes.forget_container)
        # The hand-out: a rename on one engine, a service label on a swarm (swarm_pool.py).
        self._pool = WarmPool(self._lifecycle, self.warm_pool_size, self.image, self.log,
                              on_pooled=self._pooled_hooks, on_hand_out=self._hand_out_hooks)
        self._idle = IdleReaper(self._lifecycle, self.idle_timeout, self.log,
                                remove_timeout=self.idle_remove_timeout,
                                remove=self._remove_idle)
        self._line_terminal = LineTerminal(backend, timeout=self.terminal_timeout,
                                           output_limit=self.spawn_output_limit)
        self._snapshots = SnapshotStore(backend, self, self.log)
        self._checkpoints = Checkpoints(self._agents, self)

    def __getattr__(self, name: str):
        # The parts (``_lifecycle``, ``_files``...) exist once built; build on first use.
        if name in _PARTS and not self.__dict__.get("_built"):
            self._build()
            return getattr(self, name)
        raise AttributeError(name)

    @property
    def engine_url(self) -> str:
        """Where the engine is, for the log."""
        return self._backend.url

    @property
    def pool_ready(self) -> int:
        """Containers waiting in the warm pool now."""
        return self._pool.ready

    # --- the server's life -------------------------------------------------------------

    def start(self) -> None:
        """Start what runs for the server's whole life (needs the running event loop):
        the idle reaper, the warm pool, the sweep of temporaries an earlier server left."""
        self._loop = asyncio.get_running_loop()
        self._index.start(self.tasks)
        self._idle.start(self.tasks)
        self.tasks.spawn(self._sweep_temporaries(), "sweep temporaries at start")
        if self._network.problem is None and image_allowed(self.image, self.allowed_images):
            self._pool.start(self.tasks)

    def start_pool(self) -> None:
        """Start filling the warm pool (``start`` does, when the settings allow it)."""
        self._pool.start(self.tasks)

    def background(self, coro: Awaitable, name: str) -> asyncio.Task:
        """Run ``coro`` in the background, owned (kept, failure logged, cancelled at
        shutdown): work a request or socket leaves behind when it ends."""
        return self.tasks.spawn(coro, name)

    async def _sweep_temporaries(self) -> None:
        """At server start: remove from the running containers the temporaries of writes
        an earlier server left unfinished (killed mid-upload). Containers started later
        are swept on their first use (ContainerFiles.sweep_soon). Then the disks
        (engine/disk.py) of containers that are gone."""
        try:
            infos = await self._lifecycle.list()
        except ContainerManagerError as err:  # engine down: first uses sweep later
            self.log.debug("no sweep of temporaries at start: %r", err)
            return
        for info in infos:
            if info.status == "running":
                self._files.sweep_soon(info)
        try:
            await self._lifecycle.sweep_disks()
        except ContainerManagerError as err:  # the next server start tries again
            self.log.warning("disks of removed containers not swept: %r", err)
        try:
            await self._snapshots.sweep()
        except ContainerManagerError as err:
            self.log.warning("images of deleted snapshots not swept: %r", err)

    async def apply_shutdown_policy(self, timeout: float = SHUTDOWN_TIMEOUT) -> list[str]:
        """``on_shutdown``: stop or remove the owner's containers (their ids), at most
        ``timeout`` seconds in all; "keep" does nothing."""
        policy = self.on_shutdown
        if policy == "keep":
            return []

        async def apply(info: ContainerInfo) -> str | None:
            try:
                if policy == "remove":
                    await self.delete_container(info.id)
                elif info.status == "running":
                    await self._lifecycle.stop(info.id)
                else:
                    return None
            except Exception as err:  # noqa: BLE001 - one failure must not stop the rest
                self.log.warning("on_shutdown %s of %s failed: %s", policy, info.id, err)
                return None
            return info.id

        async def apply_all() -> list[str]:
            infos = await self._lifecycle.list()
            done = await asyncio.gather(*(apply(info) for info in infos))
            return [container_id for container_id in done if container_id]

        try:
            done = await asyncio.wait_for(apply_all(), timeout)
        except Exception as err:  # noqa: BLE001 - engine down or too slow: leave them
            self.log.warning("on_shutdown %s did not finish: %r", policy, err)
            return []
        self.log.info("on_shutdown %s: %d container(s)", policy, len(done))
        return done

    async def close(self) -> None:
        """Stop everything: background tasks, the pool (its containers removed), agents,
        tunnels, then the engine client."""
        if not self._built:
            await self.tasks.close()
            return
        await self._idle.close()
        await self._pool.close()
        await self._index.close()
        await self.tasks.close()
        await self._files.close()
        self._tunnels.close()
        self._kernel_watchers.close()
        self._agents.close()
        await self._backend.close()

    # --- containers --------------------------------------------------------------------

    def _follow_engine(self) -> None:
        """Start following the engine's events (the container index) if nothing has."""
        if not self._index.started:
            self._index.start(self.tasks)

    async def list_containers(self) -> list[ContainerInfo]:
        """The owner's containers: from the index of the engine's events (no engine
        call) while it follows them, else from the engine."""
        self._follow_engine()
        return await self._lifecycle.list()

    async def get_container(self, container_id: str) -> ContainerInfo:
        """The owner's container with that id, else ContainerNotFound, from the engine
        now (its state right after an exec ended, say). Not activity."""
        self._follow_engine()
        return await self._lifecycle.get(container_id, fresh=True)

    async def require_running(self, container_id: str, *, fresh: bool = False
                              ) -> ContainerInfo:
        """The owner's container with that id if it runs: ContainerNotFound (404), else
        ContainerNotRunning (409). From the index of the engine's events while it follows
        them (a container the index says is not running is asked about again);
        ``fresh``: from the engine now (its address after it may have moved)."""
        self._follow_engine()
        return await self._lifecycle.require_running(container_id, fresh=fresh)

    async def create_container(
        self,
        *,
        name: str | None = None,
        image: str | None = None,
        env: dict[str, str] | None = None,
        files: Tree | None = None,
        ports: list[int] | None = None,
        workdir: str | None = None,
        snapshot: str | None = None,
    ) -> ContainerInfo:
        """Create and start a container (from the warm pool when the request asks for the
        defaults, from the owner's ``snapshot`` when one is named) and write ``files``
        into its workdir before answering; a container whose files cannot be written is
        removed again."""
        self._loop = asyncio.get_running_loop()  # a pull's progress is told on it
        self._network.check()  # an unusable ca_certificates: not even a pooled one
        self._follow_engine()
        if files:
            tree_to_tar(files)  # refuse a bad tree before creating anything
        if snapshot is not None:
            if image is not None or workdir is not None:
                raise BadRequest("A container from a snapshot takes its image and workdir "
                                 "from it: give no 'image'", code="EINVAL")
            found = await self._snapshots.get(snapshot)
            async with self._lifecycle.quota_slot() as slot:
                return await self._start_from_snapshot(found, slot, name=name, env=env,
                                                       ports=ports, files=files)
        info = None
        if self._poolable(name=name, image=image, env=env, ports=ports, workdir=workdir):
            async with self._lifecycle.quota_slot() as slot:
                info = await self._pool.take(slot)
        if info is None:
            info = await self._lifecycle.create(
                name=name, image=image, env=env, ports=ports, workdir=workdir
            )
        self.touch(info.id)  # made now: its idle clock starts now
        if files:
            try:
                # In place: nobody sees this container before its files are written,
                # and it is removed if they cannot be (no temporaries needed).
                await self._files.mount(info, files, atomic=False)
            except ContainerManagerError:
                await self.delete_container(info.id)
                raise
        return info

    def _poolable(self, *, name, image, env, ports, workdir) -> bool:
        """Whether a warm-pool container is what this create asks for (the defaults)."""
        return (
            not name
            and not env
            and not ports
            and workdir in (None, self.workdir)
            and image in (None, self.image)
            and image_allowed(self.image, self.allowed_images)
        )

    # --- snapshots and checkpoints (engine/snapshots.py, engine/checkpoints.py) ------

    async def _start_from_snapshot(self, snapshot: SnapshotInfo, slot, *, files=None,
                                   **options) -> ContainerInfo:
        """A new container of the snapshot in a quota place already held, with its
        files; removed again when they cannot be written."""
        try:
            info = await self._lifecycle.create_in(slot, snapshot=snapshot, **options)
        except ImageNotFound:
            await self._snapshots.get(snapshot.id)  # 404/410 when its image went away
            raise
        self.touch(info.id)
        try:
            if snapshot.files == "copy":
                await self._snapshots.copy_workdir_in(info)
            if files:
                await self._files.mount(info, files, atomic=False)
        except ContainerManagerError:
            await self.delete_container(info.id)
            raise
        return info

    async def take_snapshot(self, container_id: str, name: str | None = None) -> SnapshotInfo:
        """Save the owner's container's file system (see engine/snapshots.py)."""
        self._follow_engine()
        info = await self._lifecycle.get(container_id, fresh=True)
        return await self._snapshots.take(info, name)

    async def list_snapshots(self) -> list[SnapshotInfo]:
        return await self._snapshots.list()

    async def get_snapshot(self, snapshot_id: str) -> SnapshotInfo:
        return await self._snapshots.get(snapshot_id)

    async def delete_snapshot(self, snapshot_id: str) -> None:
        await self._snapshots.delete(snapshot_id)

    async def fork_container(self, container_id: str, count: int) -> list[ContainerInfo]:
        """``count`` new containers of the container's file system as it is now, each
        with its own id, name and limits; none of its live processes. The quota is
        checked for all of them first: past it, QuotaExceeded and nothing is made; one
        that fails takes the others with it."""
        self._follow_engine()
        info = await self._lifecycle.get(container_id, fresh=True)
        async with self._lifecycle.quota_slots(count) as slots:
            snapshot = await self._snapshots.take(info, f"fork of {info.name}", kind="fork")
            try:
                made = await asyncio.gather(
                    *(self._start_from_snapshot(snapshot, slot,
                                                name=f"{info.name}-fork-{number}")
                      for number, slot in enumerate(slots, 1)),
                    return_exceptions=True)
            finally:
                # Its image stays while the copies use it (swept at a later start).
                await self._snapshots.delete(snapshot.id)
        failed = [m for m in made if isinstance(m, BaseException)]
        if failed:
            for copy in made:
                if isinstance(copy, ContainerInfo):
                    await self.delete_container(copy.id)
            raise failed[0]
        return list(made)

    async def checkpoint(self, container_id: str) -> dict:
        """Record the workdir's files changed since the last checkpoint."""
        info = await self.require_running(container_id)
        return await self._checkpoints.create(info)

    async def list_checkpoints(self, container_id: str) -> list[dict]:
        info = await self.require_running(container_id)
        return await self._checkpoints.list(info)

    async def restore_checkpoint(self, container_id: str, checkpoint: str,
                                 paths: list[str] | None = None) -> list[dict]:
        """Bring the workdir, or ``paths`` of it, back to a checkpoint; what changed, as
        ``[{path, kind}]`` (the kinds of an fs-change)."""
        info = await self.require_running(container_id)
        return await self._checkpoints.restore(info, checkpoint, paths)

    async def start_container(self, container_id: str) -> ContainerInfo:
        return await self._lifecycle.start(container_id)

    async def stop_container(self, container_id: str) -> ContainerInfo:
        info = await self._lifecycle.stop(container_id)
        await self._run_hooks(self._stop_hooks, container_id, "stop")
        return info

    async def restart_container(self, container_id: str) -> ContainerInfo:
        info = await self._lifecycle.restart(container_id)
        await self._run_hooks(self._stop_hooks, container_id, "stop")
        return info

    async def delete_container(self, container_id: str) -> None:
        """Remove the container with its files, then run the removal hooks (sockets,
        terminals, watchers, processes and previews of it end). The only way to delete."""
        await self._lifecycle.delete(container_id)
        await self._container_removed(container_id)

    async def _remove_idle(self, container_id: str) -> None:
        """The idle reaper's removal: a delete, hooks included; one removed meanwhile by
        someone else is no error."""
        try:
            await self.delete_container(container_id)
        except ContainerNotFound:
            await self._container_removed(container_id)

    def on_container_removed(self, hook: RemovalHook) -> None:
        """Call ``hook(container_id)`` (a function or coroutine function) after a removal,
        so sessions, processes, watchers and proxies of that container can end."""
        self._removal_hooks.append(hook)

    def on_pull_progress(self, listener: Callable[[dict], None]) -> None:
        """Call ``listener(record)`` on the event loop as an image pull goes on
        (engine/image_pull.py has the record's fields; status "failed" has a message)."""
        self._pull_listeners.append(listener)

    def report_pull(self, record: dict) -> None:
        """Tell the pull listeners, from any thread (pulls run in engine threads)."""
        loop = self._loop
        if loop is None or loop.is_closed() or not self._pull_listeners:
            return

        def tell() -> None:
            for listener in list(self._pull_listeners):
                try:
                    listener(record)
                except Exception:  # noqa: BLE001 - a listener's bug must not stop the pull
                    self.log.exception("a pull progress listener failed")

        loop.call_soon_threadsafe(tell)

    def on_container_stopped(self, hook: RemovalHook) -> None:
        """Call ``hook(container_id)`` after a stop or restart through this manager, so
        what remembers where the container was (the proxy's addresses) forgets it."""
        self._stop_hooks.append(hook)

    def on_pooled(self, hook: Callable[[ContainerInfo], object]) -> None:
        """Call ``hook(info)`` (a function or coroutine function) once a container the
        warm pool started waits in it; awaited by the refill."""
        self._pooled_hooks.append(hook)

    def on_pool_hand_out(self, hook: Callable[[ContainerInfo], object]) -> None:
        """Await ``hook(info)`` when the warm pool hands a container out, before the
        create that took it answers."""
        self._hand_out_hooks.append(hook)

    async def _container_removed(self, container_id: str) -> None:
        await self._run_hooks(self._removal_hooks, container_id, "removal")

    async def _run_hooks(self, hooks: list[RemovalHook], container_id: str, what: str) -> None:
        for hook in list(hooks):
            try:
                result = hook(container_id)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # one failing hook must not keep the others from running
                self.log.exception("%s hook %r failed for %s", what, hook, container_id)

    def touch(self, container_id: str) -> None:
        """A request named this container: it is in use (for ``idle_timeout``). The one
        way to mark activity; called where requests arrive (REST, socket, proxy)."""
        self._idle.touch(container_id)

    # --- files (Node's fs.promises semantics; paths relative to the workdir) ---------

    async def mount(self, info: ContainerInfo, tree: Tree, mount_point: str = "") -> None:
        await self._files.mount(info, tree, mount_point)

    async def mount_zip(self, info: ContainerInfo, data: bytes, mount_point: str = "") -> None:
        await self._files.mount_zip(info, data, mount_point)

    async def write_file(self, info: ContainerInfo, path: str, data: bytes) -> None:
        await self._files.write_file(info, path, data)

    async def write_file_stream(self, info: ContainerInfo, path: str, size: int | None
                                ) -> FileWriter:
        return await self._files.write_file_stream(info, path, size)

    async def stream_file(self, info: ContainerInfo, path: str) -> FileReader:
        return await self._files.stream_file(info, path)

    async def readdir(self, info: ContainerInfo, path: str, with_types: bool = False) -> list:
        return await self._files.readdir(info, path, with_types)

    async def mkdir(self, info: ContainerInfo, path: str, recursive: bool = False) -> None:
        await self._files.mkdir(info, path, recursive)

    async def rm(self, info: ContainerInfo, path: str, recursive: bool = False,
                 force: bool = False) -> None:
        await self._files.rm(info, path, recursive, force)

    async def rename(self, info: ContainerInfo, old: str, new: str) -> None:
        await self._files.rename(info, old, new)

    async def stat(self, info: ContainerInfo, path: str) -> dict:
        return await self._files.stat(info, path)

    async def export(self, info: ContainerInfo, path: str = "") -> dict:
        return await self._files.export(info, path)

    async def export_zip(self, info: ContainerInfo, path: str = "") -> ZipReader:
        return await self._files.export_zip(info, path)

    # --- processes ---------------------------------------------------------------------

    async def spawn(self, info: ContainerInfo, command: str, args: list[str], **options
                    ) -> Process:
        """Start argv in the container (``cwd``, ``env``, ``terminal``): a Process whose
        output is read by iterating it."""
        return await self._processes.spawn(info, command, args, **options)

    async def run(self, info: ContainerInfo, command: str, args: list[str], **options) -> dict:
        """Run argv to its end: ``{exitCode, output}`` (``timeout``, ``output_limit``)."""
        return await self._processes.run(info, command, args, **options)

    def process(self, container_id: str, pid: int) -> Process | None:
        """A running process spawned in that container, by its pid."""
        return self._processes.get(container_id, pid)

    # --- terminals, watchers, ports ----------------------------------------------------

    @property
    def line_terminal(self) -> LineTerminal:
        """The line terminal (``terminal-input``) of every joined container."""
        return self._line_terminal

    def pty_session(self, info: ContainerInfo, *, cols: int, rows: int,
                    on_exit: Callable) -> PtySession:
        """A PTY terminal in the container (``await session.start()`` to run it)."""
        from .engine.terminals import PtySession

        return PtySession(self._backend, info, cols=cols, rows=rows,
                          replay_limit=self.pty_replay_bytes, on_exit=on_exit)

    async def end_orphan_shells(self, info: ContainerInfo) -> None:
        """End the PTY shells an earlier server left running in the container."""
        from .engine.terminals import end_orphan_shells

        await end_orphan_shells(self._backend, info)

    def watch_tree(self, info: ContainerInfo, absolute: str, on_changes: Callable,
                   on_end: Callable, *, exclude=(), include=()) -> TreeWatcher:
        """A started watcher of ``absolute`` in the container: by the kernel (inotify)
        where it can, else polled every ``watch_interval``; ``exclude`` and ``include``
        globs choose what it looks into and reports."""
        from .engine.watch import TreeWatcher

        watcher = TreeWatcher(self._backend, info.docker_id, info.workdir, absolute,
                              self.watch_interval, on_changes, on_end,
                              kernel=self._kernel_watchers, exclude=exclude,
                              include=include, tasks=self.tasks)
        watcher.start()
        return watcher

    def hide_ports(self, container_id: str, owner: str, ports) -> None:
        """Ports of the container that serve this server (e.g. a kernel's, ``owner`` its
        id), not the user: left out of port announcements and listings until shown
        again by :meth:`show_ports` with the same ``owner``."""
        self._private_ports.setdefault(container_id, {})[owner] = frozenset(ports)

    def show_ports(self, container_id: str, owner: str) -> None:
        owners = self._private_ports.get(container_id, {})
        owners.pop(owner, None)
        if not owners:
            self._private_ports.pop(container_id, None)

    def private_ports(self, container_id: str) -> frozenset[int]:
        owners = self._private_ports.get(container_id)
        return frozenset().union(*owners.values()) if owners else frozenset()

    def watch_ports(self, info: ContainerInfo, on_change: Callable, on_end: Callable
                    ) -> PortWatcher:
        """A started watcher of the container's listening ports (``ports_interval``);
        its private ports (:meth:`hide_ports`) are never reported."""
        from .engine.ports import PortWatcher

        def public_change(opened, closed):
            private = self.private_ports(info.id)
            opened = [port for port in opened if port not in private]
            closed = [port for port in closed if port not in private]
            if opened or closed:
                return on_change(opened, closed)
            return None

        watcher = PortWatcher(self._backend, info, self.ports_interval, public_change,
                              on_end, tasks=self.tasks)
        watcher.start()
        return watcher

    async def listening_ports(self, info: ContainerInfo) -> list[int]:
        """The ports something listens on in the container now (running ones only),
        its private ones (:meth:`hide_ports`) left out."""
        from .engine.ports import listening_ports

        private = self.private_ports(info.id)
        return [port for port in await listening_ports(self._backend, info)
                if port not in private]

    async def open_port(self, info: ContainerInfo, port: int, timeout: float):
        """A stream (Tornado IOStream) to ``port`` in a running container, whether its
        server listens on all addresses or on the container's loopback only."""
        return await self._tunnels.open(info.docker_id, self._backend.address_of(info),
                                         port, timeout)

    async def forward_ports(self, info: ContainerInfo, ports) -> LoopbackForward:
        """Listeners on this server's ``127.0.0.1``, one per port of the running
        container, whose connections the container's agent carries to that port on the
        container's loopback (engine/port_forward.py): for clients that connect by
        address, where the container's own address is not reachable (a swarm).
        ``.local`` maps container ports to local ones; ``close()`` ends them.
        Unprocessable when the container has no agent (an image without ``node``)."""
        from .core.errors import Unprocessable

        if await self._agents.get(info.docker_id) is None:
            raise Unprocessable(
                f"Container {info.id} has no resident agent (its image needs node, and "
                "c.ContainerManager.agent must be on): its ports cannot be reached from "
                "this server")
        return self._tunnels.forward(info.docker_id, ports)

    async def container_logs(self, info: ContainerInfo, tail: int | None = None) -> bytes:
        """What the container's main process printed (stdout and stderr)."""
        from .engine.backend import BackendNotFound

        try:
            return await self._backend.logs(info.docker_id, tail=tail)
        except BackendNotFound as err:
            raise ContainerNotFound(info.id) from err

    async def container_metrics(self, info: ContainerInfo) -> dict:
        """One reading of a running container's CPU, memory, processes, disk and network
        (engine/metrics.py); the engine takes about a second."""
        from .core.errors import ContainerNotRunning
        from .engine.backend import BackendConflict, BackendNotFound
        from .engine.metrics import read_metrics

        try:
            return await read_metrics(self._backend, info)
        except BackendNotFound as err:
            raise ContainerNotFound(info.id) from err
        except BackendConflict as err:
            raise ContainerNotRunning(info.id, "not running") from err

    def stream_metrics(self, info: ContainerInfo, on_sample: Callable, on_end: Callable
                       ) -> MetricsStream:
        """A started stream of the container's metrics: one engine stats stream."""
        from .engine.metrics import MetricsStream

        stream = MetricsStream(self._backend, info, on_sample, on_end,
                               disk_interval=self.metrics_disk_interval)
        stream.start()
        return stream

    def container_address(self, info: ContainerInfo) -> str:
        """The container's address where this server reaches its ports directly ("" when
        there is none from here, e.g. on a swarm node: then only ``open_port`` reaches
        them)."""
        return self._backend.address_of(info)

    async def port_reachable(self, info: ContainerInfo, port: int) -> bool:
        """Whether a preview of ``port`` reaches a server in the container now."""
        return await self._tunnels.reachable(info.docker_id, self._backend.address_of(info),
                                             port)


# Attributes that exist once the parts are built (ContainerManager._build).
_PARTS = frozenset({"_backend", "_network", "_index", "_lifecycle", "_agents", "_files", "_processes",
                    "_tunnels", "_kernel_watchers", "_pool", "_idle", "_line_terminal",
                    "_snapshots", "_checkpoints"})
