"""The quick fingerprint's read plan: the only bytes provenance reads from a checkpoint.

All norm vectors (tiny, read whole and hashed), a contiguous run of token-embedding rows, the gate and up rows
of a contiguous run of MLP neurons in a few layers spread over the depth, and the same kind of slices of every
encoder. Each slice is one sequential read. Starting rows depend only on the seed and the dimension's size,
so two checkpoints of the same shape are sampled at the same rows, and a derivative lines up with its origin.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .checkpoint import READ_THREADS, Checkpoint
from .components import Block, Layout, layout, norm_names

EMBED_WINDOW = 32768  # embedding runs start among the first ids, which vocabulary extensions leave in place
ENCODER_ROW_SHARE = 8  # encoder matrices give neurons // 8 rows each
_LAYER = re.compile(r"\.(?:layers|blocks|blk|layer|h)\.(\d+)\.")


@dataclass
class Sample:
    config: dict
    card: dict
    tokenizer: dict | None
    norms: dict[str, np.ndarray]  # every language-model norm vector, by tensor name
    embed_rows: np.ndarray  # (rows, hidden) float32
    embed_ids: np.ndarray  # token ids of those rows
    mlp: dict[int, dict[str, np.ndarray]]  # block index → {"gate", "up": (neurons, hidden), "neurons": ids}
    encoders: dict[str, dict[str, np.ndarray]]  # component → {norm name: vector, matrix name: rows, "NAME:rows": ids}
    hashes: dict[str, str]  # SHA-256 of the stored bytes of every tensor read whole
    bytes_read: int
    layout: Layout | None = field(default=None, repr=False)


def spread(count: int, take: int) -> list[int]:
    """`take` positions out of `count`: first, last and evenly between."""
    if count <= 0 or take <= 0:
        return []
    if take >= count:
        return list(range(count))
    if take == 1:
        return [0]
    return sorted({int(round(x)) for x in np.linspace(0, count - 1, take)})


def run_start(seed: int, purpose: int, size: int, length: int, window: int | None = None) -> int:
    """A seeded start for a contiguous run of `length` among `size` rows (within the first `window`)."""
    room = min(size, window or size) - length
    if room <= 0:
        return 0
    return int(np.random.default_rng([seed, purpose, size]).integers(0, room + 1))


def read_plan(ckpt: Checkpoint, plan: Layout, *, layers: int = 4, neurons: int = 2048, embed_rows: int = 4096,
              seed: int = 0) -> dict[str, slice | None]:
    """Every tensor the quick fingerprint reads, with the rows it reads (None: whole, and hashed)."""
    reads: dict[str, slice | None] = {}
    in_encoders = {n for names in plan.encoders.values() for n in names}
    for name in norm_names(ckpt, [n for n in ckpt.tensors if n not in in_encoders]):
        reads[name] = None
    if plan.embed and embed_rows > 0:
        vocab = ckpt.tensors[plan.embed].shape[0]
        count = min(embed_rows, vocab)
        start = run_start(seed, 0, vocab, count, EMBED_WINDOW)
        reads[plan.embed] = slice(start, start + count)
    with_mlp = [b for b in plan.blocks if _mlp_pair(b)]
    for position in spread(len(with_mlp), layers):
        for name in _mlp_pair(with_mlp[position]):
            shape = ckpt.tensors[name].shape
            if len(shape) == 3:  # GGUF experts stacked along dimension 0: expert 0, whole
                reads[name] = slice(0, 1)
            else:
                count = min(neurons, shape[0])
                start = run_start(seed, 1, shape[0], count)
                reads[name] = slice(start, start + count)
    for names in plan.encoders.values():
        reads.update(_encoder_plan(ckpt, names, layers, neurons, seed))
    return reads


def take_sample(ckpt: Checkpoint, *, layers: int = 4, neurons: int = 2048, embed_rows: int = 4096,
                seed: int = 0) -> Sample:
    """Read the quick fingerprint's slices of `ckpt`; `bytes_read` is what came off the disk for them."""
    before = ckpt.bytes_read
    plan = layout(ckpt)
    reads = read_plan(ckpt, plan, layers=layers, neurons=neurons, embed_rows=embed_rows, seed=seed)
    order = sorted(reads, key=lambda n: (str(ckpt.tensors[n].file), ckpt.tensors[n].offset))
    values, hashes = {}, {}
    with ThreadPoolExecutor(READ_THREADS) as pool:  # many requests in flight, each converted as it lands
        whole = {name: pool.submit(ckpt.read_hashed, name) for name in order if reads[name] is None}
        requests, other = [], []
        for name in order:
            rows, shape = reads[name], ckpt.tensors[name].shape
            if rows is not None and len(shape) == 2 and ckpt.can_read_into(name, rows):
                values[name] = np.empty((rows.stop - rows.start, shape[1]), np.float32)
                requests.append((name, rows, values[name], None))
            elif rows is not None:
                other.append(name)
        jobs = ckpt.read_into(requests, pool) if requests else []
        for name in other:
            values[name] = ckpt.read(name, reads[name])
        for name, job in whole.items():
            values[name], hashes[name] = job.result()
        for job in jobs:
            job.result()
    encoder_of = {n: component for component, names in plan.encoders.items() for n in names}
    norms = {n: values[n] for n in reads if reads[n] is None and n not in encoder_of}
    embed, ids = np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int64)
    if plan.embed in reads:
        embed, ids = values[plan.embed], _ids(reads[plan.embed])
    mlp = {}
    for block in plan.blocks:
        pair = _mlp_pair(block)
        if pair and pair[0] in reads:
            mlp[block.index] = _mlp_rows(ckpt, pair, values, reads, neurons, seed)
    encoders: dict[str, dict[str, np.ndarray]] = {component: {} for component in plan.encoders}
    for name in reads:
        if name in encoder_of:
            encoders[encoder_of[name]][name] = values[name]
            if reads[name] is not None:
                encoders[encoder_of[name]][f"{name}:rows"] = _ids(reads[name])
    return Sample(config=ckpt.config, card=ckpt.card(), tokenizer=ckpt.tokenizer(), norms=norms,
                  embed_rows=embed, embed_ids=ids, mlp=mlp, encoders=encoders, hashes=hashes,
                  bytes_read=ckpt.bytes_read - before, layout=plan)


def _ids(rows: slice) -> np.ndarray:
    return np.arange(rows.start, rows.stop, dtype=np.int64)


def _mlp_pair(block: Block) -> tuple[str, str] | None:
    if block.gate and block.up:
        return block.gate, block.up
    if block.experts:
        return block.experts[0][0], block.experts[0][1]
    return None


def _mlp_rows(ckpt: Checkpoint, pair: tuple[str, str], values: dict, reads: dict,
              neurons: int, seed: int) -> dict[str, np.ndarray]:
    gate, up = pair
    shape = ckpt.tensors[gate].shape
    if len(shape) == 3:  # expert 0 was read whole: cut the same run of neurons out of it
        count = min(neurons, shape[1])
        start = run_start(seed, 1, shape[1], count)
        return {"gate": values[gate][0, start:start + count], "up": values[up][0, start:start + count],
                "neurons": np.arange(start, start + count, dtype=np.int64)}
    return {"gate": values[gate], "up": values[up], "neurons": _ids(reads[gate])}


def _encoder_plan(ckpt: Checkpoint, names: list[str], layers: int, neurons: int,
                  seed: int) -> dict[str, slice | None]:
    """Norm vectors whole; rows of matrices outside any layer and of a few layers spread over the depth."""
    reads: dict[str, slice | None] = {name: None for name in norm_names(ckpt, names)}
    matrices = [n for n in names if len(ckpt.tensors[n].shape) >= 2]
    depth = sorted({int(m.group(1)) for n in matrices if (m := _LAYER.search(n))})
    chosen = {depth[i] for i in spread(len(depth), layers)}
    per_matrix = max(1, neurons // ENCODER_ROW_SHARE)
    for name in matrices:
        found = _LAYER.search(name)
        if found and int(found.group(1)) not in chosen:
            continue
        size = ckpt.tensors[name].shape[0]
        count = min(per_matrix, size)
        start = run_start(seed, 2, size, count)
        reads[name] = slice(start, start + count)
    return reads
