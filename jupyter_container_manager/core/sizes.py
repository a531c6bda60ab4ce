"""Byte sizes in settings: ``"512m"``, ``"2g"``, ``"64MiB"`` or a number of bytes.

Pure: :func:`parse_size` reads one, :class:`ByteSize` is the trait whose value is always
an int of bytes (as jupyterhub's ``ByteSpecification``, in binary units).
"""

from __future__ import annotations

import re

from traitlets import TraitError, TraitType

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_size(value: str | int) -> int:
    """``"512m"`` -> 536870912 bytes; an int is taken as bytes."""
    if isinstance(value, bool):
        raise ValueError(f"not a size: {value!r}")
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        raise ValueError(f"not a size: {value!r} (use e.g. 512m, 1g or an int of bytes)")
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"not a size: {value!r} (use e.g. 512m, 1g or bytes)")
    number, unit = match.groups()
    return int(float(number) * _UNITS[unit.lower()])


class ByteSize(TraitType):
    """A number of bytes, set as an int or as text with a binary unit (k, m, g, t; an
    optional ``i`` and ``b``: "512m", "2G", "64MiB"). Reads back as an int. ``min``
    refuses smaller sizes."""

    default_value = 0
    info_text = "a size in bytes, or with a unit: '512m', '2g'"

    def __init__(self, default_value=0, *, min: int = 0, **kwargs):
        self.min = min
        super().__init__(default_value=default_value, **kwargs)

    def validate(self, obj, value):
        try:
            size = parse_size(value)
        except (TypeError, ValueError) as err:
            name = self.name or "size"
            raise TraitError(f"{name}: {err}") from None
        if size < self.min:
            raise TraitError(f"{self.name} must be at least {self.min} bytes, not {size}")
        return size

    def from_string(self, s: str):
        return s  # validate() reads the unit
