"""Shared helpers: run the checker in-process the way a user runs it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from checker.cli import run

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DATA = ROOT / "tests" / "data"  # public schemas copied into the repository, with their sources


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


def verify(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = run(list(args), out, err)
    except SystemExit as exc:  # argparse's --help and --version
        code = exc.code if isinstance(exc.code, int) else 4
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets an empty cache directory of its own: the suite never reads or writes the
    user's ~/.cache/verify, and no test sees another's results (subprocesses inherit it too)."""
    from checker import cache

    home = tmp_path_factory.mktemp("xdg-cache")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.setattr(cache, "enabled", True)
    return home / "verify"


@pytest.fixture
def spec(tmp_path: Path):
    """Write a spec text to a file and return its path."""

    def make(text: str, name: str = "t.spec", raw: bytes | None = None) -> str:
        path = tmp_path / name
        if raw is not None:
            path.write_bytes(raw)
        else:
            path.write_text(text, encoding="utf-8")
        return str(path)

    return make
