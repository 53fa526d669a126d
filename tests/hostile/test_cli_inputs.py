"""Every kind of file the command line reads, made hostile by Hypothesis (garbage, a valid file cut short or
with bytes flipped), fed to the real command: an answer or one `error:` line with exit code 1 or 2, never a
traceback."""

from __future__ import annotations

import json
import struct
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dokja.cli import app

EXAMPLES = 10
PROGRAMME = b"""name = "P"
[[stages]]
id = "s1"
name = "Stage 1"
date = 2026-06-30
keep = 1
[suites]
ministry = ["ko_math"]
[[teams]]
id = "hanbit"
name = "Team Hanbit"
members = [{ name = "Kim", role = "student" }]
"""
SUITE = (b'id = "tiny"\ntitle_en = "Tiny"\nlanguage = "en"\ncategory = "math"\nkind = "multiple_choice"\n'
         b'metric = "acc"\ndata = { path = "items.jsonl" }\n')


def votes(as_jsonl: bool) -> bytes:
    """A real export of three votes, as the site writes it."""
    from dokja.arena.export import votes_to_csv, votes_to_jsonl
    from dokja.arena.leaderboard import VoteRecord

    rows = [VoteRecord(f"b{n}", a, b, outcome, language="en")
            for n, (a, b, outcome) in enumerate([("m1", "m2", "a"), ("m2", "m3", "tie"), ("m3", "m1", "b")])]
    return (votes_to_jsonl(rows) if as_jsonl else votes_to_csv(rows)).encode()


REVIEWERS = b'[[reviewers]]\nkey = "rev-a"\nname = "Reviewer A"\norigin = "domestic"\naffiliation = "KAIST"\n'


def safetensors() -> bytes:
    header = json.dumps({"model.embed_tokens.weight": {"dtype": "F32", "shape": [4, 2], "data_offsets": [0, 32]}})
    return struct.pack("<Q", len(header)) + header.encode() + bytes(32)


def gguf() -> bytes:
    key = b"general.architecture"
    return (b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key + struct.pack("<I", 8)
            + struct.pack("<Q", 5) + b"llama")


def bundle() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("manifest.json", '{"files": {}}')
        z.writestr("signature.json", '{"signature": "00"}')
    return out.getvalue()


def hostile(valid: bytes) -> st.SearchStrategy[bytes]:
    """Garbage, the valid file cut anywhere, or with a few bytes changed (and, as text, odd characters)."""
    cut = st.integers(0, len(valid)).map(lambda n: valid[:n])
    flips = st.lists(st.tuples(st.integers(0, max(len(valid) - 1, 0)), st.integers(0, 255)), min_size=1,
                     max_size=6).map(lambda edits: _edit(valid, edits))
    words = st.text(st.characters(codec="utf-8"), max_size=40).map(
        lambda t: valid.replace(b"hanbit", t.encode("utf-8", "surrogatepass"), 1))
    return st.one_of(st.binary(max_size=200), cut, flips, words)


def _edit(data: bytes, edits) -> bytes:
    out = bytearray(data)
    for at, value in edits:
        if out:
            out[at % len(out)] = value
    return bytes(out)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from dokja.programme import load_programme
    from dokja.registry import import_programme
    from dokja.store import open_store

    folder = tmp_path_factory.mktemp("cli-fuzz")
    (folder / "p.toml").write_bytes(PROGRAMME)
    url = f"sqlite:///{folder / 'dokja.db'}"
    sessions = open_store(url)
    with sessions.begin() as session:
        import_programme(session, load_programme(folder / "p.toml"), PROGRAMME.decode())
    sessions.kw["bind"].dispose()
    return folder, url


def command(kind: str, path: str, folder, url: str) -> list[str]:
    db = ["--db", url]
    return {
        "programme": ["programme", "check", path],
        "suite": ["suite", "show", path],
        "votes.csv": ["votes", "recompute", path, "--rounds", "2"],
        "votes.jsonl": ["votes", "recompute", path, "--rounds", "2"],
        "reviewers": ["panel", "reviewers", path, *db],
        "safetensors": ["provenance", "add", "fuzzed", str(Path(path).parent), "--library", str(folder / "lib"), "--cache",
                        str(folder)],
        "gguf": ["provenance", "add", "fuzzed", path, "--library", str(folder / "lib"), "--cache", str(folder)],
        "bundle": ["verify", path, "--key", "00" * 32],
    }[kind]


FILES = {"programme": (PROGRAMME, "p.toml"), "suite": (SUITE, "suite.toml"), "votes.csv": (votes(False), "v.csv"),
         "votes.jsonl": (votes(True), "v.jsonl"), "reviewers": (REVIEWERS, "reviewers.toml"),
         "safetensors": (safetensors(), "model.safetensors"), "gguf": (gguf(), "model.gguf"),
         "bundle": (bundle(), "bundle.zip")}


UNFIXED: dict[str, str] = {}  # kinds known to fail, with why (an xfail that must fail): none now


@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.xfail(reason=UNFIXED[k], strict=True))
                                  if k in UNFIXED else k for k in sorted(FILES)])
def test_a_hostile_file_is_one_line_never_a_traceback(kind, store, tmp_path_factory):
    folder, url = store
    valid, name = FILES[kind]
    runner = CliRunner()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(hostile(valid))
    def feed(content: bytes):
        where = tmp_path_factory.mktemp(kind.replace(".", "-"))
        target = where / name
        if kind == "suite":
            target.parent.joinpath("items.jsonl").write_text('{"id": "q", "context": "1+1=", "choices": ["2", "3"], '
                                                             '"answer": 0}\n')
        if kind == "safetensors":
            target.parent.joinpath("config.json").write_text('{"model_type": "llama", "hidden_size": 2}')
        target.write_bytes(content)
        result = runner.invoke(app, command(kind, str(target), folder, url), env={"COLUMNS": "300",
                                                                                  "NO_COLOR": "1"})
        shown = result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{kind}: {content[:120]!r} → {type(result.exception).__name__}: {result.exception}")
        assert "Traceback" not in shown
        assert result.exit_code in (0, 1, 2), (result.exit_code, shown[-500:])
        if result.exit_code:
            errors = [line for line in shown.splitlines() if line.startswith("error:")]
            assert len(errors) == 1, f"{kind}: {content[:120]!r} → {shown[-800:]}"

    feed()
