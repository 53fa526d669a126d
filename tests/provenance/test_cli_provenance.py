"""`dokja provenance`: add a library entry, list the library, check a checkpoint (stored), attach a note."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dokja.cli import app
from dokja.provenance import disguise as V

runner = CliRunner()
TINY = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 512,
        "tie_word_embeddings": True, "rms_norm_eps": 1e-5}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return V.write(root / "tiny", V.independent(TINY, seed=5), TINY)


def run(args, env, code=0):
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    return result.output


def test_add_list_check_and_note(tmp_path, tiny):
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"),
           "DOKJA_PROVENANCE_LIBRARY": str(tmp_path / "lib"), "COLUMNS": "250"}
    out = run(["provenance", "add", "Tiny-Foreign", str(tiny), "--alias", "acme/tiny", "--licence", "MIT"], env)
    assert "library entry Tiny-Foreign" in out
    out = run(["provenance", "library"], env)
    assert "Tiny-Foreign" in out and "SmolLM2-135M-Instruct" in out and "Gemma-3-270M" in out
    out = run(["provenance", "check", str(tiny), "--json"], env)
    verdict = json.loads(out)
    assert not verdict["passed"] and verdict["summary"].startswith("derived from Tiny-Foreign")
    out = run(["provenance", "check", str(tiny)], env)
    assert "derived from Tiny-Foreign" in out and "fails the independence gate" in out and "독립성" in out
    run(["provenance", "note", "tiny", "weights licensed from Acme", "--passed", "--reviewer", "Park"], env)

    from dokja.provenance.records import gate_view
    from dokja.store import open_store

    with open_store(str(tmp_path / "d.db")).begin() as s:
        view = gate_view(s, "tiny")
        assert view["automatic"] is False and view["passed"] is True
        assert view["notes"][0]["reviewer"] == "Park"


def test_unreadable_checkpoint_is_one_red_line(tmp_path):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "config.json").write_text("{}")
    (tmp_path / "bad" / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\"")
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"), "COLUMNS": "250"}
    out = run(["provenance", "check", str(tmp_path / "bad")], env, code=2)
    assert "model.safetensors" in out and "Traceback" not in out
