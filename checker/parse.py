"""Text to syntax tree. The only module that imports Lark.

The grammar lives in grammars/spec.lark (shipped inside the wheel as
checker/grammars/spec.lark). Lark errors become diagnostics that say in words
what was expected; no Lark object leaves this module.
"""

from __future__ import annotations

import pickle
import re
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from checker import codes, nodes, syntax_examples
from checker.diagnostics import Span, SpecError, error

MAX_FILE_BYTES = 1 << 20
MAX_LINE_CHARS = 10_000
MAX_NESTING = 64
MAX_STATEMENTS = 2_000
MAX_EXPONENT = 100
MAX_DIGITS = 60
MAX_DEPTH = 100  # levels of the syntax tree: each operator of a chain like 1 + 1 + ... is one
MAX_POOL_GPUS = 10**9

STATEMENT_WORDS = ("check", "assume", "find", "radiator", "gpu", "cluster", "workload", "model", "import", "from")

_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "PATH": 'a quoted path, e.g. "catalog/gpus.spec"',
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


_END = "$END"  # Lark's token for the end of the text


@lru_cache(maxsize=1)
def _example_errors() -> dict[str, UnexpectedInput]:
    """Each catalog example's parse error, computed once per process: match_examples would
    otherwise re-parse every example (and recompute what each accepts) for every error."""
    errors: dict[str, UnexpectedInput] = {}
    for examples in syntax_examples.CATALOG.values():
        for example in examples:
            try:
                _parser().parse(example)
            except UnexpectedInput as exc:
                errors[example] = exc.with_traceback(None)
    return errors  # an example that parses is left out here; tests/test_syntax_examples.py fails on it


@lru_cache(maxsize=1)
def _examples_by_state() -> dict[object, tuple[tuple[str, str], ...]]:
    """The catalog's (kind, example) pairs grouped by the parser state their errors stop in."""
    groups: dict[object, list[tuple[str, str]]] = {}
    errors = _example_errors()
    for kind, examples in syntax_examples.CATALOG.items():
        for example in examples:
            if example in errors:
                groups.setdefault(_state_key(errors[example]), []).append((kind, example))
    return {key: tuple(pairs) for key, pairs in groups.items()}


def _state_key(exc: UnexpectedInput) -> object:
    """What match_examples compares first (LALR state and stack depth), as a dictionary key."""
    state = getattr(exc, "state", None)
    stack = getattr(state, "state_stack", None)
    return (type(exc).__name__, getattr(state, "position", state), len(stack) if stack is not None else None)


def _replay(example: str) -> None:
    """match_examples' parse function: raise the example's cached error instead of re-parsing."""
    cached = _example_errors().get(example)
    if cached is not None:
        raise cached.with_traceback(None)


def syntax_kind(exc: UnexpectedInput) -> str | None:
    """The catalog kind (checker.syntax_examples) whose examples reach exc's parser state, if any.

    match_examples (use_accepts=True) decides; it is offered only the examples that stop in the
    same state and accept the same next tokens, which is its own first test done up front: that
    keeps it from re-parsing the whole catalog, computes what an example accepts only when its
    state matches, and avoids lark 1.3's match_examples formatting a debug message with '%d'
    and a ParserState (a TypeError) when it rejects an example on what it accepts."""
    if isinstance(exc, UnexpectedCharacters):
        return None
    errors = _example_errors()
    accepts = exc.accepts if isinstance(exc, UnexpectedToken) else None
    candidates: dict[str, list[str]] = {}
    for kind, example in _examples_by_state().get(_state_key(exc), ()):
        other = errors[example]
        if (other.accepts if isinstance(other, UnexpectedToken) else None) == accepts:
            candidates.setdefault(kind, []).append(example)
    if candidates:
        return exc.match_examples(_replay, candidates, token_type_match_fallback=True, use_accepts=True)
    return _same_state_at_another_depth(exc, accepts)


def _same_state_at_another_depth(exc: UnexpectedInput, accepts: object) -> str | None:
    """Lark's match needs the same stack depth, and comment lines, members and nesting before
    the error all deepen the stack; so when no example is at exc's depth, the examples in the
    same LALR state accepting the same tokens at any depth decide -- if they agree on a kind."""
    key = _state_key(exc)
    errors = _example_errors()
    kinds = {
        kind
        for other_key, pairs in _examples_by_state().items()
        if other_key[:2] == key[:2]  # type: ignore[index]
        for kind, example in pairs
        if (errors[example].accepts if isinstance(errors[example], UnexpectedToken) else None) == accepts
    }
    return kinds.pop() if len(kinds) == 1 else None


def syntax_error_kind(text: str) -> str | None:
    """The catalog kind of text's parse error (None: it parses, or no example matches). For tests."""
    try:
        _parser().parse(text)
    except UnexpectedInput as exc:
        return syntax_kind(exc)
    return None


def _syntax_diagnostic(path: str, text: str, exc: UnexpectedInput):
    line, column = max(exc.line, 1), max(exc.column, 1)
    if isinstance(exc, UnexpectedCharacters):
        char = text[exc.pos_in_stream] if exc.pos_in_stream < len(text) else "?"
        shown = repr(char)[1:-1] if not char.isprintable() or char == "'" else char
        notes = _CHARACTER_NOTES.get(char, ())
        return error(Span(path, line, column, line, column + 1), codes.BAD_CHARACTER, f"unexpected character '{shown}'", *notes)
    token: Token = exc.token
    at_end = token.type == _END
    if at_end:
        opened = _unclosed_brace(text)
        if opened is not None:  # whatever was being written, the first thing to fix is the brace
            o_line, o_column = opened
            return error(Span(path, o_line, o_column, o_line, o_column + 1), codes.SYNTAX, "this '{' is never closed: expected '}' before the end of the file")
        span = Span(path, line, column, line, column + 1)
    else:
        span = Span(path, token.line, token.column, token.end_line or token.line, token.end_column or token.column + 1)
    kind = syntax_kind(exc)
    message = _MESSAGES[kind](text, token) if kind is not None else None
    if message is None:
        expected = getattr(exc, "accepts", None) or getattr(exc, "expected", None) or ()
        words = _join([_describe(t) for t in expected])
        if at_end:
            message = f"unexpected end of file: expected {words or 'more text'}"
        else:
            message = f"expected {words}, found {_found(token)}"
    return error(span, codes.SYNTAX, message)


# ---- the words for each kind of mistake: (text, token) -> message, or None for the generic one


def _unknown_statement(text: str, token: Token) -> str:
    import difflib  # only for a misspelt name: not on a cold start's path
    close = difflib.get_close_matches(str(token), STATEMENT_WORDS, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown statement {_found(token)}: a statement starts with {_join(list(STATEMENT_WORDS))}{hint}"


def _unclosed_before_statement(text: str, token: Token) -> str | None:
    if str(token) not in STATEMENT_WORDS:
        return None
    opened = _unclosed_brace(_text_before(text, token.line, token.column))
    where = f" on line {opened[0]}" if opened else ""
    return f"the '{{'{where} is never closed: expected '}}' before '{token}'"


def _missing_equals(text: str, token: Token) -> str:
    return f"expected '=' after the field name, found {_found(token)}"


def _range_missing_end(text: str, token: Token) -> str:
    return f"a range needs both ends: expected a number after '..', found {_found(token)}"


def _si_prefix(text: str, token: Token) -> str | None:
    """'16M token': the number and the prefix glued to it, read back from the text."""
    before = _text_before(text, token.line, token.column)
    prefixed = re.search(r"(?<![A-Za-z0-9_.])([0-9]+(?:\.[0-9]+)?)([kKMGTPE])$", before)
    if prefixed is None or not re.fullmatch(r"[A-Za-z\u00b5%].*", str(token)):
        return None
    digits, prefix = prefixed.groups()
    power = {"k": 3, "K": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}[prefix]
    return f"'{digits}{prefix} {token}': SI prefixes belong to units, not numbers; write {digits}e{power} {token}"


def _comparison_arrow(text: str, token: Token) -> str | None:
    """'=>', '=<' or '=': which comparison was meant, read from the character after the '='."""
    if str(token) != "=":
        return None
    following = text[token.end_pos : token.end_pos + 1] if token.end_pos is not None else ""
    following = following if following in ("<", ">") else ""
    guess = {">": ">=", "<": "<="}.get(following, "==")
    return f"expected a comparison, found '={following}'; did you mean '{guess}'?"


def _missing_comparison(text: str, token: Token) -> str:
    return f"expected a comparison ({_WORDS_COMPARISON}) after the left side of the claim, found {_found(token)}"


_WORDS_COMPARISON = "<=, <, >=, >, =="

_MESSAGES = {
    syntax_examples.UNKNOWN_STATEMENT: _unknown_statement,
    syntax_examples.UNCLOSED_BRACE: _unclosed_before_statement,
    syntax_examples.MISSING_EQUALS: _missing_equals,
    syntax_examples.RANGE_MISSING_END: _range_missing_end,
    syntax_examples.SI_PREFIX: _si_prefix,
    syntax_examples.COMPARISON_ARROW: _comparison_arrow,
    syntax_examples.MISSING_COMPARISON: _missing_comparison,
}


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
        if tree.data in ("import_as", "import_names"):
            return self.import_(tree)
        if tree.data == "find":
            return self.find(tree)
        return self.block(tree) if tree.data == "block" else self.claim(tree)

    def import_(self, tree: Tree) -> nodes.Import:
        path, *names = tree.children
        alias = str(names[0]) if tree.data == "import_as" else None
        return nodes.Import(str(path)[1:-1], alias, () if alias else tuple(str(n) for n in names), self.span(tree), self.span(path), tuple(self.span(n) for n in names))

    def qualified(self, parts: list[Token]) -> tuple[str, Span]:
        """`H100` or `cat.H100` (a name from an imported file), with the span of all of it."""
        first, last = self.span(parts[0]), self.span(parts[-1])
        return ".".join(str(p) for p in parts), Span(self.path, first.line, first.column, last.end_line, last.end_column)

    def block(self, tree: Tree) -> nodes.Block:
        kind_tree, name, *rest = tree.children
        parts = {child.data: self.qualified(child.children) for child in rest[:-1]}
        on, base = parts.get("on"), parts.get("base")
        body = rest[-1]
        return nodes.Block(
            kind=str(kind_tree.children[0]),
            name=str(name),
            on=on[0] if on is not None else None,
            members=self.body(body),
            span=self.span(tree),
            name_span=self.span(name),
            on_span=on[1] if on is not None else None,
            base=base[0] if base is not None else None,
            base_span=base[1] if base is not None else None,
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
        name, count, *gpu_parts = tree.children
        value = number(self.path, count)
        if value > MAX_POOL_GPUS:
            raise SpecError(error(self.span(count), codes.NUMBER_RANGE, f"a pool of {str(count)[:40]} GPUs is out of range: at most {MAX_POOL_GPUS:,} GPUs in a pool".replace(",", " ")))
        gpu, gpu_span = self.qualified(gpu_parts)
        return nodes.Pool(str(name), value, gpu, self.span(tree), self.span(name), self.span(count), gpu_span)

    def section(self, tree: Tree) -> nodes.Section:
        name, body = tree.children
        return nodes.Section(str(name), self.body(body), self.span(tree), self.span(name))

    def claim(self, tree: Tree) -> nodes.Claim:
        kind_tree, name, left, op, right = tree.children
        return nodes.Claim(str(kind_tree.children[0]), str(name), self.expr(left), str(op), self.expr(right), self.span(tree), self.span(name))

    def find(self, tree: Tree) -> nodes.Find:
        words = [c for c in tree.children if isinstance(c, Token)]
        name = words[1]
        trees = [c for c in tree.children if isinstance(c, Tree)]
        if str(words[3]) == "best":  # find NAME : best layout of WORKLOAD maximizing REF
            workload, goal = words[6], words[7]
            return nodes.Find(str(name), str(goal), self.expr(trees[0]), None, None, None, self.span(tree), self.span(name), str(workload), self.span(workload))
        goal = words[3]
        op = next(w for w in words if w.type == "COMPARISON")
        target, left, right = trees
        return nodes.Find(str(name), str(goal), self.expr(target), self.expr(left), str(op), self.expr(right), self.span(tree), self.span(name))

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
