"""A unix-socket relay in front of the real Docker engine, which a test can cut and bring
back: an engine connection outage without restarting dockerd (that would take every
other test's containers with it).

``EngineRelay(path)`` listens on ``path`` and forwards each connection's bytes both ways
to the engine's socket, on threads. ``cut()`` closes the listening socket (new
connections are refused: the path is gone) and every relayed connection (requests and
exec streams in flight break); ``restore()`` listens again on the same path.
"""

from __future__ import annotations

import os
import socket
import threading

ENGINE_SOCKET = "/var/run/docker.sock"


class EngineRelay:
    def __init__(self, path: str, engine: str = ENGINE_SOCKET):
        self.path = path
        self.engine = engine
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self.accepted = 0

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> EngineRelay:
        self.restore()
        return self

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            if os.path.exists(self.path):
                os.unlink(self.path)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(self.path)
            listener.listen(64)
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True,
                         name="engine-relay-accept").start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, set()
        if listener is not None:
            _close(listener)
            if os.path.exists(self.path):
                os.unlink(self.path)
        for sock in connections:
            _close(sock)

    def close(self) -> None:
        self.cut()

    def __enter__(self) -> EngineRelay:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.engine)
            except OSError:
                _close(client)
                _close(upstream)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._connections.update((client, upstream))
                self.accepted += 1
            pair = {"open": 2}
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target, pair),
                                 daemon=True, name="engine-relay-pump").start()

    def _pump(self, source: socket.socket, target: socket.socket, pair: dict) -> None:
        failed = False
        try:
            while data := source.recv(65536):
                target.sendall(data)
            target.shutdown(socket.SHUT_WR)  # pass a half-close on (exec stdin EOF)
        except OSError:
            failed = True
        with self._lock:
            pair["open"] -= 1
            finished = failed or pair["open"] == 0
            if finished:
                self._connections.discard(source)
                self._connections.discard(target)
        if finished:
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
