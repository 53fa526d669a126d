"""The fast canonical JSON writes exactly what the `rfc8785` package writes, on both of its paths."""

import random

import pytest
import rfc8785

from dokja.audit.canonical import canonical_json

AWKWARD = [0.1, 1.0, -0.0, 1e-4, 9.999e-5, 1e16, 1e21, 1e-7, 123456789.125, 2.0**53, -3.5, 1 / 3, 5e-324,
           "", "한빛", "a\"b\\c\n\t\x01\x7f\u2028", "\ue000", "😀", 0, -1, 2**60, True, False, None]


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice(AWKWARD)
    if kind == 1:
        return rng.uniform(-1e6, 1e6) * 10.0 ** rng.randint(-12, 22)
    if kind == 2:
        return "".join(rng.choice("ab한😀\ue000\"\\\n ") for _ in range(rng.randrange(6)))
    if kind == 3:
        return rng.randint(-10**6, 10**6)
    if kind == 4:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {"".join(rng.choice("bAa한😀\ue000_") for _ in range(rng.randrange(1, 4))):
            random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


@pytest.mark.parametrize("value", AWKWARD)
def test_awkward_scalars(value):
    if isinstance(value, int) and abs(value) >= 2**53:
        with pytest.raises(Exception):
            rfc8785.dumps(value)
        with pytest.raises(Exception):
            canonical_json(value)
        return
    assert canonical_json(value) == rfc8785.dumps(value)


def test_random_documents_agree():
    rng = random.Random(8785)
    for _ in range(3000):
        value = {"doc": random_value(rng)}
        try:
            expected = rfc8785.dumps(value)
        except rfc8785.CanonicalizationError:
            with pytest.raises(rfc8785.CanonicalizationError):
                canonical_json(value)
            continue
        assert canonical_json(value) == expected, value


def test_non_finite_numbers_are_refused():
    with pytest.raises(Exception):
        canonical_json({"x": float("nan")})
