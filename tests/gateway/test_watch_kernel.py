"""fs-operation watch driven by the kernel (inotify in the container's jcm-watch process):
changes come in milliseconds with nothing polling, ignore globs (the watch_ignore setting,
or a watch's own exclude and include), and polling where the kernel cannot watch."""

from __future__ import annotations

import asyncio

import pytest

WATCHERS = "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f; echo; done"


def processes(box) -> str:
    return box.exec_run(["sh", "-c", WATCHERS]).output.decode(errors="replace")


async def test_one_kernel_watcher_serves_every_path_and_nothing_polls(ws, api, docker_client):
    container = await api.create(name="inotify", files={"a": {"directory": {}},
                                                        "b": {"directory": {}}})
    box = docker_client.containers.get(f"jcm-{container['id']}")
    client = await ws()
    await client.join(container["id"])
    for path in ("/", "/a", "/b"):
        await client.ok("fs-operation", {"type": "watch", "path": path})
    running = processes(box)
    assert running.count("jcm-watch") == 1, running
    assert "interval" not in running, running  # no polling script
    loop = asyncio.get_running_loop()
    started = loop.time()
    box.exec_run(["touch", "/workspace/a/now"])
    change = await client.push("fs-change", timeout=5)
    assert change == {"path": "/a/now", "kind": "add"}
    # docker exec itself takes most of this; the watcher adds milliseconds.
    assert loop.time() - started < 1.0
    for path in ("/", "/a", "/b"):
        await client.ok("fs-operation", {"type": "unwatch", "path": path})
    for _ in range(50):  # the last unwatch ends the watcher process
        if "jcm-watch" not in processes(box):
            break
        await asyncio.sleep(0.1)
    assert "jcm-watch" not in processes(box)


async def test_node_modules_and_git_are_ignored_unless_the_watch_says(ws, api, docker_client):
    container = await api.create(name="ignored", files={"node_modules": {"directory": {}},
                                                        ".git": {"directory": {}}})
    box = docker_client.containers.get(f"jcm-{container['id']}")
    client = await ws()
    await client.join(container["id"])
    await client.ok("fs-operation", {"type": "watch", "path": "/"})
    box.exec_run(["sh", "-c", "cd /workspace && mkdir -p node_modules/x sub/node_modules && "
                  "touch node_modules/x/i.js .git/HEAD sub/node_modules/j.js seen.js"])
    for expected in ({"path": "/sub", "kind": "addDir"}, {"path": "/seen.js", "kind": "add"}):
        await client.wait_for(lambda f, e=expected: f == {"event": "fs-change", "data": e},
                              timeout=5)
    await asyncio.sleep(0.5)
    assert all("node_modules" not in c["path"] and ".git" not in c["path"]
               for c in client.pushes("fs-change")), client.pushes("fs-change")

    # Its own globs: nothing excluded, only .js files reported.
    other = await ws()
    await other.join(container["id"])
    await other.ok("fs-operation", {"type": "watch", "path": "/", "exclude": [],
                                    "include": ["*.js"]})
    box.exec_run(["sh", "-c", "cd /workspace && touch node_modules/x/k.js node_modules/x/k.txt"])
    assert await other.push("fs-change", timeout=5) == {"path": "/node_modules/x/k.js",
                                                       "kind": "add"}
    await asyncio.sleep(0.5)
    assert len(other.pushes("fs-change")) == 1, other.pushes("fs-change")


async def test_a_folder_moved_in_whole_and_out_again(ws, api, docker_client):
    container = await api.create(name="moved")
    box = docker_client.containers.get(f"jcm-{container['id']}")
    client = await ws()
    await client.join(container["id"])
    await client.ok("fs-operation", {"type": "watch", "path": "/"})
    box.exec_run(["sh", "-c", "mkdir -p /tmp/t/d && echo 1 > /tmp/t/d/f && "
                  "mv /tmp/t /workspace/t"])
    wanted = [{"path": "/t", "kind": "addDir"}, {"path": "/t/d", "kind": "addDir"},
              {"path": "/t/d/f", "kind": "add"}]
    for expected in wanted:
        assert await client.push("fs-change", timeout=5) == expected
    box.exec_run(["sh", "-c", "echo 2 >> /workspace/t/d/f"])
    assert await client.push("fs-change", timeout=5) == {"path": "/t/d/f", "kind": "change"}
    box.exec_run(["mv", "/workspace/t", "/tmp/gone"])
    for expected in ({"path": "/t/d/f", "kind": "unlink"}, {"path": "/t/d", "kind": "unlinkDir"},
                     {"path": "/t", "kind": "unlinkDir"}):
        assert await client.push("fs-change", timeout=5) == expected


@pytest.fixture
def no_agent(manager_config):
    manager_config["agent"] = False


async def test_without_an_agent_the_watch_polls_with_the_same_globs(no_agent, ws, api,
                                                                    docker_client):
    container = await api.create(name="polled")
    box = docker_client.containers.get(f"jcm-{container['id']}")
    client = await ws()
    await client.join(container["id"])
    await client.ok("fs-operation", {"type": "watch", "path": "/"})
    assert "jcm-watch" in processes(box)  # the polling script, named so
    assert "jcm-watch */" not in processes(box)
    box.exec_run(["sh", "-c", "cd /workspace && mkdir node_modules && touch node_modules/a b"])
    assert await client.push("fs-change", timeout=5) == {"path": "/b", "kind": "add"}
    await asyncio.sleep(0.6)
    assert len(client.pushes("fs-change")) == 1, client.pushes("fs-change")
