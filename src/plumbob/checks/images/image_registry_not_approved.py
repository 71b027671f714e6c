"""Images pulled from registries outside the approved list (plumbob.yaml, the baseline, or the
cluster's own admission policies)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from plumbob.checks.options import Option, TextList
from plumbob.checks.registry import WORKLOADS, CheckContext, Hit, Origin, check
from plumbob.model.images import parse_image, registry_entry, under_registry
from plumbob.model.policies import KYVERNO_KINDS, RegistryRule, declared_registry_rules
from plumbob.model.snapshot import Snapshot

WHY = """
GPU images carry CUDA, drivers' user-space libraries, model servers and often model weights, and
run with access to expensive hardware and to training data. An image from an unvetted registry
is an unreviewed supply chain: it can be swapped under the same tag, hit public rate limits when
a GPU pool scales out, or vanish. An approved-registry list (usually an internal mirror plus
nvcr.io and a few vendors) keeps pulls fast, cached and scanned.
"""

FIX = """
Mirror the image into an approved registry and reference it from there, or add the registry to
the approved list in plumbob.yaml:

    options:
      image-registry-not-approved:
        approved-registries: ["123456789012.dkr.ecr.us-west-2.amazonaws.com", "nvcr.io",
                              "registry.k8s.io"]

or in the baseline given to `plumbob scan --baseline FILE` (docs/baseline.md):

    cluster:
      approved-registries: [nvcr.io, registry.k8s.io]

An entry is a registry host (`nvcr.io`) or a registry and repository prefix
(`docker.io/vllm`). Enforce the same list in the cluster with Kyverno `restrict-image-registries`
or Gatekeeper `K8sAllowedRepos` (in Enforce/deny mode, matching every namespace that runs GPU
workloads). The list comes from plumbob.yaml, else from the baseline, else from the allowed
registries the cluster's own Kyverno and Gatekeeper policies declare; with none of them this
check reports nothing.
"""

APPROVED_REGISTRIES: Option[tuple[str, ...] | None] = Option(
    "approved-registries",
    TextList(),
    default=None,
    help="Registry hosts (`nvcr.io`) or registry/repository prefixes (`docker.io/vllm`) images "
    "may come from; when neither plumbob.yaml nor the baseline sets it, the cluster's own "
    "policies.",
    from_baseline="cluster.approved-registries",
)


def approved_registries(ctx: CheckContext) -> tuple[str, ...] | None:
    """The configured list (plumbob.yaml, else the baseline: the option's precedence),
    normalised; None when neither sets one."""
    value = ctx.value(APPROVED_REGISTRIES)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    return tuple(registry_entry(v) for v in value if isinstance(v, str) and v.strip())


@check(
    id="image-registry-not-approved",
    category="images",
    severity="medium",
    reads=(WORKLOADS,),
    consults=(*KYVERNO_KINDS, "K8sAllowedRepos"),
    title="Workload image comes from a registry outside the approved list",
    why=WHY,
    fix=FIX,
    references=(
        "https://kyverno.io/policies/best-practices/restrict-image-registries/restrict-image-registries/",
        "https://open-policy-agent.github.io/gatekeeper-library/website/validation/allowedrepos/",
        "https://kubernetes.io/docs/concepts/containers/images/",
    ),
    options=(APPROVED_REGISTRIES,),
    origin=Origin(
        "https://kyverno.io/policies/best-practices/restrict-image-registries/restrict-image-registries/",
        "Kyverno's restrict-image-registries policy admits only images from registries an "
        "organisation trusts.",
        kind="document",
    ),
)
def image_registry_not_approved(snap: Snapshot, ctx: CheckContext) -> Iterator[Hit]:
    approved = approved_registries(ctx)
    policies: dict[str, list[RegistryRule]] = {}
    if approved is None:
        for rule in declared_registry_rules(snap):
            policies.setdefault(rule.origin, []).append(rule)
        if not policies:
            return
    for template in snap.pod_templates:
        namespace = template.namespace or "default"
        for path, container in template.containers():
            if not container.image:
                continue
            ref = parse_image(container.image)
            name = registry_entry(ref.name)
            if approved is not None:
                if under_registry(name, approved):
                    continue
                origin, listed = "configured", list(approved)
            else:
                violated = _violated(
                    policies, namespace, container.image, f"{name}:{ref.tag or 'latest'}"
                )
                if violated is None:
                    continue
                origin = f"declared by {violated}"
                listed = [r.pattern for r in policies[violated]]
            yield Hit(
                template.workload,
                f"container {container.name!r} of {template.kind} {template.workload.name} pulls "
                f"{container.image} from {ref.registry}, outside the approved registries "
                f"({origin})",
                evidence={
                    "container": container.name,
                    "image": container.image,
                    "registry": ref.registry,
                    "approved": listed,
                    "list": origin,
                },
                path=f"{path}.image",
            )


def _violated(
    policies: Mapping[str, list[RegistryRule]], namespace: str, *images: str
) -> str | None:
    """The first policy (by name) that applies to the namespace and allows none of the image's
    spellings; None when every applicable policy allows it."""
    for origin in sorted(policies):
        rules = [r for r in policies[origin] if r.applies_to(namespace)]
        if rules and not any(r.allows(image) for r in rules for image in images):
            return origin
    return None
