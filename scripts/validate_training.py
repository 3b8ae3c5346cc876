#!/usr/bin/env python3
"""Replay published training runs through the simulation core and compare.

    python scripts/validate_training.py          # table, summary, exit 1 if a target is missed
    python scripts/validate_training.py --fit    # the grid search that fitted the A100 profile

Data: tests/data/published-training-runs.toml (every row cited). Targets (spec/semantics.md, "Transformer training"):
Korthikanti step times within 5 % on average and 10 % at worst, memory within 5 %, held-out
rows within HELDOUT_TOLERANCE. One profile per GPU class; nothing is fitted per row.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tomllib
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.sim import Device, Layout, Link, Model, megatron_step  # noqa: E402

DATA = ROOT / "tests" / "data" / "published-training-runs.toml"
GIB = 2 ** 30
STEP_MEAN, STEP_WORST, MEMORY_WORST = Fraction(5, 100), Fraction(10, 100), Fraction(5, 100)
HELDOUT_TOLERANCE = Fraction(15, 100)


def load(path: Path = DATA) -> dict:
    with open(path, "rb") as f:
        return tomllib.load(f)


def fr(text: str) -> Fraction:
    if "/" in text:
        num, den = text.split("/")
        return Fraction(num) / Fraction(den)
    return Fraction(text)


def profile(data: dict, gpu: str, override: dict | None = None) -> dict:
    """The device and link numbers of a GPU class; a class with `transfer_from` takes the
    fitted shares of that class (matmul scaled by the ratio of documented shares)."""
    raw = dict(data["profile"][gpu])
    if "transfer_from" in raw:
        base = dict(data["profile"][raw["transfer_from"]], **(override or {}))
        ratio = fr(base["matmul"]) / fr(base["documented_matmul"])
        raw["matmul"] = str(ratio * fr(raw["documented_matmul"]))
        raw["hbm_share"], raw["nvlink_share"] = base["hbm_share"], base["nvlink_share"]
    elif override:
        raw.update(override)
    return raw


def model_of(data: dict, name: str) -> Model:
    m = data["model"][name]
    return Model(layers=m["layers"], hidden=m["hidden"], heads=m["heads"], seq=m["seq"],
                 vocab=m["vocab"], kv_heads=m.get("kv_heads", 0), ffn=m.get("ffn", 0),
                 gated=m.get("gated", False))


def chunks(run: dict, model: Model) -> tuple[tuple[int, ...], ...]:
    """Llama 3's uneven stages: one layer fewer on the first and the last stage (taken from
    their first and last chunk); every other chunk holds (l + 2) / (p v) layers."""
    if run.get("stages") != "llama3":
        return ()
    p, v = run["p"], run["v"]
    each = (model.layers + 2) // (p * v)
    rows = [[each] * v for _ in range(p)]
    rows[0][0] -= 1
    rows[-1][-1] -= 1
    return tuple(tuple(r) for r in rows)


def replay(data: dict, run: dict, override: dict | None = None):
    cluster = data["cluster"][run["cluster"]]
    prof = profile(data, cluster["gpu"], override)
    device = Device(peak=fr(prof["peak"]), matmul=fr(prof["matmul"]), hbm=fr(prof["hbm"]),
                    hbm_share=fr(prof["hbm_share"]), memory=fr(prof["memory"]))
    inner = Link(fr(prof["nvlink"]), fr(prof["nvlink_latency"]), fr(prof["nvlink_share"]))
    outer = Link(fr(cluster["scaleout"]), fr(prof["scaleout_latency"]), fr(prof["scaleout_share"]))
    model = model_of(data, run["model"])
    layout = Layout(t=run["t"], p=run["p"], d=run["d"], c=run.get("c", 1), v=run["v"],
                    micro=run["micro"], batch=run["batch"], sp=run["sp"],
                    recompute=run["recompute"], zero=run["zero"], flash=run.get("flash", False))
    return megatron_step(model, layout, device, inner, outer, chunk_layers=chunks(run, model))


def data_gpu(run: dict, data: dict | None = None) -> str:
    """The GPU class of a run's cluster."""
    return (data or load())["cluster"][run["cluster"]]["gpu"]


def computed(run: dict, result) -> Fraction:
    metric = run["metric"]
    if metric == "step_time":
        return result.step_time
    if metric == "state_gib":
        return result.state_bytes / GIB
    if metric == "activation_gib":
        return result.activation_bytes / GIB
    if metric == "mfu":
        return result.mfu
    if metric == "tflops_per_gpu":
        gpus = run["t"] * run["p"] * run["d"] * run.get("c", 1)
        return result.model_flops / (result.step_time * gpus) / 10 ** 12
    raise ValueError(f"unknown metric {metric}")


def evaluate(data: dict, override: dict | None = None, only: str | None = None) -> list:
    out = []
    for run in data["run"]:
        if only and run["set"] != only:
            continue
        result = replay(data, run, override)
        published = fr(run["value"])
        value = computed(run, result)
        out.append((run, published, value, (value - published) / published, result))
    return out


# ---- the same rows through the product: a spec each, the closed form and the simulated schedule

PIPELINE_METRICS = ("step_time", "mfu", "tflops_per_gpu", "activation_gib")


def spec_text(data: dict, run: dict) -> str:
    """A spec for the row, written the way a user would: the catalog's GPU (its profile is the
    one in the data file), the cluster's links, the model and the layout."""
    cluster = data["cluster"][run["cluster"]]
    gpu = cluster["gpu"]
    prof = profile(data, gpu)
    shape = data["model"][run["model"]]
    gpus = run["t"] * run["p"] * run["d"] * run.get("c", 1)
    model = [f"layers = {shape['layers']}", f"hidden = {shape['hidden']}", f"heads = {shape['heads']}",
             f"seq = {shape['seq']}", f"vocab = {shape['vocab']}"]
    if shape.get("kv_heads"):
        model.append(f"kv_heads = {shape['kv_heads']}")
    if shape.get("ffn"):
        model.append(f"ffn = {shape['ffn']}")
    if shape.get("gated"):
        model.append("mlp = swiglu")
    layout = [f"tensor = {run['t']}", f"pipeline = {run['p']}", f"data = {run['d']}", f"context = {run.get('c', 1)}",
              f"virtual = {run['v']}", f"microbatch = {run['micro']}", f"sequence_parallel = {'yes' if run['sp'] else 'no'}",
              f"recompute = {run['recompute']}", f"optimizer = {['none', 'distributed', 'gradients', 'weights'][run['zero']]}",
              f"attention = {'flash' if run.get('flash') else 'standard'}"]
    if run.get("stages") == "llama3":
        layout.append("trim = 1")
    return "\n".join([
        f"model m {{ {'; '.join(model)} }}",
        f"cluster c {{",
        f"  pool g = {gpus} x {gpu}",
        f"  network {{ topology = ring; bandwidth = {prof_bytes(cluster['scaleout'])}; latency = {fr(prof['scaleout_latency']) * 10**6} us;"
        f" efficiency = {fr(prof['scaleout_share']) * 100} %; domain = 8; domain_bandwidth = {prof_bytes(prof['nvlink'])};"
        f" domain_latency = {fr(prof['nvlink_latency']) * 10**6} us; domain_efficiency = {fr(prof['nvlink_share']) * 100} % }}",
        "}",
        f"workload w on c {{ kind = training; model = m; batch = {run['batch'] * shape['seq']} token; layout {{ {'; '.join(layout)} }} }}",
        "check step: w.step_time <= 1e9 s",
        "check mfu: w.mfu >= 0 %",
        "check activations: w.activation_per_gpu <= 1e18 B",
        "",
    ])


def prof_bytes(text: str) -> str:
    return f"{fr(text)} B/s"


def through_pipeline(data: dict, run: dict) -> dict[str, tuple[Fraction, Fraction]]:
    """Each quantity as the closed form (the value the proofs are about) and as the simulated
    schedule (the replay), from `verify`'s own pipeline."""
    from checker.api import check_text

    result = check_text(f"{run['id']}.spec", spec_text(data, run))
    values = {}
    for verdict in result.verdicts:  # a configuration that does not fit 80 GB breaks an invariant, nothing else
        if verdict.claim.kind == "check":
            replay = result.replays.get(verdict.claim.name)
            if verdict.status != "proved" or replay is None or replay.status != "confirmed":
                raise RuntimeError(f"{run['id']}: {verdict.claim.name} is {verdict.status}, replay {replay.status if replay else None}")
            values[verdict.claim.name] = (verdict.worst.value, replay.left)
    peak = fr(profile(data, data["cluster"][run["cluster"]]["gpu"])["peak"])
    out = {"step_time": values["step"], "mfu": values["mfu"], "activation_gib": tuple(v / GIB for v in values["activations"])}
    out["tflops_per_gpu"] = tuple(v * peak / 10**12 for v in values["mfu"])
    return out


def pipeline_rows(data: dict) -> list:
    """(run, published, closed form, its error, schedule, its error) for the rows the product
    names as quantities (step time, MFU, TFLOP/s per GPU, activations)."""
    out = []
    for run in data["run"]:
        if run["metric"] not in PIPELINE_METRICS:
            continue
        closed, schedule = through_pipeline(data, run)[run["metric"]]
        published = fr(run["value"])
        out.append((run, published, closed, (closed - published) / published, schedule, (schedule - published) / published))
    return out


def pipeline_table(rows: list) -> str:
    head = f"{'run':28} {'metric':15} {'published':>10} {'closed form':>12} {'error':>8} {'schedule':>10} {'error':>8}"
    lines = [head, "-" * len(head)]
    for run, published, closed, e1, schedule, e2 in rows:
        lines.append(f"{run['id']:28} {run['metric']:15} {float(published):10.4g} {float(closed):12.4g} {float(e1):8.2%} {float(schedule):10.4g} {float(e2):8.2%}")
    return "\n".join(lines)


def pipeline_verdict(rows: list) -> tuple[bool, list[str]]:
    """The same targets for the closed form the proofs are about."""
    lines, ok = [], True
    for name, group, worst_limit, mean_limit in (
            ("closed form, calibration", "calibration", STEP_WORST, STEP_MEAN),
            ("closed form, memory", "memory", MEMORY_WORST, None),
            ("closed form, held-out", "heldout", HELDOUT_TOLERANCE, None)):
        errors = [abs(e1) for run, _, _, e1, _, _ in rows if run["set"] == group]
        if not errors:
            continue
        mean, worst = sum(errors) / len(errors), max(errors)
        good = worst <= worst_limit and (mean_limit is None or mean <= mean_limit)
        ok &= good
        lines.append(f"{name:26} n={len(errors):2}  mean |err| {float(mean):6.2%}  worst {float(worst):6.2%}  ({'met' if good else 'MISSED'})")
    return ok, lines


def verdict(rows: list) -> tuple[bool, list[str]]:
    lines, ok = [], True
    for name, group, worst_limit, mean_limit in (
            ("calibration step times", "calibration", STEP_WORST, STEP_MEAN),
            ("memory", "memory", MEMORY_WORST, None),
            ("held-out", "heldout", HELDOUT_TOLERANCE, None)):
        errors = [abs(e) for run, _, _, e, _ in rows if run["set"] == group]
        if not errors:
            continue
        mean, worst = sum(errors) / len(errors), max(errors)
        good = worst <= worst_limit and (mean_limit is None or mean <= mean_limit)
        ok &= good
        limits = f"worst <= {float(worst_limit):.0%}" + (
            f", mean <= {float(mean_limit):.0%}" if mean_limit is not None else "")
        lines.append(f"{name:24} n={len(errors):2}  mean |err| {float(mean):6.2%}  worst "
                     f"{float(worst):6.2%}  ({limits}: {'met' if good else 'MISSED'})")
    return ok, lines


def table(rows: list) -> str:
    head = f"{'run':28} {'set':11} {'metric':15} {'published':>10} {'computed':>10} {'error':>8}"
    lines = [head, "-" * len(head)]
    for run, published, value, error, _ in rows:
        lines.append(f"{run['id']:28} {run['set']:11} {run['metric']:15} "
                     f"{float(published):10.4g} {float(value):10.4g} {float(error):8.2%}")
    return "\n".join(lines)


def fit(data: dict) -> None:
    """The grid the A100 numbers were chosen from: mean |error| over the eight calibration
    step times, ties broken by the worst error. Prints the ten best points."""
    grid = itertools.product([Fraction(x, 100) for x in range(70, 88, 2)],
                             [Fraction(x, 10) for x in range(5, 10)],
                             [Fraction(x, 10) for x in range(4, 10)])
    scored = []
    for mm, hbm, nv in grid:
        rows = evaluate(data, {"matmul": str(mm), "hbm_share": str(hbm), "nvlink_share": str(nv)},
                        only="calibration")
        errors = [abs(e) for *_, e, _ in rows]
        scored.append((sum(errors) / len(errors), max(errors), mm, hbm, nv))
    for mean, worst, mm, hbm, nv in sorted(scored)[:10]:
        print(f"matmul {float(mm):.2f} hbm {float(hbm):.1f} nvlink {float(nv):.1f}: "
              f"mean {float(mean):.2%} worst {float(worst):.2%}")


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--fit", action="store_true", help="run the calibration grid search")
    ns = args.parse_args(argv)
    data = load()
    if ns.fit:
        fit(data)
        return 0
    rows = evaluate(data)
    print("The simulation core alone (the schedule replayed op by op):")
    print(table(rows))
    print()
    ok, lines = verdict(rows)
    print("\n".join(lines))
    print()
    print("Through verify's pipeline (a spec per row): the closed form the proofs are about, and the replay:")
    piped = pipeline_rows(data)
    print(pipeline_table(piped))
    print()
    good, lines = pipeline_verdict(piped)
    print("\n".join(lines))
    return 0 if ok and good else 1


if __name__ == "__main__":
    sys.exit(main())
