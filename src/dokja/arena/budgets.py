"""Budgets per address and per subnet: how many new visitors, and how many votes, a window lets through.

A campaign of made-up visitors needs many addresses; addresses are cheap, whole networks less so. So
every event (a new visitor, a vote) is counted twice: against its address and against its subnet
(/24 for IPv4, /48 for IPv6, the blocks a provider hands out). An IPv6 address counts as its /64,
since one subscriber holds a whole /64 and can step through it for free. An event is admitted while
both counts of admitted events within the last ``window_s`` seconds are under their allowance;
refused events do not use up the budget.

These are pure functions over ``(time, address)`` events, so the site's counters and the rigging
simulation apply the same rule.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Iterable

from .errors import ArenaError

__all__ = ["NEW_VISITORS", "VOTES", "Budget", "BudgetError", "Budgets", "address_key", "admitted", "subnet"]


class BudgetError(ArenaError):
    """An address that is not an IPv4 or IPv6 address, or a budget that admits nothing."""


@dataclass(frozen=True)
class Budget:
    """At most ``per_address`` events per address and ``per_subnet`` per subnet within ``window_s`` seconds."""

    per_address: int
    per_subnet: int
    window_s: float = 3600.0

    def __post_init__(self):
        if self.per_address < 1 or self.per_subnet < 1 or not self.window_s > 0:
            raise BudgetError(f"a budget needs positive allowances and window, not {self}")


NEW_VISITORS = Budget(per_address=3, per_subnet=10, window_s=3600.0)
VOTES = Budget(per_address=60, per_subnet=300, window_s=3600.0)


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        ip = ipaddress.ip_address(address.strip().split("%")[0])
    except ValueError:
        raise BudgetError(f"not an IPv4 or IPv6 address: {address!r}") from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _network(address: str, v4: int, v6: int) -> str:
    ip = _parse(address)
    bits = v4 if ip.version == 4 else v6
    return str(ipaddress.ip_network(f"{ip}/{bits}", strict=False))


def subnet(address: str) -> str:
    """The address's subnet as counted: its /24 (IPv4) or /48 (IPv6), e.g. ``"203.0.113.0/24"``."""
    return _network(address, 24, 48)


def address_key(address: str) -> str:
    """The address as counted: itself (IPv4) or its /64 (IPv6); an IPv4-mapped IPv6 address is its IPv4 one."""
    return _network(address, 32, 64)


class Budgets:
    """A sliding-window tally of admitted events per address and per subnet, for events in time order."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self._seen: dict[str, deque] = defaultdict(deque)

    def _count(self, key: str, at: float) -> int:
        times = self._seen[key]
        while times and times[0] <= at - self.budget.window_s:
            times.popleft()
        return len(times)

    def take(self, address: str, at: float) -> bool:
        """Admit an event from ``address`` at ``at`` (seconds) if both its counts allow; True when admitted."""
        own, net = "a " + address_key(address), "n " + subnet(address)
        if self._count(own, at) >= self.budget.per_address or self._count(net, at) >= self.budget.per_subnet:
            return False
        self._seen[own].append(at)
        self._seen[net].append(at)
        return True


def admitted(events: Iterable[tuple[float, str]], budget: Budget) -> list[bool]:
    """For each ``(time, address)`` event, in the order given, whether the budget admits it.

    Events are judged in time order (ties in the order given), so the answer does not depend on how
    they were listed.
    """
    events = list(events)
    tally = Budgets(budget)
    out = [False] * len(events)
    for k in sorted(range(len(events)), key=lambda k: events[k][0]):
        out[k] = tally.take(events[k][1], float(events[k][0]))
    return out
