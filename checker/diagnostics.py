"""One diagnostic record for everything the checker says about a spec.

Syntax errors, name and unit errors, broken invariants and solver verdicts all
become a :class:`Diagnostic`: a span, a severity, a message and a stable
kebab-case code that users can grep for. The codes are documented in
spec/language.md; ``CODES`` is the catalogue the tests hold that file to.
"""

from __future__ import annotations

from dataclasses import dataclass

CODES: dict[str, str] = {
    # reading and syntax
    "read-error": "the file cannot be read, or is not UTF-8 text",
    "too-large": "the file, a line, an expression or the number of statements exceeds a limit",
    "syntax": "the text does not follow the grammar",
    "bad-character": "a character that cannot start any token",
    "number-range": "a number literal too large or too small to be meant",
    # names and structure
    "unknown-name": "a reference to a name that is not declared",
    "unknown-field": "a field or derived quantity the block does not have",
    "duplicate": "a name declared twice",
    "missing-field": "a required field is absent",
    "conflicting-fields": "fields that exclude each other are both given",
    "bad-value": "a field's value is not one of the values it accepts",
    "not-constant": "a field needs a plain number where something else was written",
    "not-integer": "a count or other whole number is not a whole number",
    "unknown-function": "a call to a function the language does not have",
    "division-by-zero": "a division by a literal zero",
    # units
    "unknown-unit": "a unit symbol the unit table does not have",
    "unit-mismatch": "two quantities of different dimensions are compared, added or assigned",
    # ranges and vacuity
    "empty-range": "a range whose low end is above its high end (every claim would hold vacuously)",
    "vacuous": "the assumptions contradict each other, so every claim would hold vacuously",
    # built-in invariants (reported as checks)
    "invariant": "a built-in invariant of the model is broken for some value of the unknowns",
    # verdicts
    "violated": "a check has a counterexample",
    "unknown": "the solver could not decide a check",
    "not-established": "a claim that rests on a broken or undecided built-in invariant gets no verdict (never a pass)",
    "inconsistent": "the solver and the simulation core disagree (an internal error)",
    "internal": "a bug in verify while checking this file (exit 4); the other files are still checked",
}

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns are 1-based, end inclusive-exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    span: Span
    severity: str
    code: str
    message: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"undocumented diagnostic code {self.code!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def header(self) -> str:
        return f"{self.span}: {self.severity}: {self.message} [{self.code}]"


class SpecError(Exception):
    """Raised inside the front end to stop at a diagnostic that makes going on pointless."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.header())
        self.diagnostic = diagnostic


def error(span: Span, code: str, message: str, *notes: str) -> Diagnostic:
    return Diagnostic(span, "error", code, message, tuple(notes))


def excerpt(span: Span, lines: tuple[str, ...]) -> str:
    """The source line of a span with a caret line under it, the way rustc and mypy show it."""
    if not 1 <= span.line <= len(lines):
        return ""
    text = lines[span.line - 1].expandtabs(1)
    width = len(str(span.line))
    start = max(span.column, 1)
    if span.end_line == span.line and span.end_column > start:
        length = span.end_column - start
    else:
        length = max(len(text) - start + 1, 1)
    caret = " " * (start - 1) + "^" + "~" * (length - 1)
    pad = " " * width
    return f"{pad} |\n{span.line} | {text}\n{pad} | {caret}"
