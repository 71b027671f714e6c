"""The demo plan: which workloads exist for a size, scaled to the pod count, pods placed."""

from __future__ import annotations

import random

from plumbob.sources.demo.gpu_workloads import (
    a10g_fillers,
    devbox,
    inference,
    l4_fillers,
    shared_embeddings,
    training,
)
from plumbob.sources.demo.platform_workloads import (
    cpu_fillers,
    daemonsets,
    platform_deployments,
    prometheus,
    web_frontend,
)
from plumbob.sources.demo.pools import INFER_A10G, INFER_L4, SHARED_REPLICAS, TRAIN, Layout
from plumbob.sources.demo.workload import DAY, LLM_NS, PENDING, Plan, Pvc, Workload

# ----------------------------------------------------------------------------- plan


def _daemon_pods(workloads: list[Workload], layout: Layout) -> int:
    return sum(len(layout.of(pool)) for w in workloads for pool in w.ds_pools)


def _place_l4(workloads: list[Workload], layout: Layout) -> None:
    """Round-robin first-fit of L4 pods, bigger pods first, so every busy node gets one."""
    nodes = [i for i in layout.of(INFER_L4) if i not in layout.idle and i != layout.shared]
    free = dict.fromkeys(nodes, INFER_L4.gpu.count if INFER_L4.gpu else 0)
    order = sorted(
        (w for w in workloads if w.pool is INFER_L4 and not w.unschedulable and not w.shared),
        key=lambda w: -w.gpus,
    )
    cursor = 0
    for w in order:
        for _ in range(w.pod_count):
            for step in range(len(nodes)):
                node = nodes[(cursor + step) % len(nodes)]
                if free[node] >= w.gpus:
                    free[node] -= w.gpus
                    w.nodes.append(node)
                    cursor = (cursor + step + 1) % len(nodes)
                    break
            else:
                w.nodes.append(PENDING)


def _place_whole_nodes(workloads: list[Workload], nodes: list[int]) -> None:
    """One pod per node, in order; pods beyond the pool stay Pending."""
    free = iter(nodes)
    for w in workloads:
        w.nodes.extend(next(free, PENDING) for _ in range(w.pod_count))


def build_plan(layout: Layout, pods: int, seed: int) -> Plan:
    """All workloads for `layout`, scaled so the cluster holds `pods` pods.

    Fixed workloads, DaemonSet pods and pods requesting every GPU of the busy GPU nodes are
    always there; a `pods` below that minimum is raised to it.
    """
    rng = random.Random(f"{seed}:plan")
    train = [i for i in layout.of(TRAIN) if i not in layout.idle]
    devbox_node = layout.old_driver if layout.old_driver is not None else train[0]
    train.remove(devbox_node)
    a10g_nodes = list(layout.of(INFER_A10G))
    l4_busy = len(layout.of(INFER_L4)) - sum(
        1 for i in layout.of(INFER_L4) if i in layout.idle or i == layout.shared
    )
    l4_gpus = l4_busy * (INFER_L4.gpu.count if INFER_L4.gpu else 0)

    agents = daemonsets()
    platform = [*platform_deployments(), prometheus()]
    serving = inference()
    if layout.shared is not None:
        serving.append(
            shared_embeddings(SHARED_REPLICAS * (INFER_L4.gpu.count if INFER_L4.gpu else 0))
        )
    jobs = training(len(train), rng)
    box = devbox()
    web = web_frontend(rng)
    a10g_fixed = sum(w.pod_count for w in serving if w.pool is INFER_A10G and not w.unschedulable)
    l4_fixed_gpus = sum(
        w.pod_count * w.gpus
        for w in serving
        if w.pool is INFER_L4 and not w.unschedulable and not w.shared
    )
    # Every busy L4 GPU is requested (idle GPUs are a finding; only the planted node has them).
    l4_min = max(0, l4_gpus - l4_fixed_gpus)
    a10g_fill = max(0, len(a10g_nodes) - a10g_fixed)

    fixed = [*agents, *platform, *serving, *jobs, box, *web]
    minimum = _daemon_pods(agents, layout) + sum(w.pod_count for w in fixed) + l4_min + a10g_fill
    cpu_fill = max(0, pods - minimum)

    l4_extra = l4_fillers(serving[0], l4_min, rng)
    a10g_extra = a10g_fillers(a10g_fill, rng)
    scale = max(1, round((pods / 20_000) ** 0.5 * 2))
    cpu = cpu_fillers(cpu_fill, scale, rng)
    workloads = [*fixed, *l4_extra, *a10g_extra, *cpu]

    for w in workloads:
        if w.unschedulable:
            w.nodes = [PENDING] * w.pod_count
        elif w.shared and layout.shared is not None:
            w.nodes = [layout.shared] * w.pod_count
    _place_whole_nodes(jobs, train)
    box.nodes.append(devbox_node)
    _place_whole_nodes(
        [w for w in workloads if w.pool is INFER_A10G and not w.unschedulable], a10g_nodes
    )
    _place_l4(workloads, layout)

    plan = Plan(layout, workloads, _claims(workloads), _daemon_pods(agents, layout))
    assert plan.pod_total == max(pods, minimum), (plan.pod_total, pods, minimum)
    return plan


def _claims(workloads: list[Workload]) -> list[Pvc]:
    claims = [
        Pvc(LLM_NS, "hf-model-cache", "efs-sc", "1Ti", "ReadWriteMany", 60 * DAY),
        Pvc(LLM_NS, "batch-embeddings-output", "efs-sc", "200Gi", "ReadWriteMany", 30 * DAY),
    ]
    for w in workloads:
        if w.claim is not None:
            vct, storage_class, size = w.claim
            claims += [
                Pvc(w.namespace, f"{vct}-{w.name}-{i}", storage_class, size, "ReadWriteOnce", w.age)
                for i in range(w.replicas)
            ]
        for volume in w.spec.get("volumes", []):
            claim = volume.get("persistentVolumeClaim", {}).get("claimName", "")
            if claim.endswith("-checkpoints"):
                claims.append(
                    Pvc(w.namespace, claim, "fsx-lustre", "4800Gi", "ReadWriteMany", w.age + 600)
                )
    return claims
