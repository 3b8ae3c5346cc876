"""The editor files: the TextMate grammar cannot silently fall behind grammars/spec.lark.

Python's `re` stands in for Oniguruma (the engine of TextMate grammars): every pattern here is
written in the subset both understand, so no construct needs to be skipped."""

from __future__ import annotations

import json
import re

import pytest

from checker import units
from conftest import EXAMPLES, ROOT

VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = json.loads((VSCODE / "syntaxes" / "verify.tmLanguage.json").read_text(encoding="utf-8"))
LARK = (ROOT / "grammars" / "spec.lark").read_text(encoding="utf-8")


def _patterns(node):
    if isinstance(node, dict):
        for key in ("match", "begin", "end"):
            if key in node:
                yield node[key]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def _keywords() -> set[str]:
    """Every word the grammar spells out as a string literal ("radiator", "on", "x", ...)."""
    code = re.sub(r"//[^\n]*", "", LARK)
    return {word for word in re.findall(r'"([^"\\]+)"', code) if word.isidentifier()}


def _rule(name: str) -> re.Pattern:
    return re.compile(GRAMMAR["repository"][name]["match"])


def test_every_pattern_compiles():
    patterns = list(_patterns(GRAMMAR))
    assert len(patterns) >= 15
    for pattern in patterns:
        re.compile(pattern)


def test_the_keywords_of_the_grammar_are_all_highlighted():
    keywords = _keywords()
    assert {"check", "assume", "radiator", "gpu", "cluster", "workload", "on", "pool", "x"} <= keywords
    rule = _rule("keyword")
    for word in keywords:
        assert rule.fullmatch(word), f"the TextMate grammar does not highlight the keyword {word!r} of spec.lark"


def test_block_kinds_and_claims_match_the_grammar():
    kinds = set(re.search(r"!block_kind:([^\n]*)", LARK).group(1).replace('"', " ").replace("|", " ").split())
    # a kind written as a named terminal (MODEL: "model", which is also a field's name) by its text
    kinds = {re.search(rf'^{k}:\s*"([^"]+)"', LARK, re.M).group(1) if k.isupper() else k for k in kinds}
    claims = set(re.search(r"!claim_kind:([^\n]*)", LARK).group(1).replace('"', " ").replace("|", " ").split())
    block = _rule("block")
    for kind in kinds:
        assert block.match(f"{kind} name"), kind
    for kind in claims:
        assert _rule("claim").match(f"{kind} name:"), kind
    comparisons = re.search(r"COMPARISON:([^\n]*)", LARK).group(1).replace('"', " ").replace("|", " ").split()
    operator = re.compile(GRAMMAR["repository"]["operator"]["patterns"][0]["match"])
    for op in comparisons:
        assert operator.fullmatch(op), op


@pytest.mark.parametrize("unit", sorted(units.UNITS) + ["TFLOP/s", "W/m^2", "s^-1", "USD/MWh"])
def test_every_unit_is_highlighted_after_a_number(unit):
    found = _rule("quantity").match(f"12.5e3 {unit}")
    assert found and found.group(1) == "12.5e3" and found.group(2) == unit


def test_comments_and_references():
    assert _rule("comment").search("heat = 1 MW  # far out").group(0) == "# far out"
    found = _rule("reference").search("check c: colossus1.power.draw <= 1 MW")
    assert found.group(1, 2) == ("colossus1", ".power.draw")


def test_the_extension_points_at_its_files():
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    (grammar,) = package["contributes"]["grammars"]
    assert (VSCODE / grammar["path"]).is_file() and grammar["scopeName"] == GRAMMAR["scopeName"]
    (language,) = package["contributes"]["languages"]
    assert language["extensions"] == [".spec"] and (VSCODE / language["configuration"]).is_file()
    configuration = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    assert configuration["comments"]["lineComment"] == "#"
    assert ["{", "}"] in configuration["brackets"]
    assert (VSCODE / package["main"]).is_file()


def test_every_word_of_the_examples_outside_comments_is_covered():
    """Each keyword token in the examples is matched by the keyword rule (a smoke test of scope)."""
    rule = _rule("keyword")
    for example in EXAMPLES.glob("*.spec"):
        for line in example.read_text(encoding="utf-8").splitlines():
            code = line.split("#", 1)[0]
            for word in re.findall(r"\b(check|assume|radiator|gpu|cluster|workload|pool)\b", code):
                assert rule.fullmatch(word)


def test_find_statements_are_highlighted():
    """`find` is a statement like `check`; its words are keywords, but max(...) stays a function
    and a `layout { ... }` section stays a section."""
    assert _rule("claim").match("find most_jitter:")
    keyword = _rule("keyword")
    line = "find j: max W.jitter such that W.mfu >= 40 %"
    assert [m.group(0) for m in keyword.finditer(line)] == ["find", "max", "such", "that"]
    line = "find b: best layout of W maximizing W.mfu"
    assert [m.group(0) for m in keyword.finditer(line)] == ["find", "best", "layout", "of", "maximizing"]
    assert [m.group(0) for m in keyword.finditer("check c: max(a.p, b.q) <= 1")] == ["check"]
    assert not keyword.search("  layout { tensor = 8 }")
