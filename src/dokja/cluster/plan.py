"""How the work is cut and placed (pure): chunks of a run's items with their hashes, GPUs per replica from a
model's size, and an endpoint's concurrency shared among the replicas that call it."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from ..audit.log import canonical_json
from .errors import ClusterError

HEADROOM = 1.2  # weights plus room for activations and the KV cache


@dataclass(frozen=True)
class Chunk:
    """Items of one run scored together and written in one transaction."""

    keys: tuple[str, ...]
    sha256: str


def chunk_sha256(config_hash: str, keys: tuple[str, ...] | list[str]) -> str:
    """The chunk's identity: the run's configuration and its item keys in order."""
    return hashlib.sha256(canonical_json({"config_hash": config_hash, "items": list(keys)})).hexdigest()


def plan_chunks(config_hash: str, todo: list[str], open_chunks: list[tuple[str, ...]], size: int) -> list[Chunk]:
    """Open chunks whose items all still need scoring stand as they are (a worker may hold one); the items
    left over are cut in their order, `size` at a time, as a single-process run cuts them."""
    if size < 1:
        raise ClusterError(f"chunk size {size}: must be at least 1")
    wanted = set(todo)
    kept = [tuple(keys) for keys in open_chunks if keys and set(keys) <= wanted]
    covered = {key for keys in kept for key in keys}
    rest = [key for key in todo if key not in covered]
    cut = kept + [tuple(rest[i:i + size]) for i in range(0, len(rest), size)]
    return [Chunk(keys, chunk_sha256(config_hash, keys)) for keys in cut]


def gpus_for(weight_bytes: int, gpu_memory_gib: float) -> int:
    """GPUs one replica needs to hold its weights with headroom: a power of two, as tensor-parallel sizes
    must divide the attention heads. No weights (an endpoint) need none."""
    if weight_bytes <= 0:
        return 0
    if gpu_memory_gib <= 0:
        raise ClusterError(f"GPU memory {gpu_memory_gib:g} GiB: must be positive")
    need = math.ceil(weight_bytes * HEADROOM / (gpu_memory_gib * 2 ** 30))
    return 1 << (need - 1).bit_length()


def endpoint_shares(endpoints: list[str], limits: dict[str, int], default: int) -> list[int]:
    """Each replica's concurrency, so the replicas calling one endpoint together never exceed its limit:
    `endpoints` names each replica's endpoint; a limit is split evenly, the remainder to the first."""
    counts: dict[str, int] = {}
    for base in endpoints:
        counts[base] = counts.get(base, 0) + 1
    for base, n in counts.items():
        limit = limits.get(base, default)
        if n > limit:
            raise ClusterError(f"endpoint {base} takes {limit} request(s) at a time; {n} replicas cannot share it")
    seen: dict[str, int] = {}
    shares = []
    for base in endpoints:
        i, limit, n = seen.get(base, 0), limits.get(base, default), counts[base]
        shares.append(limit // n + (1 if i < limit % n else 0))
        seen[base] = i + 1
    return shares


def parse_counts(pairs: list[str], option: str) -> dict[str, int]:
    """`NAME=N` settings from the command line (a name may hold `=`: the last one splits)."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.rpartition("=")
        if not sep or not name or not value.isdigit():
            raise ClusterError(f"{option} {pair!r}: expected NAME=N with N a whole number")
        out[name.rstrip("/")] = int(value)
    return out


@dataclass(frozen=True)
class Sizing:
    """The evaluation against the cluster: what an operator checks before starting it."""

    replicas: int
    gpus: int  # all replicas together
    waves: int  # replicas that do not fit at once wait for GPUs to come free


def sizing(replica_gpus: list[int], cluster_gpus: float) -> Sizing:
    """`replica_gpus` lists every replica's GPUs; a replica larger than the whole cluster would wait forever."""
    big = max(replica_gpus, default=0)
    if big > cluster_gpus:
        raise ClusterError(f"a replica needs {big} GPU(s) and the cluster has {cluster_gpus:g}; give "
                           "--gpus MODEL=N to size it by hand (0 runs it on CPUs)")
    waves, free = (1 if replica_gpus else 0), cluster_gpus
    for need in sorted(replica_gpus, reverse=True):
        if need > free:
            waves, free = waves + 1, cluster_gpus
        free -= need
    return Sizing(replicas=len(replica_gpus), gpus=sum(replica_gpus), waves=waves)
