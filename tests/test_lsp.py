"""``verify lsp``: a scripted client drives the real server over stdio (``python -m checker lsp``).

Every wait is bounded (a reader thread and a queue with a timeout), so a broken server fails the
test instead of hanging it; no assertion is about time."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from checker.lsp import from_position, read_message, to_range, write_message
from checker.diagnostics import Span
from conftest import EXAMPLES, ROOT

WAIT = 120  # seconds: a bound on each wait, far above what any step needs

SPEC = """\
radiator panel {
  heat        = 1 MW
  emissivity  = 0.85 .. 0.92
  temperature = 330 K
  sides       = 2
}
check fits: panel.area <= 900 m^2
check small: panel.area <= 850 m^2
"""
URI = "file:///tmp/verify-lsp-test/panel.spec"


class Client:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "checker", "lsp"], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.messages: queue.Queue = queue.Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while True:
            message = read_message(self.process.stdout)
            self.messages.put(message)
            if message is None:
                return

    def send(self, method: str, params=None, request: bool = False):
        message = {"jsonrpc": "2.0", "method": method, "params": params or {}}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        write_message(self.process.stdin, message)
        return message.get("id")

    def wait(self, predicate):
        while True:
            message = self.messages.get(timeout=WAIT)
            assert message is not None, "the server closed its output"
            if predicate(message):
                return message

    def request(self, method: str, params=None):
        ident = self.send(method, params, request=True)
        return self.wait(lambda m: m.get("id") == ident)

    def diagnostics(self, uri: str = URI) -> list[dict]:
        return self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)["params"]["diagnostics"]

    def close(self) -> int:
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            return self.process.wait(timeout=WAIT)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=WAIT)


@pytest.fixture
def client():
    c = Client()
    reply = c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    capabilities = reply["result"]["capabilities"]
    assert capabilities["hoverProvider"] and capabilities["definitionProvider"]
    assert capabilities["textDocumentSync"]["change"] == 1
    c.send("initialized")
    yield c
    if c.process.poll() is None:
        c.process.kill()
        c.process.wait(timeout=WAIT)


def _at(text: str, needle: str, offset: int = 0, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    before = text[: start + offset]
    return {"line": before.count("\n"), "character": len(before.split("\n")[-1])}


def test_diagnostics_on_open_carry_the_verdicts(client):
    client.send("textDocument/didOpen", {"textDocument": {"uri": URI, "languageId": "verify-spec", "version": 1, "text": SPEC}})
    found = client.diagnostics()
    by_code = {d["code"]: d for d in found}
    assert by_code["violated"]["severity"] == 1
    assert by_code["violated"]["range"]["start"] == {"line": 7, "character": 0}
    assert "check 'small' is violated" in by_code["violated"]["message"]
    assert by_code["proved"]["severity"] == 4 and by_code["proved"]["range"]["start"]["line"] == 6
    assert "874.7 m^2" in by_code["proved"]["message"]


def test_a_change_is_parsed_and_resolved_at_once(client):
    client.send("textDocument/didOpen", {"textDocument": {"uri": URI, "version": 1, "text": SPEC}})
    client.diagnostics()
    broken = SPEC.replace("330 K", "330 C")
    client.send("textDocument/didChange", {"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{"text": broken}]})
    found = client.diagnostics()
    assert [(d["code"], d["severity"]) for d in found] == [("unknown-unit", 1)]
    assert found[0]["range"] == {"start": {"line": 3, "character": 20}, "end": {"line": 3, "character": 21}}
    client.send("textDocument/didChange", {"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"text": "radiator p {"}]})
    found = client.diagnostics()
    assert [d["code"] for d in found] == ["syntax"]
    client.send("textDocument/didChange", {"textDocument": {"uri": URI, "version": 4}, "contentChanges": [{"text": SPEC}]})
    assert client.diagnostics() == []  # verdicts wait for the save
    client.send("textDocument/didSave", {"textDocument": {"uri": URI}})
    assert "violated" in {d["code"] for d in client.diagnostics()}
    client.send("textDocument/didClose", {"textDocument": {"uri": URI}})
    assert client.diagnostics() == []


def test_hover_and_definition(client):
    text = (EXAMPLES / "colossus1.spec").read_text(encoding="utf-8")
    uri = "file:///tmp/verify-lsp-test/colossus1.spec"
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "version": 1, "text": text}})
    client.diagnostics(uri)
    # a derived quantity: its unit, what it is, and the worst case of the full check
    reply = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": _at(text, "pretrain.mfu", 10)})
    value = reply["result"]["contents"]["value"]
    assert "`pretrain.mfu`" in value and "model FLOPs utilisation" in value and "worst case" in value
    # a field with a range: its range
    reply = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": _at(text, "colossus1.power.draw", 12)})
    assert "W" in reply["result"]["contents"]["value"] and "peak draw" in reply["result"]["contents"]["value"]
    # a block name: its quantities with units
    reply = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": _at(text, "workload pretrain", 10)})
    value = reply["result"]["contents"]["value"]
    assert "**workload pretrain** on colossus1" in value and "`pretrain.step_time`: s (derived)" in value
    # definition: a reference, a pool's GPU and 'on CLUSTER' go to the block's name
    reply = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": _at(text, "pretrain.mfu", 2)})
    assert reply["result"] == {"uri": uri, "range": {"start": _at(text, "pretrain on"), "end": _at(text, "pretrain on", 8)}}
    reply = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": _at(text, "x H200", 3)})
    assert reply["result"]["range"]["start"] == _at(text, "H200  {")
    reply = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": _at(text, "on colossus1", 4)})
    assert reply["result"]["range"]["start"] == _at(text, "colossus1 {")
    # nothing there: null
    reply = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 3}})
    assert reply["result"] is None


def test_unknown_request_and_shutdown(client):
    reply = client.request("textDocument/completion", {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}})
    assert reply["error"]["code"] == -32601
    assert client.request("shutdown")["result"] is None
    client.send("exit")
    assert client.close() == 0
    assert b"Traceback" not in client.process.stderr.read()


def test_exit_without_shutdown_is_an_error(client):
    client.send("exit")
    assert client.close() == 1


def test_garbage_does_not_crash_the_server(client):
    client.process.stdin.write(b"Content-Length: 5\r\n\r\n{oops")
    client.process.stdin.flush()
    reply = client.wait(lambda m: "error" in m)
    assert reply["error"]["code"] == -32700
    assert client.request("shutdown")["result"] is None


def test_positions_count_utf16_units():
    lines = ("check µ😀: a.b <= 1",)
    span = Span("f", 1, 11, 1, 14)  # 'a.b' after an astral character
    assert to_range(span, lines)["start"] == {"line": 0, "character": 11}
    assert from_position(lines, {"line": 0, "character": 11}) == (1, 11)


def test_definition_and_hover_across_imports(client):
    """examples/site.spec imports examples/catalog/gpus.spec: its names resolve (no unknown-name
    on open), and definition jumps into the catalog."""
    site = EXAMPLES / "site.spec"
    catalog = (EXAMPLES / "catalog" / "gpus.spec").read_text(encoding="utf-8")
    text = site.read_text(encoding="utf-8")
    uri = site.resolve().as_uri()
    client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "version": 1, "text": text}})
    found = client.diagnostics(uri)
    assert {d["code"] for d in found} == {"violated", "proved"}  # phase2_grid and phase1_grid
    catalog_uri = (EXAMPLES / "catalog" / "gpus.spec").resolve().as_uri()
    for needle, offset, target in (("from cat.H100", 10, "H100 {"), ("x B200", 3, "B200 {"), ("from cat.pod", 10, "pod {")):
        reply = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": _at(text, needle, offset)})
        assert reply["result"] == {"uri": catalog_uri, "range": {"start": _at(catalog, target), "end": _at(catalog, target, len(target.split()[0]))}}, needle
    # a derived block's base in this file goes to its name here
    reply = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": _at(text, "from phase1", 6)})
    assert reply["result"] == {"uri": uri, "range": {"start": _at(text, "phase1 from"), "end": _at(text, "phase1 from", 6)}}
    reply = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": _at(text, "from cat.H100", 10)})
    assert "**gpu cat.H100**" in reply["result"]["contents"]["value"]
