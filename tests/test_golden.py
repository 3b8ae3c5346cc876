"""Golden pairs: each example and each bad spec against its expected report, byte for byte.

Regenerate after an intended change with:  UPDATE_GOLDEN=1 pytest tests/test_golden.py
and read the diff before committing it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import ROOT, verify

GOLDEN = ROOT / "tests" / "golden"
CASES = sorted(p.relative_to(ROOT) for p in [*(ROOT / "examples").glob("*.spec"), *(ROOT / "tests" / "bad").glob("*.spec")])
EXPECTED_EXIT = re.compile(r"^# expected exit: (\d)$", re.M)


def _golden(case: Path) -> Path:
    return GOLDEN / (("bad-" if case.parts[0] == "tests" else "") + case.stem + ".out")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_golden_report(case: Path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = verify(str(case))
    golden = _golden(case)
    text = f"# verify {case}\n# exit {result.code}\n{result.out}"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden}; run with UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")
    assert result.err == ""
    assert "Traceback" not in result.out


def test_examples_state_their_verdicts_in_comments():
    """Each example's header comment names its checks' verdicts; they must match the run."""
    for case in (ROOT / "examples").glob("*.spec"):
        result = verify(str(case))
        text = case.read_text(encoding="utf-8")
        stated = re.findall(r"^#\s+(\w+)\s{2,}(proved|violated)\b", text, re.M)
        stated += re.findall(r"^check\s+(\w+)\s*:.*#\s*(proved|violated)\b", text, re.M)
        assert stated, f"{case.name} states no expected verdicts"
        for name, verdict in stated:
            assert re.search(rf"^  {verdict}\s+{name}  \(line", result.out, re.M), (case.name, name, verdict)
