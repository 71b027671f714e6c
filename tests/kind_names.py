"""Kind names code asks a snapshot for, read from its source: `snap.objects("Kind")` and friends,
and the tuples a loop feeds to them (`for kind in ("A", "B"): snap.objects(kind)`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

_ACCESSORS = frozenset({"objects", "generic", "typed", "visible", "get"})


def kinds_named_in(path: Path) -> set[str]:
    """Kind names the code asks a snapshot for: `snap.objects("Kind")` and friends, and the
    tuples a loop feeds to them (`for kind in ("A", "B"): snap.objects(kind)`)."""
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _ACCESSORS and node.args:
                out.update(_strings(ast.Tuple(elts=node.args[:1])))
            if node.func.attr == "_listed" and len(node.args) > 1:
                out.update(_strings(node.args[1]))
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            var = node.target.id
            uses = any(
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Attribute)
                and n.func.attr in _ACCESSORS
                and n.args
                and isinstance(n.args[0], ast.Name)
                and n.args[0].id == var
                for n in ast.walk(node)
            )
            if uses:
                out.update(_strings(node.iter))
    return out


_KIND = re.compile(r"[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*(\.[a-z0-9.-]+)?")
"""A kind key: `Node`, `APIService`, `Job.batch.volcano.sh`; not an environment variable name
(`CUDA_VERSION`) that a dict's `.get` looks up."""


def _strings(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {
            e.value
            for e in node.elts
            if isinstance(e, ast.Constant) and isinstance(e.value, str) and _KIND.fullmatch(e.value)
        }
    return set()
