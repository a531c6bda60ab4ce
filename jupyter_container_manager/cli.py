"""``jupyter container-manager``: the containers of a Jupyter user from a shell.

It reads the settings the server reads (``c.ContainerManager.*`` in
``jupyter_server_config.py`` and ``jupyter_container_manager_config.py``, and
``--ContainerManager.x=...`` on the command line) and talks to the Docker engine itself,
as the server's own manager does: no running server needed, and it sees the containers of
the same owner (``c.ContainerManager.owner``, by default the user running it)::

    jupyter container-manager list
    jupyter container-manager create --name web --image node:22
    jupyter container-manager exec ID -- npm test
    jupyter container-manager cp ./app.js ID:src/app.js      # in; container paths are
    jupyter container-manager cp ID:dist/out.txt ./out.txt   # from its workdir
    jupyter container-manager logs ID --tail 50
    jupyter container-manager rm ID [ID...]
    jupyter container-manager prune                          # stopped ones; --all: every one
    jupyter container-manager --help-all                     # every setting
    jupyter container-manager --generate-config              # jupyter_container_manager_config.py
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from jupyter_core.application import JupyterApp
from traitlets import Bool, Int, List, Unicode
from traitlets.config import Application
from traitlets.config.loader import ConfigFileNotFound

from . import __version__
from .core.errors import ContainerManagerError
from .logs import follow_server_log
from .manager import ContainerManager

CONFIG_FILE = "jupyter_container_manager_config"
SERVER_CONFIG_FILE = "jupyter_server_config"


class ManagerCommand(JupyterApp):
    """What every command shares: the settings, a manager, an event loop, errors."""

    version = __version__
    classes = [ContainerManager]
    config_file_name = Unicode(CONFIG_FILE, help="The config file this command reads, after "
                               "the server's own (jupyter_server_config)").tag(config=True)
    json_output = Bool(False, help="Answer in JSON").tag(config=True)

    aliases = {**JupyterApp.aliases}
    flags = {**JupyterApp.flags, "json": ({"ManagerCommand": {"json_output": True}},
                                          "Answer in JSON.")}

    def load_config_file(self, suppress_errors: bool = True) -> None:
        """The server's config first (its c.ContainerManager settings apply here too),
        then ours; the command line wins over both."""
        try:
            Application.load_config_file(self, SERVER_CONFIG_FILE, path=self.config_file_paths)
        except ConfigFileNotFound:
            pass
        super().load_config_file(suppress_errors)

    def fail(self, message: str, code: int = 1) -> None:
        print(f"{self.name}: {message}", file=sys.stderr)
        self.exit(code)

    def run(self, work: Callable[[ContainerManager], Awaitable[Any]]) -> Any:
        """Run ``work(manager)`` on a fresh manager and event loop; domain errors end the
        command with their message."""

        follow_server_log(self.log)  # the package's lines at this command's --log-level

        async def main():
            manager = ContainerManager(parent=self, log=self.log)
            try:
                return await work(manager)
            finally:
                await manager.close()

        try:
            return asyncio.run(main())
        except ContainerManagerError as err:
            self.fail(err.message)
        except ValueError as err:  # a setting that does not hold (an engine address...)
            self.fail(str(err))

    def args(self, least: int, usage: str) -> list[str]:
        if len(self.extra_args) < least:
            self.fail(f"usage: jupyter container-manager {usage}", 2)
        return list(self.extra_args)

    def show(self, value: Any) -> None:
        print(json.dumps(value, indent=2))


def _table(rows: list[list[str]], head: list[str]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(head, *rows, strict=True)]
    lines = []
    for row in [head, *rows]:
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(str(cell).ljust(width) for cell, width in cells).rstrip())
    return "\n".join(lines)


class ListCommand(ManagerCommand):
    name = "jupyter-container-manager-list"
    description = "List the containers of this owner."

    def start(self) -> None:
        infos = self.run(lambda manager: manager.list_containers())
        if self.json_output:
            self.show([info.to_json() for info in infos])
            return
        rows = [[info.id, info.name, info.status, info.image, info.created] for info in infos]
        print(_table(rows, ["ID", "NAME", "STATUS", "IMAGE", "CREATED"]))


class CreateCommand(ManagerCommand):
    name = "jupyter-container-manager-create"
    description = "Create and start a container; prints its id."

    container_name = Unicode("", help="Its name").tag(config=True)
    image = Unicode("", help="Its image (default: c.ContainerManager.image)").tag(config=True)
    env = List(Unicode(), help="NAME=value, repeatable").tag(config=True)
    ports = List(Int(), help="Ports it will serve on, repeatable").tag(config=True)

    aliases = {**ManagerCommand.aliases, "name": "CreateCommand.container_name",
               "image": "CreateCommand.image", "env": "CreateCommand.env",
               "port": "CreateCommand.ports"}

    def start(self) -> None:
        env = {}
        for pair in self.env:
            key, sep, value = pair.partition("=")
            if not sep:
                self.fail(f"--env takes NAME=value, not {pair!r}", 2)
            env[key] = value
        info = self.run(lambda manager: manager.create_container(
            name=self.container_name or None, image=self.image or None, env=env or None,
            ports=list(self.ports) or None))
        if self.json_output:
            self.show(info.to_json())
        else:
            print(info.id)


class RemoveCommand(ManagerCommand):
    name = "jupyter-container-manager-rm"
    description = "Remove containers (running or not) with their files."

    def start(self) -> None:
        ids = self.args(1, "rm ID [ID...]")

        async def remove(manager: ContainerManager):
            for container_id in ids:
                await manager.delete_container(container_id)
                print(container_id)

        self.run(remove)


class PruneCommand(ManagerCommand):
    name = "jupyter-container-manager-prune"
    description = "Remove this owner's containers that do not run (--all: every one)."

    every = Bool(False, help="Remove running containers too").tag(config=True)
    flags = {**ManagerCommand.flags,
             "all": ({"PruneCommand": {"every": True}}, "Remove running containers too.")}

    def start(self) -> None:
        async def prune(manager: ContainerManager):
            removed = []
            for info in await manager.list_containers():
                if self.every or info.status != "running":
                    await manager.delete_container(info.id)
                    removed.append(info.id)
            return removed

        removed = self.run(prune)
        if self.json_output:
            self.show(removed)
        else:
            for container_id in removed:
                print(container_id)


class ExecCommand(ManagerCommand):
    name = "jupyter-container-manager-exec"
    description = ("Run a command in a running container, its output as it comes; exits "
                   "with its exit code. Put `--` before the command's own options.")

    cwd = Unicode("", help="Its directory, from the workdir").tag(config=True)
    aliases = {**ManagerCommand.aliases, "cwd": "ExecCommand.cwd"}

    def start(self) -> None:
        container_id, command, *args = self.args(2, "exec ID [--] COMMAND [ARG...]")

        async def execute(manager: ContainerManager) -> int:
            info = await manager.require_running(container_id)
            process = await manager.spawn(info, command, args, cwd=self.cwd or None)
            process.close_stdin()
            out = sys.stdout.buffer
            async for chunk in process:
                out.write(chunk)
                out.flush()
            return await process.wait()

        self.exit(self.run(execute))


def _container_path(text: str) -> tuple[str, str] | None:
    """``ID:path`` -> (ID, path); None for a local path (``./a:b`` or ``/x`` stay local)."""
    head, sep, tail = text.partition(":")
    if not sep or not head or "/" in head or head in (".", ".."):
        return None
    return head, tail or "/"


class CopyCommand(ManagerCommand):
    name = "jupyter-container-manager-cp"
    description = ("Copy a file into a container (cp LOCAL ID:PATH) or out of one "
                   "(cp ID:PATH LOCAL; LOCAL `-`: standard output). Container paths are "
                   "from its workdir; the bytes stream both ways.")

    def start(self) -> None:
        source, target = self.args(2, "cp SRC DEST (one of them ID:PATH)")[:2]
        into, out_of = _container_path(target), _container_path(source)
        if (into is None) == (out_of is None):
            self.fail("one of SRC and DEST must be ID:PATH (a container's file)", 2)
        if into is not None:
            self.run(lambda manager: _copy_in(manager, Path(source), *into))
        else:
            self.run(lambda manager: _copy_out(manager, *out_of, target))


CHUNK = 1024 * 1024


async def _copy_in(manager: ContainerManager, local: Path, container_id: str,
                   path: str) -> None:
    info = await manager.require_running(container_id)
    if path.endswith("/"):
        path += local.name
    parent = path.rstrip("/").rpartition("/")[0]
    if parent:
        await manager.mkdir(info, parent, recursive=True)  # as `docker cp`: made as needed
    size = local.stat().st_size
    writer = await manager.write_file_stream(info, path, size)
    try:
        with open(local, "rb") as source:
            while chunk := source.read(CHUNK):
                await writer.write(chunk)
    except BaseException:
        await writer.abort()
        raise
    await writer.close()


async def _copy_out(manager: ContainerManager, container_id: str, path: str,
                    local: str) -> None:
    info = await manager.require_running(container_id)
    reader = await manager.stream_file(info, path)
    if local == "-":
        async for chunk in reader:
            sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        return
    target = Path(local)
    if target.is_dir():
        target = target / Path(path).name
    partial = target.with_name(f".{target.name}.part")
    try:
        with open(partial, "wb") as out:
            async for chunk in reader:
                out.write(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


class LogsCommand(ManagerCommand):
    name = "jupyter-container-manager-logs"
    description = "What a container's main process printed (stdout and stderr)."

    tail = Int(-1, help="Only the last N lines (-1: all)").tag(config=True)
    aliases = {**ManagerCommand.aliases, "tail": "LogsCommand.tail"}

    def start(self) -> None:
        container_id = self.args(1, "logs ID [--tail N]")[0]

        async def logs(manager: ContainerManager) -> bytes:
            info = await manager.get_container(container_id)
            return await manager.container_logs(info, None if self.tail < 0 else self.tail)

        sys.stdout.buffer.write(self.run(logs))
        sys.stdout.buffer.flush()


class ContainerManagerCommand(ManagerCommand):
    name = "jupyter-container-manager"
    description = __doc__.split("\n\n")[0] + (
        "\n\nThe settings below are the server's (c.ContainerManager.*), read from "
        "jupyter_server_config and jupyter_container_manager_config.")
    examples = "\n".join(line.strip() for line in __doc__.splitlines()
                         if line.strip().startswith("jupyter container-manager"))

    subcommands = {
        "list": (ListCommand, ListCommand.description),
        "create": (CreateCommand, CreateCommand.description),
        "rm": (RemoveCommand, RemoveCommand.description),
        "prune": (PruneCommand, PruneCommand.description),
        "exec": (ExecCommand, ExecCommand.description.split(";")[0] + "."),
        "cp": (CopyCommand, "Copy a file into or out of a container."),
        "logs": (LogsCommand, LogsCommand.description),
    }

    def start(self) -> None:
        super().start()  # a subcommand, or --generate-config: it ends here (NoStart)
        self.print_help()
        self.exit(2)


main = launch_instance = ContainerManagerCommand.launch_instance

if __name__ == "__main__":
    main()
