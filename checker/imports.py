"""Imports between spec files, and blocks derived from other blocks.

``import "catalog/gpus.spec" as cat`` makes the blocks of that file available as ``cat.NAME``;
``from "catalog/gpus.spec" import H100, B200`` brings those blocks in under their own names.
``gpu H100_800W from H100 { tdp = 800 W }`` starts a block from another of the same kind (a
block of this file, an imported one, or a built-in GPU) and overrides fields, pools and section
fields by name.

This module turns the checked file and the files it imports into one syntax tree for the
resolver: the checked file's blocks and claims, plus the imported blocks it uses (and what
those use), each named as the checked file names it (``cat.H100``; a block used only inside an
imported file is named after that file, ``gpus.G``), every derived block written out in full.
An imported file's own claims are not checked by its importer: they are checked when that file
is checked itself (``verify DIR`` checks every file once).

Safety (spec/language.md, "Imports"): a path is relative to the importing file, ends in
``.spec`` and stays inside the repository root -- the nearest directory, from the checked file's
up, that holds one of :data:`MARKERS`, else the checked file's own directory. An absolute path,
a path whose ``..`` leaves the root, a symbolic link resolving outside it, a missing file, a
directory and a cycle are errors at the import; nothing outside the root is ever opened. One
check reads at most :data:`MAX_FILES` files. Each file is parsed once per process (a memo keyed
by its path and bytes; the runner loads every file's imports before it forks its workers).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from checker import catalog, codes, nodes
from checker.diagnostics import Diagnostic, Span, SpecError, error

MARKERS = (".git", "verify.toml", ".verify-root")  # what marks the repository root
MAX_FILES = 64  # files one check may read, the checked file included
STDIN = "<stdin>"

_PARSED: dict[tuple[str, bytes], nodes.SpecFile | Diagnostic] = {}


def find_root(start: str) -> str:
    """The repository root for a file in directory `start`: the nearest ancestor (itself
    included) holding a marker, else `start`."""
    here = os.path.abspath(start)
    probe = here
    while True:
        if any(os.path.lexists(os.path.join(probe, marker)) for marker in MARKERS):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def parse_once(path: str, data: bytes) -> nodes.SpecFile:
    """decode + parse, memoized on the path and the bytes: a file imported by many specs of one
    run is parsed once in this process. Raises SpecError as parse_text does."""
    from checker.parse import decode, parse_text

    key = (path, hashlib.sha256(data).digest())
    if key not in _PARSED:
        try:
            _PARSED[key] = parse_text(path, decode(path, data))
        except SpecError as exc:
            _PARSED[key] = exc.diagnostic
        except RecursionError:
            _PARSED[key] = error(Span(path, 1, 1, 1, 1), codes.TOO_LARGE, "the spec is nested too deeply to check")
    found = _PARSED[key]
    if isinstance(found, Diagnostic):
        raise SpecError(found)
    return found


@dataclass(eq=False)
class _Unit:
    """One file of the check."""

    path: str  # as shown in diagnostics: joined to the importing file's path and normalised
    absolute: str  # lexical absolute path (symbolic links not followed)
    spec: nodes.SpecFile | None = None
    data: bytes = b""
    chain: tuple[Span, ...] = ()  # the import statements leading here from the checked file
    blocks: dict[str, nodes.Block] = field(default_factory=dict)
    aliases: dict[str, "_Unit"] = field(default_factory=dict)
    names: dict[str, tuple["_Unit", str]] = field(default_factory=dict)


@dataclass
class Loaded:
    spec: nodes.SpecFile  # what the resolver checks
    diagnostics: list[Diagnostic]
    sources: dict[str, tuple[str, ...]]  # every imported file's lines, by the path in its spans
    files: list[tuple[str, bytes]]  # every imported file's bytes, for the result cache's key
    root: str = ""
    inherited: list[tuple[Span, str, Span, str]] = field(default_factory=list)  # member span, block, its span, base

    def annotate(self, diagnostic: Diagnostic) -> Diagnostic:
        """A diagnostic with where it came from: the chain of imports of the file it points into,
        and the blocks that inherit the field it points at."""
        notes = list(diagnostic.notes)
        for span, child, child_span, base in self.inherited:
            if _inside(diagnostic.span, span):
                note = f"inherited by '{child}' ({child_span.file}:{child_span.line}) from '{base}'"
                if note not in notes:
                    notes.append(note)
        chain = self._chains.get(diagnostic.span.file)
        if chain:
            notes.append("imported via " + " → ".join(f"{s.file}:{s.line}:{s.column}" for s in chain) + f" → {diagnostic.span.file}")
        return dataclasses.replace(diagnostic, notes=tuple(notes))

    _chains: dict[str, tuple[Span, ...]] = field(default_factory=dict)


def _inside(inner: Span, outer: Span) -> bool:
    return inner.file == outer.file and (outer.line, outer.column) <= (inner.line, inner.column) and (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)


def uses_imports(spec: nodes.SpecFile) -> bool:
    return any(isinstance(s, nodes.Import) or (isinstance(s, nodes.Block) and s.base is not None) for s in spec.statements)


def load(spec: nodes.SpecFile) -> Loaded:
    """The checked file with its imports brought in and its derived blocks written out."""
    if not uses_imports(spec):
        return Loaded(spec, [], {}, [])
    return _Loader(spec).run()


def declaration(spec: nodes.SpecFile, name: str) -> nodes.Block | None:
    """The block a name of this file means when an imported file declares it (`cat.H100`, or a
    name imported with `from`): for an editor's go-to-definition. None when it is not imported."""
    if not any(isinstance(s, nodes.Import) for s in spec.statements):
        return None
    loader = _Loader(spec)
    loader._open(loader.top, [os.path.realpath(loader.top.absolute)])
    found = loader._lookup(loader.top, name, Span(spec.path, 1, 1, 1, 1))
    return found[0].blocks[found[1]] if found is not None and found[0] is not loader.top else None


def dependencies(path: str, data: bytes) -> list[tuple[str, bytes]]:
    """The files a spec imports, directly or not, with their bytes (and the root it was checked
    against): what its result depends on besides its own bytes. Empty when it does not parse,
    and, without parsing, when the word `import` is nowhere in it."""
    if b"import" not in data:
        return []
    try:
        spec = parse_once(path, data)
    except SpecError:
        return []
    loaded = load(spec)
    return [("<root>", loaded.root.encode("utf-8", "surrogateescape"))] + loaded.files if loaded.files or loaded.root else []


class _Loader:
    def __init__(self, spec: nodes.SpecFile) -> None:
        top = os.getcwd() if spec.path == STDIN else os.path.dirname(os.path.abspath(spec.path))
        self.root = find_root(top)
        self.real_root = os.path.realpath(self.root)
        absolute = os.path.join(os.getcwd(), "<stdin>") if spec.path == STDIN else os.path.abspath(spec.path)
        self.top = _Unit(spec.path, absolute, spec)
        self.units: dict[str, _Unit] = {}  # by real path
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[tuple[Span, str]] = set()
        self.canon: dict[tuple[int, str], str] = {}
        self.idents: dict[int, str] = {}
        self.used_idents: set[str] = set()
        self.emitted: dict[tuple[int, str], str] = {}
        self.out: list[nodes.Block] = []
        self.expanding: list[tuple[tuple[int, str], str]] = []
        self.expanded: dict[int, tuple[tuple[nodes.Member, ...], str | None, Span | None]] = {}
        self.inherited: list[tuple[Span, str, Span, str]] = []
        self.full = False  # MAX_FILES reached

    def fail(self, span: Span, code: str, message: str, *notes: str) -> None:
        if (span, message) not in self.reported:
            self.reported.add((span, message))
            self.diagnostics.append(error(span, code, message, *notes))

    # ---- reading the files ---------------------------------------------------------------

    def run(self) -> Loaded:
        self._open(self.top, [os.path.realpath(self.top.absolute)])
        statements: list[nodes.Statement] = []
        if not any(d.severity == "error" for d in self.diagnostics):
            self._name_top()
            for statement in self.top.spec.statements:
                if isinstance(statement, nodes.Block):
                    self.emitted.setdefault((id(self.top), statement.name), statement.name)
                    statements.append(self._expand(self.top, statement, statement.name))
                elif isinstance(statement, nodes.Claim):
                    statements.append(dataclasses.replace(statement, left=self._expr(statement.left), right=self._expr(statement.right)))
                elif isinstance(statement, nodes.Find):
                    statements.append(self._find(statement))
            statements += self.out
        spec = nodes.SpecFile(self.top.spec.path, self.top.spec.lines, tuple(statements))
        units = sorted(self.units.values(), key=lambda u: u.path)
        loaded = Loaded(spec, self.diagnostics, {u.path: u.spec.lines for u in units if u.spec is not None}, [(u.path, u.data) for u in units], self.root, self.inherited)
        loaded._chains = {u.path: u.chain for u in units}
        loaded.diagnostics[:] = [loaded.annotate(d) for d in loaded.diagnostics]
        return loaded

    def _open(self, unit: _Unit, stack: list[str]) -> None:
        """Read the imports of `unit` (already parsed), depth first."""
        assert unit.spec is not None
        for statement in unit.spec.statements:
            if isinstance(statement, nodes.Block):
                unit.blocks.setdefault(statement.name, statement)
        for statement in unit.spec.statements:
            if not isinstance(statement, nodes.Import):
                continue
            target = self._follow(unit, statement, stack)
            if target is None or target.spec is None:
                continue
            if statement.alias is not None:
                span = statement.name_spans[0]
                if statement.alias in unit.blocks or statement.alias in unit.aliases or statement.alias in unit.names:
                    self.fail(span, codes.DUPLICATE, f"'{statement.alias}' is already a name in this file")
                else:
                    unit.aliases[statement.alias] = target
                continue
            for name, span in zip(statement.names, statement.name_spans):
                if name not in target.blocks:
                    self.fail(span, codes.UNKNOWN_NAME, f"{target.path} declares no block '{name}'{_suggest(name, target.blocks)}")
                elif name in unit.blocks:
                    self.fail(span, codes.DUPLICATE, f"'{name}' is already declared on line {unit.blocks[name].span.line}")
                elif name in unit.names and unit.names[name] != (target, name):
                    self.fail(span, codes.DUPLICATE, f"'{name}' is already imported")
                else:
                    unit.names[name] = (target, name)

    def _follow(self, unit: _Unit, imp: nodes.Import, stack: list[str]) -> _Unit | None:
        raw, span = imp.path, imp.path_span
        shown = f'"{raw}"'
        if not raw:
            return self.fail(span, codes.BAD_IMPORT, "an empty import path")
        if raw.startswith(("/", "\\", "~")) or os.path.isabs(raw) or re.match(r"[A-Za-z]:", raw):
            return self.fail(span, codes.BAD_IMPORT, f"the import path {shown} is absolute; write it relative to this file", self._root_note(unit))
        if "\\" in raw:
            return self.fail(span, codes.BAD_IMPORT, f"the import path {shown} has a backslash; separate directories with '/'")
        if not raw.endswith(".spec"):
            return self.fail(span, codes.BAD_IMPORT, f"the import path {shown} does not name a .spec file")
        lexical = os.path.normpath(os.path.join(os.path.dirname(unit.absolute), raw))
        if not _within(lexical, self.root):
            return self.fail(span, codes.BAD_IMPORT, f"the import path {shown} leaves the repository root", self._root_note(unit))
        real = os.path.realpath(lexical)
        if not _within(real, self.real_root):
            return self.fail(span, codes.BAD_IMPORT, f"the import path {shown} is a symbolic link to a file outside the repository root", self._root_note(unit))
        shown_path = os.path.normpath(raw) if unit.path == STDIN else os.path.normpath(os.path.join(os.path.dirname(unit.path), raw))
        if real in stack:
            names = [self._shown(p) for p in stack[stack.index(real):]] + [shown_path]
            return self.fail(span, codes.CYCLE, "an import cycle: " + " → ".join(names))
        if os.path.isdir(real):
            return self.fail(span, codes.BAD_IMPORT, f"the import path {shown} is a directory; import a .spec file")
        if not os.path.isfile(real):
            return self.fail(span, codes.BAD_IMPORT, f"the imported file {shown_path} does not exist")
        if real in self.units:
            return self.units[real]
        if len(self.units) + 1 >= MAX_FILES:
            if not self.full:  # said once: the imports after it are not followed
                self.full = True
                self.fail(imp.span, codes.TOO_LARGE, f"this import brings the files of one check to more than {MAX_FILES}, the limit")
            return None
        target = _Unit(shown_path, lexical, chain=unit.chain + (imp.span,))
        self.units[real] = target
        try:
            target.data = Path(real).read_bytes()
        except OSError as exc:
            return self.fail(span, codes.READ_ERROR, f"cannot read the imported file {shown_path}: {exc.strerror or exc}")
        try:
            target.spec = parse_once(shown_path, target.data)
        except SpecError as exc:
            self.diagnostics.append(exc.diagnostic)
            return None
        self._open(target, stack + [real])
        return target

    def _root_note(self, unit: _Unit) -> str:
        where = os.path.relpath(self.root, os.path.dirname(unit.absolute)).replace(os.sep, "/")
        return f"the repository root is '{where}' from this file: the nearest directory holding {', '.join(MARKERS[:-1])} or {MARKERS[-1]}, else the checked file's own"

    def _shown(self, real: str) -> str:
        if real == os.path.realpath(self.top.absolute):
            return self.top.path
        return self.units[real].path if real in self.units else real

    # ---- names ----------------------------------------------------------------------------

    def _name_top(self) -> None:
        """The names the checked file gives: its own blocks, what it imports by name, and every
        block of a file it imports under a namespace (first come, first named)."""
        top = self.top
        for name in top.blocks:
            self.canon[(id(top), name)] = name
        for name, (unit, original) in top.names.items():
            self.canon.setdefault((id(unit), original), name)
        self.used_idents.update(top.aliases)
        for alias, unit in top.aliases.items():
            self.idents.setdefault(id(unit), alias)
            for name in unit.blocks:
                self.canon.setdefault((id(unit), name), f"{alias}.{name}")

    def _canonical(self, unit: _Unit, name: str) -> str:
        key = (id(unit), name)
        if key not in self.canon:
            if id(unit) not in self.idents:
                stem = re.sub(r"\W", "_", Path(unit.path).stem) or "spec"
                ident, n = stem, 2
                while ident in self.used_idents:
                    ident, n = f"{stem}{n}", n + 1
                self.used_idents.add(ident)
                self.idents[id(unit)] = ident
            self.canon[key] = f"{self.idents[id(unit)]}.{name}"
        return self.canon[key]

    def _lookup(self, unit: _Unit, name: str, span: Span) -> tuple[_Unit, str] | None:
        """The block a name means in a file: its own, imported by name, or `alias.NAME`. None: not
        a block of any file (a built-in GPU, or an unknown name the resolver reports)."""
        if "." in name:
            alias, rest = name.split(".", 1)
            if alias not in unit.aliases:
                self.fail(span, codes.UNKNOWN_NAME, f"no import named '{alias}'{_suggest(alias, unit.aliases)}")
                return None
            target = unit.aliases[alias]
            if rest not in target.blocks:
                self.fail(span, codes.UNKNOWN_NAME, f"{target.path} declares no block '{rest}'{_suggest(rest, target.blocks)}")
                return None
            return target, rest
        if name in unit.blocks:
            return unit, name
        return unit.names.get(name)

    def _use(self, unit: _Unit, name: str, span: Span) -> str:
        """The name the model knows a referenced block by, bringing it in if it is imported."""
        found = self._lookup(unit, name, span)
        if found is None:
            if unit is not self.top and "." not in name and (name in self.top.blocks or name in self.top.names):
                self.fail(span, codes.DUPLICATE, f"'{name}' here is not declared in {unit.path} (a built-in gpu, or unknown), and {self.top.path} declares its own '{name}': one run cannot hold both", f"declare '{name}' in {unit.path}, or rename the one in {self.top.path}")
            return name
        target, original = found
        canonical = self._canonical(target, original)
        key = (id(target), original)
        if key not in self.emitted:
            self.emitted[key] = canonical
            self.out.append(self._expand(target, target.blocks[original], canonical))
        return canonical

    # ---- rewriting a block in its own file's names -------------------------------------------

    def _members(self, unit: _Unit, members) -> tuple[nodes.Member, ...]:
        out: list[nodes.Member] = []
        for member in members:
            if isinstance(member, nodes.Pool):
                out.append(dataclasses.replace(member, gpu=self._use(unit, member.gpu, member.gpu_span)))
            elif isinstance(member, nodes.Section):
                out.append(dataclasses.replace(member, members=self._members(unit, member.members)))
            elif member.name == "model" and isinstance(member.value, nodes.Ref):
                value = member.value
                name = self._use(unit, ".".join(value.parts), value.span)
                out.append(dataclasses.replace(member, value=nodes.Ref((name,), value.span, (value.span,))))
            else:
                out.append(member)
        return tuple(out)

    def _find(self, find: nodes.Find) -> nodes.Find:
        """A find statement with its references named as the model names them."""
        side = lambda e: None if e is None else self._expr(e)  # noqa: E731
        workload = find.workload
        if workload is not None and workload in self.top.names and find.workload_span is not None:
            workload = self._use(self.top, workload, find.workload_span)
        return dataclasses.replace(find, target=self._expr(find.target), left=side(find.left), right=side(find.right), workload=workload)

    def _expr(self, expr: nodes.Expr) -> nodes.Expr:
        """A claim's expression with references to imported blocks named as the model names them."""
        if isinstance(expr, nodes.Ref):
            parts, spans = expr.parts, expr.part_spans
            if len(parts) >= 2 and parts[0] in self.top.aliases and parts[0] not in self.top.blocks:
                joined = Span(spans[0].file, spans[0].line, spans[0].column, spans[1].end_line, spans[1].end_column)
                name = self._use(self.top, f"{parts[0]}.{parts[1]}", joined)
                return nodes.Ref((name, *parts[2:]), expr.span, (joined, *spans[2:]))
            if parts[0] in self.top.names:
                return dataclasses.replace(expr, parts=(self._use(self.top, parts[0], spans[0]), *parts[1:]))
            return expr
        if isinstance(expr, nodes.Binary):
            return dataclasses.replace(expr, left=self._expr(expr.left), right=self._expr(expr.right))
        if isinstance(expr, nodes.Negate):
            return dataclasses.replace(expr, operand=self._expr(expr.operand))
        if isinstance(expr, nodes.Call):
            return dataclasses.replace(expr, args=tuple(self._expr(a) for a in expr.args))
        return expr

    def _expand(self, unit: _Unit, block: nodes.Block, name: str) -> nodes.Block:
        members, on, on_span = self._written_out(unit, block, name)
        return dataclasses.replace(block, name=name, members=members, on=on, on_span=on_span, base=None, base_span=None)

    def _written_out(self, unit: _Unit, block: nodes.Block, shown: str) -> tuple[tuple[nodes.Member, ...], str | None, Span | None]:
        """A block's members, its own over those of the block it starts from, in its file's names."""
        key = (id(unit), block.name)
        if id(block) in self.expanded:
            return self.expanded[id(block)]
        members = self._members(unit, block.members)
        on = self._use(unit, block.on, block.on_span) if block.on is not None and block.on_span is not None else None
        on_span = block.on_span
        if block.base is not None and block.base_span is not None:
            keys = [k for k, _ in self.expanding]
            if key in keys:
                chain = [n for _, n in self.expanding[keys.index(key):]] + [block.name]
                self.fail(block.base_span, codes.CYCLE, "blocks that start from each other: " + " → ".join(chain))
            else:
                self.expanding.append((key, block.name))
                try:
                    parent = self._parent(unit, block)
                finally:
                    self.expanding.pop()
                if parent is not None:
                    parent_members, parent_on, parent_on_span = parent
                    for member in parent_members:
                        if not _overridden(member, block.members):
                            self.inherited.append((member.span, shown, block.name_span, block.base))
                    members = _merge(block.kind, parent_members, members)
                    if on is None:
                        on, on_span = parent_on, parent_on_span
        self.expanded[id(block)] = (members, on, on_span)
        return self.expanded[id(block)]

    def _parent(self, unit: _Unit, block: nodes.Block):
        assert block.base is not None and block.base_span is not None
        found = self._lookup(unit, block.base, block.base_span)
        if found is None:
            if block.kind == "gpu" and block.base in catalog.CATALOG and "." not in block.base:
                return _builtin_gpu(block.base, block.base_span), None, None
            if "." not in block.base:
                self.fail(block.base_span, codes.UNKNOWN_NAME, f"no {block.kind} named '{block.base}' to start from")
            return None
        target, original = found
        parent = target.blocks[original]
        if parent.kind != block.kind:
            self.fail(block.base_span, codes.UNKNOWN_NAME, f"'{block.base}' is a {parent.kind}; a {block.kind} can start only from a {block.kind}")
            return None
        return self._written_out(target, parent, self._canonical(target, original))


def _suggest(name: str, options) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


# the fields of a derived radiator that replace one another: give the area, and the temperature
# it started from is derived instead
_REPLACES = {("radiator", "area"): "temperature", ("radiator", "temperature"): "area"}


def _key(member: nodes.Member) -> tuple[str, str]:
    return (type(member).__name__, member.name)


def _overridden(member: nodes.Member, own) -> bool:
    """Whether a block's own members replace this inherited one wholly (a section is merged)."""
    return any(_key(m) == _key(member) and not isinstance(m, nodes.Section) for m in own)


def _merge(kind: str, inherited, own) -> tuple[nodes.Member, ...]:
    """Inherited members with the block's own over them by name: a field or pool of the same name
    replaces the inherited one in its place; a section of the same name merges field by field."""
    own_by_key = {_key(m): m for m in own}
    dropped = {_REPLACES[(kind, m.name)] for m in own if isinstance(m, nodes.Field) and (kind, m.name) in _REPLACES}
    out: list[nodes.Member] = []
    for member in inherited:
        if isinstance(member, nodes.Field) and member.name in dropped and ("Field", member.name) not in own_by_key:
            continue
        mine = own_by_key.pop(_key(member), None)
        if mine is None:
            out.append(member)
        elif isinstance(mine, nodes.Section) and isinstance(member, nodes.Section):
            out.append(dataclasses.replace(mine, members=_merge(mine.name, member.members, mine.members)))
        else:
            out.append(mine)
    out += [m for m in own if _key(m) in own_by_key]
    return tuple(out)


def _builtin_gpu(name: str, span: Span) -> tuple[nodes.Member, ...]:
    """A built-in GPU class (checker/catalog.py) written as the fields of a gpu block."""
    peak, memory, tdp, _ = catalog.CATALOG[name]
    bandwidth, matmul, share = catalog.PROFILE[name]
    values = [("peak", peak, "TFLOP/s", 10**12), ("memory", memory, "GB", 10**9), ("tdp", tdp, "W", 1), ("memory_bandwidth", bandwidth, "GB/s", 10**9), ("matmul", matmul, None, 1), ("memory_efficiency", share, None, 1)]
    return tuple(nodes.Field(field_name, nodes.Quantity(value / scale, unit, span, span if unit else None), span, span) for field_name, value, unit, scale in values if value is not None)


# ---- the files that import a file (for a pre-commit hook: a changed catalog rechecks its users)

_IMPORT_LINE = re.compile(r'(?:^|;)\s*(?:import|from)\s+"([^"\n]*)"')
_SKIPPED_DIRECTORIES = {"node_modules", "__pycache__", "venv"}


def imported_paths(text: str) -> list[str]:
    """The paths a spec's text imports, read line by line (comments removed) without parsing:
    quick enough to scan a whole repository."""
    found = []
    for line in text.split("\n"):
        found += _IMPORT_LINE.findall(line.split("#", 1)[0])
    return found


def importers(paths: list[str]) -> list[str]:
    """The .spec files of the repositories of `paths` that import one of them, directly or
    through other files, not already among them; sorted. A directory whose name starts with '.'
    (.git, .venv) is not searched, nor node_modules, __pycache__ or venv."""
    wanted = {os.path.realpath(p) for p in paths if os.path.isfile(p)}
    roots = sorted({find_root(os.path.dirname(os.path.abspath(p))) for p in paths if os.path.isfile(p)})
    users: dict[str, set[str]] = {}  # real path of an imported file -> real paths importing it
    shown: dict[str, str] = {}
    for root in roots:
        real_root = os.path.realpath(root)
        for directory, subdirectories, files in os.walk(root):
            subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d not in _SKIPPED_DIRECTORIES)
            for name in sorted(files):
                if not name.endswith(".spec"):
                    continue
                path = os.path.join(directory, name)
                try:
                    text = Path(path).read_bytes()[: 1 << 20].decode("utf-8", "replace")
                except OSError:
                    continue
                real = os.path.realpath(path)
                shown.setdefault(real, os.path.relpath(path) if not os.path.isabs(paths[0]) else path)
                for raw in imported_paths(text):
                    if not raw or os.path.isabs(raw) or raw.startswith(("/", "\\", "~")):
                        continue
                    target = os.path.realpath(os.path.join(directory, raw))
                    if _within(target, real_root):
                        users.setdefault(target, set()).add(real)
    found: set[str] = set()
    todo = list(wanted)
    while todo:
        for user in users.get(todo.pop(), ()):
            if user not in wanted and user not in found:
                found.add(user)
                todo.append(user)
    return sorted(shown[r] for r in found)
