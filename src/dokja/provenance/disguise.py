"""What a copier does to a checkpoint to hide where it came from (fine-tuning, noise, permutation, folding and
rotation, dropped layers, re-quantisation, extended vocabulary), done for real on Llama-style weights, and the
independently initialised models the null distribution is measured on. Each is written as a safetensors
Hugging Face directory, so the checks read it exactly as they read a submission."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

SIDE_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")


def load(base: Path) -> tuple[dict[str, np.ndarray], dict]:
    weights = {k: v.astype(np.float32) for k, v in load_file(str(base / "model.safetensors")).items()}
    return weights, json.loads((base / "config.json").read_text())


def write(out: Path, weights: dict[str, np.ndarray], config: dict, base: Path | None = None,
          tokenizer: dict | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    if base is not None:
        for name in SIDE_FILES:
            if (base / name).exists():
                shutil.copy(base / name, out / name)
    if tokenizer is not None:
        (out / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False))
    (out / "config.json").write_text(json.dumps(config))
    save_file({k: np.ascontiguousarray(v, dtype=np.float16) for k, v in weights.items()},
              str(out / "model.safetensors"))
    return out


def layers(config: dict) -> range:
    return range(config["num_hidden_layers"])


def noised(w: dict, scale: float, seed: int) -> dict:
    """Gaussian noise of `scale` times each matrix's own standard deviation, on every matrix and norm."""
    rng = np.random.default_rng(seed)
    return {k: v + rng.normal(0, scale * (v.std() or 1.0), v.shape).astype(np.float32) for k, v in w.items()}


def permuted(w: dict, config: dict, seed: int) -> dict:
    """Each block's MLP neurons and its attention heads (KV groups, and query heads within a group) permuted:
    the function is unchanged, every same-name comparison is broken."""
    rng = np.random.default_rng(seed)
    w = dict(w)
    hd = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    nkv, nq = config["num_key_value_heads"], config["num_attention_heads"]
    group = nq // nkv
    for i in layers(config):
        p = f"model.layers.{i}."
        perm = rng.permutation(w[p + "mlp.gate_proj.weight"].shape[0])
        w[p + "mlp.gate_proj.weight"] = w[p + "mlp.gate_proj.weight"][perm]
        w[p + "mlp.up_proj.weight"] = w[p + "mlp.up_proj.weight"][perm]
        w[p + "mlp.down_proj.weight"] = w[p + "mlp.down_proj.weight"][:, perm]
        kv = rng.permutation(nkv)
        q_heads = np.concatenate([g * group + rng.permutation(group) for g in kv])
        q_rows = np.concatenate([np.arange(h * hd, (h + 1) * hd) for h in q_heads])
        kv_rows = np.concatenate([np.arange(h * hd, (h + 1) * hd) for h in kv])
        w[p + "self_attn.q_proj.weight"] = w[p + "self_attn.q_proj.weight"][q_rows]
        w[p + "self_attn.k_proj.weight"] = w[p + "self_attn.k_proj.weight"][kv_rows]
        w[p + "self_attn.v_proj.weight"] = w[p + "self_attn.v_proj.weight"][kv_rows]
        w[p + "self_attn.o_proj.weight"] = w[p + "self_attn.o_proj.weight"][:, q_rows]
    return w


def folded_and_rotated(w: dict, config: dict, seed: int) -> tuple[dict, dict]:
    """SliceGPT-style: every norm scale folded into the matrices that read it (norms become ones), the head
    untied, and the residual stream rotated by a random orthogonal matrix. The function is unchanged."""
    rng = np.random.default_rng(seed)
    d = config["hidden_size"]
    q, _ = np.linalg.qr(rng.normal(size=(d, d)))
    q = q.astype(np.float32)
    w = dict(w)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"]) * w["model.norm.weight"]
    w["lm_head.weight"] = head @ q
    w["model.norm.weight"] = np.ones(d, np.float32)
    w["model.embed_tokens.weight"] = w["model.embed_tokens.weight"] @ q
    for i in layers(config):
        p = f"model.layers.{i}."
        for norm, readers in (("input_layernorm", ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")),
                              ("post_attention_layernorm", ("mlp.gate_proj", "mlp.up_proj"))):
            g = w[p + norm + ".weight"]
            for r in readers:
                w[p + r + ".weight"] = (w[p + r + ".weight"] * g) @ q
            w[p + norm + ".weight"] = np.ones(d, np.float32)
        for writer in ("self_attn.o_proj", "mlp.down_proj"):
            w[p + writer + ".weight"] = q.T @ w[p + writer + ".weight"]
    return w, {**config, "tie_word_embeddings": False}


def layer_dropped(w: dict, config: dict, drop: int) -> tuple[dict, dict]:
    out = {}
    for k, v in w.items():
        if k.startswith("model.layers."):
            i = int(k.split(".")[2])
            if i == drop:
                continue
            if i > drop:
                k = k.replace(f"model.layers.{i}.", f"model.layers.{i - 1}.", 1)
        out[k] = v
    return out, {**config, "num_hidden_layers": config["num_hidden_layers"] - 1}


def requantised(w: dict) -> dict:
    """A round trip through symmetric int8 with one scale per row (norm vectors kept as they are)."""
    out = {}
    for k, v in w.items():
        if v.ndim == 2:
            scale = np.abs(v).max(axis=1, keepdims=True) / 127
            scale[scale == 0] = 1
            v = np.clip(np.round(v / scale), -127, 127) * scale
        out[k] = v.astype(np.float32)
    return out


def vocabulary_extended(w: dict, config: dict, tokenizer: dict, extra: int, seed: int) -> tuple[dict, dict, dict]:
    """New tokens appended (their embeddings drawn fresh) and the tokenizer's vocabulary extended."""
    rng = np.random.default_rng(seed)
    emb = w["model.embed_tokens.weight"]
    new = rng.normal(0, emb.std(), (extra, emb.shape[1])).astype(np.float32)
    w = {**w, "model.embed_tokens.weight": np.vstack([emb, new])}
    tok = json.loads(json.dumps(tokenizer))
    start = len(tok["model"]["vocab"])
    for j in range(extra):
        tok["model"]["vocab"][f"토큰{j}"] = start + j
    return w, {**config, "vocab_size": emb.shape[0] + extra}, tok


def independent(config: dict, seed: int, norm_spread: float = 0.1) -> dict[str, np.ndarray]:
    """A fresh initialisation of a Llama config's shapes, drawn as transformers' Llama draws it (every matrix
    normal with the config's initializer_range); norm vectors set to a positive common level with their own
    spread, as training leaves them, so their raw cosine with any other model's is high by nature."""
    rng = np.random.default_rng(seed)
    d, inter, vocab = config["hidden_size"], config["intermediate_size"], config["vocab_size"]
    hd = config.get("head_dim") or d // config["num_attention_heads"]
    q, kv = config["num_attention_heads"] * hd, config["num_key_value_heads"] * hd
    std = config.get("initializer_range", 0.02)

    def normal(*shape):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(std)

    def norm():
        return (1.0 + norm_spread * rng.standard_normal(d, dtype=np.float32)).astype(np.float32)

    w = {"model.embed_tokens.weight": normal(vocab, d), "model.norm.weight": norm()}
    for i in range(config["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w.update({p + "input_layernorm.weight": norm(), p + "post_attention_layernorm.weight": norm(),
                  p + "self_attn.q_proj.weight": normal(q, d), p + "self_attn.k_proj.weight": normal(kv, d),
                  p + "self_attn.v_proj.weight": normal(kv, d), p + "self_attn.o_proj.weight": normal(d, q),
                  p + "mlp.gate_proj.weight": normal(inter, d), p + "mlp.up_proj.weight": normal(inter, d),
                  p + "mlp.down_proj.weight": normal(d, inter)})
    if not config.get("tie_word_embeddings", True):
        w["lm_head.weight"] = normal(vocab, d)
    return w


def fine_tuned(base: Path, out: Path, steps: int = 3, lr: float = 2e-4) -> Path:
    """A few AdamW steps of continued training on real sentences, saved as a new checkpoint."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared machine: one thread is several times faster than contended ones
    tok = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    model.train()
    text = ["독자 AI 파운데이션 모델은 처음부터 학습해야 한다.", "Every six months a stage evaluation keeps the strongest teams."]
    batch = tok(text, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    torch.set_num_threads(threads)
    w = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    if model.config.tie_word_embeddings:
        w.pop("lm_head.weight", None)
    return write(out, w, json.loads((base / "config.json").read_text()), base)


def vision_tower(seed: int, width: int = 96, depth: int = 3) -> dict[str, np.ndarray]:
    """A small ViT-shaped encoder and projector under the names a vision-language checkpoint uses."""
    rng = np.random.default_rng(seed)
    w = {"vision_tower.embeddings.patch_embedding.weight": rng.normal(0, 0.02, (width, 3, 8, 8)),
         "vision_tower.embeddings.position_embedding.weight": rng.normal(0, 0.02, (64, width))}
    for i in range(depth):
        p = f"vision_tower.encoder.layers.{i}."
        for name in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"):
            w[p + name + ".weight"] = rng.normal(0, 0.02, (width, width))
        w[p + "mlp.fc1.weight"] = rng.normal(0, 0.02, (4 * width, width))
        w[p + "mlp.fc2.weight"] = rng.normal(0, 0.02, (width, 4 * width))
        w[p + "layer_norm1.weight"] = 1 + 0.1 * rng.normal(size=width)
    w["multi_modal_projector.linear.weight"] = rng.normal(0, 0.02, (576, width))
    return {k: v.astype(np.float32) for k, v in w.items()}


def trained_briefly(tower: dict[str, np.ndarray], seed: int, steps: int = 20) -> dict[str, np.ndarray]:
    """Some gradient steps on every 2-D tensor of an encoder toward a random regression target."""
    rng = np.random.default_rng(seed)
    out = {}
    for k, v in tower.items():
        if v.ndim == 2:
            x = rng.normal(size=(32, v.shape[1])).astype(np.float32)
            y = rng.normal(0, 0.1, size=(32, v.shape[0])).astype(np.float32)
            for _ in range(steps):
                v = v - 0.05 * ((x @ v.T - y).T @ x) / len(x)
        out[k] = v
    return out
