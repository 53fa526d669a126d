"""Recognising components by name and shape: real SmolLM2 and Gemma 3, and written MoE and multimodal files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from dokja.provenance import open_checkpoint
from dokja.provenance.components import encoder_of, layout, norm_names


@pytest.fixture(scope="module")
def gemma_gguf(cache) -> Path:
    from dokja.models.locate import PACKAGED

    return PACKAGED["gemma3-270m"](cache)


def _write(path: Path, shapes: dict[str, tuple[int, ...]]) -> Path:
    save_file({name: np.zeros(shape, dtype=np.float32) for name, shape in shapes.items()}, path)
    return path


def test_smollm2_gguf_and_hf_directory_give_the_same_layout(smollm2_gguf, smollm2_dir):
    with open_checkpoint(smollm2_gguf) as gguf, open_checkpoint(smollm2_dir) as hf:
        ours, theirs = layout(gguf), layout(hf)
    assert (ours.embed, ours.head, ours.final_norm) == ("token_embd.weight", None, "output_norm.weight")
    assert (theirs.embed, theirs.head, theirs.final_norm) == ("model.embed_tokens.weight", None, "model.norm.weight")
    assert [b.index for b in ours.blocks] == [b.index for b in theirs.blocks] == list(range(30))
    for mine, other in zip(ours.blocks, theirs.blocks):
        for role in ("attn_norm", "mlp_norm", "q", "k", "v", "o", "gate", "up", "down"):
            assert getattr(mine, role) and getattr(other, role), role
        assert not mine.experts and mine.router is None and not mine.other and not other.other
    assert theirs.blocks[4].mlp_norm == "model.layers.4.post_attention_layernorm.weight"
    assert ours.blocks[4].mlp_norm == "blk.4.ffn_norm.weight"
    assert ours.encoders == theirs.encoders == {} and ours.other == theirs.other == []


def test_gemma3_extra_norms_stay_with_their_block(gemma_gguf):
    with open_checkpoint(gemma_gguf) as ckpt:
        plan = layout(ckpt)
        assert len(plan.blocks) == 18 and plan.head is None
        block = plan.blocks[5]
        assert block.mlp_norm == "blk.5.ffn_norm.weight"
        assert set(block.other) == {f"blk.5.{n}.weight" for n in ("attn_k_norm", "attn_q_norm", "post_attention_norm",
                                                                 "post_ffw_norm")}
        assert len(norm_names(ckpt)) == 18 * 6 + 1


def test_hf_gemma_names_and_untied_head(tmp_path):
    h, f = 8, 16
    shapes = {"model.embed_tokens.weight": (40, h), "lm_head.weight": (40, h), "model.norm.weight": (h,)}
    for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm"):
        shapes[f"model.layers.0.{n}.weight"] = (h,)
    shapes |= {"model.layers.0.mlp.gate_proj.weight": (f, h), "model.layers.0.mlp.up_proj.weight": (f, h),
               "model.layers.0.mlp.down_proj.weight": (h, f), "model.layers.0.self_attn.q_norm.weight": (4,)}
    with open_checkpoint(_write(tmp_path / "gemma.safetensors", shapes)) as ckpt:
        plan = layout(ckpt)
    assert plan.head == "lm_head.weight"
    block = plan.blocks[0]
    assert (block.attn_norm, block.mlp_norm) == ("model.layers.0.input_layernorm.weight",
                                                 "model.layers.0.pre_feedforward_layernorm.weight")
    assert "model.layers.0.post_attention_layernorm.weight" in block.other


def test_mixture_of_experts_names(tmp_path):
    h, f, e = 8, 16, 3
    mixtral = {"model.embed_tokens.weight": (40, h), "model.layers.0.block_sparse_moe.gate.weight": (e, h)}
    for i in range(e):
        for w, shape in (("w1", (f, h)), ("w3", (f, h)), ("w2", (h, f))):
            mixtral[f"model.layers.0.block_sparse_moe.experts.{i}.{w}.weight"] = shape
    with open_checkpoint(_write(tmp_path / "mixtral.safetensors", mixtral)) as ckpt:
        block = layout(ckpt).blocks[0]
    assert block.router == "model.layers.0.block_sparse_moe.gate.weight" and block.gate is None
    prefix = "model.layers.0.block_sparse_moe.experts.2."
    assert block.experts[2] == tuple(f"{prefix}{w}.weight" for w in ("w1", "w3", "w2"))
    qwen = {"model.layers.1.mlp.gate.weight": (e, h), "model.layers.1.mlp.shared_expert.gate_proj.weight": (f, h),
            "model.layers.1.mlp.shared_expert.up_proj.weight": (f, h),
            "model.layers.1.mlp.shared_expert.down_proj.weight": (h, f)}
    for i in range(e):
        for w, shape in (("gate_proj", (f, h)), ("up_proj", (f, h)), ("down_proj", (h, f))):
            qwen[f"model.layers.1.mlp.experts.{i}.{w}.weight"] = shape
    with open_checkpoint(_write(tmp_path / "qwen.safetensors", qwen)) as ckpt:
        block = layout(ckpt).blocks[0]
    assert block.router == "model.layers.1.mlp.gate.weight" and len(block.experts) == e
    assert block.gate == "model.layers.1.mlp.shared_expert.gate_proj.weight"


def test_stacked_gguf_experts(tmp_path):
    import gguf

    writer = gguf.GGUFWriter(tmp_path / "moe.gguf", "qwen2moe")
    writer.add_block_count(1)
    for name, shape in (("token_embd.weight", (40, 8)), ("blk.0.ffn_gate_inp.weight", (4, 8)),
                        ("blk.0.ffn_gate_exps.weight", (4, 16, 8)), ("blk.0.ffn_up_exps.weight", (4, 16, 8)),
                        ("blk.0.ffn_down_exps.weight", (4, 8, 16)), ("blk.0.ffn_norm.weight", (8,))):
        writer.add_tensor(name, np.arange(np.prod(shape), dtype=np.float32).reshape(shape))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with open_checkpoint(tmp_path / "moe.gguf") as ckpt:
        assert ckpt.config["model_type"] == "qwen2_moe"
        assert ckpt.tensors["blk.0.ffn_gate_exps.weight"].shape == (4, 16, 8)
        block = layout(ckpt).blocks[0]
        assert block.experts == [tuple(f"blk.0.ffn_{w}_exps.weight" for w in ("gate", "up", "down"))]
        assert block.router == "blk.0.ffn_gate_inp.weight" and block.mlp_norm == "blk.0.ffn_norm.weight"
        np.testing.assert_array_equal(ckpt.read("blk.0.ffn_up_exps.weight", [2])[0],
                                      np.arange(4 * 16 * 8, dtype=np.float32).reshape(4, 16, 8)[2])


@pytest.mark.parametrize("lm", ["model.language_model.", "language_model.model."])
def test_multimodal_prefixes(tmp_path, lm):
    h, f = 8, 16
    shapes = {f"{lm}embed_tokens.weight": (40, h), f"{lm}norm.weight": (h,),
              f"{lm}layers.0.input_layernorm.weight": (h,), f"{lm}layers.0.post_attention_layernorm.weight": (h,),
              f"{lm}layers.0.mlp.gate_proj.weight": (f, h), f"{lm}layers.0.mlp.up_proj.weight": (f, h),
              "model.vision_tower.vision_model.encoder.layers.0.layer_norm1.weight": (h,),
              "model.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight": (f, h),
              "model.vision_tower.vision_model.embeddings.patch_embedding.weight": (h, 3, 2, 2),
              "model.multi_modal_projector.mm_input_projection_weight": (h, h),
              "audio_tower.layers.0.fc1.weight": (f, h), "visual.blocks.0.norm1.weight": (h,),
              "mm_projector.0.weight": (h, h)}
    with open_checkpoint(_write(tmp_path / "mm.safetensors", shapes)) as ckpt:
        plan = layout(ckpt)
    assert plan.embed == f"{lm}embed_tokens.weight" and plan.final_norm == f"{lm}norm.weight"
    assert len(plan.blocks) == 1 and plan.blocks[0].gate == f"{lm}layers.0.mlp.gate_proj.weight"
    assert sorted(plan.encoders) == ["audio_tower", "mm_projector", "multi_modal_projector", "vision_tower", "visual"]
    assert len(plan.encoders["vision_tower"]) == 3
    assert encoder_of("v.blk.0.ffn_up.weight", gguf=True) == "vision_tower"
    assert encoder_of("model.layers.0.self_attn.v.weight") is None


def test_shape_decides_between_vector_and_matrix(tmp_path):
    shapes = {"model.layers.0.input_layernorm.weight": (8, 8), "model.layers.0.mlp.gate_proj.weight": (16,),
              "model.norm.weight": (8, 8), "model.layers.0.input_layernorm.bias": (8,)}
    with open_checkpoint(_write(tmp_path / "odd.safetensors", shapes)) as ckpt:
        plan = layout(ckpt)
        assert plan.final_norm is None and plan.blocks[0].attn_norm is None and plan.blocks[0].gate is None
        assert norm_names(ckpt) == []
