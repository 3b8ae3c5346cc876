"""Text to syntax tree. The only module that imports Lark.

The grammar lives in grammars/spec.lark (shipped inside the wheel as
checker/grammars/spec.lark). Lark errors become diagnostics that say in words
what was expected; no Lark object leaves this module.
"""

from __future__ import annotations

import difflib
import pickle
import re
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from checker import codes, nodes
from checker.diagnostics import Span, SpecError, error

MAX_FILE_BYTES = 1 << 20
MAX_LINE_CHARS = 10_000
MAX_NESTING = 64
MAX_STATEMENTS = 2_000
MAX_EXPONENT = 100
MAX_DIGITS = 60
MAX_DEPTH = 100  # levels of the syntax tree: each operator of a chain like 1 + 1 + ... is one
MAX_POOL_GPUS = 10**9

STATEMENT_WORDS = ("check", "assume", "radiator", "gpu", "cluster", "workload", "model")

_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "UNIT": "a unit",
    "COMPARISON": "a comparison (<=, <, >=, >, ==)",
    "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'",
    "_NL": "a new line",
    "$END": "the end of the file",
}


def grammar_path() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammars" / "spec.lark", here.parent / "grammars" / "spec.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("grammars/spec.lark is missing from the installation")


def build_parser(grammar: str | None = None) -> Lark:
    """The LALR parser built from the grammar (with the grammar object, which a parser loaded
    from the cache does not keep)."""
    if grammar is None:
        grammar = grammar_path().read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    """The LALR parser, built once per grammar and Lark version and kept in the user's cache
    directory (see :mod:`checker.cache`): loading it takes about a tenth of building it."""
    import io
    import lark

    from checker import cache

    grammar = grammar_path().read_text(encoding="utf-8")

    def build() -> Lark:
        return build_parser(grammar)

    def save(parser: Lark) -> dict:
        buffer = io.BytesIO()
        parser.save(buffer)
        return pickle.loads(buffer.getvalue())  # Lark's own pickle of plain data: no classes in it

    return cache.parser(grammar, lark.__version__, build, save, Lark.load)


def _describe(terminal: str) -> str:
    if terminal in _WORDS:
        return _WORDS[terminal]
    for definition in _parser().terminals:
        if definition.name == terminal and definition.pattern.type == "str":
            return f"'{definition.pattern.value}'"
    return terminal.lower()


def _join(words: list[str]) -> str:
    words = sorted(set(words))
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def decode(path: str, data: bytes) -> str:
    """Bytes to text: UTF-8 with an optional BOM, no NUL, within the size limits."""
    where = Span(path, 1, 1, 1, 1)
    if len(data) > MAX_FILE_BYTES:
        raise SpecError(error(where, codes.TOO_LARGE, f"the file is {len(data)} bytes; the limit is {MAX_FILE_BYTES}"))
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        column = data.index(b"\x00") - (data.rfind(b"\n", 0, data.index(b"\x00")) + 1) + 1
        raise SpecError(error(Span(path, line, column, line, column + 1), codes.READ_ERROR, "the file contains a NUL byte; a spec is text"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = len(data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")) + 1
        raise SpecError(error(Span(path, line, column, line, column + 1), codes.READ_ERROR, "the file is not valid UTF-8 text")) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    _check_lines(path, text)
    return text


def _check_lines(path: str, text: str) -> None:
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(error(Span(path, 1, 1, 1, 1), codes.TOO_LARGE, f"the text is {len(text)} characters long; the limit is {MAX_FILE_BYTES}"))
    for number, line_text in enumerate(text.split("\n"), start=1):
        if len(line_text) > MAX_LINE_CHARS:
            raise SpecError(error(Span(path, number, 1, number, 2), codes.TOO_LARGE, f"line {number} is {len(line_text)} characters long; the limit is {MAX_LINE_CHARS}"))


def source_lines(text: str) -> tuple[str, ...]:
    return tuple(line.rstrip("\r") for line in text.split("\n"))


def parse_text(path: str, text: str) -> nodes.SpecFile:
    lines = source_lines(text)
    _check_lines(path, text)  # again: check_text may be given text that never went through decode
    _check_nesting(path, text)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise SpecError(_syntax_diagnostic(path, text, exc)) from None
    _check_depth(path, tree)
    statements = tuple(_Builder(path).statement(child) for child in tree.children)
    if len(statements) > MAX_STATEMENTS:
        raise SpecError(error(statements[MAX_STATEMENTS].span, codes.TOO_LARGE, f"the file has {len(statements)} statements; the limit is {MAX_STATEMENTS}"))
    return nodes.SpecFile(path, lines, statements)


def _check_depth(path: str, tree: Tree) -> None:
    """Refuse a syntax tree deeper than MAX_DEPTH before building on it: every later stage walks
    expressions recursively, and a chain like 1 + 1 + ... nests one level per operator."""
    stack: list[tuple[Tree, int, Tree | None]] = [(tree, 0, None)]
    while stack:
        node, depth, top = stack.pop()
        top = top or (node if node.data in ("binary", "negate", "call", "range") else None)
        if depth > MAX_DEPTH:
            raise SpecError(error(_span(path, top or node), codes.TOO_LARGE, f"this expression nests more than {MAX_DEPTH} levels deep (each operator in a chain like 1 + 1 + ... is a level)"))
        stack.extend((child, depth + 1, top) for child in node.children if isinstance(child, Tree))


def _check_nesting(path: str, text: str) -> None:
    """Refuse deep nesting before parsing, so no later stage can run out of stack."""
    depth = 0
    line, column = 1, 0
    in_comment = False
    for char in text:
        column += 1
        if char == "\n":
            line, column, in_comment = line + 1, 0, False
            continue
        if in_comment:
            continue
        if char == "#":
            in_comment = True
        elif char in "({":
            depth += 1
            if depth > MAX_NESTING:
                raise SpecError(error(Span(path, line, column, line, column + 1), codes.TOO_LARGE, f"brackets nest more than {MAX_NESTING} deep"))
        elif char in ")}":
            depth = max(depth - 1, 0)


def _unclosed_brace(text: str) -> tuple[int, int] | None:
    stack: list[tuple[int, int]] = []
    for number, line in enumerate(text.split("\n"), start=1):
        for column, char in enumerate(line, start=1):
            if char == "#":
                break
            if char == "{":
                stack.append((number, column))
            elif char == "}" and stack:
                stack.pop()
    return stack[-1] if stack else None


def _text_before(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    before = "\n".join(lines[: line - 1] + [lines[line - 1][: column - 1] if line - 1 < len(lines) else ""])
    return re.sub(r"#[^\n]*", "", before).rstrip()


def _syntax_diagnostic(path: str, text: str, exc: UnexpectedInput):
    line, column = max(exc.line, 1), max(exc.column, 1)
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        shown = repr(char)[1:-1] if not char.isprintable() or char == "'" else char
        notes = _CHARACTER_NOTES.get(char, ())
        return error(Span(path, line, column, line, column + 1), codes.BAD_CHARACTER, f"unexpected character '{shown}'", *notes)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        token = exc.token
        expected = set(exc.expected)
        found = _found(token)
        span = Span(path, token.line, token.column, token.end_line or token.line, token.end_column or token.column + 1)
        if {"CHECK", "RADIATOR"} <= expected or (token.type == "NAME" and "ASSUME" in expected):
            close = difflib.get_close_matches(str(token), STATEMENT_WORDS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return error(span, codes.SYNTAX, f"unknown statement {found}: a statement starts with {_join(list(STATEMENT_WORDS))}{hint}")
        before = _text_before(text, token.line, token.column)
        prefixed = re.search(r"(?<![A-Za-z0-9_.])([0-9]+(?:\.[0-9]+)?)([kKMGTPE])$", before)
        if prefixed and token.type in ("NAME", "UNIT"):
            digits, prefix = prefixed.groups()
            power = {"k": 3, "K": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}[prefix]
            return error(span, codes.SYNTAX, f"'{digits}{prefix} {token}': SI prefixes belong to units, not numbers; write {digits}e{power} {token}")
        if token.type == "EQUAL" or str(token) == "=":
            following = text[token.end_pos : token.end_pos + 1] if token.end_pos is not None else ""
            guess = {">": ">=", "<": "<="}.get(following, "==")
            if "COMPARISON" in expected:
                return error(span, codes.SYNTAX, f"expected a comparison, found '={following if following in '<>' else ''}'; did you mean '{guess}'?")
        if "RBRACE" in expected and str(token) in STATEMENT_WORDS:
            opened = _unclosed_brace(before)
            where = f" on line {opened[0]}" if opened else ""
            return error(span, codes.SYNTAX, f"the '{{'{where} is never closed: expected '}}' before '{token}'")
        if before.endswith(".."):
            return error(span, codes.SYNTAX, f"a range needs both ends: expected a number after '..', found {found}")
        if "EQUAL" in expected and "LBRACE" in expected:
            return error(span, codes.SYNTAX, f"expected '=' after the field name, found {found}")
        return error(span, codes.SYNTAX, f"expected {_join([_describe(t) for t in expected])}, found {found}")
    # the end of the file came too early
    expected = set(getattr(exc, "expected", ()) or ())
    opened = _unclosed_brace(text)
    if opened is not None:
        o_line, o_column = opened
        return error(Span(path, o_line, o_column, o_line, o_column + 1), codes.SYNTAX, "this '{' is never closed: expected '}' before the end of the file")
    last = max(len(source_lines(text)), 1)
    words = _join([_describe(t) for t in expected]) or "more text"
    if _text_before(text, last + 1, 1).endswith(".."):
        words = "a number after '..' (a range needs both ends)"
    return error(Span(path, line, column, line, column + 1), codes.SYNTAX, f"unexpected end of file: expected {words}")


# what a character that starts no token probably meant
_CHARACTER_NOTES: dict[str, tuple[str, ...]] = {
    "$": ("money is written with the unit USD after the number, e.g. '2.6 USD/h' or '5e9 USD/yr'",),
    "\u00b0": ("temperatures are absolute kelvin: write '300.15 K' for 27 °C",),
    "\u2264": ("write '<=' for ≤",),
    "\u2265": ("write '>=' for ≥",),
    "\u00d7": ("write 'x' between a pool's count and its GPU, or '*' to multiply",),
}


def _found(token: Token) -> str:
    if token.type == "_NL":
        return "the end of the line"
    if token.type == "$END":
        return "the end of the file"
    return f"'{token}'"


def _span(path: str, item: Tree | Token) -> Span:
    if isinstance(item, Token):
        return Span(path, item.line, item.column, item.end_line, item.end_column)
    meta = item.meta
    return Span(path, meta.line, meta.column, meta.end_line, meta.end_column)


def number(path: str, token: Token) -> Fraction:
    text = str(token)
    mantissa, _, exponent = text.lower().partition("e")
    if len(mantissa) > MAX_DIGITS or (exponent and abs(int(exponent)) > MAX_EXPONENT):
        raise SpecError(error(_span(path, token), codes.NUMBER_RANGE, f"the number {text[:40]} is out of range: at most {MAX_DIGITS} digits and exponents within ±{MAX_EXPONENT}"))
    return Fraction(text)


class _Builder:
    """Lark tree to :mod:`checker.nodes`, one method per grammar rule."""

    def __init__(self, path: str) -> None:
        self.path = path

    def span(self, item: Tree | Token) -> Span:
        return _span(self.path, item)

    def statement(self, tree: Tree) -> nodes.Statement:
        return self.block(tree) if tree.data == "block" else self.claim(tree)

    def block(self, tree: Tree) -> nodes.Block:
        kind_tree, name, *rest = tree.children
        on = rest[0] if len(rest) == 2 else None
        body = rest[-1]
        return nodes.Block(
            kind=str(kind_tree.children[0]),
            name=str(name),
            on=str(on.children[0]) if on is not None else None,
            members=self.body(body),
            span=self.span(tree),
            name_span=self.span(name),
            on_span=self.span(on.children[0]) if on is not None else None,
        )

    def body(self, tree: Tree) -> tuple[nodes.Member, ...]:
        return tuple(getattr(self, child.data)(child) for child in tree.children)

    def field(self, tree: Tree) -> nodes.Field:
        name, value = tree.children
        built = self.range(value) if isinstance(value, Tree) and value.data == "range" else self.expr(value)
        return nodes.Field(str(name), built, self.span(tree), self.span(name))

    def range(self, tree: Tree) -> nodes.Range:
        low, high = tree.children
        return nodes.Range(self.expr(low), self.expr(high), self.span(tree))

    def pool(self, tree: Tree) -> nodes.Pool:
        name, count, gpu = tree.children
        value = number(self.path, count)
        if value > MAX_POOL_GPUS:
            raise SpecError(error(self.span(count), codes.NUMBER_RANGE, f"a pool of {str(count)[:40]} GPUs is out of range: at most {MAX_POOL_GPUS:,} GPUs in a pool".replace(",", " ")))
        return nodes.Pool(str(name), value, str(gpu), self.span(tree), self.span(name), self.span(count), self.span(gpu))

    def section(self, tree: Tree) -> nodes.Section:
        name, body = tree.children
        return nodes.Section(str(name), self.body(body), self.span(tree), self.span(name))

    def claim(self, tree: Tree) -> nodes.Claim:
        kind_tree, name, left, op, right = tree.children
        return nodes.Claim(str(kind_tree.children[0]), str(name), self.expr(left), str(op), self.expr(right), self.span(tree), self.span(name))

    def expr(self, item: Tree | Token) -> nodes.Expr:
        kind = item.data
        if kind == "quantity":
            value, *unit = item.children
            return nodes.Quantity(number(self.path, value), str(unit[0]) if unit else None, self.span(item), self.span(unit[0]) if unit else None)
        if kind == "ref":
            return nodes.Ref(tuple(str(p) for p in item.children), self.span(item), tuple(self.span(p) for p in item.children))
        if kind == "binary":
            left, op, right = item.children
            return nodes.Binary(str(op), self.expr(left), self.expr(right), self.span(item))
        if kind == "negate":
            return nodes.Negate(self.expr(item.children[0]), self.span(item))
        if kind == "call":
            name, *args = item.children
            return nodes.Call(str(name), tuple(self.expr(a) for a in args), self.span(item), self.span(name))
        raise AssertionError(f"grammar rule {kind!r} has no builder")  # internal: grammar and builder disagree
