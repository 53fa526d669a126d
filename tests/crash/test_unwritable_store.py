"""A store that cannot be written (a file-size limit standing in for a full disk): the command says so in one
line, and nothing committed or acknowledged before is lost."""

from __future__ import annotations

import resource
import sqlite3
import subprocess
import sys

PROGRAMME = """
name = "Full disk"

[[stages]]
id = "stage-1"
name = "Stage 1"
date = 2026-06-30
keep = 1

[suites]
ministry = ["kobest_copa"]

[[teams]]
id = "hanbit"
name = "Team Hanbit"
members = [{{ name = "Kim", role = "student" }}]

[[models]]
name = "hanbit-tiny"
location = "{model}"
team = "hanbit"
"""


def no_writes_beyond(limit: int):
    """Any write past ``limit`` bytes of any file fails (EFBIG), as on a full disk."""
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def cli(args: list[str], limit: int) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, HF_HUB_OFFLINE="1", TQDM_DISABLE="1", NO_COLOR="1", COLUMNS="200")
    return subprocess.run([sys.executable, "-c", "from dokja.cli import app; app()", *args], env=env,
                          preexec_fn=no_writes_beyond(limit), capture_output=True, text=True, timeout=300)


def one_line_error(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode in (1, 2), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr[-2000:]
    return lines[0]


def counts(db) -> tuple[int, int, str]:
    with sqlite3.connect(db) as conn:
        return (conn.execute("select count(*) from team").fetchone()[0],
                conn.execute("select count(*) from result").fetchone()[0],
                conn.execute("pragma integrity_check").fetchone()[0])


def test_a_full_disk_is_one_line_and_loses_nothing(tmp_path, tiny_model, cache):
    from dokja.programme import load_programme
    from dokja.registry import import_programme
    from dokja.store import open_store

    (tmp_path / "p.toml").write_text(PROGRAMME.format(model=tiny_model), encoding="utf-8")
    db = tmp_path / "dokja.db"
    sessions = open_store(f"sqlite:///{db}")
    with sessions.begin() as session:
        import_programme(session, load_programme(tmp_path / "p.toml"), cache=cache)
    sessions.kw["bind"].dispose()
    before = counts(db)
    url = f"sqlite:///{db}"
    team = ["team", "add", "nuri", "--name", "Team Nuri", "--member", "Kim:student", "--db", url]
    # no byte may be written: the store cannot even be opened; 64 KiB: it opens, and the first results fail
    for args, limit in ((team, 0), (["eval", "--db", url, "--cache", str(cache)], 64 * 1024)):
        line = one_line_error(cli(args, limit))
        assert str(db) in line and ("cannot be written" in line or "cannot open" in line), line
        assert counts(db) == before
