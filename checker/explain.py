"""``verify explain FILE [NAME.QUANTITY...]``: how the checker computes a quantity of a spec.

For a quantity: what it is (the registry's words), its formula (spec/semantics.md), the formula
again with the block's own field values put in, its value (one exact value for constants; the
lowest and highest over the declared ranges otherwise, from the same closed forms the checker
proves claims with), every field it is computed from with its value and the line that gives it,
and the quantities the report shows beside it. Without a quantity: every block's fields with
their values and lines, and the derived quantities a claim may name on it.

Nothing is proved here: explain shows what `verify` reasons about. Exit 0; 2 when the spec is
invalid (its diagnostics are printed); 4 for a usage error (a quantity the spec does not have).
"""

from __future__ import annotations

import argparse
import re
from fractions import Fraction
from typing import TextIO

from checker import model as m, registry, units as u
from checker.numbers import fmt, ratio

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 2, 4

# the formulas of spec/semantics.md, by (family, path); a quantity without one shows its words
SUM = "Σ_c"
FORMULAS: dict[tuple[str, tuple[str, ...]], str] = {
    ("radiator", ("area",)): "heat / (emissivity · σ · sides · (temperature⁴ − sink⁴))",
    ("radiator", ("temperature",)): "(heat / (area · emissivity · σ · sides) + sink⁴)^(1/4)",
    ("radiator", ("flux",)): "heat / area",
    ("cluster", ("gpus",)): f"{SUM} N_c",
    ("cluster", ("peak",)): f"{SUM} N_c · peak_c",
    ("cluster", ("power", "draw")): f"{SUM} N_c · tdp_c · (1 + overhead) · pue",
    ("training", ("flops_per_token",)): "6 · params",
    ("inference", ("flops_per_token",)): "2 · params",
    ("training", ("state_bytes",)): "16 B per parameter",
    ("inference", ("state_bytes",)): "2 B per parameter",
    ("training", ("memory_per_gpu",)): "state_bytes · params / shards",
    ("inference", ("memory_per_gpu",)): "state_bytes · params / shards",
    ("training", ("pool_time",)): "f_c / (peak_c · efficiency) · (1 + jitter_c), f_c = flops_per_token · batch / N (uniform) or by speed (proportional)",
    ("training", ("compute_time",)): "max_c pool_time_c",
    ("training", ("comm_time",)): "ring: 2(n − 1) · latency + 2(n − 1)/n · S / bandwidth, n = N / shards, S = grad_bytes · params / shards",
    ("training", ("step_time",)): "compute_time + (1 − overlap) · comm_time",
    ("training", ("mfu",)): f"flops_per_token · batch / (step_time · {SUM} N_c · peak_c)",
    ("training", ("throughput",)): "batch / step_time",
    ("training", ("wait",)): "1 − pool_time_c / step_time",
    ("inference", ("throughput",)): f"{SUM} N_c · peak_c · efficiency / flops_per_token",
    ("training", ("swing",)): f"{SUM} N_c · (tdp_c − max(idle_c, floor_c))",
    ("training", ("ramp",)): f"{SUM} N_c · min(ramp_c, (tdp_c − max(idle_c, floor_c)) / transition)",
    ("training", ("average_power",)): f"{SUM} N_c · (tdp_c · t_c + low_c · (step_time − t_c)) / step_time",
    ("training", ("energy_per_step",)): "average_power · step_time",
    ("training", ("energy_per_token",)): "energy_per_step / batch",
    ("transformer", ("bubble",)): "(pipeline − 1) / (virtual · microbatches)",
    ("transformer", ("microbatches",)): "batch / (seq · data · microbatch)",
    ("transformer", ("mfu",)): f"flops / (step_time · {SUM} N_c · peak_c)",
    ("transformer", ("throughput",)): "batch / step_time",
    ("transformer", ("memory_per_gpu",)): "state_per_gpu + activation_per_gpu",
    ("transformer", ("energy_per_step",)): "average_power · step_time",
}


def _unit_words(dim: u.Dim) -> str:
    return "a plain number" if dim.dimensionless else u.canonical_name(dim)


def _show(value: Fraction, dim: u.Dim, unit: str | None = None) -> str:
    from checker.report import quantity

    return quantity(value, dim, unit)


def _exact(value: Fraction, dim: u.Dim) -> str:
    """' (exact 13920192 W)' when the shown value is rounded and the exact one is short."""
    from decimal import Decimal, InvalidOperation

    from checker.units import display_unit

    shown, _ = display_unit(value, dim, None)
    try:
        if Fraction(Decimal(fmt(shown))) == shown:
            return ""  # shown exactly
    except (InvalidOperation, ValueError):
        pass
    text = ratio(value)
    return f" (exact {text}{'' if dim.dimensionless else ' ' + u.canonical_name(dim)})" if len(text) <= 32 else ""


def _param_text(param: m.Param) -> str:
    value = param.value
    if isinstance(value, m.Unknown):
        return f"{_show(value.low, param.dim, param.unit)} .. {_show(value.high, param.dim, param.unit)}"
    return _show(value, param.dim, param.unit)


def _where(span, path: str) -> str:
    return f"line {span.line}" if span.file == path else f"{span.file} line {span.line}"


def _given_at(model: m.Model, path: tuple[str, ...], param: m.Param) -> str:
    """Where a field's value comes from: its line, or 'default' when the block does not give it
    (a defaulted field carries the span of its block or section)."""
    block = model.block(path[0])
    holders = [block, *(getattr(block, name, None) for name in ("network", "power"))] if isinstance(block, m.Cluster) else [block]
    if any(getattr(h, "span", None) == param.span for h in holders if h is not None):
        from checker.catalog import CATALOG

        return "the built-in catalog" if isinstance(block, m.Gpu) and block.name in CATALOG else "default"
    return _where(param.span, model.path)


def _field(model: m.Model, path: tuple[str, ...]) -> m.Param | None:
    try:
        block = model.block(path[0])
    except KeyError:
        return None
    if isinstance(block, m.Workload) and len(path) == 3 and path[1] == "jitter":
        return next((p for p, pool in zip(block.jitter, block.cluster.pools) if pool.name == path[2]), None)
    kind, holder, name = registry.field_holder(block, path[1:])
    value = getattr(holder, name, None) if holder is not None else None
    return value if isinstance(value, m.Param) else None


def _kind(block) -> str:
    family = registry.family_of(block)
    return {"training": "training workload", "inference": "inference workload", "transformer": "training workload with a model"}.get(family, family)


def _substituted(formula: str, model: m.Model, owner: str, uses) -> str | None:
    """The formula with the block's own single-valued fields written as their values."""
    out, changed = formula, False
    for path in sorted(uses):
        if not path or path[0] != owner:
            continue
        param = _field(model, path)
        if param is None:
            continue
        text = _param_text(param)
        text = f"({text})" if " .. " in text else text
        pattern = re.compile(rf"(?<![A-Za-z0-9_.]){re.escape(path[-1])}(?![A-Za-z0-9_])")
        new = pattern.sub(lambda found, t=text, o=out: f"({t})" if " " in t and o[found.end() : found.end() + 1] in ("⁴", "^") and not t.startswith("(") else t, out)
        changed |= new != out
        out = new
    return out if changed else None


def explain_quantity(model: m.Model, path: tuple[str, ...], out: TextIO) -> None:
    from checker.encode_explain import evaluate

    block = model.block(path[0])
    family = registry.family_of(block)
    name = ".".join(path)
    dim = registry.dim_of(model, path)
    param = _field(model, path)
    where = _where(block.span, model.path)
    if param is not None:
        kind, _, field_name = registry.field_holder(block, path[1:])
        spec = registry.spec_of("workload" if family in registry.POWER_FAMILIES else kind, field_name) if kind else None
        out.write(f"{name}: a field of {_kind(block)} {block.name} ({where}){': ' + spec.doc if spec is not None and spec.doc else ''}\n")
        out.write(f"  value: {_param_text(param)}  ({_given_at(model, path, param)})\n")
        return
    entry = registry.find(family, path[1:])
    assert entry is not None and dim is not None
    out.write(f"{name}: {entry.doc} ({_kind(block)} {block.name}, {where}; {'a plain number' if dim.dimensionless else 'in ' + u.canonical_name(dim)})\n")
    formula = FORMULAS.get((family, entry.path))
    value = evaluate(model, path)
    if formula is not None:
        out.write(f"  formula: {'.'.join(entry.path)} = {formula}\n")
        substituted = _substituted(formula, model, block.name, value.uses)
        if substituted is not None:
            out.write(f"  with this spec's values: {substituted}\n")
    if entry.bound is not None:
        out.write(f"  the closed form is {'an upper' if entry.bound == 'upper' else 'a lower'} bound of what the simulation core's schedule gives\n")
    if value.low is not None and value.low == value.high:
        out.write(f"  value: {_show(value.low, dim)}{_exact(value.low, dim)}\n")
    else:
        low = _show(value.low, dim) + _exact(value.low, dim) if value.low is not None else "(not settled)"
        high = _show(value.high, dim) + _exact(value.high, dim) if value.high is not None else "(not settled)"
        over = ", ".join(value.unknowns) or "the ranges"
        out.write(f"  value: {low} .. {high} over the ranges of {over} (assumptions not applied)\n")
    fields = [(p, _field(model, p)) for p in sorted(value.uses)]
    fields = [(p, f) for p, f in fields if f is not None]
    pools = block.pools if isinstance(block, m.Cluster) else block.cluster.pools if isinstance(block, m.Workload) else ()
    if fields or pools:
        out.write("  computed from:\n")
        rows = [(f"pool {pool.name} = {pool.count} x {pool.gpu.name}", _where(pool.span, model.path)) for pool in pools]
        rows += [(f"{'.'.join(p)} = {_param_text(f)}", _given_at(model, p, f)) for p, f in fields]
        width = max(len(text) for text, _ in rows)
        out.writelines(f"    {text.ljust(width)}  {line}\n" for text, line in rows)
    beside = registry.explanation(model, path)
    beside = [p for p in beside if p != path]
    if beside:
        out.write("  beside it in a report:\n")
        for other in beside:
            found = evaluate(model, other)
            other_dim = registry.dim_of(model, other)
            if found.low is not None and found.low == found.high:
                shown = _show(found.low, other_dim)
            else:
                shown = " .. ".join(_show(v, other_dim) if v is not None else "(not settled)" for v in (found.low, found.high))
            out.write(f"    {'.'.join(other)} = {shown}\n")


def explain_blocks(model: m.Model, out: TextIO) -> None:
    for index, block in enumerate(model.blocks):
        if index:
            out.write("\n")
        span = getattr(block, "span", None)
        out.write(f"{_kind(block)} {block.name}" + (f"  ({_where(span, model.path)})" if span is not None else "") + "\n")
        if isinstance(block, m.Cluster):
            for pool in block.pools:
                out.write(f"  pool {pool.name} = {pool.count} x {pool.gpu.name}  ({_where(pool.span, model.path)})\n")
        if isinstance(block, m.Workload):
            out.write(f"  on {block.cluster.name}\n")
        family = registry.family_of(block)
        names = registry.namespace(block)
        for path, dim in names.items():
            param = _field(model, (block.name, *path))
            if param is not None:
                out.write(f"  {'.'.join(path)} = {_param_text(param)}  ({_given_at(model, (block.name, *path), param)})\n")
        shown = set()
        for d in registry.derived(family):
            if d.path in shown:
                continue
            shown.add(d.path)
            suffix = ".POOL" if d.per_pool else ""
            out.write(f"  derived {'.'.join(d.path)}{suffix}: {d.doc} [{_unit_words(d.dim)}]\n")


def run(argv: list[str], stdout: TextIO, stderr: TextIO, stdin=None) -> int:
    parser = argparse.ArgumentParser(prog="verify explain", description="Show how verify computes a spec's quantities: the formula, the spec's values in it, what it depends on and where. Without a quantity, every block's fields and derived quantities.")
    parser.add_argument("file", metavar="FILE", help="a .spec file")
    parser.add_argument("quantities", nargs="*", metavar="NAME.QUANTITY", help="e.g. pretrain.mfu or site.power.draw")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_OK if exc.code == 0 else EXIT_USAGE
    from pathlib import Path

    from checker import imports
    from checker.diagnostics import SpecError
    from checker.resolve import resolve

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        stderr.write(f"verify explain: error: cannot read {args.file}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    from checker.api import FileResult, _unique
    from checker.parse import source_lines

    result = FileResult(args.file, source_lines(data.decode("utf-8", "replace")))
    try:
        spec = imports.parse_once(args.file, data)
    except SpecError as exc:
        result.diagnostics.append(exc.diagnostic)
        return _invalid(result, stdout)
    loaded = imports.load(spec)
    result.sources = loaded.sources
    result.diagnostics.extend(loaded.diagnostics)
    model = None
    if not result.invalid:
        model, diagnostics = resolve(loaded.spec)
        result.diagnostics.extend(_unique(loaded.annotate(d) for d in diagnostics))
    if model is None:
        return _invalid(result, stdout)
    if not args.quantities:
        explain_blocks(model, stdout)
        return EXIT_OK
    for index, text in enumerate(args.quantities):
        path = tuple(text.split("."))
        block_name, rest = _split(model, path)
        if block_name is None:
            stderr.write(f"verify explain: error: {args.file} has no block named in '{text}'; its blocks: {', '.join(b.name for b in model.blocks)}\n")
            return EXIT_USAGE
        names = registry.namespace(model.block(block_name))
        if rest not in names:
            shown = ", ".join(sorted(".".join(p) for p in names))
            stderr.write(f"verify explain: error: {block_name} has no quantity '{'.'.join(rest)}'; it has: {shown}\n")
            return EXIT_USAGE
        if index:
            stdout.write("\n")
        explain_quantity(model, (block_name, *rest), stdout)
    return EXIT_OK


def _split(model: m.Model, path: tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """('cat', 'H100', 'tdp') -> ('cat.H100', ('tdp',)) when the model has a block cat.H100."""
    names = {b.name for b in model.blocks}
    for cut in (2, 1):
        head = ".".join(path[:cut])
        if len(path) > cut and head in names:
            return head, path[cut:]
    return None, ()


def _invalid(result, stdout: TextIO) -> int:
    from checker import report

    report.write_text([result], stdout)
    return EXIT_INVALID
