"""Which tensor is which: embeddings, each block's attention and MLP (experts too), norms, head, encoders.

Names follow Hugging Face (Llama, Mistral, Qwen, Gemma, Mixtral, DeepSeek) or GGUF conventions; shapes are
checked so that a vector is never taken for a matrix. Tensors under a vision, audio or projector prefix belong
to that encoder, not to the language model, whatever they are called inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .checkpoint import Checkpoint

ENCODER_PREFIXES = {
    "vision_tower": "vision_tower", "vision_model": "vision_model", "visual": "visual",
    "vision_encoder": "vision_encoder", "image_encoder": "image_encoder", "audio_tower": "audio_tower",
    "audio_model": "audio_model", "audio_encoder": "audio_encoder", "speech_encoder": "speech_encoder",
    "multi_modal_projector": "multi_modal_projector", "mm_projector": "mm_projector",
    "embed_vision": "embed_vision", "embed_audio": "embed_audio",
    "v": "vision_tower", "a": "audio_tower", "mm": "multi_modal_projector",  # GGUF mmproj files
}
_GGUF_ONLY = {"v", "a", "mm"}

_HF_BLOCK = re.compile(r"^(?:.*\.)?(?:layers|h|blocks)\.(\d+)\.(.+)$")
_GGUF_BLOCK = re.compile(r"^blk\.(\d+)\.(.+)$")
_HF_EXPERT = re.compile(
    r"^(?:block_sparse_moe|mlp|feed_forward)\.experts\.(\d+)\.(w1|w2|w3|gate_proj|up_proj|down_proj)\.weight$")

EMBED = ("embed_tokens.weight", "token_embd.weight", "wte.weight", "tok_embeddings.weight", "word_embeddings.weight")
HEAD = ("lm_head.weight", "output.weight")
FINAL_NORM = ("norm.weight", "output_norm.weight", "final_layernorm.weight", "ln_f.weight", "final_norm.weight")

# block-relative name → (Block field, number of dimensions it must have)
_HF_PARTS = {
    "input_layernorm.weight": ("attn_norm", 1), "attention_norm.weight": ("attn_norm", 1),
    "pre_feedforward_layernorm.weight": ("mlp_norm", 1), "ffn_norm.weight": ("mlp_norm", 1),
    "self_attn.q_proj.weight": ("q", 2), "self_attn.k_proj.weight": ("k", 2),
    "self_attn.v_proj.weight": ("v", 2), "self_attn.o_proj.weight": ("o", 2),
    "attention.wq.weight": ("q", 2), "attention.wk.weight": ("k", 2),
    "attention.wv.weight": ("v", 2), "attention.wo.weight": ("o", 2),
    "mlp.gate_proj.weight": ("gate", 2), "mlp.up_proj.weight": ("up", 2), "mlp.down_proj.weight": ("down", 2),
    "feed_forward.w1.weight": ("gate", 2), "feed_forward.w3.weight": ("up", 2), "feed_forward.w2.weight": ("down", 2),
    "mlp.shared_expert.gate_proj.weight": ("gate", 2), "mlp.shared_expert.up_proj.weight": ("up", 2),
    "mlp.shared_expert.down_proj.weight": ("down", 2), "mlp.shared_experts.gate_proj.weight": ("gate", 2),
    "mlp.shared_experts.up_proj.weight": ("up", 2), "mlp.shared_experts.down_proj.weight": ("down", 2),
    "block_sparse_moe.gate.weight": ("router", 2), "mlp.gate.weight": ("router", 2),
    "mlp.router.weight": ("router", 2), "feed_forward.gate.weight": ("router", 2),
    "feed_forward.router.weight": ("router", 2),
}
_GGUF_PARTS = {
    "attn_norm.weight": ("attn_norm", 1), "ffn_norm.weight": ("mlp_norm", 1),
    "attn_q.weight": ("q", 2), "attn_k.weight": ("k", 2), "attn_v.weight": ("v", 2),
    "attn_output.weight": ("o", 2), "ffn_gate.weight": ("gate", 2), "ffn_up.weight": ("up", 2),
    "ffn_down.weight": ("down", 2), "ffn_gate_shexp.weight": ("gate", 2), "ffn_up_shexp.weight": ("up", 2),
    "ffn_down_shexp.weight": ("down", 2), "ffn_gate_inp.weight": ("router", 2),
}
_EXPERT_ROLE = {"w1": 0, "gate_proj": 0, "w3": 1, "up_proj": 1, "w2": 2, "down_proj": 2}


@dataclass
class Block:
    index: int
    attn_norm: str | None = None
    mlp_norm: str | None = None
    q: str | None = None
    k: str | None = None
    v: str | None = None
    o: str | None = None
    gate: str | None = None
    up: str | None = None
    down: str | None = None
    experts: list[tuple[str, str, str]] = field(default_factory=list)  # (gate, up, down); GGUF: one stacked triple
    router: str | None = None
    other: list[str] = field(default_factory=list)  # the block's remaining tensors: extra norms, biases, fused


@dataclass
class Layout:
    embed: str | None
    head: str | None  # None when tied to the embeddings
    final_norm: str | None
    blocks: list[Block]
    encoders: dict[str, list[str]]  # component name → its tensor names
    other: list[str] = field(default_factory=list)  # language-model tensors outside any block, unrecognised


def encoder_of(name: str, gguf: bool = False) -> str | None:
    """The encoder component a tensor belongs to, judged by a prefix in its first three name segments."""
    parts = name.split(".")
    for i, part in enumerate(parts[:3]):
        if part in _GGUF_ONLY and (not gguf or i > 0):
            continue
        if part in ENCODER_PREFIXES:
            return ENCODER_PREFIXES[part]
    return None


def layout(ckpt: Checkpoint) -> Layout:
    """Sort every tensor of a checkpoint into the components provenance compares."""
    gguf = ckpt.kind == "gguf"
    shapes = {name: info.shape for name, info in ckpt.tensors.items()}
    encoders: dict[str, list[str]] = {}
    blocks: dict[int, Block] = {}
    experts: dict[tuple[int, int], list[str | None]] = {}
    stacked: dict[int, list[str | None]] = {}
    top: list[str] = []
    for name in sorted(shapes):
        component = encoder_of(name, gguf)
        if component:
            encoders.setdefault(component, []).append(name)
            continue
        match = (_GGUF_BLOCK if gguf else _HF_BLOCK).match(name)
        if not match:
            top.append(name)
            continue
        index, rest = int(match.group(1)), match.group(2)
        block = blocks.setdefault(index, Block(index))
        part = (_GGUF_PARTS if gguf else _HF_PARTS).get(rest)
        if part and len(shapes[name]) == part[1] and getattr(block, part[0]) is None:
            setattr(block, part[0], name)
            continue
        expert = None if gguf else _HF_EXPERT.match(rest)
        if expert and len(shapes[name]) == 2:
            slot = experts.setdefault((index, int(expert.group(1))), [None, None, None])
            slot[_EXPERT_ROLE[expert.group(2)]] = name
            continue
        role = {"ffn_gate_exps.weight": 0, "ffn_up_exps.weight": 1, "ffn_down_exps.weight": 2}.get(rest)
        if gguf and role is not None and len(shapes[name]) == 3:
            stacked.setdefault(index, [None, None, None])[role] = name
            continue
        block.other.append(name)
    for block in blocks.values():
        if block.mlp_norm is None:  # Llama-style: the norm after attention is the MLP's input norm
            candidate = _find(block.other, ("post_attention_layernorm.weight",))
            if candidate and len(shapes[candidate]) == 1:
                block.mlp_norm = candidate
                block.other.remove(candidate)
    for (index, _), triple in sorted(experts.items()):
        if all(triple):
            blocks[index].experts.append(tuple(triple))
        else:
            blocks[index].other.extend(n for n in triple if n)
    for index, triple in stacked.items():
        if all(triple):
            blocks[index].experts.append(tuple(triple))
        else:
            blocks[index].other.extend(n for n in triple if n)
    embed = _pick(top, EMBED, shapes, 2)
    head = _pick(top, HEAD, shapes, 2)
    final_norm = _pick(top, FINAL_NORM, shapes, 1)
    other = [n for n in top if n not in (embed, head, final_norm)]
    return Layout(embed, head, final_norm, [blocks[i] for i in sorted(blocks)], encoders, other)


def _find(names: list[str], suffixes: tuple[str, ...]) -> str | None:
    for suffix in suffixes:
        for name in names:
            if name == suffix or name.endswith("." + suffix):
                return name
    return None


def _pick(names: list[str], suffixes: tuple[str, ...], shapes: dict, ndim: int) -> str | None:
    """The shortest-prefixed name ending in one of `suffixes` (in preference order) with the right rank."""
    for suffix in suffixes:
        found = [n for n in names if (n == suffix or n.endswith("." + suffix)) and len(shapes[n]) == ndim]
        if found:
            return min(found, key=len)
    return None


def norm_names(ckpt: Checkpoint, names: list[str] | None = None) -> list[str]:
    """Every norm vector: one-dimensional tensors whose name says norm (biases are not norms)."""
    names = list(ckpt.tensors) if names is None else names
    return [n for n in names if len(ckpt.tensors[n].shape) == 1 and _is_norm(n)]


def _is_norm(name: str) -> bool:
    lowered = name.lower()
    if lowered.endswith(".bias"):
        return False
    return "norm" in lowered or re.search(r"(^|\.)(ln|ln_\w+|ln\d+|layernorm\w*)\.", lowered) is not None
