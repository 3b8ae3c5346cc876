"""Every diagnostic code, as a module constant (mypy's errorcodes.py is the model).

A code is written once here, with what it means; everything else names the constant
(``codes.SYNTAX``), so a misspelt code is an AttributeError, and a test holds every
``codes.X`` in the package to this module. Codes are stable, kebab-case, and documented in
spec/language.md (a test holds that file to this one too).
"""

from __future__ import annotations


class Code(str):
    """A diagnostic code: its kebab-case name (what users grep for) and what it means."""

    description: str

    def __new__(cls, name: str, description: str) -> "Code":
        code = super().__new__(cls, name)
        code.description = description
        return code

    def __reduce__(self):  # a pickled code (a cached result, a worker's result) is the constant itself
        return (_named, (str(self),))


def _named(name: str) -> Code:
    return BY_NAME[name]


READ_ERROR = Code("read-error", "the file cannot be read, or is not UTF-8 text")
TOO_LARGE = Code("too-large", "the file, a line, an expression or the number of statements exceeds a limit")
SYNTAX = Code("syntax", "the text does not follow the grammar")
BAD_CHARACTER = Code("bad-character", "a character that cannot start any token")
NUMBER_RANGE = Code("number-range", "a number literal too large or too small to be meant")
UNKNOWN_NAME = Code("unknown-name", "a reference to a name that is not declared")
UNKNOWN_FIELD = Code("unknown-field", "a field or derived quantity the block does not have")
DUPLICATE = Code("duplicate", "a name declared twice")
MISSING_FIELD = Code("missing-field", "a required field is absent")
CONFLICTING_FIELDS = Code("conflicting-fields", "fields that exclude each other are both given")
BAD_VALUE = Code("bad-value", "a field's value is not one of the values it accepts")
NOT_CONSTANT = Code("not-constant", "a field needs a plain number where something else was written")
NOT_INTEGER = Code("not-integer", "a count or other whole number is not a whole number")
UNKNOWN_FUNCTION = Code("unknown-function", "a call to a function the language does not have")
DIVISION_BY_ZERO = Code("division-by-zero", "a division by a literal zero")
UNKNOWN_UNIT = Code("unknown-unit", "a unit symbol the unit table does not have")
BARE_SHARE = Code("bare-share", "a share written as a bare number above 1, where a forgotten % is likely (a warning)")
UNIT_MISMATCH = Code("unit-mismatch", "two quantities of different dimensions are compared, added or assigned")
EMPTY_RANGE = Code("empty-range", "a range whose low end is above its high end (every claim would hold vacuously)")
VACUOUS = Code("vacuous", "the assumptions contradict each other, so every claim would hold vacuously")
INVARIANT = Code("invariant", "a built-in invariant of the model is broken for some value of the unknowns")
VIOLATED = Code("violated", "a check has a counterexample")
UNKNOWN = Code("unknown", "the solver could not decide a check")
NOT_ESTABLISHED = Code("not-established", "a claim that rests on a broken or undecided built-in invariant gets no verdict (never a pass)")
INCONSISTENT = Code("inconsistent", "the solver and the simulation core disagree (an internal error)")
BAD_IMPORT = Code("bad-import", "an import that is not followed: an absolute path, a path leaving the repository root (also through a symbolic link), a missing file, a directory")
CYCLE = Code("cycle", "files that import each other, or blocks that start from each other, in a loop")
INTERNAL = Code("internal", "a bug in verify while checking this file (exit 4); the other files are still checked")
FIND_TARGET = Code("find-target", "a find statement searches something it cannot: a field that is not a range, or a workload without a layout")

ALL: tuple[Code, ...] = (BARE_SHARE, READ_ERROR, TOO_LARGE, SYNTAX, BAD_CHARACTER, NUMBER_RANGE, UNKNOWN_NAME, UNKNOWN_FIELD, DUPLICATE, MISSING_FIELD, CONFLICTING_FIELDS, BAD_VALUE, NOT_CONSTANT, NOT_INTEGER, UNKNOWN_FUNCTION, DIVISION_BY_ZERO, UNKNOWN_UNIT, UNIT_MISMATCH, EMPTY_RANGE, VACUOUS, INVARIANT, VIOLATED, UNKNOWN, NOT_ESTABLISHED, INCONSISTENT, INTERNAL, BAD_IMPORT, CYCLE, FIND_TARGET)
BY_NAME: dict[str, Code] = {str(code): code for code in ALL}
