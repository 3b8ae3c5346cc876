"""The catalog of bad inputs behind the friendly syntax messages (Lark's ``match_examples``).

A parse error is put in words by finding which kind of mistake below reaches the same parser
state (same LALR state, same stack depth, same acceptable next tokens) as the error at hand;
:mod:`checker.parse` then words the message for that kind. Nothing here imports Lark and nothing
here names a Lark terminal: a kind is defined only by the short inputs that show it, so a grammar
change that moves an error to another state makes an example stop matching its own kind, and
tests/test_syntax_examples.py says which one.

Lark compares stack depths, so an example only stands for errors at its own depth: each
mistake is therefore shown in the few contexts it is made in (first statement, after other
statements, after a comment; first member of a block, a later one, inside a section; a plain
left side of a claim or one after an operator). An error no example reaches gets the generic
"expected X, found Y" in words.

Each file in tests/bad/ that is a syntax error names its kind in a header comment
``# syntax: KIND`` and must be matched to that kind, so the catalog and the golden reports
cannot drift apart.
"""

from __future__ import annotations

# ---- the kinds of mistake (the names the tests/bad/*.spec headers use) ----------------------

UNKNOWN_STATEMENT = "unknown-statement"  # a statement that starts with a word that starts none
UNCLOSED_BRACE = "unclosed-brace"  # a statement word inside a block: its '{' was never closed
MISSING_EQUALS = "missing-equals"  # a field name followed by its value without '='
RANGE_MISSING_END = "range-missing-end"  # '..' with nothing after it
SI_PREFIX = "si-prefix"  # '16M token': an SI prefix glued to a number, then the unit
COMPARISON_ARROW = "comparison-arrow"  # '=>', '=<' or '=' where a comparison goes
MISSING_COMPARISON = "missing-comparison"  # a claim with one side and no comparison

# ---- where the examples are set ------------------------------------------------------------


def _each(starts: tuple[str, ...], mistakes: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(start + mistake for start in starts for mistake in mistakes)


# a file starts with a statement or with comments (a header comment adds a level to the stack)
_FILE_STARTS = ("", "# a comment\n")

# text before a statement: the first one, after a block, after a block and a claim
_STATEMENT_STARTS = _each(_FILE_STARTS, ("", "radiator p {}\n", "radiator p {}\ncheck c: a <= 1\n"))

# text before a block: the first statement, or after another one
_BLOCK_STARTS = _each(_FILE_STARTS, ("", "radiator q {}\n"))

# text before a block member: the first (same line or next), after one or two members, in a
# section of a block that follows the file's header comment and another block (the levels a
# header and a block before add are the levels the members before add: they share examples)
_MEMBER_STARTS = (
    "radiator p { ",
    "radiator p {\n  ",
    "radiator p { a = 1; ",
    "radiator p {\n  a = 1\n  ",
    "radiator p {\n  a = 1\n  b = 2\n  ",
) + _each(_BLOCK_STARTS, ("cluster c {\n  network {\n    a = 1\n    ",))

# text inside a block that was never closed, where the next member would start
_OPEN_BLOCKS = (
    "radiator p {\n",
    "radiator p { a = 1;",
    "radiator p {\n  a = 1\n",
    "radiator p {\n  a = 1 m\n  b = 2\n",
    "cluster c { network {\n",
    "cluster c {\n  network {\n    a = 1\n",
)

# the left side of a claim, ending in each kind of operand, plain and after an operator
_LEFT_SIDES = ("p", "p.area", "p.q.area", "1", "1 m^2", "(p)", "f(p)", "f()", "-p", "q + p", "q + p.area", "q + 1", "q * 1 m^2")


# One example per context is enough: Lark matches an error to an example by parser state
# (an exact token match is only preferred), so 'heat 1 MW' also stands for 'heat\n'.
CATALOG: dict[str, tuple[str, ...]] = {
    UNKNOWN_STATEMENT: _each(_STATEMENT_STARTS, ("chek c: a <= 1",)),
    UNCLOSED_BRACE: _each(_each(_BLOCK_STARTS, _OPEN_BLOCKS), ("check c: a <= 1",)),
    MISSING_EQUALS: _each(_MEMBER_STARTS, ("heat 1 MW }",)),
    RANGE_MISSING_END: _each(_MEMBER_STARTS, ("e = 0.85 ..\n}",)),
    SI_PREFIX: _each(_MEMBER_STARTS, ("batch = 16M token }",)),
    COMPARISON_ARROW: _each(_each(_BLOCK_STARTS, ("check c: ",)), tuple(left + " => 1" for left in _LEFT_SIDES)),
    MISSING_COMPARISON: _each(_STATEMENT_STARTS, ("check c: p.area\n",)),
}
