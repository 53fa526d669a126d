"""The Merkle tree of RFC 9162 (Certificate Transparency v2), section 2.1, over SHA-256.

The audit log of the programme is an append-only list of entries. Publishing the root of the tree over
those entries commits to all of them at once; an inclusion proof shows that one entry is in the log
under a given root, and a consistency proof shows that a later root only appended to an earlier one.
Everything here is a plain function over bytes so that any third party can re-check a published root
with nothing but this file and hashlib.

Generators (``root``, ``inclusion_proof``, ``consistency_proof``) raise :class:`LogError` when asked for
something that does not exist. Verifiers (``verify_inclusion``, ``verify_consistency``) answer False
for any well-formed claim that does not hold, including impossible sizes, because the claim usually
comes from someone else; they raise only for arguments of the wrong kind (a negative size, a str).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = HASH(), RFC 9162 2.1.1

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


class LogError(ValueError):
    """A request the tree cannot answer: an index or size outside the tree, or a malformed argument."""


def leaf_hash(data: bytes) -> bytes:
    """HASH(0x00 || data): the 0x00 prefix keeps a leaf from ever being read as an interior node."""
    return _sha256(_LEAF_PREFIX + _as_bytes("data", data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """HASH(0x01 || left || right): the hash of an interior node from its two children."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over the leaf *data*, hashing each leaf first; the empty list gives HASH()."""
    return root_from_hashes([leaf_hash(d) for d in leaves])


def root_from_hashes(hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) from precomputed leaf hashes, level by level rather than recursively.

    Pairing neighbours on each level and carrying an unpaired last node up unchanged builds the same
    tree as the RFC's split at the largest power of two below n: the left part is perfect and aligned,
    so its pairs never straddle the split. One pass per level keeps it at about n hash calls with no
    recursion, fast enough for millions of leaves.
    """
    _check_hashes(hashes)
    level = list(hashes)
    if not level:
        return EMPTY_ROOT
    prefix, sha = _NODE_PREFIX, _sha256
    while len(level) > 1:
        paired = [sha(prefix + a + b).digest() for a, b in zip(level[0::2], level[1::2])]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return bytes(level[0])


def inclusion_proof(leaf_index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1: the sibling subtree hashes from leaf m up to the root.

    Walks down from the root as the recursive definition does, records the hash of the subtree on the
    side not taken, and returns them leaf-first, the order the RFC's recursion produces.
    """
    n = len(hashes)
    _check_int("leaf_index", leaf_index)
    if leaf_index >= n:
        raise LogError(f"leaf_index {leaf_index} is outside a tree of {n} leaves")
    _check_hashes(hashes)
    path: list[bytes] = []
    lo, hi, m = 0, n, leaf_index
    while hi - lo > 1:
        k = _split(hi - lo)
        if m < k:
            path.append(root_from_hashes(hashes[lo + k:hi]))
            hi = lo + k
        else:
            path.append(root_from_hashes(hashes[lo:lo + k]))
            lo, m = lo + k, m - k
    path.reverse()
    return path


def consistency_proof(old_size: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1, for the first old_size leaves.

    Equal sizes and an empty old tree need no proof and give []. The walk follows SUBPROOF down the
    tree; each step appends one subtree hash after the rest of the proof, so they are collected and
    reversed, and the subtree where the walk stops contributes its own hash first unless it is the
    old tree itself (b still true), which the verifier already holds.
    """
    n = len(hashes)
    _check_int("old_size", old_size)
    if old_size > n:
        raise LogError(f"old_size {old_size} is larger than the tree of {n} leaves")
    _check_hashes(hashes)
    if old_size in (0, n):
        return []
    tail: list[bytes] = []
    lo, hi, m, whole = 0, n, old_size, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            tail.append(root_from_hashes(hashes[lo + k:hi]))
            hi = lo + k
        else:
            tail.append(root_from_hashes(hashes[lo:lo + k]))
            lo, m, whole = lo + k, m - k, False
    head = [] if whole else [root_from_hashes(hashes[lo:hi])]
    return head + tail[::-1]


def verify_inclusion(leaf_index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """Whether proof shows leaf_hash at leaf_index under root, by the algorithm of RFC 9162 2.1.3.2.

    Values that are not 32 bytes long cannot be nodes of a SHA-256 tree, so they fail before the
    algorithm runs (as in transparency-dev/merkle); everything after that is the RFC, step for step.
    """
    _check_int("leaf_index", leaf_index)
    _check_int("tree_size", tree_size)
    proof = _check_proof(proof)
    leaf_hash, root = _as_bytes("leaf_hash", leaf_hash), _as_bytes("root", root)
    if not _all_digests([leaf_hash, root, *proof]):   # not a SHA-256 tree's hashes: cannot hold
        return False
    if leaf_index >= tree_size:                       # step 1
        return False
    fn, sn = leaf_index, tree_size - 1                # step 2
    r = leaf_hash                                     # step 3
    for p in proof:                                   # step 4
        if sn == 0:                                   # 4a
            return False
        if fn & 1 or fn == sn:                        # 4b
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:             # 4b.ii
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1                                      # 4c
        sn >>= 1
    return sn == 0 and r == root                      # step 5


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether proof shows the tree of new_size only appended to the tree of old_size.

    For 0 < old_size < new_size this is the algorithm of RFC 9162 2.1.4.2, step for step. The RFC
    leaves the other cases open; here equal sizes need an empty proof and equal roots, and an empty
    old tree needs an empty proof and the empty-tree root HASH(), since nothing else can be its root.
    As for inclusion, a root or proof element that is not 32 bytes long fails at once.
    """
    _check_int("old_size", old_size)
    _check_int("new_size", new_size)
    path = _check_proof(proof)
    old_root, new_root = _as_bytes("old_root", old_root), _as_bytes("new_root", new_root)
    if not _all_digests([old_root, new_root, *path]):
        return False
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not path and old_root == new_root and (old_size > 0 or old_root == EMPTY_ROOT)
    if old_size == 0:
        return not path and old_root == EMPTY_ROOT
    if not path:                                      # step 1
        return False
    if old_size & (old_size - 1) == 0:                # step 2
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1               # step 3
    while fn & 1:                                     # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]                                 # step 5
    for c in path[1:]:                                # step 6
        if sn == 0:                                   # 6a
            return False
        if fn & 1 or fn == sn:                        # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:             # 6b.iii
                fn >>= 1
                sn >>= 1
        else:                                         # 6b, otherwise
            sr = node_hash(sr, c)
        fn >>= 1                                      # 6c
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0  # step 7


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): the k at which RFC 9162 splits D[n]."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_int(name: str, value: object) -> None:
    """Reject sizes that are not non-negative ints, so a bad call fails loudly instead of proving nothing."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LogError(f"{name} must be an int, not {type(value).__name__}")
    if value < 0:
        raise LogError(f"{name} must not be negative, got {value}")


def _as_bytes(name: str, value: object) -> bytes:
    """Accept only bytes-like values: bytes(5) would quietly turn an int into five zero bytes."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise LogError(f"{name} must be bytes, not {type(value).__name__}")


def _all_digests(values: list[bytes]) -> bool:
    """Whether every value has the length of a SHA-256 digest, the only length a node of the tree has."""
    return all(len(v) == HASH_SIZE for v in values)


def _check_hashes(hashes: Sequence[bytes]) -> None:
    """Leaf hashes must be SHA-256 digests; anything else would silently build a different tree."""
    if not all(isinstance(h, (bytes, bytearray, memoryview)) and len(h) == HASH_SIZE for h in hashes):
        raise LogError(f"every leaf hash must be {HASH_SIZE} bytes")


def _check_proof(proof: Sequence[bytes]) -> list[bytes]:
    """Copy a proof as a list of bytes; a wrong length is a wrong proof, a non-bytes item is a bad call."""
    if isinstance(proof, (bytes, bytearray, memoryview, str)):
        raise LogError("proof must be a sequence of hashes, not a single string")
    items = list(proof)
    if not all(isinstance(p, (bytes, bytearray, memoryview)) for p in items):
        raise LogError("every proof element must be bytes")
    return [bytes(p) for p in items]
