"""The command line: exit codes over several files, directories, formats, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, verify

PROVED = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n"
# a claim on a range: a claim on constants alone is decided by exact arithmetic, whatever the solver limits
RANGED = "radiator p { heat = 1 MW; emissivity = 0.85 .. 0.92; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n"
VIOLATED = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck no: p.area <= 100 m^2\n"
INVALID = "radiator p { heat = 1 MW emissivity = 0.9 }\n"


def test_exit_codes_of_single_files(spec):
    assert verify(spec(PROVED)).code == 0
    assert verify(spec(VIOLATED)).code == 1
    assert verify(spec(INVALID)).code == 2


@pytest.mark.parametrize(
    "files, expected",
    [
        ((PROVED, PROVED), 0),
        ((PROVED, VIOLATED), 1),
        ((VIOLATED, INVALID), 2),
        ((INVALID, PROVED, VIOLATED), 2),
    ],
)
def test_most_severe_wins_and_every_file_is_checked(spec, files, expected):
    paths = [spec(text, name=f"f{i}.spec") for i, text in enumerate(files)]
    result = verify(*paths)
    assert result.code == expected
    for path in paths:
        assert result.out.count(f"{path}: ") >= 1, path  # every file has its own verdict line


def test_unknown_counts_below_a_violation_and_above_a_pass(spec, monkeypatch):
    # an rlimit of 1 makes the solver give up on everything: unknown, exit 3, never a pass
    result = verify("--rlimit", "1", spec(RANGED))
    assert result.code == 3
    assert "check 'ok' is unknown:" in result.out and "(--rlimit)" in result.out and "this is not a pass" in result.out
    both = verify("--rlimit", "1", spec(RANGED, "a.spec"), spec(INVALID, "b.spec"))
    assert both.code == 2


def test_missing_file_is_a_usage_error_but_the_rest_is_checked(spec, tmp_path):
    result = verify(str(tmp_path / "nope.spec"), spec(VIOLATED))
    assert result.code == 4
    assert "no such file or directory" in result.err
    assert "violated" in result.out


def test_directories_recurse_into_spec_files_in_order(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.spec").write_text(PROVED)
    (tmp_path / "a.spec").write_text(VIOLATED)
    (tmp_path / "notes.txt").write_text("not a spec")
    result = verify(str(tmp_path))
    assert result.code == 1
    assert result.out.index("a.spec") < result.out.index("z.spec")
    assert "notes.txt" not in result.out


def test_usage_errors_exit_4():
    assert verify().code == 4
    assert verify("--format", "yaml", "x.spec").code == 4
    assert verify("--timeout", "0", "x.spec").code == 4


def test_help_tells_the_truth():
    result = subprocess.run([sys.executable, "-m", "checker", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0
    for word in ("--format", "--timeout", "--rlimit", "--output", "exit codes", "4 > 2 > 1 > 3 > 0"):
        assert word in result.stdout


def test_json_report_is_the_only_thing_on_stdout(spec):
    result = verify("--format", "json", spec(VIOLATED))
    data = json.loads(result.out)
    assert data["schema"] == "verify-report/1" and data["exit_code"] == 1
    check = data["files"][0]["checks"][0]
    assert check["name"] == "no" and check["status"] == "violated"
    assert check["counterexample"]["left"]["exact"].count("/") == 1
    assert check["span"]["line"] == 2


def test_output_file(spec, tmp_path):
    target = tmp_path / "report.json"
    result = verify("--format", "json", "--output", str(target), spec(PROVED))
    assert result.out == "" and json.loads(target.read_text())["exit_code"] == 0


def test_no_traceback_on_a_directory_named_like_a_spec(tmp_path):
    (tmp_path / "dir.spec").mkdir()
    result = verify(str(tmp_path / "dir.spec"))
    assert "Traceback" not in result.out + result.err


def test_the_command_ends_at_once_with_everything_written(tmp_path):
    """`verify` (and `python -m checker`) skips the interpreter's teardown: its whole report must
    still reach a pipe and a file, with the exit code main() returned."""
    specs = [str(p) for p in sorted((ROOT / "examples").glob("*radiator*.spec"))]
    env = {**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    piped = subprocess.run([sys.executable, "-m", "checker", "--format", "json", *specs], capture_output=True, text=True, cwd=ROOT, env=env)
    assert piped.returncode == 1 and piped.stderr == ""
    assert [r["path"] for r in json.loads(piped.stdout)["files"]] == specs  # the whole document, parsed
    with open(tmp_path / "out.txt", "w") as handle:
        written = subprocess.run([sys.executable, "-m", "checker", *specs], stdout=handle, cwd=ROOT, env=env)
    text = (tmp_path / "out.txt").read_text()
    assert written.returncode == 1 and text.endswith("--format json has exact values)\n") and f"{len(specs)} files:" in text
    usage = subprocess.run([sys.executable, "-m", "checker", "--no-such-option"], capture_output=True, text=True, cwd=ROOT)
    assert usage.returncode == 4 and "usage" in usage.stderr
