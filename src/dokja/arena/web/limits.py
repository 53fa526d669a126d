"""Rate limits: at most so many events per key (a visitor's token, an address) in a window, counted in the
shared counters (``shared.py``) so that every worker of the site enforces them together."""

from __future__ import annotations

from dataclasses import dataclass

from ..budgets import Budget, BudgetError, address_key, subnet
from .shared import Take, short_key


@dataclass(frozen=True)
class Limits:
    """Per-minute allowances. Prompts cost the server a generation, so they are the scarce ones."""

    prompts_per_visitor: int = 10
    prompts_per_address: int = 60
    votes_per_visitor: int = 30
    votes_per_address: int = 600
    new_visitors_per_address: int = 30  # fresh signed tokens one address may get; caps made-up identities
    max_prompt_chars: int = 2000
    window_s: float = 60.0

    def take(self, name: str, key: str) -> Take:
        """One event against the allowance ``name`` (a field above) for ``key``."""
        return Take(name, short_key(key), getattr(self, name), self.window_s)


def budget_takes(name: str, budget: Budget, address: str) -> list[Take]:
    """One event against ``budget`` for ``address``: its own count (an IPv6 address as its /64) and its subnet's."""
    try:
        own, net = address_key(address), subnet(address)
    except BudgetError:  # not an IP address (a test client, a Unix socket): counted as itself
        own = net = address
    return [Take(f"{name}_address", short_key(own), budget.per_address, budget.window_s),
            Take(f"{name}_subnet", short_key(net), budget.per_subnet, budget.window_s)]
