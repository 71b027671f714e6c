"""Images of any workload referenced by a mutable or pre-release tag (GPU workloads:
gpu-image-mutable-tag)."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.images.gpu_image_mutable_tag import mutable_tag_hits
from plumbob.checks.registry import WORKLOADS, Hit, Origin, check
from plumbob.model.roles import uses_gpu
from plumbob.model.snapshot import Snapshot

WHY = """
With `:latest`, no tag, or a tag that moves (`:main`, `:master`, `:nightly`, `:edge`, a date-less
`:stable`), two pods of the same workload can run different code, a rollback cannot bring the
old image back, and for `:latest` and untagged images the kubelet re-pulls on every start (their
default pull policy is Always). A release candidate or beta tag (`1.4.0-rc.1`) pins one build,
but a test build the project does not support once the release is out. For the services around
an AI platform (model gateways, feature stores, vector databases, queue workers) that means
untraceable behaviour changes and slower restarts. Low: nothing breaks until a pull brings a
different build. GPU workloads are reported separately, at a higher severity, by
gpu-image-mutable-tag.
"""

FIX = """
Pin every image to a released version tag, better to a digest:

    image: redis:7.4.1@sha256:<digest>

Renovate or Dependabot keep pinned tags current; enforce pinning with an admission policy
(Kyverno `disallow-latest-tag`, Gatekeeper `K8sDisallowedTags`).
"""


@check(
    id="image-mutable-tag",
    category="images",
    severity="low",
    reads=(WORKLOADS,),
    title="Workload image uses a mutable or pre-release tag",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/concepts/containers/images/#image-names",
        "https://kubernetes.io/docs/concepts/configuration/overview/#container-images",
        "https://kyverno.io/policies/best-practices/disallow-latest-tag/disallow-latest-tag/",
        "https://semver.org/#spec-item-9",
    ),
    origin=Origin(
        "https://github.com/nds-org/jupyter-et/issues/9",
        "A JupyterHub configured with ndslabs/jupyter-et:latest kept starting users on a "
        "months-old image its node had cached.",
    ),
)
def image_mutable_tag(snap: Snapshot) -> Iterator[Hit]:
    yield from mutable_tag_hits(
        # gpu-image-mutable-tag reports the GPU workloads
        (t for t in snap.pod_templates if not uses_gpu(t)),
        lambda template: f"{template.kind} {template.workload.name}",
    )
