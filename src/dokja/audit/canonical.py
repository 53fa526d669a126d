"""RFC 8785 canonical JSON, fast: the standard library's C encoder on data it serialises exactly as RFC 8785
does, and the `rfc8785` package for whatever it might not.

The two agree on strings (only `"`, `\\` and control characters escaped, lower-case `\\u00xx`), on integers
and on the positional form of floats between 1e-4 and 1e16 (both print the shortest round-trip digits). They
differ on integral floats (RFC 8785 writes `1`, Python `1.0`: converted here first), on floats outside that
range (exponent forms), and on key order when a key holds a character above U+D7FF (RFC 8785 sorts by UTF-16
code units): for those the whole value goes to `rfc8785`. A test checks both paths give the same bytes.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


class _Unsure(Exception):
    """A value the fast path might write differently from RFC 8785."""


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        if kind is int and abs(value) >= 2**53:
            raise _Unsure  # beyond the integers a JSON number holds exactly: rfc8785 refuses them
        return value
    if kind is float:
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        if value.is_integer() or not 1e-4 <= abs(value) < 1e16:
            raise _Unsure
        return value
    if kind is dict:
        for k in value:
            if type(k) is not str or (not k.isascii() and any(ord(c) > 0xD7FF for c in k)):
                raise _Unsure
        return {k: _plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_plain(v) for v in value]
    raise _Unsure


def canonical_json(data: Any) -> bytes:
    """RFC 8785 canonical JSON: equal data give identical bytes."""
    try:
        return _ENCODER.encode(_plain(data)).encode("utf-8")
    except _Unsure:
        return rfc8785.dumps(data)
