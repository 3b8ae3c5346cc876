"""Resolution of `model` blocks and of a training workload's `layout` section.

A mixin of checker.resolve.Resolver (it uses its diagnostics and field helpers). The layout's
integers are fixed by the spec; the divisibility rules they must meet are built-in invariants
decided from constants, each guarding the workload's layout: a check whose quantities rest on
a layout that does not divide is not established.
"""

from __future__ import annotations

from fractions import Fraction


from checker import codes, model as m, nodes, registry

def _suggest(name: str, options) -> str:
    import difflib  # only for a misspelt name: not on a cold start's path
    close = difflib.get_close_matches(name, sorted(options), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _uneven(x: m.Layout, net: m.Network) -> list[tuple[str, int, int]]:
    """(tier, its size, a block of inner extents) that neither divides the other: some group
    of the layout (ranks numbered in its order, innermost first) would meet
    the tier's groups unevenly. Empty when every group sits evenly on every tier."""
    products, below = [], 1
    inner = (x.tensor, x.context, x.pipeline, x.data) if x.order == "tp_cp_pp_dp" else (x.tensor, x.context, x.data, x.pipeline)
    for k in inner:
        below *= k
        products.append(below)
    bad = []
    for t in net.tiers:
        odd = [p for p in products if t.size % p and p % t.size]
        if odd:
            bad.append((t.name, t.size, odd[0]))
    return bad


OPTIMIZER = {"none": 0, "distributed": 1, "gradients": 2, "weights": 3}  # ZeRO stage


class LayoutResolver:
    """Mixed into the resolver: `model` blocks, and the layout of a workload that names one."""

    def _model(self, block: nodes.Block) -> None:
        self._no_on(block)
        fields = self._members("model", block.name, block.members, block.span)
        counts = {name: (lambda name=name: self._count("model", block.name, fields, name, block.span)) for name in ("layers", "hidden", "heads", "kv_heads", "ffn", "seq", "vocab", "experts", "top_k", "shared_experts", "expert_ffn", "dense_layers")}
        counts["mlp"] = lambda: self._enum("model", fields, "mlp")
        counts["params"] = lambda: self._param("model", block.name, fields, "params", block.span)
        counts["active_params"] = lambda: self._param("model", block.name, fields, "active_params", block.span)
        p = self._all(counts)
        if any(p[n] is None for n in ("layers", "hidden", "heads", "seq", "vocab", "mlp")):
            raise self._stop()
        heads = p["heads"]
        kv = p["kv_heads"] or heads
        ffn = p["ffn"] or 4 * p["hidden"]
        experts = p["experts"] or 0
        for name in ("top_k", "shared_experts", "expert_ffn", "dense_layers", "active_params"):
            if name in fields and not experts:
                raise self.fail(fields[name].span, codes.CONFLICTING_FIELDS, f"'{name}' describes a mixture of experts; give 'experts' too")
        if experts and p["top_k"] is None:
            raise self.fail(fields["experts"].span, codes.MISSING_FIELD, f"a mixture of experts needs 'top_k', the experts each token is routed to")
        shape = m.Transformer(block.name, p["layers"], p["hidden"], heads, kv, ffn, p["mlp"] == "swiglu", p["seq"], p["vocab"], p["params"], block.span,
                              experts, p["top_k"] or 0, p["shared_experts"] or 0, p["expert_ffn"] or ffn, p["dense_layers"] or 0, p["active_params"])
        self._add(block, shape, "model")
        guard = ((block.name, "shape"),)
        where = lambda name: fields[name].span if name in fields else block.span  # noqa: E731
        self._static(f"{block.name}: hidden divides into heads", where("heads"), shape.hidden % heads == 0, f"hidden = {shape.hidden} is not a multiple of heads = {heads}", guard)
        self._static(f"{block.name}: heads divide into kv_heads groups", where("kv_heads"), heads % kv == 0, f"heads = {heads} is not a multiple of kv_heads = {kv}", guard)
        if experts:
            self._static(f"{block.name}: top_k is at most experts", where("top_k"), shape.top_k <= experts, f"top_k = {shape.top_k} is more than experts = {experts}", guard)
            self._static(f"{block.name}: dense_layers leave a layer of experts", where("dense_layers"), shape.dense_layers < shape.layers, f"dense_layers = {shape.dense_layers} leaves no MoE layer of {shape.layers}", guard)
        if p["active_params"] is not None and p["active_params"].constant is not None:
            counted, given = shape.active_parameters, p["active_params"].constant
            self._static(f"{block.name}: active_params agrees with the shape within 5 %", where("active_params"), abs(given - counted) <= counted / 20,
                         f"active_params = {given} but a token passes through {counted} of the shape's parameters", guard)
        if p["params"] is not None and p["params"].constant is not None:
            counted = shape.parameters
            given = p["params"].constant
            self._static(f"{block.name}: params agrees with the shape within 5 %", where("params"), abs(given - counted) <= counted / 20,
                         f"params = {given} but the shape has {counted} (layers x (attention + MLP matrices) + vocab x hidden)", guard)

    def _layout(self, w_name: str, cluster: m.Cluster, model: m.Transformer, section: nodes.Section, batch: m.Param | None, span) -> m.Layout:
        where = f"{w_name}.layout"
        fields = self._members("layout", where, section.members, section.span)
        thunks = {name: (lambda name=name: self._count("layout", where, fields, name, section.span)) for name in ("tensor", "pipeline", "data", "context", "virtual", "microbatch", "trim", "expert")}
        for name in ("sequence_parallel", "recompute", "optimizer", "attention", "order"):
            thunks[name] = lambda name=name: self._enum("layout", fields, name)
        p = self._all(thunks)
        t, pp, c, v, b = p["tensor"], p["pipeline"], p["context"], p["virtual"], p["microbatch"]
        replica = t * pp * c
        n = cluster.gpus
        d = p["data"] if p["data"] is not None else max(n // replica, 1)
        if batch is None or batch.constant is None:
            raise self.fail(batch.span if batch is not None else span, codes.NOT_CONSTANT, f"a workload with a model needs a constant 'batch' (tokens per step, a whole number of sequences of {model.seq})")
        sequences = batch.constant / model.seq
        layout = m.Layout(t, pp, d, c, v, b, p["sequence_parallel"] == "yes", p["recompute"], OPTIMIZER[p["optimizer"]], p["attention"] == "flash",
                          int(sequences) if sequences.denominator == 1 else 0, section.span, p["trim"], p["order"], p["expert"])
        guard = ((w_name, "layout"),)
        at = lambda name: fields[name].span if name in fields else section.span  # noqa: E731
        static = self._static
        static(f"{w_name}: the batch is a whole number of sequences", batch.span, sequences.denominator == 1 and sequences > 0, f"batch = {batch.constant} tokens is not a whole number of sequences of {model.seq} tokens", guard)
        static(f"{w_name}: tensor x pipeline x data x context = {n} GPUs", at("data") if "data" in fields else at("tensor"), t * pp * d * c == n, f"{t} x {pp} x {d} x {c} = {t * pp * d * c} GPUs, but the cluster has {n}", guard)
        for pool in cluster.pools:
            static(f"{w_name}: pool {pool.name} holds whole replicas of {replica} GPUs", pool.span, pool.count % replica == 0, f"{pool.count} GPUs are not a multiple of tensor x pipeline x context = {replica}", guard)
        trim = p["trim"]
        if trim:
            static(f"{w_name}: {model.layers} layers and {trim} fewer on the first and the last chunk divide into pipeline x virtual chunks", at("trim"),
                   (model.layers + 2 * trim) % (pp * v) == 0 and pp * v > 1 and (model.layers + 2 * trim) // (pp * v) > trim,
                   f"{model.layers} + 2 x {trim} layers are not a multiple of pipeline x virtual = {pp * v} with more than {trim} in a chunk", guard)
        else:
            static(f"{w_name}: {model.layers} layers divide into pipeline x virtual stages", at("pipeline"), model.layers % (pp * v) == 0, f"{model.layers} layers are not a multiple of pipeline x virtual = {pp * v}", guard)
        static(f"{w_name}: heads and kv_heads divide into tensor groups", at("tensor"), model.heads % t == 0 and model.kv_heads % t == 0, f"heads = {model.heads} and kv_heads = {model.kv_heads} must be multiples of tensor = {t}", guard)
        static(f"{w_name}: the sequence divides into context shards", at("context"), model.seq % c == 0, f"seq = {model.seq} is not a multiple of context = {c}", guard)
        net = cluster.network
        if "order" in fields and (net is None or net.topology != "tiers"):
            self.fail(fields["order"].span, codes.CONFLICTING_FIELDS, "'order' places the layout's groups on the tiers of a topology = tiers network; on a ring, tensor and context groups sit in the NVLink domain")
        if net is not None and net.topology == "tiers":  # spec/semantics.md, "Placing the layout on tiers"
            for tier, size, product in _uneven(layout, net):
                static(f"{w_name}: the layout's groups meet tier {tier}'s groups evenly", at("tensor"), False,
                       f"tier {tier} of {size} GPUs and a block of {product} ranks (tensor x context x pipeline x data, innermost first) do not divide one another", guard)
            if model.experts:
                self.fail(net.span, codes.CONFLICTING_FIELDS, f"'{model.name}' is a mixture of experts: its all-to-all and expert gradients run over the NVLink domain and the network (topology = ring); placing them on tiers is not modelled")
        self._expert_layout(w_name, cluster, model, layout, fields, at, guard)
        whole = layout.batch_sequences
        static(f"{w_name}: the batch divides into data x microbatch", at("microbatch"), whole > 0 and whole % (d * b) == 0, f"{whole} sequences are not a multiple of data x microbatch = {d * b}", guard)
        if v > 1:
            m_ = whole // (d * b) if whole and whole % (d * b) == 0 else 0
            static(f"{w_name}: interleaving needs pipelining and whole rounds of microbatches", at("virtual"), pp > 1 and m_ > 0 and m_ % pp == 0,
                   f"virtual = {v} needs pipeline > 1 and microbatches ({m_}) a multiple of pipeline = {pp}", guard)
        return layout

    def _sections(self, kind: str, block: nodes.Block) -> dict[str, nodes.Section]:
        """The sections of a block that may have them, by name; an unknown or repeated one is an error."""
        found: dict[str, nodes.Section] = {}
        for member in block.members:
            if not isinstance(member, nodes.Section):
                continue
            allowed = registry.SECTIONS.get(kind, ())
            if member.name not in allowed:
                self.fail(member.name_span, codes.UNKNOWN_FIELD, f"a {kind} has no section '{member.name}'" + (f"; its sections: {', '.join(allowed)}" if allowed else ""))
            elif member.name in found:
                self.fail(member.name_span, codes.DUPLICATE, f"section '{member.name}' is already given on line {found[member.name].span.line}")
            else:
                found[member.name] = member
        return found

    def _model_named(self, field: nodes.Field) -> m.Transformer | None:
        value = field.value
        if not (isinstance(value, nodes.Ref) and len(value.parts) == 1):
            self.fail(value.span, codes.BAD_VALUE, "'model' names a model block, e.g. 'model = gpt3'")
            return None
        name = value.parts[0]
        found = self.blocks.get(name)
        if isinstance(found, m.Transformer):
            return found
        if name in self.failed:
            return None
        models = [n for n, k in self.kinds.items() if k == "model"]
        what = f"'{name}' is a {self.kinds[name]}, not a model" if name in self.kinds else f"no model named '{name}'{_suggest(name, models)}"
        self.fail(value.span, codes.UNKNOWN_NAME, what)
        return None

    def _model_workload_fields(self, block: nodes.Block, kind, balance, fields: dict[str, nodes.Field], sections, cluster: m.Cluster) -> None:
        """What a workload with a model may not have, and what its cluster must have."""
        if kind is not None and kind != "training":
            self.fail(fields["kind"].span if "kind" in fields else block.span, codes.BAD_VALUE, "a workload with a model is trained: 'kind' must be training (serving takes params and flops_per_token)")
        for name, why in (("shards", "the layout's tensor x pipeline x context"), ("params", "counted from the model's shape"), ("state_bytes", "the layout's optimizer sharding"), ("flops_per_token", "counted from the model's shape"), ("grad_bytes", "fp32 gradients of the layout")):
            if name in fields:
                self.fail(fields[name].span, codes.CONFLICTING_FIELDS, f"'{name}' comes from the model and its layout here ({why}); leave it out")
        if balance == "proportional":
            self.fail(fields["balance"].span, codes.BAD_VALUE, "with a layout every data-parallel replica runs the same microbatches: 'balance' must be uniform")
        shape = self.blocks.get(fields["model"].value.parts[0]) if "model" in fields and isinstance(fields["model"].value, nodes.Ref) else None
        if "expert_load" in fields and isinstance(shape, m.Transformer) and not shape.experts:
            self.fail(fields["expert_load"].span, codes.CONFLICTING_FIELDS, f"'expert_load' is the imbalance of a mixture of experts; '{shape.name}' has no experts")
        if cluster.network is None:
            self.fail(block.on_span or block.span, codes.MISSING_FIELD, f"training on '{cluster.name}' needs its network section (its rings carry every collective)")
        elif cluster.network.topology not in ("ring", "tiers"):
            self.fail(cluster.network.span, codes.BAD_VALUE, "a workload with a layout runs ring collectives on the NVLink domain and the network (topology = ring) or on the tiers that hold each group (topology = tiers): 'topology' must be ring or tiers")
        for pool in cluster.pools:
            gpu = pool.gpu
            if gpu.memory_bandwidth is None:
                self.fail(pool.gpu_span if hasattr(pool, "gpu_span") else pool.span, codes.MISSING_FIELD, f"gpu '{gpu.name}' needs 'memory_bandwidth' to train a model (element-wise work is bound by it)")
            if gpu.matmul is None and "efficiency" not in fields:
                self.fail(pool.span, codes.MISSING_FIELD, f"gpu '{gpu.name}' needs a 'matmul' share (or the workload an 'efficiency') to train a model")

    def _expert_layout(self, w_name: str, cluster: m.Cluster, model: m.Transformer, x: m.Layout, fields, at, guard) -> None:
        """Expert parallelism (spec/semantics.md, "Training a mixture of experts"): ep GPUs of
        the data x context ranks share out each layer's experts; the dense layers sit in the
        first chunk."""
        ep = x.expert
        if not model.experts:
            if "expert" in fields:
                self.fail(fields["expert"].span, codes.CONFLICTING_FIELDS, f"'expert' spreads a mixture of experts; '{model.name}' has no experts")
            return
        static = self._static
        static(f"{w_name}: the experts divide into expert-parallel groups", at("expert"), model.experts % ep == 0, f"experts = {model.experts} is not a multiple of expert = {ep}", guard)
        static(f"{w_name}: an expert group is drawn from the data x context ranks", at("expert"), (x.data * x.context) % ep == 0, f"data x context = {x.data * x.context} is not a multiple of expert = {ep}", guard)
        group = x.tensor * x.pipeline * x.context * ep
        for pool in cluster.pools:
            static(f"{w_name}: pool {pool.name} holds whole expert groups", pool.span, pool.count % group == 0, f"{pool.count} GPUs are not a multiple of tensor x pipeline x context x expert = {group}", guard)
        if x.pipeline * x.virtual > 1:
            first = x.chunk_layers(model.layers) - x.trim
            static(f"{w_name}: the dense layers fit in the first chunk", at("pipeline"), model.dense_layers <= first, f"dense_layers = {model.dense_layers} do not fit in the first chunk of {first} layers", guard)
