"""Resolution of `find` statements: a check with the search it asks for (checker.model.Search).

A mixin of checker.resolve.Resolver (it uses its diagnostics and claim resolution).
`find NAME: max REF such that A OP B` resolves `A OP B` exactly as `check NAME: A OP B` would,
and REF to the range it searches; `find NAME: best layout of W maximizing REF` resolves REF as a
quantity of the workload W, which must train a transformer model with a layout.
"""

from __future__ import annotations

from dataclasses import replace

from checker import codes, model as m, nodes


class FindResolver:
    """Mixed into the resolver: `find` statements."""

    def _find(self, find: nodes.Find) -> m.Claim:
        target = ".".join(find.target.parts)
        if find.workload is not None:
            return self._find_layout(find, target)
        claim = self._claim(nodes.Claim("check", find.name, find.left, find.op, find.right, find.span, find.name_span))
        unknown = self._searched(find, target)
        return replace(claim, find=m.Search(find.goal, find.goal == "max", target, unknown=unknown.id))

    def _searched(self, find: nodes.Find, target: str) -> m.Unknown:
        """The range a find searches: the unknown of that field (a per-pool field such as a
        workload's jitter names its pool when the cluster has several)."""
        exact = [u for u in self.unknowns if u.id == target]
        within = [u for u in self.unknowns if u.id.startswith(target + ".")]
        found = exact or within
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise self.fail(find.target.span, codes.FIND_TARGET, f"'{target}' is one range per pool here; name one: {', '.join(u.id for u in found)}")
        self._ref(find.target)  # an unknown name or field is reported as in a check
        raise self.fail(find.target.span, codes.FIND_TARGET, f"'{target}' is not a range: find searches a field declared as a range (LOW .. HIGH) for its tightest tolerable value")

    def _find_layout(self, find: nodes.Find, target: str) -> m.Claim:
        head = nodes.Ref((find.workload,), find.workload_span, (find.workload_span,))
        block = self.blocks.get(find.workload)
        if block is None:
            self._ref(nodes.Ref((find.workload, "mfu"), find.workload_span, (find.workload_span, find.workload_span)))
            raise self._stop()
        if not isinstance(block, m.Workload) or block.layout is None or block.model is None:
            raise self.fail(head.span, codes.FIND_TARGET, f"'{find.workload}' is not a workload that trains a model with a layout: a best layout is searched among the layouts of such a workload")
        quantity = self._ref(find.target)
        if quantity.path[0] != find.workload:
            raise self.fail(find.target.span, codes.FIND_TARGET, f"the quantity compared must be one of '{find.workload}', e.g. {find.workload}.mfu")
        text = f"best layout of {find.workload} {find.goal} {target}"
        comparison = m.Comparison(quantity, "==", quantity, text, target)
        search = m.Search("layout", find.goal == "maximizing", target, workload=find.workload, quantity=quantity)
        return m.Claim(find.name, "check", (comparison,), find.span, find=search)
