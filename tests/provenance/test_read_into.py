"""Reading many row runs at once straight into kept arrays, norm folded in, as the fingerprint does."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dokja.provenance import CheckpointError, open_checkpoint
from dokja.provenance import checkpoint as checkpoint_module

from .test_checkpoint import _write_sharded


def test_read_into_lands_each_run_in_place_with_its_scale(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint_module, "READ_CHUNK", 3 * 16 * 2)  # three rows a request: runs split up
    tensors = _write_sharded(tmp_path / "m")
    embed, up = "model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight"  # bf16 and f16, two shards
    scale = np.linspace(0.5, 2.0, 16, dtype=np.float32)
    kept = np.full((10, 32), np.nan, np.float32)
    with open_checkpoint(tmp_path / "m") as ckpt, ThreadPoolExecutor(4) as pool:
        assert ckpt.can_read_into(embed, slice(5, 15)) and not ckpt.can_read_into(embed, [1, 2])
        jobs = ckpt.read_into([(up, slice(20, 30), kept[:, 16:], None), (embed, slice(5, 15), kept[:, :16], scale)],
                              pool)
        for job in jobs:
            job.result()
        assert ckpt.bytes_read == 10 * 16 * 2 * 2 and len(jobs) == 8
        np.testing.assert_array_equal(kept[:, :16], tensors[embed][5:15].float().numpy() * scale)
        np.testing.assert_array_equal(kept[:, 16:], tensors[up][20:30].float().numpy())
        np.testing.assert_array_equal(kept[:, 16:], ckpt.read(up, slice(20, 30)))
        with pytest.raises(CheckpointError, match="cannot be read into place"):
            ckpt.read_into([("model.layers.1.mlp.up_proj.weight", None, np.empty((32, 16), np.float32), None)], pool)
        with pytest.raises(ValueError, match=r"rows are \(10, 16\)"):
            ckpt.read_into([(embed, slice(5, 15), np.empty((9, 16), np.float32), None)], pool)
