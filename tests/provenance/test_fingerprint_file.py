"""A fingerprint survives its file; a damaged file or library entry is one clear error; the bundled library
is small and says what it holds."""

from __future__ import annotations

import numpy as np
import pytest

from dokja.provenance import library as lib
from dokja.provenance.errors import ProvenanceError
from dokja.provenance.fingerprint import load


def test_bundled_library_entries_are_small_and_named():
    files = sorted(lib.BUNDLED.glob("*.npz"))
    assert {f.stem for f in files} == {"SmolLM2-135M-Instruct", "Gemma-3-270M"}
    assert all(f.stat().st_size < 3.2e6 for f in files)
    names = {fp.name: fp for fp in lib.entries()}
    assert names["SmolLM2-135M-Instruct"].facts["layers"] == 30
    assert names["Gemma-3-270M"].facts["width"] == 640
    assert "google/gemma-3-270m" in names["Gemma-3-270M"].facts["aliases"]


def test_round_trip_keeps_arrays(tmp_path):
    fp = lib.entries()[0]
    again = load(fp.save(tmp_path / "copy.npz"))
    assert again.name == fp.name and again.facts == fp.facts and again.hashes == fp.hashes
    assert np.array_equal(again.order, fp.order)
    assert sorted(again.mlp) == sorted(fp.mlp)
    np.testing.assert_allclose(again.embed, fp.embed, atol=1e-3)


def test_damaged_fingerprint_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ProvenanceError, match=r"bad\.npz: not a fingerprint file"):
        load(bad)
    with pytest.raises(ProvenanceError, match="fingerprint file not found"):
        load(tmp_path / "missing.npz")


def test_library_entry_names_are_checked(tmp_path):
    with pytest.raises(ProvenanceError, match="library entry name '../x'"):
        lib.add("../x", tmp_path, tmp_path)


def test_null_file_must_hold_thresholds(tmp_path):
    from dokja.provenance.null import load_null

    (tmp_path / "null.json").write_text('{"mlp": {"mean": 0.1}}')
    with pytest.raises(ProvenanceError, match="mlp: missing numeric threshold"):
        lib.null(tmp_path)
    (tmp_path / "null.json").write_text("{oops")
    with pytest.raises(ProvenanceError, match="not JSON"):
        load_null(tmp_path / "null.json")
