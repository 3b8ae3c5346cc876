"""The on-disk cache: checked files' results and the grammar's parse tables.

Everything lives under ``$XDG_CACHE_HOME/verify/`` (``~/.cache/verify/`` when the variable is
unset or not an absolute path), in a directory only its owner can read:

- ``results/XX/KEY``: one checked file's :class:`~checker.api.FileResult`, pickled. ``KEY`` is
  the SHA-256 of everything the result depends on (:func:`result_key`): the file's path as
  given and its bytes, the path and bytes of every file it imports (directly or not, and the
  repository root they were found under: checker/imports.py), the checker's own source (every ``.py`` file of the package and the
  grammar, hashed once per run), the Python, Z3 and Lark installations, and the options that
  change a result (the solver limits and seed; not the report format). A result is stored only
  when it is proved, violated or invalid: an unknown (which may be a timeout on a busy
  machine) or an internal error is checked again next time.
- ``parser/KEY.lark``: the LALR tables of the grammar, built once per grammar, Lark and Python.

Writes go to a temporary file in the same directory, then ``os.replace``: a reader sees a
whole entry or none, so concurrent runs are safe. An entry that cannot be read, is truncated,
is for another key or holds anything but the checker's own classes is a miss (it is then
rewritten). The cache never makes a run fail: a directory that cannot be created or written
just means no caching. ``verify --no-cache`` neither reads nor writes it; deleting the
directory is always safe.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

FORMAT = 1  # bump when what is stored changes shape
_RESULT_MAGIC = b"verify-result/%d\n" % FORMAT

enabled = True  # False (--no-cache): the parser cache is neither read nor written (the runner
# decides for the results, which it alone reads and writes)


def directory() -> Path | None:
    """The cache directory, or None when there is no usable home for it."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, empty or relative: the XDG spec says to ignore it
        try:
            base = str(Path.home() / ".cache")
        except (RuntimeError, KeyError):
            return None
    return Path(base) / "verify"


# ---- what a result depends on ---------------------------------------------------------------


def _package_files(package: Path, grammar: Path | None) -> list[tuple[str, Path]]:
    """Every ``.py`` file of the package by its relative name, in name order (os.scandir: a tenth
    of what pathlib's rglob costs on a cold start)."""
    files: list[tuple[str, Path]] = []

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        walk(entry.path, f"{prefix}{entry.name}/")
                elif entry.name.endswith(".py"):
                    files.append((prefix + entry.name, Path(entry.path)))

    walk(str(package), "")
    files.sort()
    if grammar is not None:
        files.append(("<grammar>", grammar))
    return files


def source_digest(package: Path, grammar: Path | None) -> bytes:
    """SHA-256 over the package's ``.py`` files (names and bytes) and the grammar."""
    digest = hashlib.sha256(b"verify-source\0")
    for name, path in _package_files(package, grammar):
        data = path.read_bytes()
        digest.update(b"%s\0%d\0" % (name.encode("utf-8", "surrogateescape"), len(data)))
        digest.update(data)
    return digest.digest()


def _installation(name: str) -> str:
    """Where a dependency is installed and the size and time of its top files: changes on any
    upgrade or reinstall, without importing it (``importlib.metadata`` costs about 50 ms)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return f"{name}: none"
    if spec is None or not spec.origin:
        return f"{name}: none"
    root = Path(spec.origin).parent
    entries = []
    for folder in (root, root / "lib"):
        try:
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                if entry.is_file():
                    info = entry.stat()
                    entries.append(f"{entry.name}:{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            continue
    return f"{name}: {root} " + " ".join(entries)


@lru_cache(maxsize=1)
def tool_digest() -> bytes:
    """The checker as installed: its source, the grammar, Python, Z3 and Lark. Once per run."""
    import checker
    from checker.parse import grammar_path

    try:
        grammar: Path | None = grammar_path()
    except FileNotFoundError:
        grammar = None
    digest = hashlib.sha256(source_digest(Path(checker.__file__).resolve().parent, grammar))
    digest.update(sys.version.encode())
    for name in ("z3", "lark"):
        digest.update(_installation(name).encode("utf-8", "surrogateescape"))
    return digest.digest()


def options_of(limits: Any) -> dict[str, Any]:
    """The options that change a result: every field of the solver limits (timeout, resource
    and memory limits, seed, search budget). The report format, --quiet and --allow-unknown
    only change how results are shown, so they are not part of it."""
    import dataclasses

    return {"limits": {f.name: getattr(limits, f.name) for f in dataclasses.fields(limits)}}


def result_key(path: str, texts: Sequence[bytes], options: Mapping[str, Any]) -> str:
    """The key of a file's result: its path as given (it is in the report), the bytes of every
    text the result depends on (the file itself first, then each imported file's path and bytes,
    from checker.imports.dependencies), the checker (:func:`tool_digest`) and the options."""
    digest = hashlib.sha256(_RESULT_MAGIC)
    digest.update(tool_digest())
    digest.update(repr(sorted((k, sorted(v.items()) if isinstance(v, dict) else v) for k, v in options.items())).encode())  # canonical: sorted keys
    encoded = path.encode("utf-8", "surrogateescape")
    digest.update(b"%d\0" % len(encoded) + encoded)
    for text in texts:
        digest.update(b"%d\0" % len(text))
        digest.update(text)
    return digest.hexdigest()


# ---- results --------------------------------------------------------------------------------


class _Unpickler(pickle.Unpickler):
    """Builds only the checker's own classes and Fraction: a cache entry is data, not code."""

    def find_class(self, module: str, name: str):
        if module == "checker" or module.startswith("checker.") or (module, name) == ("fractions", "Fraction"):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a cache entry")


def _result_file(key: str) -> Path | None:
    root = directory()
    return None if root is None else root / "results" / key[:2] / key


def _header(key: str, payload: bytes) -> bytes:
    """What precedes the pickle: the format, the key and the payload's own SHA-256, so that a
    damaged entry (a flipped bit still unpickles) or another key's entry is a miss."""
    return _RESULT_MAGIC + key.encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n"


def load_result(key: str, path: str):
    """The cached FileResult for this key, or None (a miss: absent, unreadable or corrupt)."""
    target = _result_file(key)
    if target is None:
        return None
    try:
        data = target.read_bytes()
    except OSError:
        return None
    size = len(_RESULT_MAGIC) + len(key) + 1 + 64 + 1
    payload = data[size:]
    if data[:size] != _header(key, payload):
        return None
    try:
        result = _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # noqa: BLE001 - any damage is a miss
        return None
    from checker.api import FileResult

    if type(result) is not FileResult or result.path != path:
        return None
    return result


def cacheable(result) -> bool:
    """Proved, violated or invalid: results that do not depend on how busy the machine was."""
    return result.exit_code in (0, 1, 2)


def store_result(key: str, result) -> None:
    if not cacheable(result):
        return
    target = _result_file(key)
    if target is None:
        return
    try:
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - an unpicklable result is simply not cached
        return
    write_atomic(target, _header(key, payload) + payload)


def write_atomic(target: Path, data: bytes) -> bool:
    """Write a temporary file beside the target, then rename it over: never a partial entry.
    Any error (read-only disk, no space, no permission) leaves the cache as it was."""
    import tempfile

    try:
        root = directory()
        if root is not None and root in target.parents:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)  # private: only its owner reads it
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    except OSError:
        return False
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
        return True
    except OSError:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        return False


# ---- the parser -----------------------------------------------------------------------------


def parser(grammar: str, version: str, build: Callable[[], Any], save: Callable[[Any], dict], load: Callable[[dict], Any]):
    """The parser for a grammar: loaded from the cache (about 5 ms) or built (about 50 ms) and
    stored. ``save`` turns a parser into plain data (dicts, lists, strings, numbers), ``load``
    turns that data back into a parser; an entry that is not plain data or does not load is
    rebuilt."""
    if not enabled or directory() is None:
        return build()
    key = hashlib.sha256(b"\0".join([b"verify-parser/%d" % FORMAT, grammar.encode(), version.encode(), sys.version.encode()])).hexdigest()
    target = directory() / "parser" / f"{key}.lark"  # type: ignore[operator]
    try:
        data = target.read_bytes()
        return load(_PlainUnpickler(io.BytesIO(data)).load())
    except Exception:  # noqa: BLE001 - absent, truncated, garbage: build it again
        pass
    built = build()
    try:
        payload = pickle.dumps(save(built), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001
        return built
    write_atomic(target, payload)
    return built


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the parser cache")
