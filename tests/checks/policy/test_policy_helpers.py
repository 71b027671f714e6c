"""What the policy checks read from admission policies."""

from __future__ import annotations

from tests.conftest import snapshot_of

from plumbob.model.policies import (
    RegistryRule,
    admission_policies,
    declared_registry_rules,
    policy_engines,
)

KYVERNO = {
    "apiVersion": "kyverno.io/v1",
    "kind": "ClusterPolicy",
    "metadata": {"name": "disallow-latest-tag"},
    "spec": {
        "validationFailureAction": "Enforce",
        "rules": [{"validate": {"pattern": {"spec": {"containers": [{"image": "!*:latest"}]}}}}],
    },
}
GPU_OPERATOR_POLICY = {
    "apiVersion": "nvidia.com/v1",
    "kind": "ClusterPolicy",
    "metadata": {"name": "cluster-policy"},
    "spec": {"driver": {}},
}
VAP = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicy",
    "metadata": {"name": "gpu"},
    "spec": {
        "validations": [
            {"expression": "object.spec.containers.all(c, 'nvidia.com/gpu' in c.resources.limits)"}
        ]
    },
}
BINDING = {
    "apiVersion": "admissionregistration.k8s.io/v1",
    "kind": "ValidatingAdmissionPolicyBinding",
    "metadata": {"name": "gpu"},
    "spec": {"policyName": "gpu", "validationActions": ["Deny"]},
}


def test_kyverno_policy_is_not_confused_with_gpu_operator_cluster_policy() -> None:
    policies = list(admission_policies(snapshot_of(KYVERNO, GPU_OPERATOR_POLICY)))
    assert [(p.engine, p.obj.name, p.enforcing) for p in policies] == [
        ("kyverno", "disallow-latest-tag", True)
    ]
    assert policies[0].constrains_images and not policies[0].constrains_gpus
    assert policy_engines(snapshot_of(GPU_OPERATOR_POLICY)) == {}


def test_vap_counts_only_with_binding() -> None:
    assert "validating-admission-policy" not in policy_engines(snapshot_of(VAP))
    assert "validating-admission-policy" in policy_engines(snapshot_of(VAP, BINDING))
    [vap] = [p for p in admission_policies(snapshot_of(VAP, BINDING)) if p.engine == "vap"]
    assert vap.enforcing and vap.constrains_gpus


def test_registry_rules() -> None:
    assert declared_registry_rules(snapshot_of(KYVERNO)) == []  # a tag rule, not registries
    glob = RegistryRule("eu.foo.io/*", "p")
    assert glob.allows("eu.foo.io/x/y:1") and not glob.allows("docker.io/eu.foo.io/x")
    prefix = RegistryRule("openpolicyagent/", "c", frozenset({"default"}))
    assert prefix.allows("openpolicyagent/opa:1") and not prefix.allows("nginx")
    assert prefix.applies_to("default") and not prefix.applies_to("ml")
