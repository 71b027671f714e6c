"""What the policy checks read from admission policies."""

from __future__ import annotations

from tests.conftest import snapshot_of

from plumbob.model.policies import (
    RegistryRule,
    admission_policies,
    declared_registry_rules,
    kyverno_rule_scope,
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


def test_kyverno_rule_scope() -> None:
    """Which namespaces a Kyverno rule matches and excludes, by name (wildcards kept)."""

    def scope(rule: dict[str, object]) -> tuple[set[str] | None, set[str]]:
        matched, excluded = kyverno_rule_scope(rule)
        return (None if matched is None else set(matched)), set(excluded)

    pods = {"resources": {"kinds": ["Pod"]}}
    ml = {"resources": {"kinds": ["Pod"], "namespaces": ["ml-*", "research"]}}
    system = {"resources": {"namespaces": ["kube-system"]}}
    assert scope({"match": {"any": [pods]}}) == (None, set())
    assert scope({"match": {"any": [ml]}}) == ({"ml-*", "research"}, set())
    assert scope({"match": {"any": [ml, pods]}}) == (None, set())  # one filter matches all
    both = {"resources": {"namespaces": ["research", "prod"]}}
    assert scope({"match": {"all": [ml, both]}}) == ({"research"}, set())
    assert scope({"match": {"all": [system, both]}}) == (set(), set())  # matches nothing
    assert scope({"match": ml, "exclude": system}) == ({"ml-*", "research"}, {"kube-system"})
    assert scope({"match": {"any": [pods]}, "exclude": {"any": [system]}}) == (
        None,
        {"kube-system"},
    )
    # An exclude that also names users or a label selector leaves the namespace in scope.
    narrow = {"resources": {"namespaces": ["kube-system"], "selector": {"matchLabels": {"a": "b"}}}}
    assert scope({"match": {"any": [pods]}, "exclude": {"any": [narrow]}}) == (None, set())
    by_user = {**system, "subjects": [{"kind": "User", "name": "ci"}]}
    assert scope({"match": {"any": [pods]}, "exclude": {"any": [by_user]}}) == (None, set())
    wild = RegistryRule("nvcr.io/*", "p", frozenset({"ml-*"}), frozenset({"ml-sandbox"}))
    assert wild.applies_to("ml-serving") and not wild.applies_to("ml-sandbox")
    assert not wild.applies_to("default")
