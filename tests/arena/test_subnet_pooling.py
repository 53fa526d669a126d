"""Pooling votes by network catches many made-up visitors from one place, but never pools loopback: behind a
proxy not configured as trusted, every visitor has the proxy's address."""

from dokja.arena.honesty import flag_subnets


def votes(address: str, n: int = 30) -> list[dict]:
    return [{"visitor": k, "model_a": "x", "model_b": "y", "outcome": "a", "seconds": 0.5,
             "address": address} for k in range(n)]


def test_one_networks_pooled_votes_are_flagged_together():
    flags = flag_subnets(votes("203.0.113.7"))
    assert set(flags) == set(range(30)) and all(r[0].startswith("subnet 203.0.113.0/24") for r in flags.values())


def test_loopback_and_unreadable_addresses_are_never_pooled():
    assert flag_subnets(votes("127.0.0.1")) == {} and flag_subnets(votes("testclient")) == {}
