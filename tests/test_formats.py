"""Machine formats and the gate: SARIF and JUnit validated against the official schemas, the
exit-code matrix over several files, --allow-unknown, --quiet, colour, and the CI recipes.

The schemas are public copies kept in tests/data (tests/data/README.md names their sources and
licences), so a clone needs nothing beside it.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from checker import __version__
from checker.api import FileResult
from checker.cli import run
from checker.diagnostics import CODES
from checker.replay import Replay
from conftest import DATA, EXAMPLES, ROOT, verify

import jsonschema  # noqa: E402 - test dependencies: missing, the tests fail rather than skip
import xmlschema  # noqa: E402

SARIF_SCHEMA = DATA / "sarif-schema-2.1.0.json"
JUNIT_XSD = DATA / "junit.xsd"
BAD = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests" / "bad").glob("*.spec"))

PROVED = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n"
# a claim on a range: a claim on constants alone is decided by exact arithmetic, whatever the solver limits
RANGED = "radiator p { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n"
VIOLATED = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck no: p.area <= 100 m^2\n"
INVALID = "radiator p { heat = 1 MW emissivity = 0.9 }\n"


@pytest.fixture(scope="module")
def sarif_validator():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)  # Draft 7, from the schema's own $schema
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(scope="module")
def junit_schema():
    return xmlschema.XMLSchema(str(JUNIT_XSD))


def _in_root(*args: str):
    """verify run from the repository's root, so paths in the reports are relative."""
    before = os.getcwd()
    os.chdir(ROOT)
    try:
        return verify(*args)
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def examples_sarif():
    return _in_root("--format", "sarif", "examples/", *BAD)


@pytest.fixture(scope="module")
def examples_junit():
    return _in_root("--format", "junit", "examples/", *BAD)


def _errors(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# ---- SARIF --------------------------------------------------------------------------------


def test_sarif_of_the_examples_and_bad_specs_is_valid(examples_sarif, sarif_validator):
    assert examples_sarif.err == ""
    document = json.loads(examples_sarif.out)  # nothing but the document on stdout
    assert _errors(sarif_validator, document) == []
    assert examples_sarif.code == 2  # the bad specs are invalid
    assert document["version"] == "2.1.0"
    run_ = document["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "verify" and driver["version"] == __version__
    ids = [rule["id"] for rule in driver["rules"]]
    assert set(CODES) <= set(ids) and len(ids) == len(set(ids))
    assert all(rule["shortDescription"]["text"] for rule in driver["rules"])
    for result in run_["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    assert run_["invocations"][0]["exitCode"] == 2


def _result(document: dict, rule: str, uri: str) -> dict:
    found = [r for r in document["runs"][0]["results"] if r["ruleId"] == rule and r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri]
    assert len(found) == 1, (rule, uri, [r["ruleId"] for r in document["runs"][0]["results"]])
    return found[0]


def test_sarif_result_of_a_violated_check(examples_sarif):
    document = json.loads(examples_sarif.out)
    result = _result(document, "check/mfu_target", "examples/colossus1.spec")
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 33, "startColumn": 1, "endLine": 33, "endColumn": 39}
    text = result["message"]["text"]
    assert text.startswith("check 'mfu_target' is violated: pretrain.mfu >= 40 % fails\n")
    assert "counterexample:" in text and "pretrain.jitter.hopper = 5 %" in text and "pretrain.mfu = 22.76 %" in text
    counterexample = result["properties"]["counterexample"]
    assert [u["name"] for u in counterexample["unknowns"]] == ["pretrain.jitter.hopper", "pretrain.jitter.hopper2", "pretrain.jitter.blackwell"]
    assert Fraction(counterexample["left"]["exact"]) < Fraction(2, 5) == Fraction(counterexample["right"]["exact"])
    assert result["properties"]["status"] == "violated" and result["properties"]["claim"] == "pretrain.mfu >= 40 %"
    related = result["relatedLocations"]
    assert [r["physicalLocation"]["region"]["startLine"] for r in related] == [28, 28, 28]
    assert related[0]["message"]["text"] == "pretrain.jitter.hopper = 5 %"
    # proved checks are not results
    assert not [r for r in document["runs"][0]["results"] if r["ruleId"] == "check/grid"]


def test_sarif_result_of_a_broken_invariant_and_of_diagnostics(examples_sarif):
    document = json.loads(examples_sarif.out)
    invariant = _result(document, "invariant/panel.emissivity is within (0, 100 %]", "tests/bad/invariant.spec")
    assert invariant["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert invariant["properties"]["counterexample"]["unknowns"][0]["value"]["exact"] == "21/20"
    syntax = _result(document, "syntax", "tests/bad/missing-equals.spec")
    assert syntax["level"] == "error" and syntax["message"]["text"]
    region = syntax["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"])
    vacuous = _result(document, "vacuous", "tests/bad/vacuous.spec")
    assert "note: assumption 'new' (line 7)" in vacuous["message"]["text"]
    assert _result(document, "unknown-name", "tests/bad/unknown-name.spec")["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1


def test_sarif_unknown_is_an_error_unless_allowed(spec, sarif_validator):
    path = spec(RANGED)
    strict = verify("--format", "sarif", "--rlimit", "1", path)
    allowed = verify("--format", "sarif", "--rlimit", "1", "--allow-unknown", path)
    assert (strict.code, allowed.code) == (3, 0)
    for result, level in ((strict, "error"), (allowed, "warning")):
        document = json.loads(result.out)
        assert _errors(sarif_validator, document) == []
        results = document["runs"][0]["results"]  # the check, and the invariants the solver gave up on too
        assert {r["level"] for r in results} == {level}
        item = next(r for r in results if r["ruleId"] == "check/ok")
        assert "is unknown" in item["message"]["text"] and item["properties"]["status"] == "unknown"


def test_sarif_uris_are_uri_references(tmp_path, sarif_validator):
    folder = tmp_path / "my specs"
    folder.mkdir()
    (folder / "a b.spec").write_text(VIOLATED, encoding="utf-8")
    document = json.loads(verify("--format", "sarif", str(folder / "a b.spec")).out)
    uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///") and "my%20specs/a%20b.spec" in uri
    assert _errors(sarif_validator, document) == []


# ---- JUnit --------------------------------------------------------------------------------


def test_junit_of_the_examples_and_bad_specs_is_valid(examples_junit, junit_schema):
    assert examples_junit.err == "" and examples_junit.code == 2
    assert examples_junit.out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>')
    junit_schema.validate(examples_junit.out)


def test_junit_mapping(examples_junit):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(examples_junit.out)
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    specs = sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.rglob("*.spec"))
    assert list(suites) == specs + BAD  # one suite per file, in the report's order
    colossus = suites["examples/colossus1.spec"]
    cases = {case.get("name"): case for case in colossus.findall("testcase")}
    assert {case.get("classname") for case in cases.values()} == {"examples/colossus1.spec"}
    assert len(cases) == int(colossus.get("tests")) == 41  # 2 checks and 39 invariants
    failure = cases["mfu_target"].find("failure")
    assert failure.get("type") == "violated" and "pretrain.mfu >= 40 % fails" in failure.get("message")
    assert "counterexample:" in failure.text and "pretrain.jitter.hopper = 5 %" in failure.text
    assert list(cases["grid"]) == [] and list(cases["invariant: pretrain fits in the memory of pool hopper"]) == []
    assert (colossus.get("failures"), colossus.get("errors")) == ("1", "0")
    invariant = suites["tests/bad/invariant.spec"]
    broken = [c for c in invariant.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in broken] == ["invariant: panel.emissivity is within (0, 100 %]"]
    assert broken[0].find("failure").get("type") == "invariant"
    # the area check rests on the broken emissivity: no verdict, and not a pass either
    (fits,) = [c for c in invariant.findall("testcase") if c.get("name") == "fits"]
    assert fits.find("error").get("type") == "not-established" and "is not established" in fits.find("error").get("message")
    invalid = suites["tests/bad/unknown-name.spec"]
    (case,) = invalid.findall("testcase")
    error = case.find("error")
    assert case.get("name") == "valid spec" and error.get("type") == "unknown-field"
    assert "unknown-name" in error.text and "unknown-field" in error.text  # every diagnostic
    assert invalid.get("errors") == "1"


def test_junit_unknown_is_an_error_or_skipped_when_allowed(spec, junit_schema):
    path = spec(RANGED)
    strict = verify("--format", "junit", "--rlimit", "1", path)
    allowed = verify("--format", "junit", "--rlimit", "1", "--allow-unknown", path)
    junit_schema.validate(strict.out)
    junit_schema.validate(allowed.out)
    assert '<error message="check \'ok\' is unknown' in strict.out and 'type="unknown"' in strict.out
    assert "<skipped" in allowed.out and 'errors="0"' in allowed.out and "<error" not in allowed.out
    assert re.search(r'skipped="(\d+)"', allowed.out).group(1) == re.search(r'tests="(\d+)"', allowed.out).group(1)


def test_junit_survives_control_characters(spec, junit_schema):
    result = verify("--format", "junit", spec("radiator p { heat = 1 MW \x0b\x07 }\n"))
    assert result.code == 2
    junit_schema.validate(result.out)
    assert "\\x07" in result.out or "\\x0b" in result.out


def test_an_inconsistency_is_an_error_in_every_format(spec, monkeypatch, sarif_validator, junit_schema):
    import checker.api

    monkeypatch.setattr(checker.api, "replay_verdict", lambda model, verdict: Replay("disagrees", Fraction(1), None, Fraction(2), "made up by the test"))
    path = spec(PROVED)
    text = verify(path)
    assert text.code == 4 and "the simulation disagrees" in text.out
    junit = verify("--format", "junit", path)
    junit_schema.validate(junit.out)
    assert 'type="inconsistent"' in junit.out
    sarif = json.loads(verify("--format", "sarif", path).out)
    assert _errors(sarif_validator, sarif) == []
    assert "inconsistent" in {r["ruleId"] for r in sarif["runs"][0]["results"]}
    assert sarif["runs"][0]["invocations"][0] == {"executionSuccessful": False, "exitCode": 4}


# ---- every machine format: alone on stdout, deterministic, also to a file ----------------------


@pytest.mark.parametrize("fmt", ["json", "junit", "sarif"])
def test_machine_formats_are_alone_deterministic_and_go_to_files(fmt, spec, tmp_path):
    paths = [spec(VIOLATED, "v.spec"), spec(INVALID, "i.spec"), spec(PROVED, "p.spec")]
    first, second = verify("--format", fmt, *paths), verify("--format", fmt, *paths)
    assert first.out == second.out and first.err == "" and first.code == 2
    assert "\x1b[" not in first.out
    if fmt == "junit":
        import xml.etree.ElementTree as ET

        ET.fromstring(first.out)
    else:
        json.loads(first.out)
    target = tmp_path / f"report.{fmt}"
    to_file = verify("--format", fmt, "--output", str(target), *paths)
    assert to_file.out == "" and to_file.code == 2
    assert target.read_text(encoding="utf-8") == first.out


def test_sarif_output_is_byte_identical_across_processes():
    outputs = set()
    for seed in ("0", "7"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        done = subprocess.run([sys.executable, "-m", "checker", "--no-cache", "--format", "sarif", "examples/orbital-radiator.spec", "tests/bad/vacuous.spec"], capture_output=True, cwd=ROOT, env=env)
        assert done.returncode == 2 and done.stderr == b""
        outputs.add(done.stdout)
    assert len(outputs) == 1


# ---- the exit-code matrix -----------------------------------------------------------------

# what each kind of file exits with alone, and how to make one
KINDS = {"proved": 0, "unknown": 3, "violated": 1, "invalid": 2, "inconsistent": 4}


@pytest.fixture
def kinds(spec, monkeypatch):
    """Files of each kind. Unknown and inconsistent files are made by the solver giving up
    (rlimit 1) and by a replay that disagrees, for files with that word in their name only."""
    import dataclasses

    import checker.api
    import checker.solve

    real_solve, real_replay = checker.solve.solve, checker.api.replay_verdict

    def solve(model, limits):
        return real_solve(model, dataclasses.replace(limits, rlimit=1) if "unknown" in model.path else limits)

    def replay(model, verdict):
        if "inconsistent" in model.path:
            return Replay("disagrees", Fraction(1), None, Fraction(2), "made up by the test")
        return real_replay(model, verdict)

    monkeypatch.setattr(checker.solve, "solve", solve)
    monkeypatch.setattr(checker.api, "replay_verdict", replay)
    texts = {"proved": PROVED, "unknown": RANGED, "violated": VIOLATED, "invalid": INVALID, "inconsistent": PROVED}
    return lambda kind, index=0: spec(texts[kind], f"{index}-{kind}.spec")


ORDER = ["proved", "unknown", "violated", "invalid", "inconsistent"]  # least to most severe: 0 < 3 < 1 < 2 < 4


@pytest.mark.parametrize("pair", list(itertools.combinations_with_replacement(ORDER, 2)), ids="+".join)
def test_most_severe_of_two_files_wins_and_both_are_checked(kinds, pair):
    paths = [kinds(kind, i) for i, kind in enumerate(pair)]
    for order in (paths, paths[::-1]):
        result = verify("--format", "json", *order)
        data = json.loads(result.out)
        expected = KINDS[max(pair, key=ORDER.index)]
        assert result.code == data["exit_code"] == expected
        assert [f["exit_code"] for f in data["files"]] == [KINDS[Path(p).stem.split("-", 1)[1]] for p in order]


def test_every_kind_at_once_and_allow_unknown(kinds):
    paths = [kinds(kind, i) for i, kind in enumerate(ORDER)]
    assert verify(*paths).code == 4
    assert verify(*paths[:4]).code == 2
    assert verify(*paths[:3]).code == 1
    assert verify(*paths[:2]).code == 3
    # --allow-unknown: unknown alone passes, anything worse still wins
    assert verify("--allow-unknown", *paths[:2]).code == 0
    assert verify("--allow-unknown", *paths[:3]).code == 1
    assert verify("--allow-unknown", *paths[:4]).code == 2
    assert verify("--allow-unknown", *paths).code == 4
    allowed = verify("--allow-unknown", paths[1])
    assert allowed.code == 0 and "warning: check 'ok' is unknown" in allowed.out and allowed.out.rstrip().splitlines()[-2].endswith("exit 0")
    data = json.loads(verify("--format", "json", "--allow-unknown", paths[1]).out)
    assert data["exit_code"] == 0 and data["files"][0]["exit_code"] == 3  # the file's own verdict stays


def test_a_missing_file_counts_and_the_summary_says_so(kinds, tmp_path):
    result = verify(kinds("violated"), str(tmp_path / "gone.spec"))
    assert result.code == 4 and "exit 4" in result.out and "no such file" in result.err
    assert json.loads(verify("--format", "json", kinds("proved"), str(tmp_path / "gone.spec")).out)["exit_code"] == 4


# ---- quiet and colour ---------------------------------------------------------------------


def test_quiet_prints_only_what_fails(spec):
    proved = spec(PROVED, "p.spec")
    both = spec(PROVED.replace("check ok", "check no: p.area <= 100 m^2\ncheck ok"), "b.spec")
    assert verify("--quiet", proved).out == ""
    result = verify("--quiet", proved, both)
    assert result.code == 1
    assert "p.spec" not in result.out.replace("b.spec", "")
    assert "violated  no" in result.out and "proved" not in result.out and "exit 1" not in result.out
    assert "built-in invariants" not in result.out  # all hold: nothing to say
    unknown = verify("--quiet", "--allow-unknown", "--rlimit", "1", spec(RANGED, "r.spec"))
    assert unknown.code == 0 and "unknown   ok" in unknown.out  # a warning is still shown


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_on_terminal(*args: str) -> tuple[int, str]:
    out, err = _Terminal(), io.StringIO()
    code = run(list(args), out, err)
    return code, out.getvalue()


ANSI = re.compile(r"\x1b\[(\d+)m(\w+)\x1b\[0m")


def test_colour_only_around_verdict_words_on_a_terminal(spec, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    path = spec(PROVED.replace("check ok", "check no: p.area <= 100 m^2\ncheck ok"))
    code, coloured = _run_on_terminal(path)
    plain = verify(path).out
    assert code == 1 and "\x1b[" not in plain
    words = ANSI.findall(coloured)
    assert {w for _, w in words} == {"violated", "proved"} and coloured.count("\x1b[") == 2 * len(words)
    assert ANSI.sub(r"\2", coloured) == plain  # the same report, columns and all
    monkeypatch.setenv("NO_COLOR", "")  # an empty NO_COLOR does not count (no-color.org)
    assert _run_on_terminal(path)[1] == coloured


@pytest.mark.parametrize("value", ["1", "0", "yes"])
def test_no_color_disables_colour_whatever_its_value(spec, monkeypatch, value):
    monkeypatch.setenv("NO_COLOR", value)
    path = spec(VIOLATED)
    assert "\x1b[" not in _run_on_terminal(path)[1]


def test_no_colour_in_files_or_machine_formats_even_on_a_terminal(spec, monkeypatch, tmp_path):
    monkeypatch.delenv("NO_COLOR", raising=False)
    path = spec(VIOLATED)
    target = tmp_path / "report.txt"
    _run_on_terminal("--output", str(target), path)
    assert "\x1b[" not in target.read_text()
    for fmt in ("json", "junit", "sarif"):
        assert "\x1b[" not in _run_on_terminal("--format", fmt, path)[1]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_colour_on_a_real_terminal_and_not_through_a_pipe(spec):
    import pty

    path = spec(VIOLATED)
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["PYTHONPATH"] = str(ROOT)
    piped = subprocess.run([sys.executable, "-m", "checker", path], capture_output=True, env=env)
    assert piped.returncode == 1 and b"\x1b[" not in piped.stdout
    leader, follower = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "checker", path], stdout=follower, stderr=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes with the child
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert child.wait(timeout=60) == 1
    assert b"\x1b[31mviolated\x1b[0m" in b"".join(chunks)
    with_no_color = subprocess.run([sys.executable, "-m", "checker", path], capture_output=True, env={**env, "NO_COLOR": "1"})
    assert b"\x1b[" not in with_no_color.stdout


# ---- flags and recipes ----------------------------------------------------------------------


def test_help_lists_the_formats_and_the_gate_flags():
    done = subprocess.run([sys.executable, "-m", "checker", "--help"], capture_output=True, text=True, cwd=ROOT)
    for word in ("junit", "sarif", "--allow-unknown", "--baseline", "--quiet"):
        assert word in done.stdout


def test_the_hook_manifest():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    import yaml  # pre-commit brings PyYAML
    hook = next(h for h in yaml.safe_load(text) if h["id"] == "verify-cluster-spec")  # verify-fmt is the other
    assert hook["id"] == "verify-cluster-spec" and hook["entry"] == "verify --with-importers" and hook["language"] == "python"  # a changed catalog rechecks its importers
    assert re.search(hook["files"], "a/b.spec") and not re.search(hook["files"], "b.spec.txt")


@pytest.mark.parametrize("recipe", ["github-actions.yml", "gitlab-ci.yml"])
def test_ci_recipes_parse_and_use_real_flags(recipe):
    import yaml  # pre-commit brings PyYAML
    text = (EXAMPLES / "ci" / recipe).read_text(encoding="utf-8")
    yaml.safe_load(text)
    commands = re.findall(r"\bverify ((?:--|\"\$)[^|;)}\n]*)", text)
    assert commands, "no verify command in the recipe"
    from checker.cli import build_parser

    for command in commands:
        words = [w.replace('"$SPECS"', "specs/") for w in shlex.split(command.replace("$RUNNER_TEMP", "/tmp"))]
        build_parser().parse_args(words)  # exits 4 on an unknown flag
    assert "--format sarif" in text and "--format junit" in text
    if recipe == "github-actions.yml":
        assert "github/codeql-action/upload-sarif" in text
    else:
        assert "junit: verify-junit.xml" in text


def test_file_results_are_what_the_formats_share():
    # the formats are built on FileResult and its verdicts; a bare one (a file that cannot be read) works too
    from checker import formats

    result = FileResult("nowhere.spec")
    assert formats.to_sarif([result], 0)["runs"][0]["results"] == []
    assert formats.to_junit([result]).find("testsuite").get("tests") == "0"
