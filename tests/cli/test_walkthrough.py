"""The README's "your own programme in ten minutes" runs as written."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def walkthrough() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- walkthrough -->\s*```sh\n(.*?)```\s*<!-- /walkthrough -->", text, re.S)
    assert block, "README.md lost its walkthrough block"
    return block.group(1)


def test_readme_walkthrough_runs(tmp_path, cache):
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DOKJA_CACHE": str(cache), "COLUMNS": "120"}
    env.pop("DOKJA_DB", None)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", walkthrough()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    folder = tmp_path / "my-programme"
    assert (folder / "report.html").stat().st_size > 10_000
    assert (folder / ".dokja" / "dokja.db").exists()
    assert "Team Hanbit" in done.stdout and "advance" in done.stdout
