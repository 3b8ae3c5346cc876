"""Golden pairs: each example and each bad spec against its expected report, byte for byte.

Regenerate after an intended change with:  UPDATE_GOLDEN=1 pytest tests/test_golden.py
and read the diff before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, verify

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.relative_to(ROOT) for p in [*(ROOT / "examples").glob("*.spec"), *(ROOT / "tests" / "bad").glob("*.spec")])
EXPECTED_EXIT = re.compile(r"^# expected exit: (\d)$", re.M)


def _golden(case: Path) -> Path:
    return GOLDEN / (("bad-" if case.parts[0] == "tests" else "") + case.stem + ".out")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden_report(case: Path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = verify(str(case))
    golden = _golden(case)
    text = f"# verify {case}\n# exit {result.code}\n{result.out}"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")
    assert result.err == ""
    assert "Traceback" not in result.out
    if case.parts[0] == "examples":  # an example's comments name its checks' verdicts: the run's
        source = (ROOT / case).read_text(encoding="utf-8")
        stated = re.findall(r"^#\s+(\w+)\s{2,}(proved|violated)\b", source, re.M)
        stated += re.findall(r"^check\s+(\w+)\s*:.*#\s*(proved|violated)\b", source, re.M)
        assert stated, f"{case.name} states no expected verdicts"
        for name, verdict in stated:
            assert re.search(rf"^  {verdict}\s+{name}  \(line", result.out, re.M), (case.name, name, verdict)


# ---- the figures each example states --------------------------------------------------------
#
# An example states figures in its header comments (the lines before its first block) and in
# the comment after a check ("# proved: worst case 874.7 m^2 at emissivity 0.85"). Every number
# there, outside `backticks` (kept for formulas such as `2(n-1)`), must be either
#   - a value the report shows: written as the text report writes it (the same rounding: the
#     stated number equals the shown one, in any unit of the same dimension), and the exact
#     value of the JSON report rounded half-even to the stated digits gives it again; on a
#     verdict line ('#   name   proved: ...', or a check's own comment) a value of that check,
#     elsewhere a value of any check of the file; or
#   - a number the spec's code writes (an input or a bound, compared by value with its unit).
# So a figure that a regenerated golden file would carry wrongly still fails here.

from decimal import ROUND_HALF_EVEN, Decimal  # noqa: E402
from fractions import Fraction  # noqa: E402
import json  # noqa: E402

from checker import units  # noqa: E402

NUMBER = r"(?<![\w.^/])(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?![\w.]*\w)(?:\s+([A-Za-z%\u00b5][\w^/]*))?"
FIGURE = re.compile(NUMBER)
VERDICT_LINE = re.compile(r"^#\s+(\w+)\s{2,}(proved|violated)\b(.*)$")
CHECK_LINE = re.compile(r"^check\s+(\w+)\s*:[^#]*#\s*((?:proved|violated)\b.*)$")
SHOWN = re.compile(r"^(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)(?:\s+(\S+))?$")
EXAMPLE_CASES = sorted((ROOT / "examples").glob("*.spec"))


def _unit(symbol: str | None) -> tuple[Fraction, object] | None:
    """(scale, dimension) of a unit symbol; None when the word after a number is no unit."""
    if not symbol:
        return None
    try:
        return units.parse_unit(symbol)
    except units.UnitError:
        return None


def _figures(text: str) -> list[tuple[str, Fraction, Fraction, object]]:
    """The numbers of a comment: (as written, value in base units, unit scale, dimension or None)."""
    text = re.sub(r"`[^`]*`", " ", text)
    out = []
    for match in FIGURE.finditer(text):
        number, symbol = match.group(1), match.group(2)
        unit = _unit(symbol)
        scale, dim = unit if unit else (Fraction(1), None)
        written = match.group(0) if unit else number
        out.append((written, Fraction(Decimal(number)) * scale, scale, dim))
    return out


def _literals(code: list[str]) -> list[tuple[Fraction, object]]:
    """Every number the code lines write, by value: (in base units, dimension), and bare."""
    out = []
    for line in code:
        for _, value, scale, dim in _figures(line.split("#")[0]):
            out.append((value, dim))
            if dim is not None:
                out.append((value / scale, None))  # '75 %' also stands for a bare 75 in '75 .. 90 %'
    return out


def _values(node) -> list[dict]:
    """Every reported number of a JSON record ({exact, decimal, shown}), recursively."""
    if isinstance(node, dict):
        if {"exact", "shown"} <= node.keys():
            return [node]
        return [v for child in node.values() for v in _values(child)]
    if isinstance(node, list):
        return [v for child in node for v in _values(child)]
    return []


def _rounds_to(exact: Fraction, written: str, scale: Fraction) -> bool:
    """The exact value, in the written unit, rounded half-even to the written digits, is it."""
    number = Decimal(written.split()[0])
    places = Decimal(1).scaleb(number.as_tuple().exponent)
    in_unit = exact / scale
    exact_decimal = Decimal(in_unit.numerator) / Decimal(in_unit.denominator)
    return exact_decimal.quantize(places, rounding=ROUND_HALF_EVEN) == number


def _reported(value: Fraction, dim, written: str, scale: Fraction, records: list[dict]) -> bool:
    for record in records:
        match = SHOWN.match(record["shown"])
        if not match:
            continue
        unit = _unit(match.group(2)) if match.group(2) else (Fraction(1), units.ONE)
        if unit is None or (dim is not None and unit[1] != dim) or (dim is None and not unit[1].dimensionless):
            continue
        shown = Fraction(Decimal(match.group(1))) * unit[0]
        exact = Fraction(record["exact"])
        if shown == value and _rounds_to(exact, written, scale):
            return True
    return False


def stated_figures(case: Path) -> list[tuple[int, str | None, str]]:
    """(line number, the check it is about or None, comment text) of every stated-figure comment."""
    lines = case.read_text(encoding="utf-8").split("\n")
    out = []
    in_header = True
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if in_header and stripped and not stripped.startswith("#"):
            in_header = False
        if in_header and stripped.startswith("#"):
            verdict = VERDICT_LINE.match(stripped)
            out.append((number, verdict.group(1) if verdict else None, stripped[1:]))
        check = CHECK_LINE.match(stripped)
        if check:
            out.append((number, check.group(1), check.group(2)))
    return out


def check_figures(case: Path) -> int:
    """Assert every stated figure of a spec file against its JSON report; the count checked."""
    run = verify("--format", "json", str(case))
    report = json.loads(run.out)
    checks = {c["name"]: _values(c) for f in report["files"] for c in f["checks"] if c["kind"] == "check"}
    everything = [v for records in checks.values() for v in records]
    lines = case.read_text(encoding="utf-8").split("\n")
    code = [line for line in lines if line.strip() and not line.strip().startswith("#")]
    literals = _literals(code)
    comments = stated_figures(case)
    assert comments, f"{case.name} states nothing"
    stated_checks = {name for _, name, _ in comments if name}
    assert stated_checks == set(checks), f"{case.name}: checks without a stated verdict: {sorted(set(checks) - stated_checks)}"
    counted = 0
    for number, name, text in comments:
        records = checks[name] if name else everything
        for written, value, scale, dim in _figures(text):
            counted += 1
            if _reported(value, dim, written, scale, records):
                continue
            assert (value, dim) in literals, (
                f"{case.name}:{number}: '{written}' is neither a value the report shows"
                f"{' for ' + name if name else ''} (as it shows it) nor a number the spec writes")
    return counted


@pytest.mark.parametrize("case", EXAMPLE_CASES, ids=lambda p: p.stem)
def test_example_figures_are_the_reports(case: Path, monkeypatch):
    """Every number in an example's header and verdict comments is a value its report shows
    (same rounding, checked against the exact JSON value too) or a number its code writes."""
    monkeypatch.chdir(ROOT)
    assert check_figures(case.relative_to(ROOT)) > 0, f"{case.name} states no figures"


@pytest.mark.parametrize("wrong", ["worst case 874.8 m^2", "worst case 875 m^2", "worst case 874.7 W", "worst case 874.70 m^2", "e.g. emissivity 0.86"])
def test_a_wrong_figure_is_caught(wrong, tmp_path):
    """The figure check fails on a stated figure that is off in its last digit, less or more
    precise than the report, in the wrong dimension, or an input the spec does not write."""
    source = (ROOT / "examples" / "orbital-radiator.spec").read_text(encoding="utf-8")
    right = wrong.split(" ")[0] + (" case 874.7 m^2" if wrong.startswith("worst") else " emissivity 0.85")
    assert source.count(right) == 1
    broken = tmp_path / "orbital-radiator.spec"
    broken.write_text(source.replace(right, wrong), encoding="utf-8")
    with pytest.raises(AssertionError, match="neither a value the report shows"):
        check_figures(broken)
