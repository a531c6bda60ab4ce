import pytest

from jupyter_container_manager.core.container_user import (
    UnknownUser,
    choose_user,
    needs_passwd,
    parse_spec,
    passwd_users,
    resolve,
    user_spec,
)

PASSWD = """root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
node:x:1000:1000::/home/node:/bin/sh
app:x:1001:50::/home/app:/bin/sh
broken line
"""


def test_passwd_users():
    users = passwd_users(PASSWD)
    assert users["node"] == (1000, 1000)
    assert users["app"] == (1001, 50)
    assert "broken line" not in users


@pytest.mark.parametrize(
    "setting, image_user, expected",
    [
        ("auto", "", (1000, 1000)),  # the image's node user
        ("auto", "app", (1001, 50)),  # a declared user wins
        ("auto", "root", (1000, 1000)),  # declared root: the node user still
        ("root", "app", None),
        ("", "app", None),
        ("app", "", (1001, 50)),
        ("1001", "", (1001, 50)),  # a uid takes its passwd group
        ("4242", "", (4242, 4242)),  # unknown uid: same number as group
        ("node:7", "", (1000, 7)),
        ("0:0", "", None),
    ],
)
def test_choose_user(setting, image_user, expected):
    assert choose_user(setting, image_user, PASSWD) == expected


def test_auto_without_a_known_user_is_root():
    assert choose_user("auto", "", "root:x:0:0::/root:/bin/sh\n") is None
    assert choose_user("auto", "", None) is None


def test_unknown_names_are_refused():
    with pytest.raises(UnknownUser, match="'ghost'"):
        resolve("ghost", PASSWD)
    with pytest.raises(UnknownUser, match="number"):
        resolve("node:staff", PASSWD)


def test_needs_passwd():
    assert needs_passwd("auto") and needs_passwd("node")
    assert not needs_passwd("root") and not needs_passwd("1000:1000")


def test_spec_round_trip():
    assert user_spec((1000, 1000)) == "1000:1000"
    assert user_spec(None) == ""
    assert parse_spec("1000:1000") == (1000, 1000)
    assert parse_spec("") is None and parse_spec("0:0") is None
