"""Opening a checkpoint by its format: safetensors (single or sharded, with the index), GGUF, PyTorch
``.bin``. Each opener parses headers only and checks every offset against the file's length."""

from __future__ import annotations

import json
import math
import mmap
import struct
from pathlib import Path

from . import gguf_file
from .checkpoint import SAFETENSORS_DTYPES, Checkpoint, TensorInfo
from .errors import CheckpointError

_MAX_HEADER = 100 * 1024 * 1024
GGUF_ARCH_TYPES = {
    "llama": ("llama", "LlamaForCausalLM"), "mistral": ("mistral", "MistralForCausalLM"),
    "qwen2": ("qwen2", "Qwen2ForCausalLM"), "qwen3": ("qwen3", "Qwen3ForCausalLM"),
    "qwen2moe": ("qwen2_moe", "Qwen2MoeForCausalLM"), "qwen3moe": ("qwen3_moe", "Qwen3MoeForCausalLM"),
    "gemma": ("gemma", "GemmaForCausalLM"), "gemma2": ("gemma2", "Gemma2ForCausalLM"),
    "gemma3": ("gemma3_text", "Gemma3ForCausalLM"), "phi3": ("phi3", "Phi3ForCausalLM"),
    "deepseek2": ("deepseek_v2", "DeepseekV2ForCausalLM"), "olmo2": ("olmo2", "Olmo2ForCausalLM"),
    "exaone": ("exaone", "ExaoneForCausalLM"), "clip": ("clip", "CLIPModel"),
}
GGUF_CONFIG_KEYS = {
    "block_count": "num_hidden_layers", "embedding_length": "hidden_size",
    "feed_forward_length": "intermediate_size", "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads", "vocab_size": "vocab_size",
    "context_length": "max_position_embeddings", "expert_count": "num_local_experts",
    "expert_used_count": "num_experts_per_tok", "rope.freq_base": "rope_theta",
    "attention.layer_norm_rms_epsilon": "rms_norm_eps", "attention.key_length": "head_dim",
    "expert_feed_forward_length": "moe_intermediate_size",
}


def open_checkpoint(path: str | Path) -> Checkpoint:
    """Open an HF directory, a .safetensors file, a .gguf file or a PyTorch .bin, reading headers only."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: checkpoint not found")
    if path.is_dir():
        return _open_directory(path)
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == gguf_file.MAGIC or path.suffix == ".gguf":
        return _open_gguf(path)
    if path.suffix in (".bin", ".pt", ".pth"):
        return _open_torch([path], path, _config(path.parent), side=path.parent)
    return _open_safetensors([path], path, _config(path.parent), side=path.parent)


def _open_directory(folder: Path) -> Checkpoint:
    config = _config(folder)
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        return _open_safetensors(_shards(index, folder), folder, config, side=folder, index=_weight_map(index))
    if (folder / "model.safetensors").is_file():
        return _open_safetensors([folder / "model.safetensors"], folder, config, side=folder)
    loose = sorted(folder.glob("*.safetensors"))
    if loose:
        return _open_safetensors(loose, folder, config, side=folder)
    bin_index = folder / "pytorch_model.bin.index.json"
    if bin_index.is_file():
        return _open_torch(_shards(bin_index, folder), folder, config, side=folder)
    if (folder / "pytorch_model.bin").is_file():
        return _open_torch([folder / "pytorch_model.bin"], folder, config, side=folder)
    ggufs = sorted(folder.glob("*.gguf"))
    if len(ggufs) == 1:
        return _open_gguf(ggufs[0])
    raise CheckpointError(f"{folder}: no weights found (model.safetensors, an index, pytorch_model.bin or one .gguf)")


def _weight_map(index: Path) -> dict[str, str]:
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{index}: unreadable index ({exc})") from None
    mapping = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise CheckpointError(f"{index}: no weight_map of tensor name → shard file")
    return mapping


def _shards(index: Path, folder: Path) -> list[Path]:
    files = []
    for name in sorted(set(_weight_map(index).values())):
        shard = folder / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise CheckpointError(f"{index}: shard {name!r} points outside the checkpoint folder")
        if not shard.is_file():
            raise CheckpointError(f"{index}: shard {name} named in the index is missing")
        files.append(shard)
    return files


def _config(folder: Path) -> dict:
    file = folder / "config.json"
    if not file.is_file():
        return {}
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise CheckpointError(f"{file}: expected a JSON object")
    text = config.get("text_config")
    if isinstance(text, dict):  # multimodal configs keep the language model's sizes one level down
        for key, value in text.items():
            config.setdefault(key, value)
    return config


def safetensors_header(file: Path) -> tuple[dict[str, TensorInfo], dict]:
    """Parse and check one safetensors header: 8-byte little-endian length, then JSON."""
    size = file.stat().st_size
    with open(file, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{file}: truncated safetensors file ({size} bytes, no header length)")
        (length,) = struct.unpack("<Q", head)
        if length > size - 8:
            raise CheckpointError(f"{file}: header length {length} runs past the end of the file ({size} bytes)")
        if length > _MAX_HEADER:
            raise CheckpointError(f"{file}: header length {length} is implausibly large")
        text = fh.read(length)
    try:
        header = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{file}: safetensors header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{file}: safetensors header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    base, data_size = 8 + length, size - 8 - length
    tensors = {}
    for name, entry in header.items():
        tensors[name] = _safetensors_entry(file, name, entry, base, data_size)
    _check_overlaps(file, tensors.values())
    return tensors, metadata if isinstance(metadata, dict) else {}


def _safetensors_entry(file: Path, name: str, entry, base: int, data_size: int) -> TensorInfo:
    where = f"{file}: tensor {name}"
    if not isinstance(entry, dict):
        raise CheckpointError(f"{where}: header entry is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in SAFETENSORS_DTYPES:
        raise CheckpointError(f"{where}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise CheckpointError(f"{where}: shape {shape!r} is not a list of sizes")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise CheckpointError(f"{where}: data_offsets {offsets!r} are not [begin, end]")
    if offsets[1] > data_size:
        raise CheckpointError(f"{where}: data runs past the end of the file (ends at {base + offsets[1]}, "
                              f"file has {base + data_size} bytes)")
    expected = math.prod(shape) * SAFETENSORS_DTYPES[dtype]  # Python integers: no overflow from a lying shape
    if offsets[1] - offsets[0] != expected:
        raise CheckpointError(f"{where}: {dtype} {shape} needs {expected} bytes but the header gives "
                              f"{offsets[1] - offsets[0]}")
    return TensorInfo(name, tuple(shape), dtype, file, base + offsets[0], expected)


def _check_overlaps(file: Path, infos) -> None:
    ordered = sorted((i for i in infos if i.nbytes), key=lambda i: i.offset)
    for before, after in zip(ordered, ordered[1:]):
        if after.offset < before.offset + before.nbytes:
            raise CheckpointError(f"{file}: tensors {before.name} and {after.name} overlap")


def _open_safetensors(files: list[Path], path: Path, config: dict, *, side: Path,
                      index: dict[str, str] | None = None) -> Checkpoint:
    tensors: dict[str, TensorInfo] = {}
    first_meta: dict = {}
    for file in files:
        found, meta = safetensors_header(file)
        first_meta = first_meta or meta
        for name, info in found.items():
            if name in tensors:
                raise CheckpointError(f"{file}: tensor {name} also stored in {tensors[name].file.name}")
            tensors[name] = info
    for name, shard in (index or {}).items():
        if name not in tensors or tensors[name].file.name != Path(shard).name:
            raise CheckpointError(f"{path / 'model.safetensors.index.json'}: tensor {name} is not in shard {shard}")
    return Checkpoint(path, tensors, config, kind="safetensors", side=side, metadata=first_meta)


def _open_gguf(file: Path) -> Checkpoint:
    size = file.stat().st_size
    try:
        with open(file, "rb") as fh:
            mapped = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        header = gguf_file.read_header(file, mapped, size)
    except gguf_file.GGUFFormatError as exc:
        raise CheckpointError(f"{file}: {exc}") from None
    except (UnicodeDecodeError, struct.error, ValueError) as exc:
        raise CheckpointError(f"{file}: corrupt GGUF header ({exc})") from None
    tensors = {}
    for t in header.tensors:
        if t.offset + t.nbytes > size:
            raise CheckpointError(f"{file}: tensor {t.name} runs past the end of the file "
                                  f"(ends at {t.offset + t.nbytes}, file has {size} bytes)")
        if t.name in tensors:
            raise CheckpointError(f"{file}: tensor {t.name} listed twice")
        tensors[t.name] = TensorInfo(t.name, t.shape, gguf_file.type_name(t.ggml_type), file, t.offset, t.nbytes)
    _check_overlaps(file, tensors.values())
    ckpt = Checkpoint(file, tensors, gguf_config(header.metadata), kind="gguf", metadata=header.metadata)
    if isinstance(mapped, mmap.mmap):
        ckpt._maps[file] = mapped
    return ckpt


def gguf_config(meta: dict) -> dict:
    """GGUF metadata → the HF config keys provenance compares (model_type, architectures, sizes)."""
    arch = str(meta.get("general.architecture", ""))
    model_type, class_name = GGUF_ARCH_TYPES.get(arch, (arch, None))
    config: dict = {"model_type": model_type, "gguf_architecture": arch}
    if class_name:
        config["architectures"] = [class_name]
    for key, hf_key in GGUF_CONFIG_KEYS.items():
        if f"{arch}.{key}" in meta:
            config[hf_key] = meta[f"{arch}.{key}"]
    if "vocab_size" not in config and "tokenizer.ggml.tokens" in meta:
        config["vocab_size"] = len(meta["tokenizer.ggml.tokens"])
    for tower, prefix in (("vision_config", "clip.vision."), ("audio_config", "clip.audio.")):
        sub = {}
        for key, hf_key in GGUF_CONFIG_KEYS.items():
            if prefix + key in meta:
                sub[hf_key] = meta[prefix + key]
        if sub:
            config[tower] = sub
    if "clip.projector_type" in meta:
        config["projector_type"] = meta["clip.projector_type"]
    return config


def _open_torch(files: list[Path], path: Path, config: dict, *, side: Path) -> Checkpoint:
    import torch

    tensors, loaded = {}, {}
    for file in files:
        try:
            state = torch.load(file, mmap=True, weights_only=True, map_location="cpu")
        except Exception as exc:  # torch raises many kinds on damaged or legacy files
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise CheckpointError(f"{file}: cannot read PyTorch checkpoint ({detail})") from None
        for key in ("state_dict", "model"):
            if isinstance(state, dict) and isinstance(state.get(key), dict):
                state = state[key]
        if not isinstance(state, dict):
            raise CheckpointError(f"{file}: PyTorch checkpoint does not hold a dict of tensors")
        offsets = _torch_offsets(file, state)
        for name, tensor in state.items():
            if not isinstance(tensor, torch.Tensor):
                continue
            dtype = _TORCH_DTYPES.get(str(tensor.dtype).removeprefix("torch."), str(tensor.dtype))
            nbytes = tensor.numel() * tensor.element_size()
            tensors[name] = TensorInfo(name, tuple(tensor.shape), dtype, file, offsets.get(name, -1), nbytes)
            loaded[name] = tensor
    return Checkpoint(path, tensors, config, kind="torch", side=side, torch_tensors=loaded)


_TORCH_DTYPES = {"float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "int64": "I64",
                 "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def _torch_offsets(file: Path, state: dict) -> dict[str, int]:
    """Where each tensor sits in the zip: its storage's address less the address of the file's first record."""
    import zipfile

    import torch

    try:
        with zipfile.ZipFile(file) as archive:
            starts = []
            for item in archive.infolist():
                if "/data/" in item.filename:
                    with open(file, "rb") as fh:
                        fh.seek(item.header_offset + 26)
                        name_len, extra_len = struct.unpack("<HH", fh.read(4))
                    starts.append(item.header_offset + 30 + name_len + extra_len)
        tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
        base = min(t.untyped_storage().data_ptr() for t in tensors.values()) - min(starts)
        return {k: t.untyped_storage().data_ptr() + t.storage_offset() * t.element_size() - base
                for k, t in tensors.items()}
    except (zipfile.BadZipFile, ValueError, OSError, RuntimeError):
        return {}
