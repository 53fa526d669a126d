"""What a checkpoint says of itself beside its weights: the tokenizer (tokens and merge order) and the model
card's provenance facts (base model, licence), from HF side files or GGUF metadata."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import CheckpointError

GGUF_TOKENIZER_MODELS = {"gpt2": "bpe", "llama": "sentencepiece", "t5": "unigram", "bert": "wordpiece"}
CARD_KEYS = ("base_model", "base_model_relation", "license", "license_name")


def hf_tokenizer(folder: Path) -> dict | None:
    file = folder / "tokenizer.json"
    if file.is_file():
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
            model = data["model"]
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{file}: unreadable tokenizer ({exc})") from None
        kind = str(model.get("type", "")).lower()
        vocab = model.get("vocab") or {}
        by_id = dict(enumerate(v[0] for v in vocab)) if isinstance(vocab, list) else {i: t for t, i in vocab.items()}
        for added in data.get("added_tokens") or []:
            by_id[added["id"]] = added["content"]
        tokens = [by_id.get(i, "") for i in range(max(by_id) + 1)] if by_id else []
        merges = model.get("merges")
        if merges is not None:
            merges = [m if isinstance(m, str) else " ".join(m) for m in merges]
        return {"tokens": tokens, "merges": merges, "model": kind}
    vocab_file, merges_file = folder / "vocab.json", folder / "merges.txt"
    if vocab_file.is_file():
        try:
            vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{vocab_file}: unreadable vocabulary ({exc})") from None
        by_id = {i: t for t, i in vocab.items()}
        tokens = [by_id.get(i, "") for i in range(max(by_id) + 1)] if by_id else []
        merges = None
        if merges_file.is_file():
            lines = merges_file.read_text(encoding="utf-8").splitlines()
            merges = [line for line in lines if line and not line.startswith("#version")]
        return {"tokens": tokens, "merges": merges, "model": "bpe" if merges is not None else "wordlevel"}
    return None


def readme_card(readme: Path) -> dict:
    if not readme.is_file():
        return {}
    text = readme.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        return {}
    import yaml

    try:
        front = yaml.safe_load(text[3:end])
    except yaml.YAMLError as exc:
        raise CheckpointError(f"{readme}: model card front matter is not valid YAML "
                              f"({str(exc).splitlines()[0]})") from None
    if not isinstance(front, dict):
        return {}
    return {key: front[key] for key in CARD_KEYS if front.get(key) is not None}


def gguf_card(meta: dict) -> dict:
    card: dict = {}
    bases = []
    for i in range(int(meta.get("general.base_model.count", 0) or 0)):
        name = meta.get(f"general.base_model.{i}.name")
        org = meta.get(f"general.base_model.{i}.organization")
        url = meta.get(f"general.base_model.{i}.repo_url")
        label = f"{org}/{name}" if org and name else name or url
        if label:
            bases.append(label)
    if bases:
        card["base_model"] = bases[0] if len(bases) == 1 else bases
    if meta.get("general.license"):
        card["license"] = meta["general.license"]
    return card
