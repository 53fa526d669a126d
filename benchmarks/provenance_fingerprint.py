"""Quick fingerprint of a 7B-shape checkpoint against a raw sequential read of the same bytes, in one run.

    python benchmarks/provenance_fingerprint.py                 # builds ~13.5 GB once under .dokja/bench/
    python benchmarks/provenance_fingerprint.py --dir /big/disk --runs 5

The checkpoint has the tensor shapes of a Llama-style 7B model (vocab 32,000, hidden 4,096, intermediate
11,008, 32 layers, 32 heads, bf16) in ~5 GB safetensors shards with an index, filled with random-looking
bf16 values; it is built once and kept in ``--dir``. Timed, each run from a cold page cache (the files' cached
pages are dropped through ``/proc/sys/vm/drop_caches`` where permitted, otherwise with
``posix_fadvise(DONTNEED)``, which needs no privilege): (a) the check fingerprint ``fingerprint.take``, whole
(open the checkpoint, read its slices, fold norms in, keep the arrays); (b) ``cat`` of a contiguous slice of
the largest shard with the same number of stored bytes; (c) ``dd`` of exactly the byte ranges the fingerprint
read; with ``--sample``, part 1's ``take_sample`` alone. Each run times them in alternating order; medians of
``--runs``. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from dokja.provenance.checkpoint import drop_from_cache, open_checkpoint
from dokja.provenance.fingerprint import take
from dokja.provenance.sample import take_sample

REPO = Path(__file__).resolve().parent.parent
VOCAB, HIDDEN, INTER, LAYERS = 32000, 4096, 11008, 32
SHARD_BYTES = 5_000_000_000
CHUNK = 64 << 20


def tensors() -> list[tuple[str, tuple[int, ...]]]:
    out = [("model.embed_tokens.weight", (VOCAB, HIDDEN))]
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", (HIDDEN,)),
                (p + "self_attn.q_proj.weight", (HIDDEN, HIDDEN)), (p + "self_attn.k_proj.weight", (HIDDEN, HIDDEN)),
                (p + "self_attn.v_proj.weight", (HIDDEN, HIDDEN)), (p + "self_attn.o_proj.weight", (HIDDEN, HIDDEN)),
                (p + "post_attention_layernorm.weight", (HIDDEN,)),
                (p + "mlp.gate_proj.weight", (INTER, HIDDEN)), (p + "mlp.up_proj.weight", (INTER, HIDDEN)),
                (p + "mlp.down_proj.weight", (HIDDEN, INTER))]
    return out + [("model.norm.weight", (HIDDEN,)), ("lm_head.weight", (VOCAB, HIDDEN))]


def plan_shards() -> list[list[tuple[str, tuple[int, ...]]]]:
    shards, current, size = [], [], 0
    for name, shape in tensors():
        nbytes = int(np.prod(shape)) * 2
        if current and size + nbytes > SHARD_BYTES:
            shards.append(current)
            current, size = [], 0
        current.append((name, shape))
        size += nbytes
    return shards + [current]


def build(folder: Path) -> list[Path]:
    """Write the shards, index and config once; a marker file says the build finished."""
    shards = plan_shards()
    names = [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    files = [folder / n for n in names]
    marker = folder / "built.json"
    if marker.exists() and all(f.exists() for f in files):
        return files
    total = sum(int(np.prod(s)) * 2 for shard in shards for _, s in shard)
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free + sum(f.stat().st_size for f in files if f.exists())
    if free < total + (2 << 30):
        sys.exit(f"{folder}: needs {total / 1e9:.1f} GB free for the synthetic checkpoint, has {free / 1e9:.1f} GB")
    rng = np.random.default_rng(0)
    chunk = (rng.standard_normal(CHUNK // 2, dtype=np.float32) * 0.02).view(np.uint32) >> 16
    chunk = chunk.astype(np.uint16).tobytes()
    weight_map = {}
    started = time.perf_counter()
    for file, shard in zip(files, shards):
        header, offset = {"__metadata__": {"format": "pt"}}, 0
        for name, shape in shard:
            nbytes = int(np.prod(shape)) * 2
            header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
            weight_map[name] = file.name
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(file, "wb") as fh:
            fh.write(len(text).to_bytes(8, "little") + text)
            left = offset
            while left:
                piece = min(left, CHUNK)
                fh.write(chunk[:piece])
                left -= piece
            fh.flush()
            os.fsync(fh.fileno())
        print(f"wrote {file.name} ({file.stat().st_size / 1e9:.2f} GB)", flush=True)
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=1))
    (folder / "config.json").write_text(json.dumps({
        "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": HIDDEN,
        "intermediate_size": INTER, "num_hidden_layers": LAYERS, "num_attention_heads": 32,
        "num_key_value_heads": 32, "vocab_size": VOCAB, "torch_dtype": "bfloat16"}))
    marker.write_text(json.dumps({"bytes": total, "seconds": round(time.perf_counter() - started, 1)}))
    return files


def drop_caches(files: list[Path]) -> str:
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("1\n")
        return "drop_caches"
    except OSError:
        drop_from_cache(files)
        return "fadvise"


def check_fingerprint(folder: Path) -> tuple[float, int, list[tuple[Path, int, int]]]:
    """The check-time fingerprint, whole: open the checkpoint, read its slices, fold and keep them."""
    started = time.perf_counter()
    with open_checkpoint(folder) as ckpt:
        ckpt.read_log = []
        fp = take(ckpt)
        log = ckpt.read_log
    seconds = time.perf_counter() - started
    assert fp.facts["bytes_read"] == sum(size for _, _, size in log)
    return seconds, fp.facts["bytes_read"], log


def quick_sample(folder: Path) -> float:
    started = time.perf_counter()
    with open_checkpoint(folder) as ckpt:
        take_sample(ckpt)
    return time.perf_counter() - started


def cat_slice(file: Path, nbytes: int) -> float:
    started = time.perf_counter()
    subprocess.run(f"head -c {nbytes} {file} | cat > /dev/null", shell=True, check=True)
    return time.perf_counter() - started


def dd_ranges(log: list[tuple[Path, int, int]]) -> float:
    merged: list[list] = []
    for file, start, size in sorted(log):
        if merged and merged[-1][0] == file and merged[-1][1] + merged[-1][2] == start:
            merged[-1][2] += size
        else:
            merged.append([file, start, size])
    script = "\n".join(f"dd if={f} of=/dev/null bs=4M iflag=skip_bytes,count_bytes skip={s} count={n} status=none"
                       for f, s, n in merged)
    started = time.perf_counter()
    subprocess.run(["sh", "-c", script], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=REPO / ".dokja" / "bench" / "llama-7b-shape")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sample", action="store_true", help="also time part 1's take_sample alone")
    args = parser.parse_args()
    files = build(args.dir)
    total = sum(f.stat().st_size for f in files)
    largest = max(files, key=lambda f: f.stat().st_size)
    times: dict[str, list[float]] = {"take": [], "cat": [], "dd": [], "sample": []}
    cache = drop_caches(files)
    _, nbytes, log = check_fingerprint(args.dir)  # the plan's size, for the raw reads; this run is not timed
    kinds = ["take", "cat", "dd"] + (["sample"] if args.sample else [])
    for run in range(args.runs):
        order = kinds if run % 2 == 0 else kinds[::-1]
        for what in order:  # alternating, so neither side always meets the disk first
            drop_caches(files)
            if what == "take":
                seconds, nbytes, log = check_fingerprint(args.dir)
            elif what == "cat":
                seconds = cat_slice(largest, nbytes)
            elif what == "dd":
                seconds = dd_ranges(log)
            else:
                seconds = quick_sample(args.dir)
            times[what].append(seconds)
        print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items() if v), flush=True)
    med = {k: statistics.median(v) for k, v in times.items() if v}
    result = {
        "checkpoint_bytes": total, "sampled_bytes": nbytes, "fraction_read": round(nbytes / total, 5),
        "reads": len(log), "cache": cache, "runs": args.runs,
        "take_s": round(med["take"], 3), "cat_s": round(med["cat"], 3), "dd_ranges_s": round(med["dd"], 3),
        "ratio_vs_cat": round(med["take"] / med["cat"], 2),
        "ratio_vs_cat_per_run_median": round(statistics.median(
            t / c for t, c in zip(times["take"], times["cat"])), 2),
        "ratio_vs_dd_ranges": round(med["take"] / med["dd"], 2),
        "take_sample_s": round(med["sample"], 3) if "sample" in med else None,
        "cat_mb_per_s": round(nbytes / med["cat"] / 1e6, 1),
        "times": {k: [round(x, 3) for x in v] for k, v in times.items() if v},
    }
    print(f"checkpoint {total / 1e9:.2f} GB; fingerprint.take reads {nbytes / 1e6:.1f} MB "
          f"({100 * nbytes / total:.2f}%) in {len(log)} reads; cache dropped by {cache}")
    print(f"fingerprint.take {med['take']:.3f} s · cat of the same size {med['cat']:.3f} s "
          f"(x {result['ratio_vs_cat']}) · dd of the same ranges {med['dd']:.3f} s (x {result['ratio_vs_dd_ranges']})")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
