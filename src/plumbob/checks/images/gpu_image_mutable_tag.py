"""Images of GPU workloads referenced by a mutable tag."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import WORKLOADS, Hit, check
from plumbob.model.snapshot import Snapshot

WHY = """
A GPU image bundles a CUDA runtime that must match the node's driver. With `:latest` or no tag,
every node pull can bring a different build: one replica gets CUDA 12.4, the next CUDA 12.8 and
fails on nodes whose driver is too old, and a rollback cannot bring the old image back. At 10 GB
or more per image, a re-pull also costs minutes of idle GPU time.
"""

FIX = """
Pin GPU images to a version tag, better to a digest, and update them deliberately:

    image: vllm/vllm-openai:v0.6.4.post1@sha256:<digest>

Enforce it with an admission policy (Kyverno `disallow-latest-tag`, Gatekeeper
`K8sDisallowedTags`).
"""


@check(
    id="gpu-image-mutable-tag",
    category="images",
    severity="medium",
    reads=(WORKLOADS,),
    title="GPU workload image uses a mutable tag",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        "https://kyverno.io/policies/best-practices/disallow-latest-tag/disallow-latest-tag/",
    ),
)
def gpu_image_mutable_tag(snap: Snapshot) -> Iterator[Hit]:
    for template in snap.gpu_templates:
        for path, container, how in template.unpinned_images():
            yield Hit(
                template.workload,
                f"container {container.name!r} of a GPU workload runs {container.image} with {how}",
                evidence={"container": container.name, "image": container.image},
                path=f"{path}.image",
            )
