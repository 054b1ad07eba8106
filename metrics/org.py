"""The organisation tree: subtrees, children, paths. Cached per extract."""

from __future__ import annotations

from dataclasses import dataclass

from metrics.extract import Extract


@dataclass(frozen=True)
class OrgTree:
    root: str
    parent: dict[str, str | None]
    children: dict[str, tuple[str, ...]]
    name: dict[str, str]
    level: dict[str, str]

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self.parent

    def subtree(self, unit_id: str) -> frozenset[str]:
        out: list[str] = []
        stack = [unit_id]
        while stack:
            u = stack.pop()
            out.append(u)
            stack.extend(self.children.get(u, ()))
        return frozenset(out)

    def path(self, unit_id: str) -> list[str]:
        """Root first, unit_id last."""
        out = [unit_id]
        while (p := self.parent[out[-1]]) is not None:
            out.append(p)
        return out[::-1]

    def depth_first(self) -> list[tuple[str, int]]:
        """(unit_id, depth) in display order: children sorted by name."""
        out: list[tuple[str, int]] = []
        stack = [(self.root, 0)]
        while stack:
            u, d = stack.pop()
            out.append((u, d))
            kids = sorted(self.children.get(u, ()), key=lambda k: self.name[k], reverse=True)
            stack.extend((k, d + 1) for k in kids)
        return out

    def label(self, unit_id: str) -> str:
        return self.name.get(unit_id, unit_id)

    def child_of(self, scope_unit: str) -> dict[str, str]:
        """Map every unit in scope_unit's subtree to the child of scope_unit it lies under
        (scope_unit itself maps to itself)."""
        out = {scope_unit: scope_unit}
        for child in self.children.get(scope_unit, ()):
            for u in self.subtree(child):
                out[u] = child
        return out


def org_tree(ex: Extract) -> OrgTree:
    cached = ex._cache.get("org_tree")
    if isinstance(cached, OrgTree):
        return cached
    units = ex["org_units"]
    parent: dict[str, str | None] = dict(
        zip(units["unit_id"].to_list(), units["parent_id"].to_list(), strict=True)
    )
    children: dict[str, list[str]] = {}
    roots = []
    for u, p in parent.items():
        if p is None:
            roots.append(u)
        else:
            children.setdefault(p, []).append(u)
    if len(roots) != 1:
        raise ValueError(f"org_units: expected exactly one root after validation, found {len(roots)}")
    tree = OrgTree(
        root=roots[0],
        parent=parent,
        children={k: tuple(sorted(v)) for k, v in children.items()},
        name=dict(zip(units["unit_id"].to_list(), units["name"].to_list(), strict=True)),
        level=dict(zip(units["unit_id"].to_list(), units["level"].to_list(), strict=True)),
    )
    ex._cache["org_tree"] = tree
    return tree
