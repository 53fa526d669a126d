"""A model's fingerprint: the few arrays and facts provenance keeps of it, read without loading the model.

Two profiles: a *check* fingerprint reads a contiguous run of neurons (all of a small model's) of a few
layers, so it holds each true partner; a *library* fingerprint keeps a few neurons of every layer, picked
inside the runs a check reads, so any layer of a candidate can find its counterpart and the file stays small.
Every slice is a run of stored bytes, read in requests queued on the disk together in file order. Norm scales are folded into the rows that follow them, so
a copier who folds them gains nothing; embedding rows are a run of token ids whose start depends only on the
seed, and rows are matched across models by a hash of the token string.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import ProvenanceError

if TYPE_CHECKING:
    from .checkpoint import Checkpoint

VERSION = 2  # 2: embedding rows are a run of ids, library rows lie inside the check runs
ORDER_LIMIT = 20000
ENCODER_ROWS = 64
ENCODER_TENSORS = 24


def key64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little", signed=True)


@dataclass
class Fingerprint:
    name: str
    facts: dict
    order: np.ndarray  # keys of the merges (or tokens) in order
    token_keys: np.ndarray  # keys of the token strings of the embedding rows kept
    embed: np.ndarray  # (n, d)
    head: np.ndarray | None  # (n, d) output rows of the same tokens, final norm folded; None when tied
    norms: dict[str, np.ndarray] = field(default_factory=dict)  # kind -> (vectors, d)
    mlp: dict[int, np.ndarray] = field(default_factory=dict)  # layer -> (units, 2d) gate | up, norm folded
    attn: dict[int, np.ndarray] = field(default_factory=dict)  # layer -> (units, d) q, k, v rows, norm folded
    encoders: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # tensor name -> SHA-256 of its stored bytes

    @property
    def width(self) -> int:
        return int(self.embed.shape[1]) if self.embed.ndim == 2 and self.embed.size else 0

    def output_rows(self) -> np.ndarray:
        """The head's rows for the kept tokens: its own, or the tied embedding scaled by the final norm."""
        if self.head is not None:
            return self.head
        final = self.norms.get("final_norm")
        scale = final[0] if final is not None and len(final) else 1.0
        return np.asarray(self.embed, np.float32) * scale

    def save(self, path: str | Path) -> Path:
        """One small `.npz` file: float16 arrays and a JSON block of facts."""
        path = Path(path)
        arrays = {"order": self.order.astype(np.int64), "token_keys": self.token_keys.astype(np.int64),
                  "embed": _half(self.embed)}
        if self.head is not None:
            arrays["head"] = _half(self.head)
        arrays.update({f"norm::{k}": v.astype(np.float32) for k, v in self.norms.items()})
        arrays.update({f"mlp::{k}": _half(v) for k, v in self.mlp.items()})
        arrays.update({f"attn::{k}": _half(v) for k, v in self.attn.items()})
        for enc, tensors in self.encoders.items():
            arrays.update({f"enc::{enc}::{t}": _half(v) for t, v in tensors.items()})
        meta = {"version": VERSION, "name": self.name, "facts": self.facts, "hashes": self.hashes}
        arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)
        path.parent.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        path.write_bytes(buf.getvalue())
        return path


def _half(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    peak = float(np.abs(x).max()) if x.size else 0.0
    return x.astype(np.float16) if peak < 6e4 else x


def load(path: str | Path) -> Fingerprint:
    """Read a fingerprint file; a damaged or foreign file is one clear error."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
        meta = json.loads(bytes(data.pop("meta")).decode("utf-8"))
    except FileNotFoundError:
        raise ProvenanceError(f"{path}: fingerprint file not found") from None
    except Exception as exc:  # zip, npy and JSON each raise their own kinds on a damaged file
        raise ProvenanceError(f"{path}: not a fingerprint file ({type(exc).__name__})") from None
    if meta.get("version") != VERSION:
        raise ProvenanceError(f"{path}: fingerprint version {meta.get('version')!r}, expected {VERSION}")
    fp = Fingerprint(meta["name"], meta["facts"], data.pop("order"), data.pop("token_keys"),
                     data.pop("embed").astype(np.float32), None, hashes=meta.get("hashes", {}))
    if "head" in data:
        fp.head = data.pop("head").astype(np.float32)
    for key, value in data.items():
        parts = key.split("::")
        value = value.astype(np.float32)
        if parts[0] == "norm":
            fp.norms[parts[1]] = value
        elif parts[0] == "mlp":
            fp.mlp[int(parts[1])] = value
        elif parts[0] == "attn":
            fp.attn[int(parts[1])] = value
        elif parts[0] == "enc":
            fp.encoders.setdefault(parts[1], {})[parts[2]] = value
    return fp


# --------------------------------------------------------------------------- taking a fingerprint

CHECK_NEURONS = 2048  # a contiguous run of MLP neurons per sampled layer (all of a small model's)
CHECK_ATTN_ROWS = 1024  # a contiguous run of rows of each of q, k, v per sampled layer
CHECK_EMBED_ROWS = 2048  # a contiguous run of token ids; the library keeps the first half of the same run
EMBED_WINDOW = 32768  # embedding runs start among the first ids, which vocabulary extensions leave in place
SMALL_TENSOR = 2 << 20  # tensors up to this many stored bytes are read whole and hashed


def _norm_scale(vec: np.ndarray, offset: float) -> np.ndarray:
    return np.asarray(vec, np.float32).ravel() + offset


def _layers(count: int, layers: int | None) -> list[int]:
    if layers is None or layers >= count:
        return list(range(count))
    return sorted({int(round(x)) for x in np.linspace(0, count - 1, layers)})


def embed_start(vocab: int, seed: int) -> int:
    """Where the embedding run starts: a function of the seed only (within the first ids), so a model whose
    vocabulary was extended is sampled at the same tokens as its origin, and a library run lies inside a
    check run."""
    room = min(vocab, EMBED_WINDOW) - CHECK_EMBED_ROWS
    return int(np.random.default_rng([seed, 0]).integers(0, room + 1)) if room > 0 else 0


def _run(size: int, count: int, seed: int, purpose: int) -> slice:
    from .sample import run_start

    count = min(count, size)
    start = run_start(seed, purpose, size, count)
    return slice(start, start + count)


def _within(run: slice, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` rows picked at random inside a check run (the library side: few rows, all with partners)."""
    width = run.stop - run.start
    return run.start + np.sort(rng.choice(width, size=min(count, width), replace=False))


def _token_strings(tok: dict | None, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """Keys of the token strings at `ids` and of the merge (or token) order."""
    tokens = list((tok or {}).get("tokens") or [])
    merges = list((tok or {}).get("merges") or [])
    strings = [str(tokens[i]) if i < len(tokens) else f"#{i}" for i in ids.tolist()]
    if merges:
        seq = [" ".join(m) if isinstance(m, (list, tuple)) else str(m) for m in merges[:ORDER_LIMIT]]
        kind = "merges"
    else:
        seq, kind = [str(t) for t in tokens[:ORDER_LIMIT]], "tokens" if tokens else "none"
    return (np.array([key64(s) for s in strings], dtype=np.int64),
            np.array([key64(s) for s in seq], dtype=np.int64), kind)


def _encoder_types(config: dict) -> dict[str, str]:
    out = {}
    for key, value in (config or {}).items():
        if isinstance(value, dict) and key.endswith("_config") and value.get("model_type"):
            out[key.removesuffix("_config")] = str(value["model_type"])
    return out


def _count(rows) -> int:
    return rows.stop - rows.start if isinstance(rows, slice) else len(rows)


def _rows(ids: np.ndarray) -> slice | np.ndarray:
    return slice(int(ids[0]), int(ids[-1]) + 1) if int(ids[-1]) - int(ids[0]) + 1 == len(ids) else ids


def _whole(rows, n0: int) -> bool:
    return rows is None or (isinstance(rows, slice) and rows.indices(n0)[:2] == (0, n0))


def _read_all(ckpt, plan: dict[str, slice | np.ndarray | None],
              target=None) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every planned slice. Small tensors read whole (norms) come first, all at once, and are hashed from
    the same bytes; then every other slice is read in requests queued on the disk together in file order,
    each converted to float32 as it lands: straight into the array `target(name, values)` names, with its
    norm folded in (returning `(out, scale)`), or into a fresh array kept in the values."""
    from concurrent.futures import ThreadPoolExecutor

    from .checkpoint import READ_THREADS

    order = sorted(plan, key=lambda n: (str(ckpt.tensors[n].file), ckpt.tensors[n].offset))
    hashed = [n for n in order if ckpt.tensors[n].nbytes <= SMALL_TENSOR
              and _whole(plan[n], ckpt.tensors[n].shape[0] if ckpt.tensors[n].shape else 1)]
    values, hashes = {}, {}
    with ThreadPoolExecutor(READ_THREADS) as pool:
        small = {n: pool.submit(ckpt.read_hashed, n) for n in hashed}
        for n in hashed:
            values[n], digest = small[n].result()
            if values[n].size > 1 and values[n].min() != values[n].max():  # a constant vector proves nothing
                hashes[n] = digest
        requests, other = [], []
        for n in order:
            if n in small:
                continue
            info, rows = ckpt.tensors[n], plan[n]
            if len(info.shape) == 2 and ckpt.can_read_into(n, rows):
                placed = target(n, values) if target else None
                if placed is None:
                    values[n] = np.empty((_count(rows) if rows is not None else info.shape[0], info.shape[1]),
                                         np.float32)
                    placed = (values[n], None)
                requests.append((n, rows, *placed))
            else:
                other.append(n)
        jobs = ckpt.read_into(requests, pool) if requests else []
        for n in other:
            values[n] = ckpt.read(n, plan[n])
        for job in jobs:
            job.result()
    return values, hashes


def take(path: str | Path | Checkpoint, *, name: str | None = None, layers: int | None = 4, units: int | None = CHECK_NEURONS,
         embed_rows: int = CHECK_EMBED_ROWS, seed: int = 0, attn_rows: int | None = CHECK_ATTN_ROWS,
         library: bool = False, embed_keys: np.ndarray | None = None) -> Fingerprint:
    """Fingerprint a checkpoint (HF directory, .safetensors, .gguf, .bin, or an open Checkpoint), reading
    only what is kept.

    The check fingerprint reads `layers` evenly spaced blocks and, in each, a contiguous run of `units` MLP
    neurons and `attn_rows` rows of q, k and v (all of them in a small model), a contiguous run of
    `embed_rows` token ids, and every norm vector: each slice is one sequential read, and `bytes_read` is the
    stored bytes read. `library=True` keeps instead `units` neurons and `attn_rows` rows picked inside the
    same runs, so every row the library keeps has its partner in a check fingerprint of a copy.
    `embed_keys` reads instead the embedding rows of the tokens with those keys, wherever they lie: for
    measuring the null on unrelated models that share tokens, never for a check.
    """
    from .checkpoint import Checkpoint, open_checkpoint
    from .components import layout as find_layout

    if isinstance(path, Checkpoint):  # an open checkpoint stays open, its byte count and read log kept
        return _take(path, find_layout(path), name, layers, units, embed_rows, seed, attn_rows, library,
                     embed_keys)
    with open_checkpoint(path) as ckpt:
        return _take(ckpt, find_layout(ckpt), name, layers, units, embed_rows, seed, attn_rows, library,
                     embed_keys)


def _take(ckpt, lay, name, layers, units, embed_rows, seed, attn_rows, library, embed_keys=None) -> Fingerprint:
    rng = np.random.default_rng(seed)
    config = dict(ckpt.config or {})
    text_config = config.get("text_config") if isinstance(config.get("text_config"), dict) else config
    model_type = str(text_config.get("model_type") or config.get("model_type") or "")
    is_gguf = str(ckpt.path).endswith(".gguf")
    offset = 1.0 if model_type.startswith("gemma") and not is_gguf else 0.0
    before = ckpt.bytes_read

    plan: dict[str, slice | np.ndarray | None] = {}
    vocab = int(ckpt.tensors[lay.embed].shape[0]) if lay.embed else 0
    start = embed_start(vocab, seed)
    tok = ckpt.tokenizer()
    ids = np.arange(start, min(vocab, start + embed_rows), dtype=np.int64)
    if embed_keys is not None:
        every, _, _ = _token_strings(tok, np.arange(vocab))
        ids = np.flatnonzero(np.isin(every, np.asarray(embed_keys, np.int64)))
    if len(ids):
        plan[lay.embed] = _rows(ids)
    tied = not lay.head or lay.head == lay.embed
    head_rows = ids[ids < ckpt.tensors[lay.head].shape[0]] if not tied and len(ids) else ids[:0]
    if len(head_rows):
        plan[lay.head] = _rows(head_rows)
    for block in lay.blocks:
        for tensor in (block.attn_norm, block.mlp_norm):
            if tensor:
                plan[tensor] = None
    if lay.final_norm:
        plan[lay.final_norm] = None

    def rows_of(tensor: str, count: int | None, purpose: int, share: int = 1):
        size = ckpt.tensors[tensor].shape[0]
        run = _run(size, CHECK_NEURONS if purpose == 1 else CHECK_ATTN_ROWS, seed, purpose) if library else (
            slice(0, size) if count is None else _run(size, max(1, count // share), seed, purpose))
        return _within(run, max(1, (count or size) // share), rng) if library else run

    chosen = _layers(len(lay.blocks), layers)
    mlp_pairs, attn_parts = {}, {}
    for i in chosen:
        block = lay.blocks[i]
        pairs = [(block.gate, block.up)] if block.gate and block.up else [(g, u) for g, u, _ in block.experts[:8]]
        for gate, up in pairs:
            if len(ckpt.tensors[gate].shape) != 2:
                continue  # stacked experts (GGUF): not sampled
            plan[gate] = plan[up] = rows_of(gate, units, 1, len(pairs))
        mlp_pairs[i] = [p for p in pairs if p[0] in plan]
        attn_parts[i] = [t for t in (block.q, block.k, block.v) if t]
        for t in attn_parts[i]:
            plan[t] = rows_of(t, attn_rows, 3, 3 if library else 1)

    encoder_keep: dict[str, dict[str, slice | None]] = {}
    for enc, tensor_names in (lay.encoders or {}).items():
        picked = tensor_names if len(tensor_names) <= ENCODER_TENSORS else [
            tensor_names[int(j)] for j in np.linspace(0, len(tensor_names) - 1, ENCODER_TENSORS)]
        encoder_keep[enc] = {}
        for t in picked:
            info = ckpt.tensors[t]
            kept = slice(0, min(ENCODER_ROWS, info.shape[0])) if len(info.shape) > 1 else None
            encoder_keep[enc][t] = kept
            plan[t] = None if info.nbytes <= SMALL_TENSOR else kept

    mlp, attn, into = {}, {}, {}  # into: tensor -> [(rows of the kept array, norm folded into them)]
    for i in chosen:
        block = lay.blocks[i]
        at = 0
        rows = sum(_count(plan[g]) for g, _ in mlp_pairs[i])
        if rows:
            d = ckpt.tensors[mlp_pairs[i][0][0]].shape[1]
            mlp[block.index] = np.empty((rows, 2 * d), np.float32)
            for gate, up in mlp_pairs[i]:
                n = _count(plan[gate])
                into.setdefault(gate, []).append((mlp[block.index][at:at + n, :d], block.mlp_norm))
                into.setdefault(up, []).append((mlp[block.index][at:at + n, d:], block.mlp_norm))
                at += n
        rows = sum(_count(plan[t]) for t in attn_parts[i])
        if rows:
            attn[block.index] = np.empty((rows, ckpt.tensors[attn_parts[i][0]].shape[1]), np.float32)
            at = 0
            for t in attn_parts[i]:
                n = _count(plan[t])
                into.setdefault(t, []).append((attn[block.index][at:at + n], block.attn_norm))
                at += n
    keep = {lay.embed, lay.head} | {t for kept in encoder_keep.values() for t in kept}

    def fold(tensor: str, values: dict) -> np.ndarray | float:
        norm = into[tensor][0][1]
        return _norm_scale(values[norm], offset) if norm else 1.0

    def target(tensor: str, values: dict):
        """Where a slice lands directly: its one place in a kept array, with its norm folded in."""
        if len(into.get(tensor, ())) != 1 or tensor in keep:
            return None
        scale = fold(tensor, values)
        return into[tensor][0][0], scale if isinstance(scale, np.ndarray) else None

    values, hashes = _read_all(ckpt, plan, target)
    for tensor, places in into.items():
        if tensor in values:  # read whole and hashed with the norms, or kept as well as folded
            for out, norm in places:
                np.multiply(values[tensor], _norm_scale(values[norm], offset) if norm else 1.0, out=out)

    embed = values[lay.embed] if len(ids) else np.zeros((0, 0), np.float32)
    keys, order, order_kind = _token_strings(tok, ids)
    norms: dict[str, list[np.ndarray]] = {"attn_norm": [], "mlp_norm": []}
    for block in lay.blocks:
        for kind in norms:
            tensor = getattr(block, kind)
            if tensor:
                norms[kind].append(_norm_scale(values[tensor], offset))
    norm_arrays = {k: np.stack(v) for k, v in norms.items() if v}
    if lay.final_norm:
        norm_arrays["final_norm"] = _norm_scale(values[lay.final_norm], offset)[None, :]

    head = None
    if len(head_rows):
        head = values[lay.head]
        if len(head_rows) != len(ids):
            head = np.vstack([head, np.zeros((len(ids) - len(head_rows), head.shape[1]), np.float32)])
        if "final_norm" in norm_arrays:
            head *= norm_arrays["final_norm"][0]

    encoders = {}
    for enc, kept in encoder_keep.items():
        encoders[enc] = {}
        for t, rows in kept.items():
            arr = values[t][rows] if rows is not None and plan[t] is None else values[t]
            encoders[enc][t] = arr.reshape(arr.shape[0], -1) if arr.ndim > 2 else arr

    card = ckpt.card() or {}
    facts = {"model_type": model_type, "width": int(embed.shape[1]) if embed.size else 0,
             "layers": len(lay.blocks), "vocab": vocab, "tied": tied, "order_kind": order_kind,
             "base_model": card.get("base_model"), "licence": card.get("license"),
             "encoder_types": _encoder_types(config), "layers_sampled": [lay.blocks[i].index for i in chosen],
             "units": "all" if units is None else int(units), "embed_start": int(start),
             "bytes_read": int(ckpt.bytes_read - before), "norm_offset": offset,
             "source": Path(str(ckpt.path)).name}
    return Fingerprint(name or Path(str(ckpt.path)).name, facts, order, keys, embed, head, norm_arrays,
                       mlp, attn, encoders, hashes)


def library_profile(path: str | Path, *, name: str, hash_all: bool = True) -> Fingerprint:
    """The small fingerprint kept in the library: every layer, 20 neurons and 12 attention rows each (picked
    inside the runs a check reads), the embedding rows of the first 1024 ids of the check's run, and the hash
    of every matrix (the library can afford one full read)."""
    from .checkpoint import open_checkpoint
    from .components import layout as find_layout

    with open_checkpoint(path) as ckpt:
        fp = _take(ckpt, find_layout(ckpt), name, None, 20, CHECK_EMBED_ROWS // 2, 0, 12, True)
        if hash_all:
            fp.hashes.update({t: ckpt.sha256(t) for t, info in ckpt.tensors.items()
                              if len(info.shape) > 1 and t not in fp.hashes})
    return fp
