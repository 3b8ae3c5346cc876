"""The catalog behind the friendly syntax messages (checker/syntax_examples.py) against the
grammar and against tests/bad/: a grammar change cannot silently change which message fires."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from checker import codes, parse, syntax_examples
from checker.diagnostics import SpecError

ROOT = Path(__file__).resolve().parent.parent
BAD = sorted((ROOT / "tests" / "bad").glob("*.spec"))
HEADER = re.compile(r"^# syntax: ([a-z-]+)$", re.M)
EXAMPLES = [(kind, example) for kind, examples in syntax_examples.CATALOG.items() for example in examples]


@pytest.mark.parametrize("kind, example", EXAMPLES, ids=[f"{k}-{i}" for i, (k, _) in enumerate(EXAMPLES)])
def test_every_example_is_still_an_error_of_its_own_kind(kind, example):
    assert example in parse._example_errors(), f"the {kind} example {example!r} parses: the grammar changed"
    assert parse.syntax_error_kind(example) == kind


def test_no_two_kinds_share_an_example():
    counts = Counter(example for _, example in EXAMPLES)
    assert [example for example, n in counts.items() if n > 1] == []


def test_no_two_kinds_share_an_error_state():
    """So the kind never depends on the catalog's order, nor on the stack depth: no LALR state,
    accepted tokens and token type are reached by examples of two kinds, at any depth."""
    errors = parse._example_errors()
    kinds: dict[object, set[str]] = {}
    for kind, example in EXAMPLES:
        exc = errors[example]
        token = getattr(exc, "token", None)
        signature = (parse._state_key(exc)[:2], frozenset(getattr(exc, "accepts", None) or ()), getattr(token, "type", None))
        kinds.setdefault(signature, set()).add(kind)
    assert {k: v for k, v in kinds.items() if len(v) > 1} == {}


def test_every_kind_has_words_and_a_golden_file():
    assert set(parse._MESSAGES) == set(syntax_examples.CATALOG)
    documented = {m.group(1) for path in BAD for m in HEADER.finditer(path.read_text(encoding="utf-8"))}
    assert documented == set(syntax_examples.CATALOG), "each kind is shown by a tests/bad/*.spec with a '# syntax: KIND' header"


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_files_are_matched_to_the_kind_they_document(path):
    text = path.read_text(encoding="utf-8")
    header = HEADER.search(text)
    try:
        parse.parse_text(str(path), text)
    except SpecError as exc:
        code = exc.diagnostic.code
    else:
        code = None
    if header is None:
        assert parse.syntax_error_kind(text) is None, f"{path.name} is a catalogued syntax error: give it a '# syntax: KIND' header"
        return
    assert header.group(1) in syntax_examples.CATALOG, f"{path.name} names no catalog kind"
    assert parse.syntax_error_kind(text) == header.group(1)
    assert code in (None, codes.SYNTAX)


# realistic mistakes in the shipped examples (not in the catalog): the catalog's contexts must
# reach them, or the message silently falls back to the generic one
MISTAKES = [
    (syntax_examples.COMPARISON_ARROW, re.compile(r"(^check \w+: [^\n<>=]*?)<=", re.M), r"\1=<"),
    (syntax_examples.COMPARISON_ARROW, re.compile(r"(^check \w+: [^\n<>=]*?)>=", re.M), r"\1=>"),
    (syntax_examples.MISSING_COMPARISON, re.compile(r"(^check \w+: [^\n<>=]*?) *(<=|>=|<|>|==)[^\n#]*", re.M), r"\1"),
    (syntax_examples.MISSING_EQUALS, re.compile(r"^(  +\w+) = ([0-9])", re.M), r"\1 \2"),
    (syntax_examples.RANGE_MISSING_END, re.compile(r"^( +\w+ *=[^\n#]*\.\.) *[0-9.]+[^\n#;}]*", re.M), r"\1"),
    (syntax_examples.UNKNOWN_STATEMENT, re.compile(r"^check ", re.M), "chek "),
]


# every (example, mistake) pair where the example has a place for the mistake
INJECTED = [
    (spec, kind, broken)
    for spec in sorted((ROOT / "examples").glob("*.spec"))
    for kind, pattern, replacement in MISTAKES
    if (broken := pattern.sub(replacement, spec.read_text(encoding="utf-8"), count=1)) != spec.read_text(encoding="utf-8")
]


def test_most_mistakes_have_a_place_in_the_examples():
    assert len(INJECTED) >= len(MISTAKES) * 4


@pytest.mark.parametrize("spec, kind, broken", INJECTED, ids=[f"{s.name}-{k}" for s, k, _ in INJECTED])
def test_mistakes_in_real_specs_get_their_message(spec, kind, broken):
    assert parse.syntax_error_kind(broken) == kind
