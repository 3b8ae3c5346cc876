"""Margins between revisions: `verify --baseline OLD.json NEW.spec`.

The golden case: tests/baseline/before.spec is checked with --format json (the baseline), then
tests/baseline/after.spec (the same cluster after a change) is checked against it. Regenerate
tests/golden/baseline.out after an intended change with UPDATE_GOLDEN=1 and read the diff.
"""

from __future__ import annotations

import json
import os
from fractions import Fraction
from pathlib import Path

import pytest

from checker.baseline import compare, states, text_lines
from conftest import ROOT, verify

GOLDEN = ROOT / "tests" / "golden" / "baseline.out"
BEFORE = "tests/baseline/before.spec"
AFTER = "tests/baseline/after.spec"


@pytest.fixture
def old_json(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.chdir(ROOT)
    target = tmp_path / "before.json"
    result = verify("--format", "json", "--output", str(target), BEFORE)
    assert result.code == 0, result.err
    return target


def test_golden_baseline_report(old_json: Path):
    result = verify("--baseline", str(old_json), AFTER)
    assert result.err == ""
    text = f"# verify --baseline OLD.json {AFTER}\n# exit {result.code}\n{result.out.replace(str(old_json), 'OLD.json')}"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    # the lines a pull request wants to see
    assert "  mfu_target: now violated (was proved); worst case fell from 39.26 % to 32.87 %; margin fell from 1.255 % to -5.130 %" in result.out
    assert "  tokens: new check, violated" in result.out and "  step: removed (was proved)" in result.out


def test_the_json_baseline_is_exact(old_json: Path):
    old = json.loads(old_json.read_text(encoding="utf-8"))
    new = json.loads(verify("--format", "json", "--baseline", str(old_json), AFTER).out)
    assert new["schema"] == "verify-report/1" and new["exit_code"] == 1
    baseline = new.pop("baseline")
    assert baseline["source"] == str(old_json)
    (file,) = baseline["files"]
    assert (file["path"], file["baseline_path"]) == (AFTER, BEFORE)  # lone files pair up
    entries = {e["name"]: e for e in file["checks"]}
    assert [e["change"] for e in file["checks"]] == ["compared", "compared", "compared", "new", "removed"]

    def exact(doc, name, key):
        check = next(c for c in doc["files"][0]["checks"] if c["name"] == name)
        value = check["worst_case"]["value"] if key == "worst_case" else check["margin"]
        return Fraction(value["exact"])

    for name in ("mfu_target", "fits", "grid"):
        for key in ("worst_case", "margin"):
            move = entries[name][key]
            before, after = exact(old, name, key), exact(new, name, key)
            assert (Fraction(move["old"]["exact"]), Fraction(move["new"]["exact"])) == (before, after)
            assert Fraction(move["delta"]["exact"]) == after - before
            assert move["trend"] == ("rose" if after > before else "fell" if after < before else "unchanged")
    assert entries["mfu_target"]["status"] == {"old": "proved", "new": "violated"}
    assert Fraction(entries["mfu_target"]["margin"]["new"]["exact"]) < 0 < Fraction(entries["mfu_target"]["margin"]["old"]["exact"])
    assert entries["fits"]["claim"] == {"old": "pretrain.memory_per_gpu <= 186 GB", "new": "pretrain.memory_per_gpu <= 160 GB"}
    assert baseline["summary"] == {"compared": 3, "margin_fell": 3, "margin_rose": 0, "margin_unchanged": 0, "new": 1, "removed": 1}


def test_a_violated_check_has_a_negative_margin_in_json(spec):
    data = json.loads(verify("--format", "json", spec("radiator p { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K }\ncheck no: p.area <= 850 m^2\n")).out)
    check = data["files"][0]["checks"][0]
    assert check["status"] == "violated"
    assert Fraction(check["margin"]["exact"]) == Fraction(850) - Fraction(check["worst_case"]["value"]["exact"]) < 0


def test_same_path_new_and_removed_files(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.spec").write_text("radiator p { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K; sink = 3 K; sides = 2 }\ncheck fits: p.area <= 900 m^2\n", encoding="utf-8")
    Path("gone.spec").write_text("radiator q { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck ok: q.area <= 2000 m^2\n", encoding="utf-8")
    assert verify("--format", "json", "--output", "old.json", "a.spec", "gone.spec").code == 0
    Path("a.spec").write_text("radiator p { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K; sink = 3 K; sides = 2 }\ncheck fits: p.area <= 800 m^2\n", encoding="utf-8")
    Path("new.spec").write_text("radiator r { heat = 2 MW; emissivity = 0.9; temperature = 330 K }\ncheck big: r.area <= 4000 m^2\n", encoding="utf-8")
    result = verify("--baseline", "old.json", "a.spec", "new.spec")
    assert result.code == 1
    tail = result.out.split("baseline: compared with old.json\n", 1)[1].splitlines()
    assert tail == [
        "a.spec: violated (was proved)",
        "  fits: now violated (was proved); worst case unchanged at 874.7 m^2; margin fell from 25.25 m^2 to -74.75 m^2",
        "    the claim changed from 'p.area <= 900 m^2' to 'p.area <= 800 m^2'",
        "new.spec: new file, proved",
        "  big: new check, proved; worst case 3305 m^2; margin 695.4 m^2",
        "gone.spec: removed (was proved)",
        "baseline: 1 check compared: margin fell in 1, rose in 0, unchanged in 0; 1 new, 1 removed",
    ]


def test_quiet_keeps_the_baseline(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.spec").write_text("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n", encoding="utf-8")
    verify("--format", "json", "--output", "old.json", "a.spec")
    result = verify("--quiet", "--baseline", "old.json", "a.spec")
    assert result.code == 0
    assert result.out.splitlines() == [
        "baseline: compared with old.json",
        "a.spec: proved",
        "  ok: still proved; worst case unchanged at 1652 m^2; margin unchanged at 347.7 m^2",
        "baseline: 1 check compared: margin fell in 0, rose in 0, unchanged in 1; 0 new, 0 removed",
    ]


def test_sarif_with_a_baseline_marks_what_is_new(old_json: Path, monkeypatch):
    import jsonschema

    monkeypatch.chdir(ROOT)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    document = json.loads(verify("--format", "sarif", "--baseline", str(old_json), AFTER).out)
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    found = {r["ruleId"]: r["baselineState"] for r in document["runs"][0]["results"]}
    assert found == {"check/mfu_target": "new", "check/tokens": "new"}
    again = json.loads(verify("--format", "sarif", "--baseline", str(old_json), BEFORE).out)
    assert again["runs"][0]["results"] == []


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "cannot read the baseline"),
        ("not json", "is not JSON"),
        ('{"schema": "something-else/1", "files": []}', "is not a verify report"),
        ("[1, 2]", "is not a verify report"),
    ],
)
def test_an_unusable_baseline_is_a_usage_error(tmp_path: Path, spec, content, message):
    target = tmp_path / "old.json"
    if content is not None:
        target.write_text(content, encoding="utf-8")
    result = verify("--baseline", str(target), spec("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\n"))
    assert result.code == 4 and result.out == "" and message in result.err


def _doc(path: str, *checks: dict, status: str = "proved") -> dict:
    return {"schema": "verify-report/1", "exit_code": 0, "files": [{"path": path, "status": status, "exit_code": 0, "diagnostics": [], "checks": list(checks)}]}


def _check(name: str, worst: str | None, shown_unit: str, margin: str | None = None, status: str = "proved") -> dict:
    def number(exact: str | None, scale: Fraction):
        if exact is None:
            return None
        from checker.numbers import fmt

        return {"exact": exact, "decimal": fmt(Fraction(exact)), "shown": f"{fmt(Fraction(exact) / scale)} {shown_unit}".rstrip()}

    scale = {"ms": Fraction(1, 1000), "s": Fraction(1), "%": Fraction(1, 100), "": Fraction(1), "MW": Fraction(10**6), "GW": Fraction(10**9)}[shown_unit]
    check = {"name": name, "kind": "check", "claim": f"{name} claim", "status": status}
    if worst is not None:
        check["worst_case"] = {"value": number(worst, scale)}
        check["margin"] = number(margin, scale)
    return check


def test_values_are_compared_exactly_and_shown_in_the_new_unit():
    old = _doc("x.spec", _check("step", "6/5", "s", "1/3"), _check("share", "1/3", "%", "2/3"))
    new = _doc("x.spec", _check("step", "9/10", "ms", "1/3"), _check("share", "1/3", "%", "666666/1000000"))
    comparison = compare(old, new, "old.json")
    step, share = comparison["files"][0]["checks"]
    assert step["worst_case"]["old"]["shown"] == "1200 ms" and step["worst_case"]["new"]["shown"] == "900 ms"
    assert step["worst_case"]["delta"]["exact"] == "-3/10" and step["worst_case"]["trend"] == "fell"
    assert step["margin"]["trend"] == "unchanged"
    # 2/3 and 0.666666 print alike to 4 digits; exact arithmetic still sees the fall
    assert share["margin"]["trend"] == "fell" and share["margin"]["delta"]["exact"] == "-1/1500000"
    lines = text_lines(comparison)
    assert "  step: still proved; worst case fell from 1200 ms to 900 ms; margin unchanged at 333.3 ms" in lines


def test_quantities_of_different_kinds_are_not_compared():
    old = _doc("x.spec", _check("c", "3", "s", "1"))
    new = _doc("x.spec", _check("c", "3000000", "MW", "1000000"))
    (entry,) = compare(old, new, "old.json")["files"][0]["checks"]
    assert entry["worst_case"]["trend"] == "incomparable" and entry["worst_case"]["delta"] is None
    assert "worst case not comparable: 3 s before, 3 MW now" in text_lines(compare(old, new, "o"))[2]


def test_checks_without_worst_cases_and_status_changes():
    old = _doc("x.spec", _check("eq", None, "", status="proved"), _check("u", "1", "s", "1"))
    new = _doc("x.spec", _check("eq", None, "", status="violated"), _check("u", None, "s", status="unknown"), status="violated")
    comparison = compare(old, new, "o")
    lines = text_lines(comparison)
    assert "  eq: now violated (was proved)" in lines
    assert "  u: now unknown (was proved); no worst case now (was 1 s); no margin now (was 1 s)" in lines
    assert states(old, new) == {}  # nothing that fails now failed the same way before


def test_files_pair_by_path_then_by_name():
    old = {"files": [_doc("a/x.spec")["files"][0], _doc("a/y.spec")["files"][0]]}
    new = {"files": [_doc("b/y.spec")["files"][0], _doc("b/x.spec")["files"][0], _doc("a/x.spec")["files"][0]]}
    pairs = [(f["baseline_path"], f["path"]) for f in compare(old, new, "o")["files"]]
    assert pairs == [("a/y.spec", "b/y.spec"), (None, "b/x.spec"), ("a/x.spec", "a/x.spec")]
