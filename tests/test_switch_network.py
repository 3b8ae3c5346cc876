"""A switched network's fields: what is accepted, what is refused (with where), and the
report naming the algorithm `auto` ran at the worst case."""

from __future__ import annotations

import io

import pytest

from checker.api import check_text
from checker.report import to_json, write_text
from checker.solve import Limits

GPU = "gpu G { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W }\n"
WORK = "workload w on c { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 % }\n"


def run(network: str, claim: str = ""):
    text = GPU + f"cluster c {{\n  pool g = 16 x G\n  network {{ {network} }}\n}}\n" + WORK + claim
    return check_text("n.spec", text, Limits(timeout_ms=5_000))


def headers(result) -> list[str]:
    return [d.header() for d in result.diagnostics]


@pytest.mark.parametrize("network, code, at", [  # at: the text the diagnostic points to
    ("topology = ring; algorithm = ring; bandwidth = 50 GB/s; latency = 5 us", "conflicting-fields", "algorithm ="),
    ("topology = tree; radix = 8; bandwidth = 50 GB/s; latency = 5 us", "conflicting-fields", "radix"),
    ("topology = switch; radix = 1; bandwidth = 50 GB/s; latency = 5 us", "bad-value", "1;"),
    ("topology = switch; algorithm = in_network; bandwidth = 50 GB/s; latency = 5 us", "missing-field", "in_network"),
    ("topology = switch; algorithm = butterfly; bandwidth = 50 GB/s; latency = 5 us", "bad-value", "butterfly"),
    ("topology = switch; radix = 2.5; bandwidth = 50 GB/s; latency = 5 us", "not-integer", "2.5"),
])
def test_bad_switch_fields_are_refused_with_their_place(network, code, at):
    where = f"n.spec:4:{len('  network { ') + network.index(at) + 1}:"
    result = run(network)
    assert result.invalid
    found = headers(result)
    assert any(h.startswith(where) and f"[{code}]" in h for h in found), found


def test_a_switch_defaults_to_auto_and_accepts_every_algorithm():
    for algorithm in ("", "algorithm = ring; ", "algorithm = double_tree; ", "algorithm = halving_doubling; ",
                      "algorithm = in_network; radix = 4; ", "algorithm = auto; "):
        result = run(f"topology = switch; {algorithm}bandwidth = 50 GB/s; latency = 5 us", "check t: w.comm_time <= 1 s\n")
        assert not result.invalid, headers(result)
        assert next(v for v in result.verdicts if v.claim.name == "t").status == "proved"


def test_the_report_names_the_algorithm_auto_ran_at_the_worst_case():
    result = run("topology = switch; bandwidth = 50 GB/s; latency = 5 us; radix = 4", "check t: w.comm_time <= 1 s\n")
    replay = result.replays["t"]
    # 16 GPUs, 2 GB: in-network 2 * 2 * 5 us + 40 ms beats the ring's 30 * 5 us + 75 ms
    assert replay.status == "confirmed" and replay.chosen == "w exchanges by in_network"
    out = io.StringIO()
    write_text([result], out)
    assert "  at the worst case, algorithm = auto: w exchanges by in_network\n" in out.getvalue()
    verdict = next(v for v in to_json([result])["files"][0]["checks"] if v["name"] == "t")
    assert verdict["replay"]["auto"] == "w exchanges by in_network"
    latency_bound = run("topology = switch; bandwidth = 50 GB/s; latency = 5 us", "check t: w.comm_time <= 1 s\n")
    # no reducing switches, 16 GPUs (a power of two): halving-doubling moves what the ring does in 8 steps
    assert latency_bound.replays["t"].chosen == "w exchanges by halving_doubling"
    fixed = run("topology = switch; algorithm = ring; bandwidth = 50 GB/s; latency = 5 us", "check t: w.comm_time <= 1 s\n")
    assert fixed.replays["t"].chosen == ""
    # an all-to-all runs no all-reduce: nothing to name
    other = run("topology = switch; bandwidth = 50 GB/s; latency = 5 us; radix = 4", "check t: w.all_to_all_time <= 1 s\n")
    assert other.replays["t"].status == "confirmed" and other.replays["t"].chosen == ""
