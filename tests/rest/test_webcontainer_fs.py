"""WebContainer file system on the real engine: the starter flow, Node's error codes and
messages, escapes by `..` and by symlink, nasty names and binary round trips."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest

from tests.support.helpers import assert_error, preview_target
from tests.support.webcontainer_support import boot

STARTER = {
    "package.json": {
        "file": {"contents": '{"name": "starter", "type": "commonjs", "main": "index.js"}'}
    },
    "index.js": {
        "file": {
            "contents": "const { greet } = require('./src/greet');\n"
            "console.log(greet('WebContainer'));\n"
        }
    },
    "src": {
        "directory": {
            "greet.js": {"file": {"contents": "exports.greet = (who) => `Hello, ${who}!`;\n"}}
        }
    },
}


async def test_starter_flow(api, docker_client):
    wc = await boot(api, docker_client, files=STARTER)
    assert wc.workdir == "/workspace"

    run = await wc.spawn("node", "index.js")
    assert run.status == 200, run
    assert run.json() == {"exitCode": 0, "output": "Hello, WebContainer!\n"}

    index = await wc.read("index.js", encoding="utf-8")
    assert index.status == 200 and index.text == STARTER["index.js"]["file"]["contents"]
    assert index.headers["Content-Type"].startswith("text/plain")
    raw = await wc.read("/src/greet.js")
    assert raw.headers["Content-Type"] == "application/octet-stream"
    assert raw.body == STARTER["src"]["directory"]["greet.js"]["file"]["contents"].encode()

    assert (await wc.readdir()).json() == ["index.js", "package.json", "src"]
    assert (await wc.readdir("src", types=True)).json() == [{"name": "greet.js", "type": "file"}]

    exported = await wc.export()
    assert exported.status == 200 and exported.json() == STARTER

    # The Direct API's files go through the same mount code: same tree back.
    created = await api.create(files=STARTER)
    again = await api.get("webcontainer", created["id"], "export")
    assert again.json() == STARTER


async def test_boot_with_workdir_name_and_teardown(api, docker_client):
    wc = await boot(
        api, docker_client, workdirName="my-app", files={"a.txt": {"file": {"contents": "A"}}}
    )
    assert wc.workdir == "/home/my-app"
    assert wc.cat("/home/my-app/a.txt") == b"A"
    pwd = await wc.spawn("pwd")
    assert pwd.json()["output"] == "/home/my-app\n"

    url = await api.get("webcontainer", wc.id, "url", params={"port": "5173"})
    assert url.status == 200
    assert url.json()["port"] == 5173
    assert preview_target(url.json()["url"]) == (5173, wc.id)
    assert_error(await api.get("webcontainer", wc.id, "url", params={"port": "0"}), 400)
    assert_error(await api.get("webcontainer", wc.id, "url"), 400)

    gone = await api.delete("webcontainer", wc.id)
    assert gone.status == 204
    assert_error(await wc.read("a.txt"), 404)
    assert_error(await api.delete("webcontainer", wc.id), 404)


@pytest.mark.parametrize("name", ["..", "a/b", "", "-x", "x" * 65, "ü", "a b", ".hidden"])
async def test_boot_refuses_a_bad_workdir_name(api, name):
    assert_error(await api.post("webcontainer", "boot", body={"workdirName": name}), 400)
    assert (await api.get("containers")).json() == []


async def test_mount_with_mount_point_and_export_of_a_subfolder(api, docker_client):
    wc = await boot(api, docker_client)
    tree = {
        "lib": {"directory": {"x.js": {"file": {"contents": "x"}}, "empty": {"directory": {}}}},
        "bin.dat": {
            "file": {"contents": base64.b64encode(bytes(range(256))).decode(), "encoding": "base64"}
        },
    }
    answer = await api.post(
        "webcontainer", wc.id, "mount", body={"tree": tree, "mountPoint": "/deep/er"}
    )
    assert answer.status == 204, answer
    assert wc.cat("/workspace/deep/er/lib/x.js") == b"x"
    assert wc.cat("/workspace/deep/er/bin.dat") == bytes(range(256))
    assert (await wc.export("deep/er")).json() == tree
    assert_error(
        await api.post("webcontainer", wc.id, "mount", body={"tree": tree, "mountPoint": "../up"}),
        403,
        code="EACCES",
    )
    assert_error(await api.post("webcontainer", wc.id, "mount", body={"tree": {"a/b": {}}}), 400)
    assert_error(await api.post("webcontainer", wc.id, "mount", body={}), 400)


async def test_export_zip_streams_the_files(api, docker_client):
    import io
    import zipfile

    wc = await boot(api, docker_client, files=STARTER)
    blob = os.urandom(300_000)
    assert (await wc.put("blob.bin", blob)).status == 204
    answer = await wc.export(form="zip")
    assert answer.status == 200, answer
    assert answer.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.body))
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert {"index.js", "package.json", "src/", "src/greet.js", "blob.bin"} <= names
    assert archive.read("blob.bin") == blob
    assert (
        archive.read("src/greet.js").decode()
        == STARTER["src"]["directory"]["greet.js"]["file"]["contents"]
    )
    assert_error(await wc.export(form="tar"), 400)
    assert_error(await wc.export("nope", form="zip"), 404, code="ENOENT")


async def test_a_zip_export_mounts_back(api, docker_client):
    """export(format 'binary') gives the zip that mount() takes back: text, binary bytes,
    an empty folder and an executable bit round-trip, the files belong to the container's
    user, and a bad archive is refused before anything is written."""
    import io
    import zipfile

    wc = await boot(api, docker_client, files=STARTER)
    blob = os.urandom(200_000)
    assert (await wc.put("bin/../blob.bin", blob)).status == 204
    assert (await wc.mkdir("empty")).status == 204
    assert (await wc.write("run.sh", "#!/bin/sh\necho ran\n")).status == 204
    assert wc.sh('chmod +x "$1"', "/workspace/run.sh")[0] == 0
    exported = await wc.export(form="binary")
    assert exported.status == 200, exported
    assert exported.headers["Content-Type"] == "application/zip"

    async def mount(raw: bytes, mount_point: str | None = None, content_type="application/zip"):
        params = {"mountPoint": mount_point} if mount_point is not None else None
        return await api.post("webcontainer", wc.id, "mount", raw=raw, params=params,
                              headers={"Content-Type": content_type})

    assert (await mount(exported.body, "/copy")).status == 204
    assert wc.cat("/workspace/copy/blob.bin") == blob
    assert wc.cat("/workspace/copy/src/greet.js") == wc.cat("/workspace/src/greet.js")
    assert wc.sh('[ -d "$1" ]', "/workspace/copy/empty")[0] == 0
    assert wc.sh('[ -x "$1" ] && "$1"', "/workspace/copy/run.sh") == (0, b"ran\n")
    assert wc.sh('[ ! -x "$1" ]', "/workspace/copy/blob.bin")[0] == 0
    owner = wc.sh('stat -c %u:%g "$1"', "/workspace/index.js")[1]
    for made in ("/workspace/copy", "/workspace/copy/src", "/workspace/copy/src/greet.js"):
        assert wc.sh('stat -c %u:%g "$1"', made)[1] == owner, made
    # Into the workdir itself, over what is there; application/octet-stream is a zip too.
    assert (await wc.write("index.js", "changed")).status == 204
    assert (await mount(exported.body, content_type="application/octet-stream")).status == 204
    assert wc.cat("/workspace/index.js") == STARTER["index.js"]["file"]["contents"].encode()

    # A zip without folder entries gets its folders, owned as the files are.
    loose = io.BytesIO()
    with zipfile.ZipFile(loose, "w") as archive:
        archive.writestr("a/b/c.txt", "deep")
    assert (await mount(loose.getvalue(), "loose")).status == 204
    assert wc.cat("/workspace/loose/a/b/c.txt") == b"deep"
    assert wc.sh('stat -c %u:%g "$1"', "/workspace/loose/a")[1] == owner

    assert_error(await mount(b"not a zip"), 400, code="EINVAL")
    for name in ("../up.txt", "/etc/evil", "a/../../up.txt"):
        evil = io.BytesIO()
        with zipfile.ZipFile(evil, "w") as archive:
            archive.writestr(name, "x")
        assert_error(await mount(evil.getvalue()), 403, code="EACCES")
    assert wc.sh('[ ! -e "$1" ] && [ ! -e "$2" ]', "/workspace/../up.txt", "/etc/evil")[0] == 0
    assert_error(await mount(exported.body, "../out"), 403, code="EACCES")


# --- Node's codes and messages -----------------------------------------------------------


async def test_each_node_error_code(api, docker_client):
    wc = await boot(
        api,
        docker_client,
        files={
            "a.txt": {"file": {"contents": "a"}},
            "src": {"directory": {"m.js": {"file": {"contents": "m"}}}},
            "full": {"directory": {"f": {"file": {"contents": "f"}}}},
            "empty": {"directory": {}},
        },
    )
    body = assert_error(await wc.read("missing.js"), 404, "ENOENT")
    assert body["message"] == "ENOENT: no such file or directory, open '/workspace/missing.js'"
    body = assert_error(await wc.write("no/such/dir.js", "x"), 404, "ENOENT")
    assert body["message"] == "ENOENT: no such file or directory, open '/workspace/no/such/dir.js'"
    # A small raw upload is checked and written in one go: the same answers.
    body = assert_error(await wc.put("no/such/dir.js", b"x"), 404, "ENOENT")
    assert body["message"] == "ENOENT: no such file or directory, open '/workspace/no/such/dir.js'"
    assert_error(await wc.put("a.txt/inner", b"x"), 409, "ENOTDIR")
    assert_error(await wc.put("src", b"x"), 409, "EISDIR")
    assert_error(await wc.put("nul\0byte", b"x"), 400, "EINVAL")
    assert wc.cat("/workspace/a.txt") == b"a"
    assert_error(
        await wc.readdir("nowhere"), 404, "ENOENT", contains="scandir '/workspace/nowhere'"
    )
    assert_error(await wc.rm("ghost"), 404, "ENOENT")
    assert_error(
        await wc.rename("ghost", "b"),
        404,
        "ENOENT",
        contains="'/workspace/ghost' -> '/workspace/b'",
    )
    assert_error(await wc.rename("a.txt", "nowhere/a.txt"), 404, "ENOENT")
    assert_error(await wc.mkdir("x/y"), 404, "ENOENT", contains="mkdir '/workspace/x/y'")

    body = assert_error(await wc.mkdir("src"), 409, "EEXIST")
    assert body["message"] == "EEXIST: file already exists, mkdir '/workspace/src'"
    assert_error(await wc.mkdir("a.txt", recursive=True), 409, "EEXIST")

    assert_error(await wc.readdir("a.txt"), 409, "ENOTDIR")
    assert_error(await wc.write("a.txt/inner", "x"), 409, "ENOTDIR")
    assert_error(await wc.rename("src", "a.txt"), 409, "ENOTDIR")

    assert_error(await wc.read("src"), 409, "EISDIR", contains="open '/workspace/src'")
    assert_error(await wc.read("."), 409, "EISDIR", contains="open '/workspace'")
    assert_error(await wc.write("src", "x"), 409, "EISDIR")
    assert_error(await wc.rm("empty"), 409, "EISDIR")
    assert_error(await wc.rename("a.txt", "empty"), 409, "EISDIR")

    assert_error(await wc.rename("src", "full"), 409, "ENOTEMPTY")

    assert_error(await wc.rename("src", "src/inside"), 400, "EINVAL")
    assert_error(await wc.write("nul\0byte", "x"), 400, "EINVAL")

    assert_error(await wc.read("../etc/passwd"), 403, "EACCES", contains="open '/etc/passwd'")

    # What succeeds, Node-style.
    assert (await wc.mkdir("src", recursive=True)).status == 204
    assert (await wc.mkdir("p/q/r", recursive=True)).status == 204
    assert (await wc.rm("ghost", force=True)).status == 204
    assert (await wc.rm("no/parent", force=True)).status == 204
    assert (await wc.rm("full", recursive=True)).status == 204
    assert (await wc.rename("src", "empty")).status == 204  # onto an empty folder
    assert wc.cat("/workspace/empty/m.js") == b"m"
    assert (await wc.rm("a.txt")).status == 204
    assert (await wc.readdir()).json() == ["empty", "p"]


async def test_stopped_container_answers_409_and_unknown_404(api, docker_client):
    wc = await boot(api, docker_client)
    assert (await api.post("containers", wc.id, "stop")).status == 200
    assert_error(await wc.read("a"), 409, code="ENOTRUNNING")
    assert_error(await wc.write("a", "x"), 409, code="ENOTRUNNING")
    assert_error(await wc.put("a", b"x"), 409, code="ENOTRUNNING")
    assert_error(await wc.spawn("true"), 409, code="ENOTRUNNING")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(await api.get("webcontainer", unknown, "fs", "readdir"), 404)
    assert_error(
        await api.put("webcontainer", unknown, "fs", "writeFile", raw=b"x", params={"path": "a"}),
        404,
    )


@pytest.mark.security_case(30)
async def test_bad_requests_are_400(api, docker_client):
    wc = await boot(api, docker_client)
    fs = ("webcontainer", wc.id, "fs")
    assert_error(await api.post(*fs, "writeFile", raw=b"{nope"), 400)
    assert_error(await api.post(*fs, "writeFile", body={"contents": "x"}), 400, contains="'path'")
    assert_error(await api.post(*fs, "writeFile", body={"path": "a", "contents": 5}), 400)
    assert_error(
        await api.post(
            *fs, "writeFile", body={"path": "a", "contents": "!!", "encoding": "base64"}
        ),
        400,
    )
    assert_error(
        await api.post(*fs, "writeFile", body={"path": "a", "contents": "x", "encoding": "latin1"}),
        400,
    )
    assert_error(await api.put(*fs, "writeFile", raw=b"x"), 400, contains="path")
    assert_error(await api.post(*fs, "mkdir", body={"path": 3}), 400)
    assert_error(await api.post(*fs, "mkdir", body={"path": "a", "recursive": "yes"}), 400)
    assert_error(await api.delete(*fs, "rm"), 400)
    assert_error(await api.delete(*fs, "rm", params={"path": "a", "recursive": "maybe"}), 400)
    assert_error(await api.post(*fs, "rename", body={"oldPath": "a"}), 400)
    assert_error(await api.get(*fs, "readdir", params={"withFileTypes": "perhaps"}), 400)
    assert_error(await wc.read("a", encoding="latin1"), 400)
    assert_error(await wc.rm(""), 403, "EPERM")


# --- escapes -----------------------------------------------------------------------------


@pytest.mark.security_case(10, 11)
async def test_dotdot_and_symlink_escapes_are_refused(api, docker_client):
    wc = await boot(
        api,
        docker_client,
        files={
            "a.txt": {"file": {"contents": "a"}},
            "src": {"directory": {"m.js": {"file": {"contents": "m"}}}},
        },
    )
    # /outside is root's (the container's user may not write at /; root, without
    # capabilities, may not write in the user's workdir): made as root, linked as the user.
    code, _ = wc.sh("mkdir -p /outside && echo secret > /outside/secret", user="root")
    assert code == 0
    code, _ = wc.sh(
        "ln -s /outside /workspace/out && ln -s /outside/secret /workspace/secret-link && "
        "ln -s src /workspace/inner-link && ln -s ../../outside /workspace/src/up"
    )
    assert code == 0

    for path in (
        "../outside/secret",
        "src/../../outside/secret",
        "/../outside/secret",
        "out/secret",
        "secret-link",
        "src/up/secret",
    ):
        assert_error(await wc.read(path), 403, "EACCES")
        assert_error(await wc.write(path, "pwned"), 403, "EACCES")
        assert_error(await wc.put(path, b"pwned"), 403, "EACCES")
    for path in ("../outside/secret", "out/secret", "src/up/secret"):
        assert_error(await wc.rm(path), 403, "EACCES")
        assert_error(await wc.rm(path, recursive=True, force=True), 403, "EACCES")
        assert_error(await wc.rename("a.txt", path), 403, "EACCES")
        assert_error(await wc.rename(path, "stolen"), 403, "EACCES")
    for path in ("..", "out", "src/up", "out/sub"):
        assert_error(await wc.readdir(path), 403, "EACCES")
        assert_error(await wc.mkdir(f"{path}/new", recursive=True), 403, "EACCES")
    assert_error(await wc.mkdir("out/new"), 403, "EACCES")
    assert_error(await wc.export("out"), 403, "EACCES")
    assert_error(await wc.spawn("pwd", cwd="../.."), 403, "EACCES")

    assert wc.cat("/outside/secret") == b"secret\n"
    assert wc.sh("ls -A /outside")[1] == b"secret\n"

    # Links that stay inside work, and removing a link removes the link, not its target.
    assert (await wc.read("inner-link/m.js")).body == b"m"
    assert (await wc.readdir("inner-link")).json() == ["m.js", "up"]
    assert (await wc.rm("out")).status == 204
    assert (await wc.rm("secret-link")).status == 204
    assert wc.cat("/outside/secret") == b"secret\n"


# --- names and bytes ---------------------------------------------------------------------

NASTY_NAMES = [
    'it\'s "quoted".txt',
    "$(id).js",
    "`whoami`.sh",
    "a;b&&c|d>e<f.txt",
    "tab\there.txt",
    "new\nline.txt",
    "ünïcødé 名前 🚀.md",
    "-rf",
    "--help",
    "-n",
    " leading and trailing ",
    "back\\slash",
    "*",
    "?[a]",
    "%41 percent.txt",
    "#hash&amp=1",
    "...",
    ".hidden",
    "~tilde",
    "$HOME",
    "\\$(reboot)",
]


@pytest.mark.security_case(13)
@pytest.mark.parametrize("name", NASTY_NAMES, ids=[repr(n) for n in NASTY_NAMES])
async def test_nasty_names_round_trip(api, docker_client, name):
    wc = await boot(api, docker_client)
    contents = f"{name}\n$(id) `id` ; rm -rf / \0 end"
    assert (await wc.write(name, contents)).status == 204
    assert wc.cat(f"/workspace/{name}") == contents.encode()
    assert (await wc.readdir()).json() == [name]
    assert (await wc.read(name)).body == contents.encode()

    assert (await wc.mkdir(f"{name}.d")).status == 204
    assert (await wc.put(f"{name}.d/{name}", b"\x00\xff" + name.encode())).status == 204
    assert (await wc.readdir(f"{name}.d", types=True)).json() == [{"name": name, "type": "file"}]
    assert (await wc.rename(name, f"{name}.d/{name}2")).status == 204
    assert sorted((await wc.readdir(f"{name}.d")).json()) == sorted([name, f"{name}2"])
    tree = (await wc.export()).json()
    assert tree[f"{name}.d"]["directory"][f"{name}2"]["file"]["contents"] == contents
    assert (await wc.rm(f"{name}.d", recursive=True)).status == 204
    assert (await wc.readdir()).json() == []


async def test_binary_round_trip_by_hash(api, docker_client):
    wc = await boot(api, docker_client)
    data = os.urandom(4 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    assert (await wc.put("bin/../random.bin", data)).status == 204
    assert wc.sh('sha256sum < "$1"', "/workspace/random.bin")[1].split()[0].decode() == digest
    back = await wc.read("random.bin")
    assert back.headers["Content-Length"] == str(len(data))
    assert hashlib.sha256(back.body).hexdigest() == digest

    # A refused upload answers at once, whatever its size.
    assert_error(await wc.put("missing/dir/random.bin", data), 404, "ENOENT")

    encoded = base64.b64encode(data[:100_000]).decode()
    assert (await wc.write("b64.bin", encoded, encoding="base64")).status == 204
    assert (await wc.read("b64.bin")).body == data[:100_000]
    assert (await wc.write("empty.txt", "")).status == 204
    empty = await wc.read("empty.txt")
    assert empty.status == 200 and empty.body == b""
    # Replacing is atomic: a new file renamed over the old one, which keeps
    # the old file's mode and owner.
    wc.sh('chmod 750 "$1"', "/workspace/random.bin")
    before = wc.sh('stat -c "%i %a %U" "$1"', "/workspace/random.bin")[1].split()
    assert (await wc.put("random.bin", b"short")).status == 204
    after = wc.sh('stat -c "%i %a %U" "$1"', "/workspace/random.bin")[1].split()
    assert after[0] != before[0] and after[1:] == before[1:] == [b"750", b"node"]
    assert (await wc.read("random.bin")).body == b"short"
