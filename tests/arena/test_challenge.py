"""Proof of work: an honest answer passes once; a forged, altered, expired, replayed or lazy one is refused."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from dokja.arena.challenge import SCRIPT, ChallengeError, issue, leading_zero_bits, solve, verify

SECRET = b"the site's own secret"
NOW = 1_780_000_000.0


def test_a_solved_challenge_is_accepted_once():
    c = issue(SECRET, "visitor-1", NOW, difficulty=12)
    nonce = solve(c.token, 12)
    digest = hashlib.sha256(f"{c.token}{nonce}".encode()).digest()
    assert leading_zero_bits(digest) >= 12
    done = verify(SECRET, c.token, str(nonce), visitor="visitor-1", now=NOW + 30)
    assert (done.id, done.difficulty, done.expires) == (c.id, 12, c.expires)
    with pytest.raises(ChallengeError, match="answered already"):
        verify(SECRET, c.token, nonce, visitor="visitor-1", now=NOW + 31, spent={done.id})


def test_leading_zero_bits():
    assert leading_zero_bits(bytes(32)) == 256
    assert leading_zero_bits(b"\x00\x00\x80" + bytes(29)) == 16
    assert leading_zero_bits(b"\x00\x01" + bytes(30)) == 15
    assert leading_zero_bits(b"\xff" * 32) == 0


def test_a_forged_or_altered_challenge_is_refused():
    c = issue(SECRET, "visitor-1", NOW, difficulty=8, salt="fixed")
    forged = issue(b"another secret", "visitor-1", NOW, difficulty=8, salt="fixed")
    with pytest.raises(ChallengeError, match="forged or altered"):
        verify(SECRET, forged.token, solve(forged.token, 8), visitor="visitor-1", now=NOW)
    easier = c.token.replace(".8.", ".0.", 1)  # lowering the difficulty breaks the signature
    with pytest.raises(ChallengeError, match="forged or altered"):
        verify(SECRET, easier, 0, visitor="visitor-1", now=NOW)
    later = c.token.replace(str(int(c.expires)), str(int(c.expires) + 10**6))
    with pytest.raises(ChallengeError, match="forged or altered"):
        verify(SECRET, later, solve(later, 8), visitor="visitor-1", now=NOW)
    with pytest.raises(ChallengeError, match="not a challenge"):
        verify(SECRET, "hello", 1, visitor="visitor-1", now=NOW)


def test_an_expired_or_borrowed_or_lazy_answer_is_refused():
    c = issue(SECRET, "visitor-1", NOW, difficulty=16, ttl_s=60)
    nonce = solve(c.token, 16)
    with pytest.raises(ChallengeError, match="expired"):
        verify(SECRET, c.token, nonce, visitor="visitor-1", now=NOW + 61)
    with pytest.raises(ChallengeError, match="another visitor"):
        verify(SECRET, c.token, nonce, visitor="visitor-2", now=NOW)
    lazy = next(n for n in range(10_000)
                if leading_zero_bits(hashlib.sha256(f"{c.token}{n}".encode()).digest()) < 16)
    with pytest.raises(ChallengeError, match="falls short of 16"):
        verify(SECRET, c.token, lazy, visitor="visitor-1", now=NOW)
    for junk in ("-1", "1e5", "0x10", "١٢", "9" * 21):
        with pytest.raises(ChallengeError, match="decimal number"):
            verify(SECRET, c.token, junk, visitor="visitor-1", now=NOW)


def test_bad_issue_arguments_are_one_line():
    with pytest.raises(ChallengeError):
        issue(b"", "v", NOW)
    with pytest.raises(ValueError):
        issue(SECRET, "v", NOW, difficulty=65)


def test_each_challenge_is_fresh():
    tokens = {issue(SECRET, "v", NOW, 10).token for _ in range(20)}
    assert len(tokens) == 20


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js to run the page's script")
def test_the_pages_script_finds_the_nonce_the_site_accepts():
    c = issue(SECRET, "visitor-ü", NOW, difficulty=14)
    program = SCRIPT + f"solveChallenge({json.dumps(c.token)}, 14).then((n) => console.log(n));"
    found = subprocess.run(["node", "-e", program], capture_output=True, text=True, timeout=60, check=True)
    nonce = found.stdout.strip()
    assert nonce == str(solve(c.token, 14))
    assert verify(SECRET, c.token, nonce, visitor="visitor-ü", now=NOW).id == c.id
