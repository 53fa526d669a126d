"""The pure statistics on plain arrays: what each one is blind to and what it sees."""

from __future__ import annotations

import numpy as np

from dokja.provenance import compare as st


def test_raw_cosine_of_norm_vectors_is_high_for_anything_mean_centred_is_not():
    rng = np.random.default_rng(0)
    a, b = 1 + 0.1 * rng.normal(size=576), 1 + 0.1 * rng.normal(size=576)
    assert st.raw_cosine(a, b) > 0.98
    assert abs(st.centred_correlation(a, b)) < 0.15
    assert st.centred_correlation(a, a * 1.5 + 0.2) > 0.999
    assert np.isnan(st.centred_correlation(np.ones(8), a[:8]))


def test_procrustes_undoes_a_rotation_and_held_out_tokens_judge_it():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(400, 32)).astype(np.float32)
    q, _ = np.linalg.qr(rng.normal(size=(32, 32)))
    keys = np.arange(400)
    al = st.align(keys, emb @ q.astype(np.float32), keys, emb)
    assert al.heldout_cosine > 0.99 and al.shared == 400
    unrelated = st.align(keys, rng.normal(size=(400, 32)), keys, emb)
    assert unrelated.heldout_cosine < 0.2


def test_neuron_matching_ignores_permutation_and_sees_no_match_in_noise():
    rng = np.random.default_rng(2)
    lib_layers = {i: rng.normal(size=(20, 64)) for i in range(6)}
    full = {i: np.vstack([lib_layers[i], rng.normal(size=(180, 64))]) for i in range(6)}
    cand = np.vstack([full[i][rng.permutation(200)] for i in (1, 4)])
    s = st.summarise_matches(st.distinct_matches(lib_layers, cand)["per_layer"], 2)
    assert s["fraction"] == 1.0 and sorted(s["layers"]) == [1, 4]
    other = st.summarise_matches(st.distinct_matches(lib_layers, rng.normal(size=(400, 64)))["per_layer"], 2)
    assert other["fraction"] < 0.2
    assert st.match_pvalue(s["hits"], s["trials"], 0.01, 6) < 1e-20


def test_merge_order_not_vocabulary_overlap():
    merges = np.arange(1000)
    assert st.order_agreement(merges, np.concatenate([merges, [5000, 5001]]))["positional"] == 1.0
    shuffled = np.random.default_rng(3).permutation(merges)  # the same merges, learnt in another order
    assert st.order_agreement(merges, shuffled)["positional"] < 0.05
