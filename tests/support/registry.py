"""A small image registry (the Docker Registry HTTP API v2, read-only) on 127.0.0.1, for
tests of image pulls on a machine with no registry. The engine pulls from it over plain
HTTP (Docker treats 127.0.0.0/8 registries as insecure by default).

It serves images built here: a layer with ``sleep`` and its libraries copied from this
machine (enough for a container of ours to start and stay up) and an ``/etc/passwd``,
and a layer of random bytes (``filler`` bytes: the download the progress is seen on).
Blobs are sent in chunks with a pause between them, so a pull takes a moment.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
CHUNK = 128 * 1024


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar(files: dict[str, bytes | Path]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, content in files.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            info = tarfile.TarInfo(name.lstrip("/"))
            info.size = len(data)
            info.mode = 0o755 if isinstance(content, Path) else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _program_files(program: str) -> dict[str, Path]:
    """``program`` and the shared libraries it loads, by their paths here."""
    found = {program: Path(program).resolve()}
    listed = subprocess.run(["ldd", program], capture_output=True, text=True).stdout
    for line in listed.splitlines():
        match = re.search(r"(/\S+) \(0x", line)
        if match:
            found[match.group(1)] = Path(match.group(1)).resolve()
    return found


class Registry:
    """``with Registry() as registry:``; ``registry.add(name, tag, filler=)`` makes an
    image and answers its reference (``127.0.0.1:<port>/<name>:<tag>``)."""

    def __init__(self, pause: float = 0.02):
        self.pause = pause
        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[tuple[str, str], bytes] = {}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                self._answer(head=True)

            def do_GET(self):
                self._answer(head=False)

            def _answer(self, head: bool):
                registry.requests.append(f"{self.command} {self.path}")
                path = self.path.split("?")[0]
                if path in ("/v2", "/v2/"):
                    return self._send(200, b"{}", "application/json", head)
                match = re.match(r"^/v2/(.+)/(manifests|blobs)/([^/]+)$", path)
                if match:
                    name, kind, ref = match.groups()
                    if kind == "manifests" and (name, ref) in registry.manifests:
                        body = registry.manifests[(name, ref)]
                        return self._send(200, body, MANIFEST, head,
                                          {"Docker-Content-Digest": _digest(body)})
                    if kind == "blobs" and ref in registry.blobs:
                        return self._send(200, registry.blobs[ref],
                                          "application/octet-stream", head, slow=True)
                    code = "MANIFEST_UNKNOWN" if kind == "manifests" else "BLOB_UNKNOWN"
                    error = {"errors": [{"code": code, "message": f"{kind[:-1]} unknown"}]}
                    return self._send(404, json.dumps(error).encode(), "application/json",
                                      head)
                self._send(404, b"{}", "application/json", head)

            def _send(self, status, body, kind, head, extra=None, slow=False):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                if head:
                    return
                for start in range(0, len(body), CHUNK):
                    self.wfile.write(body[start:start + CHUNK])
                    if slow:
                        self.wfile.flush()
                        time.sleep(registry.pause)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add(self, name: str, tag: str, *, filler: int = 4 * 1024**2) -> str:
        files: dict[str, bytes | Path] = dict(_program_files("/bin/sleep"))
        files["/bin/sleep"] = Path("/bin/sleep").resolve()
        files["/etc/passwd"] = b"root:x:0:0:root:/root:/bin/sh\n"
        layers = [_tar(files), _tar({"/opt/filler.bin": os.urandom(filler)})]
        compressed = [gzip.compress(layer, compresslevel=1, mtime=0) for layer in layers]
        config = json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                               "/sbin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [_digest(layer) for layer in layers]},
        }).encode()
        self.blobs[_digest(config)] = config
        for blob in compressed:
            self.blobs[_digest(blob)] = blob
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                       "size": len(config), "digest": _digest(config)},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                        "size": len(blob), "digest": _digest(blob)} for blob in compressed],
        }).encode()
        self.manifests[(name, tag)] = manifest
        self.manifests[(name, _digest(manifest))] = manifest
        return f"127.0.0.1:{self.port}/{name}:{tag}"

    def remove_pulled_images(self, docker_client) -> None:
        """Remove the engine's images pulled from this registry (after the containers
        using them are gone: an image in use would stay, untagged)."""
        import docker.errors

        prefix = f"127.0.0.1:{self.port}/"
        for image in docker_client.images.list():
            for tag in image.tags:
                if tag.startswith(prefix):
                    try:
                        docker_client.images.remove(tag, force=True)
                    except docker.errors.APIError:
                        pass

    def __enter__(self) -> Registry:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
