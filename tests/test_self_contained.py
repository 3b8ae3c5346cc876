"""A clone needs nothing beside it: no file of the repository refers to a directory outside it.

The project was developed next to a folder of shared material; a user's clone has no such
folder, so the product, its tests and its scripts must never read from it. Public data the
tests need is copied into tests/data with its source and licence.
"""

from __future__ import annotations

import subprocess

from conftest import DATA, ROOT

# written split, so this file does not match itself
OUTSIDE = ("../" + "shared", "shared" + "/data", "parent / " + '"shared"')


def _tracked_files() -> list[str]:
    done = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [name for name in done.stdout.decode().split("\0") if name]


def test_no_file_refers_to_a_folder_beside_the_repository():
    offenders = []
    for name in _tracked_files():
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        offenders += [f"{name}: {needle}" for needle in OUTSIDE if needle in text]
    assert offenders == []


def test_the_schemas_the_tests_validate_against_are_in_the_repository():
    for name in ("sarif-schema-2.1.0.json", "junit.xsd"):
        assert (DATA / name).is_file(), name
        assert name in (DATA / "README.md").read_text(encoding="utf-8"), f"{name} has no source line"
