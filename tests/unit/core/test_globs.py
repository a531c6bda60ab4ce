"""Watch globs (core/globs.py): what a watch looks into and reports, the same in the
polling fallback as in the container's kernel watcher (engine/watch.js)."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import resources

import pytest

from jupyter_container_manager.core.globs import WatchFilter, glob_regex

PATHS = ["/w/node_modules", "/w/node_modules/a/b.js", "/w/a/node_modules/x", "/w/src/gen/a.js",
         "/w/src/a.js", "/w/.gitignore", "/w/.git/HEAD", "/w/docs/x/y.md", "/w/odd\nname.js"]
CASES = [
    (["node_modules", ".git"], []),
    (["src/gen", "**/*.md"], ["*.js"]),
    ([], ["{src,docs}/**"]),
    (["*.{md,txt}"], ["src/*.js"]),
]


def test_default_ignores_and_path_globs():
    f = WatchFilter("/w", "/w", ["node_modules", ".git", "src/gen"], ["*.js"])
    assert f.excluded("/w/node_modules") and f.excluded("/w/node_modules/a/b.js")
    assert f.excluded("/w/a/node_modules/x") and f.excluded("/w/src/gen/a.js")
    assert f.excluded("/w/.git/HEAD") and not f.excluded("/w/.gitignore")
    assert not f.excluded("/w") and not f.excluded("/w/src/a.js")
    assert f.reported("/w/src/a.js") and not f.reported("/w/.gitignore")
    # A watch inside an excluded folder sees what is below it.
    assert not WatchFilter("/w", "/w/node_modules/pkg", ["node_modules"]).excluded(
        "/w/node_modules/pkg/index.js")
    assert glob_regex("**/*.ts").match("a/b/c.ts") and glob_regex("**/*.ts").match("c.ts")
    assert not glob_regex("*.ts").match("a/c.ts")


@pytest.mark.skipif(shutil.which("node") is None, reason="no node on this machine")
@pytest.mark.parametrize(("exclude", "include"), CASES)
def test_the_kernel_watcher_applies_the_same_globs(exclude, include):
    here = resources.files("jupyter_container_manager.engine")
    source = here.joinpath("agent_fs.js").read_text() + here.joinpath("watch.js").read_text()
    probe = source.replace("process.stdin.on('data'", "(() => {}) && process.stdin.on('x'") + """
const [paths, exclude, include] = JSON.parse(process.argv[1]);
const w = new Watch(1, { exclude, include });
w.W = '/w'; w.root = '/w';
process.stdout.write(JSON.stringify(paths.map((p) => [w.skip(p), w.reported(p)])));
process.exit(0);
"""
    answer = subprocess.run(["node", "-e", probe, json.dumps([PATHS, exclude, include])],
                            capture_output=True, text=True, timeout=30, check=True)
    f = WatchFilter("/w", "/w", exclude, include)
    # The watcher asks skip() of each name its walk reaches: those whose folders are not
    # excluded. There, skip() and excluded() agree, and reported() everywhere.
    for path, (skip, reported) in zip(PATHS, json.loads(answer.stdout), strict=True):
        assert reported == f.reported(path), path
        parts = path.split("/")
        if not any(f.excluded("/".join(parts[:n])) for n in range(3, len(parts))):
            assert skip == f.excluded(path), path
