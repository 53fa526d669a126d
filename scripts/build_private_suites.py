#!/usr/bin/env python
"""Build the ministry's private suites from the Korean safety and reasoning data, and seal them.

    .venv/bin/python scripts/build_private_suites.py --out DIR --key-file office.key [--data DIR] [--items N]

A key file that does not exist yet is created with a fresh key (readable by its owner only). With `--clear`
the suites are written unsealed, for the office's own inspection. Prints each suite's commitment, the value
to publish before the stage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dokja.harness.private_suites import build_private_suites  # noqa: E402
from dokja.harness.sealed import SealedError, load_key, new_key, write_key  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder with korean_safety/ and kobest/ [default: ../shared/data]")
    parser.add_argument("--out", type=Path, required=True, help="where the suite directories are written")
    parser.add_argument("--key-file", type=Path, help="the office's key; created when missing")
    parser.add_argument("--clear", action="store_true", help="write the suites unsealed")
    parser.add_argument("--items", type=int, default=200, help="items per suite [default: 200]")
    args = parser.parse_args(argv)
    try:
        key = None
        if not args.clear:
            if args.key_file is None:
                parser.error("--key-file is required unless --clear")
            if not args.key_file.exists():
                write_key(args.key_file, new_key())
                print(f"new key written to {args.key_file}")
            key = load_key(args.key_file)
        commitments = build_private_suites(args.data, args.out, key, items=args.items)
    except SealedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for suite_id, digest in commitments.items():
        print(f"{suite_id}  sha256:{digest}  {'sealed' if key else 'clear'}  {args.out / suite_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
