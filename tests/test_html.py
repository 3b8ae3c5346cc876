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
from fractions import Fraction

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


# ---- find statements: the answer over its range, and the ranked layouts -----------------------

FIND_RADIATOR = "radiator panel {{ heat = {heat}; emissivity = 0.85 .. 0.92; temperature = 330 K; sink = 3 K; sides = 2 }}\n"


def _find_figure(heat: str) -> str:
    from checker.html_find import find_figures

    result = check_text("f.spec", FIND_RADIATOR.format(heat=heat) + "find most_heat: max panel.heat such that panel.area <= 900 m^2\n")
    (v,) = [v for v in result.verdicts if v.claim.find is not None]
    (figure,) = find_figures(result, v)
    assert 'data-kind="find"' in figure and 'data-unknown="panel.heat"' in figure
    return figure


def _attr(figure: str, element: str, cls: str, name: str) -> float:
    return float(re.search(rf'<{element} class="{cls}"[^>]*? {name}="([^"]+)"', figure).group(1))


def test_a_find_figure_places_the_answer_region_and_counterexample_by_hand():
    """The most heat 900 m^2 rejects at 330 K is Q = 900 x 2 x 0.85 x sigma x (330^4 - 3^4)
    = 1.028866 MW (the lowest emissivity is the worst). On the default plot (x from 64 to 544 px
    for 0.5 .. 2 MW: 320 px per MW) the answer's line sits at 64 + (Q - 0.5) x 320 px and the
    proved region runs from 64 px to it. The area is linear in heat, 437.4 .. 1749.5 m^2 at
    emissivity 0.85: the y axis is 0 .. 2000 m^2 over 218 .. 18 px (0.1 px per m^2), so the bound,
    the point at the answer (900 m^2) and the counterexample (900 m^2 and a hair) sit at 128 px."""
    figure = _find_figure("0.5 MW .. 2 MW")
    assert figure == _find_figure("0.5 MW .. 2 MW")  # the same bytes every time
    answer = 900 * 2 * 0.85 * 5.670374419e-8 * (330**4 - 3**4) / 1e6  # MW
    assert abs(answer - 1.0288663) < 1e-6
    x = 64 + (answer - 0.5) * 320
    assert abs(_attr(figure, "line", "answer", "x1") - x) <= 0.005
    assert 'class="answer-beyond"' not in figure  # exact: one line
    assert _attr(figure, "rect", "proved-region", "x") == 64 and abs(_attr(figure, "rect", "proved-region", "width") - (x - 64)) <= 0.01
    assert _attr(figure, "line", "bound", "y1") == 128
    assert abs(_attr(figure, "circle", "at-answer", "cx") - x) <= 0.005 and _attr(figure, "circle", "at-answer", "cy") == 128
    counter = re.search(r'<path class="counterexample"[^>]*? d="M([^,]+),([^ ]+) ', figure)  # the diamond's top vertex
    assert 0 < float(counter.group(1)) - x <= 0.01 and float(counter.group(2)) + 6 == 128
    points = [tuple(map(float, p.split(","))) for p in re.search(r'class="curve" points="([^"]+)"', figure).group(1).split()]
    for px, py in points:  # the core's area at every sample: heat / (2 x 0.85 x sigma x (330^4 - 3^4)), 0.1 px per m^2
        heat = 0.5e6 + (px - 64) / 320 * 1e6
        assert abs(py - (218 - 0.1 * heat / (2 * 0.85 * 5.670374419e-8 * (330**4 - 3**4)))) <= 0.01, (px, py)


def test_a_find_that_holds_everywhere_or_nowhere_is_drawn_so():
    whole = _find_figure("0.5 MW .. 0.6 MW")  # 0.6 MW needs 525 m^2: the whole range is proved
    assert _attr(whole, "line", "answer", "x1") == 544 and _attr(whole, "rect", "proved-region", "width") == 480
    assert 'class="counterexample"' not in whole and "holds over the whole range" in whole
    none = _find_figure("2 MW .. 3 MW")  # 2 MW needs 1749 m^2: no answer, the counterexample at the start
    assert 'class="answer"' not in none and 'class="proved-region"' not in none
    assert re.search(r'<path class="counterexample"[^>]*? d="M64.00,', none) and "No answer" in none


def test_the_layout_chart_places_each_layouts_interval_by_hand():
    """Three layouts with proved MFU 40 .. 50 %, 35 .. 45 % and undecided: the x axis is 30 ..
    55 % (the intervals widened 5 % each side, out to steps of 5) over 24 .. 616 px, 23.68 px per
    percent; the winner's bar runs from 24 + 10 x 23.68 to 24 + 20 x 23.68 px, and the core's value
    of the winner at its worst corner (40 %) sits at the bar's left end."""
    from dataclasses import replace

    from checker import model as mo, units
    from checker.diagnostics import Span
    from checker.html_find import layout_figure
    from checker.replay import Replay
    from checker.verdicts import Layouts, Ranked

    result = check_text("f.spec", FIND_RADIATOR.format(heat="0.5 MW .. 2 MW") + "find most_heat: max panel.heat such that panel.area <= 900 m^2\n")
    (v,) = [v for v in result.verdicts if v.claim.find is not None]
    search = mo.Search("layout", True, "w.mfu", workload="w", quantity=mo.QRef(("w", "mfu"), units.ONE, Span("f.spec", 1, 1, 1, 2)))
    ranked = (Ranked((("tensor", 4), ("pipeline", 1)), Fraction(2, 5), Fraction(1, 2), "exact"),
              Ranked((("tensor", 2), ("pipeline", 2)), Fraction(7, 20), Fraction(9, 20), "lower"),
              Ranked((("tensor", 1), ("pipeline", 4)), None, None, "lower"))
    found = Layouts(True, ranked, True, (), 3, 0, 0, 3, beaten=2)
    simulated = {"most_heat": Replay("confirmed", Fraction(2, 5), None, Fraction(2, 5), "")}  # the core's value of the winner at its worst corner
    figure = layout_figure(replace(result, replays=simulated), replace(v, claim=replace(v.claim, find=search), layouts=found, answer=None))
    per = (616 - 24) / 25
    bars = re.findall(r'<rect class="(layout[^"]*)" x="([^"]+)" y="[^"]+" width="([^"]+)"', figure)
    assert [b[0] for b in bars] == ["layout winner", "layout"]
    assert abs(float(bars[0][1]) - (24 + 10 * per)) <= 0.005 and abs(float(bars[0][2]) - 10 * per) <= 0.01
    assert abs(float(bars[1][1]) - (24 + 5 * per)) <= 0.005 and abs(float(bars[1][2]) - 10 * per) <= 0.01
    assert abs(_attr(figure, "circle", "simulated", "cx") - (24 + 10 * per)) <= 0.005
    assert "1. tensor 4, pipeline 1" in figure and "2. tensor 2, pipeline 2 (closed form: lower bound)" in figure and "undecided" in figure


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
            a, b = os.dup(theirs_in), os.dup(theirs_out)  # above 3 and 4 first: a pipe end may itself be fd 3 or 4
            os.dup2(a, 3)
            os.dup2(b, 4)

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
      if (counter) { out.counter_y = through(svg, 'y', centre(counter, 'y')); out.counter_x = through(svg, 'x', centre(counter, 'x')); }
      const at = (selector, key) => { const e = svg.querySelector(selector); if (e) { out[key + '_x'] = through(svg, 'x', centre(e, 'x'));
                                                                               if (svg.querySelector('g.axis.y')) out[key + '_y'] = through(svg, 'y', centre(e, 'y')); } };
      at('line.answer', 'answer'); at('line.answer-beyond', 'beyond'); at('circle.at-answer', 'at_answer'); at('circle.simulated', 'simulated');
      const edges = (selector, key) => { const e = svg.querySelector(selector); if (!e) return; const r = e.getBoundingClientRect();
                                         out[key] = [through(svg, 'x', r.left), through(svg, 'x', r.right)]; };
      edges('rect.proved-region', 'region'); edges('rect.layout.winner', 'winner');
      const frame = svg.querySelector('g.axis.x line.frame');
      if (frame) { const r = frame.getBoundingClientRect(); out.axis_ends = [through(svg, 'x', r.left), through(svg, 'x', r.right)]; }
      out.layout_bars = svg.querySelectorAll('rect.layout').length; out.curves = svg.querySelectorAll('polyline.curve').length;
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
    finds: dict[str, int] = {}
    for file in data["files"]:
        for check in file["checks"]:
            if check["kind"] != "check" or check["status"] not in ("proved", "violated"):
                continue
            if "find" in check:
                goal = _check_find(file["path"], check, by_check[(file["path"], check["name"])])
                finds[goal] = finds.get(goal, 0) + 1
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
    assert finds.get("max", 0) >= 2 and finds.get("min", 0) >= 1 and finds.get("layout", 0) >= 1, finds  # the examples' finds all drawn and checked


def _near(measured: dict | None, number: dict, what: tuple) -> None:
    """A position read back through the drawn axis is the JSON report's number, within a pixel
    (and half a unit of the number's last shown digit); the axis shows the number's unit."""
    value, unit, half = _shown(number)
    assert measured is not None, what
    assert measured["unit"] == unit, (what, measured, number)
    assert abs(measured["value"] - value) <= measured["per_pixel"] + half, (what, measured, number)


def _check_find(path: str, check: dict, shown: dict) -> str:
    """A find's figure against its JSON record: the answer's line (and a bracket's other end), the
    proved region from the range's end to the answer, the point at the answer and the counterexample;
    for a best layout, the winner's bar at its proved lowest and highest."""
    found = check["find"]
    what = (path, check["name"])
    if found["goal"] == "layout":
        (figure,) = [f for f in shown["figures"] if f["kind"] == "layouts"]
        assert figure["layout_bars"] == len([t for t in found["top"] if t["lowest"] and t["highest"]]), (what, figure)
        winner = found["top"][0]
        assert check["status"] == "proved" and found["proved_best"], what
        _near(figure["winner"][0], winner["lowest"], what + ("winner's lowest",))
        _near(figure["winner"][1], winner["highest"], what + ("winner's highest",))
        assert figure.get("simulated_x") is not None, what  # the core's value of the winner is marked
        return "layout"
    (figure,) = [f for f in shown["figures"] if f["kind"] == "find"]
    assert figure["unknown"] == found["range"] and figure["curves"] == 1, (what, figure)
    if check["status"] == "violated":  # no answer: the counterexample at the range's start, nothing proved
        counter = check["counterexample"]
        assert "answer_x" not in figure and "region" not in figure, (what, figure)
        _near(figure.get("counter_y"), counter["left"], what + ("counterexample",))
        (x,) = [u["value"] for u in counter["unknowns"] if u["name"] == found["range"]]
        _near(figure.get("counter_x"), x, what + ("counterexample's x",))
        return found["goal"]
    _near(figure.get("answer_x"), found["answer"], what + ("answer",))
    if not found["exact"] and not found["whole_range"]:
        _near(figure.get("beyond_x"), found["beyond"], what + ("the bracket's other end",))
    low, high = figure["region"]
    start, end = figure["axis_ends"]
    if found["goal"] == "max":  # proved from the range's low end up to the answer
        assert abs(low["value"] - start["value"]) <= low["per_pixel"], (what, low, start)
        _near(high, found["answer"], what + ("proved region's end",))
    else:
        assert abs(high["value"] - end["value"]) <= high["per_pixel"], (what, high, end)
        _near(low, found["answer"], what + ("proved region's end",))
    if found["counterexample"] is not None:
        _near(figure.get("counter_y"), found["counterexample"]["left"], what + ("counterexample",))
        _near(figure.get("counter_x"), found["beyond"], what + ("counterexample's x",))
    if found["at_answer"] is not None:
        _near(figure.get("at_answer_y"), found["at_answer"]["left"], what + ("at the answer",))
    return found["goal"]
