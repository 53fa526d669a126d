#!/usr/bin/env bash
# The wheel as a new user gets it: built, installed into a clean virtual environment with no extras, and run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m pip wheel -q --disable-pip-version-check --no-deps -w "$work/dist" . >/dev/null
"$PYTHON" -m venv "$work/venv"
pip="$work/venv/bin/pip -q --disable-pip-version-check"
$pip install torch==2.13.0            # the CPU build; without the pin pip takes a several-GB CUDA build
$pip install "$work"/dist/dokja-*.whl
cd "$work"                            # away from the source tree, so only the installed package is imported
dokja="$work/venv/bin/dokja"
$dokja --version
$dokja --help >/dev/null
votes=$("$work/venv/bin/python" -c 'import dokja, pathlib; print(pathlib.Path(dokja.__file__).parent / "demo/data/votes.csv")')
$dokja votes recompute "$votes" | tail -n 3
$dokja suite list >/dev/null
$dokja programme reference | head -n 1
test ! -e "$work/.dokja"              # read-only commands left no store behind
echo "wheel smoke test passed"
