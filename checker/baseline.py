"""Margins between revisions: this run against an earlier ``--format json`` report.

Everything here works on two JSON reports (the old one read from disk, the new one built by
checker.report.to_json), so the comparison sees exactly what a user of the JSON sees. Values
are compared exactly, from the reports' ``"exact": "p/q"`` strings; both sides are shown in the
unit the new report uses. Nothing here prints.
"""

from __future__ import annotations

import json
from fractions import Fraction

from checker.numbers import fmt, ratio
from checker.units import ONE, UnitError, parse_unit

SCHEMA = "verify-report/1"


class BaselineError(Exception):
    """The baseline file cannot be used; the message says why."""


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise BaselineError(f"cannot read the baseline {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"the baseline {path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA or not isinstance(data.get("files"), list):
        raise BaselineError(f"the baseline {path} is not a verify report (expected \"schema\": \"{SCHEMA}\", from verify --format json)")
    return data


# ---- pairing files and checks ----------------------------------------------------------


def _pair(old_files: list[dict], new_files: list[dict]) -> list[tuple[dict | None, dict | None]]:
    """Files by path; then by file name when it is unique on both sides; then, when each run
    has a single file, those two (``verify --baseline old.json new.spec`` after
    ``verify --format json old.spec``)."""
    old_left = list(old_files)
    matched: dict[int, dict] = {}
    for i, new in enumerate(new_files):
        same = next((old for old in old_left if old["path"] == new["path"]), None)
        if same is not None:
            matched[i] = same
            old_left.remove(same)

    def name(path: str) -> str:
        return path.replace("\\", "/").rsplit("/", 1)[-1]

    for i, new in enumerate(new_files):
        if i in matched:
            continue
        olds = [old for old in old_left if name(old["path"]) == name(new["path"])]
        news = [n for j, n in enumerate(new_files) if j not in matched and name(n["path"]) == name(new["path"])]
        if len(olds) == 1 and len(news) == 1:
            matched[i] = olds[0]
            old_left.remove(olds[0])
    if len(new_files) == 1 and len(old_files) == 1 and not matched:
        matched[0] = old_left.pop()
    pairs: list[tuple[dict | None, dict | None]] = [(matched.get(i), new) for i, new in enumerate(new_files)]
    pairs.extend((old, None) for old in old_left)
    return pairs


def _unit(number: dict | None) -> str | None:
    if not number or "shown" not in number:
        return None
    return number["shown"].partition(" ")[2]


def _scale(unit: str | None):
    """(scale, dimension) of a unit text; "" is a plain number, None an unknown unit."""
    if unit is None:
        return Fraction(1), None
    if unit == "":
        return Fraction(1), ONE
    try:
        return parse_unit(unit)
    except UnitError:
        return None, None


def _number(value: Fraction, unit: str | None) -> dict:
    scale, _ = _scale(unit)
    out = {"exact": ratio(value), "decimal": fmt(value)}
    if unit is not None:
        out["shown"] = f"{fmt(value / scale)} {unit}".rstrip() if scale is not None else f"{fmt(value)} (base units)"
    return out


def _move(old: dict | None, new: dict | None) -> dict | None:
    """How a number moved: old and new in the new side's unit, the exact difference, the trend."""
    if old is None and new is None:
        return None
    unit = _unit(new) if new is not None else _unit(old)
    out: dict = {"old": None, "new": None, "delta": None}
    before = Fraction(old["exact"]) if old else None
    after = Fraction(new["exact"]) if new else None
    if before is None:
        out.update(new=_number(after, unit), trend="appeared")
        return out
    if after is None:
        out.update(old=_number(before, unit), trend="vanished")
        return out
    old_unit, new_unit = _unit(old), _unit(new)
    if old_unit != new_unit and (_scale(old_unit)[1] != _scale(new_unit)[1] or _scale(new_unit)[0] is None):
        out.update(old=old, new=new, trend="incomparable")
        return out
    out.update(old=_number(before, unit), new=_number(after, unit), delta=_number(after - before, unit))
    out["trend"] = "rose" if after > before else "fell" if after < before else "unchanged"
    return out


def _entry(name: str, kind: str, old: dict | None, new: dict | None) -> dict:
    def side(check: dict | None, key: str):
        return check.get(key) if check else None

    entry = {
        "name": name,
        "kind": kind,
        "change": "compared" if old and new else "new" if new else "removed",
        "status": {"old": side(old, "status"), "new": side(new, "status")},
        "claim": {"old": side(old, "claim"), "new": side(new, "claim")},
        "worst_case": _move((side(old, "worst_case") or {}).get("value"), (side(new, "worst_case") or {}).get("value")),
        "margin": _move(side(old, "margin"), side(new, "margin")),
    }
    if side(old, "find") or side(new, "find"):  # a find statement: its answer moved too (its margin is the answer's distance from the range's start)
        entry["answer"] = _move((side(old, "find") or {}).get("answer"), (side(new, "find") or {}).get("answer"))
    return entry


def _checks(old: dict | None, new: dict | None) -> list[dict]:
    old_checks = {c["name"]: c for c in (old or {}).get("checks", []) if c.get("kind") == "check"}
    new_checks = {c["name"]: c for c in (new or {}).get("checks", []) if c.get("kind") == "check"}
    out = [_entry(name, "check", old_checks.get(name), check) for name, check in new_checks.items()]
    out += [_entry(name, "check", check, None) for name, check in old_checks.items() if name not in new_checks]
    # built-in invariants only when they changed status: there are dozens and they come and go with blocks
    old_inv = {c["name"]: c for c in (old or {}).get("checks", []) if c.get("kind") == "invariant"}
    for check in (new or {}).get("checks", []):
        before = old_inv.get(check["name"])
        if check.get("kind") == "invariant" and before is not None and before["status"] != check["status"]:
            out.append(_entry(check["name"], "invariant", before, check))
    return out


def compare(old: dict, new: dict, source: str) -> dict:
    """The ``"baseline"`` member of a JSON report: every file and check of both runs, paired."""
    files = []
    summary = {"compared": 0, "margin_fell": 0, "margin_rose": 0, "margin_unchanged": 0, "new": 0, "removed": 0}
    for before, after in _pair(old.get("files", []), new.get("files", [])):
        checks = _checks(before, after)
        for entry in checks:
            if entry["kind"] != "check":
                continue
            if entry["change"] != "compared":
                summary[entry["change"]] += 1
                continue
            summary["compared"] += 1
            trend = (entry["margin"] or {}).get("trend")
            if trend in ("fell", "rose", "unchanged"):
                summary[f"margin_{trend}"] += 1
        files.append(
            {
                "path": after["path"] if after else None,
                "baseline_path": before["path"] if before else None,
                "status": {"old": before["status"] if before else None, "new": after["status"] if after else None},
                "checks": checks,
            }
        )
    return {"source": source, "files": files, "summary": summary}


def states(old: dict, new: dict) -> dict[tuple[str, ...], str]:
    """SARIF baselineState for this run's results: keys as checker.formats.sarif_results makes them."""
    out: dict[tuple[str, ...], str] = {}
    for before, after in _pair(old.get("files", []), new.get("files", [])):
        if before is None or after is None:
            continue
        known = {(d["code"], d["message"]) for d in before.get("diagnostics", [])}
        for d in after.get("diagnostics", []):
            if (d["code"], d["message"]) in known:
                out[(after["path"], d["code"], d["message"])] = "unchanged"
        for entry in _checks(before, after):
            if entry["change"] != "compared" or entry["status"]["old"] != entry["status"]["new"]:
                continue
            moved = any((entry.get(key) or {}).get("trend") not in (None, "unchanged") for key in ("worst_case", "margin", "answer"))
            out[(after["path"], f"{entry['kind']}/{entry['name']}")] = "updated" if moved else "unchanged"
        old_invariants = {c["name"]: c["status"] for c in before.get("checks", []) if c.get("kind") == "invariant"}
        for check in after.get("checks", []):
            if check.get("kind") == "invariant" and old_invariants.get(check["name"]) == check["status"]:
                out[(after["path"], f"invariant/{check['name']}")] = "unchanged"
    return out


# ---- text -------------------------------------------------------------------------------


def _shown(number: dict) -> str:
    return number.get("shown", number["decimal"])


def _moved(label: str, move: dict | None) -> str | None:
    if move is None:
        return None
    trend = move["trend"]
    if trend == "appeared":
        return f"{label} {_shown(move['new'])} (none before)"
    if trend == "vanished":
        return f"no {label} now (was {_shown(move['old'])})"
    if trend == "incomparable":
        return f"{label} not comparable: {_shown(move['old'])} before, {_shown(move['new'])} now"
    if trend == "unchanged":
        return f"{label} unchanged at {_shown(move['new'])}"
    return f"{label} {trend} from {_shown(move['old'])} to {_shown(move['new'])}"


def _check_line(entry: dict) -> list[str]:
    name = entry["name"] if entry["kind"] == "check" else f"invariant '{entry['name']}'"
    old, new = entry["status"]["old"], entry["status"]["new"]
    if entry["change"] == "removed":
        return [f"  {name}: removed (was {old})"]
    parts = [f"new check, {new}" if entry["change"] == "new" else f"still {new}" if old == new else f"now {new} (was {old})"]
    if entry["change"] == "new":
        parts += [f"{label} {_shown(entry[key]['new'])}" for key, label in (("answer", "answer"), ("worst_case", "worst case"), ("margin", "margin")) if entry.get(key) and entry[key]["new"]]
    else:
        parts += [text for text in (_moved("answer", entry.get("answer")), _moved("worst case", entry["worst_case"]), _moved("margin", entry["margin"])) if text]
    out = [f"  {name}: {'; '.join(parts)}"]
    if entry["change"] == "compared" and entry["claim"]["old"] != entry["claim"]["new"]:
        out.append(f"    the claim changed from '{entry['claim']['old']}' to '{entry['claim']['new']}'")
    return out


def text_lines(comparison: dict) -> list[str]:
    lines = [f"baseline: compared with {comparison['source']}"]
    for f in comparison["files"]:
        old, new = f["status"]["old"], f["status"]["new"]
        if f["path"] is None:
            lines.append(f"{f['baseline_path']}: removed (was {old})")
            continue
        where = f["path"] if f["baseline_path"] in (None, f["path"]) else f"{f['path']} (baseline: {f['baseline_path']})"
        if f["baseline_path"] is None:
            lines.append(f"{where}: new file, {new}")
        else:
            lines.append(f"{where}: {new}" + ("" if old == new else f" (was {old})"))
        for entry in f["checks"]:
            lines.extend(_check_line(entry))
    s = comparison["summary"]
    checks = "check" if s["compared"] == 1 else "checks"
    lines.append(
        f"baseline: {s['compared']} {checks} compared: margin fell in {s['margin_fell']}, rose in {s['margin_rose']}, "
        f"unchanged in {s['margin_unchanged']}; {s['new']} new, {s['removed']} removed"
    )
    return lines
