"""fs_scripts.py: reading the scripts' status lines and tools' error texts. No Docker."""

from __future__ import annotations

import pytest

from jupyter_container_manager.engine import fs_scripts as scripts


@pytest.mark.parametrize(
    "line, expected",
    [
        ("OK", (True, "")),
        ("OK 1234", (True, "1234")),
        ("OK file 3 1700000000 81a4", (True, "file 3 1700000000 81a4")),
        ("ERR ENOENT", (False, "ENOENT")),
        ("ERR EACCES ", (False, "EACCES")),
        (None, (False, "")),
        ("sh: 1: oops", (False, "")),
        ("OKAY", (False, "")),
    ],
)
def test_parse_status(line, expected):
    assert scripts.parse_status(line) == expected


@pytest.mark.parametrize(
    "text, code",
    [
        (b"sh: 1: cannot create /workspace/x: Permission denied\n", "EACCES"),
        (b"mkdir: cannot create directory '/w/a': File exists\n", "EEXIST"),
        ("rm: cannot remove 'x': Is a directory", "EISDIR"),
        ("mv: cannot move 'a' to a subdirectory of itself, 'a/b'", "EINVAL"),
        ("cat: write error: No space left on device", "ENOSPC"),
        ("sh: 1: cannot create /w/x: Directory nonexistent", "ENOENT"),
        ("rmdir: failed to remove 'd': Directory not empty", "ENOTEMPTY"),
        ("something else entirely", "EIO"),
        (b"", "EIO"),
        # ScriptOutput keeps stderr in a bytearray
        (bytearray(b"ls: cannot access 'x': No such file or directory"), "ENOENT"),
        (bytearray(), "EIO"),
    ],
)
def test_code_from_stderr(text, code):
    assert scripts.code_from_stderr(text) == code


def test_scripts_paste_no_caller_text():
    """Every script reads caller values only from its positional parameters."""
    for name in ("READ", "WRITE", "MKDIR", "RM", "RENAME", "READDIR", "STAT", "EXPORT"):
        script = getattr(scripts, name)
        assert script.startswith(scripts.PRELUDE)
        assert "eval" not in script
        assert '"$2"' in script
