"""Mutation testing in the suite: the tests can fail for real bugs.

scripts/mutate.py holds deliberate mistakes in the encoder (checker/encode.py) and in the
simulation core (checker/sim/): each is applied to a temporary copy of the project, where the
suites it names (the hand-computed tests, the differential tests, an example's stated figures
and golden report) must fail. This file asserts that every snippet still applies exactly once
(a refactoring that loses one fails here, loudly, instead of silently testing nothing), that
the unmutated copy passes every test that killed a mutant, and that every mutant is killed; the table of which
suite killed which mutant is printed and is in the failure message.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from conftest import ROOT


def _load():
    spec = importlib.util.spec_from_file_location("mutate", ROOT / "scripts" / "mutate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["mutate"] = module
    spec.loader.exec_module(module)
    return module


mutate = _load()


@pytest.mark.parametrize("mutation", mutate.MUTATIONS, ids=lambda m: m.name)
def test_every_snippet_occurs_exactly_once(mutation):
    source = (ROOT / mutation.path).read_text(encoding="utf-8")
    mutated = mutate.apply(source, mutation)
    assert mutated != source
    compile(mutated, mutation.path, "exec")


def test_mutations_cover_the_encoder_and_the_core():
    paths = {m.path for m in mutate.MUTATIONS}
    assert "checker/encode.py" in paths
    assert sum(p.startswith("checker/sim/") for p in paths) >= 3
    assert len({m.name for m in mutate.MUTATIONS}) == len(mutate.MUTATIONS)


def test_a_snippet_is_matched_whatever_its_spacing_and_only_once():
    m = mutate.Mutation("t", "x.py", 'return f(a, "b") * 2', "return 0")
    assert mutate.apply('def g():\n    return f(\n        a, \'b\'\n    )*2\n', m) == "def g():\n    return 0\n"
    with pytest.raises(mutate.SnippetError, match="occurs 2 times"):
        mutate.apply('return f(a, "b") * 2\nreturn f(a,"b")*2\n', m)
    with pytest.raises(mutate.SnippetError, match="occurs 0 times"):
        mutate.apply('return f(ab, "b") * 2\n', m)  # tokens must match, not just characters


def test_every_mutant_is_killed():
    base, outcomes = mutate.run_all(mutate.MUTATIONS, workers=2)
    table = "\n".join(mutate.line(o) for o in outcomes)
    print("\n" + table)
    assert not base.killed_by, f"the unmutated project fails its suites: {base.killed_by}"
    assert not [o for o in outcomes if o.error], table
    survivors = [o.mutation.name for o in outcomes if not o.killed_by]
    assert not survivors, f"mutants no suite kills: {survivors}\n{table}"
