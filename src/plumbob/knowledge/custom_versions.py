"""Custom-resource API versions no current controller serves (custom_api_versions.yaml), loaded
once and looked up by (apiVersion, kind).

    removed_custom_version("kubeflow.org/v1beta1", "TFJob")
        -> RemovedVersion(controller="Kubeflow training operator", replacement="kubeflow.org/v1",
                          removed_in="the v1 operators of Kubeflow 0.6 (2019): ...", source=...)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from plumbob.knowledge.loader import KnowledgeError, load_table
from plumbob.model.objects import as_list


@dataclass(frozen=True, slots=True)
class RemovedVersion:
    group_version: str
    kind: str
    controller: str
    removed_in: str
    """The controller release that stopped serving it, as its release notes say."""
    replacement: str
    source: str


@cache
def _index() -> Mapping[tuple[str, str], RemovedVersion]:
    out: dict[tuple[str, str], RemovedVersion] = {}
    for i, row in enumerate(as_list(load_table("custom_api_versions").get("removed"))):
        fields = ("group_version", "kinds", "controller", "removed_in", "replacement", "source")
        if not isinstance(row, dict) or any(not row.get(f) for f in fields):
            raise KnowledgeError(f"custom_api_versions: removed[{i}]: needs {', '.join(fields)}")
        for kind in as_list(row["kinds"]):
            key = (str(row["group_version"]), str(kind))
            if key in out:
                raise KnowledgeError(f"custom_api_versions: {key} listed twice")
            out[key] = RemovedVersion(
                group_version=key[0],
                kind=key[1],
                controller=str(row["controller"]),
                removed_in=str(row["removed_in"]),
                replacement=str(row["replacement"]),
                source=str(row["source"]),
            )
    return out


def removed_custom_version(api_version: str, kind: str) -> RemovedVersion | None:
    """The row for an object's apiVersion and kind, when no current controller serves it."""
    return _index().get((api_version, kind))


def removed_custom_versions() -> tuple[RemovedVersion, ...]:
    return tuple(_index().values())


__all__ = ["RemovedVersion", "removed_custom_version", "removed_custom_versions"]
