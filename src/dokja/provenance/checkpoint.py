"""Read any checkpoint tensor by tensor without loading it: headers first, then memory-mapped rows.

Hugging Face directories (one or sharded safetensors, or PyTorch ``.bin`` as a last resort), single
``.safetensors`` files and GGUF files all look the same from here: a table of tensors, a config with
HF-style keys, the tokenizer and the model card. Every header is checked against the file's length on open,
so a truncated or lying file fails there, in one line, and nothing is ever read past a file's end.
"""

from __future__ import annotations

import hashlib
import json
import math
import mmap
import os
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import gguf_file


class CheckpointError(ValueError):
    """A checkpoint that cannot be read as it claims to be; the message names the file and the fault."""


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
_MAX_HEADER = 100 * 1024 * 1024
_WILLNEED_FROM = 1 << 20
READ_CHUNK = 2 << 20  # one disk request of `read_into`; many in flight keep the disk as busy as one long read
READ_THREADS = 32

GGUF_ARCH_TYPES = {
    "llama": ("llama", "LlamaForCausalLM"), "mistral": ("mistral", "MistralForCausalLM"),
    "qwen2": ("qwen2", "Qwen2ForCausalLM"), "qwen3": ("qwen3", "Qwen3ForCausalLM"),
    "qwen2moe": ("qwen2_moe", "Qwen2MoeForCausalLM"), "qwen3moe": ("qwen3_moe", "Qwen3MoeForCausalLM"),
    "gemma": ("gemma", "GemmaForCausalLM"), "gemma2": ("gemma2", "Gemma2ForCausalLM"),
    "gemma3": ("gemma3_text", "Gemma3ForCausalLM"), "phi3": ("phi3", "Phi3ForCausalLM"),
    "deepseek2": ("deepseek_v2", "DeepseekV2ForCausalLM"), "olmo2": ("olmo2", "Olmo2ForCausalLM"),
    "exaone": ("exaone", "ExaoneForCausalLM"), "clip": ("clip", "CLIPModel"),
}
GGUF_CONFIG_KEYS = {
    "block_count": "num_hidden_layers", "embedding_length": "hidden_size",
    "feed_forward_length": "intermediate_size", "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads", "vocab_size": "vocab_size",
    "context_length": "max_position_embeddings", "expert_count": "num_local_experts",
    "expert_used_count": "num_experts_per_tok", "rope.freq_base": "rope_theta",
    "attention.layer_norm_rms_epsilon": "rms_norm_eps", "attention.key_length": "head_dim",
    "expert_feed_forward_length": "moe_intermediate_size",
}
GGUF_TOKENIZER_MODELS = {"gpt2": "bpe", "llama": "sentencepiece", "t5": "unigram", "bert": "wordpiece"}
CARD_KEYS = ("base_model", "base_model_relation", "license", "license_name")


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
                    "model": GGUF_TOKENIZER_MODELS.get(kind, kind)}
        return _hf_tokenizer(self._side) if self._side else None

    def card(self) -> dict:
        """Model-card facts that speak to provenance: base model and licence."""
        if self.kind == "gguf":
            return _gguf_card(self.metadata)
        return _readme_card(self._side / "README.md") if self._side else {}

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


def open_checkpoint(path: str | Path) -> Checkpoint:
    """Open an HF directory, a .safetensors file, a .gguf file or a PyTorch .bin, reading headers only."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found")
    if path.is_dir():
        return _open_directory(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == gguf_file.MAGIC or path.suffix == ".gguf":
        return _open_gguf(path)
    if path.suffix in (".bin", ".pt", ".pth"):
        return _open_torch([path], path, _config(path.parent), side=path.parent)
    return _open_safetensors([path], path, _config(path.parent), side=path.parent)


def _open_directory(folder: Path) -> Checkpoint:
    config = _config(folder)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        return _open_safetensors(_shards(index, folder), folder, config, side=folder, index=_weight_map(index))
    if (folder / "model.safetensors").is_file():
        return _open_safetensors([folder / "model.safetensors"], folder, config, side=folder)
    loose = sorted(folder.glob("*.safetensors"))
    if loose:
        return _open_safetensors(loose, folder, config, side=folder)
    bin_index = folder / "pytorch_model.bin.index.json"
    if bin_index.is_file():
        return _open_torch(_shards(bin_index, folder), folder, config, side=folder)
    if (folder / "pytorch_model.bin").is_file():
        return _open_torch([folder / "pytorch_model.bin"], folder, config, side=folder)
    ggufs = sorted(folder.glob("*.gguf"))
    if len(ggufs) == 1:
        return _open_gguf(ggufs[0])
    raise CheckpointError(f"{folder}: no weights found (model.safetensors, an index, pytorch_model.bin or one .gguf)")


def _weight_map(index: Path) -> dict[str, str]:
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{index}: unreadable index ({exc})") from None
    mapping = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise CheckpointError(f"{index}: no weight_map of tensor name → shard file")
    return mapping


def _shards(index: Path, folder: Path) -> list[Path]:
    files = []
    for name in sorted(set(_weight_map(index).values())):
        shard = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise CheckpointError(f"{index}: shard {name!r} points outside the checkpoint folder")
        if not shard.is_file():
            raise CheckpointError(f"{index}: shard {name} named in the index is missing")
        files.append(shard)
    return files


def _config(folder: Path) -> dict:
    file = folder / "config.json"
    if not file.is_file():
        return {}
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{file}: expected a JSON object")
    text = config.get("text_config")
    if isinstance(text, dict):  # multimodal configs keep the language model's sizes one level down
        for key, value in text.items():
            config.setdefault(key, value)
    return config


def safetensors_header(file: Path) -> tuple[dict[str, TensorInfo], dict]:
    """Parse and check one safetensors header: 8-byte little-endian length, then JSON."""
    size = file.stat().st_size
    with open(file, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{file}: truncated safetensors file ({size} bytes, no header length)")
        (length,) = struct.unpack("<Q", head)
        if length > size - 8:
            raise CheckpointError(f"{file}: header length {length} runs past the end of the file ({size} bytes)")
        if length > _MAX_HEADER:
            raise CheckpointError(f"{file}: header length {length} is implausibly large")
        text = fh.read(length)
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file}: safetensors header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{file}: safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    base, data_size = 8 + length, size - 8 - length
    tensors = {}
    for name, entry in header.items():
        tensors[name] = _safetensors_entry(file, name, entry, base, data_size)
    _check_overlaps(file, tensors.values())
    return tensors, metadata if isinstance(metadata, dict) else {}


def _safetensors_entry(file: Path, name: str, entry, base: int, data_size: int) -> TensorInfo:
    where = f"{file}: tensor {name}"
    if not isinstance(entry, dict):
        raise CheckpointError(f"{where}: header entry is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in SAFETENSORS_DTYPES:
        raise CheckpointError(f"{where}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise CheckpointError(f"{where}: shape {shape!r} is not a list of sizes")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise CheckpointError(f"{where}: data_offsets {offsets!r} are not [begin, end]")
    if offsets[1] > data_size:
        raise CheckpointError(f"{where}: data runs past the end of the file (ends at {base + offsets[1]}, "
                              f"file has {base + data_size} bytes)")
    expected = math.prod(shape) * SAFETENSORS_DTYPES[dtype]  # Python integers: no overflow from a lying shape
    if offsets[1] - offsets[0] != expected:
        raise CheckpointError(f"{where}: {dtype} {shape} needs {expected} bytes but the header gives "
                              f"{offsets[1] - offsets[0]}")
    return TensorInfo(name, tuple(shape), dtype, file, base + offsets[0], expected)


def _check_overlaps(file: Path, infos) -> None:
    ordered = sorted((i for i in infos if i.nbytes), key=lambda i: i.offset)
    for before, after in zip(ordered, ordered[1:]):
        if after.offset < before.offset + before.nbytes:
            raise CheckpointError(f"{file}: tensors {before.name} and {after.name} overlap")


def _open_safetensors(files: list[Path], path: Path, config: dict, *, side: Path,
                      index: dict[str, str] | None = None) -> Checkpoint:
    tensors: dict[str, TensorInfo] = {}
    first_meta: dict = {}
    for file in files:
        found, meta = safetensors_header(file)
        first_meta = first_meta or meta
        for name, info in found.items():
            if name in tensors:
                raise CheckpointError(f"{file}: tensor {name} also stored in {tensors[name].file.name}")
            tensors[name] = info
    for name, shard in (index or {}).items():
        if name not in tensors or tensors[name].file.name != Path(shard).name:
            raise CheckpointError(f"{path / 'model.safetensors.index.json'}: tensor {name} is not in shard {shard}")
    return Checkpoint(path, tensors, config, kind="safetensors", side=side, metadata=first_meta)


def _open_gguf(file: Path) -> Checkpoint:
    size = file.stat().st_size
    try:
        with open(file, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        header = gguf_file.read_header(file, mapped, size)
    except gguf_file.GGUFFormatError as exc:
        raise CheckpointError(f"{file}: {exc}") from None
    except (UnicodeDecodeError, struct.error, ValueError) as exc:
        raise CheckpointError(f"{file}: corrupt GGUF header ({exc})") from None
    tensors = {}
    for t in header.tensors:
        if t.offset + t.nbytes > size:
            raise CheckpointError(f"{file}: tensor {t.name} runs past the end of the file "
                                  f"(ends at {t.offset + t.nbytes}, file has {size} bytes)")
        if t.name in tensors:
            raise CheckpointError(f"{file}: tensor {t.name} listed twice")
        tensors[t.name] = TensorInfo(t.name, t.shape, gguf_file.type_name(t.ggml_type), file, t.offset, t.nbytes)
    _check_overlaps(file, tensors.values())
    ckpt = Checkpoint(file, tensors, gguf_config(header.metadata), kind="gguf", metadata=header.metadata)
    if isinstance(mapped, mmap.mmap):
        ckpt._maps[file] = mapped
    return ckpt


def gguf_config(meta: dict) -> dict:
    """GGUF metadata → the HF config keys provenance compares (model_type, architectures, sizes)."""
    arch = str(meta.get("general.architecture", ""))
    model_type, class_name = GGUF_ARCH_TYPES.get(arch, (arch, None))
    config: dict = {"model_type": model_type, "gguf_architecture": arch}
    if class_name:
        config["architectures"] = [class_name]
    for key, hf_key in GGUF_CONFIG_KEYS.items():
        if f"{arch}.{key}" in meta:
            config[hf_key] = meta[f"{arch}.{key}"]
    if "vocab_size" not in config and "tokenizer.ggml.tokens" in meta:
        config["vocab_size"] = len(meta["tokenizer.ggml.tokens"])
    for tower, prefix in (("vision_config", "clip.vision."), ("audio_config", "clip.audio.")):
        sub = {}
        for key, hf_key in GGUF_CONFIG_KEYS.items():
            if prefix + key in meta:
                sub[hf_key] = meta[prefix + key]
        if sub:
            config[tower] = sub
    if "clip.projector_type" in meta:
        config["projector_type"] = meta["clip.projector_type"]
    return config


def _open_torch(files: list[Path], path: Path, config: dict, *, side: Path) -> Checkpoint:
    import torch

    tensors, loaded = {}, {}
    for file in files:
        try:
            state = torch.load(file, mmap=True, weights_only=True, map_location="cpu")
        except Exception as exc:  # torch raises many kinds on damaged or legacy files
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CheckpointError(f"{file}: cannot read PyTorch checkpoint ({detail})") from None
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        if not isinstance(state, dict):
            raise CheckpointError(f"{file}: PyTorch checkpoint does not hold a dict of tensors")
        offsets = _torch_offsets(file, state)
        for name, tensor in state.items():
            if not isinstance(tensor, torch.Tensor):
                continue
            dtype = _TORCH_DTYPES.get(str(tensor.dtype).removeprefix("torch."), str(tensor.dtype))
            nbytes = tensor.numel() * tensor.element_size()
            tensors[name] = TensorInfo(name, tuple(tensor.shape), dtype, file, offsets.get(name, -1), nbytes)
            loaded[name] = tensor
    return Checkpoint(path, tensors, config, kind="torch", side=side, torch_tensors=loaded)


_TORCH_DTYPES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
                 "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def _torch_offsets(file: Path, state: dict) -> dict[str, int]:
    """Where each tensor sits in the zip: its storage's address less the address of the file's first record."""
    import zipfile

    import torch

    try:
        with zipfile.ZipFile(file) as archive:
            starts = []
            for item in archive.infolist():
                if "/data/" in item.filename:
                    with open(file, "rb") as fh:
                        fh.seek(item.header_offset + 26)
                        name_len, extra_len = struct.unpack("<HH", fh.read(4))
                    starts.append(item.header_offset + 30 + name_len + extra_len)
        tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
        base = min(t.untyped_storage().data_ptr() for t in tensors.values()) - min(starts)
        return {k: t.untyped_storage().data_ptr() + t.storage_offset() * t.element_size() - base
                for k, t in tensors.items()}
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        return {}


# -- side files ----------------------------------------------------------------------------------------


def _hf_tokenizer(folder: Path) -> dict | None:
    file = folder / "tokenizer.json"
    if file.is_file():
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            model = data["model"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{file}: unreadable tokenizer ({exc})") from None
        kind = str(model.get("type", "")).lower()
        vocab = model.get("vocab") or {}
        by_id = dict(enumerate(v[0] for v in vocab)) if isinstance(vocab, list) else {i: t for t, i in vocab.items()}
        for added in data.get("added_tokens") or []:
            by_id[added["id"]] = added["content"]
        tokens = [by_id.get(i, "") for i in range(max(by_id) + 1)] if by_id else []
        merges = model.get("merges")
        if merges is not None:
            merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
        return {"tokens": tokens, "merges": merges, "model": kind}
    vocab_file, merges_file = folder / "vocab.json", folder / "merges.txt"
    if vocab_file.is_file():
        try:
            vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{vocab_file}: unreadable vocabulary ({exc})") from None
        by_id = {i: t for t, i in vocab.items()}
        tokens = [by_id.get(i, "") for i in range(max(by_id) + 1)] if by_id else []
        merges = None
        if merges_file.is_file():
            lines = merges_file.read_text(encoding="utf-8").splitlines()
            merges = [line for line in lines if line and not line.startswith("#version")]
        return {"tokens": tokens, "merges": merges, "model": "bpe" if merges is not None else "wordlevel"}
    return None


def _readme_card(readme: Path) -> dict:
    if not readme.is_file():
        return {}
    text = readme.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    import yaml

    try:
        front = yaml.safe_load(text[3:end])
    except yaml.YAMLError as exc:
        raise CheckpointError(f"{readme}: model card front matter is not valid YAML "
                              f"({str(exc).splitlines()[0]})") from None
    if not isinstance(front, dict):
        return {}
    return {key: front[key] for key in CARD_KEYS if front.get(key) is not None}


def _gguf_card(meta: dict) -> dict:
    card: dict = {}
    bases = []
    for i in range(int(meta.get("general.base_model.count", 0) or 0)):
        name = meta.get(f"general.base_model.{i}.name")
        org = meta.get(f"general.base_model.{i}.organization")
        url = meta.get(f"general.base_model.{i}.repo_url")
        label = f"{org}/{name}" if org and name else name or url
        if label:
            bases.append(label)
    if bases:
        card["base_model"] = bases[0] if len(bases) == 1 else bases
    if meta.get("general.license"):
        card["license"] = meta["general.license"]
    return card


def drop_from_cache(files) -> None:
    """Ask the kernel to forget these files' cached pages, so the next read comes from the disk."""
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
