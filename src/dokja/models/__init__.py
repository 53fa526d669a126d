"""Model backends behind one small interface: local transformers (HF directory or GGUF) and endpoints."""

from __future__ import annotations

from pathlib import Path

from .base import Backend, Failed, Loglikelihood
from .errors import ModelError
from .locate import Location, checkpoint_sha256, materialise_gguf, resolve


def open_backend(location: str, *, name: str = "", chat: bool = False, cache: Path = Path(".dokja")) -> Backend:
    """Load whatever the location names, ready to score; GGUF files are dequantised once and cached.
    `vllm:PATH` serves an HF directory through vLLM when that optional extra is installed."""
    if location.startswith("vllm:"):
        from .vllm_backend import VLLMModel

        return VLLMModel(location.removeprefix("vllm:"), name=name, chat=chat)
    where = resolve(location, cache)
    if where.kind == "endpoint":
        from .endpoint import EndpointModel

        return EndpointModel(where.path, name=name, chat=chat, cache_dir=cache / "responses")
    from transformers.utils import logging as hf_logging

    from .local import TransformersModel

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    path = materialise_gguf(where.path, cache) if where.kind == "gguf" else Path(where.path)
    return TransformersModel(path, name=name, chat=chat)


__all__ = ["Backend", "Failed", "Location", "Loglikelihood", "ModelError", "checkpoint_sha256", "materialise_gguf",
           "open_backend", "resolve"]
