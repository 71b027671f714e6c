"""Node pools whose MIG-capable nodes differ in MIG strategy or MIG layout."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from plumbob.checks.registry import GPU_IDENTITY, Hit, Origin, check
from plumbob.model.snapshot import Snapshot

WHY = """
A pool is meant to be interchangeable nodes. When some of its GPUs are split into MIG slices and
others are not, or are split differently, the same pod fits on some nodes and not on others: a
job asking for nvidia.com/mig-1g.10gb stays Pending while half the pool's GPUs are whole, the
autoscaler adds nodes of the wrong shape, and GPU capacity plans are wrong. It usually comes
from a mig.config label set by hand on one node, or a MIG manager that failed to apply a layout.
"""

FIX = """
Give the whole pool one MIG strategy (GPU operator `mig.strategy`) and one layout, set through
the pool's node labels so new nodes get it too:

    kubectl label nodes -l POOL_LABEL=POOL nvidia.com/mig.config=all-1g.10gb --overwrite
    kubectl get nodes -l POOL_LABEL=POOL -L nvidia.com/mig.config,nvidia.com/mig.config.state

Use separate pools when you need both whole GPUs and MIG slices, and check
`nvidia.com/mig.config.state` (success/failed) on nodes whose layout did not apply.
"""


def _shape(strategy: str | None, config: str | None, slices: bool) -> str:
    layout = config if config and config != "all-disabled" else ("slices" if slices else "off")
    return f"strategy={strategy or 'none'}, layout={layout}"


@check(
    id="mig-pool-mixed-config",
    category="gpu",
    severity="medium",
    reads=("Node",),
    node_parts=GPU_IDENTITY,
    title="Node pool mixes MIG strategies or MIG layouts",
    why=WHY,
    fix=FIX,
    references=(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html",
        "https://docs.nvidia.com/datacenter/tesla/mig-user-guide/",
    ),
    origin=Origin(
        "https://docs.nvidia.com/datacenter/cloud-native/gpu-operator/latest/gpu-operator-mig.html",
        "NVIDIA's GPU operator applies a MIG layout per node from its nvidia.com/mig.config "
        "label, so nodes of one pool can be partitioned differently.",
        kind="document",
    ),
)
def mig_pool_mixed_config(snap: Snapshot) -> Iterator[Hit]:
    gpus = snap.node_gpus
    for pool, nodes in snap.nodes_by_pool().items():
        shapes: dict[str, str] = {}
        for node in nodes:
            g = gpus[node.name]
            if g.mig_capable or g.mig_strategy or g.mig_config or g.mig_allocatable:
                shapes[node.name] = _shape(g.mig_strategy, g.mig_config, bool(g.mig_allocatable))
        counts = Counter(shapes.values())
        if len(counts) < 2:
            continue
        (majority, top), (_, second) = counts.most_common(2)
        split = top == second  # no majority: every node is part of the mix, none the outlier
        for node in nodes:
            shape = shapes.get(node.name)
            if shape is None or (shape == majority and not split):
                continue
            others = ", ".join(f"{n} with {s}" for s, n in sorted(counts.items()) if s != shape)
            message = (
                f"{node.name} in pool {pool} has MIG {shape}; the pool is split evenly ({others})"
                if split
                else f"{node.name} in pool {pool} has MIG {shape} while "
                f"{counts[majority]} of the pool's {len(shapes)} MIG-capable nodes have "
                f"{majority}"
            )
            yield Hit(
                node,
                message,
                evidence={
                    "pool": pool,
                    "shape": shape,
                    "pool_shapes": dict(counts),
                    "mig_slices": gpus[node.name].mig_allocatable,
                },
                path="metadata.labels",
            )
