"""Read any checkpoint tensor by tensor without loading it: headers first, then memory-mapped rows.

Hugging Face directories (one or sharded safetensors, or PyTorch ``.bin`` as a last resort), single
``.safetensors`` files and GGUF files all look the same from here: a table of tensors, a config with
HF-style keys, the tokenizer and the model card. Every header is checked against the file's length on open,
so a truncated or lying file fails there, in one line, and nothing is ever read past a file's end.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import gguf_file, sidefiles
from .errors import CheckpointError


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str  # safetensors dtype (F32, BF16, ...) or GGML type name (Q4_K, F16, ...)
    file: Path
    offset: int  # absolute byte offset of the stored tensor in `file`
    nbytes: int


SAFETENSORS_DTYPES = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
    "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1,
}
_NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U8": "u1", "BOOL": "u1", "U16": "<u2", "U32": "<u4", "U64": "<u8"}
_WILLNEED_FROM = 1 << 20
READ_CHUNK = 2 << 20  # one disk request of `read_into`; many in flight keep the disk as busy as one long read
READ_THREADS = 32



class Checkpoint:
    """A checkpoint's tensor table and side files; reads touch only the bytes asked for. A context manager."""

    def __init__(self, path: Path, tensors: dict[str, TensorInfo], config: dict, *, kind: str,
                 side: Path | None = None, metadata: dict | None = None, torch_tensors: dict | None = None):
        self.path = path
        self.tensors = tensors
        self.config = config
        self.kind = kind  # "safetensors", "gguf" or "torch"
        self.metadata = metadata or {}  # GGUF key/values (safetensors: the __metadata__ of the first file)
        self.bytes_read = 0  # stored bytes read so far through read()/sha256()
        self.read_log: list[tuple[Path, int, int]] | None = None  # set to a list to record (file, offset, size)
        self._side = side  # folder holding tokenizer.json, README.md, ...
        self._maps: dict[Path, mmap.mmap] = {}
        self._fds: dict[Path, int] = {}
        self._lock = threading.Lock()  # reads may come from several threads
        self._torch = torch_tensors or {}

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.path)!r}, {self.kind}, {len(self.tensors)} tensors)"

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for mapped in self._maps.values():
            mapped.close()
        self._maps.clear()
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        self._torch = {}

    def info(self, name: str) -> TensorInfo:
        try:
            return self.tensors[name]
        except KeyError:
            raise CheckpointError(f"{self.path}: no tensor named {name!r}") from None

    def read(self, name: str, rows: slice | Sequence[int] | None = None) -> np.ndarray:
        """Rows of dimension 0 (all by default) as float32, reading only those rows' stored bytes."""
        info = self.info(name)
        runs, count = _runs(rows, info.shape[0] if info.shape else 1, f"{self.path}: tensor {name}")
        out_shape = (count, *info.shape[1:]) if info.shape else ()
        if rows is None:
            out_shape = info.shape
        if self.kind == "torch":
            return self._read_torch(info, runs, out_shape)
        if info.dtype in _DIRECT and self.kind == "safetensors":
            return self._read_direct(info, runs, count, out_shape)
        raw = self._raw(info, runs)
        try:
            return self._decode(info, raw, out_shape)
        except (NotImplementedError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{info.file}: tensor {name} of type {info.dtype} cannot be read ({exc})") from None

    def read_hashed(self, name: str) -> tuple[np.ndarray, str]:
        """The whole tensor as float32 and the SHA-256 of its stored bytes, read once."""
        info = self.info(name)
        if self.kind == "torch":
            return self.read(name), self.sha256(name)
        raw = self._raw(info, [(0, info.shape[0] if info.shape else 1)])
        return self._decode(info, raw, info.shape), hashlib.sha256(raw).hexdigest()

    def can_read_into(self, name: str, rows) -> bool:
        """Whether `read_into` serves these rows: float safetensors tensors, all rows or one contiguous run."""
        info = self.info(name)
        return (self.kind == "safetensors" and info.dtype in _DIRECT and len(info.shape) >= 1
                and (rows is None or (isinstance(rows, slice) and rows.step in (None, 1))))

    def read_into(self, requests, pool) -> list:
        """Read many row runs at once, each converted to float32 straight into the caller's array.

        `requests` holds (name, rows, out, scale): `out` is a float32 array (or view) of shape (rows, width)
        and `scale`, when given, multiplies each row as it lands (a norm folded in). The runs are cut into
        requests of `READ_CHUNK` bytes handed to `pool` in file order, so many are in flight on the disk at
        once while the ones already arrived are converted; returns the futures to wait on."""
        jobs = []
        for name, rows, out, scale in sorted(requests, key=lambda r: (str(self.tensors[r[0]].file),
                                                                      self.tensors[r[0]].offset)):
            info = self.info(name)
            if not self.can_read_into(name, rows):
                raise CheckpointError(f"{info.file}: tensor {name} cannot be read into place")
            runs, count = _runs(rows, info.shape[0], f"{self.path}: tensor {name}")
            per_row = _row_bytes(info)
            width = per_row // SAFETENSORS_DTYPES[info.dtype]
            if out.shape != (count, width) or out.dtype != np.float32:
                raise ValueError(f"tensor {name}: target {out.shape} {out.dtype}, rows are ({count}, {width})")
            fd = self._fd(info.file)
            step = max(1, READ_CHUNK // max(per_row, 1))
            at = 0
            for a, b in runs:
                self._count(info.file, info.offset + a * per_row, (b - a) * per_row)
                for r in range(a, b, step):
                    n = min(step, b - r)
                    jobs.append(pool.submit(_land, fd, info.offset + r * per_row, n * per_row, info.dtype,
                                            out[at:at + n], scale, info.file))
                    at += n
        return jobs

    def _fd(self, file: Path) -> int:
        with self._lock:
            if file not in self._fds:
                self._fds[file] = os.open(file, os.O_RDONLY)
            return self._fds[file]

    def sha256(self, name: str) -> str:
        """SHA-256 of the tensor's stored bytes: equal hashes mean an exact copy."""
        info = self.info(name)
        digest = hashlib.sha256()
        if self.kind == "torch":
            digest.update(_torch_bytes(self._torch[name]))
            self._count(info.file, info.offset, info.nbytes)
            return digest.hexdigest()
        mapped = self._map(info.file)
        step = 16 << 20
        for start in range(info.offset, info.offset + info.nbytes, step):
            end = min(start + step, info.offset + info.nbytes)
            digest.update(mapped[start:end])
        self._count(info.file, info.offset, info.nbytes)
        return digest.hexdigest()

    def tokenizer(self) -> dict | None:
        """Tokens in id order, BPE merges in rank order (None where the model has none) and the model kind."""
        if self.kind == "gguf":
            tokens = self.metadata.get("tokenizer.ggml.tokens")
            if tokens is None:
                return None
            kind = self.metadata.get("tokenizer.ggml.model", "")
            merges = self.metadata.get("tokenizer.ggml.merges")
            return {"tokens": list(tokens), "merges": list(merges) if merges is not None else None,
                    "model": sidefiles.GGUF_TOKENIZER_MODELS.get(kind, kind)}
        return sidefiles.hf_tokenizer(self._side) if self._side else None

    def card(self) -> dict:
        """Model-card facts that speak to provenance: base model and licence."""
        if self.kind == "gguf":
            return sidefiles.gguf_card(self.metadata)
        return sidefiles.readme_card(self._side / "README.md") if self._side else {}

    # -- bytes ---------------------------------------------------------------------------------------

    def _map(self, file: Path) -> mmap.mmap:
        with self._lock:
            if file not in self._maps:
                with open(file, "rb") as fh:
                    self._maps[file] = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            return self._maps[file]

    def _count(self, file: Path, start: int, size: int) -> None:
        with self._lock:
            self.bytes_read += size
            if self.read_log is not None:
                self.read_log.append((file, start, size))

    def _ranges(self, info: TensorInfo, runs: list[tuple[int, int]]):
        """(mapped file, start, size) per run, counted as read."""
        row = _row_bytes(info)
        mapped = self._map(info.file)
        for a, b in runs:
            start, size = info.offset + a * row, (b - a) * row
            if size >= _WILLNEED_FROM:
                _advise(mapped, start, size)
            self._count(info.file, start, size)
            yield mapped, start, size

    def _raw(self, info: TensorInfo, runs: list[tuple[int, int]]) -> np.ndarray:
        row, fd = _row_bytes(info), self._fd(info.file)
        parts = []
        for a, b in runs:
            start, size = info.offset + a * row, (b - a) * row
            self._count(info.file, start, size)
            parts.append(_pread(fd, start, size, info.file))
        if len(parts) == 1:
            return parts[0]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint8)

    def _read_direct(self, info: TensorInfo, runs, count: int, shape: tuple[int, ...]) -> np.ndarray:
        """Convert float rows straight from the map into the float32 result: one pass, no staging copy."""
        per_row = int(np.prod(info.shape[1:], dtype=np.int64)) if len(info.shape) > 1 else 1
        out = np.empty(count * per_row, dtype=np.uint32 if info.dtype == "BF16" else np.float32)
        at = 0
        for mapped, start, size in self._ranges(info, runs):
            n = size // SAFETENSORS_DTYPES[info.dtype]
            stored = np.frombuffer(mapped, dtype=_NUMPY.get(info.dtype, "<u2"), count=n, offset=start)
            if info.dtype == "BF16":  # bfloat16 is the top half of a float32
                np.left_shift(stored, 16, out=out[at:at + n], dtype=np.uint32)
            else:
                out[at:at + n] = stored
            at += n
            del stored
        return out.view(np.float32).reshape(shape)

    def _decode(self, info: TensorInfo, raw: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        if self.kind == "gguf":
            return gguf_file.dequantize(raw, _ggml_type(info.dtype), shape)
        if info.dtype == "BF16":
            return bf16_to_float32(raw).reshape(shape)
        if info.dtype in ("F8_E4M3", "F8_E5M2"):
            return _fp8_table(info.dtype)[raw].reshape(shape)
        return raw.view(_NUMPY[info.dtype]).astype(np.float32).reshape(shape)

    def _read_torch(self, info: TensorInfo, runs, shape) -> np.ndarray:
        import torch

        tensor = self._torch[info.name]
        if tensor.dim() == 0:
            parts = [tensor.reshape(1)]
        else:
            parts = [tensor[a:b] for a, b in runs]
        out = torch.cat(parts).to(torch.float32).numpy().reshape(shape)
        row = info.nbytes // (info.shape[0] if info.shape else 1) if info.nbytes else 0
        self._count(info.file, info.offset, sum(b - a for a, b in runs) * row)
        return out


_DIRECT = ("BF16", "F16", "F32")


def _pread(fd: int, start: int, size: int, file: Path) -> np.ndarray:
    buf = np.empty(size, dtype=np.uint8)
    got = 0
    while got < size:
        n = os.preadv(fd, [memoryview(buf)[got:]], start + got)
        if n <= 0:
            raise CheckpointError(f"{file}: file ended at byte {start + got} inside a tensor")
        got += n
    return buf


def _land(fd: int, start: int, size: int, dtype: str, out: np.ndarray, scale, file: Path) -> None:
    """One request of `read_into`: read, convert into `out`, fold `scale` in while the rows are in cache."""
    raw = _pread(fd, start, size, file).reshape(out.shape[0], -1)
    if dtype == "BF16":  # bfloat16 is the top half of a float32
        np.left_shift(raw.view("<u2"), 16, out=out.view(np.uint32), dtype=np.uint32)
    else:
        out[...] = raw.view(_NUMPY[dtype])
    if scale is not None:
        np.multiply(out, scale, out=out)


def bf16_to_float32(raw: np.ndarray) -> np.ndarray:
    """Stored bfloat16 bytes → float32 values (bfloat16 is the top half of a float32)."""
    return np.left_shift(raw.view("<u2"), 16, dtype=np.uint32).view(np.float32)


def _row_bytes(info: TensorInfo) -> int:
    n0 = info.shape[0] if info.shape else 1
    return info.nbytes // n0 if n0 else 0


def _advise(mapped: mmap.mmap, start: int, size: int) -> None:
    if size <= 0 or not hasattr(mapped, "madvise"):
        return
    page = start - start % mmap.PAGESIZE
    mapped.madvise(mmap.MADV_WILLNEED, page, start + size - page)


def _runs(rows, n0: int, where: str) -> tuple[list[tuple[int, int]], int]:
    """Row selection → contiguous (start, stop) runs in the order asked, so each read is sequential."""
    if rows is None:
        return [(0, n0)], n0
    if isinstance(rows, slice):
        start, stop, step = rows.indices(n0)
        if step == 1:
            return ([(start, stop)] if stop > start else []), max(0, stop - start)
        ids = np.arange(start, stop, step)
    else:
        ids = np.asarray(rows, dtype=np.int64).reshape(-1)
    if ids.size and (ids.min() < 0 or ids.max() >= n0):
        raise CheckpointError(f"{where}: row index out of range 0..{n0 - 1}")
    runs: list[tuple[int, int]] = []
    for i in ids.tolist():
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs, int(ids.size)


def _ggml_type(name: str) -> int:
    from gguf.constants import GGMLQuantizationType

    return int(GGMLQuantizationType[name])


def _fp8_table(dtype: str) -> np.ndarray:
    exp_bits, man_bits, bias = (4, 3, 7) if dtype == "F8_E4M3" else (5, 2, 15)
    codes = np.arange(256)
    sign = np.where(codes & 0x80, -1.0, 1.0)
    exp = (codes >> man_bits) & ((1 << exp_bits) - 1)
    man = codes & ((1 << man_bits) - 1)
    normal = (1 + man / (1 << man_bits)) * 2.0 ** (exp - bias)
    subnormal = (man / (1 << man_bits)) * 2.0 ** (1 - bias)
    table = sign * np.where(exp == 0, subnormal, normal)
    if dtype == "F8_E4M3":
        table[(exp == 15) & (man == 7)] = np.nan
    else:
        table[exp == 31] = np.where(man[exp == 31] == 0, np.inf, np.nan) * sign[exp == 31]
    return table.astype(np.float32)


def _torch_bytes(tensor) -> bytes:
    import torch

    flat = tensor.contiguous().reshape(-1)
    return flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b""


# -- opening -------------------------------------------------------------------------------------------


def drop_from_cache(files) -> None:
    """Ask the kernel to forget these files' cached pages, so the next read comes from the disk."""
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


# Opening builds the classes above, so it is imported last; `open_checkpoint` stays this module's entry point.
from .formats import gguf_config, open_checkpoint, safetensors_header  # noqa: E402, F401
