"""The documentation is held to the code: every code, field, quantity, unit and GPU is documented.

spec/language.md must name every diagnostic code, every field of every block, every derived
quantity and every unit symbol the checker knows; spec/semantics.md must give a source for every
catalog GPU; the README's first code block must hold the two quick-start commands and the README
must list every example. A name is only counted when it is written as code (in backticks), so
an ordinary English word ("floor", "area") in the prose does not satisfy the test by accident.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker import catalog, registry, units
from checker.diagnostics import CODES
from conftest import EXAMPLES, ROOT, verify

LANGUAGE = ROOT / "spec" / "language.md"
SEMANTICS = ROOT / "spec" / "semantics.md"
README = ROOT / "README.md"

INSTALL_AND_RUN = "python3 -m venv .venv && . .venv/bin/activate && pip install . && verify examples/"
TEST = "pip install -e '.[test]' && python -m pytest"


def _text(path: Path) -> str:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    return path.read_text(encoding="utf-8")


def _code_spans(text: str) -> set[str]:
    """Everything written as inline code, `like this`, and the dotted parts of it."""
    spans = set(re.findall(r"`([^`\n]+)`", text))
    parts = {piece for span in spans for piece in re.split(r"[.\s]", span) if piece}
    return spans | parts


def _section(text: str, heading: str) -> str:
    """The body of a '## heading' section, up to the next heading of the same level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def _code_blocks(text: str) -> list[str]:
    """The fenced code blocks of a Markdown text, in order, each ending with a new line."""
    blocks, current = [], None
    for line in text.split("\n"):
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("".join(f"{row}\n" for row in current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def _first_code_block(text: str) -> str:
    blocks = _code_blocks(text)
    assert blocks, "the README has no code block"
    return blocks[0]


# ---- spec/language.md --------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_diagnostic_code_is_documented(code: str):
    section = _section(_text(LANGUAGE), "Diagnostic codes")
    assert f"`{code}`" in section, f"diagnostic code {code!r} is not documented in spec/language.md"


FIELDS = sorted({(kind, spec.name) for kind, specs in registry.FIELDS.items() for spec in specs})


@pytest.mark.parametrize("kind,name", FIELDS, ids=[f"{k}.{n}" for k, n in FIELDS])
def test_every_field_is_documented(kind: str, name: str):
    reference = _section(_text(LANGUAGE), "Block reference")
    block = re.search(rf"^#{{3,4}} {kind}\b.*?(?=^#{{2,4}} |\Z)", reference, re.M | re.S)
    assert block, f"spec/language.md has no section for the {kind} block"
    assert f"`{name}`" in block.group(0), f"field {kind}.{name} is not documented in its block's section"


DERIVED = sorted({(d.family, ".".join(d.path)) for d in registry.DERIVED if d.default_of is None})


@pytest.mark.parametrize("kind,name", DERIVED, ids=[f"{k}.{n}" for k, n in DERIVED])
def test_every_derived_quantity_is_documented(kind: str, name: str):
    name = name.split(".")[-1]  # power.draw is documented in the power section as `draw`
    assert name in _code_spans(_text(LANGUAGE)), f"derived quantity {name!r} ({kind}) is not documented in spec/language.md"


def test_per_pool_quantities_are_written_with_their_pool():
    text = _text(LANGUAGE)
    for d in registry.DERIVED:
        if d.per_pool:
            name = ".".join(d.path)
            assert f"`{name}.POOL`" in text or f"`W.{name}.POOL`" in text, name


@pytest.mark.parametrize("symbol", sorted(units.UNITS))
def test_every_unit_symbol_is_in_the_unit_table(symbol: str):
    table = _section(_text(LANGUAGE), "Units")
    rows = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    assert symbol in rows, f"unit {symbol!r} has no row in the unit table of spec/language.md"


def test_the_unit_table_has_no_unit_the_checker_lacks():
    table = _section(_text(LANGUAGE), "Units")
    rows = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    assert set(rows) <= set(units.UNITS), sorted(set(rows) - set(units.UNITS))


def test_every_catalog_gpu_is_in_the_language_reference():
    section = _section(_text(LANGUAGE), "The built-in GPU catalog")
    for name in catalog.CATALOG:
        assert f"`{name}`" in section, name


# ---- spec/semantics.md ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(catalog.CATALOG))
def test_every_catalog_gpu_has_a_source(name: str):
    section = _section(_text(SEMANTICS), "The built-in GPU catalog")
    row = re.search(rf"^\| `{re.escape(name)}` \|(.*)$", section, re.M)
    assert row, f"catalog GPU {name!r} has no row in spec/semantics.md"
    assert re.search(r"datasheet|data sheet|specifications", row.group(1), re.I), f"{name}: no source named"


def test_the_semantics_states_the_constant_and_the_sources():
    text = _text(SEMANTICS)
    for needle in ("5.670374419", "CODATA 2018", "Thakur", "Rabenseifner", "Gropp", "PERFORMANCE.md",
                   "Kaplan", "PaLM", "ZeRO", "Llama 3", "NVML"):
        assert needle in text, needle


# ---- README.md -----------------------------------------------------------------------------


def test_the_first_code_block_has_the_two_quick_start_commands():
    lines = [line.strip() for line in _first_code_block(_text(README)).splitlines() if line.strip()]
    assert lines[:2] == [INSTALL_AND_RUN, TEST], lines


def test_the_test_extra_exists():
    pyproject = _text(ROOT / "pyproject.toml")
    assert re.search(r"^\[project\.optional-dependencies\]\s*\ntest\s*=", pyproject, re.M)


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.spec")))
def test_every_example_is_in_the_readme(example: str):
    assert example in _section(_text(README), "Examples"), f"examples/{example} is not listed in the README"


def test_the_worked_example_is_the_real_output(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = verify("examples/orbital-radiator.spec")
    assert result.code == 1
    shown = [b for b in _code_blocks(_text(README)) if b.startswith("examples/orbital-radiator.spec: ")]
    assert shown, "the README does not show the output of verify examples/orbital-radiator.spec"
    assert shown[0] == result.out


def test_the_readme_links_to_the_reference():
    text = _text(README)
    assert "spec/language.md" in text and "spec/semantics.md" in text
