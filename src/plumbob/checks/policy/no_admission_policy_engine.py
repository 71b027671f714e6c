"""No admission policy engine: nothing stops a bad GPU workload at the API server."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, Hit, Origin, check
from plumbob.knowledge.components import installed
from plumbob.model.policies import policy_engines
from plumbob.model.refs import cluster_ref
from plumbob.model.snapshot import Snapshot

WHY = """
Every rule an AI platform depends on (GPU requests equal limits, GPU pods tolerate the GPU taint
and carry a queue label, images are pinned and come from the approved registry, no privileged
containers with all GPUs visible) is advice until the API server enforces it. Without Gatekeeper,
Kyverno or ValidatingAdmissionPolicy, one copied manifest can grab every GPU on a node, bypass the
quota or pull an unvetted 15 GB image, and the platform team finds out from the bill or the
outage.
"""

FIX = """
Use the built-in ValidatingAdmissionPolicy (GA in Kubernetes 1.30, no extra component), or
install Kyverno or OPA Gatekeeper, and start with policies in audit mode:

    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicy
    metadata: {name: gpu-limits-equal-requests}
    spec:
      failurePolicy: Fail
      matchConstraints:
        resourceRules:
          - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
      validations:
        - expression: >-
            object.spec.containers.all(c, !has(c.resources.requests) ||
            !('nvidia.com/gpu' in c.resources.requests) ||
            c.resources.requests['nvidia.com/gpu'] == c.resources.limits['nvidia.com/gpu'])
    ---
    apiVersion: admissionregistration.k8s.io/v1
    kind: ValidatingAdmissionPolicyBinding
    metadata: {name: gpu-limits-equal-requests}
    spec:
      policyName: gpu-limits-equal-requests
      validationActions: [Audit, Warn]

`plumbob` can export a baseline as such policies (Kyverno or ValidatingAdmissionPolicy).
"""


def admission_engines(snap: Snapshot) -> dict[str, str]:
    """Admission policy engines present -> how they were recognised: the model's signs (API
    groups, controller images, a bound ValidatingAdmissionPolicy), then the components table
    (Kyverno, Gatekeeper installed by a chart the signs miss). Shared with
    policy-engine-without-gpu-or-image-policy, so that the two never disagree on whether an
    engine is there."""
    engines = policy_engines(snap)
    found = installed(snap)
    for component in ("kyverno", "opa-gatekeeper"):
        if component in found:
            engines.setdefault(component, "; ".join(found[component].evidence[:1]))
    return engines


@check(
    id="no-admission-policy-engine",
    category="policy",
    severity="medium",
    reads=("Deployment", "ValidatingAdmissionPolicyBinding", COMPONENTS),
    consults=("ValidatingAdmissionPolicy",),
    title="No admission policy engine (Gatekeeper, Kyverno or ValidatingAdmissionPolicy)",
    why=WHY,
    fix=FIX,
    references=(
        "https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/",
        "https://kyverno.io/docs/introduction/",
        "https://open-policy-agent.github.io/gatekeeper/website/docs/",
    ),
    origin=Origin(
        "https://kubernetes.io/docs/reference/access-authn-authz/validating-admission-policy/",
        "Kubernetes documents ValidatingAdmissionPolicy as the built-in way to reject "
        "objects that break a rule before they are stored; without any admission policy "
        "nothing is enforced.",
        kind="document",
    ),
)
def no_admission_policy_engine(snap: Snapshot) -> Iterator[Hit]:
    engines = admission_engines(snap)
    if engines:
        return
    vaps = len(snap.objects("ValidatingAdmissionPolicy"))
    unbound = f" ({vaps} ValidatingAdmissionPolicy without a binding)" if vaps else ""
    yield Hit(
        cluster_ref(snap),
        f"cluster {snap.cluster.name} has no Gatekeeper, Kyverno or bound "
        f"ValidatingAdmissionPolicy{unbound}",
        evidence={
            "validating_admission_policies": vaps,
            "bindings": len(snap.objects("ValidatingAdmissionPolicyBinding")),
        },
    )
