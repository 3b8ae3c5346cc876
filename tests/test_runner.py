"""Many files: --jobs (a process pool), --shard (a CI matrix), the result cache and the parser cache.

Each test here can fail: a cache hit is told from a miss by making the solver unusable after the
first run (a miss then becomes an internal error, exit 4), never by timing.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import checker.api
import checker.solve
from checker import cache, cli, parse, runner
from checker.solve import Limits
from conftest import EXAMPLES, ROOT, verify

PROVED = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n"
# a claim on a range: a claim on constants alone is decided by exact arithmetic, whatever the solver limits
RANGED = "radiator p { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n"
VIOLATED = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck no: p.area <= 100 m^2\n"
INVALID = "radiator p { heat = 1 MW emissivity = 0.9 }\n"
ALL = sorted(str(p) for p in EXAMPLES.glob("*.spec")) + sorted(str(p) for p in (ROOT / "tests" / "bad").glob("*.spec"))


def _files(tmp_path: Path, texts: dict[str, str]) -> list[str]:
    paths = []
    for name, text in texts.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


@pytest.fixture
def no_solver(monkeypatch):
    """After this, a file that is really checked (not taken from the cache) is an internal error."""

    def make():
        def boom(*args, **kwargs):
            raise RuntimeError("the solver ran")

        monkeypatch.setattr(checker.solve, "solve", boom)

    return make


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in (root / "results").rglob("*") if p.is_file()) if (root / "results").exists() else []


# ---- --jobs ---------------------------------------------------------------------------------


def test_a_pool_gives_the_same_results_and_bytes_as_one_process():
    one = runner.check_files(ALL, Limits(), jobs=1, use_cache=False)
    two = runner.check_files(ALL, Limits(), jobs=2, use_cache=False)
    assert [r.path for r in two] == ALL
    assert one == two  # every verdict, replay, diagnostic and model, compared field by field
    from checker import report

    for write in (lambda rs, out: report.write_text(rs, out, exit_code=cli.gate(rs)), lambda rs, out: report.write_json(rs, out, exit_code=cli.gate(rs))):
        import io

        a, b = io.StringIO(), io.StringIO()
        write(one, a)
        write(two, b)
        assert a.getvalue() == b.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
def test_jobs_do_not_change_the_report_or_the_exit_code(tmp_path, fmt):
    paths = _files(tmp_path, {"a.spec": VIOLATED, "b.spec": PROVED, "c.spec": INVALID, "d.spec": PROVED.replace("2000", "1999")})
    alone = verify("--no-cache", "--jobs", "1", "--format", fmt, *paths)
    pooled = verify("--no-cache", "--jobs", "3", "--format", fmt, *paths)
    assert (pooled.code, pooled.out, pooled.err) == (alone.code, alone.out, alone.err)
    assert alone.code == 2


def test_jobs_really_use_other_processes(tmp_path, monkeypatch):
    real = checker.api.check_bytes
    seen = tmp_path / "pids"
    seen.mkdir()

    def spy(path, data, limits):
        (seen / f"{os.getpid()}-{Path(path).name}").write_text("")
        return real(path, data, limits)

    monkeypatch.setattr(checker.api, "check_bytes", spy)
    paths = _files(tmp_path, {f"{i}.spec": PROVED.replace("2000", str(2000 + i)) for i in range(4)})
    assert verify("--no-cache", "--jobs", "2", *paths).code == 0
    pids = {name.name.split("-")[0] for name in seen.iterdir()}
    assert len(list(seen.iterdir())) == 4 and str(os.getpid()) not in pids and 1 <= len(pids) <= 2
    for entry in seen.iterdir():
        entry.unlink()
    assert verify("--no-cache", "--jobs", "1", *paths).code == 0
    assert {name.name.split("-")[0] for name in seen.iterdir()} == {str(os.getpid())}


@pytest.mark.parametrize("how", ["kill", "exit", "exception"])
def test_a_worker_that_dies_is_that_files_internal_error_only(tmp_path, monkeypatch, how):
    real = checker.api.check_bytes

    def crashy(path, data, limits):
        if "crash" in path:
            if how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if how == "exit":
                os._exit(7)
            raise SystemExit("a BaseException in the worker")
        return real(path, data, limits)

    monkeypatch.setattr(checker.api, "check_bytes", crashy)
    paths = _files(tmp_path, {"a.spec": PROVED, "b-crash.spec": PROVED, "c.spec": VIOLATED, "d.spec": PROVED.replace("2000", "2001"), "e.spec": PROVED.replace("2000", "2002")})
    result = verify("--jobs", "2", "--format", "json", *paths)
    assert result.code == 4 and "Traceback" not in result.out + result.err
    files = json.loads(result.out)["files"]
    assert [f["path"] for f in files] == paths  # in order, every file reported
    assert [f["status"] for f in files] == ["proved", "error", "violated", "proved", "proved"]
    message = json.dumps(files[1])
    assert "internal" in message
    assert {"kill": "SIGKILL", "exit": "exit status 7", "exception": "the worker process checking it failed"}[how] in message
    assert "a BaseException in the worker" not in message  # never an exception's text in a report
    # an internal error is never cached: the same file is checked again next time
    monkeypatch.setattr(checker.api, "check_bytes", real)
    again = verify("--jobs", "2", "--format", "json", *paths)
    assert again.code == 1 and json.loads(again.out)["files"][1]["status"] == "proved"


@pytest.mark.parametrize("after", [0, 1])
def test_when_no_worker_can_be_started_the_files_are_checked_here(tmp_path, monkeypatch, after):
    paths = _files(tmp_path, {"a.spec": VIOLATED, "b.spec": PROVED, "c.spec": INVALID})
    alone = verify("--no-cache", "--jobs", "1", *paths)
    real = runner._pool

    def failing(todo, limits, workers):
        for count, item in enumerate(real(todo, limits, workers)):
            if count == after:
                raise OSError("fork: Resource temporarily unavailable")
            yield item

    monkeypatch.setattr(runner, "_pool", failing)
    pooled = verify("--no-cache", "--jobs", "2", *paths)
    assert (pooled.code, pooled.out, pooled.err) == (alone.code, alone.out, alone.err)


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_a_bad_jobs_value_is_a_usage_error(value, capsys):
    result = verify("--jobs", value, "x.spec")
    assert result.code == 4 and "--jobs" in capsys.readouterr().err  # argparse writes to sys.stderr


def test_usable_cores_is_at_least_one_and_follows_the_affinity_mask():
    cores = runner.usable_cores()
    assert cores >= 1
    if hasattr(os, "sched_getaffinity"):
        assert cores == len(os.sched_getaffinity(0))


# ---- --shard --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 1, 5, 12])
@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_shards_partition_the_files(count, n):
    files = [f"dir/{i:02d}.spec" for i in range(count)]
    slices = [runner.shard(files, k, n) for k in range(1, n + 1)]
    assert sorted(f for s in slices for f in s) == files  # the union is everything, nothing twice
    assert sum(len(s) for s in slices) == count
    assert max(map(len, slices)) - min(map(len, slices)) <= 1  # balanced
    assert slices == [runner.shard(list(files), k, n) for k in range(1, n + 1)]  # stable
    for s in slices:
        assert s == [f for f in files if f in s]  # each slice keeps the order


def test_shards_through_the_command_line_cover_a_directory_once(tmp_path):
    (tmp_path / "sub").mkdir()
    _files(tmp_path, {"a.spec": PROVED, "b.spec": VIOLATED, "sub/c.spec": PROVED, "sub/d.spec": INVALID, "e.spec": PROVED})
    everything = json.loads(verify("--format", "json", str(tmp_path)).out)["files"]
    seen = []
    for k in (1, 2, 3):
        part = verify("--format", "json", "--shard", f"{k}/3", str(tmp_path))
        files = [f["path"] for f in json.loads(part.out)["files"]]
        assert files == [f["path"] for i, f in enumerate(everything) if i % 3 == k - 1]
        seen += files
    assert sorted(seen) == sorted(f["path"] for f in everything) and len(seen) == 5


@pytest.mark.parametrize("value", ["0/2", "3/2", "1/0", "a/b", "1", "1/2/3", "-1/2", ""])
def test_a_bad_shard_is_a_usage_error(value, capsys):
    result = verify("--shard", value, str(EXAMPLES / "orbital-radiator.spec"))
    err = capsys.readouterr().err
    assert result.code == 4 and "--shard" in err and "K/N" in err and result.out == ""


def test_an_empty_shard_passes_with_a_note(tmp_path):
    paths = _files(tmp_path, {"a.spec": VIOLATED})
    result = verify("--shard", "2/2", *paths)
    assert result.code == 0 and "0 files" in result.out and "shard 2/2 has none of the 1 files" in result.err
    assert verify("--shard", "1/2", *paths).code == 1


# ---- the result cache -----------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_cache_hit_gives_the_same_report_without_solving(tmp_path, no_solver, private_cache, jobs):
    paths = _files(tmp_path, {"a.spec": VIOLATED, "b.spec": PROVED, "c.spec": INVALID})
    first = verify("--jobs", jobs, *paths)
    assert first.code == 2 and len(_entries(private_cache)) == 3
    no_solver()
    second = verify("--jobs", jobs, *paths)
    assert (second.code, second.out, second.err) == (first.code, first.out, first.err)
    # the report format is not part of the key
    as_json = json.loads(verify("--jobs", jobs, "--format", "json", *paths).out)
    assert [f["status"] for f in as_json["files"]] == ["violated", "proved", "invalid"]


def test_changing_the_spec_or_an_option_misses(tmp_path, no_solver, private_cache):
    [path] = _files(tmp_path, {"a.spec": PROVED})
    assert verify(path).code == 0
    no_solver()
    assert verify(path).code == 0  # a hit
    for option in (["--seed", "1"], ["--timeout", "19"], ["--rlimit", "49999999"]):
        result = verify(*option, path)
        assert result.code == 4 and "[internal]" in result.out, option
    Path(path).write_text(PROVED + "# one more line\n", encoding="utf-8")
    assert verify(path).code == 4
    # the same bytes under another path: the path is in the report, so it is another entry
    other = tmp_path / "copy.spec"
    shutil.copy(tmp_path / "a.spec", other)
    assert verify(str(other)).code == 4


def test_changing_the_tool_misses(tmp_path, no_solver, monkeypatch):
    [path] = _files(tmp_path, {"a.spec": PROVED})
    assert verify(path).code == 0
    no_solver()
    assert verify(path).code == 0
    monkeypatch.setattr(cache, "tool_digest", lambda: b"another build of verify")
    assert verify(path).code == 4


def test_the_tool_digest_covers_every_source_file_and_the_grammar(tmp_path):
    package = tmp_path / "checker"
    shutil.copytree(ROOT / "checker", package, ignore=shutil.ignore_patterns("__pycache__"))
    grammar = tmp_path / "spec.lark"
    shutil.copy(parse.grammar_path(), grammar)
    names = [name for name, _ in cache._package_files(package, grammar)]
    assert {"api.py", "cache.py", "runner.py", "sim/power.py", "<grammar>"} <= set(names)
    before = cache.source_digest(package, grammar)
    assert cache.source_digest(package, grammar) == before
    for target in (package / "numbers.py", package / "sim" / "radiator.py", grammar):
        original = target.read_bytes()
        target.write_bytes(original + b"\n# a comment\n")
        assert cache.source_digest(package, grammar) != before, target
        target.write_bytes(original)
    (package / "new.py").write_text("")
    assert cache.source_digest(package, grammar) != before


def test_the_key_takes_every_text_in_order():
    options = cache.options_of(Limits())
    one = cache.result_key("a.spec", [b"x"], options)
    assert one == cache.result_key("a.spec", [b"x"], options)
    assert len({one, cache.result_key("a.spec", [b"x", b"y"], options), cache.result_key("a.spec", [b"xy"], options), cache.result_key("a.spec", [b"y", b"x"], options), cache.result_key("b.spec", [b"x"], options), cache.result_key("a.spec", [b"x"], cache.options_of(Limits(seed=1)))}) == 6


def _damage(entry: Path, how: str) -> None:
    data = entry.read_bytes()
    if how == "garbage":
        entry.write_bytes(b"\x00not a cache entry at all")
    elif how == "empty":
        entry.write_bytes(b"")
    elif how == "truncated":
        entry.write_bytes(data[: len(data) // 2])
    elif how == "flipped":
        entry.write_bytes(data[:-20] + bytes([data[-20] ^ 0xFF]) + data[-19:])
    elif how == "other-key":
        entry.write_bytes(data.replace(entry.name.encode(), b"0" * 64, 1))
    elif how == "not-a-result":
        payload = pickle.dumps({"path": "x"})
        entry.write_bytes(cache._header(entry.name, payload) + payload)
    elif how == "directory":
        entry.unlink()
        entry.mkdir()


@pytest.mark.parametrize("how", ["garbage", "empty", "truncated", "flipped", "other-key", "not-a-result", "directory"])
def test_a_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path, private_cache, how):
    [path] = _files(tmp_path, {"a.spec": VIOLATED})
    first = verify("--jobs", "1", path)
    [entry] = _entries(private_cache)
    _damage(entry, how)
    second = verify("--jobs", "1", path)
    assert (second.code, second.out, second.err) == (first.code, first.out, first.err)
    if how != "directory":  # a directory in the way cannot be replaced by a file: no caching, no error
        assert cache.load_result(entry.name, path) == checker.api.check_file(path)


def test_an_entry_never_runs_code(tmp_path, private_cache):
    [path] = _files(tmp_path, {"a.spec": PROVED})
    verify(path)
    [entry] = _entries(private_cache)
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.mkdir, (str(marker),))

    evil = pickle.dumps(Evil())
    entry.write_bytes(cache._header(entry.name, evil) + evil)  # a well-formed entry, with a bad pickle
    assert cache.load_result(entry.name, path) is None
    assert not marker.exists()
    assert verify(path).code == 0


def test_no_cache_never_reads_or_writes(tmp_path, private_cache):
    [path] = _files(tmp_path, {"a.spec": VIOLATED})
    assert verify("--no-cache", path).code == 1
    assert verify("--no-cache", "--jobs", "2", path, str(EXAMPLES / "orbital-radiator.spec")).code == 1
    assert not private_cache.exists()  # nothing written, not even the directory
    # plant an entry that says 'proved' for this violated file: read without --no-cache only
    key = cache.result_key(path, [Path(path).read_bytes()], cache.options_of(Limits()))
    cache.store_result(key, checker.api.FileResult(path))
    assert verify(path).code == 0  # the planted entry is read (so the test can tell)
    assert verify("--no-cache", path).code == 1  # and --no-cache does not read it
    # no process started without the flag leaves anything either
    done = subprocess.run([sys.executable, "-m", "checker", "--no-cache", path], capture_output=True, cwd=ROOT, env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "fresh")))
    assert done.returncode == 1 and not (tmp_path / "fresh").exists()


def test_unknown_and_internal_errors_are_not_cached(tmp_path, private_cache):
    [path] = _files(tmp_path, {"a.spec": RANGED})
    assert verify("--rlimit", "1", path).code == 3
    assert _entries(private_cache) == []


def test_an_unusable_cache_directory_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # verify/ cannot be made inside a file
    [path] = _files(tmp_path, {"a.spec": VIOLATED})
    first, second = verify(path), verify("--jobs", "2", path, path)
    assert first.code == 1 and second.code == 1 and first.err == second.err == ""


def test_the_cache_is_under_xdg_cache_home_or_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.directory() == tmp_path / "xdg" / "verify"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for value in ("", "relative/path"):
        monkeypatch.setenv("XDG_CACHE_HOME", value)
        assert cache.directory() == tmp_path / "home" / ".cache" / "verify"


def test_the_cache_directory_is_private(tmp_path, private_cache):
    [path] = _files(tmp_path, {"a.spec": PROVED})
    verify(path)
    assert private_cache.stat().st_mode & 0o077 == 0


def test_concurrent_writers_and_readers_see_whole_entries(tmp_path):
    path = str(tmp_path / "a.spec")
    Path(path).write_text(VIOLATED, encoding="utf-8")
    result = checker.api.check_file(path)
    key = cache.result_key(path, [b"x"], {})
    seen, errors = [], []

    def hammer():
        try:
            for _ in range(40):
                cache.store_result(key, result)
                seen.append(cache.load_result(key, path))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(seen) == 320
    assert all(s == result for s in seen)  # never a partial entry (a miss would be None)
    folder = cache.directory() / "results" / key[:2]
    assert [p.name for p in folder.iterdir()] == [key]  # no temporary file left behind


def test_concurrent_runs_share_the_cache(tmp_path, private_cache):
    paths = _files(tmp_path, {"a.spec": VIOLATED, "b.spec": PROVED})
    command = [sys.executable, "-m", "checker", "--format", "json", *paths]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env) for _ in range(4)]
    outputs = set()
    for run in runs:
        out, err = run.communicate()
        outputs.add((run.returncode, out, err))
    assert len(outputs) == 1
    [(code, out, err)] = outputs
    assert code == 1 and err == b""
    assert len(_entries(private_cache)) == 2 and not list(private_cache.rglob(".tmp-*"))
    again = subprocess.run(command, capture_output=True, cwd=ROOT, env=env)
    assert (again.returncode, again.stdout) == (code, out)


# ---- imports --------------------------------------------------------------------------------

_PROBE = """
import sys
from checker.cli import main
code = main(sys.argv[1:])
print(code, *sorted(m for m in ("z3.z3", "lark", "checker.api") if m in sys.modules), file=sys.stderr)
"""


def _probe(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return done.stderr.split("\n")[-2].split()


def test_help_imports_neither_z3_nor_lark():
    assert _probe("--help") == ["0"]
    assert _probe("--jobs", "0", "x.spec") == ["4"]


def test_a_cache_hit_does_not_import_z3(tmp_path):
    [path] = _files(tmp_path, {"a.spec": VIOLATED})
    assert _probe(path) == ["1", "checker.api", "lark", "z3.z3"]  # a miss solves
    assert _probe(path) == ["1", "checker.api", "lark"]  # a hit: no Z3 at all
    assert _probe("--no-cache", path) == ["1", "checker.api", "lark", "z3.z3"]


def test_the_command_lines_exit_codes_agree_with_the_api():
    assert (cli.EXIT_OK, cli.EXIT_UNKNOWN, cli.EXIT_ERROR) == (checker.api.EXIT_OK, checker.api.EXIT_UNKNOWN, checker.api.EXIT_ERROR)


def test_help_names_the_options():
    out = subprocess.run([sys.executable, "-m", "checker", "--help"], capture_output=True, text=True, cwd=ROOT).stdout
    for word in ("--jobs", "--shard", "K/N", "--no-cache", "XDG_CACHE_HOME", "usable cores"):
        assert word in " ".join(out.split()), word


# ---- the parser cache -----------------------------------------------------------------------


class _NoBuild(parse.Lark):
    """A Lark that can be loaded but not built: tells a cached parser from a fresh one."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("the parser was built, not loaded")


def _parser_file(root: Path) -> Path:
    [entry] = list((root / "parser").iterdir())
    return entry


@pytest.mark.parametrize("how", ["garbage", "empty", "truncated", "a-pickled-class", "wrong-data"])
def test_a_corrupt_parser_cache_is_rebuilt_not_an_error(private_cache, monkeypatch, how):
    text = (EXAMPLES / "colossus1.spec").read_text(encoding="utf-8")
    expected = parse.parse_text("c.spec", text)
    monkeypatch.setattr(parse, "_parser", parse._parser.__wrapped__)  # no in-process memo for this test
    parse._parser()  # builds and stores
    entry = _parser_file(private_cache)
    good = entry.read_bytes()
    with monkeypatch.context() as patched:
        patched.setattr(parse, "Lark", _NoBuild)
        assert parse.parse_text("c.spec", text) == expected  # loaded from the cache: no build
    damaged = {
        "garbage": b"\x80\x05garbage",
        "empty": b"",
        "truncated": good[: len(good) // 3],
        "a-pickled-class": pickle.dumps(Path("/")),
        "wrong-data": pickle.dumps({"data": {}, "memo": {}}),
    }[how]
    entry.write_bytes(damaged)
    with monkeypatch.context() as patched:
        patched.setattr(parse, "Lark", _NoBuild)
        with pytest.raises(AssertionError, match="built"):
            parse._parser()  # the damaged entry is not used...
    assert parse.parse_text("c.spec", text) == expected  # ...it is rebuilt
    assert entry.read_bytes() != damaged  # and written again
    with monkeypatch.context() as patched:
        patched.setattr(parse, "Lark", _NoBuild)
        assert parse.parse_text("c.spec", text) == expected


def test_the_parser_cache_is_keyed_by_the_grammar(private_cache, monkeypatch):
    monkeypatch.setattr(parse, "_parser", parse._parser.__wrapped__)
    parse._parser()
    grammar = parse.grammar_path().read_text(encoding="utf-8")
    monkeypatch.setattr(parse, "grammar_path", lambda: _Text(grammar + "\n// another grammar\n"))
    parse._parser()
    assert len(list((private_cache / "parser").iterdir())) == 2


class _Text:
    def __init__(self, text: str) -> None:
        self.text = text

    def read_text(self, encoding: str) -> str:
        return self.text


# ---- the documentation tells the truth ------------------------------------------------------


def test_every_option_is_in_the_command_line_section_of_the_reference():
    text = (ROOT / "spec" / "language.md").read_text(encoding="utf-8")
    section = text[text.index("## Command line") :]
    section = section[: section.index("\n## ", 1)]
    flags = [flag for action in cli.build_parser()._actions for flag in action.option_strings if flag.startswith("--") and flag != "--help"]
    assert {"--jobs", "--shard", "--no-cache"} <= set(flags)
    for flag in flags:
        assert flag in section, flag


def test_the_readmes_matrix_recipe_checks_every_shard_once():
    import yaml  # PyYAML comes with pre-commit, a test dependency: fails, never skips
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("```yaml\n")[1:]
    [recipe] = [yaml.safe_load(block.split("```")[0]) for block in blocks if "matrix:" in block]
    job = recipe["jobs"]["verify"]
    shards = job["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1))
    [command] = [step["run"] for step in job["steps"] if "run" in step and "--shard" in step["run"]]
    assert f"--shard ${{{{ matrix.shard }}}}/{len(shards)} " in command
    cached = [step for step in job["steps"] if step.get("uses", "").startswith("actions/cache")]
    assert cached and cached[0]["with"]["path"] == "~/.cache/verify"
