"""The HTML report (`--format html`): one self-contained page, inline CSS and SVG, no script.

Per file its verdict, per check the same record the text report prints (checker.report's
`verdict_record`) and figures drawn with checker.svg:

- the checked quantity over each unknown it depends on, the others held at the worst case,
  with the bound, the worst case and the counterexample marked. Every point of a curve is the
  simulation core's value at that point (checker.replay.Simulation), never interpolated from
  the solver's answer; points the core does not reach are left out and counted;
- a training step per pool (compute, waiting at the barrier, exposed communication) and, with
  a layout, the pipeline schedule op by op as the core replays it;
- the GPUs' power over a step with and without the smoothing floor and slew limit (the core's
  own controller, tick by tick), with the grid's swing and ramp limits the checks state;
- a radiator's area against its temperature, A = Q / (n ε σ (T⁴ − T_sink⁴)), and the design point.

Deterministic: no clock, no random numbers, coordinates with two decimals. Every text from a
spec (names, paths, claims) is escaped.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TextIO

from checker import model as m, sim, units as u
from checker.api import FileResult
from checker.claims import Undefined
from checker.diagnostics import excerpt
from checker.numbers import fmt
from checker.replay import Simulation
from checker.report import ROUNDING, _diagnostic_text, _left_text, _preferred, quantity, summary_line, verdict_record
from checker.svg import Plot, domain, esc, label, legend
from checker.units import display_unit
from checker.verdicts import Point, Status, Verdict

SAMPLES = 24  # points of a curve across an unknown's range (plus the worst case and the counterexample)
LAYOUT_SAMPLES = 8  # for a quantity of a layout, whose every point replays whole pipeline schedules
MAX_UNKNOWNS = 4  # curves drawn per check
MAX_OPS = 6000  # schedule operations drawn; a longer schedule is summarised in words
POWER_SAMPLES = 240  # controller ticks over a step
MISSES = (sim.OutOfReach, Undefined, ValueError, ArithmeticError)  # points the core does not give a value at

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1220px;padding:16px 24px;color:#1d232b;background:#fff}
h1{font-size:20px;margin:4px 0 2px}h2{font-size:17px;margin:26px 0 6px;border-bottom:1px solid #d5dae0;padding-bottom:4px}
h3{font-size:15px;margin:0 0 4px}.summary{color:#444}
.check{border:1px solid #d5dae0;border-left:6px solid #888;border-radius:4px;padding:10px 14px;margin:12px 0}
.check.proved{border-left-color:#2e8540}.check.violated{border-left-color:#c62828}.check.unknown,.check.not-established{border-left-color:#c98a00}
.badge{display:inline-block;font-weight:600;font-size:12px;padding:1px 7px;border-radius:9px;color:#fff;background:#888;margin-right:6px;vertical-align:1px}
.badge.proved{background:#2e8540}.badge.violated,.badge.invalid,.badge.error,.badge.inconsistent{background:#c62828}.badge.unknown,.badge.not-established,.badge.no-checks{background:#c98a00}
pre{background:#f6f8fa;padding:8px 10px;overflow-x:auto;font:12.5px/1.4 ui-monospace,Menlo,Consolas,monospace;margin:6px 0}
.figures{display:flex;flex-wrap:wrap;gap:10px}figure{margin:4px 0;border:1px solid #eceff2;border-radius:4px;padding:6px}
figcaption{font-size:12px;color:#444}
svg{display:block;font:11px system-ui,sans-serif}svg text{fill:#333}svg .title{font-weight:600}
.frame,.tick{stroke:#555;stroke-width:1}.grid{stroke:#e3e6ea;stroke-width:1}
.curve{fill:none;stroke:#1f5fbf;stroke-width:2}.bound{stroke:#c62828;stroke-width:1.5;stroke-dasharray:6 4;fill:none}
.bound-label{fill:#c62828}.worst{fill:#f0a500;stroke:#333;stroke-width:1.2}.counterexample{fill:#c62828;stroke:#fff;stroke-width:1.5}
.compute{fill:#1f5fbf}.wait{fill:#d9dde2}.comm{fill:#e07b00}.optimizer{fill:#7b4fb0}.forward{fill:#5b8fd9}.backward{fill:#1f4f9f}
.raw{fill:none;stroke:#9aa3ad;stroke-width:1.5}.smoothed{fill:none;stroke:#1f5fbf;stroke-width:2}
.limit{stroke:#c62828;stroke-width:1.5;stroke-dasharray:3 3;fill:none}.limit-label{fill:#c62828}
.design{fill:#f0a500;stroke:#333;stroke-width:1.2}
.legend{font-size:12px;color:#333;margin:2px 0 4px}.key{margin-right:12px;white-space:nowrap}
.swatch{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:-1px;border-radius:2px}
.swatch.curve{background:#1f5fbf}.swatch.bound{background:#c62828}.swatch.worst{background:#f0a500}.swatch.counterexample{background:#c62828;border-radius:6px}
.swatch.compute{background:#1f5fbf}.swatch.wait{background:#d9dde2}.swatch.comm{background:#e07b00}.swatch.optimizer{background:#7b4fb0}
.swatch.forward{background:#5b8fd9}.swatch.backward{background:#1f4f9f}.swatch.raw{background:#9aa3ad}.swatch.smoothed{background:#1f5fbf}.swatch.limit{background:#c62828}
.swatch.design{background:#f0a500}
.note{font-size:12px;color:#555}
.proved-region{fill:#2e8540;fill-opacity:.12}.answer{stroke:#2e8540;stroke-width:2}.answer-beyond{stroke:#2e8540;stroke-width:1.5;stroke-dasharray:2 2}
.answer-label{fill:#2e8540}.at-answer{fill:#2e8540;stroke:#fff;stroke-width:1.5}.layout{fill:#b4c3d6}.layout.winner{fill:#2e8540}
.winner-label{font-weight:600}.simulated{fill:#f0a500;stroke:#333;stroke-width:1.2}
.swatch.proved-region{background:#d5e7d9}.swatch.answer{background:#2e8540;width:3px}.swatch.answer-beyond{background:#2e8540;width:2px}
.swatch.at-answer{background:#2e8540;border-radius:6px}.swatch.layout{background:#b4c3d6}.swatch.layout.winner{background:#2e8540}.swatch.simulated{background:#f0a500;border-radius:6px}
"""


# ---- values ---------------------------------------------------------------------------------


def _factor(value: Fraction, dim, unit: str | None) -> tuple[Fraction, str]:
    """The factor a value of this dimension is multiplied by to be shown, and the unit shown."""
    probe = value if value != 0 else Fraction(1)
    shown, text = display_unit(probe, dim, unit)
    return shown / probe, text


def _refs(e: m.Expr) -> list[tuple[str, ...]]:
    if isinstance(e, m.QRef):
        return [e.path]
    if isinstance(e, m.Op):
        return _refs(e.left) + _refs(e.right)
    if isinstance(e, m.Neg):
        return _refs(e.operand)
    if isinstance(e, m.Fn):
        return [p for a in e.args for p in _refs(a)]
    return []


def _with(point: Point, unknown_id: str, value: Fraction) -> Point:
    return Point(tuple((k, value if k == unknown_id else x) for k, x in point.values), point.approximate)


def _at(model: m.Model, point: Point, *exprs: m.Expr) -> list[Fraction | None]:
    """The expressions' values by one simulation of the point (None where the core gives none)."""
    simulation = Simulation(model, point)
    out: list[Fraction | None] = []
    for e in exprs:
        try:
            out.append(simulation.expr(e))
        except MISSES:
            out.append(None)
    return out


def _samples(low: Fraction, high: Fraction, extra: list[Fraction], count: int = SAMPLES) -> list[Fraction]:
    out = {low + (high - low) * Fraction(k, count) for k in range(count + 1)}
    out.update(x for x in extra if low <= x <= high)
    return sorted(out)


# ---- the quantity over its unknowns ---------------------------------------------------------


def _comparison(v: Verdict) -> m.Comparison | None:
    if not v.claim.conditions:
        return None
    return v.claim.conditions[v.failing if v.status == Status.VIOLATED else 0]


def quantity_figures(result: FileResult, v: Verdict) -> list[str]:
    model = result.model
    comparison = _comparison(v)
    if model is None or comparison is None or (v.worst is None and v.point is None):
        return []
    base = v.worst.point if v.worst is not None else v.point
    assert base is not None
    unit = _preferred(comparison)
    dim = comparison.left.dim
    reference = v.worst.value if v.worst is not None else (v.left if v.left is not None else Fraction(1))
    factor, shown_unit = _factor(reference, dim, unit)
    name = _left_text(comparison)
    unknowns = [x for x in model.unknowns if x.id in v.relevant and x.low < x.high][:MAX_UNKNOWNS]
    if not unknowns:
        return [_constant_figure(model, v, comparison, base, factor, shown_unit, name)]
    return [_curve_figure(model, v, comparison, base, x, factor, shown_unit, name) for x in unknowns]


def _markers(v: Verdict, factor: Fraction) -> tuple[float | None, float | None]:
    worst = float(v.worst.value * factor) if v.worst is not None else None
    counter = float(v.left * factor) if v.status == Status.VIOLATED and v.left is not None and v.point is not None else None
    return worst, counter


def _curve_figure(model, v: Verdict, comparison, base: Point, unknown: m.Unknown, factor, shown_unit, name) -> str:
    xfactor, xunit = _factor(max(abs(unknown.low), abs(unknown.high)), unknown.dim, unknown.unit)
    extra = [base.get(unknown.id)] + ([v.point.get(unknown.id)] if v.point is not None and v.status == Status.VIOLATED else [])
    xs, curve, bounds, missed = [], [], [], 0
    layout = any(getattr(model.block(p[0]), "layout", None) is not None for p in _refs(comparison.left) + _refs(comparison.right))
    for value in _samples(unknown.low, unknown.high, extra, LAYOUT_SAMPLES if layout else SAMPLES):
        left, right = _at(model, _with(base, unknown.id, value), comparison.left, comparison.right)
        if left is None:
            missed += 1
            continue
        xs.append(float(value * xfactor))
        curve.append(float(left * factor))
        bounds.append(float(right * factor) if right is not None else None)
    worst, counter = _markers(v, factor)
    ys = curve + [b for b in bounds if b is not None] + [y for y in (worst, counter) if y is not None]
    plot = Plot()
    xs_all = xs + [float(unknown.low * xfactor), float(unknown.high * xfactor)]
    x = plot.xscale(min(xs_all), max(xs_all))
    y = plot.yscale(*domain(ys))
    plot.y_axis(y, name, shown_unit)
    plot.x_axis(x, unknown.id, xunit)
    known = [(a, b) for a, b in zip(xs, bounds) if b is not None]
    if known and len({b for _, b in known}) == 1:
        plot.hline(y(known[0][1]), "bound", f"{comparison.op} {label(known[0][1])}", known[0][1])
    elif known:
        plot.polyline([(x(a), y(b)) for a, b in known], "bound", "the other side of the claim")
    plot.polyline([(x(a), y(b)) for a, b in zip(xs, curve)], "curve", name)
    if counter is not None and v.point is not None:
        cx = float(v.point.get(unknown.id) * xfactor)
        plot.marker(x(cx), y(counter), "counterexample", counter, f"counterexample: {name} = {label(counter)} {shown_unit} at {unknown.id} = {label(cx)} {xunit}", "diamond")
    if worst is not None and v.worst is not None:
        wx = float(v.worst.point.get(unknown.id) * xfactor)
        plot.marker(x(wx), y(worst), "worst", worst, f"worst case: {name} = {label(worst)} {shown_unit} at {unknown.id} = {label(wx)} {xunit}")
    off = ""
    if worst is not None and v.worst is not None:
        at_worst = [c for a, c in zip(xs, curve) if a == float(v.worst.point.get(unknown.id) * xfactor)]
        if at_worst and abs(at_worst[0] - worst) > 1e-9 * max(abs(worst), 1):
            off = (f"; the solver's worst case lies off the curve, at {label(worst)} {shown_unit} where the core gives {label(at_worst[0])}: "
                   "the closed form bounds the simulated value there")
    others = [k for k in v.relevant if k != unknown.id]
    held = f"; {', '.join(others)} held at the worst case" if others else ""
    gap = f"; the core gives no value at {missed} of the sample points, left out" if missed else ""
    caption = f"{name} over {unknown.id} (line {unknown.span.line}){held}: each point computed by the simulation core{gap}{off}."
    items = [("curve", name), ("bound", "bound"), ("worst", "worst case (solver)")] + ([("counterexample", "counterexample (its own values of the others)")] if counter is not None else [])
    return _figure("quantity", plot, f"{name} over {unknown.id}", caption, items, unknown=unknown.id)


def _constant_figure(model, v: Verdict, comparison, base: Point, factor, shown_unit, name) -> str:
    worst, counter = _markers(v, factor)
    value, right = _at(model, base, comparison.left, comparison.right)
    bound = float(right * factor) if right is not None else None
    shown = [z for z in (worst, counter, bound, float(value * factor) if value is not None else None) if z is not None]
    plot = Plot(width=300)
    y = plot.yscale(*domain(shown, include_zero=True))
    plot.y_axis(y, name, shown_unit)
    mid = (plot.x0 + plot.x1) / 2
    if bound is not None:
        plot.hline(y(bound), "bound", f"{comparison.op} {label(bound)}", bound)
    if value is not None:
        plot.rect(mid - 20, y(float(value * factor)), 40, plot.y0 - y(float(value * factor)), "compute", f"simulation core: {label(float(value * factor))} {shown_unit}")
    if counter is not None:
        plot.marker(mid + 30, y(counter), "counterexample", counter, f"counterexample: {label(counter)} {shown_unit}", "diamond")
    if worst is not None:
        plot.marker(mid, y(worst), "worst", worst, f"worst case: {label(worst)} {shown_unit}")
    caption = f"{name} depends on no range: its one value (bar: the simulation core) against the bound."
    items = [("compute", "simulation core"), ("bound", "bound"), ("worst", "worst case (solver)")] + ([("counterexample", "counterexample")] if counter is not None else [])
    return _figure("quantity", plot, name, caption, items)


def _figure(kind: str, plot: Plot, title: str, caption: str, items: list[tuple[str, str]], unknown: str = "") -> str:
    data = f' data-unknown="{esc(unknown)}"' if unknown else ""
    return (f'<figure class="plot" data-kind="{kind}"{data} style="width:{plot.width}px">{legend(items)}{plot.svg(title)}'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


# ---- blocks: a step, a schedule, power, a radiator ------------------------------------------


def block_figures(result: FileResult, v: Verdict, drawn: dict[str, str] | None = None) -> list[str]:
    """The figures of the blocks a check names, at its worst case (else its counterexample).
    `drawn`: figures already on the page by what they show; the same one again becomes a link."""
    drawn = {} if drawn is None else drawn
    model = result.model
    comparison = _comparison(v)
    if model is None or comparison is None:
        return []
    point = v.worst.point if v.worst is not None else v.point
    if point is None:
        return []
    out: list[str] = []
    seen: set[str] = set()
    for path in _refs(comparison.left) + _refs(comparison.right):
        block = model.block(path[0])
        if block.name in seen:
            continue
        seen.add(block.name)
        relevant = [(k, x) for k, x in point.values if k in v.relevant]

        def once(kind: str, draw) -> None:
            key = f"{kind} {block.name} {relevant}"
            if key in drawn:
                out.append(f'<p class="note same"><a href="#{drawn[key]}">the {kind} of {esc(block.name)} at this point is drawn above</a></p>')
                return
            drawn[key] = f"{drawn.get('', 'fig')}-{len(drawn)}"
            out.extend(f'<div id="{drawn[key]}" class="anchor">{figure}</div>' for figure in draw())

        try:
            if isinstance(block, m.Workload) and block.kind == "training":
                run = Simulation(model, point).run(block)
                once("training step", lambda: [_timeline(block, run)])
                if block.model is not None:
                    once("pipeline schedule", lambda: _schedule(block, run))
                if path[1:2] and path[1] in ("swing", "ramp", "floor_cost", "average_power", "energy_per_step", "energy_per_token"):
                    once("power trace", lambda: [_power(result, block, Simulation(model, point), run)])
            elif isinstance(block, m.Radiator):
                once("radiator", lambda: [_radiator(result, block, Simulation(model, point).run(block))])
        except MISSES as exc:
            out.append(f'<p class="note">{esc(block.name)}: not drawn: {esc(exc)}</p>')
    return out


def _seconds(value: Fraction) -> tuple[Fraction, str]:
    return _factor(value, u.TIME, None)


def _timeline(block: m.Workload, run) -> str:
    pools = block.cluster.pools
    if block.model is not None:
        parts = [(p.name, [("compute", Fraction(0), run.pool_time[p.name]), ("wait", run.pool_time[p.name], run.pipeline_time),
                           ("comm", run.pipeline_time, run.pipeline_time + run.dp_comm_time),
                           ("optimizer", run.pipeline_time + run.dp_comm_time, run.step_time)]) for p in pools]
        items = [("compute", "pipeline schedule"), ("wait", "waiting for the slowest pool"), ("comm", "exposed gradient exchange"), ("optimizer", "optimizer step")]
    else:
        parts = [(p.name, [("compute", Fraction(0), run.pool_time[p.name]), ("wait", run.pool_time[p.name], run.compute_time),
                           ("comm", run.compute_time, run.step_time)]) for p in pools]
        items = [("compute", "compute"), ("wait", "waiting at the barrier"), ("comm", "exposed communication")]
    factor, unit = _seconds(run.step_time)
    plot = Plot(height=60 + 26 * len(pools), left=90)
    x = plot.xscale(0, float(run.step_time * factor))
    plot.x_axis(x, "time in the step", unit)
    row = (plot.y0 - plot.y1) / len(pools)
    for k, (name, phases) in enumerate(parts):
        top = plot.y1 + k * row + 3
        plot.text(plot.x0 - 6, top + row / 2 + 1, name, anchor="end")
        for cls, a, b in phases:
            if b > a:
                plot.rect(x(float(a * factor)), top, x(float(b * factor)) - x(float(a * factor)), row - 6, cls,
                          f"{name}: {cls} from {label(float(a * factor))} to {label(float(b * factor))} {unit}")
    caption = f"One training step of {block.name} per pool, replayed by the simulation core at the worst case: {fmt(run.step_time * factor)} {unit}."
    return _figure("timeline", plot, f"training step of {block.name}", caption, items)


def _schedule(block: m.Workload, run) -> list[str]:
    x_ = block.layout
    assert x_ is not None
    ops_count = 2 * x_.pipeline * x_.virtual * run.microbatches
    if ops_count > MAX_OPS:
        return [f'<p class="note">pipeline schedule of {esc(block.name)}: {int(ops_count)} operations on {x_.pipeline} stages, '
                f'too many to draw one by one; its bubble is {esc(fmt(run.bubble * 100))} % of the ideal time.</p>']
    ops = run.schedule_trace(0)
    span = max(op[5] for op in ops)
    factor, unit = _seconds(span)
    plot = Plot(width=900, height=60 + 18 * x_.pipeline, left=70)
    x = plot.xscale(0, float(span * factor))
    plot.x_axis(x, f"time in the pipeline of pool {block.cluster.pools[0].name}", unit)
    row = (plot.y0 - plot.y1) / x_.pipeline
    for r in range(x_.pipeline):
        plot.text(plot.x0 - 6, plot.y1 + r * row + row / 2 + 4, f"stage {r}", anchor="end")
        plot.rect(plot.x0, plot.y1 + r * row + 2, plot.x1 - plot.x0, row - 4, "wait")
    for r in range(x_.pipeline):
        for kind, cls in ((0, "forward"), (1, "backward")):
            spans = [(x(float(a * factor)), x(float(b * factor))) for stage, k, _, _, a, b in ops if stage == r and k == kind]
            plot.bars(spans, plot.y1 + r * row + 2, row - 4, cls, f"stage {r}: {cls} passes")
    caption = (f"{block.name}: the {'interleaved ' if x_.virtual > 1 else ''}1F1B schedule of {int(run.microbatches)} microbatches on "
               f"{x_.pipeline} stages, op by op as the simulation core replays it; grey is the bubble ({fmt(run.bubble * 100)} % of the ideal time).")
    return [_figure("schedule", plot, f"pipeline schedule of {block.name}", caption, [("forward", "forward"), ("backward", "backward"), ("wait", "idle (bubble)")])]


def _limits(result: FileResult, block: m.Workload) -> dict[str, list[Fraction]]:
    """The grid's limits the file's checks state, `W.swing <= X` and `W.ramp <= Y`, each distinct one."""
    out: dict[str, list[Fraction]] = {"swing": [], "ramp": []}
    for v in result.verdicts:
        for c in v.claim.conditions if v.claim.kind == "check" else ():
            if isinstance(c.left, m.QRef) and c.left.path[:1] == (block.name,) and c.left.path[1:] in (("swing",), ("ramp",)) \
                    and c.op in ("<=", "<") and isinstance(c.right, m.Lit) and c.right.value not in out[c.left.path[1]]:
                out[c.left.path[1]].append(c.right.value)
    return {k: sorted(x) for k, x in out.items()}


def _power(result: FileResult, block: m.Workload, simulation: Simulation, run) -> str:
    spec = simulation.cluster(block.cluster)
    busy = run.pool_busy if block.model is not None else run.pool_time
    step = run.step_time
    tick = step / POWER_SAMPLES
    raw = [Fraction(0)] * (POWER_SAMPLES + 1)
    smoothed = [Fraction(0)] * (POWER_SAMPLES + 1)
    for pool in spec.pools:
        g = pool.gpu
        demand = tuple(g.tdp if tick * k < busy[pool.name] else g.idle for k in range(1, POWER_SAMPLES + 1))
        plain = (g.tdp,) + sim.smooth(demand, tick, Fraction(0), None, g.tdp, g.tdp)
        held = (g.tdp,) + sim.smooth(demand, tick, sim.scenario.floor_watts(g), g.ramp, g.tdp, g.tdp)
        for k in range(POWER_SAMPLES + 1):
            raw[k] += pool.count * plain[k]
            smoothed[k] += pool.count * held[k]
    pfactor, punit = _factor(max(raw), u.POWER, None)
    tfactor, tunit = _seconds(step)
    limits = _limits(result, block)
    top = max(raw)
    lines = [float(top * pfactor)] + [float(z * pfactor) for z in raw + smoothed]
    lines += [float((max(smoothed) - swing) * pfactor) for swing in limits["swing"]]
    plot = Plot(width=560)
    x = plot.xscale(0, float(step * tfactor))
    y = plot.yscale(*domain(lines, include_zero=True))
    plot.y_axis(y, "GPU power", punit)
    plot.x_axis(x, "time in the step", tunit)
    times = [float(tick * k * tfactor) for k in range(POWER_SAMPLES + 1)]
    plot.polyline([(x(t), y(float(p * pfactor))) for t, p in zip(times, raw)], "raw", "without floor and slew limit")
    plot.polyline([(x(t), y(float(p * pfactor))) for t, p in zip(times, smoothed)], "smoothed", "with the floor and slew limit")
    items = [("raw", "without smoothing"), ("smoothed", "with the floor and slew limit")]
    for swing in limits["swing"]:
        level = float((max(smoothed) - swing) * pfactor)
        plot.hline(y(level), "limit", f"swing limit {label(float(swing * pfactor))} {punit} below the peak")
    first = next((k for k in range(1, POWER_SAMPLES + 1) if smoothed[k] < smoothed[k - 1] or raw[k] < raw[k - 1]), None)
    for ramp in limits["ramp"] if first is not None else ():
        t0, p0 = tick * (first - 1), raw[first - 1]
        t1 = min(step, t0 + (p0 - min(raw)) / ramp)
        p1 = p0 - ramp * (t1 - t0)
        plot.polyline([(x(float(t0 * tfactor)), y(float(p0 * pfactor))), (x(float(t1 * tfactor)), y(float(p1 * pfactor)))], "limit",
                      f"ramp limit {quantity(ramp, u.SLEW)}")
    if limits["swing"] or limits["ramp"]:
        items.append(("limit", "grid limits"))
    caption = (f"The GPUs' power in {block.name} over one step ({POWER_SAMPLES} controller ticks of {quantity(tick, u.TIME)}), at the worst case; "
               f"the grid's ramp limit is drawn as a slope from where the power starts to fall.")
    return _figure("power", plot, f"power of {block.name} over a step", caption, items)


def _radiator(result: FileResult, block: m.Radiator, run) -> str:
    s = run.spec
    design_t, design_a = run.temperature, run.area
    low_t = max(s.sink * Fraction(21, 20), design_t * Fraction(3, 5))
    high_t = design_t * Fraction(3, 2)
    afactor, aunit = _factor(design_a, u.AREA, None)
    tfactor, tunit = _factor(design_t, u.TEMPERATURE, None)
    points = []
    for k in range(41):
        t = low_t + (high_t - low_t) * Fraction(k, 40)
        if t <= s.sink:
            continue
        a = sim.area_for(s.heat, s.emissivity, t, s.sink, s.sides)
        if a <= 4 * design_a:
            points.append((float(t * tfactor), float(a * afactor)))
    plot = Plot()
    x = plot.xscale(float(low_t * tfactor), float(high_t * tfactor))
    y = plot.yscale(*domain([p[1] for p in points] + [float(design_a * afactor)], include_zero=True))
    plot.y_axis(y, f"area of {block.name}", aunit)
    plot.x_axis(x, "panel temperature", tunit)
    plot.polyline([(x(a), y(b)) for a, b in points], "curve", "A = Q / (n ε σ (T⁴ − T_sink⁴))")
    plot.marker(x(float(design_t * tfactor)), y(float(design_a * afactor)), "design", float(design_a * afactor),
                f"design point: {label(float(design_t * tfactor))} {tunit}, {label(float(design_a * afactor))} {aunit}")
    caption = (f"{block.name}: the area that radiates {quantity(s.heat, u.POWER)} at each temperature, A = Q / (n ε σ (T⁴ − T_sink⁴)) "
               f"with ε = {fmt(s.emissivity)}, n = {s.sides}, T_sink = {quantity(s.sink, u.TEMPERATURE)}, computed by the simulation core; "
               f"the design point at the worst case.")
    return _figure("radiator", plot, f"area of {block.name} against temperature", caption, [("curve", "area needed"), ("design", "design point")])


# ---- the page -------------------------------------------------------------------------------


def _check_html(result: FileResult, v: Verdict, drawn: dict[str, str]) -> str:
    record = verdict_record(result, v)
    status = str(v.status)
    head = f'<h3><span class="badge {esc(status)}">{esc(status.replace("-", " "))}</span>{"find" if v.claim.find is not None else esc(v.claim.kind)} {esc(v.claim.name)} <span class="note">line {v.claim.span.line}</span></h3>'
    lines = []
    if record is not None:
        lines.append(f"{v.claim.span}: {record.message} [{record.code}]")
        if record.severity != "note":
            lines.append(excerpt(v.claim.span, result.lines))
        lines.extend(record.body)
    body = f"<pre>{esc(chr(10).join(line for line in lines if line))}</pre>" if lines else ""
    if v.claim.find is not None:  # a find statement: its answer or its ranked layouts (checker/html_find.py)
        from checker.html_find import find_figures

        figures = find_figures(result, v) + block_figures(result, v, drawn)
    else:
        figures = quantity_figures(result, v) + block_figures(result, v, drawn)
    shown = f'<div class="figures">{"".join(figures)}</div>' if figures else ""
    return f'<section class="check {esc(status)}" data-check="{esc(v.claim.name)}" data-kind="{esc(v.claim.kind)}" data-status="{esc(status)}">{head}{body}{shown}</section>'


def _file_html(result: FileResult, index: int) -> str:
    out = [f'<h2 class="file" data-path="{esc(result.path)}"><span class="badge {esc(result.status)}">{esc(result.status.replace("-", " "))}</span>{esc(result.path)}</h2>']
    for d in result.diagnostics:
        out.append(f'<pre class="diagnostic">{esc(chr(10).join(_diagnostic_text(d, result.lines)))}</pre>')
    invariants = [v for v in result.verdicts if v.claim.kind == "invariant"]
    held = sum(1 for v in invariants if v.status == Status.PROVED)
    drawn = {"": f"f{index}"}  # the prefix of this file's figure anchors
    for v in result.verdicts:
        if v.claim.kind == "check" or v.status != Status.PROVED:
            out.append(_check_html(result, v, drawn))
    if invariants:
        out.append(f'<p class="note">built-in invariants: {held} of {len(invariants)} hold</p>')
    return "".join(out)


def render(results: list[FileResult], exit_code: int | None = None) -> str:
    title = "verify report" + (f": {results[0].path}" if len(results) == 1 else "")
    body = "".join(f'<article class="result">{_file_html(r, k)}</article>' for k, r in enumerate(results))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; img-src data:">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f'<h1>{esc(title)}</h1><p class="summary">{esc(summary_line(results, exit_code))}<br><span class="note">{esc(ROUNDING)}; '
        "figures are drawn from the simulation core's values, rounded to the pixel</span></p>"
        f"{body}</body></html>\n"
    )


def write_html(results: list[FileResult], out: TextIO, exit_code: int | None = None) -> None:
    out.write(render(results, exit_code))
