"""GGUF headers parsed by hand: metadata and tensor table, checked against the file's length before any read."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32

_SCALARS = {
    0: ("<B", 1), 1: ("<b", 1), 2: ("<H", 2), 3: ("<h", 2), 4: ("<I", 4), 5: ("<i", 4),
    6: ("<f", 4), 7: ("<?", 1), 10: ("<Q", 8), 11: ("<q", 8), 12: ("<d", 8),
}
_NUMPY = {0: "<u1", 1: "<i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4", 7: "<u1",
          10: "<u8", 11: "<i8", 12: "<f8"}
_STRING, _ARRAY = 8, 9


class GGUFFormatError(ValueError):
    """The header does not describe a well-formed GGUF file; the message says where."""


@dataclass(frozen=True)
class GGUFTensor:
    name: str
    shape: tuple[int, ...]  # outermost first, as numpy sees it (GGUF lists dimensions innermost first)
    ggml_type: int
    offset: int  # absolute, from the start of the file
    nbytes: int


@dataclass(frozen=True)
class GGUFHeader:
    version: int
    metadata: dict
    tensors: list[GGUFTensor]
    data_offset: int


class _Cursor:
    def __init__(self, buf, size: int):
        self.buf, self.size, self.pos = buf, size, 0

    def take(self, n: int) -> int:
        if n < 0 or self.pos + n > self.size:
            raise GGUFFormatError(f"header runs past the end of the file at byte {self.pos}")
        start = self.pos
        self.pos += n
        return start

    def scalar(self, code: int):
        fmt, n = _SCALARS[code]
        return struct.unpack_from(fmt, self.buf, self.take(n))[0]

    def string(self) -> str:
        n = self.scalar(10)
        start = self.take(n)
        return bytes(self.buf[start:start + n]).decode("utf-8", errors="replace")

    def value(self, code: int):
        if code == _STRING:
            return self.string()
        if code in _SCALARS:
            return self.scalar(code)
        if code == _ARRAY:
            inner, count = self.scalar(4), self.scalar(10)
            if inner == _STRING:
                return [self.string() for _ in range(count)]
            if inner in _NUMPY:
                width = np.dtype(_NUMPY[inner]).itemsize
                start = self.take(count * width)
                arr = np.frombuffer(self.buf, dtype=_NUMPY[inner], count=count, offset=start)
                return arr.astype(bool if inner == 7 else arr.dtype).tolist()
            if inner == _ARRAY:
                return [self.value(_ARRAY) for _ in range(count)]
            raise GGUFFormatError(f"unknown array element type {inner} at byte {self.pos}")
        raise GGUFFormatError(f"unknown value type {code} at byte {self.pos}")


def row_bytes(shape: tuple[int, ...], ggml_type: int) -> int:
    """Stored bytes of one innermost row; quantised blocks never straddle rows."""
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    block, size = GGML_QUANT_SIZES[GGMLQuantizationType(ggml_type)]
    inner = shape[-1] if shape else 1
    if inner % block:
        raise GGUFFormatError(f"row of {inner} values is not a whole number of {block}-value blocks")
    return inner // block * size


def read_header(path: Path, buf, size: int) -> GGUFHeader:
    """Parse magic, version, metadata and tensor table from `buf` (an mmap of the file), checking every bound."""
    cur = _Cursor(buf, size)
    if size < 4 or bytes(buf[:4]) != MAGIC:
        raise GGUFFormatError("not a GGUF file (no GGUF magic)")
    cur.take(4)
    version = cur.scalar(4)
    if version not in (2, 3):
        raise GGUFFormatError(f"unsupported GGUF version {version} (big-endian or future files are not read)")
    n_tensors, n_kv = cur.scalar(10), cur.scalar(10)
    if n_tensors > size or n_kv > size:
        raise GGUFFormatError(f"header claims {n_tensors} tensors and {n_kv} metadata keys, more than the file holds")
    metadata: dict = {}
    for _ in range(n_kv):
        key = cur.string()
        metadata[key] = cur.value(cur.scalar(4))
    raw = []
    for _ in range(n_tensors):
        name = cur.string()
        n_dims = cur.scalar(4)
        if n_dims > 8:
            raise GGUFFormatError(f"tensor {name}: {n_dims} dimensions")
        dims = [cur.scalar(10) for _ in range(n_dims)]
        raw.append((name, tuple(reversed(dims)), cur.scalar(4), cur.scalar(10)))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        raise GGUFFormatError(f"general.alignment {alignment!r} is not a power of two")
    data_offset = -(-cur.pos // alignment) * alignment
    tensors = [_tensor(name, shape, kind, data_offset + rel) for name, shape, kind, rel in raw]
    return GGUFHeader(version, metadata, tensors, data_offset)


def _tensor(name: str, shape: tuple[int, ...], kind: int, offset: int) -> GGUFTensor:
    from gguf.constants import GGMLQuantizationType

    try:
        GGMLQuantizationType(kind)
    except ValueError:
        raise GGUFFormatError(f"tensor {name}: unknown GGML type {kind}") from None
    rows = math.prod(shape[:-1])  # Python integers: a lying header cannot overflow into a small size
    return GGUFTensor(name, shape, kind, offset, rows * row_bytes(shape, kind))


def type_name(ggml_type: int) -> str:
    from gguf.constants import GGMLQuantizationType

    return GGMLQuantizationType(ggml_type).name


def dequantize(raw: np.ndarray, ggml_type: int, shape: tuple[int, ...]) -> np.ndarray:
    """Stored bytes of whole rows → float32 of `shape`."""
    from gguf.constants import GGMLQuantizationType
    from gguf.quants import dequantize as _dequantize

    kind = GGMLQuantizationType(ggml_type)
    if kind == GGMLQuantizationType.F32:
        return raw.view("<f4").reshape(shape).astype(np.float32)
    if kind == GGMLQuantizationType.F16:
        return raw.view("<f2").reshape(shape).astype(np.float32)
    if kind == GGMLQuantizationType.BF16:
        return np.left_shift(raw.view("<u2"), 16, dtype=np.uint32).view(np.float32).reshape(shape)
    inner = shape[-1] if shape else 1
    rows = raw.reshape(-1, row_bytes(shape, ggml_type))
    return np.asarray(_dequantize(rows, kind), dtype=np.float32).reshape(*shape[:-1], inner)
