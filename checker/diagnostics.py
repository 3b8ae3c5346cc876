"""One diagnostic record for everything the checker says about a spec.

Syntax errors, name and unit errors, broken invariants and solver verdicts all
become a :class:`Diagnostic`: a span, a severity, a message and a stable
kebab-case code that users can grep for. The codes are documented in
spec/language.md; ``CODES`` is the catalogue the tests hold that file to.
"""

from __future__ import annotations


from checker import codes
from checker.records import record

CODES: dict[str, str] = {str(code): code.description for code in codes.ALL}  # for the docs and the formats

SEVERITIES = ("error", "warning", "note")


@record
class Span:
    """A region of a source file; lines and columns are 1-based, end inclusive-exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@record
class Diagnostic:
    span: Span
    severity: str
    code: str
    message: str
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.code, codes.Code):
            raise TypeError(f"a diagnostic code must be one of checker.codes, not {self.code!r}")
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
