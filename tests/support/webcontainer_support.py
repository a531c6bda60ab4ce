"""Helpers for the WebContainer API tests (no fixtures here)."""

from __future__ import annotations

import json

from tests.support.helpers import Api, Response


class WebContainer:
    """A booted WebContainer as a test sees it: REST calls by name, and the real container."""

    def __init__(self, api: Api, docker_client, container_id: str, workdir: str):
        self.api = api
        self.id = container_id
        self.workdir = workdir
        self.container = docker_client.containers.get(f"jcm-{container_id}")

    async def write(self, path: str, contents: str, encoding: str | None = None) -> Response:
        body = {"path": path, "contents": contents}
        if encoding:
            body["encoding"] = encoding
        return await self.api.post("webcontainer", self.id, "fs", "writeFile", body=body)

    async def put(self, path: str, data: bytes) -> Response:
        return await self.api.put(
            "webcontainer", self.id, "fs", "writeFile", raw=data, params={"path": path}
        )

    async def read(self, path: str, encoding: str | None = None) -> Response:
        params = {"encoding": encoding} if encoding else None
        return await self.api.get("webcontainer", self.id, "fs", "readFile", path, params=params)

    async def readdir(self, path: str = "", types: bool = False) -> Response:
        params = {"withFileTypes": "true"} if types else None
        return await self.api.get("webcontainer", self.id, "fs", "readdir", path, params=params)

    async def mkdir(self, path: str, recursive: bool = False) -> Response:
        return await self.api.post(
            "webcontainer", self.id, "fs", "mkdir", body={"path": path, "recursive": recursive}
        )

    async def rm(self, path: str, recursive: bool = False, force: bool = False) -> Response:
        params = {"path": path, "recursive": str(recursive).lower(), "force": str(force).lower()}
        return await self.api.delete("webcontainer", self.id, "fs", "rm", params=params)

    async def rename(self, old: str, new: str) -> Response:
        return await self.api.post(
            "webcontainer", self.id, "fs", "rename", body={"oldPath": old, "newPath": new}
        )

    async def spawn(self, command: str, *args: str, **options) -> Response:
        body = {"command": command, "args": list(args), **options}
        return await self.api.post("webcontainer", self.id, "spawn", body=body)

    async def export(self, path: str = "", form: str = "json") -> Response:
        return await self.api.get(
            "webcontainer", self.id, "export", params={"path": path, "format": form}
        )

    def sh(self, script: str, *args: str, user: str = "") -> tuple[int, bytes]:
        """Run a constant script in the container, bypassing the API (argv, no text pasted),
        as the container's user, or as ``user`` (e.g. "root" to set up outside the workdir)."""
        result = self.container.exec_run(["sh", "-c", script, "sh", *args], user=user)
        return result.exit_code, result.output

    def cat(self, absolute: str) -> bytes:
        result = self.container.exec_run(["cat", "--", absolute])
        assert result.exit_code == 0, result.output
        return result.output


async def boot(api: Api, docker_client, **body) -> WebContainer:
    answer = await api.post("webcontainer", "boot", body=body)
    assert answer.status == 201, answer
    booted = answer.json()
    return WebContainer(api, docker_client, booted["containerId"], booted["workdir"])


def ndjson_lines(raw: bytes) -> list[dict]:
    return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
