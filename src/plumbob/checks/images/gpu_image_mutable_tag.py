"""Images of GPU workloads referenced by a mutable tag (no tag, `:latest`, a branch, nightly or
channel tag) or a pre-release tag."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.images import unpinned_tag
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import PodTemplate

WHY = """
A GPU image bundles a CUDA runtime that must match the node's driver. With `:latest`, no tag, or a
tag that moves (`:main`, `:nightly`, `:edge`, a date-less `:stable`), every node pull can bring a
different build: one replica gets CUDA 12.4, the next CUDA 12.8 and fails on nodes whose driver
is too old, and a rollback cannot bring the old image back. Branch and nightly tags move daily,
so replicas started a day apart run different code. A release candidate or beta (`2.4.0rc0`,
`v0.7.0-beta.1`) names one build, but a test build: the fixes that went into the release are
missing and nothing tells the next reader that production runs a pre-release. At 10 GB or more
per image, a re-pull also costs minutes of idle GPU time. Medium: the job or service usually
runs, until a node replacement or a rollout pulls a different build.
"""

FIX = """
Pin GPU images to a released version tag, better to a digest, and update them deliberately:

    image: vllm/vllm-openai:v0.6.4.post1@sha256:<digest>

Enforce it with an admission policy (Kyverno `disallow-latest-tag`, Gatekeeper
`K8sDisallowedTags`).
"""


@check(
    id="gpu-image-mutable-tag",
    category="images",
    severity="medium",
    reads=(WORKLOADS,),
    title="GPU workload image uses a mutable or pre-release tag",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        "https://kyverno.io/policies/best-practices/disallow-latest-tag/disallow-latest-tag/",
        "https://semver.org/#spec-item-9",
    ),
    origin=Origin(
        "https://github.com/opea-project/GenAIComps/issues/1038",
        "A Helm deployment pulled a new opea/vllm-gaudi:latest that crash-looped, while the "
        "pinned 1.1 tag worked.",
    ),
)
def gpu_image_mutable_tag(snap: Snapshot) -> Iterator[Hit]:
    yield from mutable_tag_hits(snap.gpu_templates, lambda template: "a GPU workload")


def mutable_tag_hits(
    templates: Iterable[PodTemplate], owner: Callable[[PodTemplate], str]
) -> Iterator[Hit]:
    """A hit per container image with a mutable or pre-release tag, at its `image` field;
    `owner` names the template's workload in the message. Shared with image-mutable-tag, which
    reports the same defect on the workloads without GPUs."""
    for template in templates:
        for path, container, how in template.unpinned_images():
            yield Hit(
                template.workload,
                f"container {container.name!r} of {owner(template)} runs {container.image} "
                f"with {how}",
                evidence={
                    "container": container.name,
                    "image": container.image,
                    "tag_kind": unpinned_tag(container.image),
                },
                path=f"{path}.image",
            )
