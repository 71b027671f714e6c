"""Label selectors: which objects a metav1.LabelSelector picks (PodDisruptionBudgets, Services,
policies). Semantics follow k8s.io/apimachinery pkg/labels `Selector`; node placement lives in
model/placement.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _requirement(expr: Any, labels: Mapping[str, str]) -> bool:
    if not isinstance(expr, dict):
        return False
    key = expr.get("key")
    op = expr.get("operator")
    values = expr.get("values") or []
    if not isinstance(key, str) or not isinstance(values, list):
        return False
    present = key in labels
    match op:
        case "In":
            return present and labels[key] in values
        case "NotIn":
            return not present or labels[key] not in values
        case "Exists":
            return present
        case "DoesNotExist":
            return not present
        case "Gt" | "Lt":
            try:
                have, want = int(labels[key]), int(values[0])
            except (KeyError, IndexError, ValueError, TypeError):
                return False
            return have > want if op == "Gt" else have < want
    return False


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions) against labels. An empty selector
    matches everything; a missing (None) one matches nothing, as for PodDisruptionBudgets."""
    if selector is None or not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        return False
    if any(labels.get(k) != v for k, v in match_labels.items()):
        return False
    exprs = selector.get("matchExpressions") or []
    return isinstance(exprs, list) and all(_requirement(e, labels) for e in exprs)
