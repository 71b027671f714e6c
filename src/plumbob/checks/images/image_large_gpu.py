"""Images of GPU workloads so large that pulling them risks time-outs and slow scale-up."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.options import Number, Option
from plumbob.checks.registry import WORKLOADS, CheckContext, Hit, Origin, check
from plumbob.model.image_sizes import effective_pull_policy
from plumbob.model.snapshot import Snapshot

THRESHOLD_GB = Option(
    "threshold-gb",
    Number(),
    default=10.0,
    help="Image size, in GB (10^9 bytes) as the nodes report it, from which a GPU image counts "
    "as large.",
)

WHY = """
CUDA, PyTorch and inference-server images are often 10-20 GB. Pulling one takes minutes per node,
during which a freshly scaled GPU node (billed by the hour) sits idle, and the kubelet's default
2-minute runtime request time-out or a slow registry turns the pull into ErrImagePull /
ImagePullBackOff. Serial image pulls (the kubelet default) also block every other pod on the node
until the big image is in. Inference autoscaling is only as fast as the slowest pull.
"""

FIX = """
Make big images cheap to start:

- Pre-pull them on the GPU pool with a DaemonSet whose init container runs the image
  (`command: ["sh", "-c", "true"]`), or bake them into the node image (EKS AMI, GKE secondary
  boot disk).
- Use lazy pulling / image streaming: GKE image streaming (`gcloud container clusters update
  CLUSTER --enable-image-streaming`), the SOCI snapshotter on EKS, or stargz/eStargz with
  containerd.
- Raise kubelet limits in the KubeletConfiguration of the GPU pool:

      runtimeRequestTimeout: 15m
      serializeImagePulls: false
      maxParallelImagePulls: 3

- Slim the image: multi-stage builds, `-runtime` instead of `-devel` CUDA bases, models pulled
  from a volume or cache instead of baked in.
"""

REFERENCES = (
    "https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/",
    "https://kubernetes.io/docs/concepts/containers/images/#serial-and-parallel-image-pulls",
    "https://cloud.google.com/kubernetes-engine/docs/how-to/image-streaming",
    "https://github.com/awslabs/soci-snapshotter",
    "https://github.com/containerd/stargz-snapshotter",
)


def large_gpu_images(snap: Snapshot, ctx: CheckContext, *, pull_always: bool) -> Iterator[Hit]:
    """GPU containers whose image is above the threshold; `pull_always` selects those whose
    effective pull policy is Always (the others when False)."""
    threshold_gb = ctx.value(THRESHOLD_GB)
    threshold = threshold_gb * 1e9
    sizes = snap.image_sizes
    if not len(sizes):
        return
    for template in snap.gpu_templates:
        for path, container in template.containers():
            if not container.image:
                continue
            size = sizes.size_of(container.image)
            if size is None or size < threshold:
                continue
            policy = effective_pull_policy(container.image, container.image_pull_policy)
            if (policy == "Always") != pull_always:
                continue
            gb = size / 1e9
            why = (
                f", pulled on every start (imagePullPolicy {policy}"
                f"{'' if container.image_pull_policy else ', the default for this tag'})"
                if pull_always
                else ""
            )
            yield Hit(
                template.workload,
                f"container {container.name!r} of GPU {template.kind} {template.workload.name} "
                f"runs {container.image}, {gb:.1f} GB{why}",
                evidence={
                    "container": container.name,
                    "image": container.image,
                    "size_gb": round(gb, 2),
                    "threshold_gb": threshold_gb,
                    "image_pull_policy": policy,
                },
                path=f"{path}.imagePullPolicy" if pull_always else f"{path}.image",
            )


@check(
    id="image-large-gpu",
    category="images",
    severity="medium",
    reads=(WORKLOADS, "Node"),
    node_parts=("images",),
    title="GPU workload image is larger than the pull-size threshold",
    why=WHY,
    fix=FIX,
    references=REFERENCES,
    options=(THRESHOLD_GB,),
    origin=Origin(
        "https://cloud.google.com/kubernetes-engine/docs/how-to/image-streaming",
        "GKE documents image streaming as a way to start pods before a large image is fully "
        "downloaded.",
        kind="document",
    ),
)
def image_large_gpu(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    yield from large_gpu_images(snap, ctx, pull_always=False)
