"""The quick fingerprint's read plan: what it reads, how little, and that a derivative lines up with its origin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from dokja.provenance import open_checkpoint
from dokja.provenance.sample import EMBED_WINDOW, spread, take_sample


def test_spread_takes_first_last_and_between():
    assert spread(30, 4) == [0, 10, 19, 29]
    assert spread(3, 4) == [0, 1, 2]
    assert spread(18, 1) == [0] and spread(0, 4) == []


def test_smollm2_sample_reads_only_its_slices(smollm2_gguf):
    with open_checkpoint(smollm2_gguf) as ckpt:
        ckpt.read_log = []
        sample = take_sample(ckpt, neurons=512, embed_rows=1000)
        reads = list(ckpt.read_log)
        size = smollm2_gguf.stat().st_size
        assert sorted(sample.mlp) == [0, 10, 19, 29]
        assert len(sample.norms) == 61 and set(sample.hashes) == set(sample.norms)
        assert sample.hashes["output_norm.weight"] == ckpt.sha256("output_norm.weight")
        gate = ckpt.tensors["blk.10.ffn_gate.weight"]
        ids = sample.mlp[10]["neurons"]
        assert len(ids) == 512 and (np.diff(ids) == 1).all()
        np.testing.assert_array_equal(sample.mlp[10]["gate"], ckpt.read(gate.name, ids))
        np.testing.assert_array_equal(sample.mlp[10]["up"], ckpt.read("blk.10.ffn_up.weight", ids))
        assert sample.embed_rows.shape == (1000, 576) and (np.diff(sample.embed_ids) == 1).all()
        np.testing.assert_array_equal(sample.embed_rows, ckpt.read("token_embd.weight", sample.embed_ids))
        expected = (sum(ckpt.tensors[n].nbytes for n in sample.norms)
                    + 1000 * ckpt.tensors["token_embd.weight"].nbytes // 49152 + 8 * 512 * gate.nbytes // 1536)
        assert sample.bytes_read == expected == sum(n for _, _, n in reads) and len(reads) == 61 + 1 + 8
        assert sample.bytes_read < 0.1 * size
        assert sample.config["hidden_size"] == 576 and sample.card == {"license": "apache-2.0"}
        assert len(sample.tokenizer["merges"]) == 48900


def test_gguf_and_its_dequantised_directory_sample_the_same_rows(smollm2_gguf, smollm2_dir):
    with open_checkpoint(smollm2_gguf) as gguf, open_checkpoint(smollm2_dir) as hf:
        ours, theirs = take_sample(gguf, seed=3), take_sample(hf, seed=3)
    np.testing.assert_array_equal(ours.embed_ids, theirs.embed_ids)
    np.testing.assert_array_equal(ours.embed_rows, theirs.embed_rows)
    assert sorted(ours.mlp) == sorted(theirs.mlp)
    for index in ours.mlp:
        np.testing.assert_array_equal(ours.mlp[index]["gate"], theirs.mlp[index]["gate"])
    assert ours.hashes["output_norm.weight"] == theirs.hashes["model.norm.weight"]
    assert 0 < theirs.embed_ids[0] < EMBED_WINDOW


def test_gemma3_sample(cache):
    from dokja.models.locate import PACKAGED

    with open_checkpoint(PACKAGED["gemma3-270m"](cache)) as ckpt:
        sample = take_sample(ckpt, layers=3, neurons=256, embed_rows=512)
        assert sorted(sample.mlp) == [0, 8, 17] and sample.mlp[8]["gate"].shape == (256, 640)
        assert sample.embed_ids[-1] < EMBED_WINDOW and len(sample.norms) == 109
        assert sample.bytes_read < 0.02 * ckpt.path.stat().st_size
        assert sample.tokenizer["model"] == "sentencepiece" and sample.config["model_type"] == "gemma3_text"


@pytest.fixture
def multimodal(tmp_path) -> Path:
    rng = np.random.default_rng(0)
    h, f = 16, 48
    shapes = {"model.language_model.embed_tokens.weight": (300, h), "model.language_model.norm.weight": (h,)}
    for i in range(3):
        shapes |= {f"model.language_model.layers.{i}.input_layernorm.weight": (h,),
                   f"model.language_model.layers.{i}.post_attention_layernorm.weight": (h,),
                   f"model.language_model.layers.{i}.mlp.gate_proj.weight": (f, h),
                   f"model.language_model.layers.{i}.mlp.up_proj.weight": (f, h)}
    for i in range(6):
        shapes |= {f"model.vision_tower.encoder.layers.{i}.layer_norm1.weight": (h,),
                   f"model.vision_tower.encoder.layers.{i}.mlp.fc1.weight": (f, h),
                   f"model.vision_tower.encoder.layers.{i}.mlp.fc1.bias": (f,)}
    shapes |= {"model.vision_tower.embeddings.patch_embedding.weight": (h, 3, 4, 4),
               "model.vision_tower.post_layernorm.weight": (h,), "model.multi_modal_projector.linear.weight": (h, h)}
    path = tmp_path / "model.safetensors"
    save_file({n: rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}, path)
    return path


def test_encoders_are_sampled_apart_from_the_language_model(multimodal):
    with open_checkpoint(multimodal) as ckpt:
        sample = take_sample(ckpt, layers=2, neurons=160, embed_rows=100)
        vision = sample.encoders["vision_tower"]
        fc1 = "model.vision_tower.encoder.layers.5.mlp.fc1.weight"
        assert fc1 in vision and "model.vision_tower.encoder.layers.2.mlp.fc1.weight" not in vision
        assert vision[fc1].shape == (20, 16)  # neurons // 8 rows
        np.testing.assert_array_equal(vision[fc1], ckpt.read(fc1, vision[f"{fc1}:rows"]))
        assert "model.vision_tower.post_layernorm.weight" in vision
        assert "model.vision_tower.encoder.layers.0.mlp.fc1.bias" not in vision
        assert vision["model.vision_tower.embeddings.patch_embedding.weight"].shape == (16, 3, 4, 4)
        assert "model.vision_tower.post_layernorm.weight" in sample.hashes
        assert set(sample.encoders["multi_modal_projector"]) == {"model.multi_modal_projector.linear.weight",
                                                                 "model.multi_modal_projector.linear.weight:rows"}
        assert all("vision" not in n for n in sample.norms) and len(sample.norms) == 7
        assert sorted(sample.mlp) == [0, 2] and sample.embed_rows.shape == (100, 16)
