"""Budgets per address and per subnet: subnets as counted, sliding windows, refused events not counted."""

from __future__ import annotations

import pytest

from dokja.arena.budgets import NEW_VISITORS, Budget, BudgetError, Budgets, address_key, admitted, subnet


def test_subnets_are_slash_24_and_slash_48():
    assert subnet("203.0.113.77") == "203.0.113.0/24"
    assert subnet(" 2001:db8:abcd:12::1 ") == "2001:db8:abcd::/48"
    assert subnet("::ffff:198.51.100.9") == "198.51.100.0/24"  # an IPv4 client seen through an IPv6 socket
    assert address_key("198.51.100.9") == "198.51.100.9/32"
    assert address_key("2001:db8:abcd:12:aaaa::1") == address_key("2001:db8:abcd:12:bbbb::2") == "2001:db8:abcd:12::/64"
    assert address_key("fe80::1%eth0") == "fe80::/64"


@pytest.mark.parametrize("bad", ["", "localhost", "300.1.1.1", "1.2.3"])
def test_a_malformed_address_is_one_line(bad):
    with pytest.raises(BudgetError, match="not an IPv4 or IPv6 address"):
        subnet(bad)


def test_a_budget_must_admit_something():
    with pytest.raises(BudgetError):
        Budget(0, 10)
    with pytest.raises(ValueError):
        Budget(1, 1, window_s=0)


def test_per_address_allowance_in_a_sliding_window():
    budget = Budget(per_address=2, per_subnet=100, window_s=60)
    events = [(0, "10.0.0.1"), (10, "10.0.0.1"), (20, "10.0.0.1"), (59, "10.0.0.2"), (60, "10.0.0.1"),
              (61, "10.0.0.1"), (69, "10.0.0.1"), (70, "10.0.0.1")]
    # at 60 the event at 0 has left the window; the refused one at 20 never counted
    assert admitted(events, budget) == [True, True, False, True, True, False, False, True]


def test_a_subnet_is_capped_however_many_addresses_it_uses():
    budget = Budget(per_address=5, per_subnet=10, window_s=3600)
    campaign = [(k, f"192.0.2.{k % 250}") for k in range(300)]
    assert sum(admitted(campaign, budget)) == 10
    spread = [(k, f"10.{k % 250}.{k // 250}.1") for k in range(300)]  # 300 different /24s
    assert all(admitted(spread, budget))


def test_ipv6_hosts_of_one_slash_64_are_one_address():
    budget = Budget(per_address=3, per_subnet=1000)
    events = [(k, f"2001:db8:1:2::{k:x}") for k in range(50)]
    assert sum(admitted(events, budget)) == 3
    other_64s = [(k, f"2001:db8:1:{k:x}::1") for k in range(50)]  # one /48: the subnet cap applies
    assert sum(admitted(other_64s, Budget(per_address=3, per_subnet=20))) == 20


def test_events_are_judged_in_time_order_whatever_the_listing():
    events = [(float(t), f"198.51.100.{t % 7}") for t in range(0, 7200, 97)]
    forward = admitted(events, NEW_VISITORS)
    backward = admitted(events[::-1], NEW_VISITORS)[::-1]
    assert forward == backward
    assert 0 < sum(forward) < len(events)


def test_the_tally_serves_a_live_site():
    tally = Budgets(Budget(per_address=1, per_subnet=2, window_s=10))
    assert tally.take("203.0.113.1", 0) and tally.take("203.0.113.2", 1)
    assert not tally.take("203.0.113.3", 2)  # the /24 is spent
    assert not tally.take("203.0.113.1", 5)
    assert tally.take("203.0.113.3", 10.5)  # the first one left the window
