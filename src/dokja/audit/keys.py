"""The office's Ed25519 signing key: made once by `dokja keys init`, its public half printed in reports."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class KeyError_(ValueError):
    """A key file that cannot be used; one line naming it."""


def init_key(path: Path) -> str:
    """Write a new private key (PEM, owner-only) at ``path`` and its public key beside it; returns the
    public key as hex. An existing key is never overwritten."""
    path = Path(path)
    if path.exists():
        raise KeyError_(f"{path}: a key already exists; refusing to overwrite it")
    if not path.parent.is_dir():
        raise KeyError_(f"{path}: the folder {path.parent} does not exist")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public = public_hex(key)
    path.with_name(path.name + ".pub").write_text(public + "\n")
    return public


def load_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyError_(f"{path}: no key file; make one with `dokja keys init {path}`") from None
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"{path}: not a PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{path}: not an Ed25519 key")
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return key.sign(message).hex()


def signature_ok(public: str, signature: str, message: bytes) -> bool:
    """Whether ``signature`` (hex) is the holder of ``public`` (hex) signing ``message``; never raises."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public)).verify(bytes.fromhex(signature), message)
        return True
    except (InvalidSignature, ValueError):
        return False
