"""JUnit XML and SARIF 2.1.0 reports, built on the same results as the text and JSON reports.

Both are deterministic: no clock, no host name, no absolute paths that were not given; keys and
attributes are written in sorted order. The texts inside them (failure bodies, SARIF messages)
are the text report's own lines, so every format says the same thing. The mappings are
documented in spec/report-format.md.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import PurePath
from typing import TextIO
from urllib.parse import quote

from checker import __version__
from checker.api import FileResult
from checker.diagnostics import CODES, Span
from checker.report import _diagnostic_text, _verdict_detail, _verdict_json, verdict_record
from checker.verdicts import Verdict

SARIF_SCHEMA = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"
TIMESTAMP = "1970-01-01T00:00:00"  # the JUnit schema requires one; a fixed one keeps the output reproducible
SPEC_CASE = "valid spec"  # the JUnit test case of an invalid spec
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def rule_id(v: Verdict) -> str:
    """``check/NAME`` for a written check, ``invariant/NAME`` for a built-in invariant."""
    return f"{v.claim.kind}/{v.claim.name}"


def case_name(v: Verdict) -> str:
    """A JUnit test case's name: the check's name, or ``invariant: NAME`` as the text report lists it."""
    return v.claim.name if v.claim.kind == "check" else f"invariant: {v.claim.name}"


def _message_and_body(result: FileResult, v: Verdict) -> tuple[str, list[str]]:
    """A verdict's message and the lines under it (counterexample, worst case, replay), from the
    same record the text report prints."""
    record = verdict_record(result, v)
    if record is None:
        return f"{v.claim.kind} '{v.claim.name}' is {v.status}", []
    return record.message, textwrap.dedent("\n".join(record.body)).splitlines()


def _disagreement(result: FileResult, v: Verdict) -> str | None:
    replay = result.replays.get(v.claim.name)
    if replay is None or replay.status != "disagrees":
        return None
    return f"{v.claim.kind} '{v.claim.name}': the solver and the simulation core disagree ({replay.detail}); this is an internal inconsistency"


# ---- SARIF ------------------------------------------------------------------------------


def _uri(path: str) -> dict:
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    return {"uri": quote(pure.as_posix(), safe="/")}


def _region(span: Span) -> dict:
    line, column = max(span.line, 1), max(span.column, 1)
    end_line = max(span.end_line, line)
    end_column = max(span.end_column, 1)
    if end_line == line and end_column <= column:
        end_column = column + 1
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def _location(span: Span, message: str | None = None, index: int | None = None) -> dict:
    out: dict = {"physicalLocation": {"artifactLocation": _uri(span.file), "region": _region(span)}}
    if message is not None:
        out["message"] = {"text": message}
    if index is not None:
        out["id"] = index
    return out


def _fingerprint(*parts: str) -> dict:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]
    return {"verify/v1": digest}


def _sarif_result(rule: str, level: str, message: str, span: Span, fingerprint: tuple[str, ...], properties: dict | None = None, related: list[dict] | None = None, baseline_state: str | None = None) -> dict:
    out: dict = {
        "ruleId": rule,
        "level": level,
        "message": {"text": message},
        "locations": [_location(span)],
        "partialFingerprints": _fingerprint(*fingerprint),
    }
    if related:
        out["relatedLocations"] = related
    if properties:
        out["properties"] = properties
    if baseline_state is not None:
        out["baselineState"] = baseline_state
    return out


def _counterexample_locations(result: FileResult, v: Verdict) -> list[dict]:
    data = _verdict_json(result, v).get("counterexample") or {}
    related = []
    for index, unknown in enumerate(data.get("unknowns") or []):
        span = Span(**unknown["span"])
        value = unknown["value"]
        shown = value.get("shown", value["decimal"]) if value else "?"
        related.append(_location(span, f"{unknown['name']} = {shown}", index))
    return related


def sarif_results(results: list[FileResult], allow_unknown: bool = False, states: dict | None = None) -> list[dict]:
    """One SARIF result per violated or unknown verdict, per simulation disagreement, and per
    diagnostic. With a baseline, ``states`` maps a result's key to its SARIF baselineState
    (see checker.baseline.states); a result it does not know is "new"."""

    def state(key: tuple[str, ...]) -> str | None:
        return None if states is None else states.get(key, "new")

    out: list[dict] = []
    for result in results:
        for d in result.diagnostics:
            key = (result.path, d.code, d.message)
            message = "\n".join([d.message, *(f"note: {n}" for n in d.notes)])
            out.append(_sarif_result(d.code, d.severity, message, d.span, key, {"notes": list(d.notes)} if d.notes else None, baseline_state=state(key)))
        for v in result.verdicts:
            rule = rule_id(v)
            if v.status != "proved":
                message, body = _message_and_body(result, v)
                level = "warning" if v.status in ("unknown", "not-established") and allow_unknown else "error"
                properties = {k: x for k, x in _verdict_json(result, v).items() if k not in ("name", "kind", "span")}
                key = (result.path, rule)
                out.append(_sarif_result(rule, level, "\n".join([message, *body]), v.claim.span, key, properties, _counterexample_locations(result, v), state(key)))
            disagreement = _disagreement(result, v)
            if disagreement is not None:
                key = (result.path, "inconsistent", rule)
                out.append(_sarif_result("inconsistent", "error", disagreement, v.claim.span, key, baseline_state=state(key)))
    return out


def _rule(rule: str, results: list[FileResult]) -> dict:
    if rule in CODES:
        text = CODES[rule]
        level = "warning" if rule == "unknown" else "error"
    else:
        kind, _, name = rule.partition("/")
        claims = sorted({v.claim.conditions[0].text if v.claim.conditions and len(v.claim.conditions) == 1 else "" for r in results for v in r.verdicts if rule_id(v) == rule} - {""})
        finds = [v.claim.find for r in results for v in r.verdicts if rule_id(v) == rule and v.claim.find is not None]
        if finds:  # a find statement: it has an answer (checker/report_find.py)
            text = f"find '{name}' has an answer in the declared ranges ({finds[0].goal} {finds[0].target_text})"
        elif kind == "check":
            text = f"check '{name}' holds for every value in the declared ranges"
        else:
            text = f"built-in invariant: {name}"
        if len(claims) == 1 and kind == "check" and not finds:
            text += f" ({claims[0]})"
        level = "error"
    return {"id": rule, "shortDescription": {"text": text}, "defaultConfiguration": {"level": level}}


def to_sarif(results: list[FileResult], exit_code: int, allow_unknown: bool = False, states: dict | None = None) -> dict:
    found = sarif_results(results, allow_unknown, states)
    used = sorted({r["ruleId"] for r in found} - set(CODES))
    rules = [_rule(code, results) for code in CODES] + [_rule(rule, results) for rule in used]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    for item in found:
        item["ruleIndex"] = index[item["ruleId"]]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "verify", "version": __version__, "semanticVersion": __version__, "rules": rules}},
                "invocations": [{"executionSuccessful": exit_code != 4, "exitCode": exit_code}],
                "columnKind": "unicodeCodePoints",
                "results": found,
            }
        ],
    }


def write_sarif(results: list[FileResult], out: TextIO, exit_code: int, allow_unknown: bool = False, states: dict | None = None) -> None:
    json.dump(to_sarif(results, exit_code, allow_unknown, states), out, indent=2, ensure_ascii=False, sort_keys=True)
    out.write("\n")


# ---- JUnit ------------------------------------------------------------------------------


def _xml_text(text: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped: show them as escapes."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _element(tag: str, attributes: dict[str, str | int], text: str | None = None) -> ET.Element:
    element = ET.Element(tag, {key: _xml_text(str(attributes[key])) for key in sorted(attributes)})
    if text is not None:
        element.text = _xml_text(text)
    return element


def _testcase(result: FileResult, v: Verdict, allow_unknown: bool) -> tuple[ET.Element, str]:
    case = _element("testcase", {"classname": result.path, "name": case_name(v), "time": "0"})
    disagreement = _disagreement(result, v)
    block = "\n".join(_verdict_detail(result, v))
    if disagreement is not None:
        case.append(_element("error", {"message": disagreement, "type": "inconsistent"}, block))
        return case, "errors"
    if v.status == "proved":
        return case, "passed"
    message, _ = _message_and_body(result, v)
    if v.status == "violated":
        case.append(_element("failure", {"message": message, "type": "invariant" if v.claim.kind == "invariant" else "violated"}, block))
        return case, "failures"
    if allow_unknown:
        case.append(_element("skipped", {"message": f"{message} (allowed by --allow-unknown)"}, block))
        return case, "skipped"
    case.append(_element("error", {"message": message, "type": v.status}, block))
    return case, "errors"


def _testsuite(result: FileResult, index: int, allow_unknown: bool) -> ET.Element:
    counts = {"passed": 0, "failures": 0, "errors": 0, "skipped": 0}
    cases: list[ET.Element] = []
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors:
        first = errors[0]
        text = "\n\n".join("\n".join(_diagnostic_text(d, result.lines_of(d.span))) for d in result.diagnostics)
        case = _element("testcase", {"classname": result.path, "name": SPEC_CASE, "time": "0"})
        case.append(_element("error", {"message": f"{first.message} [{first.code}]", "type": first.code}, text))
        cases.append(case)
        counts["errors"] += 1
    for v in result.verdicts:
        case, outcome = _testcase(result, v, allow_unknown)
        cases.append(case)
        counts[outcome] += 1
    suite = _element(
        "testsuite",
        {
            "errors": counts["errors"],
            "failures": counts["failures"],
            "hostname": "localhost",
            "id": index,
            "name": result.path,
            "package": result.path,
            "skipped": counts["skipped"],
            "tests": len(cases),
            "time": "0",
            "timestamp": TIMESTAMP,
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("exit_code", result.exit_code), ("status", result.status), ("verify", __version__)):
        properties.append(_element("property", {"name": name, "value": value}))
    suite.extend(cases)
    other = [d for d in result.diagnostics if d.severity != "error"]
    suite.append(_element("system-out", {}, "\n\n".join("\n".join(_diagnostic_text(d, result.lines_of(d.span))) for d in other)))
    suite.append(_element("system-err", {}, ""))
    return suite


def to_junit(results: list[FileResult], allow_unknown: bool = False) -> ET.Element:
    root = ET.Element("testsuites")
    for index, result in enumerate(results):
        root.append(_testsuite(result, index, allow_unknown))
    return root


def write_junit(results: list[FileResult], out: TextIO, allow_unknown: bool = False) -> None:
    root = to_junit(results, allow_unknown)
    ET.indent(root, space="  ")
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode", short_empty_elements=True))
    out.write("\n")

