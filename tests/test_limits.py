"""Hostile input, solver limits and determinism: every limit has a test, and each one ends in a
diagnostic at its place (file:line:col) or an honest `unknown`, never a hang, a RecursionError
or a traceback. A spec can never read a file, import anything, run code or reach the network.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker import parse, report
from checker.api import FileResult, check_file, check_text
from checker.diagnostics import CODES
from checker.solve import Limits
from conftest import ROOT, verify

FAST = Limits(timeout_ms=5_000, rlimit=5_000_000)
RADIATOR = "radiator p { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K; sink = 3 K; sides = 2 }\n"
GPU = "gpu G { peak = 989 TFLOP/s; memory = 80 GB; tdp = 700 W; idle = 100 W }\n"


def rendered(result: FileResult) -> str:
    """Every report of the result: the text and JSON reports and, when present, JUnit and SARIF."""
    out = io.StringIO()
    report.write_text([result], out)
    report.write_json([result], out)
    try:
        from checker import formats
    except ImportError:  # pragma: no cover - formats arrive with another issue
        return out.getvalue()
    formats.write_junit([result], out)
    formats.write_sarif([result], out, exit_code=result.exit_code)
    return out.getvalue()


def only_error(result: FileResult, code: str, line: int, column: int | None = None):
    """The result is invalid with exactly one error, of this code, at this place; its report prints."""
    assert isinstance(result, FileResult)
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert len(errors) == 1, [d.header() for d in result.diagnostics]
    d = errors[0]
    assert (d.code, d.span.line) == (code, line), d.header()
    if column is not None:
        assert d.span.column == column, d.header()
    assert result.exit_code == 2 and not result.verdicts
    text = rendered(result)
    assert f"{d.span.file}:{d.span.line}:{d.span.column}: error:" in text
    return d


def elapsed(function, *args):
    start = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - start


# ---- size -------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_before_reading_it_as_text(tmp_path):
    path = tmp_path / "big.spec"
    path.write_bytes(b"# padding\n" * (parse.MAX_FILE_BYTES // 10 + 1))
    d = only_error(check_file(str(path)), "too-large", 1, 1)
    assert str(parse.MAX_FILE_BYTES) in d.message
    # the API that takes text applies the same limit
    only_error(check_text("big.spec", "#\n" * (parse.MAX_FILE_BYTES // 2 + 1)), "too-large", 1, 1)


def test_a_line_over_the_length_limit_is_named_by_its_number(tmp_path):
    text = RADIATOR + "check c: p.area <= 900 m^2 " + "#" * parse.MAX_LINE_CHARS + "\n"
    path = tmp_path / "long.spec"
    path.write_text(text)
    d = only_error(check_file(str(path)), "too-large", 2, 1)
    assert "line 2" in d.message and str(parse.MAX_LINE_CHARS) in d.message
    only_error(check_text("long.spec", text), "too-large", 2, 1)


def test_the_number_of_statements_is_limited():
    text = "\n".join(f"check c{i}: 1 <= 2" for i in range(parse.MAX_STATEMENTS + 1)) + "\n"
    d = only_error(check_text("many.spec", text), "too-large", parse.MAX_STATEMENTS + 1, 1)
    assert str(parse.MAX_STATEMENTS) in d.message
    assert len(parse.parse_text("ok.spec", text.rsplit("\n", 2)[0] + "\n").statements) == parse.MAX_STATEMENTS


# ---- depth: nothing recursive ever runs out of stack ----------------------------------------------


@pytest.mark.parametrize("operator", ["+", "-", "*", "/"])
def test_a_long_chain_within_the_line_limit_is_a_diagnostic_not_a_recursion_error(operator):
    terms = (parse.MAX_LINE_CHARS - 40) // 2  # about 5000 terms: as many as a line may hold
    text = "check c: " + operator.join(["1"] * terms) + " <= 2\n"
    assert len(text) < parse.MAX_LINE_CHARS
    (result, seconds) = elapsed(check_text, "chain.spec", text)
    d = only_error(result, "too-large", 1, 10)
    assert "nests more than" in d.message
    assert seconds < 5


def test_a_hundred_thousand_terms_on_one_line_hit_the_line_limit():
    text = "check c: " + "+".join(["1"] * 100_000) + " <= 2\n"
    only_error(check_text("chain.spec", text), "too-large", 1, 1)


@pytest.mark.parametrize(
    "text, line, column",
    [
        ("check c: " + "-" * 5000 + "1 <= 2\n", 1, 10),  # unary minus, one level each
        (RADIATOR.replace("heat = 1 MW", "heat = " + " + ".join(["1 MW"] * 1000)), 1, 21),  # in a field value
        (RADIATOR.replace("0.85 .. 0.92", "0.85 .. " + " * ".join(["1"] * 1500) + " * 0.92"), 1, 40),  # in a range
        ("check c: " + "min(" * 60 + " + ".join(["1"] * 50) + ", 1)" * 60 + " <= 2\n", 1, 10),  # calls within the bracket limit
    ],
    ids=["negation", "field", "range", "calls"],
)
def test_deep_expressions_everywhere_are_diagnostics(text, line, column):
    d = only_error(check_text("deep.spec", text), "too-large", line, column)
    assert "nests more than" in d.message


def test_ten_thousand_open_parentheses_are_refused_at_the_first_one_too_deep():
    d = only_error(check_text("parens.spec", "(" * 10_000), "too-large", 1, parse.MAX_NESTING + 1)
    assert str(parse.MAX_NESTING) in d.message
    only_error(check_text("parens.spec", "check c: " + "(" * 4_000 + "1" + ")" * 4_000 + " <= 2\n"), "too-large", 1, 9 + parse.MAX_NESTING + 1)


def _deep_call(frames: int, function, *args):
    return function(*args) if frames == 0 else _deep_call(frames - 1, function, *args)


def test_expressions_just_under_the_limits_go_all_the_way_with_stack_to_spare():
    # about MAX_DEPTH levels in a claim, a field and a range, plus the deepest bracket nesting,
    # checked from 400 frames down: every stage (tree, resolution, encoding, Z3, replay, report)
    # has room under Python's default recursion limit
    chain = " + ".join(["0 m^2"] * (parse.MAX_DEPTH - 10))
    heat = " + ".join(["12.5 kW"] * 80)  # 1 MW
    low = " * ".join(["1"] * (parse.MAX_DEPTH - 12)) + " * 0.85"
    brackets = "(" * (parse.MAX_NESTING - 1) + "p.area" + ")" * (parse.MAX_NESTING - 1)
    text = (
        f"radiator p {{ heat = {heat}; emissivity = {low} .. 0.92; temperature = 330 K; sink = 3 K; sides = 2 }}\n"
        f"check sum: p.area + {chain} <= 900 m^2\n"
        f"check brackets: {brackets} <= 850 m^2\n"
    )
    assert sys.getrecursionlimit() >= 1000
    result = _deep_call(400, check_text, "deep.spec", text, FAST)
    assert not result.diagnostics, [d.header() for d in result.diagnostics]
    assert {v.claim.name: v.status for v in result.verdicts if v.claim.kind == "check"} == {"sum": "proved", "brackets": "violated"}
    assert "check 'brackets' is violated" in _deep_call(400, rendered, result)


# ---- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    ["1e999999", "1e-999999", "1e101", "1e-101", "9" * (parse.MAX_DIGITS + 1), "0." + "0" * parse.MAX_DIGITS + "1"],
)
def test_numbers_too_large_or_too_small_to_be_meant_are_refused_at_their_place(number):
    d = only_error(check_text("n.spec", RADIATOR + f"check c: p.area <= {number} m^2\n"), "number-range", 2, 20)
    assert number[:20] in d.message
    only_error(check_text("n.spec", f"radiator p {{ heat = {number} MW; emissivity = 0.9; temperature = 330 K }}\n"), "number-range", 1, 21)


def test_large_exact_numbers_within_the_limits_are_computed_exactly():
    text = RADIATOR + "check big: p.area * " + " * ".join(["1e100"] * 9) + " <= 1e100 m^2\ncheck small: p.area * 1e-100 * 1e-100 <= 1 m^2\n"
    result = check_text("n.spec", text, FAST)
    assert {v.claim.name: v.status for v in result.verdicts if v.claim.kind == "check"} == {"big": "violated", "small": "proved"}
    assert "e+" in rendered(result)  # shown in scientific notation, computed exactly


# ---- bytes ------------------------------------------------------------------------------


def test_a_nul_byte_is_refused_at_its_line_and_column(tmp_path):
    path = tmp_path / "nul.spec"
    path.write_bytes(RADIATOR.encode() + b"check c: p.area \x00<= 1 m^2\n")
    d = only_error(check_file(str(path)), "read-error", 2, 17)
    assert "NUL" in d.message
    # text handed over directly (standard input, an editor's buffer) is read as the same bytes
    only_error(check_text("nul.spec", "check c: 1 <= 2\x00\n"), "read-error", 1, 16)


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"])
def test_invalid_utf8_is_refused_at_its_line_and_column(tmp_path, raw):
    path = tmp_path / "bad.spec"
    path.write_bytes(RADIATOR.encode() + b"check c: p.area <= 1 m^2 # " + raw + b"\n")
    d = only_error(check_file(str(path)), "read-error", 2, 28)
    assert "UTF-8" in d.message


def test_a_byte_order_mark_and_windows_line_ends_are_fine(tmp_path):
    path = tmp_path / "bom.spec"
    path.write_bytes(b"\xef\xbb\xbf" + (RADIATOR + "check c: p.area <= 900 m^2\n").replace("\n", "\r\n").encode())
    result = check_file(str(path), FAST)
    assert not result.diagnostics and result.exit_code == 0


# ---- pools ------------------------------------------------------------------------------


def _training(count: str, topology: str = "ring", shards: int = 1) -> str:
    return GPU + (
        f"cluster c {{\n  pool a = {count} x G\n  pool b = {count} x G\n"
        f"  network {{ topology = {topology}; bandwidth = 50 GB/s; latency = 5 us }}\n}}\n"
        f"workload w on c {{ kind = training; params = 70e9; batch = 4e6 token; efficiency = 40 %; jitter = 0 % .. 5 %; shards = {shards} }}\n"
        "check step: w.step_time <= 10 s\ncheck draw: c.gpus <= 100000000\n"
    )


def test_twenty_million_gpus_in_a_pool_solve_quickly_and_say_what_is_not_replayed():
    result, seconds = elapsed(check_text, "big.spec", _training("20000000"), FAST)
    assert not result.diagnostics, [d.header() for d in result.diagnostics]
    assert {v.claim.name: v.status for v in result.verdicts if v.claim.kind == "check"} == {"step": "violated", "draw": "proved"}
    assert seconds < 20
    # a ring of 40 million GPUs is too long to step through hop by hop: it is skipped, and says so
    assert result.replays["step"].status == "skipped" and "hop by hop" in result.replays["step"].detail
    assert "not replayed: a ring of 40000000 GPUs" in rendered(result)


@pytest.mark.parametrize("count", ["1e30", "1000000001", "1e10"])
def test_absurd_pool_counts_are_refused_at_the_count(count):
    d = only_error(check_text("huge.spec", _training(count)), "number-range", 3, 12)
    assert "GPUs in a pool" in d.message


def test_pool_counts_must_be_whole_positive_numbers():
    first = check_text("half.spec", _training("1.5")).diagnostics[0]
    assert (first.code, first.span.line, first.span.column) == ("not-integer", 3, 12)


# ---- the solver's limits ---------------------------------------------------------------------

# nonlinear in two derived radiator temperatures: Z3 needs seconds for this, so small limits bite
HARD = """\
radiator a { heat = 1 MW .. 2 MW; emissivity = 0.8 .. 0.9; area = 500 m^2 .. 900 m^2; sink = 3 K .. 60 K; sides = 2 }
radiator b { heat = 1 MW .. 2 MW; emissivity = 0.8 .. 0.9; area = 400 m^2 .. 800 m^2; sink = 3 K .. 60 K; sides = 2 }
check c: a.temperature * b.temperature - b.temperature * a.flux / b.flux * 1 K <= 200000 K^2
"""


def _unknown_checks(result: FileResult) -> list[str]:
    assert isinstance(result, FileResult) and not result.diagnostics
    assert result.verdicts and all(v.status == "unknown" for v in result.verdicts)
    assert result.exit_code == 3  # never a pass
    text = rendered(result)
    assert "this is not a pass" in text
    return [v.reason for v in result.verdicts]


def test_the_resource_limit_gives_unknown_with_the_reason():
    reasons = _unknown_checks(check_text("r.spec", RADIATOR + "check c: p.area <= 900 m^2\n", Limits(rlimit=1)))
    assert all("resource limit of 1" in r and "--rlimit" in r for r in reasons), reasons


def test_the_time_limit_gives_unknown_with_the_reason():
    result, seconds = elapsed(check_text, "t.spec", HARD, Limits(timeout_ms=5))
    assert not result.diagnostics and result.exit_code == 3  # never a pass
    unknown = {v.claim.name: v.reason for v in result.verdicts if v.status == "unknown"}
    assert "c" in unknown and all("0.005 s" in r and "--timeout" in r for r in unknown.values()), unknown
    assert "this is not a pass" in rendered(result)
    assert seconds < 10


def test_the_memory_cap_gives_unknown_with_the_reason_and_is_lifted_afterwards():
    reasons = _unknown_checks(check_text("m.spec", RADIATOR + "check c: p.area <= 900 m^2\n", Limits(memory_mb=1)))
    assert all("memory limit of 1 MB" in r for r in reasons), reasons
    after = check_text("m.spec", RADIATOR + "check c: p.area <= 900 m^2\n", FAST)
    assert after.exit_code == 0


@pytest.mark.parametrize("option", [("--timeout", "nan"), ("--timeout", "inf"), ("--timeout", "-1"), ("--rlimit", "0")])
def test_limits_that_are_not_positive_numbers_are_usage_errors(option, spec):
    result = verify(*option, spec(RADIATOR + "check c: p.area <= 900 m^2\n"))
    assert result.code == 4 and "must be positive" in result.err and "internal error" not in result.err


@pytest.mark.parametrize("option", [("--timeout", "4294967.301"), ("--rlimit", str(2**32 + 5)), ("--rlimit", str(10**30))])
def test_limits_beyond_what_z3_holds_do_not_wrap_round_to_tiny_ones(option, spec):
    result = verify(*option, spec(RADIATOR + "check c: p.area <= 900 m^2\n"))
    assert result.code == 0, result.out  # proved, not unknown after a 5 ms limit


# ---- no file, no import, no code, no network -----------------------------------------------------

PACKAGE = ROOT / "checker"
DANGEROUS_MODULES = {
    "socket", "ssl", "http", "urllib.request", "urllib.error", "ftplib", "smtplib", "poplib", "imaplib", "telnetlib",
    "xmlrpc", "requests", "httpx", "aiohttp", "asyncio", "subprocess", "multiprocessing", "concurrent", "ctypes",
    "cffi", "pickle", "marshal", "shelve", "dbm", "importlib", "runpy", "code", "codeop", "pdb", "webbrowser",
    "shutil", "tempfile", "sqlite3", "zipimport", "pty", "pkgutil", "site",
}
DANGEROUS_CALLS = {"eval", "exec", "compile", "__import__", "breakpoint", "input", "open"}
DANGEROUS_OS = {"system", "popen", "fork", "forkpty", "kill", "remove", "unlink", "rmdir", "removedirs", "rename", "replace",
                "open", "fdopen", "chmod", "chown", "putenv", "startfile", "execv", "execve", "execl", "execlp", "execvp",
                "spawnv", "spawnl", "posix_spawn", "mkdir", "makedirs", "symlink", "link", "truncate"}
FILE_METHODS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "unlink", "rmdir", "mkdir", "touch", "symlink_to", "hardlink_to"}
OWN_MODULES = {p.stem for p in (ROOT / "checker").rglob("*.py")}  # report.write_text writes to a stream it is given
# the only places that touch files: the spec itself, the grammar, the --output report, the
# --baseline report, and /dev/null when the reader of stdout has gone
ALLOWED = {
    ("api.py", "check_file", "read_bytes"),
    ("parse.py", "_parser", "read_text"),
    ("cli.py", "run", "open"),
    ("cli.py", "main", "open"),
    ("baseline.py", "load", "open"),
    ("parse.py", "build_parser", "read_text"),
    # the runner reads each spec once, to key the cache on exactly the bytes it checks
    ("runner.py", "_check_files", "read_bytes"),
    # the cache reads the checker's own source (its key) and reads and writes only under
    # $XDG_CACHE_HOME/verify; its entries are unpickled into the checker's own classes only
    # (tests/test_runner.py::test_an_entry_never_runs_code)
    ("cache.py", "source_digest", "read_bytes"),
    ("cache.py", "load_result", "read_bytes"),
    ("cache.py", "parser", "read_bytes"),
    ("cache.py", "write_atomic", "mkdir"),
    ("cache.py", "write_atomic", "fdopen"),
    ("cache.py", "write_atomic", "replace"),
    ("cache.py", "write_atomic", "unlink"),
    # verify explain reads the spec it is given
    ("explain.py", "run", "read_bytes"),
    # imports: an imported file, once resolved inside the repository root (tests/test_imports.py
    # shows nothing outside it is read), and the specs under the root that may import a given one
    # (--with-importers: only *.spec files, the first MiB of each)
    ("imports.py", "_follow", "read_bytes"),
    ("imports.py", "importers", "read_bytes"),
    # the language server opens the imported file a definition lies in, to give its position
    ("lsp.py", "dispatch", "read_text"),
    # verify fmt: reads the specs it is given and rewrites them through a temporary file beside each
    ("fmt.py", "_one", "read_bytes"),
    ("fmt.py", "atomic_write", "open"),
    ("fmt.py", "atomic_write", "chmod"),
    ("fmt.py", "atomic_write", "replace"),
    ("fmt.py", "atomic_write", "unlink"),
    # a record class's __init__, compiled once per number of fields from placeholder names (and,
    # where renaming is refused, from the class's field names): identifiers of our own source,
    # never a spec's text
    ("records.py", "_compile", "compile"),
}
# modules that only these files may import, for what the comment says
ALLOWED_IMPORTS = {
    ("cache.py", "pickle"),  # cache entries, through a restricted Unpickler
    ("cache.py", "tempfile"),  # atomic writes: a temporary file beside the entry, then os.replace
    ("cache.py", "importlib.util"),  # find_spec: where Z3 and Lark are installed, without importing them
    ("parse.py", "pickle"),  # Lark.save's plain data, for the parser cache
    ("runner.py", "pickle"),  # results from the worker processes, which are its own children
    ("runner.py", "multiprocessing"),  # --jobs
    ("runner.py", "multiprocessing.connection"),
    ("__init__.py", "importlib"),  # checker.sim imports its own modules (".name") on first use
}


def _findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    name = path.name
    out: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            where = f"{path.relative_to(ROOT)}:{getattr(child, 'lineno', '?')}"
            if isinstance(child, ast.Import):
                out.extend(f"{where}: import {a.name}" for a in child.names if _dangerous(a.name) and (name, a.name) not in ALLOWED_IMPORTS)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                out.extend(f"{where}: from {child.module} import {a.name}" for a in child.names if (_dangerous(child.module) or _dangerous(f"{child.module}.{a.name}")) and (name, child.module) not in ALLOWED_IMPORTS)
            elif isinstance(child, ast.Call):
                f = child.func
                called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
                risky = (isinstance(f, ast.Name) and called in DANGEROUS_CALLS) or (owner == "os" and called in DANGEROUS_OS) or (isinstance(f, ast.Attribute) and called in FILE_METHODS and owner not in OWN_MODULES)
                if risky and (name, inner, called) not in ALLOWED:
                    out.append(f"{where}: {owner + '.' if owner else ''}{called}() in {inner or 'module level'}")
            visit(child, inner)

    visit(tree, "")
    return out


def _dangerous(module: str) -> bool:
    return any(module == bad or module.startswith(bad + ".") for bad in DANGEROUS_MODULES)


def test_the_package_cannot_run_code_import_at_will_reach_the_network_or_touch_files_outside_known_places():
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 10
    findings = [f for path in files for f in _findings(path)]
    assert findings == [], "\n".join(findings)
    # and the scan does find what it looks for
    probe = ROOT / "tests" / "_probe_scan.py"
    try:
        probe.write_text("import socket\nfrom subprocess import run\nimport os\ndef f(x):\n    eval(x); os.system(x); open(x).read()\n")
        assert len(_findings(probe)) == 5
    finally:
        probe.unlink()


HOSTILE = [
    'check c: __import__("os").system("touch /tmp/pwned") <= 1',
    'check c: open("/etc/passwd") <= 1',
    "check c: open(x) <= 1",
    "check c: eval(1) + exec(2) <= compile(3)",
    "import os",
    "from os import system",
    'include "/etc/passwd"',
    "%include /etc/passwd",
    "radiator p { heat = /etc/passwd }",
    "radiator p { heat = ../../../etc/passwd }",
    "radiator p { heat = file:///etc/passwd }",
    "check c: http://example.com/x.spec <= 1",
    "check c: `rm -rf /` <= 1",
    "check c: $(touch /tmp/pwned) <= 1",
    "check c: {{7*7}} <= 1",
    "check c: 1 __import__ <= 1 os",
    GPU + "check c: G.__class__ <= 1",
    GPU + "check c: G.__init__.__globals__ <= 1",
    GPU + "check c: G.__dict__ <= 1",
    GPU + "check c: G.peak.__class__ <= 1 TFLOP/s",
    GPU + "cluster c { pool a = 8 x __class__ }",
    GPU + "cluster c { pool a = 8 x G; network { topology = __import__; bandwidth = 1 GB/s; latency = 1 us } }",
    "gpu __init__ { peak = 1 TFLOP/s; memory = 1 GB; tdp = 1 W }\ncheck c: __init__.peak <= 2 TFLOP/s",  # just a name: proved
    "radiator __builtins__ { heat = 1 W; emissivity = 0.5; temperature = 300 K }\ncheck c: __builtins__.__import__ <= 1",
    "check c: os.system <= sys.modules",
    "check c: min(open, exec) <= 1",
]

WATCHED = ("open", "exec", "compile", "import", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "os.remove",
           "os.rename", "os.rmdir", "os.mkdir", "os.listdir", "os.scandir", "os.putenv", "subprocess.Popen", "urllib.Request",
           "http.client.connect", "pty.spawn", "webbrowser.open", "ctypes.dlopen", "shutil.rmtree", "shutil.copyfile", "glob.glob")
_EVENTS: list[tuple[str, str]] | None = None
_HOOKED = False


def _audit(event: str, args: tuple) -> None:
    if _EVENTS is not None and (event in WATCHED or event.startswith(("socket.", "subprocess.", "os.exec", "os.spawn"))):
        _EVENTS.append((event, repr(args)[:200]))


@pytest.fixture
def audited():
    """A context manager that records security-relevant audit events (PEP 578) inside it."""
    global _HOOKED
    if not _HOOKED:  # once per process: the hook, and a warm-up (the grammar, lazy imports, the report's)
        sys.addaudithook(_audit)  # hooks cannot be removed; it records only inside `watching`
        _HOOKED = True
        for example in sorted((ROOT / "examples").glob("*.spec")):
            rendered(check_text(example.name, example.read_text(encoding="utf-8"), Limits(rlimit=1)))
    return watching


@contextlib.contextmanager
def watching():
    global _EVENTS
    events: list[tuple[str, str]] = []
    _EVENTS = events
    try:
        yield events
    finally:
        _EVENTS = None


@pytest.mark.parametrize("text", HOSTILE, ids=[str(i) for i in range(len(HOSTILE))])
def test_hostile_specs_get_ordinary_diagnostics_and_touch_nothing(text, audited, tmp_path):
    canary = Path("/tmp/pwned")
    existed = canary.exists()
    with audited() as events:
        result = check_text("hostile.spec", text + "\n", FAST)
        text_report = rendered(result)
    assert events == [], events
    assert isinstance(result, FileResult) and result.exit_code == (0 if "__init__.peak" in text else 2)
    assert all(d.code in CODES and d.span.line >= 1 and d.span.column >= 1 for d in result.diagnostics)
    assert "root:" not in text_report and "Traceback" not in text_report  # nothing of /etc/passwd, no traceback
    assert canary.exists() == existed


def test_checking_a_file_opens_that_file_and_nothing_else(audited, tmp_path):
    path = tmp_path / "include.spec"
    path.write_text('include "/etc/passwd"\ncheck c: open("/etc/passwd") <= 1\n')
    with audited() as events:
        result = check_file(str(path), FAST)
    assert result.exit_code == 2
    opened = [args for event, args in events if event == "open"]
    assert len(opened) == 1 and str(path) in opened[0]
    assert [e for e in events if e[0] != "open"] == []


# ---- determinism --------------------------------------------------------------------------------


def _verify(*args: str, seed: str, cache: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
    env.pop("NO_COLOR", None)
    # every file in one process, one after the other; with cache, this test's own empty cache
    # directory (conftest.py) is read and written, else every run really checks
    return subprocess.run([sys.executable, "-m", "checker", *([] if cache else ["--no-cache"]), "--jobs", "1", *args],
                          capture_output=True, cwd=ROOT, env=env, timeout=600)


def test_reports_are_byte_identical_across_hash_seeds_and_independent_of_the_files_checked_before():
    """Every example and bad spec, checked from scratch under two hash seeds, gives the same
    JSON report byte for byte; the JUnit and text reports rendered from those results under two
    more seeds are byte-identical too (their results come from the first run's cache: what they
    add is the rendering); and each example's report is the same checked after the others, in
    reverse order, or alone (Z3's search depends on what its context saw before; each model gets
    a fresh context). One test, so that its checks share the runs that compute the results."""
    first = _verify("--format", "json", "examples/", "tests/bad/", seed="1", cache=True)  # fills the cache
    second = _verify("--format", "json", "examples/", "tests/bad/", seed="4242")
    assert {first.returncode, second.returncode} == {2} and first.stderr == second.stderr == b""
    assert first.stdout == second.stdout
    data = json.loads(first.stdout)
    assert len(data["files"]) == len(list((ROOT / "examples").rglob("*.spec"))) + len(list((ROOT / "tests" / "bad").glob("*.spec")))
    assert "time" not in json.dumps(sorted(_keys(data)))  # no timings mixed into the report
    for fmt in ("junit", "text"):
        rendered = [_verify("--format", fmt, "examples/", "tests/bad/", seed=seed, cache=True) for seed in ("2", "99")]
        assert {r.returncode for r in rendered} == {2} and all(r.stderr == b"" for r in rendered), fmt
        assert rendered[0].stdout == rendered[1].stdout and rendered[0].stdout, fmt
    together = [f for f in data["files"] if f["path"].startswith("examples/")]
    backwards = json.loads(_verify("--format", "json", *reversed([f["path"] for f in together]), seed="0").stdout)["files"]
    for entry in together:
        alone = json.loads(_verify("--format", "json", entry["path"], seed="0").stdout)["files"]
        assert alone == [entry], entry["path"]
        assert entry in backwards, entry["path"]


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_text_report_of_the_bad_specs_is_byte_identical_across_hash_seeds():
    runs = [_verify("tests/bad/", seed=seed) for seed in ("2", "99")]
    assert runs[0].returncode == 2 and runs[0].stdout == runs[1].stdout and runs[0].stdout


def test_the_same_checker_object_gives_the_same_result_twice_in_one_process():
    text = (ROOT / "examples" / "colossus1.spec").read_text(encoding="utf-8")
    first, second = (rendered(check_text("colossus1.spec", text, FAST)) for _ in range(2))
    assert first == second
