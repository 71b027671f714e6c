"""A policy engine is installed but no policy constrains images or GPU requests."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.policy.no_admission_policy_engine import admission_engines
from plumbob.checks.registry import COMPONENTS, Hit, Origin, check
from plumbob.model.policies import admission_policies
from plumbob.model.refs import cluster_ref
from plumbob.model.snapshot import Snapshot

WHY = """
An admission engine with only generic policies (labels, privileged pods) leaves the two things
that cost an AI platform most unguarded: which images GPU pods pull (pinned, from the approved
registry, small enough to start) and how GPUs are requested (limits equal requests, a queue
label, the GPU taint tolerated only by pods that ask for a GPU). The engine is there; the rules
that matter for GPUs are not.
"""

FIX = """
Add policies for images and for GPU requests, e.g. from the Kyverno policy library:

    kubectl apply -f https://raw.githubusercontent.com/kyverno/policies/main/best-practices/restrict-image-registries/restrict-image-registries.yaml
    kubectl apply -f https://raw.githubusercontent.com/kyverno/policies/main/best-practices/disallow-latest-tag/disallow-latest-tag.yaml

and a GPU rule such as "containers that request nvidia.com/gpu set an equal limit" (Kyverno
`validate.pattern`, Gatekeeper ConstraintTemplate, or a ValidatingAdmissionPolicy with a CEL
expression over `resources.requests['nvidia.com/gpu']`). Gatekeeper users: K8sAllowedRepos,
K8sDisallowedTags and K8sContainerLimits from the gatekeeper-library.
"""


@check(
    id="policy-engine-without-gpu-or-image-policy",
    category="policy",
    severity="low",
    reads=(
        "Deployment",
        COMPONENTS,
        "ClusterPolicy",
        "ValidatingAdmissionPolicy",
        "ConstraintTemplate",
    ),
    consults=("ValidatingAdmissionPolicyBinding",),
    title="Policy engine present but no policy constrains images or GPU requests",
    why=WHY,
    fix=FIX,
    references=(
        "https://kyverno.io/policies/?policytypes=validate",
        "https://open-policy-agent.github.io/gatekeeper-library/website/",
        "https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/",
    ),
    origin=Origin(
        "https://kyverno.io/policies/?policytypes=validate",
        "Kyverno's policy library holds validate policies for images and resources; an "
        "engine with none of them enforces nothing about GPUs or images.",
        kind="document",
    ),
)
def policy_engine_without_gpu_or_image_policy(snap: Snapshot) -> Iterator[Hit]:
    engines = admission_engines(snap)
    if not engines:
        return  # no engine: no-admission-policy-engine reports it
    policies = list(admission_policies(snap))
    images = [p.obj.name for p in policies if p.constrains_images]
    gpus = [p.obj.name for p in policies if p.constrains_gpus]
    missing = [what for what, have in (("images", images), ("GPU requests", gpus)) if not have]
    if not missing:
        return
    yield Hit(
        cluster_ref(snap),
        f"{', '.join(sorted(engines))} present with {len(policies)} policies, none constraining "
        f"{' or '.join(missing)}",
        evidence={
            "engines": engines,
            "policies": len(policies),
            "image_policies": images,
            "gpu_policies": gpus,
            "missing": missing,
        },
    )
