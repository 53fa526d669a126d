"""Cutting, hashing and sizing the work (pure): golden values an operator can check by hand."""

import pytest

from dokja.cluster import ClusterError, chunk_sha256, endpoint_shares, gpus_for, parse_counts, plan_chunks, sizing


def test_chunks_are_cut_in_order_and_open_chunks_stand():
    keys = [f"q{i}" for i in range(7)]
    fresh = plan_chunks("h", keys, [], 3)
    assert [c.keys for c in fresh] == [("q0", "q1", "q2"), ("q3", "q4", "q5"), ("q6",)]
    again = plan_chunks("h", ["q1", "q3", "q4", "q5", "q6"], [("q3", "q4", "q5"), ("q6",)], 3)
    assert [c.keys for c in again] == [("q3", "q4", "q5"), ("q6",), ("q1",)]
    stale = plan_chunks("h", ["q4"], [("q3", "q4", "q5")], 3)  # q3, q5 were scored meanwhile
    assert [c.keys for c in stale] == [("q4",)]
    with pytest.raises(ClusterError):
        plan_chunks("h", keys, [], 0)


def test_a_chunk_hash_names_the_run_config_and_its_items():
    # SHA-256 of the canonical JSON {"config_hash":"h","items":["q0","q1"]}
    assert chunk_sha256("h", ["q0", "q1"]) == "ca8548cfa08289327535752e6206f3c2712782ce33f2a66be705fca2859346dd"
    assert chunk_sha256("h", ["q0", "q1"]) == chunk_sha256("h", ("q0", "q1"))
    assert chunk_sha256("h", ["q0", "q1"]) != chunk_sha256("h", ["q1", "q0"])
    assert chunk_sha256("h", ["q0"]) != chunk_sha256("g", ["q0"])


@pytest.mark.parametrize(("params_b", "bytes_per_param", "gib", "gpus"), [
    (0.135, 4, 80, 1),   # SmolLM2 in float32
    (8, 2, 80, 1),       # an 8B model in bf16: 16 GB
    (70, 2, 80, 2),      # 140 GB × 1.2 over 80 GiB: 1.96
    (70, 2, 40, 4),      # 3.9 → the next power of two
    (405, 2, 80, 16),    # 972 GB: 11.3 → 16, two 8-GPU nodes
    (236, 2, 141, 4),    # H200s: 566 GB over 141 GiB: 3.7
])
def test_gpus_per_replica_from_the_weights(params_b, bytes_per_param, gib, gpus):
    assert gpus_for(int(params_b * 1e9 * bytes_per_param), gib) == gpus


def test_an_endpoint_needs_no_gpu_and_shares_its_limit():
    assert gpus_for(0, 80) == 0
    assert endpoint_shares(["a", "a", "b", "a"], {"a": 8, "b": 3}, 4) == [3, 3, 3, 2]
    assert sum(endpoint_shares(["a"] * 5, {"a": 16}, 4)) == 16
    assert endpoint_shares(["c", "c"], {}, 4) == [2, 2]
    with pytest.raises(ClusterError, match="takes 2 request"):
        endpoint_shares(["a", "a", "a"], {"a": 2}, 4)


def test_sizing_counts_waves_and_refuses_what_never_fits():
    # seven team models of 70B (2 GPUs each) and one 405B reference (16) on two 8-GPU nodes
    plan = sizing([2] * 7 + [16], cluster_gpus=16)
    assert (plan.replicas, plan.gpus, plan.waves) == (8, 30, 2)
    assert sizing([1, 1, 0], cluster_gpus=2).waves == 1
    with pytest.raises(ClusterError, match="needs 16 GPU"):
        sizing([16], cluster_gpus=8)


def test_counts_from_the_command_line():
    assert parse_counts(["big=8", "http://h:8000/v1/=16"], "--gpus") == {"big": 8, "http://h:8000/v1": 16}
    with pytest.raises(ClusterError, match="expected NAME=N"):
        parse_counts(["big"], "--gpus")
