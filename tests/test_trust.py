"""No verdict stands on a broken model; unrelated checks keep theirs; internal errors are exit 4;
hints a user needs; `verify -`; and the report's words mean what they say.

Each case here was wrong before: an emissivity of 85 (the % forgotten) proved both area checks
at 0.9895 m^2 with a Python exception's text in the report; a shard count that does not divide
made a power-swing check unknown; a worst case that is a fourth root was called exact.
"""

from __future__ import annotations

import io
import json
from fractions import Fraction

import pytest

from conftest import EXAMPLES, verify
from checker.cli import run

RADIATOR = (EXAMPLES / "orbital-radiator.spec").read_text(encoding="utf-8")
COLOSSUS2 = (EXAMPLES / "colossus2.spec").read_text(encoding="utf-8")


def _status(out: str, name: str) -> str:
    for line in out.splitlines():
        words = line.split()
        if line.startswith("  ") and len(words) >= 3 and words[-3] == name and words[-2] == "(line":
            return " ".join(words[: words.index(name)])
    raise AssertionError(f"no status line for {name}")


def test_a_forgotten_percent_sign_proves_nothing(spec):
    result = verify(spec(RADIATOR.replace("0.85 .. 0.92", "85 .. 92")))
    assert result.code == 1  # the broken invariant is the counterexample
    assert _status(result.out, "fits_bus") == "not established"
    assert _status(result.out, "too_small") == "not established"
    assert "it depends on panel.emissivity, and the built-in invariant 'panel.emissivity is within (0, 100 %]' (line 4) is broken" in result.out
    assert "0.9895" not in result.out and "proved" not in result.out.split("built-in")[0]
    assert "Error" not in result.out and "Exception" not in result.out
    assert "0 proved, 0 violated, 0 unknown, 1 broken invariant, 2 not established" in result.out


def test_a_negative_jitter_blocks_only_what_depends_on_it(spec):
    result = verify(spec(COLOSSUS2.replace("jitter     = 0 % .. 5 %", "jitter     = -50 % .. 5 %")))
    assert result.code == 1
    assert _status(result.out, "mfu_target") == "not established"
    assert _status(result.out, "fits") == "proved" and _status(result.out, "grid") == "proved"
    assert "not replayed" not in result.out


def test_shards_that_do_not_divide_block_the_exchange_but_not_the_swing(spec):
    text = (EXAMPLES / "colossus1.spec").read_text(encoding="utf-8").replace("shards     = 80", "shards     = 7")
    text += "check swing_ok: pretrain.swing <= 200 MW\ncheck memory_ok: pretrain.memory_per_gpu <= 1000 GB\n"
    result = verify(spec(text))
    assert result.code == 1
    assert _status(result.out, "mfu_target") == "not established"
    assert "it depends on pretrain's gradient exchange" in result.out
    assert _status(result.out, "swing_ok") == "proved"  # 220 000 GPUs x (700 or 1200 W - idle): no exchange in it
    assert _status(result.out, "memory_ok") == "proved"
    assert _status(result.out, "grid") == "proved"


def test_memory_fit_is_feasibility_and_blocks_nothing(spec):
    text = COLOSSUS2.replace("shards     = 72", "shards     = 8")  # 314e9 * 16 B / 8 = 628 GB > 186 GB
    result = verify(spec(text))
    assert "violated  invariant: pretrain fits in the memory of pool blackwell" in result.out
    assert _status(result.out, "mfu_target") in ("proved", "violated")


def test_a_file_with_no_checks_does_not_say_proved(spec):
    result = verify(spec("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\n"))
    assert result.code == 0
    assert result.out.splitlines()[0].endswith(": no checks; 5 built-in invariants hold")
    document = json.loads(verify("--format", "json", spec("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\n")).out)
    assert document["files"][0]["status"] == "no-checks"


@pytest.mark.parametrize(
    ("field", "message", "note"),
    [
        ("heat = 16M", "unknown unit 'M'", "SI prefixes belong to units (MW, GB, TFLOP/s); for a plain number write 16e6"),
        ("temperature = 27 C", "unknown unit 'C'", "temperatures are absolute: 27 °C is 300.15 K"),
        ("area = 100 m2", "unknown unit 'm2'", "did you mean 'm^2'? powers take a caret"),
    ],
)
def test_unit_hints(spec, field, message, note):
    result = verify(spec(f"radiator p {{\n  {field}\n}}\n"))
    assert result.code == 2
    assert message in result.out and f"note: {note}" in result.out


def test_syntax_hints(spec):
    prefix = verify(spec("workload w on c {\n  batch = 16M token\n}\n"))
    assert "'16M token': SI prefixes belong to units, not numbers; write 16e6 token [syntax]" in prefix.out
    dollars = verify(spec("workload w on c {\n  price = $2.6\n}\n"))
    assert "unexpected character '$'" in dollars.out and "money is written with the unit USD after the number" in dollars.out
    arrow = verify(spec("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck a: p.area => 1 m^2\n"))
    assert "expected a comparison, found '=>'; did you mean '>='?" in arrow.out


def test_every_unit_error_of_a_file_is_reported_in_one_run(spec):
    text = "radiator p {\n  heat = 1 MX\n  emissivity = 0.9 W\n  temperature = 27 C\n  sink = 3 Q\n}\ncheck a: p.area <= 1 m2\n"
    result = verify(spec(text))
    assert result.code == 2
    for line in (2, 3, 4, 5, 7):
        assert f"t.spec:{line}:" in result.out, line


def test_money_is_a_unit(spec):
    result = verify(spec("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck a: p.heat <= 5 USD\n"))
    assert result.code == 2 and "units do not match (W and USD)" in result.out


def test_stdin_is_a_spec_named_stdin():
    out, err = io.StringIO(), io.StringIO()
    code = run(["-"], out, err, stdin=io.BytesIO(RADIATOR.replace("0.85 ..", "0.5 ..").encode()))
    assert code == 1 and out.getvalue().startswith("<stdin>: violated")
    out = io.StringIO()
    code = run(["-"], out, err, stdin=io.BytesIO(b"radiator p { heat = 1 MW\n"))
    assert code == 2 and "<stdin>:1:" in out.getvalue()


def test_irrational_worst_cases_are_not_called_exact():
    document = json.loads(verify("--format", "json", str(EXAMPLES / "radiator-sink.spec")).out)
    worst = next(c for c in document["files"][0]["checks"] if c["name"] == "below_350K")["worst_case"]
    assert worst["exact"] is False and worst["irrational"] is True
    # the rational shown is within 10^-40 of the fourth root, on the high side of a maximum
    value = Fraction(worst["value"]["exact"])
    assert Fraction(3487, 10) < value < Fraction(3488, 10)


def test_a_point_beyond_the_cores_reach_is_counted_in_the_summary(spec):
    text = (
        "cluster big { pool a = 2000000 x H100; network { topology = ring; bandwidth = 50 GB/s; latency = 5 us } }\n"
        "workload w on big { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 % .. 50 % }\n"
        "check t: w.step_time <= 100 s\n"
    )
    result = verify(spec(text))
    assert "not replayed: a ring of 2000000 GPUs" in result.out
    assert "1 not replayed" in result.out.splitlines()[-2]


def test_a_replay_the_core_refuses_is_an_internal_error(spec, monkeypatch):
    from checker.sim import panel

    def refuse(*args, **kwargs):
        raise ValueError("need 0 < emissivity <= 1")

    monkeypatch.setattr(panel, "area_for", refuse)
    result = verify(spec(RADIATOR))
    assert result.code == 4
    assert "this is an internal error in verify" in result.out and "ValueError" not in result.out


def test_a_solver_exception_that_is_not_a_resource_limit_is_an_internal_error(spec, monkeypatch):
    import z3

    from checker import solve

    def broken(self, claim):
        raise z3.Z3Exception("Value cannot be converted into a Z3 Boolean value")

    monkeypatch.setattr(solve._Session, "check", broken)
    result = verify(spec(RADIATOR))
    assert result.code == 4 and "[internal]" in result.out
    assert "Z3" not in result.out and "converted" not in result.out  # no exception text in a report


def test_a_solver_memory_exception_is_an_honest_unknown(spec, monkeypatch):
    import z3

    from checker import solve

    def exhausted(self, claim):
        raise z3.Z3Exception("max. memory exceeded")

    monkeypatch.setattr(solve._Session, "check", exhausted)
    result = verify(spec(RADIATOR))
    assert result.code == 3 and "memory limit" in result.out


def test_recursion_past_the_parser_is_a_bug_not_a_deep_spec(spec, monkeypatch):
    from checker import encode

    def deep(self, path):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(encode.Encoding, "_quantity", deep)
    result = verify(spec(RADIATOR))
    assert result.code == 4 and "[internal]" in result.out and "too-large" not in result.out


def test_a_share_without_its_percent_sign_is_pointed_out(spec):
    result = verify(spec(RADIATOR.replace("0.85 .. 0.92", "85 .. 92")))
    assert "warning: 'emissivity' is a share, and 85 .. 92 is above 100 % as a plain number [bare-share]" in result.out
    assert "note: did you mean 85 % .. 92 %?" in result.out
    assert result.code == 1  # a warning: the broken invariant decides the exit code
    beyond_a_black_body = verify(spec(RADIATOR.replace("0.85 .. 0.92", "0.9 .. 1.05")))
    assert "bare-share" not in beyond_a_black_body.out  # 105 % of a black body was meant as written
