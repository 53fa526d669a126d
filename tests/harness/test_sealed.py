"""Sealed private suites: unreadable without the office's key, committed to, marked with a canary."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from dokja.harness.sealed import (SEALED, SealedError, canaries_in, commitment_of, load_key, new_key, parse_key,
                                  read_commitment, read_sealed, seal, verify, write_key)
from dokja.harness.suite import BUNDLED, Suite, SuiteError


@pytest.fixture
def clear_suite(tmp_path) -> Path:
    """A copy of a bundled Korean suite, to be sealed."""
    return Path(shutil.copytree(BUNDLED / "kobbq", tmp_path / "private_kobbq"))


def clear_items(directory: Path, name: str = "items.jsonl") -> list[dict]:
    return [json.loads(line) for line in (directory / name).read_text(encoding="utf-8").splitlines() if line]


def test_sealed_file_holds_no_item_text_in_clear(clear_suite):
    items, fewshot = clear_items(clear_suite), clear_items(clear_suite, "fewshot.jsonl")
    key = new_key()
    seal(clear_suite, key)
    blob = (clear_suite / SEALED).read_bytes()
    assert not (clear_suite / "items.jsonl").exists() and not (clear_suite / "fewshot.jsonl").exists()
    for item in items + fewshot:
        for text in (item["context"], item["context"][:20], item["id"]):
            assert text.encode() not in blob and text.encode("utf-16-le") not in blob
    for other in clear_suite.iterdir():  # nothing left in the directory gives an item away
        if other.name != SEALED:
            assert not any(item["context"][:20] in other.read_text(encoding="utf-8") for item in items)


def test_items_read_back_with_the_key_and_carry_the_canary(clear_suite):
    items, fewshot = clear_items(clear_suite), clear_items(clear_suite, "fewshot.jsonl")
    key = new_key()
    commitment = seal(clear_suite, key)
    opened, opened_fewshot = read_sealed(clear_suite, key)
    (canary,) = canaries_in((clear_suite / "NOTICE.md").read_text(encoding="utf-8"))
    assert canary in (clear_suite / "suite.toml").read_text(encoding="utf-8")
    assert all(it.pop("canary") == canary for it in opened + opened_fewshot)
    assert opened == items and opened_fewshot == fewshot
    assert (clear_suite / "commitment.txt").read_text().strip() == commitment


def test_commitment_is_the_suite_hash_and_verifies(clear_suite):
    key = new_key()
    commitment = seal(clear_suite, key)
    items, fewshot = read_sealed(clear_suite, key)
    assert commitment == Suite("private_kobbq", {}, items, fewshot).sha256 == commitment_of(items)
    assert verify(clear_suite, commitment, key)
    assert verify(clear_suite, str(clear_suite / "commitment.txt"), key)
    assert verify(clear_suite, "sha256:" + commitment.upper(), key)
    assert not verify(clear_suite, commitment_of(items[1:]), key)
    with pytest.raises(SealedError, match="not a SHA-256 commitment"):
        read_commitment("abc123")


def test_missing_or_wrong_key_is_one_line(clear_suite, monkeypatch):
    seal(clear_suite, new_key())
    monkeypatch.delenv("DOKJA_SUITE_KEY", raising=False)
    with pytest.raises(SealedError, match="suite is sealed; set DOKJA_SUITE_KEY") as missing:
        read_sealed(clear_suite)
    with pytest.raises(SealedError, match="key does not open this suite") as wrong:
        read_sealed(clear_suite, new_key())
    assert isinstance(wrong.value, SuiteError)
    assert all("\n" not in str(e.value) for e in (missing, wrong))


def test_tampered_ciphertext_fails_to_open(clear_suite):
    key = new_key()
    commitment = seal(clear_suite, key)
    path = clear_suite / SEALED
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    path.write_bytes(bytes(blob))
    with pytest.raises(SealedError, match="altered"):
        read_sealed(clear_suite, key)
    with pytest.raises(SealedError):
        verify(clear_suite, commitment, key)
    path.write_bytes(b"not sealed at all")
    with pytest.raises(SealedError, match="not a sealed Dokja suite"):
        read_sealed(clear_suite, key)


def test_key_from_environment_or_file(clear_suite, tmp_path, monkeypatch):
    key = new_key()
    seal(clear_suite, key, out=tmp_path / "sealed")
    assert (clear_suite / "items.jsonl").exists()  # sealing into `out` leaves the source alone
    monkeypatch.setenv("DOKJA_SUITE_KEY", key.hex())
    assert read_sealed(tmp_path / "sealed")[0]
    monkeypatch.setenv("DOKJA_SUITE_KEY", base64.b64encode(key).decode())
    assert load_key() == key
    write_key(tmp_path / "office.key", key)
    assert load_key(tmp_path / "office.key") == key and (tmp_path / "office.key").stat().st_mode & 0o077 == 0
    (tmp_path / "raw.key").write_bytes(key)
    assert load_key(tmp_path / "raw.key") == key
    with pytest.raises(SealedError, match="AES-256 needs 32"):
        parse_key(base64.b64encode(b"short").decode())
    with pytest.raises(SealedError, match="cannot read key file"):
        load_key(tmp_path / "absent.key")


def test_resealing_keeps_the_canary_and_commitment(clear_suite, tmp_path):
    key = new_key()
    first = seal(clear_suite, key, out=tmp_path / "a")
    second = seal(clear_suite, key, out=tmp_path / "b")
    assert first != second  # each sealing draws a new canary unless the suite names one
    (tmp_path / "a" / "items.jsonl").write_text("\n".join(json.dumps(i, ensure_ascii=False)
                                                          for i in read_sealed(tmp_path / "a", key)[0]))
    assert seal(tmp_path / "a", key) == first


SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "korean_safety").is_dir():
        pytest.skip(f"the published Korean safety data is not beside the project ({SHARED_DATA.name})")
    return SHARED_DATA


def test_private_suites_built_from_real_data_are_sealed_and_balanced(shared_data, tmp_path):
    from dokja.harness.private_suites import build_private_suites

    clear = build_private_suites(shared_data, tmp_path / "clear", items=40)
    assert set(clear) == {"ko_safety_private", "ko_reasoning_private"}
    key = new_key()
    sealed = build_private_suites(shared_data, tmp_path / "sealed", key, items=40)
    for suite_id, commitment in sealed.items():
        directory = tmp_path / "sealed" / suite_id
        items, fewshot = read_sealed(directory, key)
        assert len(items) == 40 and len(fewshot) == 4 and verify(directory, commitment, key)
        assert sum(it["answer"] for it in items) == 20  # balanced between the two answers
        assert not {it["id"] for it in fewshot} & {it["id"] for it in items}
        blob = (directory / SEALED).read_bytes()
        assert not any(it["context"].split("\n")[0].encode() in blob for it in items)
        assert Suite(suite_id, {}, items).sha256 == commitment
        clear_items_ = clear_items(tmp_path / "clear" / suite_id)
        assert [it["id"] for it in clear_items_] == [it["id"] for it in items]  # same seed, same sample
    sources = {it["source"] for it in read_sealed(tmp_path / "sealed" / "ko_safety_private", key)[0]}
    assert sources == {"KoSBi", "SQuARe"}


def test_private_suites_are_built_once_then_reused(shared_data, tmp_path):
    from dokja.harness.private_suites import ensure_private_suites

    first = ensure_private_suites(shared_data, tmp_path / "private", tmp_path / "office.key", items=10)
    stamp = (tmp_path / "private" / "ko_safety_private" / SEALED).stat().st_mtime_ns
    assert ensure_private_suites(shared_data, tmp_path / "private", tmp_path / "office.key", items=10) == first
    assert (tmp_path / "private" / "ko_safety_private" / SEALED).stat().st_mtime_ns == stamp
    key = load_key(tmp_path / "office.key")
    assert all(verify(tmp_path / "private" / s, c, key) for s, c in first.items())


def test_cli_keygen_seal_verify_and_contamination(clear_suite, tmp_path):
    from typer.testing import CliRunner

    from dokja.cli import app

    runner = CliRunner()
    key_file = tmp_path / "office.key"
    assert runner.invoke(app, ["sealed", "keygen", str(key_file)]).exit_code == 0
    assert runner.invoke(app, ["sealed", "keygen", str(key_file)]).exit_code == 2
    result = runner.invoke(app, ["sealed", "seal", str(clear_suite), "--key-file", str(key_file)])
    assert result.exit_code == 0 and "sha256:" in result.output
    commitment = (clear_suite / "commitment.txt").read_text().strip()
    ok = runner.invoke(app, ["sealed", "verify", str(clear_suite), "--commitment", commitment, "--key-file",
                             str(key_file)])
    assert ok.exit_code == 0 and "match the commitment" in ok.output
    bad = runner.invoke(app, ["sealed", "verify", str(clear_suite), "--commitment", "0" * 64, "--key-file",
                              str(key_file)])
    assert bad.exit_code == 2 and "do not match" in bad.output
    nokey = runner.invoke(app, ["sealed", "verify", str(clear_suite), "--commitment", commitment],
                          env={"DOKJA_SUITE_KEY": ""})
    assert nokey.exit_code == 2 and "no key" in nokey.output
    items, _ = read_sealed(clear_suite, load_key(key_file))
    corpus = tmp_path / "team.txt"
    corpus.write_text("학습 데이터.\n" + items[5]["context"] + " " + items[5]["choices"][items[5]["answer"]] + "\n",
                      encoding="utf-8")
    found = runner.invoke(app, ["sealed", "contamination", str(clear_suite), str(corpus), "--key-file",
                                str(key_file)])
    assert found.exit_code == 0 and items[5]["id"] in found.output and "1 of 120 items flagged" in found.output
