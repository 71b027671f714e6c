"""The mutation files' language (tests/e2e/mutations.py): what it reaches, and that a step which
reaches nothing is an error rather than a defect silently not planted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.mutations import Mutation, MutationError, load

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "vllm", "namespace": "serving", "labels": {"karpenter.sh/a": "1"}},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "main",
                        "resources": {"limits": {"nvidia.com/gpu": "1"}},
                        "volumeMounts": [{"name": "dshm"}, {"name": "cache"}],
                    }
                ],
                "volumes": [{"name": "dshm"}, {"name": "cache"}],
            }
        }
    },
}
JOB: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1",
    "kind": "PyTorchJob",
    "metadata": {"name": "train"},
    "spec": {
        "pytorchReplicaSpecs": {
            "Master": {"template": {"spec": {"containers": [{"name": "a"}]}}},
            "Worker": {"template": {"spec": {"containers": [{"name": "b"}]}}},
        }
    },
}


def _plant(*steps: dict[str, Any]) -> list[dict[str, Any]]:
    return Mutation("x", Path("mutation.yaml"), plant=steps).apply([DEPLOYMENT, JOB])


def test_paths_reach_pod_specs_keys_with_dots_and_filtered_items() -> None:
    dep, job = _plant(
        {
            "in": {"kind": ["Deployment", "PyTorchJob"]},
            "delete": [
                'podSpec.containers[*].resources.limits["nvidia.com/gpu"]',
                "podSpec.volumes[name=dshm]",
                "podSpec.containers[0].volumeMounts[name=dshm]",
                'metadata.labels["karpenter.*"]',
            ],
            "set": {"podSpec.priorityClassName": "high", "metadata.annotations.a": "b"},
        }
    )
    spec = dep["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"]["limits"] == {}
    assert spec["volumes"] == spec["containers"][0]["volumeMounts"] == [{"name": "cache"}]
    assert spec["priorityClassName"] == "high" and dep["metadata"]["annotations"] == {"a": "b"}
    roles = job["spec"]["pytorchReplicaSpecs"]
    assert {r["template"]["spec"]["priorityClassName"] for r in roles.values()} == {"high"}
    assert DEPLOYMENT["spec"]["template"]["spec"]["volumes"][0] == {"name": "dshm"}  # a copy


def test_drop_and_add() -> None:
    docs = _plant({"drop": {"name": "v*"}}, {"add": [{"kind": "Schedule", "metadata": {}}]})
    assert [d["kind"] for d in docs] == ["PyTorchJob", "Schedule"]


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ({"drop": {"kind": "Schedule"}}, "matches no document"),
        ({"in": {"name": "nope"}, "delete": "spec"}, "matches no document"),
        ({"in": {"kind": "Deployment"}, "delete": "spec.replicas"}, "matches nothing"),
        ({"in": {"kind": "Deployment"}, "set": {"podSpec.volumes[name=x].a": 1}}, "reaches"),
    ],
)
def test_a_step_that_reaches_nothing_is_an_error(step: dict[str, Any], error: str) -> None:
    with pytest.raises(MutationError, match=error):
        _plant(step)


@pytest.mark.parametrize(
    "text",
    [
        "plant: []\n",
        "plant: [{in: {kind: Node}}]\n",
        "plant: [{drop: {colour: red}}]\n",
        "gpu-util-percent: 1\nplant: [{drop: {kind: Node}}]\n",
        "fires-already: {subjects: [Deployment/a/b]}\n",
        "plants: []\n",
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "mutation.yaml"
    path.write_text(text)
    with pytest.raises(MutationError, match=str(path)):
        load(path, "x")
