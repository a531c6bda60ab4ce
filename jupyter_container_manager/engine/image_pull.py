"""Pulling an image with its progress: the engine's pull stream (one JSON status per
layer event) folded into one progress record, and a failed pull turned into a clear error.

Runs in an engine worker thread (blocking docker-py calls, ``client`` passed in);
``on_progress(record)`` is called from that thread, at most every ``REPORT_EVERY`` seconds
and once at the end. A record:

    {"image": "node:22", "status": "pulling" | "done",
     "layers": {"total": 7, "done": 3},
     "bytes": {"current": 41943040, "total": 120586240}}

``bytes`` counts the layers' downloads the engine has sized so far (a layer it has not
started has no size yet, so ``total`` grows at first); ``done`` counts layers pulled or
already there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import docker.errors
from docker.utils import parse_repository_tag

REPORT_EVERY = 0.25  # seconds between two progress records
_DONE = ("pull complete", "already exists")
_NOT_FOUND = ("not found", "manifest unknown", "pull access denied", "does not exist",
              "repository does not exist", "unauthorized")


class PullFailed(Exception):
    """The engine could not pull the image; the message says why in plain words."""


def pull_image(client, image: str, on_progress: Callable[[dict], None] | None = None) -> None:
    """Pull ``image`` (``name[:tag]`` or ``name@digest``; no tag: ``latest``)."""
    repository, tag = parse_repository_tag(image)
    layers: dict[str, dict] = {}
    reported = 0.0

    def record(status: str) -> dict:
        sized = [layer for layer in layers.values() if layer.get("total")]
        return {
            "image": image,
            "status": status,
            "layers": {"total": len(layers),
                       "done": sum(1 for layer in layers.values() if layer.get("done"))},
            "bytes": {"current": sum(layer.get("current", 0) for layer in sized),
                      "total": sum(layer["total"] for layer in sized)},
        }

    try:
        stream = client.api.pull(repository, tag=tag or "latest", stream=True, decode=True)
        for event in stream:
            if event.get("error") or event.get("errorDetail"):
                message = event.get("error") or (event.get("errorDetail") or {}).get("message")
                raise PullFailed(_explain(image, str(message)))
            layer_id = event.get("id")
            status = str(event.get("status") or "")
            if layer_id and status and not status.lower().startswith(("pulling from",
                                                                       "digest:", "status:")):
                layer = layers.setdefault(layer_id, {})
                detail = event.get("progressDetail") or {}
                if status.lower() == "downloading" and detail.get("total"):
                    layer["current"] = int(detail.get("current") or 0)
                    layer["total"] = int(detail["total"])
                elif status.lower() in ("download complete", "verifying checksum"):
                    layer["current"] = layer.get("total", 0)
                if status.lower() in _DONE:
                    layer["done"] = True
                    layer["current"] = layer.get("total", 0)
            now = time.monotonic()
            if on_progress is not None and now - reported >= REPORT_EVERY:
                reported = now
                on_progress(record("pulling"))
    except docker.errors.APIError as err:
        raise PullFailed(_explain(image, str(err.explanation or err))) from err
    except docker.errors.DockerException as err:
        raise PullFailed(_explain(image, str(err))) from err
    if on_progress is not None:
        on_progress(record("done"))


def _explain(image: str, message: str) -> str:
    """The engine's words, with what they mean for the user first."""
    lowered = message.lower()
    if any(words in lowered for words in _NOT_FOUND):
        return (f"The registry has no image {image!r} (or does not let this engine pull it): "
                f"{message}")
    if any(words in lowered for words in ("connection refused", "no such host", "timeout",
                                          "i/o timeout", "dial tcp", "tls", "certificate")):
        return (f"The Docker engine could not reach the registry of {image!r} (no network, "
                f"a proxy or a certificate in the way?): {message}")
    return f"Pulling {image!r} failed: {message}"
