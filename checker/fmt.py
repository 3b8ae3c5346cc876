"""``verify fmt``: one canonical layout for .spec files.

The formatter works on the token stream of the real parser (the grammar in grammars/spec.lark,
lexed by the same contextual lexer, with positions) and on token *classes* — brackets,
separators, operators, words — never on grammar rules, so a statement or block kind the
language grows later is laid out without a change here. The layout:

- **Line structure is the author's.** Which statements and members share a line (with ``;``)
  and which get a line of their own is kept: the formatter never joins or splits lines. Runs of
  blank lines collapse to one; blank lines at the start and end of the file go. A ``;`` that
  separates nothing (at the end of a line, after ``{``, before ``}``, doubled) is dropped.
- **Indentation** is 2 spaces per open ``{``. When a ``{`` has a member after it on its own line
  and the block goes on over more lines, those lines hang under that first member.
- **Spacing**: one space between tokens, except none before ``) , ; : .`` and after ``( .``,
  none between a function's name and its ``(``, and none after a unary minus. A number and its
  unit are one space apart (``30%`` becomes ``30 %``). Tokens are written as they were
  (numbers, units and names are never respelled).
- **Alignment** (tab-stop style) among consecutive lines of the same block with the same shape:
  the first ``=`` of a line (``heat        = 1 MW``), the text after a claim's ``:``
  (``check grid:       ...``), the ``{`` of one-line blocks and sections
  (``power   { ... }``), and the members after each ``;`` when consecutive one-line rows list
  the same fields in the same order (a table). Blank lines and comment lines end a run.
- **Comments** are kept verbatim (trailing spaces removed). A whole-line comment is indented
  like the code around it. A trailing comment keeps the column it was written at (so
  hand-aligned comments stay aligned), at least two spaces after the code; trailing comments
  written at one column on consecutive lines move together when a line's code grows.
- Line endings become LF; the file ends with exactly one newline.

Formatting is idempotent, and refuses a file that does not parse. As a safety net, the result
is parsed again and its tokens (without separators) must equal the input's, or nothing is
written.
"""

from __future__ import annotations

from checker import codes

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from checker.diagnostics import Diagnostic, Span, SpecError, error, excerpt
from checker.parse import decode, parse_text, source_lines

# token classes, by text: the formatter's only knowledge of the language
NO_SPACE_BEFORE = {")", "]", ",", ";", ":", "."}
NO_SPACE_AFTER = {"(", "[", "."}
OPEN, CLOSE = "{", "}"
SEPARATOR = ";"
OPERAND_END = {"NUMBER", "UNIT", "NAME"}  # a '-' after one of these is binary; else unary
COMMENT_GAP = 2


class FormatError(Exception):
    """The formatter would change what the spec says: a bug, never written to disk."""


@dataclass
class _Tok:
    type: str
    text: str
    line: int  # 1-based source line
    column: int  # 0-based source column


@dataclass
class _Line:
    tokens: list[_Tok] = field(default_factory=list)
    comment: str | None = None
    comment_column: int = 0  # where the comment was written (0-based)
    blank: bool = False
    # filled in by the layout
    key: tuple = ()  # the innermost open brace this line lives in
    cells: list[str] = field(default_factory=list)
    anchors: list[tuple] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # token index where each cell starts
    text: str = ""


def format_text(path: str, text: str) -> str:
    """The canonical layout of a spec's text. Raises SpecError when it does not parse."""
    parse_text(path, text)  # the usual diagnostics for a file that does not parse
    tokens = _tokens(text)
    lines = _lines(text, tokens)
    out = _layout(lines)
    _same_tokens(path, text, out)
    return out


def _tokens(text: str) -> list[_Tok]:
    from checker.parse import _parser

    interactive = _parser().parse_interactive(text)
    found = [_Tok(t.type, str(t), t.line, t.column - 1) for t in interactive.iter_parse() if t.type != "$END"]
    interactive.feed_eof()
    return found


def _significant(text: str) -> list[tuple[str, str]]:
    return [(t.type, t.text) for t in _tokens(text) if t.type != "_NL" and t.text != SEPARATOR]


def _same_tokens(path: str, before: str, after: str) -> None:
    try:
        parse_text(path, after)
        same = _significant(before) == _significant(after)
    except SpecError:
        same = False
    if not same:
        raise FormatError("the formatted text does not say the same as the input")


def _lines(text: str, tokens: list[_Tok]) -> list[_Line]:
    """Source lines as token lists, each with its trailing (or whole-line) comment."""
    source = source_lines(text)
    lines = [_Line() for _ in source]
    for token in tokens:
        if token.type != "_NL":
            lines[token.line - 1].tokens.append(token)
    for number, line in enumerate(lines):
        raw = source[number]
        start = line.tokens[-1].column + len(line.tokens[-1].text) if line.tokens else 0
        hash_at = raw.find("#", start)
        if hash_at >= 0:
            line.comment = raw[hash_at:].rstrip()
            line.comment_column = hash_at
        line.tokens = _drop_empty_separators(line.tokens)
        line.blank = not line.tokens and line.comment is None
    return lines


def _drop_empty_separators(tokens: list[_Tok]) -> list[_Tok]:
    kept: list[_Tok] = []
    for i, token in enumerate(tokens):
        if token.text == SEPARATOR:
            following = tokens[i + 1].text if i + 1 < len(tokens) else None
            if not kept or kept[-1].text in (SEPARATOR, OPEN) or following in (None, SEPARATOR, CLOSE):
                continue
        kept.append(token)
    return kept


def _space(previous: _Tok, before_previous: _Tok | None, token: _Tok) -> str:
    if token.text in NO_SPACE_BEFORE or previous.text in NO_SPACE_AFTER:
        return ""
    if token.text == "(" and previous.type == "NAME":
        return ""  # a call: min(a, b)
    if previous.text == "-" and (before_previous is None or not (before_previous.type in OPERAND_END or before_previous.text in (")", "]"))):
        return ""  # unary minus
    return " "


def _cells(line: _Line) -> None:
    """Split a line's tokens into cells at its alignment anchors, with the anchors' shapes.

    A cell ends before the first '{' (after a header) and before the first '=' of a line: those
    tokens are aligned themselves ('heat        = 1 MW', 'power   { ... }'); it ends after the
    first ':' and after each ';': what follows them is aligned ('check grid:       x <= y')."""
    tokens = line.tokens
    cells, anchors, starts = [], [], [0]
    current = ""
    seen_open = seen_colon = False
    depth = 0  # parentheses
    for i, token in enumerate(tokens):
        gap = _space(tokens[i - 1], tokens[i - 2] if i >= 2 else None, token) if i else ""
        anchor = None
        if depth == 0 and i > 0:
            if token.text == OPEN and not seen_open and current:
                anchor = ("{",)
            elif token.text == "=" and not seen_open and not anchors and SEPARATOR not in (t.text for t in tokens[:i]):
                anchor = ("=",)
        if anchor is not None:
            cells.append(current)
            anchors.append(anchor)
            starts.append(i)
            current = token.text
        else:
            current += (gap if current else "") + token.text
        if token.text in ("(", "["):
            depth += 1
        elif token.text in (")", "]"):
            depth = max(depth - 1, 0)
        elif token.text == OPEN:
            seen_open = True
        if depth == 0 and i + 1 < len(tokens):
            after = None
            if token.text == ":" and not seen_colon and not seen_open:
                seen_colon = True
                after = (":",)
            elif token.text == SEPARATOR:
                after = (";", tokens[i + 1].text)  # a table column: the same field in every row
            if after is not None:
                cells.append(current)
                anchors.append(after)
                starts.append(i + 1)
                current = ""
    cells.append(current)
    line.cells, line.anchors, line.starts = cells, anchors, starts


def _layout(lines: list[_Line]) -> str:
    # 1. which block each line lives in (the key of its innermost open brace), from the brackets
    stack: list[tuple[int, int]] = []  # (line index, token index) of each open '{'
    for number, line in enumerate(lines):
        leading = 0
        while leading < len(line.tokens) and line.tokens[leading].text == CLOSE:
            leading += 1
        for token in line.tokens[:leading]:
            if stack:
                stack.pop()
        line.key = stack[-1] if stack else ()
        for index, token in enumerate(line.tokens[leading:], start=leading):
            if token.text == OPEN:
                stack.append((number, index))
            elif token.text == CLOSE and stack:
                stack.pop()
        _cells(line)
    # 2. alignment: tab stops over runs of consecutive lines of one block with the same shape
    _align(lines)
    # 3. indentation, line by line: a block's lines hang under its first member when it has one
    indent_of: dict[tuple, int] = {(): 0}
    opened_at: dict[tuple, int] = {}  # the indent of the line a block opened on
    stack = []
    for number, line in enumerate(lines):
        if line.blank:
            line.text = ""
            continue
        leading = 0
        while leading < len(line.tokens) and line.tokens[leading].text == CLOSE:
            leading += 1
        closed = None
        for _ in range(leading):
            if stack:
                closed = stack.pop()
        key = stack[-1] if stack else ()
        # a line that starts by closing a block sits where that block opened
        indent = opened_at.get(closed, 0) if closed is not None else indent_of.get(key, 0)
        code = _join(line)
        columns = _columns(line, indent)
        for index, token in enumerate(line.tokens[leading:], start=leading):
            if token.text == OPEN:
                stack.append((number, index))
                opened_at[(number, index)] = indent
                following = index + 1 < len(line.tokens) and line.tokens[index + 1].text != CLOSE
                indent_of[(number, index)] = columns[index + 1] if following else indent + 2
            elif token.text == CLOSE and stack:
                stack.pop()
        line.text = " " * indent + (code or (line.comment or ""))
    _place_comments(lines)
    # 4. blank lines: runs collapse to one, none at the start or the end
    out: list[str] = []
    for line in lines:
        if line.blank and (not out or out[-1] == ""):
            continue
        out.append(line.text.rstrip())
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n" if out else ""


def _align(lines: list[_Line]) -> None:
    column = 0
    while True:
        present = False
        run: list[_Line] = []
        for line in [*lines, None]:
            fits = line is not None and bool(line.tokens) and len(line.anchors) > column
            present = present or fits
            if fits and run and (line.key != run[0].key or line.anchors[: column + 1] != run[0].anchors[: column + 1]):
                _pad(run, column)
                run = []
            if fits:
                run.append(line)
            else:
                _pad(run, column)
                run = []
        if not present:
            return
        column += 1


def _pad(run: list[_Line], column: int) -> None:
    if len(run) < 2:
        return
    width = max(len(line.cells[column]) for line in run)
    for line in run:
        line.cells[column] = line.cells[column].ljust(width)


def _join(line: _Line) -> str:
    return " ".join(line.cells) if line.tokens else ""


def _columns(line: _Line, indent: int) -> list[int]:
    """The column of every token of a line as laid out."""
    offsets = [0]
    for cell in line.cells:
        offsets.append(offsets[-1] + len(cell) + 1)
    cell_at = {start: offsets[k] for k, start in enumerate(line.starts)}
    columns: list[int] = []
    position = indent
    tokens = line.tokens
    for i, token in enumerate(tokens):
        if i in cell_at:
            position = indent + cell_at[i]
        else:
            position += len(_space(tokens[i - 1], tokens[i - 2] if i >= 2 else None, token))
        columns.append(position)
        position += len(token.text)
    return columns


def _place_comments(lines: list[_Line]) -> None:
    """Trailing comments keep their column, two spaces after the code at least; comments written
    at one column on consecutive lines stay aligned."""
    group: list[_Line] = []

    def flush() -> None:
        if group:
            target = max([group[0].comment_column] + [len(line.text.rstrip()) + COMMENT_GAP for line in group])
            for line in group:
                line.text = line.text.rstrip().ljust(target) + line.comment
        group.clear()

    for line in lines:
        trailing = line.comment is not None and bool(line.tokens)
        if trailing and group and line.comment_column == group[0].comment_column:
            group.append(line)
        else:
            flush()
            if trailing:
                group.append(line)
    flush()


# ---- the command ----------------------------------------------------------------------------

EXIT_OK, EXIT_CHANGED, EXIT_INVALID, EXIT_ERROR = 0, 1, 2, 4


def _spec_files(paths: list[str], stderr: TextIO) -> tuple[list[str], bool]:
    files: list[str] = []
    missing = False
    for path in paths:
        if path == "-":
            files.append(path)
        elif os.path.isdir(path):
            files.extend(sorted(str(p) for p in Path(path).rglob("*.spec") if p.is_file()))
        elif os.path.exists(path):
            files.append(path)
        else:
            stderr.write(f"verify fmt: error: no such file or directory: {path}\n")
            missing = True
    return files, missing


def _show(diagnostic: Diagnostic, lines: tuple[str, ...], stderr: TextIO) -> None:
    stderr.write(diagnostic.header() + "\n")
    shown = excerpt(diagnostic.span, lines)
    if shown:
        stderr.write(shown + "\n")
    for note in diagnostic.notes:
        stderr.write(f"  note: {note}\n")


def format_bytes(path: str, data: bytes) -> tuple[str, str]:
    """(the text as read, its canonical layout); SpecError when it cannot be read or parsed."""
    text = decode(path, data)
    return text, format_text(path, text)


def atomic_write(path: str, text: str) -> None:
    """Write next to the file, then rename over it: a reader never sees half a spec."""
    target = Path(path)
    mode = target.stat().st_mode & 0o7777
    temporary = target.with_name(f".{target.name}.{os.getpid()}.fmt")
    try:
        with open(temporary, "x", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def run(argv: list[str], stdout: TextIO, stderr: TextIO, stdin=None) -> int:
    """``verify fmt [--check] PATH...``: 0 nothing to change (or rewritten), 1 with --check when
    a file would change, 2 a file does not parse, 4 usage or internal error."""
    import argparse

    from checker.cli import _Parser

    parser = _Parser(
        prog="verify fmt",
        description="Rewrite .spec files in the canonical layout (see spec/language.md, 'verify fmt').",
        epilog="exit codes: 0 done (with --check: nothing would change); 1 with --check: a file would change (listed);\n"
        "2 a file does not parse (nothing is written to it); 4 usage error, a missing path or an unwritable file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="spec files, directories to search for *.spec files, or - to format standard input to standard output")
    parser.add_argument("--check", action="store_true", help="change nothing: list the files that would change and exit 1 if any would")
    args = parser.parse_args(argv)
    if args.paths.count("-") > 1:
        stderr.write("verify fmt: error: standard input (-) can be given only once\n")
        return EXIT_ERROR
    files, missing = _spec_files(args.paths, stderr)
    if not files and not missing:
        stderr.write("verify fmt: error: no .spec files found\n")
        return EXIT_ERROR
    exits = [EXIT_ERROR] if missing else []
    for path in files:
        exits.append(_one(path, args.check, stdout, stderr, stdin))
    order = (EXIT_OK, EXIT_CHANGED, EXIT_INVALID, EXIT_ERROR)
    return max(exits, key=order.index, default=EXIT_OK)


def _one(path: str, check: bool, stdout: TextIO, stderr: TextIO, stdin) -> int:
    name = "<stdin>" if path == "-" else path
    try:
        if path == "-":
            stream = sys.stdin if stdin is None else stdin
            data = getattr(stream, "buffer", stream).read()
            data = data.encode("utf-8") if isinstance(data, str) else data
        else:
            data = Path(path).read_bytes()
    except OSError as exc:
        stderr.write(f"verify fmt: error: cannot read {name}: {exc.strerror or 'read error'}\n")
        return EXIT_ERROR
    try:
        text, formatted = format_bytes(name, data)
    except SpecError as exc:
        _show(exc.diagnostic, source_lines(data.decode("utf-8", "replace")), stderr)
        stderr.write(f"verify fmt: {name}: not formatted: it does not parse\n")
        return EXIT_INVALID
    except RecursionError:
        _show(error(Span(name, 1, 1, 1, 1), codes.TOO_LARGE, "the spec is nested too deeply to format"), (), stderr)
        return EXIT_INVALID
    except FormatError:
        stderr.write(f"verify fmt: internal error: formatting {name} would change what it says; it is left as it is. This is a bug in verify, please report it with the spec\n")
        return EXIT_ERROR
    original = data.decode("utf-8")
    if path == "-":
        if check:
            if formatted != original:
                stdout.write(f"{name}\n")
                return EXIT_CHANGED
            return EXIT_OK
        stdout.write(formatted)
        return EXIT_OK
    if formatted == original:
        return EXIT_OK
    if check:
        stdout.write(f"{path}\n")
        return EXIT_CHANGED
    try:
        atomic_write(path, formatted)
    except OSError as exc:
        stderr.write(f"verify fmt: error: cannot write {path}: {exc.strerror or 'write error'}\n")
        return EXIT_ERROR
    stderr.write(f"verify fmt: reformatted {path}\n")
    return EXIT_OK
