"""Checking many files: the result cache, a pool of worker processes, and shards for a CI matrix.

:func:`check_files` returns one :class:`~checker.api.FileResult` per path, in the order of the
paths, whatever the number of processes: the report and the exit code do not depend on
``--jobs``. Each worker is a process of its own (forked on Linux, so it starts with the parent's
imports and parser); it is handed one file at a time and sends the pickled result back. A worker
that dies (a crash in Z3, the kernel's out-of-memory killer) makes that one file an internal
error (exit 4); a new worker takes its place and every other file is still checked.
"""

from __future__ import annotations

import os
import pickle
import re
import sys
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from checker.api import FileResult
    from checker.verdicts import Limits


def usable_cores() -> int:
    """The processors this process may run on (its affinity mask, not the machine's count)."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13
    if counter is not None:
        count = counter()
    else:
        try:
            count = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            count = os.cpu_count()
    return max(1, count or 1)


SHARD_HELP = "K/N with whole numbers 1 <= K <= N"


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` → (K, N); ValueError with the reason when it is not one."""
    match = re.fullmatch(r"([0-9]+)/([0-9]+)", text.strip())
    if not match:
        raise ValueError(f"must be {SHARD_HELP}, not {text!r}")
    k, n = int(match.group(1)), int(match.group(2))
    if not 1 <= k <= n:
        raise ValueError(f"must be {SHARD_HELP}, not {text!r}")
    return k, n


def shard(files: list[str], k: int, n: int) -> list[str]:
    """The K-th of N slices: file i of the expanded list (counting from 0; directories are
    searched in sorted order, so the list is the same on every machine) goes to slice
    i mod N + 1. The N slices are disjoint, their union is the whole list, and their sizes
    differ by at most one."""
    return [path for index, path in enumerate(files) if index % n == k - 1]


def check_files(paths: list[str], limits: Limits, jobs: int = 1, use_cache: bool = True) -> list[FileResult]:
    """Every file's result, in the order of ``paths``: from the cache where it has one, else
    checked in up to ``jobs`` worker processes (``jobs`` 1, or a single file to check: in this
    process)."""
    from checker import cache

    enabled, cache.enabled = cache.enabled, use_cache
    try:
        return _check_files(paths, limits, jobs, use_cache)
    finally:
        cache.enabled = enabled


def _check_files(paths: list[str], limits: Limits, jobs: int, use_cache: bool) -> list[FileResult]:
    from checker import api, cache

    results: list[FileResult | None] = [None] * len(paths)
    todo: list[tuple[int, str, bytes, str | None]] = []
    options = cache.options_of(limits) if use_cache else {}
    for index, path in enumerate(paths):
        try:
            data = Path(path).read_bytes()
        except OSError:
            results[index] = api.check_file(path, limits)  # the read error, reported as ever
            continue
        from checker import imports

        # parsed here, before any worker is forked: each file once per run, imports included
        depends = imports.dependencies(path, data)
        key = None
        if use_cache:
            key = cache.result_key(path, [data, *(part for name, text in depends for part in (name.encode("utf-8", "surrogateescape"), text))], options)
            hit = cache.load_result(key, path)
            if hit is not None:
                results[index] = hit
                continue
        todo.append((index, path, data, key))
    keys = {index: key for index, _, _, key in todo}

    def record(index: int, result: FileResult) -> None:
        results[index] = result
        if keys[index] is not None:
            cache.store_result(keys[index], result)

    workers = min(max(1, jobs), len(todo))
    if workers > 1:
        import multiprocessing

        if multiprocessing.current_process().daemon:
            workers = 1  # a daemonic process may not start processes of its own
    if workers > 1:
        try:
            for index, result in _pool(todo, limits, workers):
                record(index, result)
        except OSError:  # no process could be started (a process limit): the rest in this one
            pass
    for index, path, data, _ in todo:
        if results[index] is None:
            record(index, api.check_bytes(path, data, limits))
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


# ---- the pool -------------------------------------------------------------------------------


def crashed(path: str, data: bytes, why: str) -> FileResult:
    """The result of a file whose worker died: an internal error (exit 4) of that file alone."""
    from checker.api import FileResult
    from checker import codes
    from checker.diagnostics import Span, error
    from checker.parse import source_lines

    result = FileResult(path, source_lines(data.decode("utf-8", "replace")))
    result.diagnostics.append(error(Span(path, 1, 1, 1, 1), codes.INTERNAL, f"internal error while checking this file: {why}; this is a bug in verify, please report it with the spec"))
    return result


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process checking it was killed by {name}"
    return f"the worker process checking it stopped (exit status {code})"


def _prepare() -> None:
    """Before forking: everything the workers need, loaded once here and shared."""
    from checker import api, parse, solve  # noqa: F401  (solve imports Z3: once, before the fork)

    parse._parser()
    for stream in (sys.stdout, sys.stderr):  # a forked child must not write the parent's buffers again
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def _pool(todo: list[tuple[int, str, bytes, str | None]], limits: Limits, workers: int) -> Iterator[tuple[int, FileResult]]:
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    _prepare()
    queue = deque(todo)
    live: dict = {}  # connection -> [process, the task it is checking or None]
    finished: list[tuple[int, FileResult]] = []  # crashes found while handing out files

    def start() -> None:
        """A new worker, given the next file."""
        parent, child = context.Pipe()
        process = context.Process(target=_work, args=(child, limits), daemon=True)
        process.start()
        child.close()  # the child's end lives only in the child: its death is an EOF here
        live[parent] = [process, None]
        feed(parent)

    def feed(connection) -> None:
        """Hand the worker the next file, or tell it to stop when there is none."""
        process, _ = live[connection]
        if not queue:
            del live[connection]
            _stop(connection, process)
            return
        task = queue.popleft()
        live[connection][1] = task
        try:
            connection.send((task[1], task[2]))
        except OSError:
            died(connection)

    def died(connection) -> None:
        """The worker is gone: its file is an internal error, and a new worker goes on."""
        process, task = live.pop(connection)
        connection.close()
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
        finished.append((task[0], crashed(task[1], task[2], _exit_reason(process.exitcode))))
        if queue:
            start()

    try:
        for _ in range(workers):
            if queue:
                start()
        while live or finished:
            while finished:
                yield finished.pop()
            if not live:
                break
            sentinels = {process.sentinel: connection for connection, (process, _) in live.items()}
            ready = wait([*live, *sentinels])
            for connection in {sentinels.get(item, item) for item in ready}:
                if connection not in live:
                    continue
                process, task = live[connection]
                if not connection.poll():  # only its sentinel is ready: the process ended
                    if not process.is_alive():
                        died(connection)
                    continue
                try:
                    payload = connection.recv_bytes()
                except (EOFError, OSError):  # the pipe closed with no result: the worker died
                    died(connection)
                    continue
                try:
                    result = pickle.loads(payload)
                except Exception as exc:  # noqa: BLE001
                    result = crashed(task[1], task[2], f"its result could not be read back: {type(exc).__name__}: {exc}")
                live[connection][1] = None
                finished.append((task[0], result))
                feed(connection)
    finally:
        for connection, (process, _) in list(live.items()):
            if process.is_alive():
                process.kill()
            process.join()
            connection.close()
        live.clear()


def _stop(connection, process) -> None:
    try:
        connection.send(None)
    except OSError:
        pass
    connection.close()
    process.join(5)
    if process.is_alive():
        process.kill()
        process.join()


def _work(connection, limits: Limits) -> None:
    """A worker: check files until told to stop. Never prints; never returns normally (it
    leaves with os._exit, so nothing inherited from the parent is flushed or run twice)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    code = 0
    try:
        from checker import api

        while True:
            task = connection.recv()
            if task is None:
                break
            path, data = task
            try:
                result = api.check_bytes(path, data, limits)
                payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException:  # noqa: BLE001 - this file's internal error, not the run's
                payload = pickle.dumps(crashed(path, data, "the worker process checking it failed"), protocol=pickle.HIGHEST_PROTOCOL)
            connection.send_bytes(payload)
    except BaseException:  # noqa: BLE001 - the parent sees the pipe close and reports the file
        code = 1
    finally:
        os._exit(code)
