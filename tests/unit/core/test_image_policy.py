"""allowed_images matching (pure)."""

from __future__ import annotations

import pytest

from jupyter_container_manager.core.errors import ImageNotAllowed
from jupyter_container_manager.core.image_policy import image_allowed


def test_no_patterns_allow_any_image():
    assert image_allowed("anything:at-all", [])


@pytest.mark.parametrize(
    ("image", "patterns", "allowed"),
    [
        ("jupyter-container-manager/node:bookworm", ["jupyter-container-manager/*"], True),
        ("node:20-alpine", ["node:2?-alpine"], True),
        ("node:18-alpine", ["node:20-*"], False),
        ("node", ["node:latest"], True),  # no tag: the engine runs :latest
        ("node:20", ["node:latest"], False),
        ("evil/node:20", ["node:*"], False),  # a pattern does not match a longer name
        ("Node:20", ["node:*"], False),  # case matters, as it does to the engine
        ("registry.local:5000/app", ["registry.local:5000/app:latest"], True),
        ("node@sha256:abc", ["node:*"], False),
        ("busybox", ["node:*", "busybox*"], True),
    ],
)
def test_patterns(image, patterns, allowed):
    assert image_allowed(image, patterns) is allowed


def test_refusal_is_a_403_naming_the_image_and_the_setting():
    err = ImageNotAllowed("evil:1", ["node:*"])
    assert err.status == 403
    assert err.to_json()["code"] == "EIMAGE_NOT_ALLOWED"
    assert "'evil:1'" in err.message and "allowed_images" in err.message
