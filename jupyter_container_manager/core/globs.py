"""Which paths a watch looks at and reports: its exclude and include globs. Pure.

The same rules as the kernel watcher in the container (engine/watch.js), so a watch that
falls back to polling reports the same changes:

- ``*`` and ``?`` match within one name, ``**`` across folders, ``{a,b}`` either;
- a glob with ``/`` matches a path from the workdir (``src/**/*.ts``);
- an exclude glob without ``/`` matches any name below the watched path (``node_modules``:
  every ``node_modules`` folder and everything in it); an excluded folder is not looked
  into at all;
- an include glob without ``/`` matches the last name (``*.js``). With include globs,
  only the paths that match one are reported (folders are still looked into).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable


def glob_regex(glob: str) -> re.Pattern:
    out, i, braces = [], 0, 0
    while i < len(glob):
        c = glob[i]
        if c == "*" and glob[i + 1: i + 2] == "*":
            i += 1
            if glob[i + 1: i + 2] == "/":
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
        elif c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "{":
            braces += 1
            out.append("(?:")
        elif c == "}" and braces:
            braces -= 1
            out.append(")")
        elif c == "," and braces:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def _matcher(globs: Iterable[str], any_name: bool) -> Callable[[str, str], bool] | None:
    """(path from the workdir, path from the watched path) -> whether a glob matches."""
    tests = []
    for glob in globs:
        if not isinstance(glob, str) or not glob.strip("/"):
            continue
        bare = glob.strip("/")
        pattern = glob_regex(bare)
        if "/" in bare:
            tests.append(lambda workdir_rel, root_rel, p=pattern: bool(p.match(workdir_rel)))
        elif any_name:
            tests.append(lambda workdir_rel, root_rel, p=pattern: any(
                p.match(name) for name in root_rel.split("/")))
        else:
            tests.append(lambda workdir_rel, root_rel, p=pattern: bool(
                p.match(workdir_rel.rsplit("/", 1)[-1])))
    if not tests:
        return None
    return lambda workdir_rel, root_rel: any(test(workdir_rel, root_rel) for test in tests)


def _below(base: str, path: str) -> str | None:
    base = base.rstrip("/") or "/"
    if path == base:
        return ""
    prefix = "/" if base == "/" else base + "/"
    return path[len(prefix):] if path.startswith(prefix) else None


class WatchFilter:
    """The exclude and include globs of one watch of ``root`` in ``workdir``."""

    def __init__(self, workdir: str, root: str, exclude: Iterable[str] = (),
                 include: Iterable[str] = ()):
        self.workdir = workdir
        self.root = root.rstrip("/") or "/"
        self._exclude = _matcher(exclude, any_name=True)
        self._include = _matcher(include, any_name=False)

    def _rels(self, path: str) -> tuple[str, str]:
        from_root = _below(self.root, path)
        from_workdir = _below(self.workdir, path)
        return (path.lstrip("/") if from_workdir is None else from_workdir,
                from_root if from_root is not None else path.lstrip("/"))

    def excluded(self, path: str) -> bool:
        """Whether ``path`` (absolute) or a folder it is in, below the root, is excluded."""
        if self._exclude is None:
            return False
        from_root = _below(self.root, path)
        if not from_root:
            return False  # the root itself, or not below it
        names = from_root.split("/")
        for depth in range(1, len(names) + 1):
            ancestor = self.root.rstrip("/") + "/" + "/".join(names[:depth])
            if self._exclude(*self._rels(ancestor)):
                return True
        return False

    def reported(self, path: str) -> bool:
        return self._include is None or self._include(*self._rels(path))
