"""The rules of the house, read from the package's imports (ast, no import runs): only
``engine/`` imports ``docker``; ``core/`` imports nothing else of the package; the REST
handlers, the gateway and the proxy reach ``engine/`` only through the manager (an import
for type hints under ``if TYPE_CHECKING:`` is allowed: nothing runs through it); and
``engine/`` never imports the code that serves requests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import jupyter_container_manager

PACKAGE = Path(jupyter_container_manager.__file__).parent
NAME = PACKAGE.name
SERVING = ("rest", "gateway", "proxy", "base_handler", "body_timeout", "routes", "app")


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "labextension" not in p.parts)


def dotted(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def type_checking_lines(tree: ast.Module) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", "")
            if name == "TYPE_CHECKING":
                for inner in node.body:
                    lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """``(absolute module, line, only for type checking)`` of every import in the file;
    modules of this package are named from its root (``engine.files``)."""
    tree = ast.parse(path.read_text(), str(path))
    typing_only = type_checking_lines(tree)
    package = dotted(path) if path.name == "__init__.py" else dotted(path)[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                module = ".".join([NAME, *base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            found.append((name, node.lineno, node.lineno in typing_only))
    return found


def ours(module: str) -> str | None:
    """``engine.files`` for ``jupyter_container_manager.engine.files``; None for others."""
    if module == NAME:
        return ""
    if module.startswith(NAME + "."):
        return module[len(NAME) + 1:]
    return None


def top(path: Path) -> str:
    return dotted(path)[0] if dotted(path) else ""


def broken_rules(paths: list[Path]) -> list[str]:
    broken = []
    for path in paths:
        where = top(path)
        rel = path.relative_to(PACKAGE)
        for module, line, typing_only in imports(path):
            inner = ours(module)
            if (module == "docker" or module.startswith("docker.")) and where != "engine":
                broken.append(f"{rel}:{line} imports {module}: only engine/ imports docker")
            if inner is None:
                continue
            first = inner.split(".")[0]
            if where == "core" and first != "core":
                broken.append(f"{rel}:{line} imports {module}: core/ imports nothing else "
                              "of the package")
            if where in SERVING and first == "engine" and not typing_only:
                broken.append(f"{rel}:{line} imports {module}: handlers, the gateway and "
                              "the proxy reach engine/ through the manager")
            if where == "engine" and first in (*SERVING, "manager") and not typing_only:
                broken.append(f"{rel}:{line} imports {module}: engine/ never imports what "
                              "serves requests, nor the manager that builds it")
    return broken


def test_the_package_keeps_the_rules():
    assert modules(), "no modules found"
    assert broken_rules(modules()) == []


@pytest.mark.parametrize(
    ("where", "source", "rule"),
    [
        ("rest/leak.py", "import docker\n", "only engine/ imports docker"),
        ("proxy/leak.py", "from docker.errors import NotFound\n", "only engine/ imports docker"),
        ("core/leak.py", "from ..manager import ContainerManager\n", "core/ imports nothing"),
        ("gateway/leak.py", "from ..engine.files import ContainerFiles\n", "through the manager"),
        ("rest/leak.py", "from ..engine import files\n", "through the manager"),
        ("base_handler.py", "from .engine.ports import PortWatcher\n", "through the manager"),
        ("engine/leak.py", "from ..gateway.rooms import Room\n", "engine/ never imports"),
    ],
)
def test_a_broken_rule_is_caught(tmp_path, monkeypatch, where, source, rule):
    fake = tmp_path / NAME
    target = fake / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source)
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    (found,) = broken_rules([target])
    assert rule in found


def test_type_hints_under_type_checking_are_allowed(tmp_path, monkeypatch):
    fake = tmp_path / NAME
    target = fake / "gateway" / "hints.py"
    target.parent.mkdir(parents=True)
    target.write_text("from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
                      "    from ..engine.terminals import PtySession\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    assert broken_rules([target]) == []
