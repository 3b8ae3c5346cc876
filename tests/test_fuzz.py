"""Fuzzing: whatever the input, the pipeline ends in diagnostics or verdicts, never an exception.

Three generators, all reused by scripts/fuzz.py for long local runs:
- the grammar itself (hypothesis.extra.lark.from_lark), with its NAME, NUMBER and UNIT terminals
  steered to declared names, schema field names, real unit symbols and sane numbers;
- well-formed specs built from the schema (blocks with the right fields and units, claims over
  derived quantities), lightly broken now and then, so that most reach the solver;
- byte-level mutations of every example: inserted, deleted and flipped bytes, truncation,
  duplicated and swapped lines, dangerous tokens.
The CI budget is modest (small example counts, short solver limits); the script runs 100k.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.lark import from_lark

from checker import registry, report, units
from checker.api import FileResult, check_file, check_text
from checker.catalog import CATALOG
from checker.diagnostics import CODES
from checker.parse import MAX_NESTING, build_parser
from checker.solve import Limits

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.spec"))

# short solver limits: a fuzz case is about robustness, not about deciding hard claims
_SHORT = {"timeout_ms": 1_000, "rlimit": 2_000_000}
FUZZ_LIMITS = Limits(**{k: v for k, v in _SHORT.items() if k in {f.name for f in dataclasses.fields(Limits)}})

CI = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much, HealthCheck.large_base_example],
)

# ---- the property ------------------------------------------------------------------------------


def render(result: FileResult) -> str:
    """Every report of a result; rendering is part of the pipeline and must not raise either."""
    out = io.StringIO()
    report.write_text([result], out)
    report.write_json([result], out)
    try:
        from checker import formats
    except ImportError:  # pragma: no cover - the machine formats belong to another issue
        return out.getvalue()
    formats.write_junit([result], out)
    formats.write_sarif([result], out, exit_code=result.exit_code)
    return out.getvalue()


def assert_sane(result: object) -> FileResult:
    """Diagnostics or verdicts, each placed in the file, and reports that print."""
    assert isinstance(result, FileResult), type(result)
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.status, {k: r.detail for k, r in result.replays.items()})
    last = max(len(result.lines), 1)
    for d in result.diagnostics:
        assert d.code in CODES and d.message
        assert 1 <= d.span.line <= last + 1 and d.span.column >= 1, d.header()
    if result.invalid:
        assert not result.verdicts
    else:
        assert result.verdicts or not result.diagnostics
    text = render(result)
    assert "Traceback" not in text
    return result


# ---- 1. the grammar, steered --------------------------------------------------------------------

BLOCK_NAMES = ("p", "G", "c", "w", "hot", "cool", "H100", "GB200", "panel", "pretrain")
FIELD_NAMES = tuple(sorted({f.name for fields in registry.FIELDS.values() for f in fields}))
DERIVED_NAMES = tuple(sorted({d.path[-1] for d in registry.DERIVED}))
WORDS = ("network", "power", "ring", "tree", "hierarchical", "training", "inference", "uniform", "proportional", "min", "max", "a", "b")
UNIT_SYMBOLS = tuple(units.UNITS)
COMPOUND_UNITS = ("TFLOP/s", "PFLOP/s", "GB/s", "Gb/s", "W/m^2", "m^2", "W/s", "MW/s", "token/s", "FLOP/token", "K^2", "s^-1", "B/token")
SANE_NUMBERS = ("0", "1", "2", "3", "8", "0.5", "0.85", "0.92", "1.2", "20", "50", "80", "100", "330", "700", "989", "1000", "1e3", "314e9", "16e6", "5e-3", "150000")


def numbers() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(SANE_NUMBERS),
        st.integers(0, 10**7).map(str),
        st.decimals(min_value=0, max_value=10_000, places=3, allow_nan=False, allow_infinity=False).map(str),
        st.builds(lambda m, e: f"{m}e{e}", st.integers(1, 999), st.integers(-120, 120)),  # some beyond the exponent limit
    )


def grammar_specs() -> st.SearchStrategy[str]:
    """Programs of the grammar, with terminals steered so that many get past the parser."""
    # Hypothesis puts an ignored token (WS, COMMENT) after a symbol only now and then, so words
    # and numbers carry a space of their own, or 'radiator p' would mostly come out 'radiatorp'
    spaced = lambda words: st.builds(lambda w, gap: w + gap, words, st.sampled_from([" ", " ", " ", ""]))  # noqa: E731
    explicit = {
        "NAME": spaced(st.one_of(st.sampled_from(BLOCK_NAMES), st.sampled_from(FIELD_NAMES), st.sampled_from(DERIVED_NAMES), st.sampled_from(WORDS), st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True))),
        "NUMBER": spaced(numbers()),
        "UNIT": spaced(st.one_of(st.sampled_from(UNIT_SYMBOLS), st.sampled_from(COMPOUND_UNITS))),
        "WS": st.sampled_from([" ", "  ", "\t"]),
        "COMMENT": st.sampled_from(["", "", "", "", "", "", "", "# µ é"]),  # a comment eats the rest of its line
        "_NL": st.sampled_from(["\n", "\r\n"]),
    }
    parser = build_parser()  # not the cached one: from_lark needs the grammar object
    for terminal in parser.terminals:  # keywords: 'radiator', 'check', 'x', ...
        if terminal.pattern.type == "str" and terminal.pattern.value.isalpha():
            explicit[terminal.name] = spaced(st.just(terminal.pattern.value))
    return from_lark(parser, explicit=explicit)


# ---- 2. well-formed specs from the schema, now and then broken -------------------------------------


def _num(value: float) -> str:
    return f"{value:.6g}".replace("e+", "e")


@st.composite
def _value(draw, low: float, high: float, unit: str, ranged: bool = True, others: tuple[str, ...] = (), clean: bool = True) -> str:
    """A field value: a number with its unit, sometimes a range; when not clean, sometimes wrong."""
    pick = st.integers(0, 1000).map(lambda k: low + (high - low) * k / 1000)
    a = draw(pick)
    shown_unit = unit
    if not clean and draw(st.integers(0, 5)) == 0:
        shown_unit = draw(st.sampled_from(others + UNIT_SYMBOLS[:3] + ("",)))
    text = f"{_num(a)} {shown_unit}".strip()
    shape = draw(st.integers(0, 9))
    if ranged and shape <= 2:
        b = draw(pick)
        lo, hi = (a, b) if shape == 0 and not clean else (min(a, b), max(a, b))  # not clean: maybe an empty range
        return f"{_num(lo)} {shown_unit} .. {_num(hi)} {shown_unit}".replace("  ", " ")
    if shape == 3:
        return f"{text} * 2"
    if shape == 4:
        return f"({text} + {text}) / 2"
    return text


@st.composite
def schema_specs(draw) -> str:
    clean = draw(st.integers(0, 4)) > 0  # most specs are meant to resolve; the rest break somewhere
    value = lambda *args, **kw: _value(*args, clean=clean, **kw)  # noqa: E731
    out: list[str] = []
    claims: list[tuple[str, str, float, float]] = []  # (left side, unit, low, high) for comparisons
    gpus: list[str] = []
    for i in range(draw(st.integers(0, 2))):
        name = f"r{i}"
        given = draw(st.sampled_from(["temperature", "area"]))
        fields = [
            f"heat = {draw(value(0.1, 5, 'MW', others=('kW', 'W', 'K')))}",
            f"emissivity = {draw(value(0.5, 1, '', others=('%',)))}",
            f"temperature = {draw(value(200, 400, 'K'))}" if given == "temperature" else f"area = {draw(value(100, 3000, 'm^2', others=('m',)))}",
        ]
        if draw(st.booleans()):
            fields.append(f"sink = {draw(value(0, 120, 'K'))}")
        if draw(st.booleans()):
            fields.append(f"sides = {draw(st.sampled_from(['1', '2'] if clean else ['1', '2', '3', '1.5']))}")
        out.append(f"radiator {name} {{ {'; '.join(draw(st.permutations(fields)))} }}")
        claims += [(f"{name}.area", "m^2", 100, 3000), (f"{name}.temperature", "K", 200, 400), (f"{name}.flux", "W/m^2", 100, 5000)]
    for i in range(draw(st.integers(0, 2))):
        name = f"g{i}"
        gpus.append(name)
        fields = [f"peak = {draw(value(100, 3000, 'TFLOP/s', others=('GB/s',)))}", f"memory = {draw(value(16, 200, 'GB'))}", f"tdp = {draw(value(300, 1500, 'W'))}"]
        if draw(st.booleans()):
            fields.append(f"idle = {draw(value(50, 200, 'W'))}")
        if draw(st.booleans()):
            fields.append(f"floor = {draw(st.sampled_from([draw(value(0, 80, '%')), draw(value(0, 900, 'W'))]))}")
        if draw(st.booleans()):
            fields.append(f"ramp = {draw(value(100, 5000, 'W/s'))}")
        out.append(f"gpu {name} {{ {'; '.join(fields)} }}")
        claims += [(f"{name}.peak", "TFLOP/s", 100, 3000), (f"{name}.tdp", "W", 300, 1500)]
    if draw(st.integers(0, 4)) > 0:
        pools = []
        for j in range(draw(st.integers(1, 3))):
            count = draw(st.sampled_from(["8", "16", "1000", "20000", "150000", "20000000"] + ([] if clean else ["7", "0", "2.5"])))
            gpu = draw(st.sampled_from(gpus + list(CATALOG) + ([] if clean else ["nope"])))
            pools.append(f"  pool p{j} = {count} x {gpu}")
        topology = draw(st.sampled_from(["ring", "tree", "hierarchical"] + ([] if clean else ["mesh"])))
        network = [f"topology = {topology}", f"bandwidth = {draw(value(10, 900, 'GB/s'))}", f"latency = {draw(value(1, 10, 'us'))}"]
        if topology == "hierarchical" or draw(st.integers(0, 5)) == 0:
            network += [f"domain = {draw(st.sampled_from(['8', '72', '4']))}", f"domain_bandwidth = {draw(value(100, 900, 'GB/s'))}", f"domain_latency = {draw(value(0.1, 2, 'us'))}"]
        power = [f"facility = {draw(value(1, 500, 'MW'))}", f"pue = {draw(value(1, 1.5, ''))}", f"overhead = {draw(value(0, 50, '%'))}"]
        if draw(st.booleans()):
            power.append(f"transition = {draw(value(10, 100, 'ms'))}")
        body = pools + ([f"  network {{ {'; '.join(network)} }}"] if draw(st.integers(0, 5)) else []) + [f"  power {{ {'; '.join(power)} }}"]
        out.append("cluster c {\n" + "\n".join(body) + "\n}")
        claims += [("c.power.draw", "MW", 1, 500), ("c.gpus", "", 1, 10**6), ("c.peak", "PFLOP/s", 1, 10**5)]
        if draw(st.integers(0, 3)) > 0:
            kind = draw(st.sampled_from(["training", "training", "inference"]))
            fields = [
                f"kind = {kind}",
                f"params = {draw(st.sampled_from(['7e9', '70e9', '314e9', '1e12', '1.5e9']))}",
                f"efficiency = {draw(value(20, 60, '%'))}",
                f"shards = {draw(st.sampled_from(['1', '8', '16', '80']))}",
            ]
            if kind == "training" or draw(st.booleans()):
                fields.append(f"batch = {draw(value(1e6, 16e6, 'token'))}")
            for field, strategy in (("jitter", value(0, 10, "%")), ("overlap", value(0, 100, "%")), ("balance", st.sampled_from(["uniform", "proportional"])), ("grad_bytes", value(1, 4, "B")), ("state_bytes", value(2, 20, "B"))):
                if draw(st.booleans()):
                    fields.append(f"{field} = {draw(strategy)}")
            out.append(f"workload w on c {{\n  " + "\n  ".join(draw(st.permutations(fields))) + "\n}")
            claims += [("w.mfu", "%", 10, 60), ("w.step_time", "s", 0.1, 100), ("w.throughput", "token/s", 1e5, 1e8), ("w.memory_per_gpu", "GB", 1, 200), ("w.swing", "MW", 1, 100), ("w.ramp", "MW/s", 1, 1000), ("w.wait.p0", "%", 0, 50)]
    if claims:
        for k in range(draw(st.integers(1, 4))):
            left, unit, low, high = draw(st.sampled_from(claims))
            shape = draw(st.integers(0, 6))
            if shape == 1:
                left = f"{left} * 2"
            elif shape == 2:
                left = f"min({left}, {left}) + {left} - {left}"
            elif shape == 3:
                left = f"-{left} / 2"
            elif shape == 4 and not clean:
                other = draw(st.sampled_from(claims))
                left = f"{left} / ({other[0]})"  # a dimension the right side rarely has
            bound = f"{_num(draw(st.integers(0, 100).map(lambda k: low + (high - low) * k / 100)))} {unit}".strip()
            op = draw(st.sampled_from(["<=", "<", ">=", ">", "=="]))
            out.append(f"{draw(st.sampled_from(['check'] * 7 + ['assume']))} k{k}: {left} {op} {bound}")
    text = "\n".join(draw(st.permutations(out)) if draw(st.integers(0, 4)) == 0 else out) + "\n"
    return text


# ---- 3. bytes of the examples, mutated --------------------------------------------------------------

TOKENS = (b"..", b"1e999999", b"1e-999999", b"(" * (MAX_NESTING + 2), b"+1" * 60, b"\x00", b"\xff", b"\xc3", b" 0 ", b"2", b".5", b"e9", b"x", b" m^2", b"%", b"{", b"}", b";", b"\n", b"check x: ", b"assume y: ", b"%", b"^", b"-", b" x ", b"= ", b"#", b"\r", b"\t", b"\xef\xbb\xbf", "µ".encode())


@st.composite
def mutations(draw, data: bytes) -> bytes:
    for _ in range(draw(st.integers(1, 4))):
        size = len(data)
        at = draw(st.integers(0, size))
        op = draw(st.integers(0, 8))
        if op == 0:  # insert a few characters, now and then raw bytes
            inserted = draw(st.one_of(st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=4).map(str.encode), st.binary(min_size=1, max_size=4)))
            data = data[:at] + inserted + data[at:]
        elif op == 1:  # delete a stretch
            data = data[:at] + data[at + draw(st.integers(1, 40)) :]
        elif op == 2 and size:  # flip a bit
            at = min(at, size - 1)
            data = data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
        elif op == 3:  # truncate
            data = data[:at]
        elif op in (4, 5):  # duplicate or drop a line
            lines = data.split(b"\n")
            k = draw(st.integers(0, len(lines) - 1))
            lines = lines[: k + 1] + lines[k:] if op == 4 else lines[:k] + lines[k + 1 :]
            data = b"\n".join(lines)
        elif op == 6:  # swap two lines
            lines = data.split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = b"\n".join(lines)
        else:  # a token that tends to break things
            data = data[:at] + draw(st.sampled_from(TOKENS)) + data[at:]
    return data


# ---- the tests ---------------------------------------------------------------------------------


@settings(CI, max_examples=150)
@given(grammar_specs())
def test_programs_of_the_grammar_end_in_diagnostics_or_verdicts(text):
    assert_sane(check_text("fuzz.spec", text, FUZZ_LIMITS))


@settings(CI, max_examples=40)
@given(schema_specs())
def test_specs_built_from_the_schema_end_in_diagnostics_or_verdicts(text):
    assert_sane(check_text("fuzz.spec", text, FUZZ_LIMITS))


def test_the_schema_generator_reaches_the_solver():
    """The steering works: a fixed sample of generated specs gets past resolution into solving."""
    from hypothesis import find

    solved = []

    def reaches(text: str) -> bool:
        result = check_text("fuzz.spec", text, FUZZ_LIMITS)
        if result.verdicts and any(v.claim.kind == "check" for v in result.verdicts):
            solved.append(result.status)
        return len(solved) >= 3

    find(schema_specs(), reaches, settings=settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)))
    assert len(solved) >= 3


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_mutated_examples_end_in_diagnostics_or_verdicts(example, tmp_path):
    original = example.read_bytes()

    @settings(CI, max_examples=12)
    @given(mutations(original))
    def mutated(data: bytes) -> None:
        path = tmp_path / example.name
        path.write_bytes(data)
        assert_sane(check_file(str(path), FUZZ_LIMITS))

    mutated()
