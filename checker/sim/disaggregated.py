"""Serving with prefill and decode apart, run by the core: one pool's replicas only prefill,
the others' only decode, and each prompt's cache crosses the network between them (DistServe,
Zhong et al., OSDI 2024; Splitwise, Patel et al., ISCA 2024; NVIDIA Dynamo's aiconfigurator).

The prefill replica steps its prompts token by token as in `serving.Replica`; the cache it
built is sent GPU to GPU, every GPU of the replica its own layers' and heads' share, all at
once over the scale-out link, token by token; the decode replicas step their batches without
any prefill. The fleet serves no faster than its slower side. Nothing here evaluates the
encoder's closed forms.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cached_property

from .serving import Serving

__all__ = ["Disaggregated"]


class Disaggregated(Serving):
    """Serving whose `spec.prefill_pool` (an index) prefills and whose other pools decode."""

    def _decoding(self):
        return [(r, p) for i, (r, p) in enumerate(zip(self._replicas, self.spec.cluster.pools)) if i != self.spec.prefill_pool]

    @cached_property
    def kv_transfer_time(self) -> Fraction:
        """A prompt's cache, one token's keys and values after another, from each GPU of the
        prefill replica to its counterpart: the link's latency once, then bytes at its rate."""
        net = self.spec.cluster.network
        if net is None:
            raise ValueError("serving with a prefill pool needs a network")
        rate = net.bandwidth * (net.efficiency if net.efficiency is not None else 1)
        sent = Fraction(0)
        for _ in range(self.P):
            sent += self._replicas[self.spec.prefill_pool].kv_token
        return net.latency + sent / rate

    @cached_property
    def ttft(self) -> Fraction:
        return self._replicas[self.spec.prefill_pool].prefill(1, self.P) + self.kv_transfer_time

    @cached_property
    def tpot(self) -> Fraction:
        return max((max(r.decode(self.spec.concurrency, self.P, self.O), default=Fraction(0)) for r, _ in self._decoding()))

    @cached_property
    def pool_throughput(self) -> dict[str, Fraction]:
        """Output tokens per second each pool can carry: the prefill pool's batches of prompts,
        the decode pools' batches of O tokens each."""
        b, out = self.spec.concurrency, {}
        for i, (r, pool) in enumerate(zip(self._replicas, self.spec.cluster.pools)):
            busy = r.prefill(b, self.P) if i == self.spec.prefill_pool else sum(r.decode(b, self.P, self.O), Fraction(0))
            out[pool.name] = Fraction(pool.count, r.gpus) * b * self.O / busy
        return out

    @cached_property
    def throughput(self) -> Fraction:
        prefill = self.spec.cluster.pools[self.spec.prefill_pool].name
        decoded = sum((rate for name, rate in self.pool_throughput.items() if name != prefill), Fraction(0))
        return min(self.pool_throughput[prefill], decoded)
