"""Money of a leased serving fleet, kept as a year's ledger (spec/semantics.md, "Money and the lease").

The ledger books one year of 365 days GPU by GPU class: hours leased at each class's price,
energy drawn at tdp while serving and at idle otherwise (through the site's overhead and PUE),
capital written off over its life, tokens served. The quantities are the year's totals over
the year's length (per second, the base unit; the report shows USD/yr). Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

__all__ = ["LeaseSpec", "Ledger", "Leased", "YEAR"]

YEAR = 365 * 24 * 3600  # seconds in the year of price sheets
HOUR = 3600


@dataclass(frozen=True, slots=True)
class LeaseSpec:
    prices: tuple[Fraction | None, ...]  # per pool: USD per GPU-second, None: not leased
    capital: tuple[Fraction | None, ...]  # per pool: USD per GPU
    utilisation: Fraction | None  # None: all year
    electricity: Fraction | None  # USD per joule
    life: Fraction | None  # seconds


@dataclass(frozen=True, slots=True)
class Ledger:
    revenue: Fraction | None  # USD in the year
    gpu_energy: Fraction  # J the GPUs draw in the year
    energy: Fraction  # J the site draws for them (overhead and PUE on top)
    energy_cost: Fraction | None
    depreciation: Fraction | None
    tokens: Fraction  # served in the year


def book(pools, lease: LeaseSpec, pue: Fraction, overhead: Fraction, throughput: Fraction) -> Ledger:
    """A year of the fleet, hour by hour of each GPU class: `pools` are (count, tdp, idle)."""
    u = Fraction(1) if lease.utilisation is None else lease.utilisation
    if not 0 <= u <= 1 or pue < 1 or overhead < 0:
        raise ValueError("need 0 <= utilisation <= 1, pue >= 1, overhead >= 0")
    hours = Fraction(YEAR, HOUR)
    busy_hours, idle_hours = hours * u, hours * (1 - u)
    revenue: Fraction | None = Fraction(0)
    gpu_energy = Fraction(0)
    written_off: Fraction | None = Fraction(0)
    for (count, tdp, idle), price, capital in zip(pools, lease.prices, lease.capital):
        if price is None:
            revenue = None
        elif revenue is not None:
            revenue += count * busy_hours * (price * HOUR)  # GPU-hours leased x USD per GPU-hour
        gpu_energy += count * (busy_hours * tdp + idle_hours * idle) * HOUR
        if capital is None or lease.life is None:
            written_off = None
        elif written_off is not None:
            written_off += count * capital * Fraction(YEAR) / lease.life  # this year's share
    site = gpu_energy * (1 + overhead) * pue
    cost = None if lease.electricity is None else site * lease.electricity
    return Ledger(revenue, gpu_energy, site, cost, written_off, throughput * busy_hours * HOUR)


class Leased:
    """Money attributes of a serving run: `self.spec` has `cluster` (ClusterSpec) and `lease`
    (LeaseSpec); the run has its own `throughput` (tokens/s of the whole fleet)."""

    spec: object
    throughput: Fraction

    @cached_property
    def _ledger(self) -> Ledger:
        spec = self.spec
        lease = spec.lease or LeaseSpec(tuple(None for _ in spec.cluster.pools), tuple(None for _ in spec.cluster.pools), None, None, None)
        pools = tuple((p.count, p.gpu.tdp, p.gpu.idle) for p in spec.cluster.pools)
        power = spec.cluster.power
        return book(pools, lease, power.pue, power.overhead, self.throughput)

    def _per_second(self, amount: Fraction | None) -> Fraction:
        if amount is None:
            raise ValueError("the ledger lacks a price this quantity needs")
        return amount / YEAR

    @cached_property
    def average_power(self) -> Fraction:
        return self._ledger.gpu_energy / YEAR

    @cached_property
    def revenue(self) -> Fraction:
        return self._per_second(self._ledger.revenue)

    @cached_property
    def energy_cost(self) -> Fraction:
        return self._per_second(self._ledger.energy_cost)

    @cached_property
    def depreciation(self) -> Fraction:
        return self._per_second(self._ledger.depreciation)

    @cached_property
    def cost(self) -> Fraction:
        ledger = self._ledger
        total = self._per_second(ledger.energy_cost)
        return total if ledger.depreciation is None else total + ledger.depreciation / YEAR

    @cached_property
    def margin(self) -> Fraction:
        return self.revenue - self.cost

    @cached_property
    def served(self) -> Fraction:
        return self._ledger.tokens / YEAR

    @cached_property
    def price_per_token(self) -> Fraction:
        return self._per_second(self._ledger.revenue) * YEAR / self._ledger.tokens

    @cached_property
    def cost_per_token(self) -> Fraction:
        return self.cost * YEAR / self._ledger.tokens
