"""The ministry's private suites, sealed: encrypted at rest, committed to before the stage, marked with a canary.

A sealed suite directory holds a clear `suite.toml` (what the suite is), `NOTICE.md` (its sources and canary),
`commitment.txt` (the SHA-256 published before the stage) and `items.sealed`: the items and few-shot examples
encrypted with AES-256-GCM under a key that only the evaluation office holds. GCM's tag makes any change to the
file fail to open rather than yield altered items. The commitment is computed exactly like `Suite.sha256`, so a
score recorded against a suite can be checked against what was published. Every item carries the suite's
canary, a unique marker that makes a leaked copy findable in a team's training data.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import re
import secrets
import tempfile
import tomllib
import uuid
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .suite import SuiteError, commitment_of, read_jsonl

MAGIC = b"DOKJA-SEALED-SUITE/1\n"
SEALED = "items.sealed"
COMMITMENT = "commitment.txt"
KEY_ENV = "DOKJA_SUITE_KEY"
CANARY_PATTERN = re.compile(r"DOKJA-CANARY-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class SealedError(SuiteError):
    """A sealed suite that cannot be opened or sealed: missing or wrong key, altered file. One line."""


def new_key() -> bytes:
    """A fresh 256-bit key for the evaluation office."""
    return AESGCM.generate_key(bit_length=256)


def encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode()


def parse_key(text: str, where: str = KEY_ENV) -> bytes:
    """A key written as 64 hex digits or as base64 of 32 bytes."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if re.fullmatch(r"[0-9a-fA-F]{64}", text) else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise SealedError(f"{where}: not a key (64 hex digits or base64 of 32 bytes)") from None
    if len(key) != 32:
        raise SealedError(f"{where}: key is {len(key)} bytes; AES-256 needs 32")
    return key


def load_key(key_file: Path | None = None) -> bytes | None:
    """The office's key: from a key file when given, else from `DOKJA_SUITE_KEY`, else none."""
    if key_file is not None:
        try:
            raw = Path(key_file).read_bytes()
        except OSError as exc:
            raise SealedError(f"{key_file}: cannot read key file ({exc.strerror})") from None
        if len(raw) == 32:
            return raw
        return parse_key(raw.decode("ascii", "replace"), str(key_file))
    text = os.environ.get(KEY_ENV, "")
    return parse_key(text, KEY_ENV) if text.strip() else None


def write_key(path: Path, key: bytes) -> None:
    """Store a key readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(encode_key(key) + "\n")


def new_canary() -> str:
    return f"DOKJA-CANARY-{uuid.uuid4()}"


def _meta(directory: Path) -> tuple[dict[str, Any], str]:
    toml = directory / "suite.toml"
    try:
        text = toml.read_text(encoding="utf-8")
        return tomllib.loads(text), text
    except FileNotFoundError:
        raise SealedError(f"{toml}: missing") from None
    except tomllib.TOMLDecodeError as exc:
        raise SealedError(f"{toml}: not valid TOML: {exc}") from None


def _with_top_level(toml_text: str, key: str, value: str) -> str:
    """Add `key = "value"` among the top-level keys, before the first table."""
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}\n"
    lines = toml_text.splitlines(keepends=True)
    at = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("[")), len(lines))
    if at and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    return "".join(lines[:at] + [line] + lines[at:])


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


NOTICE_SEALED = """
## Sealed private suite · 비공개 봉인 평가 세트

The items of this suite are encrypted (AES-256-GCM) with a key held only by the evaluation office; they are not
published. Its SHA-256 commitment, published before the stage, is in `commitment.txt`.
이 평가 세트의 문항은 평가 기관만 가진 키로 암호화(AES-256-GCM)되어 있으며 공개되지 않습니다. 단계평가 전에 공개한
SHA-256 확인값은 `commitment.txt`에 있습니다.

Canary · 카나리아 문자열: `{canary}`

This string is embedded in every item. Any text that contains it was copied from this suite and must not be
used to train a model. 이 문자열은 모든 문항에 들어 있습니다. 이 문자열이 포함된 텍스트는 이 평가 세트에서 유출된
것이므로 모델 학습에 사용해서는 안 됩니다.
"""


def seal(suite_dir: Path, key: bytes, *, out: Path | None = None) -> str:
    """Encrypt a clear suite's items (in place, or into `out`) and return the commitment to publish.

    The clear `items.jsonl` and `fewshot.jsonl` are removed from the sealed directory; the canary (kept from
    `suite.toml`, else new) is written into every item, `suite.toml` and `NOTICE.md`.
    """
    suite_dir = Path(suite_dir)
    target = Path(out) if out is not None else suite_dir
    meta, toml_text = _meta(suite_dir)
    items, fewshot = read_jsonl(suite_dir / "items.jsonl"), read_jsonl(suite_dir / "fewshot.jsonl")
    if not items:
        raise SealedError(f"{suite_dir / 'items.jsonl'}: no items to seal")
    canary = meta.get("canary") or new_canary()
    if not CANARY_PATTERN.fullmatch(canary):
        raise SealedError(f"{suite_dir / 'suite.toml'}: canary {canary!r} is not DOKJA-CANARY-<uuid>")
    items = [{**it, "canary": canary} for it in items]
    fewshot = [{**it, "canary": canary} for it in fewshot]
    payload = json.dumps({"id": meta.get("id", suite_dir.name), "items": items, "fewshot": fewshot},
                         ensure_ascii=False).encode()
    nonce = secrets.token_bytes(12)
    try:
        sealed = MAGIC + nonce + AESGCM(key).encrypt(nonce, payload, MAGIC)
    except ValueError as exc:
        raise SealedError(f"cannot seal {suite_dir}: {exc}") from None
    digest = commitment_of(items)

    target.mkdir(parents=True, exist_ok=True)
    if "canary" not in meta:
        toml_text = _with_top_level(toml_text, "canary", canary)
    if "sealed" not in meta:
        toml_text = _with_top_level(toml_text, "sealed", "AES-256-GCM")
    notice = suite_dir / "NOTICE.md"
    notice_text = notice.read_text(encoding="utf-8") if notice.exists() else f"# {meta.get('id', suite_dir.name)}\n"
    if canary not in notice_text:
        notice_text = notice_text.rstrip("\n") + "\n" + NOTICE_SEALED.format(canary=canary)
    licence = suite_dir / "LICENSE"
    if licence.exists() and target != suite_dir:
        (target / "LICENSE").write_bytes(licence.read_bytes())
    _atomic_write(target / SEALED, sealed)
    (target / "suite.toml").write_text(toml_text, encoding="utf-8")
    (target / "NOTICE.md").write_text(notice_text, encoding="utf-8")
    (target / COMMITMENT).write_text(digest + "\n", encoding="utf-8")
    for clear in ("items.jsonl", "fewshot.jsonl"):
        (target / clear).unlink(missing_ok=True)
    return digest


def is_sealed(directory: Path) -> bool:
    return (Path(directory) / SEALED).is_file()


def read_sealed(directory: Path, key: bytes | None = None) -> tuple[list[dict], list[dict]]:
    """Open a sealed suite: its items and few-shot examples, or one line saying why not."""
    path = Path(directory) / SEALED
    key = key if key is not None else load_key()
    if key is None:
        raise SealedError(f"{path}: suite is sealed; set {KEY_ENV} or give the evaluation office's key file")
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise SealedError(f"{path}: cannot read ({exc.strerror})") from None
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 12 + 16:
        raise SealedError(f"{path}: not a sealed Dokja suite")
    nonce = blob[len(MAGIC):len(MAGIC) + 12]
    try:
        payload = AESGCM(key).decrypt(nonce, blob[len(MAGIC) + 12:], MAGIC)
    except InvalidTag:
        raise SealedError(f"{path}: the key does not open this suite (wrong key, or the file was altered)") from None
    except ValueError as exc:
        raise SealedError(f"{path}: {exc}") from None
    data = json.loads(payload)
    return data["items"], data["fewshot"]


def read_commitment(value: str | Path) -> str:
    """A commitment given as hex digits or as a file holding them (`commitment.txt`)."""
    text = str(value).strip()
    if not re.fullmatch(r"(sha256:)?[0-9a-fA-F]{64}", text):
        try:
            text = Path(value).read_text(encoding="utf-8").split()[0]
        except (OSError, IndexError):
            raise SealedError(f"{value}: not a SHA-256 commitment nor a file holding one") from None
    text = text.lower().removeprefix("sha256:")
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise SealedError(f"{value}: not a SHA-256 commitment (64 hex digits)")
    return text


def verify(directory: Path, commitment: str, key: bytes | None = None) -> bool:
    """Whether the sealed items are exactly those committed to before the stage."""
    items, _ = read_sealed(directory, key)
    return hmac.compare_digest(commitment_of(items), read_commitment(commitment))


def canaries_in(text: str) -> set[str]:
    """Dokja canaries found in a text: evidence that a sealed suite leaked into it."""
    return set(CANARY_PATTERN.findall(text))
