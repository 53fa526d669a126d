"""The RFC 9162 Merkle tree of dokja.audit against the published Certificate Transparency test vectors.

Every hex value below is copied from the named source file; nothing is generated here except by the
small reference implementation further down, a direct transcription of the recursive definitions of
RFC 9162 2.1.1 (MTH), 2.1.3.1 (PATH) and 2.1.4.1 (PROOF/SUBPROOF) used only as a cross-check.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest

from dokja.audit import (EMPTY_ROOT, HASH_SIZE, LogError, consistency_proof, inclusion_proof, leaf_hash, node_hash,
                         root, root_from_hashes, verify_consistency, verify_inclusion)


def h(s: str) -> bytes:
    return bytes.fromhex(s)


# --- Published vectors -----------------------------------------------------------------------------
# The eight-leaf reference tree and its roots for sizes 1..8 appear identically in
#   google/certificate-transparency  cpp/merkletree/merkle_tree_test.cc   (kInputs, kSHA256Roots)
#   google/certificate-transparency  python/ct/crypto/merkle_test.py      (test_vector_leaves/_hashes)
#   transparency-dev/merkle          testonly/constants.go                (LeafInputs, RootHashes)
#   transparency-dev/merkle          proof/verify_test.go                 (leaves, roots)
LEAVES = [h(x) for x in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                         "606162636465666768696a6b6c6d6e6f"]]
ROOTS = [h(x) for x in [  # indexed by tree size; size 0 is SHA-256 of the empty string
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]]

# Hashes of every complete subtree of the eight-leaf tree, [level][index]:
# transparency-dev/merkle testonly/constants.go (NodeHashes).
NODE_HASHES = [[h(x) for x in level] for level in [
    ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
    ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
    ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]]

# Inclusion proofs in the eight-leaf tree as (leaf_index, tree_size, path), leaf_index 0-based.
# The C++ and Go tables number leaves from 1: their {1,8}, {6,8}, {3,3}, {2,5} are (0,8), (5,8), (2,3),
# (1,5) here. Sources: google/certificate-transparency cpp/merkletree/merkle_tree_test.cc (kSHA256Paths);
# transparency-dev/merkle proof/verify_test.go (inclusionProofs). (0,2) and (1,2) come from
# transparency-dev/merkle, Go package `inmemory`, TestRefInclusionProof (its file path was not
# resolvable in the search index; the two values are also NodeHashes[0][1] and [0][0] above).
INCLUSION = [
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]

# Consistency proofs in the eight-leaf tree as (old_size, new_size, proof). Sources:
# google/certificate-transparency cpp/merkletree/merkle_tree_test.cc (kSHA256Proofs) and
# python/ct/crypto/merkle_test.py (sha256_proofs); transparency-dev/merkle proof/verify_test.go
# (consistencyProofs, which adds 6 -> 7).
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

# Proof *shapes* from transparency-dev/merkle proof/proof_test.go (TestInclusion, TestConsistency), whose
# seven-leaf example is the tree of RFC 6962. There a proof is a list of node IDs (level, index), with
# `rehash(begin, end)` folding IDs[begin:end] into the one ephemeral node they make up. Each node is
# written here as the leaf range [lo, hi) it covers: ID (l, i) is [i << l, (i + 1) << l), and a
# rehashed group is the union of its ranges. The expected proof element is MTH over that range.
INCLUSION_SHAPES = [  # (tree_size, leaf_index, ranges)
    (1, 0, []),
    (2, 0, [(1, 2)]),
    (2, 1, [(0, 1)]),
    (3, 1, [(0, 1), (2, 3)]),
    (7, 0, [(1, 2), (2, 4), (4, 7)]),
    (7, 1, [(0, 1), (2, 4), (4, 7)]),
    (7, 2, [(3, 4), (0, 2), (4, 7)]),
    (7, 3, [(2, 3), (0, 2), (4, 7)]),
    (7, 4, [(5, 6), (6, 7), (0, 4)]),
    (7, 5, [(4, 5), (6, 7), (0, 4)]),
    (7, 6, [(4, 6), (0, 4)]),
    (4, 2, [(3, 4), (0, 2)]),
    (5, 3, [(2, 3), (0, 2), (4, 5)]),
    (6, 3, [(2, 3), (0, 2), (4, 6)]),
    (6, 4, [(5, 6), (0, 4)]),
    (15, 10, [(11, 12), (8, 10), (12, 15), (0, 8)]),
    (31, 24, [(25, 26), (26, 28), (28, 31), (16, 24), (0, 16)]),
    (95, 81, [(80, 81), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)]),
]
INCLUSION_SHAPE_ERRORS = [(0, 0), (0, 1), (1, 2), (0, 3), (7, 8)]  # (tree_size, leaf_index)

CONSISTENCY_SHAPES = [  # (old_size, new_size, ranges)
    (1, 2, [(1, 2)]),
    (1, 4, [(1, 2), (2, 4)]),
    (1, 6, [(1, 2), (2, 4), (4, 6)]),
    (2, 3, [(2, 3)]),
    (2, 8, [(2, 4), (4, 8)]),
    (3, 7, [(2, 3), (3, 4), (0, 2), (4, 7)]),
    (4, 7, [(4, 7)]),
    (5, 7, [(4, 5), (5, 6), (6, 7), (0, 4)]),
    (6, 7, [(4, 6), (6, 7), (0, 4)]),
    (7, 8, [(6, 7), (7, 8), (4, 6), (0, 4)]),
    (1, 1, []), (2, 2, []), (3, 3, []), (4, 4, []), (5, 5, []), (7, 7, []), (8, 8, []),
    (2, 4, [(2, 4)]),
    (3, 5, [(2, 3), (3, 4), (0, 2), (4, 5)]),
    (3, 6, [(2, 3), (3, 4), (0, 2), (4, 6)]),
    (4, 6, [(4, 6)]),
    (1, 7, [(1, 2), (2, 4), (4, 7)]),
    (10, 15, [(8, 10), (10, 12), (12, 15), (0, 8)]),
    (24, 31, [(16, 24), (24, 31), (0, 16)]),
    (81, 95, [(80, 81), (81, 82), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)]),
]
CONSISTENCY_SHAPE_ERRORS = [(5, 0), (9, 8)]  # (old_size, new_size)

# transparency-dev/merkle proof/verify_test.go
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

# An audit path from a real CT log: google/certificate-transparency python/ct/crypto/merkle_test.py
CT_LOG = json.loads((Path(__file__).with_name("vectors.json")).read_text())["ct_log_inclusion"]


def leaf_hashes(leaves: list[bytes]) -> list[bytes]:
    return [leaf_hash(d) for d in leaves]


# --- Reference implementation: the RFC's recursive definitions, transcribed ----------------------

def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


# --- Tamper probes: the corruptions of transparency-dev/merkle proof/verify_test.go and C++ --------

def flip(b: bytes, mask: int) -> bytes:
    return bytes([b[0] ^ mask]) + b[1:]


def inclusion_probes(index: int, size: int, lh: bytes, proof: list[bytes], rt: bytes):
    """Yield (description, args) that must all fail to verify."""
    if index > 0:
        yield "index - 1", (index - 1, size, lh, proof, rt)
    yield "index + 1", (index + 1, size, lh, proof, rt)
    yield "index ^ 2", (index ^ 2, size, lh, proof, rt)
    yield "size * 2", (index, size * 2, lh, proof, rt)
    yield "size // 2", (index, size // 2, lh, proof, rt)
    yield "wrong leaf", (index, size, b"WrongLeaf", proof, rt)
    yield "empty root", (index, size, lh, proof, EMPTY_ROOT)
    yield "random root", (index, size, lh, proof, SOME_HASH)
    yield "trailing garbage", (index, size, lh, proof + [b""], rt)
    yield "trailing root", (index, size, lh, proof + [rt], rt)
    yield "preceding garbage", (index, size, lh, [b""] + proof, rt)
    yield "preceding root", (index, size, lh, [rt] + proof, rt)
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 8)
        yield f"proof[{i}] bit 3", (index, size, lh, wrong, rt)
        wrong = list(proof)
        wrong[i] = EMPTY_ROOT
        yield f"proof[{i}] replaced", (index, size, lh, wrong, rt)
    if proof:
        yield "removed component", (index, size, lh, proof[:-1], rt)
    if len(proof) > 1:
        yield "inserted component", (index, size, lh, [proof[0], SOME_HASH] + proof[1:], rt)


def consistency_probes(m: int, n: int, r1: bytes, r2: bytes, proof: list[bytes]):
    """Yield (description, args) that must all fail; only for non-empty proofs, as upstream."""
    yield "size1 - 1", (m - 1, n, r1, r2, proof)
    yield "size1 + 1", (m + 1, n, r1, r2, proof)
    yield "size1 ^ 2", (m ^ 2, n, r1, r2, proof)
    yield "size2 * 2", (m, n * 2, r1, r2, proof)
    yield "size2 // 2", (m, n // 2, r1, r2, proof)
    yield "wrong root1", (m, n, b"WrongRoot", r2, proof)
    yield "wrong root2", (m, n, r1, b"WrongRoot", proof)
    yield "swapped roots", (m, n, r2, r1, proof)
    yield "empty proof", (m, n, r1, r2, [])
    yield "trailing garbage", (m, n, r1, r2, proof + [b""])
    yield "trailing root1", (m, n, r1, r2, proof + [r1])
    yield "trailing root2", (m, n, r1, r2, proof + [r2])
    yield "trailing last", (m, n, r1, r2, proof + [proof[-1]])
    yield "preceding garbage", (m, n, r1, r2, [b""] + proof)
    yield "preceding root1", (m, n, r1, r2, [r1] + proof)
    yield "preceding root2", (m, n, r1, r2, [r2] + proof)
    yield "preceding proof[0]", (m, n, r1, r2, [proof[0]] + proof)
    yield "truncated proof", (m, n, r1, r2, proof[:-1])
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 16)
        yield f"proof[{i}] bit 4", (m, n, r1, r2, wrong)
        wrong = list(proof)
        wrong[i] = EMPTY_ROOT
        yield f"proof[{i}] replaced", (m, n, r1, r2, wrong)


def assert_inclusion_tamper_fails(index, size, lh, proof, rt):
    accepted = [d for d, args in inclusion_probes(index, size, lh, proof, rt) if verify_inclusion(*args)]
    assert not accepted, f"({index}, {size}) verified against: {accepted}"


def assert_consistency_tamper_fails(m, n, r1, r2, proof):
    accepted = [d for d, args in consistency_probes(m, n, r1, r2, proof) if verify_consistency(*args)]
    assert not accepted, f"({m}, {n}) verified against: {accepted}"


# --- Hashing ------------------------------------------------------------------------------------

def test_hasher_known_answers():
    # transparency-dev/merkle rfc6962/rfc6962_test.go (TestRFC6962Hasher)
    assert EMPTY_ROOT == h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == h("395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert node_hash(b"N123", b"N456") == h("aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    # google/certificate-transparency python/ct/crypto/merkle_test.py (TreeHasherTest)
    assert leaf_hash(h("101112131415161718191a1b1c1d1e1f")) == h(
        "3bfb960453ebaebf33727da7a1f4db38acc051d381b6da20d6d4e88f0eabfd7a")
    assert node_hash(h("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"),
                     h("202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f")) == h(
        "1a378704c17da31e2d05b6d121c2bb2c7d76f6ee6fa8f983e596c2d034963c57")
    # domain separation: a node is never the leaf of its children's concatenation, and order matters
    a, b = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(a, b) != leaf_hash(a + b)
    assert node_hash(a, b) != node_hash(b, a)


@pytest.mark.parametrize("size", range(len(ROOTS)))
def test_published_roots(size):
    assert root(LEAVES[:size]) == ROOTS[size]
    assert root_from_hashes(leaf_hashes(LEAVES[:size])) == ROOTS[size]


def test_published_complete_subtrees():
    for level, nodes in enumerate(NODE_HASHES):
        for i, want in enumerate(nodes):
            assert root(LEAVES[i << level:(i + 1) << level]) == want, (level, i)


def test_root_matches_reference_for_every_size_up_to_300():
    leaves = [bytes([i % 256, i // 256]) * (i % 5) for i in range(300)]
    hashes = leaf_hashes(leaves)
    for n in range(301):
        assert root_from_hashes(hashes[:n]) == ref_mth(leaves[:n]), n


def test_root_of_10k_leaves():
    leaves = [i.to_bytes(4, "big") for i in range(10_000)]
    hashes = leaf_hashes(leaves)
    want = ref_mth(leaves)
    assert root(leaves) == want
    assert root_from_hashes(hashes) == want
    for index in (0, 1, 4095, 4096, 8191, 8192, 9999):
        assert verify_inclusion(index, 10_000, hashes[index], inclusion_proof(index, hashes), want)
    for m in (1, 2, 4096, 8191, 8192, 9000, 9999, 10_000):
        assert verify_consistency(m, 10_000, root_from_hashes(hashes[:m]), want, consistency_proof(m, hashes))


# --- Inclusion ----------------------------------------------------------------------------------

@pytest.mark.parametrize("index,size,path", INCLUSION)
def test_published_inclusion_proofs(index, size, path):
    hashes = leaf_hashes(LEAVES[:size])
    proof = [h(p) for p in path]
    assert inclusion_proof(index, hashes) == proof
    assert verify_inclusion(index, size, hashes[index], proof, ROOTS[size])
    assert_inclusion_tamper_fails(index, size, hashes[index], proof, ROOTS[size])


@pytest.mark.parametrize("size,index,ranges", INCLUSION_SHAPES)
def test_inclusion_proof_shapes(size, index, ranges):
    hashes = leaf_hashes([bytes([i]) for i in range(size)])
    assert inclusion_proof(index, hashes) == [root_from_hashes(hashes[lo:hi]) for lo, hi in ranges]


@pytest.mark.parametrize("size,index", INCLUSION_SHAPE_ERRORS)
def test_inclusion_proof_rejects_missing_leaf(size, index):
    with pytest.raises(LogError):
        inclusion_proof(index, leaf_hashes([bytes([i]) for i in range(size)]))


def test_ct_log_audit_path():
    index, size = CT_LOG["leaf_index"], CT_LOG["tree_size"]
    lh, rt = h(CT_LOG["leaf_hash"]), h(CT_LOG["root"])
    path = [h(p) for p in CT_LOG["audit_path"]]
    assert leaf_hash(h(CT_LOG["raw_leaf"])) == lh
    assert verify_inclusion(index, size, lh, path, rt)
    assert not verify_inclusion(index, size, lh, path, b"\x00" * 32)                 # bad root
    assert not verify_inclusion(index + 2 ** (len(path) + 1), size, lh, path, rt)    # path too short
    assert_inclusion_tamper_fails(index, size, lh, path, rt)


def test_rightmost_leaf_paths():
    # google/certificate-transparency python/ct/crypto/merkle_test.py: hand-built paths to the last leaf
    ones, zeros = h("11" * 32), h("00" * 32)
    s1 = leaf_hash(ones)
    assert verify_inclusion(7, 8, s1, [zeros] * 3, node_hash(zeros, node_hash(zeros, node_hash(zeros, s1))))
    assert verify_inclusion(4, 5, s1, [zeros], node_hash(zeros, s1))
    assert verify_inclusion(5, 6, s1, [zeros] * 2, node_hash(zeros, node_hash(zeros, s1)))
    assert verify_inclusion(4, 6, s1, [zeros] * 2, node_hash(zeros, node_hash(s1, zeros)))
    # too long and too short a proof for a four-leaf tree
    assert not verify_inclusion(0, 4, s1, [zeros] * 3, zeros)
    assert not verify_inclusion(0, 4, s1, [zeros], zeros)


def test_every_inclusion_proof_up_to_40_leaves():
    leaves = [bytes([i]) for i in range(40)]
    hashes = leaf_hashes(leaves)
    for size in range(1, 41):
        rt = root_from_hashes(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(index, hashes[:size])
            assert proof == ref_path(index, leaves[:size]), (index, size)
            assert verify_inclusion(index, size, hashes[index], proof, rt), (index, size)
            assert_inclusion_tamper_fails(index, size, hashes[index], proof, rt)


def test_verify_inclusion_degenerate_claims():
    # transparency-dev/merkle proof/verify_test.go (TestVerifyInclusion, TestVerifyInclusionSingleEntry)
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        assert not verify_inclusion(index, size, SOME_HASH, [], b"")
        assert not verify_inclusion(index, size, b"", [], EMPTY_ROOT)
        assert not verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)
    one = leaf_hash(b"data")
    assert verify_inclusion(0, 1, one, [], one)
    assert not verify_inclusion(0, 1, b"", [], one)
    assert not verify_inclusion(0, 1, one, [], b"")
    assert not verify_inclusion(0, 1, b"", [], b"")


# --- Consistency --------------------------------------------------------------------------------

@pytest.mark.parametrize("m,n,path", CONSISTENCY)
def test_published_consistency_proofs(m, n, path):
    hashes = leaf_hashes(LEAVES[:n])
    proof = [h(p) for p in path]
    assert consistency_proof(m, hashes) == proof
    assert verify_consistency(m, n, ROOTS[m], ROOTS[n], proof)
    if proof:
        assert_consistency_tamper_fails(m, n, ROOTS[m], ROOTS[n], proof)


def test_published_consistency_flipped_roots():
    # google/certificate-transparency python/ct/crypto/merkle_test.py: one bit off in either root, or both
    proof = [h(p) for p in CONSISTENCY[2][2]]
    bad6, bad8 = flip(ROOTS[6][::-1], 1)[::-1], flip(ROOTS[8][::-1], 1)[::-1]
    assert bad6.hex().endswith("ee") and bad8.hex().endswith("29")
    assert not verify_consistency(6, 8, ROOTS[6], bad8, proof)
    assert not verify_consistency(6, 8, bad6, bad8, proof)
    assert not verify_consistency(6, 8, bad6, ROOTS[8], proof)
    assert not verify_consistency(6, 8, ROOTS[6], ROOTS[8], proof[:2])


@pytest.mark.parametrize("m,n,ranges", CONSISTENCY_SHAPES)
def test_consistency_proof_shapes(m, n, ranges):
    hashes = leaf_hashes([bytes([i]) for i in range(n)])
    assert consistency_proof(m, hashes) == [root_from_hashes(hashes[lo:hi]) for lo, hi in ranges]


@pytest.mark.parametrize("m,n", CONSISTENCY_SHAPE_ERRORS)
def test_consistency_proof_rejects_bigger_old_tree(m, n):
    with pytest.raises(LogError):
        consistency_proof(m, leaf_hashes([bytes([i]) for i in range(n)]))


def test_every_consistency_proof_up_to_40_leaves():
    leaves = [bytes([i]) for i in range(40)]
    hashes = leaf_hashes(leaves)
    roots = [root_from_hashes(hashes[:n]) for n in range(41)]
    for n in range(1, 41):
        for m in range(1, n + 1):
            proof = consistency_proof(m, hashes[:n])
            assert proof == ref_subproof(m, leaves[:n], True), (m, n)
            assert verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
            if proof:
                assert_consistency_tamper_fails(m, n, roots[m], roots[n], proof)
            else:
                assert m == n
                assert not verify_consistency(m, n, roots[m], roots[n], [roots[m]])


def test_verify_consistency_degenerate_claims():
    # After transparency-dev/merkle proof/verify_test.go (TestVerifyConsistency) and the C++
    # VerifyConsistencyProof test. Upstream accepts any pair of roots for size 0; here the old root
    # of an empty tree must be HASH(), the only root an empty tree has.
    r1, r2 = ROOTS[1], ROOTS[2]
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, r1, [])
    assert verify_consistency(1, 1, r1, r1, [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, r2, [])
    assert not verify_consistency(0, 1, r1, r2, [])          # an empty tree's root is HASH()
    assert not verify_consistency(1, 1, r1, r2, [])          # same size, different roots
    assert not verify_consistency(1, 0, r1, r2, [])          # time travel to the past
    assert not verify_consistency(2, 1, r1, r2, [])
    assert not verify_consistency(1, 2, r1, r2, [])          # empty proof
    # roots match but the proof is not empty
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(1, 1, b"x", b"x", [])     # not a SHA-256 root
    assert consistency_proof(0, leaf_hashes(LEAVES)) == []


# --- Randomised properties (hypothesis is not installed in .venv; seeded loops instead) -----------

def test_random_trees_against_reference():
    rng = random.Random(9162)
    for _ in range(60):
        n = rng.randint(1, 700)
        leaves = [rng.randbytes(rng.randint(0, 40)) for _ in range(n)]
        hashes = leaf_hashes(leaves)
        rt = root(leaves)
        assert rt == ref_mth(leaves)
        for _ in range(5):
            i = rng.randrange(n)
            proof = inclusion_proof(i, hashes)
            assert proof == ref_path(i, leaves)
            assert verify_inclusion(i, n, hashes[i], proof, rt)
            if proof:
                wrong = list(proof)
                j = rng.randrange(len(wrong))
                wrong[j] = bytes([wrong[j][0] ^ (1 << rng.randrange(8))]) + wrong[j][1:]
                assert not verify_inclusion(i, n, hashes[i], wrong, rt)
            other = rng.randrange(n)
            if hashes[other] != hashes[i]:
                assert not verify_inclusion(i, n, hashes[other], proof, rt)
            m = rng.randint(1, n)
            cproof = consistency_proof(m, hashes)
            assert cproof == ref_subproof(m, leaves, True)
            assert verify_consistency(m, n, root(leaves[:m]), rt, cproof)
            if m < n:
                changed = list(leaves)
                changed[rng.randrange(m)] += b"!"
                assert not verify_consistency(m, n, root(changed[:m]), rt, cproof)


def test_appending_keeps_old_roots_provable():
    # The audit-log use: each new root must be provably an extension of every root published before.
    rng = random.Random(2024)
    hashes: list[bytes] = []
    published: list[tuple[int, bytes]] = []
    for _ in range(150):
        hashes.extend(leaf_hash(rng.randbytes(16)) for _ in range(rng.randint(1, 9)))
        now = root_from_hashes(hashes)
        for size, old in published:
            assert verify_consistency(size, len(hashes), old, now, consistency_proof(size, hashes))
        published.append((len(hashes), now))
        published = published[-6:]


# --- Errors -------------------------------------------------------------------------------------

def test_log_error_is_a_value_error_with_a_one_line_message():
    assert issubclass(LogError, ValueError)
    with pytest.raises(LogError) as info:
        inclusion_proof(3, leaf_hashes(LEAVES[:3]))
    assert "\n" not in str(info.value) and str(info.value)


@pytest.mark.parametrize("call", [
    lambda hs: inclusion_proof(-1, hs),
    lambda hs: inclusion_proof(8, hs),
    lambda hs: inclusion_proof(True, hs),
    lambda hs: inclusion_proof(1.0, hs),
    lambda hs: inclusion_proof(0, []),
    lambda hs: consistency_proof(-1, hs),
    lambda hs: consistency_proof(9, hs),
    lambda hs: consistency_proof("1", hs),
    lambda hs: root_from_hashes(hs + [b"short"]),
    lambda hs: root_from_hashes(["ab" * 32]),
    lambda hs: inclusion_proof(0, hs[:3] + [b"\x00" * 31]),
    lambda hs: root([b"ok", "text"]),
    lambda hs: root([5]),
    lambda hs: verify_inclusion(-1, 8, hs[0], [], ROOTS[8]),
    lambda hs: verify_inclusion(0, -8, hs[0], [], ROOTS[8]),
    lambda hs: verify_inclusion(0, 8, "00" * 32, [], ROOTS[8]),
    lambda hs: verify_inclusion(0, 8, hs[0], [hs[1].hex()], ROOTS[8]),
    lambda hs: verify_inclusion(0, 8, hs[0], hs[1], ROOTS[8]),
    lambda hs: verify_inclusion(0, 8, hs[0], [], 0),
    lambda hs: verify_consistency(-1, 8, ROOTS[1], ROOTS[8], []),
    lambda hs: verify_consistency(1, 8.0, ROOTS[1], ROOTS[8], []),
    lambda hs: verify_consistency(1, 8, ROOTS[1].hex(), ROOTS[8], []),
    lambda hs: verify_consistency(1, 8, ROOTS[1], ROOTS[8], [None]),
])
def test_bad_arguments_raise_log_error(call):
    with pytest.raises(LogError):
        call(leaf_hashes(LEAVES))


def test_wrong_but_well_formed_claims_return_false():
    hashes = leaf_hashes(LEAVES)
    proof = inclusion_proof(5, hashes)
    assert verify_inclusion(5, 8, hashes[5], proof, ROOTS[8]) is True
    assert verify_inclusion(8, 8, hashes[5], proof, ROOTS[8]) is False      # index past the end
    assert verify_inclusion(5, 8, hashes[5], proof, ROOTS[8][:16]) is False  # truncated root
    assert verify_inclusion(5, 8, hashes[5], [p[:-1] for p in proof], ROOTS[8]) is False
    assert verify_consistency(9, 8, ROOTS[8], ROOTS[8], []) is False         # old bigger than new
    assert verify_consistency(6, 8, ROOTS[6], ROOTS[8], [b""] * 3) is False


def test_inputs_accept_bytes_like_values():
    hashes = leaf_hashes(LEAVES)
    proof = inclusion_proof(2, [bytearray(x) for x in hashes])
    assert proof == inclusion_proof(2, hashes)
    assert all(type(p) is bytes and len(p) == HASH_SIZE for p in proof)
    assert verify_inclusion(2, 8, memoryview(hashes[2]), [bytearray(p) for p in proof], bytearray(ROOTS[8]))
    assert leaf_hash(bytearray(b"L123456")) == leaf_hash(b"L123456")
