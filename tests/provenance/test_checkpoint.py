"""Reading checkpoints without loading them: real SmolLM2 and Gemma 3 files, written shards, corrupt files."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from dokja.provenance import CheckpointError, open_checkpoint


@pytest.fixture(scope="module")
def gemma_gguf(cache) -> Path:
    from dokja.models.locate import PACKAGED

    return PACKAGED["gemma3-270m"](cache)


def test_gguf_rows_match_the_dequantised_directory(smollm2_gguf, smollm2_dir):
    """Our GGUF reader and transformers' GGUF loader agree value for value (F32, Q8_0 and Q4_1 tensors)."""
    with open_checkpoint(smollm2_gguf) as gguf, open_checkpoint(smollm2_dir) as hf:
        assert gguf.tensors["token_embd.weight"].dtype == "Q8_0"
        assert gguf.tensors["blk.7.ffn_gate.weight"].dtype == "Q4_1"
        pairs = [("token_embd.weight", "model.embed_tokens.weight", [3, 4, 5, 40000, 49151]),
                 ("blk.7.ffn_gate.weight", "model.layers.7.mlp.gate_proj.weight", slice(100, 612)),
                 ("blk.7.ffn_down.weight", "model.layers.7.mlp.down_proj.weight", slice(0, 576, 7)),
                 ("output_norm.weight", "model.norm.weight", None)]
        for ours, theirs, rows in pairs:
            np.testing.assert_array_equal(gguf.read(ours, rows), hf.read(theirs, rows))
        assert gguf.sha256("output_norm.weight") == hf.sha256("model.norm.weight")
        assert gguf.sha256("blk.0.attn_norm.weight") != gguf.sha256("blk.1.attn_norm.weight")


def test_a_read_touches_only_the_rows_asked_for(smollm2_gguf, smollm2_dir):
    with open_checkpoint(smollm2_gguf) as gguf:
        info = gguf.tensors["blk.3.ffn_up.weight"]  # Q4_1: 576 values = 18 blocks of 20 bytes per row
        rows = gguf.read("blk.3.ffn_up.weight", [10, 11, 12, 900])
        assert rows.shape == (4, 576) and rows.dtype == np.float32
        assert gguf.bytes_read == 4 * info.nbytes // info.shape[0] == 4 * 360
    with open_checkpoint(smollm2_dir) as hf:
        hf.read("model.embed_tokens.weight", slice(1000, 1100))
        assert hf.bytes_read == 100 * 576 * 4
        whole = hf.read("model.layers.2.mlp.up_proj.weight")
        np.testing.assert_array_equal(hf.read("model.layers.2.mlp.up_proj.weight", [5, 900, 6]), whole[[5, 900, 6]])


def test_gguf_config_tokenizer_and_card_speak_hf(smollm2_gguf, smollm2_dir):
    with open_checkpoint(smollm2_gguf) as gguf, open_checkpoint(smollm2_dir) as hf:
        keys = ("model_type", "architectures", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads", "num_key_value_heads", "vocab_size")
        assert {k: gguf.config[k] for k in keys} == {k: hf.config[k] for k in keys}
        ours, theirs = gguf.tokenizer(), hf.tokenizer()
        assert ours["model"] == theirs["model"] == "bpe"
        assert ours["tokens"] == theirs["tokens"] and len(ours["tokens"]) == 49152
        assert ours["merges"] == theirs["merges"] and ours["merges"][:2] == ["Ġ t", "Ġ a"]
        assert gguf.card() == {"license": "apache-2.0"}
        assert hf.card() == {}


def test_gemma3_gguf(gemma_gguf):
    with open_checkpoint(gemma_gguf) as ckpt:
        assert ckpt.config["model_type"] == "gemma3_text"
        sizes = ckpt.config["hidden_size"], ckpt.config["num_hidden_layers"], ckpt.config["vocab_size"]
        assert sizes == (640, 18, 262144)
        types = {info.dtype for info in ckpt.tensors.values()}
        assert {"Q8_0", "F32"} <= types and types & {"Q4_K", "Q5_0", "Q6_K"}
        firsts = {}
        for name, info in ckpt.tensors.items():
            if len(info.shape) == 2 and info.shape[0] < 10_000:
                firsts.setdefault(info.dtype, name)
        assert {"Q4_K", "Q5_0"} <= set(firsts)
        for name in firsts.values():
            whole = ckpt.read(name)
            assert whole.shape == ckpt.tensors[name].shape and np.isfinite(whole).all() and 0 < whole.std() < 1
            np.testing.assert_array_equal(ckpt.read(name, slice(3, 9)), whole[3:9])
        tokenizer = ckpt.tokenizer()
        assert tokenizer["model"] == "sentencepiece" and tokenizer["merges"] is None
        assert len(tokenizer["tokens"]) == 262144 and tokenizer["tokens"][:3] == ["<pad>", "<eos>", "<bos>"]
        assert ckpt.card()["license"] == "gemma"


def _write_sharded(folder: Path) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    tensors = {
        "model.embed_tokens.weight": torch.randn(50, 16, generator=generator).to(torch.bfloat16),
        "model.layers.0.mlp.up_proj.weight": torch.randn(32, 16, generator=generator).to(torch.float16),
        "model.layers.0.input_layernorm.weight": torch.rand(16, generator=generator),
        "model.layers.1.mlp.up_proj.weight": torch.randint(-128, 127, (32, 16), generator=generator, dtype=torch.int8),
        "model.layers.1.quant_map": torch.randint(0, 255, (8,), generator=generator, dtype=torch.uint8),
        "model.norm.weight": torch.rand(16, generator=generator).to(torch.bfloat16),
        "model.layers.1.fp8.weight": (torch.randn(4, 16, generator=generator) * 8).to(torch.float8_e4m3fn),
    }
    names = list(tensors)
    shards = {"model-00001-of-00002.safetensors": names[:3], "model-00002-of-00002.safetensors": names[3:]}
    folder.mkdir(parents=True, exist_ok=True)
    for file, members in shards.items():
        save_file({n: tensors[n] for n in members}, folder / file)
    weight_map = {n: f for f, members in shards.items() for n in members}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 16}))
    return tensors


def test_sharded_safetensors_every_dtype(tmp_path):
    tensors = _write_sharded(tmp_path / "m")
    (tmp_path / "m" / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: HuggingFaceTB/SmolLM2-135M\ntags: [korean]\n---\n# Model\n")
    with open_checkpoint(tmp_path / "m") as ckpt:
        assert set(ckpt.tensors) == set(tensors)
        assert ckpt.tensors["model.embed_tokens.weight"].dtype == "BF16"
        assert ckpt.tensors["model.layers.1.quant_map"].file.name == "model-00002-of-00002.safetensors"
        for name, tensor in tensors.items():
            np.testing.assert_array_equal(ckpt.read(name), tensor.float().numpy())
        np.testing.assert_array_equal(ckpt.read("model.embed_tokens.weight", [49, 0, 1]),
                                      tensors["model.embed_tokens.weight"][[49, 0, 1]].float().numpy())
        assert ckpt.card() == {"base_model": "HuggingFaceTB/SmolLM2-135M", "license": "apache-2.0"}
        assert ckpt.config["hidden_size"] == 16 and ckpt.tokenizer() is None
    single = tmp_path / "m" / "model-00001-of-00002.safetensors"
    with open_checkpoint(single) as ckpt:
        assert len(ckpt.tensors) == 3


def test_pytorch_bin_as_a_last_resort(tmp_path):
    state = {"model.embed_tokens.weight": torch.randn(40, 8).to(torch.bfloat16),
             "model.norm.weight": torch.rand(8)}
    torch.save(state, tmp_path / "pytorch_model.bin")
    with open_checkpoint(tmp_path) as ckpt:
        assert ckpt.kind == "torch"
        np.testing.assert_array_equal(ckpt.read("model.embed_tokens.weight", [1, 2, 39]),
                                      state["model.embed_tokens.weight"][[1, 2, 39]].float().numpy())
        info = ckpt.tensors["model.norm.weight"]
        with open(tmp_path / "pytorch_model.bin", "rb") as fh:
            fh.seek(info.offset)
            assert fh.read(info.nbytes) == state["model.norm.weight"].numpy().tobytes()
        assert len(ckpt.sha256("model.norm.weight")) == 64


# -- corrupt and lying files ----------------------------------------------------------------------------------


def _one_line(excinfo, path: Path, words: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message and str(path) in message and words in message


def _safetensors_bytes(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_truncated_and_lying_safetensors(tmp_path):
    good = {"a": {"dtype": "F32", "shape": [2, 4], "data_offsets": [0, 32]},
            "b": {"dtype": "F16", "shape": [4], "data_offsets": [32, 40]}}
    cases = {
        "header-past-end.safetensors": (struct.pack("<Q", 10_000) + b"{}", "header length 10000 runs past the end"),
        "short.safetensors": (b"\x01\x02", "truncated"),
        "cut.safetensors": (_safetensors_bytes(good, bytes(39)), "runs past the end of the file"),
        "overlap.safetensors": (_safetensors_bytes(
            {**good, "b": {"dtype": "F16", "shape": [4], "data_offsets": [24, 32]}}, bytes(40)), "overlap"),
        "lying-shape.safetensors": (_safetensors_bytes(
            {**good, "a": {"dtype": "F32", "shape": [3, 4], "data_offsets": [0, 32]}}, bytes(40)), "needs 48 bytes"),
        "dtype.safetensors": (_safetensors_bytes(
            {**good, "a": {"dtype": "Q4", "shape": [2, 4], "data_offsets": [0, 32]}}, bytes(40)), "unknown dtype"),
        "json.safetensors": (struct.pack("<Q", 5) + b"{oops", "not valid JSON"),
        "overflow.safetensors": (_safetensors_bytes(  # a size that would wrap around in 64 bits
            {"a": {"dtype": "F32", "shape": [2**40] * 3, "data_offsets": [0, 16]}}, bytes(16)), "header gives 16"),
    }
    for name, (content, words) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CheckpointError) as excinfo:
            open_checkpoint(path)
        _one_line(excinfo, path, words)
    (tmp_path / "fine.safetensors").write_bytes(_safetensors_bytes(good, bytes(40)))
    with open_checkpoint(tmp_path / "fine.safetensors") as ckpt:
        with pytest.raises(CheckpointError, match="row index out of range"):
            ckpt.read("a", [2])
        with pytest.raises(CheckpointError, match="no tensor named 'c'"):
            ckpt.read("c")


def test_missing_shard_and_lying_index(tmp_path):
    folder = tmp_path / "m"
    _write_sharded(folder)
    (folder / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(CheckpointError) as excinfo:
        open_checkpoint(folder)
    _one_line(excinfo, folder, "shard model-00002-of-00002.safetensors named in the index is missing")
    _write_sharded(folder)
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    index["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors"
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match="tensor model.norm.weight is not in shard model-00001"):
        open_checkpoint(folder)
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        open_checkpoint(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="no weights found"):
        open_checkpoint(tmp_path / "m" / "..")


def test_truncated_and_lying_gguf(smollm2_gguf, tmp_path):
    original = smollm2_gguf.read_bytes()
    with open_checkpoint(smollm2_gguf) as ckpt:
        info = ckpt.tensors["blk.29.ffn_up.weight"]
        header_end = min(i.offset for i in ckpt.tensors.values())
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(original[:header_end + 1000])
    with pytest.raises(CheckpointError) as excinfo:
        open_checkpoint(cut)
    _one_line(excinfo, cut, "runs past the end of the file")
    head_only = tmp_path / "head.gguf"
    head_only.write_bytes(original[:5000])
    with pytest.raises(CheckpointError) as excinfo:
        open_checkpoint(head_only)
    _one_line(excinfo, head_only, "header runs past the end of the file")
    lying = bytearray(original)
    at = lying.index(b"blk.29.ffn_up.weight") + len("blk.29.ffn_up.weight") + 4 + 2 * 8 + 4
    struct.pack_into("<Q", lying, at, len(original))  # its data offset now points past the end
    (tmp_path / "lying.gguf").write_bytes(bytes(lying))
    with pytest.raises(CheckpointError) as excinfo:
        open_checkpoint(tmp_path / "lying.gguf")
    _one_line(excinfo, tmp_path / "lying.gguf", "tensor blk.29.ffn_up.weight runs past the end")
    overlapping = bytearray(original)
    struct.pack_into("<Q", overlapping, at, info.offset - header_end - 100)
    (tmp_path / "overlap.gguf").write_bytes(bytes(overlapping))
    with pytest.raises(CheckpointError, match="overlap"):
        open_checkpoint(tmp_path / "overlap.gguf")
    stub = tmp_path / "stub.gguf"
    stub.write_bytes(original[:6])
    with pytest.raises(CheckpointError, match="header runs past the end of the file at byte 4"):
        open_checkpoint(stub)
    not_gguf = tmp_path / "model.gguf"
    shutil.copyfile(Path(__file__), not_gguf)
    with pytest.raises(CheckpointError, match="no GGUF magic"):
        open_checkpoint(not_gguf)
