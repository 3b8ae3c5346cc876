"""``verify lsp``: a small language server over standard input and output.

JSON-RPC 2.0 with ``Content-Length`` framing, written with the standard library only (no extra
dependency). It implements: initialize, initialized, shutdown, exit, textDocument/didOpen,
didChange (full sync), didSave, didClose, hover and definition, and publishes diagnostics.

Diagnostics come from the real pipeline. Solving can take seconds, so:
- on every change, the buffer is parsed and resolved (syntax, names, units, ranges: fast), and
  those diagnostics are published at once;
- on open and on save, the full check runs (checker.api.check_text: the solver and the
  simulation core): a violated check or broken invariant is an error at the claim, an unknown or
  not-established one a warning, a proved check a hint with its worst case. These verdicts stay
  until the next change (they would point at stale places after it) and come back on save.

Hover on a block's name lists its quantities with their units; on a reference such as
``panel.area`` it shows the quantity's unit and meaning, its range when it is an unknown, and the
worst case a check of the last full run found for it. Definition jumps from a reference, a
pool's GPU or ``workload W on C`` to the block's name.
"""

from __future__ import annotations

from checker import codes

import json
import sys
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO
from urllib.parse import unquote, urlparse

from checker import nodes, registry
from checker import units as u
from checker.diagnostics import Diagnostic, Span, SpecError

SEVERITY = {"error": 1, "warning": 2, "note": 3}
HINT = 4
MAX_HEADER = 8192
MAX_BODY = 16 << 20


class ProtocolError(Exception):
    """The stream is not LSP framing: the server stops (exit 1)."""


def read_message(stream: BinaryIO) -> dict | None:
    """One framed message, or None at the end of the stream."""
    length = None
    seen = 0
    while True:
        line = stream.readline(MAX_HEADER)
        if not line:
            return None
        seen += len(line)
        if seen > MAX_HEADER:
            raise ProtocolError("header too long")
        line = line.strip()
        if not line:
            if length is None:
                continue  # stray blank line between messages
            break
        name, _, value = line.decode("ascii", "replace").partition(":")
        if name.strip().lower() == "content-length":
            try:
                length = int(value.strip())
            except ValueError:
                raise ProtocolError("bad Content-Length") from None
    if not 0 <= length <= MAX_BODY:
        raise ProtocolError("Content-Length out of range")
    body = stream.read(length)
    if len(body) < length:
        return None
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {"__invalid__": True}
    return message if isinstance(message, dict) else {"__invalid__": True}


def write_message(stream: BinaryIO, message: dict) -> None:
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    stream.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stream.flush()


def uri_to_path(uri: str) -> str:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else uri


# ---- positions: spans are 1-based code points; LSP is 0-based UTF-16 units ---------------------


def _utf16(line: str, column: int) -> int:
    return len(line[: max(column - 1, 0)].encode("utf-16-le")) // 2


def to_range(span: Span, lines: tuple[str, ...] | list[str]) -> dict:
    def position(line: int, column: int) -> dict:
        text = lines[line - 1] if 1 <= line <= len(lines) else ""
        return {"line": max(line - 1, 0), "character": _utf16(text, column)}

    start = position(span.line, span.column)
    end = position(span.end_line, span.end_column) if (span.end_line, span.end_column) > (span.line, span.column) else {"line": start["line"], "character": start["character"] + 1}
    return {"start": start, "end": end}


def from_position(lines: tuple[str, ...] | list[str], position: dict) -> tuple[int, int]:
    """(1-based line, 1-based column in code points) of an LSP position."""
    line = int(position.get("line", 0)) + 1
    want = int(position.get("character", 0))
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    units = 0
    for index, char in enumerate(text):
        if units >= want:
            return line, index + 1
        units += 2 if ord(char) > 0xFFFF else 1
    return line, len(text) + 1


def _inside(span: Span | None, line: int, column: int) -> bool:
    return span is not None and (span.line, span.column) <= (line, column) < (span.end_line, span.end_column)


# ---- a document --------------------------------------------------------------------------------


@dataclass
class Document:
    uri: str
    text: str
    lines: tuple[str, ...] = ()
    spec: nodes.SpecFile | None = None
    model: object = None
    result: object = None  # the last full check of this very text (FileResult)
    diagnostics: list[dict] = field(default_factory=list)


def _lsp_diagnostic(d: Diagnostic, lines) -> dict:
    message = d.message + "".join(f"\n{note}" for note in d.notes)
    return {"range": to_range(d.span, lines), "severity": SEVERITY.get(d.severity, 1), "code": d.code, "source": "verify", "message": message}


def quick(doc: Document) -> list[dict]:
    """Parse and resolve only: syntax, names, units, ranges."""
    from checker.parse import parse_text, source_lines
    from checker.resolve import resolve

    doc.lines = source_lines(doc.text)
    doc.spec = doc.model = doc.result = None
    try:
        doc.spec = parse_text(uri_to_path(doc.uri), doc.text)
    except SpecError as exc:
        return [_lsp_diagnostic(exc.diagnostic, doc.lines)]
    except RecursionError:
        return [{"range": to_range(Span("", 1, 1, 1, 2), doc.lines), "severity": 1, "code": str(codes.TOO_LARGE), "source": "verify", "message": "the spec is nested too deeply to check"}]
    from checker import imports

    path = uri_to_path(doc.uri)
    loaded = imports.load(doc.spec)
    model, diagnostics = (None, []) if any(d.severity == "error" for d in loaded.diagnostics) else resolve(loaded.spec)
    doc.model = model
    return [_lsp_diagnostic(_here(d, doc.spec, path), doc.lines) for d in [*loaded.diagnostics, *(loaded.annotate(d) for d in diagnostics)]]


def _here(d: Diagnostic, spec: nodes.SpecFile, path: str) -> Diagnostic:
    """A diagnostic inside an imported file, shown at this file's first import with where it is."""
    if d.span.file == path:
        return d
    import dataclasses

    first = next((s.span for s in spec.statements if isinstance(s, nodes.Import)), Span(path, 1, 1, 1, 2))
    return dataclasses.replace(d, span=first, message=f"{d.span}: {d.message}")


def full(doc: Document, limits=None) -> list[dict]:
    """The whole pipeline, verdicts included."""
    from checker.api import check_text
    from checker.solve import Limits, Status

    found = quick(doc)
    if doc.model is None:
        return found
    result = check_text(uri_to_path(doc.uri), doc.text, limits or Limits())
    doc.result = result
    out = [_lsp_diagnostic(_here(d, doc.spec, uri_to_path(doc.uri)), doc.lines) for d in result.diagnostics]
    for v in result.verdicts:
        if v.claim.kind == "invariant" and v.status == Status.PROVED:
            continue
        severity = {Status.VIOLATED: 1, Status.UNKNOWN: 2, Status.NOT_ESTABLISHED: 2}.get(v.status, HINT)
        code = {Status.VIOLATED: "invariant" if v.claim.kind == "invariant" else "violated", Status.UNKNOWN: "unknown", Status.NOT_ESTABLISHED: "not-established"}.get(v.status, "proved")
        out.append({"range": to_range(v.claim.span, doc.lines), "severity": severity, "code": code, "source": "verify", "message": _verdict_message(result, v)})
    return out


def _verdict_message(result, verdict) -> str:
    label = "invariant" if verdict.claim.kind == "invariant" else "check"
    try:
        from checker import report

        detail = report._verdict_detail(result, verdict)
    except Exception:  # noqa: BLE001 - the report is optional here; the verdict is not
        detail = []
    if not detail:
        return f"{label} '{verdict.claim.name}' is {verdict.status}"
    head = detail[0].split(": ", 2)[-1].rsplit(" [", 1)[0]
    body = [line.strip() for chunk in detail[1:] for line in chunk.split("\n") if line.strip() and "|" not in line[:8]]
    return "\n".join([head, *body])


# ---- what is under the cursor ------------------------------------------------------------------


def _blocks(spec: nodes.SpecFile) -> dict[str, nodes.Block]:
    return {s.name: s for s in spec.statements if isinstance(s, nodes.Block)}


def _exprs(expr):
    yield expr
    for child in (getattr(expr, "left", None), getattr(expr, "right", None), getattr(expr, "operand", None), getattr(expr, "low", None), getattr(expr, "high", None)):
        if child is not None:
            yield from _exprs(child)
    for arg in getattr(expr, "args", ()):
        yield from _exprs(arg)


def _members(members):
    for member in members:
        yield member
        if isinstance(member, nodes.Section):
            yield from _members(member.members)


def target(spec: nodes.SpecFile, line: int, column: int):
    """What the position names: ("block", name, span) or ("quantity", path, span), else None."""
    for statement in spec.statements:
        if isinstance(statement, nodes.Block):
            if _inside(statement.name_span, line, column):
                return ("block", statement.name, statement.name_span)
            if _inside(statement.on_span, line, column):
                return ("block", statement.on, statement.on_span)
            for member in _members(statement.members):
                if isinstance(member, nodes.Pool) and _inside(member.gpu_span, line, column):
                    return ("block", member.gpu, member.gpu_span)
            if statement.base_span is not None and _inside(statement.base_span, line, column):
                return ("block", statement.base, statement.base_span)
            continue
        if not isinstance(statement, (nodes.Claim, nodes.Find)):
            continue
        sides = (statement.left, statement.right, getattr(statement, "target", None))  # a find names its target too
        for expr in (e for side in sides if side is not None for e in _exprs(side)):
            if isinstance(expr, nodes.Ref) and len(expr.parts) > 1:
                for index, span in enumerate(expr.part_spans):
                    if _inside(span, line, column):
                        if index == 0:
                            return ("block", expr.parts[0], span)
                        if index == 1 and _namespace(spec, expr.parts[0]):
                            return ("block", ".".join(expr.parts[:2]), span)
                        return ("quantity", expr.parts, expr.span)
    return None


def _namespace(spec: nodes.SpecFile, name: str) -> bool:
    return any(isinstance(s, nodes.Import) and s.alias == name for s in spec.statements)


def definition(doc: Document, line: int, column: int) -> Span | None:
    """Where the name under the cursor is declared: in this file, or in a file it imports (the
    span then names that file, relative to this one's path)."""
    if doc.spec is None:
        return None
    found = target(doc.spec, line, column)
    if found is None:
        return None
    name = found[1] if found[0] == "block" else found[1][0]
    if found[0] == "quantity" and _namespace(doc.spec, name):
        name = ".".join(found[1][:2])
    block = _blocks(doc.spec).get(name)
    if block is not None:
        return block.name_span
    from checker import imports

    declared = imports.declaration(doc.spec, name)
    return declared.name_span if declared is not None else None


def _unit(dim) -> str:
    if dim.dimensionless:
        return "a plain number"
    return u.canonical_name(dim)


def hover(doc: Document, line: int, column: int) -> tuple[str, Span] | None:
    if doc.spec is None:
        return None
    found = target(doc.spec, line, column)
    if found is None:
        return None
    kind, what, span = found
    if kind == "block":
        return _block_hover(doc, what), span
    return _quantity_hover(doc, what), span


def _given(block, path: tuple[str, ...]) -> bool:
    """Whether a path names a field the block was given (a radiator's temperature, say), not
    the derived quantity of the same name."""
    from checker import model as m

    table, holder, name = registry.field_holder(block, path)
    return table is not None and isinstance(getattr(holder, name, None), m.Param)


def _model_block(doc: Document, name: str):
    if doc.model is None:
        return None
    try:
        return doc.model.block(name)
    except KeyError:
        return None


def _block_hover(doc: Document, name: str) -> str:
    block = _blocks(doc.spec).get(name)
    resolved = _model_block(doc, name)
    if block is None:
        from checker import imports

        block = imports.declaration(doc.spec, name)  # declared in an imported file
    if block is None:
        from checker.catalog import CATALOG

        if name in CATALOG:
            peak, memory, tdp, what = CATALOG[name]
            return f"**gpu {name}** (built-in catalog): {what}\n\npeak {peak / 10**12} TFLOP/s, memory {memory / 10**9} GB, tdp {tdp} W"
        return f"'{name}' is not declared in this file"
    head = f"**{block.kind} {name}**" + (f" on {block.on}" if block.on else "")
    if resolved is None:
        return head + "\n\n(the quantities are listed once the file resolves)"
    names = registry.namespace(resolved)
    family = registry.family_of(resolved)
    rows = []
    for path, dim in names.items():
        is_derived = registry.find(family, path) is not None and not _given(resolved, path)
        rows.append(f"- `{name}.{'.'.join(path)}`: {_unit(dim)}" + (" (derived)" if is_derived else ""))
    return head + "\n\n" + "\n".join(rows)


def _quantity_hover(doc: Document, path: tuple[str, ...]) -> str:
    shown = ".".join(path)
    resolved = _model_block(doc, path[0])
    if resolved is None:
        return f"`{shown}`"
    rest = path[1:]
    dim = registry.namespace(resolved).get(rest)
    if dim is None:
        return f"`{shown}`: {registry.family_of(resolved)} '{path[0]}' has no such quantity"
    family = registry.family_of(resolved)
    entry = registry.find(family, rest)
    lines = [f"`{shown}`: {_unit(dim)}"]
    if entry is not None and not _given(resolved, rest):
        lines.append(f"derived: {entry.doc}")
    else:
        table, holder, name = registry.field_holder(resolved, rest)
        spec = registry.spec_of(table, name) if table else None
        if spec is not None:
            lines.append(f"field: {spec.doc}")
    unknown = next((x for x in getattr(doc.model, "unknowns", ()) if x.id == shown), None)
    if unknown is not None:
        from checker.report import quantity

        lines.append(f"ranges over {quantity(unknown.low, dim, unknown.unit)} .. {quantity(unknown.high, dim, unknown.unit)}")
    lines.extend(_worst_cases(doc, shown, dim))
    return "\n\n".join(lines)


def _worst_cases(doc: Document, shown: str, dim) -> list[str]:
    result = doc.result
    if result is None:
        return []
    from checker.report import quantity

    out = []
    for v in result.verdicts:
        if v.claim.kind != "check" or v.worst is None:
            continue
        comparison = v.claim.conditions[0]
        left = (comparison.left_text or "").replace(" ", "")
        if left == shown:
            word = "highest" if v.worst.maximize else "lowest"
            try:
                from checker.report import _preferred

                unit = _preferred(comparison)
            except Exception:  # noqa: BLE001 - only the unit it is shown in
                unit = None
            out.append(f"worst case ({word}, check '{v.claim.name}', last full check): {quantity(v.worst.value, dim, unit)}")
    return out


# ---- the server ---------------------------------------------------------------------------------


class Server:
    def __init__(self, out: BinaryIO, limits=None) -> None:
        self.out = out
        self.limits = limits
        self.documents: dict[str, Document] = {}
        self.shutdown = False

    def send(self, message: dict) -> None:
        write_message(self.out, {"jsonrpc": "2.0", **message})

    def publish(self, doc: Document, diagnostics: list[dict]) -> None:
        doc.diagnostics = diagnostics
        self.send({"method": "textDocument/publishDiagnostics", "params": {"uri": doc.uri, "diagnostics": diagnostics}})

    def handle(self, message: dict) -> int | None:
        """Handle one message; an exit code when the server should stop."""
        if message.get("__invalid__"):
            self.send({"id": None, "error": {"code": -32700, "message": "parse error: the body is not a JSON object"}})
            return None
        method = message.get("method")
        ident = message.get("id")
        params = message.get("params") or {}
        if method == "exit":
            return 0 if self.shutdown else 1
        try:
            result = self.dispatch(method, params if isinstance(params, dict) else {})
        except _NoMethod:
            if ident is not None:
                self.send({"id": ident, "error": {"code": -32601, "message": f"method not supported: {method}"}})
            return None
        except Exception:  # noqa: BLE001 - one bad request must not take the editor's server down
            if ident is not None:
                self.send({"id": ident, "error": {"code": -32603, "message": "internal error in verify while handling this request; this is a bug, please report it"}})
            return None
        if ident is not None and method is not None:
            self.send({"id": ident, "result": result})
        return None

    def dispatch(self, method: str | None, params: dict):
        if method == "initialize":
            from checker import __version__

            return {
                "capabilities": {
                    "textDocumentSync": {"openClose": True, "change": 1, "save": {"includeText": False}},
                    "hoverProvider": True,
                    "definitionProvider": True,
                },
                "serverInfo": {"name": "verify", "version": __version__},
            }
        if method == "shutdown":
            self.shutdown = True
            return None
        if method in ("initialized", "$/cancelRequest", "$/setTrace", "workspace/didChangeConfiguration"):
            return None
        document = params.get("textDocument") or {}
        uri = document.get("uri")
        if method == "textDocument/didOpen":
            doc = self.documents[uri] = Document(uri, str(document.get("text", "")))
            self.publish(doc, full(doc, self.limits))
            return None
        if method == "textDocument/didChange":
            doc = self.documents.get(uri)
            changes = params.get("contentChanges") or []
            if doc is None or not changes:
                return None
            doc.text = str(changes[-1].get("text", ""))  # full sync: the last change is the whole text
            self.publish(doc, quick(doc))
            return None
        if method == "textDocument/didSave":
            doc = self.documents.get(uri)
            if doc is not None:
                if isinstance(params.get("text"), str):
                    doc.text = params["text"]
                self.publish(doc, full(doc, self.limits))
            return None
        if method == "textDocument/didClose":
            doc = self.documents.pop(uri, None)
            if doc is not None:
                self.publish(doc, [])
            return None
        if method in ("textDocument/hover", "textDocument/definition"):
            doc = self.documents.get(uri)
            if doc is None:
                return None
            line, column = from_position(doc.lines, params.get("position") or {})
            if method == "textDocument/hover":
                found = hover(doc, line, column)
                return None if found is None else {"contents": {"kind": "markdown", "value": found[0]}, "range": to_range(found[1], doc.lines)}
            span = definition(doc, line, column)
            if span is not None and span.file != uri_to_path(uri):  # declared in an imported file
                from pathlib import Path

                other = Path(span.file)
                try:
                    lines = tuple(other.read_text(encoding="utf-8").split("\n"))
                except (OSError, UnicodeDecodeError):
                    return None
                return {"uri": other.resolve().as_uri(), "range": to_range(span, lines)}
            return None if span is None else {"uri": uri, "range": to_range(span, doc.lines)}
        if method is None or method.startswith("$/"):
            return None
        raise _NoMethod(method)


class _NoMethod(Exception):
    pass


def serve(stdin: BinaryIO, stdout: BinaryIO, limits=None) -> int:
    server = Server(stdout, limits)
    while True:
        try:
            message = read_message(stdin)
        except ProtocolError:
            return 1
        if message is None:
            return 0 if server.shutdown else 1
        code = server.handle(message)
        if code is not None:
            return code


def run(argv: list[str], stdout: TextIO, stderr: TextIO, stdin=None) -> int:
    """``verify lsp``: serve on the process's standard input and output until 'exit'."""
    import argparse

    from checker.cli import _Parser

    parser = _Parser(
        prog="verify lsp",
        description="A language server for .spec files over standard input and output (LSP, JSON-RPC with Content-Length framing). "
        "Every change is parsed and resolved; the full check (solver and simulation) runs on open and on save.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stdio", action="store_true", help="accepted for editors that pass it; standard input and output are the only transport")
    parser.parse_args(argv)
    source = getattr(stdin if stdin is not None else sys.stdin, "buffer", stdin if stdin is not None else sys.stdin)
    sink = getattr(stdout, "buffer", stdout)
    return serve(source, sink)
