"""Which user the processes of a new container run as (pure).

`c.ContainerManager.user` is "auto" by default: the user the image declares (its
`USER`), else the unprivileged user the image ships for this purpose (`node` in the
official Node.js images), else root. Any other value is used as given ("root",
"node", "1000", "1000:1000"). The answer is numeric, ``(uid, gid)``, looked up in the
image's /etc/passwd: the engine is given "uid:gid", and files the server writes into
the container (archives) carry those numbers.
"""

from __future__ import annotations

AUTO = "auto"
# Users an image ships for running its workload, in order of preference.
KNOWN_USERS = ("node",)
_ROOT = {"", "root", "0", "0:0", "root:root"}


class UnknownUser(ValueError):
    """The user named is not in the image's /etc/passwd."""


def is_root(user: str) -> bool:
    return user.strip() in _ROOT


def passwd_users(text: str) -> dict[str, tuple[int, int]]:
    """``{name: (uid, gid)}`` from the text of an /etc/passwd file (malformed lines
    are skipped)."""
    users: dict[str, tuple[int, int]] = {}
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[0] and fields[2].isdigit() and fields[3].isdigit():
            users.setdefault(fields[0], (int(fields[2]), int(fields[3])))
    return users


def needs_passwd(setting: str) -> bool:
    """Whether choosing needs the image's /etc/passwd (a name, or "auto")."""
    setting = setting.strip()
    return not is_root(setting) and not setting.replace(":", "").isdigit()


def resolve(spec: str, passwd: str | None) -> tuple[int, int] | None:
    """``"node"``, ``"1000"``, ``"1000:1000"`` or ``"node:1000"`` as ``(uid, gid)``; None
    for root. A uid without a gid takes its passwd entry's group, else the same number."""
    spec = spec.strip()
    if is_root(spec):
        return None
    user, _, group = spec.partition(":")
    users = passwd_users(passwd or "")
    if user.isdigit():
        uid = int(user)
        gid = next((g for u, g in users.values() if u == uid), uid)
    elif user in users:
        uid, gid = users[user]
    else:
        raise UnknownUser(f"User {user!r} is not in the image's /etc/passwd")
    if group:
        if not group.isdigit():
            raise UnknownUser(f"Group {group!r}: give the group as a number")
        gid = int(group)
    return None if uid == 0 else (uid, gid)


def choose_user(setting: str, image_user: str, passwd: str | None) -> tuple[int, int] | None:
    """``(uid, gid)`` for a new container, or None for root (the engine's default)."""
    setting = setting.strip()
    if setting != AUTO:
        return resolve(setting, passwd)
    if image_user and not is_root(image_user):
        return resolve(image_user, passwd)
    users = passwd_users(passwd or "")
    for name in KNOWN_USERS:
        if name in users and users[name][0] > 0:
            return users[name]
    return None


def user_spec(ids: tuple[int, int] | None) -> str:
    """What the engine is given: ``"1000:1000"``, or ``""`` for root."""
    return f"{ids[0]}:{ids[1]}" if ids else ""


def parse_spec(spec: str) -> tuple[int, int] | None:
    """The ``(uid, gid)`` of a container's ``"uid:gid"`` user (as created), else None."""
    user, _, group = (spec or "").partition(":")
    if user.isdigit() and int(user) != 0:
        return int(user), int(group) if group.isdigit() else int(user)
    return None
