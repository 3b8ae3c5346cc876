"""Syntax tree to model: bind names, check units, turn ranges into unknowns, add invariants.

Every problem becomes a diagnostic with a span; resolution goes on after an error where it
can, so one run reports as much as possible. Units are checked here, before anything is solved.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from checker import catalog, codes, model as m, nodes, registry, units as u
from checker.diagnostics import Diagnostic, Span, error
from checker.numbers import fmt
from checker.resolve_find import FindResolver
from checker.resolve_layout import LayoutResolver
from checker.resolve_serving import ServingResolver


def _suggest(name: str, options) -> str:
    import difflib  # only for a misspelt name: not on a cold start's path
    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _unit_words(dim: u.Dim) -> str:
    choices = u.DISPLAY.get(dim)
    return ", ".join(reversed(choices)) if choices else u.canonical_name(dim)



MAX_STAGES = 100  # a job starts in at most this many stages (the encoder and the core step each)

class _Stop(Exception):
    """Abandon the current statement; its diagnostic is already recorded."""

    def _raise(self) -> None:
        raise self


class Resolver(LayoutResolver, FindResolver, ServingResolver):
    def __init__(self, spec: nodes.SpecFile) -> None:
        self.spec = spec
        self.diagnostics: list[Diagnostic] = []
        self.unknowns: list[m.Unknown] = []
        self.invariants: list[m.Claim] = []
        self.blocks: dict[str, m.Block] = {}
        self.kinds: dict[str, str] = {}  # block name -> radiator/gpu/cluster/training/inference
        self.failed: set[str] = set()
        self._warned: set[Span] = set()  # fields already warned about (a jitter field is one param per pool)  # blocks with errors already reported: no cascade of errors

    # ---- diagnostics -------------------------------------------------------------

    def fail(self, span: Span, code: str, message: str, *notes: str) -> _Stop:
        self.diagnostics.append(error(span, code, message, *notes))
        return _Stop()

    # ---- entry point -------------------------------------------------------------

    def resolve(self) -> m.Model | None:
        statements = self.spec.statements
        blocks = [s for s in statements if isinstance(s, nodes.Block)]
        claims = [s for s in statements if isinstance(s, (nodes.Claim, nodes.Find))]
        seen: dict[str, nodes.Block] = {}
        for block in blocks:
            if block.name in seen:
                self.fail(block.name_span, codes.DUPLICATE, f"'{block.name}' is already declared on line {seen[block.name].span.line}")
                continue
            seen[block.name] = block
        order = {"gpu": 0, "radiator": 1, "model": 2, "cluster": 3, "workload": 4}
        for block in sorted(seen.values(), key=lambda b: (order[b.kind], b.span.line, b.span.column)):
            try:
                getattr(self, "_" + block.kind)(block)
            except _Stop:
                self.failed.add(block.name)
        assumptions, checks = [], []
        names: dict[str, nodes.Claim] = {}
        for claim in claims:
            if claim.name in names:
                self.fail(claim.name_span, codes.DUPLICATE, f"'{claim.name}' is already used on line {names[claim.name].span.line}")
                continue
            names[claim.name] = claim
            try:
                resolved = self._find(claim) if isinstance(claim, nodes.Find) else self._claim(claim)
            except _Stop:
                continue
            (assumptions if resolved.kind == "assume" else checks).append(resolved)
        if any(d.severity == "error" for d in self.diagnostics):
            return None
        return m.Model(self.spec.path, tuple(self.blocks.values()), tuple(self.unknowns), tuple(assumptions), tuple(checks) + tuple(self.invariants))

    # ---- field values --------------------------------------------------------------

    def _constant(self, expr: nodes.Expr) -> tuple[Fraction, u.Dim, str | None]:
        """Fold a field's value: numbers with units and arithmetic on them, nothing else."""
        if isinstance(expr, nodes.Quantity):
            if expr.unit is None:
                return expr.value, u.ONE, None
            scale, dim = self._unit(expr.unit, expr.unit_span or expr.span, expr.value)
            return expr.value * scale, dim, expr.unit
        if isinstance(expr, nodes.Negate):
            value, dim, unit = self._constant(expr.operand)
            return -value, dim, unit
        if isinstance(expr, nodes.Binary):
            lv, ld, lu = self._constant(expr.left)
            rv, rd, ru = self._constant(expr.right)
            if expr.op in "+-":
                if ld != rd:
                    raise self._mismatch(expr.span, (ld, lu), (rd, ru))
                return (lv + rv if expr.op == "+" else lv - rv), ld, lu or ru
            if expr.op == "*":
                return lv * rv, ld * rd, None
            if rv == 0:
                raise self.fail(expr.right.span, codes.DIVISION_BY_ZERO, "division by zero")
            return lv / rv, ld / rd, None
        raise self.fail(expr.span, codes.NOT_CONSTANT, "a field's value must be a number with its unit (or a range of them), not a reference or a call")

    def _unit(self, text: str, span: Span, value: Fraction | None = None) -> tuple[Fraction, u.Dim]:
        try:
            return u.parse_unit(text)
        except u.UnitError as exc:
            note = u.hint(exc.symbol, value if text == exc.symbol else None)
            if note is not None:
                raise self.fail(span, codes.UNKNOWN_UNIT, f"unknown unit '{exc.symbol}'", note)
            suggestion = f"; did you mean '{exc.suggestion}'?" if exc.suggestion else ""
            raise self.fail(span, codes.UNKNOWN_UNIT, f"unknown unit '{exc.symbol}'{suggestion}")

    def _mismatch(self, span: Span, left: tuple[u.Dim, str | None], right: tuple[u.Dim, str | None]) -> _Stop:
        def name(side: tuple[u.Dim, str | None]) -> str:
            dim, unit = side
            if unit:
                return unit
            return "a bare number" if dim.dimensionless else u.canonical_name(dim)

        hint = u.money_hint(left[0], right[0]) or ""
        if left[0].dimensionless != right[0].dimensionless:
            hint = "write the unit after the number, e.g. '900 m^2'"
        return self.fail(span, codes.UNIT_MISMATCH, f"units do not match ({name(left)} and {name(right)})", *([hint] if hint else []))

    def _field_value(self, owner: str, spec: registry.FieldSpec, field: nodes.Field, unknown_id: str | None = None, path: tuple[str, ...] = ()) -> m.Param:
        """A numeric field: constant, or a range that becomes an unknown."""
        value = field.value
        if isinstance(value, nodes.Range):
            if spec.kind == "count":
                raise self.fail(value.span, codes.NOT_CONSTANT, f"'{spec.name}' is a whole number and cannot be a range")
            low, ldim, lunit = self._constant(value.low)
            high, hdim, hunit = self._constant(value.high)
            if ldim != hdim:
                raise self._mismatch(value.span, (ldim, lunit), (hdim, hunit))
            dim = self._accept_dim(spec, ldim, lunit, value.span)
            if low > high:
                raise self.fail(value.span, codes.EMPTY_RANGE, f"the range of '{owner}.{spec.name}' is empty: its low end is above its high end", "every claim would hold vacuously; write LOW .. HIGH with LOW <= HIGH")
            unknown = m.Unknown(unknown_id or f"{owner}.{spec.name}", low, high, dim, lunit or hunit, field.span)
            self.unknowns.append(unknown)
            return m.Param(unknown, dim, field.span, lunit or hunit, path)
        number, dim, unit = self._constant(value)
        dim = self._accept_dim(spec, dim, unit, value.span)
        return m.Param(number, dim, field.span, unit, path)

    def _accept_dim(self, spec: registry.FieldSpec, dim: u.Dim, unit: str | None, span: Span) -> u.Dim:
        if dim in spec.dims:
            return dim
        want = spec.dims[0]
        if want.dimensionless:
            raise self.fail(span, codes.UNIT_MISMATCH, f"'{spec.name}' is a plain number or a share (%), not {unit or u.canonical_name(dim)}")
        if dim.dimensionless and unit is None:
            raise self.fail(span, codes.UNIT_MISMATCH, f"'{spec.name}' needs a unit of {_unit_words(want)}; found a bare number")
        raise self.fail(span, codes.UNIT_MISMATCH, f"units do not match ({unit or u.canonical_name(dim)} and {u.canonical_name(want)}): '{spec.name}' takes {_unit_words(want)}")

    def _members(self, kind: str, owner: str, members, span: Span, allow=()) -> dict[str, nodes.Field]:
        """Check a block's fields against the schema; return them by name."""
        fields: dict[str, nodes.Field] = {}
        known = [s.name for s in registry.FIELDS[kind]]
        for member in members:
            if isinstance(member, nodes.Field):
                if registry.spec_of(kind, member.name) is None:
                    self.fail(member.name_span, codes.UNKNOWN_FIELD, f"a {kind} has no field '{member.name}'{_suggest(member.name, known)}")
                elif member.name in fields:
                    self.fail(member.name_span, codes.DUPLICATE, f"'{member.name}' is already set on line {fields[member.name].span.line}")
                else:
                    fields[member.name] = member
            elif type(member).__name__.lower() not in allow:
                what = "pool" if isinstance(member, nodes.Pool) else f"section '{member.name}'"
                self.fail(member.span, codes.UNKNOWN_FIELD, f"a {kind} cannot contain a {what}")
        for spec in registry.FIELDS[kind]:
            if spec.required and spec.name not in fields:
                article = "an" if spec.name[0] in "aeiou" else "a"
                self.fail(span, codes.MISSING_FIELD, f"{kind} '{owner}' needs {article} '{spec.name}' field ({spec.doc})")
        return fields

    def _param(self, kind: str, owner: str, fields: dict[str, nodes.Field], name: str, span: Span, unknown_id: str | None = None, path: tuple[str, ...] | None = None) -> m.Param | None:
        spec = registry.spec_of(kind, name)
        assert spec is not None, name
        path = path or self._param_path(owner, name)
        if name in fields:
            param = self._field_value(owner, spec, fields[name], unknown_id, path)
        elif isinstance(spec.default, Fraction):
            param = m.Param(spec.default, spec.dims[0], span, None, path)
        else:
            return None
        if spec.domain is not None:
            self._domain_invariant(path, param, spec.domain)
            if spec.domain in ("share", "open-share") and name in fields:
                self._bare_share(fields[name], param)
        return param

    def _bare_share(self, field: nodes.Field, param: m.Param) -> None:
        """`emissivity = 85 .. 92`: a share written as a plain number above 1 and at most 100 is
        almost always a percentage without its %. Said once per field, as a warning: the value
        stands (its domain invariant decides), and the note says how to write what was meant."""
        low, high = (param.value.low, param.value.high) if isinstance(param.value, m.Unknown) else (param.value, param.value)
        if param.unit is not None or not (1 < low and high <= 100) or field.span in self._warned:
            return
        self._warned.add(field.span)
        shown = f"{fmt(low)} % .. {fmt(high)} %" if low != high else f"{fmt(low)} %"
        self.diagnostics.append(Diagnostic(field.value.span, "warning", codes.BARE_SHARE, f"'{field.name}' is a share, and {fmt(low) if low == high else fmt(low) + ' .. ' + fmt(high)} is above 100 % as a plain number", (f"did you mean {shown}? a plain number is a fraction of 1: 0.85 is 85 %",)))

    def _all(self, thunks: dict[str, Callable[[], object]]) -> dict[str, object]:
        """Resolve every field of a block, so one run reports each of its errors (not only the
        first); abandon the block afterwards if any failed."""
        out: dict[str, object] = {}
        failed = False
        for name, thunk in thunks.items():
            try:
                out[name] = thunk()
            except _Stop:
                failed = True
        if failed:
            raise _Stop()
        return out

    def _count(self, kind: str, owner: str, fields: dict[str, nodes.Field], name: str, span: Span) -> int | None:
        spec = registry.spec_of(kind, name)
        assert spec is not None
        if name not in fields:
            return int(spec.default) if isinstance(spec.default, Fraction) else None
        param = self._field_value(owner, spec, fields[name])
        return self._whole(param.constant, fields[name].value.span, name, spec.choices)

    def _whole(self, value: Fraction | None, span: Span, name: str, choices=()) -> int:
        if value is None or value.denominator != 1 or value <= 0:
            raise self.fail(span, codes.NOT_INTEGER, f"'{name}' must be a positive whole number, not {_show(value)}")
        if choices and str(int(value)) not in choices:
            raise self.fail(span, codes.BAD_VALUE, f"'{name}' must be {' or '.join(choices)}, not {int(value)}")
        return int(value)

    def _stop(self) -> "_Stop":
        return _Stop()

    def _enum(self, kind: str, fields: dict[str, nodes.Field], name: str) -> str | None:
        spec = registry.spec_of(kind, name)
        assert spec is not None
        if name not in fields:
            return spec.default if isinstance(spec.default, str) else None
        value = fields[name].value
        if isinstance(value, nodes.Ref) and len(value.parts) == 1 and value.parts[0] in spec.choices:
            return value.parts[0]
        word = value.parts[0] if isinstance(value, nodes.Ref) else "that"
        raise self.fail(value.span, codes.BAD_VALUE, f"'{name}' must be one of {', '.join(spec.choices)}{_suggest(word, spec.choices) if isinstance(value, nodes.Ref) else ''}")

    # ---- invariants -------------------------------------------------------------------

    def _domain_invariant(self, path: tuple[str, ...], param: m.Param, domain: str) -> None:
        ref = m.QRef(path, param.dim, param.span)
        name = ".".join(path)
        conditions = tuple(
            m.Comparison(ref, op, m.Lit(bound, param.dim, None, param.span), f"{name} {op} {fmt(bound)}")
            for op, bound in registry.DOMAINS[domain]
        )
        self.invariants.append(m.Claim(f"{name} is {registry.DOMAIN_WORDS[domain]}", "invariant", conditions, param.span, guards=(path,), domain=True))

    def _param_path(self, owner: str, name: str) -> tuple[str, ...]:
        """('C', 'network', 'bandwidth') for the field of C's network section; a block brought
        in under a namespace keeps its qualified name ('cat.H100') as one part."""
        if "." in owner:
            dotted = getattr(self, "_dotted", None)
            if dotted is None:
                dotted = self._dotted = [b.name for b in self.spec.statements if isinstance(b, nodes.Block) and "." in b.name]
            for block in dotted:
                if owner == block or owner.startswith(block + "."):
                    return (block, *filter(None, owner[len(block) + 1 :].split(".")), name)
        return tuple(owner.split(".")) + (name,)

    def _invariant(self, name: str, span: Span, *conditions: m.Comparison, guards: tuple[tuple[str, ...], ...] = ()) -> None:
        self.invariants.append(m.Claim(name, "invariant", conditions, span, guards=guards))

    def _static(self, name: str, span: Span, holds: bool, why: str, guards: tuple[tuple[str, ...], ...]) -> None:
        self.invariants.append(m.Claim(name, "invariant", (), span, static=(holds, why), guards=guards))

    # ---- blocks -------------------------------------------------------------------

    def _radiator(self, block: nodes.Block) -> None:
        self._no_on(block)
        fields = self._members("radiator", block.name, block.members, block.span)
        given = [n for n in ("temperature", "area") if n in fields]
        thunks = {name: (lambda name=name: self._param("radiator", block.name, fields, name, block.span)) for name in ("heat", "emissivity", "temperature", "area", "sink") + registry.RADIATOR_OPTIONAL}
        thunks["sides"] = lambda: self._count("radiator", block.name, fields, "sides", block.span)
        if len(given) == 2:
            thunks["given"] = lambda: self.fail(fields["area"].span, codes.CONFLICTING_FIELDS, f"radiator '{block.name}' gives both temperature and area; give one, the other is derived")._raise()
        if not given:
            thunks["given"] = lambda: self.fail(block.name_span, codes.MISSING_FIELD, f"radiator '{block.name}' needs a 'temperature' or an 'area' field (the other is derived)")._raise()
        p = self._all(thunks)
        sides = p["sides"]
        if any(p[n] is None for n in ("heat", "emissivity", "sink")) or sides is None:
            raise _Stop()
        for given_, needed in (("heat_capacity", "eclipse"), ("eclipse", "heat_capacity"), ("eclipse_heat", "eclipse")):
            if p[given_] is not None and p[needed] is None:
                raise self.fail(fields[given_].span, codes.MISSING_FIELD, f"'{given_}' needs '{needed}' beside it in radiator '{block.name}': the eclipse transient takes the panel's heat capacity and the eclipse's length")
        radiator = m.Radiator(block.name, p["heat"], p["emissivity"], p["temperature"], p["area"], p["sink"], sides, block.span, **{n: p[n] for n in registry.RADIATOR_OPTIONAL})
        self._add(block, radiator, "radiator")
        if p["temperature"] is not None and any(p[n] is not None for n in registry.RADIATOR_ENVIRONMENT):
            emitted = m.QRef((block.name, "emitted"), u.FLUX, block.span)
            absorbed = m.QRef((block.name, "absorbed"), u.FLUX, block.span)
            self._invariant(f"{block.name} emits more than it absorbs", fields["temperature"].span, m.Comparison(emitted, ">", absorbed, f"{block.name}.emitted > {block.name}.absorbed"), guards=((block.name, "temperature"),))
        hot = m.QRef((block.name, "temperature"), u.TEMPERATURE, block.span)
        sink = m.QRef((block.name, "sink"), u.TEMPERATURE, block.span)
        where = (fields.get("temperature") or fields.get("sink") or fields["area"]).span
        self._invariant(f"{block.name} is hotter than its sink", where, m.Comparison(hot, ">", sink, f"{block.name}.temperature > {block.name}.sink"), guards=((block.name, "temperature"), (block.name, "sink")))

    def _gpu(self, block: nodes.Block) -> None:
        self._no_on(block)
        fields = self._members("gpu", block.name, block.members, block.span)
        p = self._all({s.name: (lambda name=s.name: self._param("gpu", block.name, fields, name, block.span)) for s in registry.GPU})
        if any(p[n] is None for n in ("peak", "memory", "tdp")):
            raise _Stop()
        relative = p["floor"].dim.dimensionless and "floor" in fields
        gpu = m.Gpu(block.name, p["peak"], p["memory"], p["tdp"], p["idle"], p["floor"], relative, p["ramp"], block.span, p["matmul"], p["memory_bandwidth"], p["memory_efficiency"], p["ramp_up"], p["ramp_down"], p["hysteresis"], p["lease"], p["capital"])
        self._add(block, gpu, "gpu")
        tdp = m.QRef((block.name, "tdp"), u.POWER, block.span)
        idle = m.QRef((block.name, "idle"), u.POWER, p["idle"].span)
        self._invariant(f"{block.name}.idle is at most its tdp", p["idle"].span, m.Comparison(idle, "<=", tdp, f"{block.name}.idle <= {block.name}.tdp"), guards=((block.name, "idle"),))
        floor = m.QRef((block.name, "floor"), p["floor"].dim, p["floor"].span)
        bound = m.Lit(Fraction(1), u.ONE, None, p["floor"].span) if relative else tdp
        self._invariant(f"{block.name}.floor is at most its tdp", p["floor"].span, m.Comparison(floor, "<=", bound, f"{block.name}.floor <= {'100 %' if relative else block.name + '.tdp'}"), guards=((block.name, "floor"),))

    def _gpu_named(self, name: str, span: Span) -> m.Gpu:
        block = self.blocks.get(name)
        if isinstance(block, m.Gpu):
            return block
        if block is not None:
            raise self.fail(span, codes.UNKNOWN_NAME, f"'{name}' is a {self.kinds[name]}, not a gpu")
        if name in catalog.CATALOG:
            peak, memory, tdp, _ = catalog.CATALOG[name]
            bandwidth, matmul, share = catalog.PROFILE[name]
            gpu = m.Gpu(name, m.Param(peak, u.RATE, span, None, (name, "peak")), m.Param(memory, u.DATA, span, None, (name, "memory")), m.Param(tdp, u.POWER, span, None, (name, "tdp")),
                        m.Param(Fraction(0), u.POWER, span, None, (name, "idle")), m.Param(Fraction(0), u.POWER, span, None, (name, "floor")), False, None, span,
                        m.Param(matmul, u.ONE, span, None, (name, "matmul")) if matmul is not None else None, m.Param(bandwidth, u.BANDWIDTH, span, None, (name, "memory_bandwidth")),
                        m.Param(share, u.ONE, span, None, (name, "memory_efficiency")) if share is not None else None)
            self.blocks[name], self.kinds[name] = gpu, "gpu"  # a catalog entry joins the model once used
            return gpu
        gpus = [n for n, k in self.kinds.items() if k == "gpu"] + list(catalog.CATALOG)
        raise self.fail(span, codes.UNKNOWN_NAME, f"no gpu named '{name}'{_suggest(name, gpus)}", f"declare it with a gpu block, or use a built-in one: {', '.join(catalog.CATALOG)}")

    def _cluster(self, block: nodes.Block) -> None:
        self._no_on(block)
        pools: list[m.Pool] = []
        broken_pool = False
        sections: dict[str, nodes.Section] = {}
        for member in block.members:
            if isinstance(member, nodes.Pool):
                if any(p.name == member.name for p in pools):
                    self.fail(member.name_span, codes.DUPLICATE, f"pool '{member.name}' is already declared")
                    continue
                try:
                    count = self._whole(member.count, member.count_span, f"pool {member.name}")
                    pools.append(m.Pool(member.name, count, self._gpu_named(member.gpu, member.gpu_span), member.span))
                except _Stop:
                    broken_pool = True
            elif isinstance(member, nodes.Section):
                if member.name not in registry.SECTIONS["cluster"]:
                    self.fail(member.name_span, codes.UNKNOWN_FIELD, f"a cluster has no section '{member.name}'{_suggest(member.name, registry.SECTIONS['cluster'])}")
                elif member.name in sections:
                    self.fail(member.name_span, codes.DUPLICATE, f"section '{member.name}' is already given on line {sections[member.name].span.line}")
                else:
                    sections[member.name] = member
            else:
                self.fail(member.name_span, codes.UNKNOWN_FIELD, f"a cluster has pools and the sections network and power, not a field '{member.name}'")
        if broken_pool:
            raise _Stop()
        if not pools:
            raise self.fail(block.name_span, codes.MISSING_FIELD, f"cluster '{block.name}' needs at least one pool: 'pool NAME = COUNT x GPU'")
        network = self._network(block.name, sections["network"], sum(p.count for p in pools)) if "network" in sections else None
        power = self._power(block.name, sections["power"] if "power" in sections else nodes.Section("power", (), block.span, block.name_span))
        self._add(block, m.Cluster(block.name, tuple(pools), network, power, block.span), "cluster")

    def _network(self, owner: str, section: nodes.Section, gpus: int = 0) -> m.Network:
        where = f"{owner}.network"
        fields = self._members("network", where, section.members, section.span, allow=("section",))
        inner = [member for member in section.members if isinstance(member, nodes.Section)]
        thunks = {s.name: (lambda name=s.name: self._param("network", where, fields, name, section.span)) for s in registry.NETWORK if s.kind == "number" and s.name != "oversubscription"}
        thunks["topology"] = lambda: self._enum("network", fields, "topology")
        thunks["domain"] = lambda: self._count("network", where, fields, "domain", section.span)
        thunks["algorithm"] = lambda: self._enum("network", fields, "algorithm")
        thunks["radix"] = lambda: self._count("network", where, fields, "radix", section.span)
        p = self._all(thunks)
        topology, domain = p["topology"], p["domain"]
        algorithm, radix = self._switch_algorithm(topology, fields, p["algorithm"], p["radix"])
        tiers, oversubscription = self._tiers(where, topology, section, fields, inner)
        dims = self._torus(where, topology, fields, section)
        dimensions = self._enum("network", fields, "dimensions") if topology == "torus" else None
        slice_, slices, cube, extent = self._slices(where, topology, fields, section, gpus)
        if topology == "hierarchical":
            for name in ("domain", "domain_bandwidth", "domain_latency"):
                if name not in fields:
                    self.fail(section.name_span, codes.MISSING_FIELD, f"a hierarchical network needs '{name}'")
        if topology is None or p["bandwidth"] is None or p["latency"] is None or (topology == "hierarchical" and (domain is None or p["domain_bandwidth"] is None or p["domain_latency"] is None)):
            raise _Stop()
        domain_span = fields["domain"].span if "domain" in fields else None
        return m.Network(topology, p["bandwidth"], p["latency"], domain, p["domain_bandwidth"], p["domain_latency"], section.span, domain_span, p["efficiency"], p["domain_efficiency"], algorithm, radix, oversubscription, tiers, dims, dimensions or ("in_turn" if topology == "torus" else None), slice_, slices, cube, extent)

    def _slices(self, where: str, topology: str | None, fields: dict[str, nodes.Field], section: nodes.Section, gpus: int):
        """slice = any: every A x B x C of the cluster's GPUs an optical switch may hand the job,
        each extent a multiple of `cube` and at most `extent` (Jouppi et al. 2023; Cloud TPU v4),
        in ascending order; the slice's number is an unknown over them."""
        if topology != "torus" or "slice" not in fields:
            for name in ("slice", "cube", "extent"):
                if name in fields:
                    self.fail(fields[name].name_span, codes.CONFLICTING_FIELDS, f"'{name}' is for a torus whose shape is 'slice = any'")
            return None, (), None, None
        self._enum("network", fields, "slice")
        cube = self._count("network", where, fields, "cube", section.span)
        extent = self._count("network", where, fields, "extent", section.span)
        sizes = range(cube, extent + 1, cube)
        shapes = tuple((a, b, c) for a in sizes for b in sizes for c in sizes if a * b * c == gpus)
        if not shapes:
            raise self.fail(fields["slice"].value.span, codes.BAD_VALUE, f"no slice holds {gpus} chips: each extent a multiple of cube = {cube} and at most extent = {extent}")
        unknown = m.Unknown(f"{where}.slice", Fraction(1), Fraction(len(shapes)), u.Dim(), None, fields["slice"].span)
        self.unknowns.append(unknown)
        return m.Param(unknown, u.Dim(), fields["slice"].span, None, ("network", "slice")), shapes, cube, extent

    def _torus(self, where: str, topology: str | None, fields: dict[str, nodes.Field], section: nodes.Section) -> tuple[int, ...]:
        """A torus's shape: x and y chips, and z for a 3D torus; no other network takes them."""
        given = [name for name in ("x", "y", "z") if name in fields]
        if topology != "torus":
            if "dimensions" in fields:
                self.fail(fields["dimensions"].name_span, codes.CONFLICTING_FIELDS, f"'dimensions' is a torus's (topology = torus), not a {topology} network's")
            for name in given:
                self.fail(fields[name].name_span, codes.CONFLICTING_FIELDS, f"'{name}' is a torus's extent (topology = torus), not a {topology} network's")
            return ()
        if "slice" in fields:
            for name in given:
                self.fail(fields[name].name_span, codes.CONFLICTING_FIELDS, f"'{name}' fixes the shape that 'slice = any' leaves to the optical switch; give one or the other")
            return ()
        for name in ("x", "y"):
            if name not in fields:
                self.fail(section.name_span, codes.MISSING_FIELD, f"a torus needs '{name}', its extent in chips (and 'z' for a 3D torus)")
        extents = [self._count("network", where, fields, name, section.span) for name in given]
        return tuple(k for k in extents if k is not None)

    def _tiers(self, where: str, topology: str | None, section: nodes.Section, fields: dict[str, nodes.Field], inner: list[nodes.Section]) -> tuple[tuple[m.Tier, ...], m.Param | None]:
        """A `topology = tiers` network's inner tiers (its sections, innermost first), each
        group of a tier a whole number of the tier's below; the network's own fields are the
        outermost tier's."""
        if topology != "tiers":
            for tier in inner:
                self.fail(tier.name_span, codes.UNKNOWN_FIELD, f"a network has sections (tiers) only with topology = tiers, not '{tier.name}' on a {topology} network")
            if "oversubscription" in fields:
                self.fail(fields["oversubscription"].name_span, codes.CONFLICTING_FIELDS, "'oversubscription' is for topology = tiers (the outermost tier's)")
            return (), None
        if not inner:
            self.fail(section.name_span, codes.MISSING_FIELD, "a tiered network needs at least one tier: a section such as 'nvlink { size = 8; bandwidth = 450 GB/s; latency = 2 us }'")
        out: list[m.Tier] = []
        seen: dict[str, nodes.Section] = {}
        for tier in inner:
            if tier.name in seen:
                self.fail(tier.name_span, codes.DUPLICATE, f"tier '{tier.name}' is already defined on line {seen[tier.name].span.line}")
                continue
            seen[tier.name] = tier
            owner = f"{where}.{tier.name}"
            tf = self._members("tier", owner, tier.members, tier.span)
            thunks = {s.name: (lambda name=s.name: self._param("tier", owner, tf, name, tier.span)) for s in registry.TIER if s.kind == "number"}
            thunks["size"] = lambda: self._count("tier", owner, tf, "size", tier.span)
            try:
                t = self._all(thunks)
            except _Stop:
                continue
            if t["size"] is None or t["bandwidth"] is None or t["latency"] is None:
                continue
            if out and (t["size"] <= out[-1].size or t["size"] % out[-1].size):
                self.fail(tf["size"].value.span, codes.BAD_VALUE, f"a tier's groups are whole groups of the tier below: size = {t['size']} is not a larger multiple of {out[-1].name}'s {out[-1].size}")
            out.append(m.Tier(tier.name, t["size"], t["bandwidth"], t["latency"], t["efficiency"], t["oversubscription"], tier.span))
        return tuple(out), self._param("network", where, fields, "oversubscription", section.span)

    def _switch_algorithm(self, topology: str | None, fields: dict[str, nodes.Field], algorithm: str | None, radix: int | None) -> tuple[str | None, int | None]:
        """A switched network's all-reduce algorithm (default auto) and its switches' radix; a
        ring, tree or hierarchical network is its own algorithm and takes neither field."""
        if topology is not None and topology != "switch":
            for name in ("algorithm", "radix"):
                if name in fields:
                    self.fail(fields[name].name_span, codes.CONFLICTING_FIELDS, f"'{name}' is for topology = switch; a {topology} network runs its own algorithm")
            return None, None
        if radix is not None and radix < 2:
            self.fail(fields["radix"].value.span, codes.BAD_VALUE, f"'radix' must be at least 2 (ports below a switch), not {radix}")
            radix = None
        if algorithm == "in_network" and "radix" not in fields:
            self.fail(fields["algorithm"].value.span, codes.MISSING_FIELD, "in-network reduction needs 'radix', the switch ports facing the GPUs")
        return algorithm or "auto", radix

    def _power(self, owner: str, section: nodes.Section) -> m.Power:
        where = f"{owner}.power"
        fields = self._members("power", where, section.members, section.span)
        thunks = {s.name: (lambda name=s.name: self._param("power", where, fields, name, section.span)) for s in registry.POWER if s.kind == "number"}
        thunks.update({name: (lambda name=name: self._count("power", where, fields, name, section.span)) for name in ("rack", "node", "start_stages")})
        p = self._all(thunks)
        for count, power in (("rack", "rack_power"), ("node", "node_power"), ("storage", "storage_power")):
            if (p[count] is None) != (p[power] is None):
                given, missing = (count, power) if p[power] is None else (power, count)
                raise self.fail(fields[given].span, codes.MISSING_FIELD, f"'{given}' needs '{missing}' beside it in {where}: {'an energy and the power it moves at' if count == 'storage' else 'a count of GPUs and the power each such group draws beside them'}")
        if p["start_stages"] is not None and p["start_stages"] > MAX_STAGES:
            raise self.fail(fields["start_stages"].value.span, codes.BAD_VALUE, f"'start_stages' must be at most {MAX_STAGES}, not {p['start_stages']}: each stage is stepped on its own")
        if (p["band_low"] is None) != (p["band_high"] is None):
            given, missing = ("band_low", "band_high") if p["band_high"] is None else ("band_high", "band_low")
            raise self.fail(fields[given].span, codes.MISSING_FIELD, f"'{given}' needs '{missing}' beside it in {where}: the grid's oscillation band runs from band_low to band_high")
        return m.Power(p["facility"], p["pue"], p["overhead"], p["transition"], section.span, p["rack"], p["rack_power"], p["node"], p["node_power"], p["cooling"], p["storage"], p["storage_power"],
                       p["start_stages"], p["start_time"], p["band_low"], p["band_high"])

    def _workload(self, block: nodes.Block) -> None:
        if block.on is None or block.on_span is None:
            raise self.fail(block.name_span, codes.MISSING_FIELD, f"workload '{block.name}' needs the cluster it runs on: 'workload {block.name} on CLUSTER {{'")
        cluster = self.blocks.get(block.on)
        if block.on in self.failed:
            raise _Stop()
        if not isinstance(cluster, m.Cluster):
            clusters = [n for n, k in self.kinds.items() if k == "cluster"]
            if block.on in self.kinds:
                raise self.fail(block.on_span, codes.UNKNOWN_NAME, f"'{block.on}' is a {self.kinds[block.on]}, not a cluster")
            raise self.fail(block.on_span, codes.UNKNOWN_NAME, f"no cluster named '{block.on}'{_suggest(block.on, clusters)}")
        fields = self._members("workload", block.name, block.members, block.span, allow=("section",))
        sections = self._sections("workload", block)
        names = [s.name for s in registry.WORKLOAD if s.kind == "number" and s.name != "jitter"]
        thunks = {n: (lambda n=n: self._param("workload", block.name, fields, n, block.span)) for n in names}
        thunks["kind"] = lambda: self._enum("workload", fields, "kind")
        thunks["balance"] = lambda: self._enum("workload", fields, "balance")
        thunks["shards"] = lambda: self._count("workload", block.name, fields, "shards", block.span)
        p = self._all(thunks)
        kind, balance, shards = p["kind"], p["balance"], p["shards"]
        shape = self._model_named(fields["model"]) if "model" in fields else None
        self._serving_fields_out_of_place(kind, shape, fields)
        if shape is None:
            for name in ("params", "efficiency"):
                if p[name] is None:
                    self.fail(block.span, codes.MISSING_FIELD, f"workload '{block.name}' needs a '{name}' field ({registry.spec_of('workload', name).doc}), or a model")
        elif kind != "inference":
            self._model_workload_fields(block, kind, balance, fields, sections, cluster)
        if kind is None or balance is None or shards is None or (shape is None and any(p[n] is None for n in ("params", "efficiency"))):
            raise _Stop()
        if kind == "training":
            if p["batch"] is None:
                raise self.fail(block.name_span, codes.MISSING_FIELD, f"training workload '{block.name}' needs a 'batch' field (tokens per step)")
            if cluster.network is None:
                raise self.fail(block.on_span, codes.MISSING_FIELD, f"training on '{cluster.name}' needs its network section for the gradient exchange")
        # one unknown per pool: any pool may straggle by any amount in the range
        jitter = tuple(
            self._param("workload", block.name, fields, "jitter", block.span, f"{block.name}.jitter.{pool.name}", (block.name, "jitter", pool.name))
            for pool in cluster.pools
        )
        if shape is not None and kind == "inference":
            self._serving(block, p, fields, sections, cluster, shape, jitter)
            return
        if shape is not None:
            layout = self._layout(block.name, cluster, shape, sections.get("layout") or nodes.Section("layout", (), block.span, block.name_span), p["batch"], block.span)
            params = m.Param(shape.parameters, u.ONE, shape.span, None, (block.name, "params"))
            workload = m.Workload(block.name, cluster, kind, params, p["batch"], p["efficiency"], balance, jitter, layout.tensor * layout.pipeline * layout.context, p["overlap"], p["grad_bytes"], None, None, block.span, shape, layout, expert_load=p["expert_load"])
            self._add(block, workload, kind)
            self._memory_fit(workload, fields)
            return
        workload = m.Workload(block.name, cluster, kind, p["params"], p["batch"], p["efficiency"], balance, jitter, shards, p["overlap"], p["grad_bytes"], p["state_bytes"], p["flops_per_token"], block.span,
                              utilisation=p["utilisation"], electricity=p["electricity"], life=p["life"])
        self._add(block, workload, kind)
        self._workload_invariants(workload, fields)

    def _workload_invariants(self, w: m.Workload, fields: dict[str, nodes.Field]) -> None:
        where = fields["shards"].span if "shards" in fields else w.span
        n_total = w.cluster.gpus
        self._static(f"{w.name}: {n_total} GPUs divide into {w.shards} shards", where, n_total % w.shards == 0, f"{n_total} GPUs are not a multiple of shards = {w.shards}", ((w.name, "exchange"),))
        self._memory_fit(w, fields)
        net = w.cluster.network
        if w.kind == "training" and net is not None and net.tiers and n_total % w.shards == 0:
            group, top = n_total // w.shards, net.tiers[-1]
            self._static(f"{w.name}: each data-parallel group of {group} GPUs divides into groups of tier {top.name} ({top.size})", top.span, group % top.size == 0, f"a data-parallel group of {group} GPUs is not a multiple of {top.name}'s size = {top.size}", ((w.name, "exchange"),))
        if w.kind == "training" and net is not None and net.topology == "torus" and net.slices and n_total % w.shards == 0:
            group = n_total // w.shards
            self._static(f"{w.name}: each data-parallel group of {group} GPUs fills the slice", net.span, group == n_total, f"a slice holds all {n_total} GPUs, but a data-parallel group has {group} (shards = {w.shards})", ((w.name, "exchange"),))
        elif w.kind == "training" and net is not None and net.topology == "torus" and n_total % w.shards == 0:
            group, chips = n_total // w.shards, 1
            for k in net.dims:
                chips *= k
            shape = " x ".join(str(k) for k in net.dims)
            self._static(f"{w.name}: each data-parallel group of {group} GPUs fills the torus {shape}", net.span, group == chips, f"a data-parallel group of {group} GPUs is not the torus's {chips} chips ({shape})", ((w.name, "exchange"),))
        if w.kind == "training" and net is not None and net.topology == "hierarchical" and net.domain is not None and n_total % w.shards == 0:
            group = n_total // w.shards
            self._static(f"{w.name}: each data-parallel group of {group} GPUs divides into domains of {net.domain}", net.domain_span or net.span, group % net.domain == 0, f"a data-parallel group of {group} GPUs is not a multiple of domain = {net.domain}", ((w.name, "exchange"),))

    def _memory_fit(self, w: m.Workload, fields: dict[str, nodes.Field]) -> None:
        memory = m.QRef((w.name, "memory_per_gpu"), u.DATA, w.span)
        for pool in w.cluster.pools:
            self._invariant(f"{w.name} fits in the memory of pool {pool.name}", fields.get("params", None).span if "params" in fields else w.span,
                            m.Comparison(memory, "<=", m.QRef((pool.gpu.name, "memory"), u.DATA, pool.span), f"{w.name}.memory_per_gpu <= {pool.gpu.name}.memory"))

    def _no_on(self, block: nodes.Block) -> None:
        if block.on is not None and block.on_span is not None:
            self.fail(block.on_span, codes.SYNTAX, f"only a workload runs 'on' a cluster; a {block.kind} does not")

    def _add(self, block: nodes.Block, resolved: m.Block, kind: str) -> None:
        self.blocks[block.name] = resolved
        self.kinds[block.name] = kind

    # ---- claims -----------------------------------------------------------------------

    def _claim(self, claim: nodes.Claim) -> m.Claim:
        sides = self._all({"left": lambda: self._expr(claim.left), "right": lambda: self._expr(claim.right)})
        left, right = sides["left"], sides["right"]
        if left.dim != right.dim:
            raise self._mismatch(claim.span, (left.dim, _unit_of(left)), (right.dim, _unit_of(right)))
        text = _slice(self.spec.lines, claim.left.span, claim.right.span)
        left_text = _slice(self.spec.lines, claim.left.span, claim.left.span)
        op = claim.op
        if not _mentions(left) and _mentions(right):
            # `900 m^2 >= panel.area` is `panel.area <= 900 m^2`: the worst case is the quantity's
            left, right, op = right, left, {"<=": ">=", "<": ">", ">=": "<=", ">": "<", "==": "=="}[op]
            left_text = _slice(self.spec.lines, claim.right.span, claim.right.span)
        return m.Claim(claim.name, claim.kind, (m.Comparison(left, op, right, text, left_text),), claim.span)

    def _expr(self, expr: nodes.Expr) -> m.Expr:
        if isinstance(expr, nodes.Quantity):
            value, dim, unit = self._constant(expr)
            return m.Lit(value, dim, unit, expr.span)
        if isinstance(expr, nodes.Negate):
            operand = self._expr(expr.operand)
            return m.Neg(operand, operand.dim, expr.span)
        if isinstance(expr, nodes.Binary):
            sides = self._all({"left": lambda: self._expr(expr.left), "right": lambda: self._expr(expr.right)})
            left, right = sides["left"], sides["right"]
            if expr.op in "+-":
                if left.dim != right.dim:
                    raise self._mismatch(expr.span, (left.dim, _unit_of(left)), (right.dim, _unit_of(right)))
                dim = left.dim
            elif expr.op == "*":
                dim = left.dim * right.dim
            else:
                if isinstance(right, m.Lit) and right.value == 0:
                    raise self.fail(right.span, codes.DIVISION_BY_ZERO, "division by zero")
                dim = left.dim / right.dim
            return m.Op(expr.op, left, right, dim, expr.span)
        if isinstance(expr, nodes.Call):
            if expr.function not in ("min", "max"):
                raise self.fail(expr.name_span, codes.UNKNOWN_FUNCTION, f"unknown function '{expr.function}'{_suggest(expr.function, ('min', 'max'))}; the functions are min and max")
            if not expr.args:
                raise self.fail(expr.span, codes.SYNTAX, f"{expr.function}() needs at least one argument")
            args = tuple(self._expr(a) for a in expr.args)
            for arg in args[1:]:
                if arg.dim != args[0].dim:
                    raise self._mismatch(arg.span, (args[0].dim, _unit_of(args[0])), (arg.dim, _unit_of(arg)))
            return m.Fn(expr.function, args, args[0].dim, expr.span)
        return self._ref(expr)

    def _ref(self, ref: nodes.Ref) -> m.QRef:
        head, *rest = ref.parts
        if head not in self.blocks:
            if head in self.failed:
                raise _Stop()  # its own errors are reported already
            raise self.fail(ref.part_spans[0], codes.UNKNOWN_NAME, f"unknown name '{head}'{_suggest(head, self.blocks)}")
        block = self.blocks[head]
        kind = self.kinds[head]
        names = registry.namespace(block)
        path = tuple(rest)
        if path in names:
            return m.QRef((head,) + path, names[path], ref.span)
        entry = registry.find(registry.family_of(block), path)
        lacking = registry.missing(block, entry) if entry is not None else ()
        if lacking:
            on_gpus = [n for n in lacking if n in registry.GPU_NEEDS]
            where = " and ".join(f"'{n}'" for n in lacking)
            whose = "every gpu of its cluster" if on_gpus and len(on_gpus) == len(lacking) else (f"radiator '{head}'" if kind == "radiator" else f"workload '{head}'") if not on_gpus else "every gpu and the workload"
            raise self.fail(ref.part_spans[1] if len(ref.part_spans) > 1 else ref.span, codes.MISSING_FIELD, f"'{head}.{'.'.join(rest)}' needs {where}, which {whose} leaves out", registry.find_field_doc(lacking[0]))
        shown = sorted(".".join(p) for p in names)
        tail = ".".join(rest) if rest else ""
        span = ref.part_spans[1] if len(ref.part_spans) > 1 else ref.span
        if not rest:
            raise self.fail(span, codes.UNKNOWN_FIELD, f"'{head}' is a {kind}; name one of its quantities, e.g. {head}.{shown[0]}")
        if registry.family_of(block) == "transformer" and path[0] in registry.STEP_RECTANGLE:
            raise self.fail(span, codes.UNKNOWN_FIELD, f"{kind} '{head}' has no quantity '{tail}' with a model: {registry.STEP_RECTANGLE_WHY}")
        raise self.fail(span, codes.UNKNOWN_FIELD, f"{kind} '{head}' has no quantity '{tail}'{_suggest(tail, shown)}")


def _mentions(expr: m.Expr) -> bool:
    """Whether an expression names any quantity of the model (else it is a constant)."""
    if isinstance(expr, m.QRef):
        return True
    if isinstance(expr, m.Op):
        return _mentions(expr.left) or _mentions(expr.right)
    if isinstance(expr, m.Neg):
        return _mentions(expr.operand)
    if isinstance(expr, m.Fn):
        return any(_mentions(a) for a in expr.args)
    return False


def _unit_of(expr: m.Expr) -> str | None:
    return expr.unit if isinstance(expr, m.Lit) else None


def _slice(lines: tuple[str, ...], start: Span, end: Span) -> str:
    if start.line == end.end_line and 1 <= start.line <= len(lines):
        return lines[start.line - 1][start.column - 1 : end.end_column - 1].strip()
    return "(claim spanning lines)"


def _show(value: Fraction | None) -> str:
    return "a range" if value is None else fmt(value)


def resolve(spec: nodes.SpecFile) -> tuple[m.Model | None, list[Diagnostic]]:
    resolver = Resolver(spec)
    model = resolver.resolve()
    return model, resolver.diagnostics
