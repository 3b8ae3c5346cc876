"""``verify fmt``: golden layouts, the command's exit codes, and two properties over the fuzz
generators of tests/test_fuzz.py: formatting never changes what a spec means (the same resolved
model, spans aside, and the same verdicts), and formatting twice is formatting once."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from hypothesis import given, settings

from checker.api import check_text
from checker.diagnostics import Span, SpecError
from checker.fmt import format_text
from checker.parse import parse_text
from checker.resolve import resolve
from conftest import EXAMPLES, ROOT, verify
from test_fuzz import CI, FUZZ_LIMITS, grammar_specs, schema_specs

GOLDEN = ROOT / "tests" / "fmt"
PAIRS = sorted(GOLDEN.glob("*.in.spec"))


@pytest.mark.parametrize("source", PAIRS, ids=lambda p: p.name)
def test_golden_layout(source: Path):
    expected = source.with_name(source.name.replace(".in.", ".out.")).read_text(encoding="utf-8")
    text = source.read_bytes().decode("utf-8")
    assert format_text(str(source), text) == expected
    assert format_text(str(source), expected) == expected


def test_there_are_golden_pairs():
    assert len(PAIRS) >= 4


def test_the_examples_are_in_the_canonical_layout():
    run = verify("fmt", "--check", str(EXAMPLES))
    assert (run.code, run.out) == (0, "")


def test_check_lists_changed_files_and_changes_nothing(spec):
    messy = spec("radiator p{heat=1MW;emissivity=0.9;temperature=330K}\n", "messy.spec")
    tidy = spec("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\n", "tidy.spec")
    before = Path(messy).read_bytes()
    run = verify("fmt", "--check", messy, tidy)
    assert run.code == 1
    assert run.out.splitlines() == [messy]
    assert Path(messy).read_bytes() == before


def test_rewrites_in_place(spec):
    path = spec("radiator p{heat=1MW;emissivity=0.9;temperature=330K}\r\ncheck c:p.area<=1e4 m^2\r\n")
    run = verify("fmt", path)
    assert run.code == 0, run.err
    assert Path(path).read_text(encoding="utf-8") == "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck c: p.area <= 1e4 m^2\n"
    assert verify("fmt", "--check", path).code == 0
    assert not [p for p in Path(path).parent.iterdir() if p.name.endswith(".fmt")]  # no temporary left


def test_refuses_a_file_that_does_not_parse(spec):
    text = "radiator p { heat 1 MW }\n"
    path = spec(text)
    run = verify("fmt", path)
    assert run.code == 2
    assert "error: expected '=' after the field name, found '1' [syntax]" in run.err
    assert "Traceback" not in run.err and "Exception" not in run.err
    assert Path(path).read_text(encoding="utf-8") == text


def test_standard_input_to_standard_output():
    out, err = io.StringIO(), io.StringIO()
    from checker.cli import run

    code = run(["fmt", "-"], out, err, io.BytesIO(b"check c :1<2;;\n"))
    assert (code, out.getvalue(), err.getvalue()) == (0, "check c: 1 < 2\n", "")


def test_missing_path_is_a_usage_error(tmp_path):
    run = verify("fmt", str(tmp_path / "nope.spec"))
    assert run.code == 4 and "no such file" in run.err


def test_a_file_named_like_a_subcommand_is_checked_with_a_path(tmp_path, monkeypatch):
    (tmp_path / "fmt").write_text("radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck c: p.area <= 1e4 m^2\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run = verify("./fmt")
    assert run.code == 0 and "./fmt: proved" in run.out


def test_help_names_the_subcommands(capsys):
    assert verify("--help").code == 0
    shown = capsys.readouterr().out
    assert "verify fmt [--check] PATH..." in shown and "verify lsp" in shown
    assert verify("fmt", "--help").code == 0
    assert "--check" in capsys.readouterr().out


# ---- meaning is preserved -----------------------------------------------------------------------


def _plain(value):
    """A resolved model without its spans (and without source text, which fmt respaces)."""
    if isinstance(value, Span):
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__,) + tuple((f.name, _plain(getattr(value, f.name))) for f in dataclasses.fields(value) if f.name not in ("text", "left_text"))
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((repr(k), _plain(v)) for k, v in value.items()))
    return value


def _meaning(text: str):
    model, diagnostics = resolve(parse_text("t.spec", text))
    return _plain(model), sorted(d.code for d in diagnostics)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _formats(text: str) -> str | None:
    try:
        parse_text("t.spec", text)
    except (SpecError, RecursionError):
        with pytest.raises((SpecError, RecursionError)):
            format_text("t.spec", text)
        return None
    return format_text("t.spec", text)


@settings(CI, max_examples=150)
@given(grammar_specs())
def test_formatting_the_grammar_s_programs_keeps_their_meaning(text):
    formatted = _formats(text)
    if formatted is None:
        return
    assert format_text("t.spec", formatted) == formatted
    try:
        before = _meaning(text)
    except SpecError:  # a number literal out of range is caught while building the tree
        return
    assert _meaning(formatted) == before


@settings(CI, max_examples=40)
@given(schema_specs())
def test_formatting_schema_specs_keeps_their_model(text):
    formatted = _formats(text)
    assert formatted is not None
    assert format_text("t.spec", formatted) == formatted
    assert _meaning(formatted) == _meaning(text)
    # the claims' text is respaced, never rewritten
    model, _ = resolve(parse_text("t.spec", text))
    again, _ = resolve(parse_text("t.spec", formatted))
    if model is not None:
        assert [_squash(k.text) for c in model.checks + model.assumptions for k in c.conditions] == [_squash(k.text) for c in again.checks + again.assumptions for k in c.conditions]


@settings(CI, max_examples=10)
@given(schema_specs())
def test_formatting_keeps_the_verdicts(text):
    formatted = format_text("t.spec", text)
    before, after = check_text("t.spec", text, FUZZ_LIMITS), check_text("t.spec", formatted, FUZZ_LIMITS)
    assert [(v.claim.name, v.status) for v in before.verdicts] == [(v.claim.name, v.status) for v in after.verdicts]
    assert sorted(d.code for d in before.diagnostics) == sorted(d.code for d in after.diagnostics)


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.spec")), ids=lambda p: p.name)
def test_respacing_an_example_and_formatting_it_gives_it_back(example):
    """Every space between tokens doubled, comments pushed right: fmt restores the example,
    except that hand-placed comment columns move with the wider code."""
    text = example.read_text(encoding="utf-8")
    messy = "\n".join("\t" + re.sub(r" +", "   ", code) + ("    #" + comment if sep else "") for code, sep, comment in (line.partition("#") for line in text.splitlines()))
    formatted = format_text(str(example), messy)
    strip = lambda t: [re.sub(r"\s+#", " #", line) for line in t.splitlines()]  # noqa: E731
    assert strip(formatted) == strip(text)


def test_the_verify_fmt_hook_runs_the_formatter(spec):
    """The hook's entry, given file names the way pre-commit passes them, rewrites a messy spec."""
    import shlex

    import yaml

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    hook = hooks["verify-fmt"]
    assert hook["files"] == r"\.spec$" and hook["language"] == "python"
    program, *args = shlex.split(hook["entry"])
    assert program == "verify"
    path = spec("check c:1<2\n")
    assert verify(*args, path).code == 0
    assert Path(path).read_text(encoding="utf-8") == "check c: 1 < 2\n"
    assert verify(*args, "--check", path).code == 0
