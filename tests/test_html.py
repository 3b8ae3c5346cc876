"""The HTML report: its SVG scales, escaping and determinism, and the examples' reports as laid
out by a real browser (headless Chromium, driven over the DevTools protocol on a pipe).

The browser test checks what a reader sees: every proved or violated check has its figure, the
worst-case marker sits where the reported worst case is (its position mapped back through the
drawn axis, within a pixel of the JSON report's number), the page makes no request and logs no
console error; it saves a screenshot. Without Chromium it skips, except in CI (CI set), where
it fails: .ci/run installs Debian's `chromium`.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time

import pytest

from checker import html, svg
from checker.api import check_text
from conftest import EXAMPLES, ROOT, verify

# ---- unit tests: scales, ticks, escaping, determinism ----------------------------------------


def test_scale_maps_values_onto_pixels_by_hand():
    x = svg.Scale(0, 10, 64, 544)  # 48 px per unit
    assert x(0) == 64 and x(10) == 544 and x(2.5) == 184
    assert x.invert(184) == 2.5
    y = svg.Scale(20, 60, 218, 18)  # upwards: 5 px per unit
    assert y(20) == 218 and y(60) == 18 and y(52.5) == 55.5
    assert y.invert(55.5) == 52.5
    assert svg.Scale(3, 3, 10, 30)(3) == 20  # a degenerate domain sits in the middle


def test_ticks_and_domains_are_round_numbers():
    assert svg.nice_step(53) == 20 and svg.nice_step(1) == 0.2 and svg.nice_step(0.007) == 0.002
    assert svg.ticks(0, 60) == [0, 20, 40, 60]  # 60 / 5 = 12: the next round step is 20
    assert svg.ticks(0, 45) == [0, 10, 20, 30, 40]
    assert svg.ticks(75, 90) == [75, 80, 85, 90]
    assert svg.domain([15, 6]) == (4, 16)  # 5.55 .. 15.45 (5 % more each side), out to whole steps of 2
    lo, hi = svg.domain([52.5])  # one value: opened up around it
    assert lo < 52.5 < hi
    assert svg.domain([3, 4], include_zero=True)[0] == 0
    assert svg.label(1.5e-07) == "1.5e-7" and svg.label(120) == "120" and svg.label(0.0) == "0"


def test_escaping_of_spec_text():
    assert svg.esc('<a href="x">&\'') == "&lt;a href=&quot;x&quot;&gt;&amp;&#x27;"
    plot = svg.Plot()
    plot.text(1, 2, "<script>alert(1)</script>")
    plot.marker(3, 4, "worst", 1.0, 'a "quoted" <b>')
    out = plot.svg("t<i>")
    assert "<script>" not in out and "&lt;script&gt;" in out and "&quot;quoted&quot;" in out and "t&lt;i&gt;" in out


HOSTILE = """\
# a spec whose names and comments reach the page
radiator p_x3c_ {
  heat = 100 kW; emissivity = 0.9; temperature = 300 K .. 350 K
}
check a_lt_script: p_x3c_.area <= 500 m^2   # <script>alert(1)</script> & "quotes"
"""


def test_a_report_escapes_the_spec_and_is_byte_identical_across_runs(tmp_path):
    path = str(tmp_path / "<b>&.spec")
    first = html.render([check_text(path, HOSTILE)], 1)
    second = html.render([check_text(path, HOSTILE)], 1)
    assert first == second
    assert "<b>&" not in first and "&lt;b&gt;&amp;" in first
    assert "<script" not in first  # not the comment's, nor any of our own
    assert first.count('data-kind="quantity"') == 1


def test_the_cli_writes_one_document_for_several_files_deterministically(tmp_path):
    files = [str(EXAMPLES / "radiator-sink.spec"), str(EXAMPLES / "orbital-radiator.spec")]
    one, two = tmp_path / "1.html", tmp_path / "2.html"
    a = verify("--format", "html", "--no-cache", "--output", str(one), *files)
    b = verify("--format", "html", "--no-cache", "--output", str(two), *files)
    assert a.code == b.code == 1
    assert one.read_bytes() == two.read_bytes()
    text = one.read_text(encoding="utf-8")
    assert text.count("<!DOCTYPE html>") == 1 and text.count('<article class="result">') == 2
    assert "<script" not in text and "http://" not in text.replace("http://www.w3.org/2000/svg", "")


def test_curve_points_are_the_simulation_cores_values():
    """The radiator's area over its temperature is A = Q / (n ε σ T⁴): the plotted curve is
    checked against that, computed here by hand, pixel for pixel."""
    text = "radiator p { heat = 100 kW; emissivity = 0.9; temperature = 300 K .. 400 K }\ncheck small: p.area <= 1000 m^2\n"
    result = check_text("r.spec", text)
    (v,) = [v for v in result.verdicts if v.claim.kind == "check"]
    figure = html.quantity_figures(result, v)[0]
    points = re.search(r'class="curve" points="([^"]+)"', figure).group(1).split()
    ticks_x = [(float(a), float(b)) for b, a in re.findall(r'class="tick" data-value="([^"]+)" x1="([^"]+)" y1="218.00" x2="[^"]+" y2="223.00"', figure)]
    ticks_y = [(float(a), float(b)) for b, a in re.findall(r'class="tick" data-value="([^"]+)" x1="59.00" y1="([^"]+)"', figure)]
    (px0, v0), (px1, v1) = ticks_x[0], ticks_x[-1]
    (py0, w0), (py1, w1) = ticks_y[0], ticks_y[-1]
    sigma = 5.670374419e-8
    assert len(points) == html.SAMPLES + 1
    for point in points:
        px, py = map(float, point.split(","))
        t = v0 + (px - px0) * (v1 - v0) / (px1 - px0)
        area = w0 + (py - py0) * (w1 - w0) / (py1 - py0)
        expected = 100e3 / (0.9 * sigma * t**4)
        per_pixel = (w1 - w0) / (py0 - py1)
        assert abs(area - expected) <= per_pixel, (t, area, expected)


POWER = """\
gpu G { peak = 1000 TFLOP/s; memory = 80 GB; tdp = 1000 W; idle = 100 W; floor = 50 %; ramp = 10000 W/s }
cluster c {
  pool gpus = 8 x G
  network { topology = ring; bandwidth = 50 GB/s; latency = 5 us }
}
workload w on c { kind = training; params = 1e9; batch = 1e6 token; efficiency = 40 %; shards = 1 }
check grid_swing: w.swing <= 5 kW
check grid_ramp:  w.ramp <= 100 kW/s
"""


def _axis(figure: str, axis: str) -> tuple[float, float, float, float]:
    """(pixel, value) of the first and last tick of an axis, read from the SVG text."""
    group = re.search(rf'<g class="axis {axis}"(.*?)</g>', figure).group(1)
    coord = "x1" if axis == "x" else "y1"
    found = [(float(p), float(v)) for v, p in re.findall(rf'class="tick" data-value="([^"]+)" (?:x1="[^"]+" )?{coord}="([^"]+)"', group)]
    (p0, v0), (p1, v1) = found[0], found[-1]
    return p0, v0, p1, v1


def _line(figure: str, cls: str) -> list[tuple[float, float]]:
    x0, xv0, x1, xv1 = _axis(figure, "x")
    y0, yv0, y1, yv1 = _axis(figure, "y")
    points = re.search(rf'<polyline class="{cls}" points="([^"]+)"', figure).group(1).split()
    out = []
    for point in points:
        px, py = map(float, point.split(","))
        out.append((xv0 + (px - x0) * (xv1 - xv0) / (x1 - x0), yv0 + (py - y0) * (yv1 - yv0) / (y1 - y0)))
    return out


def test_the_power_trace_has_the_levels_and_slew_of_the_spec():
    """8 GPUs of 1000 W tdp, 100 W idle, a 500 W floor and a 10 kW/s... per GPU 10 000 W/s slew:
    without smoothing the GPUs' power drops from 8 kW to 0.8 kW at once; with it, to 4 kW at
    no more than 80 kW/s. The figure is read back through its axes (kW and ms or s)."""
    result = check_text("p.spec", POWER)
    verdicts = {v.claim.name: v for v in result.verdicts}
    figures = html.block_figures(result, verdicts["grid_swing"])
    (power,) = [f for f in figures if 'data-kind="power"' in f]
    assert 'data-unit="kW"' in power
    seconds = {"ms": 1e-3, "s": 1.0}[re.search(r'<g class="axis x" data-unit="([^"]+)"', power).group(1)]
    raw, smoothed = _line(power, "raw"), _line(power, "smoothed")
    assert max(p for _, p in raw) == pytest.approx(8, abs=0.02) and min(p for _, p in raw) == pytest.approx(0.8, abs=0.02)
    assert max(p for _, p in smoothed) == pytest.approx(8, abs=0.02) and min(p for _, p in smoothed) == pytest.approx(4, abs=0.02)
    steepest = max((a[1] - b[1]) / ((b[0] - a[0]) * seconds) for a, b in zip(smoothed, smoothed[1:]))
    assert steepest == pytest.approx(80, rel=0.02)  # kW/s: 8 GPUs at 10 000 W/s
    assert max((a[1] - b[1]) / ((b[0] - a[0]) * seconds) for a, b in zip(raw, raw[1:])) > 10 * steepest
    assert "swing limit 5 kW below the peak" in power and 'class="limit"' in power  # the checks' grid limits


# ---- the browser ----------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """Headless Chromium over --remote-debugging-pipe: JSON messages ending in NUL on fds 3/4."""

    def __init__(self, binary: str, width: int = 1280, height: int = 900) -> None:
        ours_in, theirs_out = os.pipe()  # chromium writes to fd 4
        theirs_in, ours_out = os.pipe()  # chromium reads fd 3
        self.profile = tempfile.mkdtemp(prefix="verify-chromium-")
        args = [binary, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--hide-scrollbars", f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "about:blank"]

        def fds():  # in the child: its pipe ends become fds 3 and 4 (dup2 makes them inheritable; the rest are close-on-exec)
            os.dup2(theirs_in, 3)
            os.dup2(theirs_out, 4)

        self.process = subprocess.Popen(args, preexec_fn=fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(theirs_in)
        os.close(theirs_out)
        self.rfd, self.wfd = ours_in, ours_out
        self.buffer, self.events, self.next_id = b"", [], 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.rfd], [], [], left)[0]:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.rfd, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, session: bool = False, timeout: float = 30, **params) -> dict:
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self.wfd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._read(deadline)
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def page(self, method: str, **params) -> dict:
        return self.call(method, session=True, **params)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for k, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(k)
            self.events.append(self._read(deadline))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=5)
        except (OSError, TimeoutError, EOFError, RuntimeError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.rfd)
        os.close(self.wfd)
        shutil.rmtree(self.profile, ignore_errors=True)


MEASURE = r"""
(() => {
  const centre = (e, axis) => { const r = e.getBoundingClientRect(); return axis === 'x' ? r.left + r.width / 2 : r.top + r.height / 2; };
  const through = (svg, axis, pixel) => {
    const ticks = [...svg.querySelectorAll('g.axis.' + axis + ' line.tick')];
    if (ticks.length < 2) return null;
    const a = ticks[0], b = ticks[ticks.length - 1];
    const pa = centre(a, axis), pb = centre(b, axis), va = +a.dataset.value, vb = +b.dataset.value;
    return {value: va + (pixel - pa) * (vb - va) / (pb - pa), per_pixel: Math.abs((vb - va) / (pb - pa)),
            unit: svg.querySelector('g.axis.' + axis).dataset.unit};
  };
  const checks = [...document.querySelectorAll('section.check')].map(s => ({
    file: s.closest('article').querySelector('h2.file').dataset.path,
    name: s.dataset.check, kind: s.dataset.kind, status: s.dataset.status,
    figures: [...s.querySelectorAll('figure.plot')].map(f => {
      const svg = f.querySelector('svg'), box = svg.getBoundingClientRect();
      const worst = svg.querySelector('.worst');
      const out = {kind: f.dataset.kind, unknown: f.dataset.unknown || null, width: box.width, height: box.height,
                   curve: f.querySelectorAll('.curve').length};
      if (worst) { out.worst_y = through(svg, 'y', centre(worst, 'y')); out.worst_x = through(svg, 'x', centre(worst, 'x')); }
      const counter = svg.querySelector('.counterexample');
      if (counter) out.counter_y = through(svg, 'y', centre(counter, 'y'));
      return out;
    }),
  }));
  return JSON.stringify({checks, scripts: document.scripts.length, title: document.title});
})()
"""


def _require_chromium() -> str:
    binary = _chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set and Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("headless Chromium is not installed (apt-get install chromium); CI installs it")
    return binary


def test_without_chromium_the_browser_test_fails_in_ci_and_skips_elsewhere(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium is missing"):
        _require_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="not installed"):
        _require_chromium()


@pytest.fixture(scope="module")
def browser():
    b = Browser(_require_chromium())
    yield b
    b.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The examples checked once, from the repository's root: the HTML report and the JSON one."""
    from checker import report, runner
    from checker.verdicts import Limits

    before = os.getcwd()
    os.chdir(ROOT)
    try:
        files = sorted(str(p.relative_to(ROOT)) for p in EXAMPLES.glob("*.spec"))
        results = runner.check_files(files, Limits(), jobs=runner.usable_cores(), use_cache=False)
        page = tmp_path_factory.mktemp("html") / "examples.html"
        page.write_text(html.render(results), encoding="utf-8")
        return page, report.to_json(results)
    finally:
        os.chdir(before)


def _shown(number: dict) -> tuple[float, str, float]:
    """A JSON `shown` value ("52.5 MW") as (number, unit, half a unit of its last digit)."""
    text, _, unit = number["shown"].partition(" ")
    mantissa = text.split("e")[0]
    places = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.split("e")[1]) if "e" in text else 0
    return float(text), unit, 0.5 * 10 ** (exponent - places)


def test_the_examples_reports_in_a_browser(browser, reports, tmp_path):
    page, data = reports
    for domain in ("Runtime", "Log", "Network", "Page"):
        browser.page(f"{domain}.enable")
    browser.page("Page.navigate", url=page.as_uri())
    browser.wait_for("Page.loadEventFired")
    measured = json.loads(browser.page("Runtime.evaluate", expression=MEASURE, returnByValue=True)["result"]["value"])
    shot = browser.page("Page.captureScreenshot", format="png", clip={"x": 0, "y": 0, "width": 1280, "height": 1400, "scale": 1})
    png = base64.b64decode(shot["data"])
    (tmp_path / "examples.png").write_bytes(png)
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a page with figures, not a blank one

    problems = [e for e in browser.events if e.get("method") in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded")
                and (e["method"] == "Runtime.exceptionThrown" or e["params"].get("type", e["params"].get("entry", {}).get("level")) in ("error", "warning", "assert"))]
    assert not problems, problems
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    assert all(url == page.as_uri() or url.startswith("data:") for url in requests), requests
    assert measured["scripts"] == 0

    by_check = {(c["file"], c["name"]): c for c in measured["checks"]}
    marked = countered = 0
    for file in data["files"]:
        for check in file["checks"]:
            if check["kind"] != "check" or check["status"] not in ("proved", "violated"):
                continue
            shown = by_check[(file["path"], check["name"])]
            quantity = [f for f in shown["figures"] if f["kind"] == "quantity"]
            assert quantity, f"{file['path']}: check {check['name']} has no figure"
            assert all(f["width"] > 200 and f["height"] > 60 for f in shown["figures"]), shown
            left = (check.get("counterexample") or {}).get("left")
            for figure in quantity if left else ():
                value, unit, half = _shown(left)
                y = figure.get("counter_y")
                assert y is not None, (check["name"], figure)
                if y["unit"] == unit:  # the same prefix as the worst case's (else the JSON picked another)
                    assert abs(y["value"] - value) <= y["per_pixel"] + half, (file["path"], check["name"], y, value)
                    countered += 1
            worst = check.get("worst_case")
            if worst is None:
                continue
            value, unit, half = _shown(worst["value"])
            at = {u["name"]: _shown(u["value"]) for u in worst["at"] or ()}
            for figure in quantity:
                y = figure["worst_y"]
                assert y is not None and y["unit"] == unit, (check["name"], y, unit)
                assert abs(y["value"] - value) <= y["per_pixel"] + half, (file["path"], check["name"], y, value)
                if figure["unknown"] in at and figure["unknown"] not in worst["free"]:
                    x, xunit, xhalf = at[figure["unknown"]]
                    assert figure["worst_x"]["unit"] == xunit
                    assert abs(figure["worst_x"]["value"] - x) <= figure["worst_x"]["per_pixel"] + xhalf, (check["name"], figure, x)
                marked += 1
    kinds = {f["kind"] for c in measured["checks"] for f in c["figures"]}
    assert {"quantity", "timeline", "schedule", "power", "radiator"} <= kinds, kinds
    assert marked >= 20 and countered >= 10, (marked, countered)
