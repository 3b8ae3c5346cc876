"""The subcommands of ``verify``: ``fmt`` (checker/fmt.py), ``lsp`` (checker/lsp.py) and
``explain`` (checker/explain.py).

``verify FILE...`` stays the checker; a subcommand word is taken only as the first argument
(``verify ./fmt`` checks a file named fmt).
"""

from __future__ import annotations

from typing import TextIO


def run(name: str, argv: list[str], stdout: TextIO, stderr: TextIO, stdin=None) -> int:
    if name == "fmt":
        from checker import fmt

        return fmt.run(argv, stdout, stderr, stdin)
    if name == "explain":
        from checker import explain

        return explain.run(argv, stdout, stderr, stdin)
    from checker import lsp

    return lsp.run(argv, stdout, stderr, stdin)
