"""Resolution of an inference workload that serves a `model` (spec/semantics.md, "Serving a
model"): its request shape, its tensor x pipeline layout and the invariants they must meet.

A mixin of checker.resolve.Resolver (it uses its diagnostics and field helpers).
"""

from __future__ import annotations


from checker import codes, model as m, nodes, registry, units as u

SERVING_LAYOUT = ("tensor", "pipeline")
SERVING_FIELDS = ("prompt", "output", "concurrency", "kv_bytes", "expert_load", "prefill_pool")
MONEY_FIELDS = ("utilisation", "electricity", "life")


class ServingResolver:
    """Mixed into the resolver: an inference workload with a model."""

    def _serving_fields_out_of_place(self, kind, shape, fields: dict[str, nodes.Field]) -> None:
        """A request shape belongs to serving a model, prices to an inference workload: said,
        not silently ignored."""
        for name in SERVING_FIELDS if not (kind == "inference" and "model" in fields) else ():
            if name == "expert_load" and "model" in fields:
                continue  # training a mixture of experts: checked with its layout
            if name in fields:
                self.fail(fields[name].span, codes.CONFLICTING_FIELDS, f"'{name}' describes the requests of an inference workload that serves a model ('model = NAME'); this one does not")
        for name in MONEY_FIELDS if kind == "training" else ():
            if name in fields:
                self.fail(fields[name].span, codes.CONFLICTING_FIELDS, f"'{name}' prices a leased inference fleet; a training workload has no money quantities")

    def _serving(self, block: nodes.Block, p: dict, fields: dict[str, nodes.Field], sections: dict[str, nodes.Section], cluster: m.Cluster, shape: m.Transformer, jitter) -> None:
        failed = False
        for name, why in (("params", "counted from the model's shape"), ("flops_per_token", "counted from the model's shape"), ("shards", "the layout's tensor x pipeline"), ("batch", "'concurrency' requests per replica")):
            if name in fields:
                self.fail(fields[name].span, codes.CONFLICTING_FIELDS, f"'{name}' comes from the model and its layout here ({why}); leave it out")
                failed = True
        for name in ("prompt", "output"):
            if p[name] is None:
                self.fail(block.name_span, codes.MISSING_FIELD, f"serving workload '{block.name}' needs '{name}' ({registry.spec_of('workload', name).doc})")
                failed = True
        for pool in cluster.pools:
            gpu = pool.gpu
            if gpu.memory_bandwidth is None:
                self.fail(pool.span, codes.MISSING_FIELD, f"gpu '{gpu.name}' needs 'memory_bandwidth' to serve a model (decoding is bound by it)")
                failed = True
            if gpu.matmul is None and p["efficiency"] is None:
                self.fail(pool.span, codes.MISSING_FIELD, f"gpu '{gpu.name}' needs a 'matmul' share (or the workload an 'efficiency') to serve a model")
                failed = True
        if "expert_load" in fields and not shape.experts:
            self.fail(fields["expert_load"].span, codes.CONFLICTING_FIELDS, f"'expert_load' is the imbalance of a mixture of experts; '{shape.name}' has no experts")
            failed = True
        section = sections.get("layout") or nodes.Section("layout", (), block.span, block.name_span)
        where = f"{block.name}.layout"
        given = self._members("layout", where, section.members, section.span)
        for name, field in given.items():
            if name not in SERVING_LAYOUT:
                self.fail(field.name_span, codes.CONFLICTING_FIELDS, f"a serving layout has tensor and pipeline only; '{name}' belongs to training")
                failed = True
        counts = self._all({name: (lambda name=name: self._count("layout", where, given, name, section.span)) for name in SERVING_LAYOUT})
        concurrency = self._count("workload", block.name, fields, "concurrency", block.span)
        prefill = self._prefill_pool(fields, cluster) if "prefill_pool" in fields else None
        if "prefill_pool" in fields and prefill is None:
            failed = True
        if failed or concurrency is None:
            raise self._stop()
        t, pp = counts["tensor"], counts["pipeline"]
        replica = t * pp
        layout = m.Layout(t, pp, max(cluster.gpus // replica, 1), 1, 1, 1, False, "none", 0, False, 0, section.span)
        params = m.Param(shape.parameters, u.ONE, shape.span, None, (block.name, "params"))
        workload = m.Workload(block.name, cluster, "inference", params, None, p["efficiency"], "uniform", jitter, replica, p["overlap"], p["grad_bytes"], p["state_bytes"], None, block.span, shape, layout,
                              utilisation=p["utilisation"], electricity=p["electricity"], life=p["life"], prompt=p["prompt"], output=p["output"], kv_bytes=p["kv_bytes"], concurrency=concurrency, expert_load=p["expert_load"], prefill_pool=prefill)
        self._add(block, workload, "inference")
        guard = ((block.name, "layout"),)
        at = lambda name: given[name].span if name in given else section.span  # noqa: E731
        for pool in cluster.pools:
            self._static(f"{block.name}: pool {pool.name} holds whole replicas of {replica} GPUs", pool.span, pool.count % replica == 0, f"{pool.count} GPUs are not a multiple of tensor x pipeline = {replica}", guard)
        self._static(f"{block.name}: {shape.layers} layers divide into pipeline stages", at("pipeline"), shape.layers % pp == 0, f"{shape.layers} layers are not a multiple of pipeline = {pp}", guard)
        self._static(f"{block.name}: heads and kv_heads divide into tensor groups", at("tensor"), shape.heads % t == 0 and shape.kv_heads % t == 0, f"heads = {shape.heads} and kv_heads = {shape.kv_heads} must be multiples of tensor = {t}", guard)
        self._memory_fit(workload, fields)

    def _prefill_pool(self, fields: dict[str, nodes.Field], cluster: m.Cluster) -> str | None:
        """Disaggregated serving (spec/semantics.md, "Prefill and decode apart"): one pool of the
        cluster prefills, the others decode, and the cache crosses the cluster's network."""
        field = fields["prefill_pool"]
        value, names = field.value, [p.name for p in cluster.pools]
        if not (isinstance(value, nodes.Ref) and len(value.parts) == 1):
            self.fail(value.span, codes.BAD_VALUE, f"'prefill_pool' names a pool of '{cluster.name}', e.g. 'prefill_pool = {names[0]}'")
            return None
        name = value.parts[0]
        if name not in names:
            import difflib  # only for a misspelt name: not on a cold start's path
            close = difflib.get_close_matches(name, names, n=1)
            self.fail(value.span, codes.UNKNOWN_NAME, f"'{cluster.name}' has no pool '{name}'" + (f"; did you mean '{close[0]}'?" if close else f"; its pools: {', '.join(names)}"))
            return None
        if len(names) < 2:
            self.fail(field.span, codes.BAD_VALUE, f"'{cluster.name}' has one pool: with '{name}' prefilling, no pool is left to decode")
            return None
        if cluster.network is None:
            self.fail(field.span, codes.MISSING_FIELD, f"serving with a prefill pool sends the cache over '{cluster.name}''s network: give it a network section")
            return None
        return name
