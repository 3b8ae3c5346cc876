"""The pre-commit hook, with the real pre-commit: it passes a good spec and blocks a violated one.

`pre-commit try-repo` installs a hook from a git repository at a commit, so the test copies this
project as it is on disk (tracked files and new, not ignored ones, with their working-tree
contents) into a temporary repository and commits it there: it tests uncommitted work too, and
runs the same in a fresh CI clone. pre-commit then pip-installs the project (lark and z3-solver)
into its own environment; pip's downloads are cached in .pytest_cache/pre-commit, so a second
run does not fetch z3-solver again. try-repo always builds its environment in a temporary
store, so PRE_COMMIT_HOME only keeps pre-commit away from the user's cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


from conftest import ROOT

import pre_commit  # noqa: E402,F401 - a test dependency: missing, the test must fail, not skip

HOOK = "verify-cluster-spec"
GOOD = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck ok: p.area <= 2000 m^2\n"
BAD = "radiator p { heat = 1 MW; emissivity = 0.9; temperature = 330 K }\ncheck no: p.area <= 100 m^2\n"
CACHE = ROOT / ".pytest_cache" / "pre-commit"


def _git_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),  # an empty file: no user hooks, signing or templates
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="verify tests",
        GIT_AUTHOR_EMAIL="tests@verify.invalid",
        GIT_COMMITTER_NAME="verify tests",
        GIT_COMMITTER_EMAIL="tests@verify.invalid",
        GIT_AUTHOR_DATE="2000-01-01T00:00:00+0000",
        GIT_COMMITTER_DATE="2000-01-01T00:00:00+0000",
        PRE_COMMIT_HOME=str(home / "pre-commit"),
        PIP_CACHE_DIR=str(CACHE / "pip"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.pop("VIRTUAL_ENV", None)
    return env


def _git(*args: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def _snapshot(target: Path, env: dict[str, str]) -> Path:
    """This project as it is on disk, committed in a fresh repository."""
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT, env=env)
    target.mkdir()
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree stays deleted
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    assert (target / ".pre-commit-hooks.yaml").is_file() and (target / "pyproject.toml").is_file()
    _git("init", "-q", cwd=target, env=env)
    _git("add", "-A", cwd=target, env=env)
    _git("commit", "-q", "-m", "snapshot of the working tree", cwd=target, env=env)
    return target


def _try(project: Path, user: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(project), HOOK, "--color", "never", "--verbose", "--files", *files],
        cwd=user, env=env, capture_output=True, text=True, timeout=900,
    )


def test_the_hook_passes_a_good_spec_and_blocks_a_violated_one(tmp_path: Path):
    # CI runs from a clone: a tree without .git is a broken setup, not a reason to pass quietly
    assert (ROOT / ".git").exists(), "the pre-commit test needs the project as a git checkout"
    (tmp_path / "gitconfig").write_text("")
    CACHE.mkdir(parents=True, exist_ok=True)
    env = _git_env(tmp_path)
    project = _snapshot(tmp_path / "project", env)

    user = tmp_path / "user"
    user.mkdir()
    _git("init", "-q", cwd=user, env=env)
    (user / "good.spec").write_text(GOOD, encoding="utf-8")
    (user / "bad.spec").write_text(BAD, encoding="utf-8")
    (user / "notes.txt").write_text("not a spec\n", encoding="utf-8")
    _git("add", "-A", cwd=user, env=env)

    good = _try(project, user, env, "good.spec", "notes.txt")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "verify cluster specs" in good.stdout and "Passed" in good.stdout
    assert "good.spec: proved" in good.stdout and "notes.txt" not in good.stdout  # files: \.spec$

    bad = _try(project, user, env, "good.spec", "bad.spec")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Failed" in bad.stdout and "- exit code: 1" in bad.stdout
    assert "bad.spec:2:1: error: check 'no' is violated" in bad.stdout
    assert "good.spec: proved" in bad.stdout  # every file is still checked

    # a changed catalog rechecks every spec that imports it, though only the catalog is staged
    (user / "catalog").mkdir()
    (user / "catalog" / "gpus.spec").write_text("gpu G { peak = 989 TFLOP/s; memory = 80 GB; tdp = 800 W }\n", encoding="utf-8")
    (user / "site.spec").write_text('import "catalog/gpus.spec" as cat\ncheck cap: cat.G.tdp <= 700 W\n', encoding="utf-8")
    _git("add", "-A", cwd=user, env=env)
    changed = _try(project, user, env, "catalog/gpus.spec")
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert "catalog/gpus.spec: no checks" in changed.stdout and "site.spec:2:1: error: check 'cap' is violated" in changed.stdout
