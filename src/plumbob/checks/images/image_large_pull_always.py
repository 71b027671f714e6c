"""Large GPU images pulled on every container start (imagePullPolicy Always)."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.images.image_large_gpu import FIX as LARGE_FIX
from plumbob.checks.images.image_large_gpu import REFERENCES, THRESHOLD_GB, large_gpu_images
from plumbob.checks.registry import WORKLOADS, CheckContext, Hit, Origin, check
from plumbob.model.snapshot import Snapshot

WHY = """
With `imagePullPolicy: Always` (set explicitly, or the default for `:latest` and untagged
images) the kubelet contacts the registry on every container start. For a 10 GB+ CUDA image a
restart, a rescheduled pod or a new replica waits minutes for the pull, and a registry outage or
rate limit keeps GPU pods in ImagePullBackOff on nodes that already have the image, while the
GPUs are billed.
"""

FIX = (
    """
Pin the image to a version tag or digest and use `imagePullPolicy: IfNotPresent`:

    containers:
      - name: server
        image: vllm/vllm-openai:v0.6.4.post1@sha256:<digest>
        imagePullPolicy: IfNotPresent

Then make the first pull fast as well:

"""
    + LARGE_FIX
)


@check(
    id="image-large-pull-always",
    category="images",
    severity="high",
    reads=(WORKLOADS, "Node"),
    node_parts=("images",),
    title="Large GPU image is pulled on every start",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy",
        *REFERENCES,
    ),
    options=(THRESHOLD_GB,),
    origin=Origin(
        "https://github.com/vanvalenlab/kiosk-console/pull/258",
        "A deep-learning platform set its charts to imagePullPolicy IfNotPresent to stop "
        "re-pulling images such as its TensorFlow Serving image and shorten the start of "
        "new pods.",
    ),
)
def image_large_pull_always(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    yield from large_gpu_images(snap, ctx, pull_always=True)
