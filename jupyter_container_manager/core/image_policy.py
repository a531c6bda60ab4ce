"""Which images may be run: ``c.ContainerManager.allowed_images`` (pure).

Patterns are shell-style (``fnmatch``), matched case-sensitively against the image
reference as the request or the setting names it. A reference without a tag or digest
also matches as ``<name>:latest``, since that is what the engine runs for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def _references(image: str) -> list[str]:
    """The spellings of ``image`` patterns are matched against."""
    last_part = image.rsplit("/", 1)[-1]
    if "@" in image or ":" in last_part:
        return [image]
    return [image, f"{image}:latest"]


def image_allowed(image: str, patterns: Iterable[str]) -> bool:
    """True when ``patterns`` is empty (any image) or one pattern matches ``image``."""
    patterns = list(patterns)
    if not patterns:
        return True
    return any(fnmatchcase(ref, pattern) for ref in _references(image) for pattern in patterns)
