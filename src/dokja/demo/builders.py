"""Builders for the demo's team models: real small causal LMs made on the CPU, quickly and seeded.

Every builder writes a Hugging Face model directory (``config.json``, ``model.safetensors``,
``generation_config.json``, tokenizer files) that ``AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained`` load, plus ``dokja_build.json`` recording how it was made.

* :func:`build_scratch_model` - a team that trained its own tokenizer and model from scratch on the
  bundled Korean corpus (:mod:`dokja.demo.corpus`). Bigger / longer-trained settings score better.
* :func:`build_continued_model` - a team that took a foreign open model (e.g. SmolLM2-135M-Instruct)
  and continued pre-training it on the Korean corpus for a few steps.
* :func:`build_pruned_model` - a team that shipped a base model with transformer blocks removed.

Writes are atomic: a builder works in ``<out_dir>.tmp`` and renames it to ``out_dir`` only when the
model, tokenizer and ``dokja_build.json`` are all written, so a crash never leaves a directory that
looks finished. An existing ``out_dir`` is replaced.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

ProgressFn = Callable[[int, int, float], Any]
"""``progress(step, total, loss)``: called after every optimiser step, ``step`` counting from 1."""

BUILD_INFO_FILENAME = "dokja_build.json"
BOS_TOKEN = "<s>"
EOS_TOKEN = "</s>"
PAD_TOKEN = "<pad>"
SCRATCH_MAX_POSITIONS = 2048
_EVAL_BATCHES = 4  # fixed held-out windows on which loss_initial / loss_final are measured


# --------------------------------------------------------------------------- helpers


def _docs(corpus: Iterable[str] | os.PathLike | None) -> list[str]:
    """Corpus documents: the bundled corpus (None), a text file (one document a line), or strings."""
    if corpus is None:
        from dokja.demo.corpus import read_corpus

        docs = read_corpus()
    elif isinstance(corpus, os.PathLike):
        with open(corpus, encoding="utf-8") as f:
            docs = [line.rstrip("\n") for line in f]
    elif isinstance(corpus, str):
        raise TypeError("corpus must be a list of documents or a Path, not a str")
    else:
        docs = list(corpus)
    docs = [d for d in docs if d and d.strip()]
    if not docs:
        raise ValueError("corpus is empty")
    return docs


def _token_stream(tokenizer, docs: list[str]) -> torch.Tensor:
    """All documents tokenised and concatenated, each followed by EOS, as one 1-D LongTensor."""
    eos = tokenizer.eos_token_id
    enc = tokenizer(docs, add_special_tokens=False)["input_ids"]
    ids: list[int] = []
    for seq in enc:
        ids.extend(seq)
        if eos is not None:
            ids.append(eos)
    return torch.tensor(ids, dtype=torch.long)


class _Windows:
    """Random fixed-length windows over a token stream; the tail is held out for evaluation."""

    def __init__(self, stream: torch.Tensor, seq_len: int, batch_size: int, seed: int):
        n_eval = _EVAL_BATCHES * batch_size * seq_len
        if stream.numel() < 2 * seq_len + 1:
            raise ValueError(
                f"corpus too small: {stream.numel()} tokens for seq_len={seq_len}"
            )
        # hold out the tail (at most a fifth of the stream) for a fixed before/after loss
        n_eval = min(n_eval, stream.numel() // 5)
        n_eval = max(n_eval - n_eval % seq_len, seq_len)
        self.train = stream[: stream.numel() - n_eval]
        self.eval = stream[stream.numel() - n_eval :].view(-1, seq_len)
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.gen = torch.Generator().manual_seed(seed)

    def batch(self) -> torch.Tensor:
        hi = self.train.numel() - self.seq_len
        starts = torch.randint(0, hi + 1, (self.batch_size,), generator=self.gen)
        return torch.stack([self.train[s : s + self.seq_len] for s in starts.tolist()])

    def eval_batches(self) -> list[torch.Tensor]:
        return list(self.eval.split(self.batch_size))


@torch.no_grad()
def _eval_loss(model, batches: list[torch.Tensor]) -> float:
    was_training = model.training
    model.eval()
    total, n = 0.0, 0
    for b in batches:
        total += float(model(input_ids=b, labels=b).loss) * b.shape[0]
        n += b.shape[0]
    model.train(was_training)
    return total / n


def _lr_lambda(steps: int, warmup: int) -> Callable[[int], float]:
    """Linear warm-up, then cosine decay to 10% of the peak learning rate."""

    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return f


def _train(
    model,
    windows: _Windows,
    *,
    steps: int,
    lr: float,
    weight_decay: float,
    warmup: int,
    progress: ProgressFn | None,
) -> dict[str, Any]:
    """AdamW next-token training; returns losses for dokja_build.json."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    try:  # the fused CPU kernel is ~10% faster per step here; same maths
        opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95), fused=True)
    except (RuntimeError, TypeError, ValueError):  # pragma: no cover - older torch / odd dtypes
        opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(steps, warmup))
    eval_batches = windows.eval_batches()
    loss_initial = _eval_loss(model, eval_batches)
    model.train()
    history: list[float] = []
    for step in range(1, steps + 1):
        batch = windows.batch()
        loss = model(input_ids=batch, labels=batch).loss
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training diverged at step {step} (loss {float(loss)})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        value = float(loss.detach())
        history.append(value)
        if progress is not None:
            progress(step, steps, value)
    model.eval()
    loss_final = _eval_loss(model, eval_batches)
    tail = history[-max(1, min(10, len(history))) :] if history else []
    return {
        "loss_initial": round(loss_initial, 4),
        "loss_final": round(loss_final, 4),
        "train_loss_first": round(history[0], 4) if history else None,
        "train_loss_last10": round(sum(tail) / len(tail), 4) if tail else None,
        "eval_tokens": int(sum(b.numel() for b in eval_batches)),
    }


@contextmanager
def _staging(out_dir: Path) -> Iterator[Path]:
    """A fresh ``<out_dir>.tmp`` to build in; removed if the build fails, so no half model is left."""
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _finish(tmp: Path, out_dir: Path, info: dict[str, Any]) -> Path:
    """Write dokja_build.json into tmp, then move tmp into place (replacing out_dir)."""
    info = {
        **info,
        "dokja_version": _dokja_version(),
        "torch_version": torch.__version__,
        "transformers_version": _transformers_version(),
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
    }
    (tmp / BUILD_INFO_FILENAME).write_text(
        json.dumps(info, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    if out_dir.exists():
        old = out_dir.with_name(out_dir.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        out_dir.rename(old)
        tmp.rename(out_dir)
        shutil.rmtree(old)
    else:
        tmp.rename(out_dir)
    return out_dir


def _dokja_version() -> str | None:
    try:
        from dokja import __version__

        return __version__
    except Exception:  # pragma: no cover
        return None


def _transformers_version() -> str:
    import transformers

    return transformers.__version__


def _corpus_label(corpus) -> str:
    if corpus is None:
        from dokja.demo.corpus import CORPUS_FILENAME

        return f"dokja.demo:{CORPUS_FILENAME}"
    if isinstance(corpus, os.PathLike):
        return Path(corpus).name
    return "custom"


def _save_model(model, out: Path) -> None:
    model.save_pretrained(out, safe_serialization=True)


# --------------------------------------------------------------------------- tokenizer


def train_tokenizer(docs: list[str], vocab_size: int = 4096):
    """A byte-level BPE tokenizer trained on ``docs``, wrapped as a ``PreTrainedTokenizerFast``.

    Special tokens: ``<pad>`` (id 0), ``<s>`` (bos, id 1), ``</s>`` (eos, id 2). Like GPT-2 / SmolLM2,
    it adds no special tokens when encoding; the builders append ``</s>`` after each document.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    tk.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[PAD_TOKEN, BOS_TOKEN, EOS_TOKEN],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tk.train_from_iterator(docs, trainer=trainer, length=len(docs))
    return PreTrainedTokenizerFast(
        tokenizer_object=tk,
        bos_token=BOS_TOKEN,
        eos_token=EOS_TOKEN,
        pad_token=PAD_TOKEN,
        model_max_length=SCRATCH_MAX_POSITIONS,
        clean_up_tokenization_spaces=False,
    )


# --------------------------------------------------------------------------- builders


def build_scratch_model(
    out_dir: str | os.PathLike,
    *,
    seed: int = 0,
    vocab_size: int = 4096,
    hidden: int = 128,
    layers: int = 2,
    heads: int = 4,
    steps: int = 300,
    seq_len: int = 128,
    batch_size: int = 16,
    lr: float = 3e-3,
    corpus: Iterable[str] | os.PathLike | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """Train a team's own byte-level BPE tokenizer and a small Llama model from scratch.

    The model (``LlamaConfig``: ``hidden`` wide, ``layers`` blocks, ``heads`` heads, MLP 4x wide,
    tied embeddings, RoPE, 2048 positions) is initialised with ``seed`` and trained with AdamW
    (warm-up then cosine decay from ``lr``, gradient clipping 1.0) on random ``seq_len`` windows of
    the tokenised corpus for ``steps`` steps of ``batch_size`` windows, on the CPU, in float32.
    ``corpus``: None for the bundled Korean corpus, a Path to a text file (one document a line), or
    a list of documents. Same arguments and thread count -> identical weights.
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be divisible by heads ({heads})")
    if steps < 1 or seq_len < 2 or batch_size < 1 or layers < 1:
        raise ValueError("steps, seq_len, batch_size and layers must be positive")
    out_dir = Path(out_dir)
    t0, c0 = time.perf_counter(), time.process_time()
    docs = _docs(corpus)
    with _staging(out_dir) as tmp:
        tokenizer = train_tokenizer(docs, vocab_size=vocab_size)
        t_tok = time.perf_counter() - t0
        stream = _token_stream(tokenizer, docs)
        windows = _Windows(stream, seq_len, batch_size, seed)

        config = LlamaConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            intermediate_size=4 * hidden,
            num_hidden_layers=layers,
            num_attention_heads=heads,
            num_key_value_heads=heads,
            max_position_embeddings=SCRATCH_MAX_POSITIONS,
            rms_norm_eps=1e-5,
            rope_theta=10000.0,
            tie_word_embeddings=True,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
            initializer_range=0.02,
        )
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
        model.to(torch.float32)
        n_params = sum(p.numel() for p in model.parameters())

        t_train0 = time.perf_counter()
        losses = _train(
            model,
            windows,
            steps=steps,
            lr=lr,
            weight_decay=0.1,
            warmup=max(1, steps // 10),
            progress=progress,
        )
        t_train = time.perf_counter() - t_train0

        _save_model(model, tmp)
        tokenizer.save_pretrained(tmp)
        info = {
            "builder": "scratch",
            "seed": seed,
            "steps": steps,
            "seq_len": seq_len,
            "batch_size": batch_size,
            "lr": lr,
            "vocab_size": len(tokenizer),
            "hidden": hidden,
            "layers": layers,
            "heads": heads,
            "parameters": n_params,
            "corpus": _corpus_label(corpus),
            "corpus_documents": len(docs),
            "corpus_tokens": int(stream.numel()),
            "tokens_seen": steps * batch_size * seq_len,
            **losses,
            "tokenizer_seconds": round(t_tok, 2),
            "train_seconds": round(t_train, 2),
            "wall_seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(time.process_time() - c0, 2),
        }
        return _finish(tmp, out_dir, info)


def build_continued_model(
    base_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    steps: int = 30,
    seq_len: int = 64,
    batch_size: int = 4,
    lr: float = 5e-5,
    seed: int = 0,
    corpus: Iterable[str] | os.PathLike | None = None,
    progress: ProgressFn | None = None,
) -> Path:
    """Continue pre-training an existing HF causal LM on the Korean corpus for a few steps.

    Keeps the base model's tokenizer, architecture and dtype on disk; trains all weights in float32
    with AdamW (short warm-up, cosine decay from ``lr``, clipping 1.0) on random ``seq_len``
    windows of the corpus tokenised with the base tokenizer. Seeded: same inputs -> same weights.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if steps < 1 or seq_len < 2 or batch_size < 1:
        raise ValueError("steps, seq_len and batch_size must be positive")
    base_dir, out_dir = _distinct_dirs(base_dir, out_dir)
    t0, c0 = time.perf_counter(), time.process_time()
    docs = _docs(corpus)
    with _staging(out_dir) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(base_dir)
        saved_dtype = _saved_dtype(base_dir)  # read before loading: loading in fp32 rewrites it
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
        # tokenise only as much text as training + evaluation can use (the base tokenizer may
        # split Korean into many byte tokens; there is no point encoding the whole corpus)
        need = (steps + _EVAL_BATCHES) * batch_size * seq_len * 4
        stream = _token_stream(tokenizer, _prefix_docs(docs, tokenizer, need))
        windows = _Windows(stream, seq_len, batch_size, seed)
        torch.manual_seed(seed)
        t_train0 = time.perf_counter()
        losses = _train(
            model,
            windows,
            steps=steps,
            lr=lr,
            weight_decay=0.0,
            warmup=max(1, steps // 10),
            progress=progress,
        )
        t_train = time.perf_counter() - t_train0
        if saved_dtype is not None and saved_dtype != torch.float32:
            model.to(saved_dtype)
        _save_model(model, tmp)
        tokenizer.save_pretrained(tmp)
        info = {
            "builder": "continued",
            "base": base_dir.name,
            "base_build": _read_build_info(base_dir),
            "seed": seed,
            "steps": steps,
            "seq_len": seq_len,
            "batch_size": batch_size,
            "lr": lr,
            "parameters": sum(p.numel() for p in model.parameters()),
            "corpus": _corpus_label(corpus),
            "corpus_tokens_used": int(stream.numel()),
            "tokens_seen": steps * batch_size * seq_len,
            **losses,
            "train_seconds": round(t_train, 2),
            "wall_seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(time.process_time() - c0, 2),
        }
        return _finish(tmp, out_dir, info)


def build_pruned_model(
    base_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    keep_layers: list[int],
) -> Path:
    """Keep only the transformer blocks ``keep_layers`` (strictly increasing indices) of a base model.

    Everything else (embeddings, final norm, head, tokenizer) is kept unchanged; ``config``'s layer
    count (and per-layer lists such as ``layer_types``) follow. No training: the model is weaker
    because blocks are missing.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base_dir, out_dir = _distinct_dirs(base_dir, out_dir)
    t0, c0 = time.perf_counter(), time.process_time()
    keep = [int(i) for i in keep_layers]
    if not keep:
        raise ValueError("keep_layers is empty")
    if any(b <= a for a, b in zip(keep, keep[1:])):
        raise ValueError(f"keep_layers must be strictly increasing: {keep}")
    with _staging(out_dir) as tmp:
        tokenizer = AutoTokenizer.from_pretrained(base_dir)
        model = AutoModelForCausalLM.from_pretrained(base_dir, dtype="auto")
        blocks = _decoder_layers(model)
        n = len(blocks)
        if keep[0] < 0 or keep[-1] >= n:
            raise ValueError(f"keep_layers {keep} out of range for a model with {n} layers")
        kept = torch.nn.ModuleList([blocks[i] for i in keep])
        for new_idx, block in enumerate(kept):
            for module in block.modules():  # attention modules index the KV cache by layer_idx
                if hasattr(module, "layer_idx"):
                    module.layer_idx = new_idx
        _set_decoder_layers(model, kept)
        cfg = model.config
        cfg.num_hidden_layers = len(keep)
        for attr in ("layer_types", "sliding_window_pattern_list"):
            val = getattr(cfg, attr, None)
            if isinstance(val, (list, tuple)) and len(val) == n:
                setattr(cfg, attr, [val[i] for i in keep])
        _save_model(model, tmp)
        tokenizer.save_pretrained(tmp)
        info = {
            "builder": "pruned",
            "base": base_dir.name,
            "base_build": _read_build_info(base_dir),
            "base_layers": n,
            "keep_layers": keep,
            "layers": len(keep),
            "parameters": sum(p.numel() for p in model.parameters()),
            "wall_seconds": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(time.process_time() - c0, 2),
        }
        return _finish(tmp, out_dir, info)


# --------------------------------------------------------------------------- model plumbing


def _distinct_dirs(base_dir, out_dir) -> tuple[Path, Path]:
    base_dir, out_dir = Path(base_dir), Path(out_dir)
    if not (base_dir / "config.json").is_file():
        raise FileNotFoundError(f"not a Hugging Face model directory: {base_dir}")
    if out_dir.resolve() == base_dir.resolve():
        raise ValueError("out_dir must differ from base_dir")
    return base_dir, out_dir


def _decoder_layers(model) -> torch.nn.ModuleList:
    inner = getattr(model, getattr(model, "base_model_prefix", "model"), None)
    layers = getattr(inner, "layers", None)
    if isinstance(layers, torch.nn.ModuleList):
        return layers
    raise TypeError(f"cannot find the decoder layers of {type(model).__name__}")


def _set_decoder_layers(model, layers: torch.nn.ModuleList) -> None:
    inner = getattr(model, getattr(model, "base_model_prefix", "model"))
    inner.layers = layers


def _saved_dtype(model_dir: Path) -> torch.dtype | None:
    """The dtype a model directory's config.json declares (None if it declares none)."""
    try:
        cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    d = cfg.get("dtype") or cfg.get("torch_dtype")
    d = getattr(torch, d, None) if isinstance(d, str) else None
    return d if isinstance(d, torch.dtype) else None


def _prefix_docs(docs: list[str], tokenizer, min_tokens: int) -> list[str]:
    """Leading documents of the corpus holding at least ``min_tokens`` tokens (roughly)."""
    out: list[str] = []
    total = 0
    for i in range(0, len(docs), 256):
        chunk = docs[i : i + 256]
        out.extend(chunk)
        total += sum(len(x) + 1 for x in tokenizer(chunk, add_special_tokens=False)["input_ids"])
        if total >= min_tokens:
            break
    return out


def _read_build_info(model_dir: Path) -> dict[str, Any] | None:
    path = model_dir / BUILD_INFO_FILENAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
