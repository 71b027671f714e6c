"""The facts that name a workload's role, loaded once: known model-server, notebook and test
images and entrypoints (workload_roles.yaml), the AI platform's own images and namespaces
(ai_components.yaml). model/roles.py applies them; the Snapshot keeps the result.

    role_of(snap, workload) -> Role(role=WorkloadRole.SERVING, evidence=("image ... is ...",))
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from typing import Any

from plumbob.knowledge.loader import KnowledgeError, load_table
from plumbob.model.objects import Object, as_list
from plumbob.model.refs import ObjectRef
from plumbob.model.roles import (
    CommandSign,
    IdleCommand,
    ImageSign,
    Role,
    RoleFacts,
    WorkloadRole,
)
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

_MATCHERS = ("image", "image_prefix", "image_name", "image_name_prefix")


def _repo_path(image: str) -> str:
    """'nvcr.io/nvidia/k8s-device-plugin' -> 'nvidia/k8s-device-plugin'."""
    first, sep, rest = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return rest
    return image


def _role(row: dict[str, Any], where: str) -> WorkloadRole:
    try:
        return WorkloadRole(str(row.get("role")))
    except ValueError:
        raise KnowledgeError(f"workload_roles: {where}: unknown role {row.get('role')!r}") from None


@cache
def role_facts() -> RoleFacts:
    """The role facts, from knowledge/workload_roles.yaml and ai_components.yaml."""
    table = load_table("workload_roles")
    images: dict[str, list[ImageSign]] = defaultdict(list)
    names: dict[str, list[ImageSign]] = defaultdict(list)
    prefixes: list[tuple[str, ImageSign]] = []
    name_prefixes: list[tuple[str, ImageSign]] = []
    for i, row in enumerate(as_list(table.get("images"))):
        where = f"images[{i}]"
        if not isinstance(row, dict) or not row.get("source"):
            raise KnowledgeError(f"workload_roles: {where}: a row with `source:` expected")
        matcher = next((m for m in _MATCHERS if row.get(m)), None)
        if matcher is None:
            raise KnowledgeError(f"workload_roles: {where}: none of {', '.join(_MATCHERS)}")
        tag = row.get("tag_prefix")
        sign = ImageSign(_role(row, where), str(row.get("what")), str(tag) if tag else None)
        value = str(row[matcher])
        match matcher:
            case "image":
                images[value].append(sign)
            case "image_prefix":
                prefixes.append((value, sign))
            case "image_name":
                names[value].append(sign)
            case _:
                name_prefixes.append((value, sign))
    for name, image in _component_images():
        images.setdefault(image, []).append(ImageSign(WorkloadRole.SYSTEM, f"part of {name}"))
    commands: list[CommandSign] = []
    for i, row in enumerate(as_list(table.get("commands"))):
        where = f"commands[{i}]"
        if not isinstance(row, dict) or not row.get("source") or not row.get("pattern"):
            raise KnowledgeError(f"workload_roles: {where}: `pattern:` and `source:` expected")
        try:
            re.compile(str(row["pattern"]))
        except re.error as exc:
            raise KnowledgeError(f"workload_roles: {where}: bad pattern: {exc}") from None
        commands.append(CommandSign(_role(row, where), str(row["pattern"]), str(row["what"])))
    idle: dict[str, IdleCommand] = {}
    for i, row in enumerate(as_list(table.get("idle_commands"))):
        if not isinstance(row, dict) or not row.get("source") or not row.get("command"):
            raise KnowledgeError(f"workload_roles: idle_commands[{i}]: `command:`, `source:`")
        only = row.get("only_with")
        idle[str(row["command"])] = IdleCommand(str(row["command"]), str(only) if only else None)
    return RoleFacts(
        images={k: tuple(v) for k, v in images.items()},
        image_prefixes=tuple(prefixes),
        image_names={k: tuple(v) for k, v in names.items()},
        image_name_prefixes=tuple(name_prefixes),
        commands=tuple(commands),
        idle=idle,
        system_namespaces=_platform_namespaces(),
    )


def _component_images() -> list[tuple[str, str]]:
    """(component name, repository path) of every workload image ai_components.yaml lists for
    an operator, controller or node agent (its `workloads:`; not the `images:` lists, which also
    name model servers such as llm-d's vLLM build). An image several components run (the GPU
    operator runs the device plugin's, GFD runs from it too) names the two listing the fewest
    images."""
    listed: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for row in as_list(load_table("ai_components").get("components")):
        if not isinstance(row, dict):
            continue
        name = str(row.get("name", row.get("id")))
        paths: set[str] = set()
        for workload in as_list(row.get("workloads")):
            if not isinstance(workload, dict):
                continue
            for ref in (workload.get("image"), *as_list(workload.get("images"))):
                if isinstance(ref, str) and ref:
                    paths.add(_repo_path(ref))
        for path in paths:
            listed[path].append((len(paths), name))
    return [
        (" or ".join(name for _, name in sorted(owners)[:2]), path)
        for path, owners in listed.items()
    ]


def _platform_namespaces() -> frozenset[str]:
    """kube-system and the namespaces ai_components.yaml names as a component's own (entries
    with a note or a placeholder, and `default`, are not a component's own)."""
    out = {"kube-system"}
    for row in as_list(load_table("ai_components").get("components")):
        if not isinstance(row, dict):
            continue
        for ns in as_list(row.get("namespaces")):
            name = str(ns)
            if name and " " not in name and "{" not in name and name != "default":
                out.add(name)
    return frozenset(out)


def role_of(snap: Snapshot, workload: Object) -> Role:
    """The role of a workload of `snap` (classified once per snapshot)."""
    return snap.role_of(workload, role_facts())


def gpu_workloads(snap: Snapshot, role: WorkloadRole) -> list[tuple[Object, PodTemplate]]:
    """The workloads of `role` with a GPU pod template, each once with its first GPU template
    (snapshot order): the checks about serving or training give one verdict per workload, not
    one per template (a PyTorchJob's master and workers)."""
    first: dict[int, tuple[Object, PodTemplate]] = {}
    for template in snap.gpu_templates:
        workload = template.workload
        if id(workload) not in first and role_of(snap, workload).role == role:
            first[id(workload)] = (workload, template)
    return list(first.values())


def gpu_templates_by_workload(
    snap: Snapshot, role: WorkloadRole
) -> list[tuple[Object, list[PodTemplate]]]:
    """The workloads of `role` with every GPU pod template of each (snapshot order), for the
    checks that judge each template of a workload (a LeaderWorkerSet's leader and workers) and
    give one verdict per workload."""
    found: dict[int, tuple[Object, list[PodTemplate]]] = {}
    for template in snap.gpu_templates:
        workload = template.workload
        if id(workload) not in found and role_of(snap, workload).role != role:
            continue
        found.setdefault(id(workload), (workload, []))[1].append(template)
    return list(found.values())


def role_evidence(snap: Snapshot, subject: Object | ObjectRef) -> dict[str, Any]:
    """`role` and `roleEvidence` for a finding about a workload; empty for other subjects."""
    if isinstance(subject, ObjectRef) or id(subject) not in snap.templates_by_workload:
        return {}
    role = snap.role_of(subject, role_facts())
    return {"role": role.role.value, "roleEvidence": list(role.evidence)}
