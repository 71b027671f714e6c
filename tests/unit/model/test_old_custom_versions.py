"""Objects of custom-resource versions no controller serves any more are still read for their pod
templates (custom-resource-version-removed reports the version; every other check still sees
the GPUs, images and settings of the pods they describe)."""

from __future__ import annotations

from plumbob.knowledge.custom_versions import removed_custom_version, removed_custom_versions
from tests.conftest import snapshot_of

GPU = {"limits": {"nvidia.com/gpu": 1}}


def test_tfjob_v1alpha1_replica_spec_list() -> None:
    snap = snapshot_of(
        {
            "apiVersion": "kubeflow.org/v1alpha1",
            "kind": "TFJob",
            "metadata": {"name": "example-job"},
            "spec": {
                "replicaSpecs": [
                    {
                        "replicas": 1,
                        "tfReplicaType": "MASTER",
                        "template": {"spec": {"containers": [{"name": "tf", "image": "a:1"}]}},
                    },
                    {
                        "replicas": 2,
                        "tfReplicaType": "WORKER",
                        "template": {
                            "spec": {
                                "containers": [{"name": "tf", "image": "a:1", "resources": GPU}]
                            }
                        },
                    },
                    "not a replica spec",
                ]
            },
        }
    )
    templates = snap.pod_templates
    assert [(t.role, t.replicas, t.path) for t in templates] == [
        ("MASTER", 1, "spec.replicaSpecs[0].template.spec"),
        ("WORKER", 2, "spec.replicaSpecs[1].template.spec"),
    ]
    assert len(snap.gpu_templates) == 1


def test_mpijob_v1alpha1_single_worker_template() -> None:
    snap = snapshot_of(
        {
            "apiVersion": "kubeflow.org/v1alpha1",
            "kind": "MPIJob",
            "metadata": {"name": "horovod"},
            "spec": {
                "replicas": 2,
                "template": {
                    "spec": {"containers": [{"name": "w", "image": "b:1", "resources": GPU}]}
                },
            },
        }
    )
    (template,) = snap.gpu_templates
    assert (template.role, template.replicas, template.path) == ("Worker", 2, "spec.template.spec")


def test_kfserving_v1alpha2_default_predictor_and_custom_container() -> None:
    snap = snapshot_of(
        {
            "apiVersion": "serving.kubeflow.org/v1alpha2",
            "kind": "InferenceService",
            "metadata": {"name": "flowers"},
            "spec": {
                "default": {
                    "predictor": {"tensorflow": {"storageUri": "gs://x", "resources": GPU}},
                    "transformer": {"custom": {"container": {"image": "me/transformer:1"}}},
                }
            },
        }
    )
    by_role = {t.role: t for t in snap.pod_templates}
    assert by_role["predictor"].path == "spec.default.predictor"
    assert by_role["predictor"] in snap.gpu_templates
    assert by_role["transformer"].spec.containers[0].image == "me/transformer:1"


def test_current_shapes_are_read_as_before() -> None:
    snap = snapshot_of(
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": {"name": "flowers"},
            "spec": {
                "predictor": {"tensorflow": {"resources": GPU}},
                "default": {"predictor": {"tensorflow": {}}},
            },
        }
    )
    assert [t.path for t in snap.pod_templates] == ["spec.predictor"]


def test_removed_versions_table() -> None:
    assert removed_custom_version("kubeflow.org/v1beta1", "TFJob") is not None
    assert removed_custom_version("kubeflow.org/v1", "TFJob") is None
    assert removed_custom_version("kubeflow.org/v1alpha1", "PodDefault") is None  # still served
    assert removed_custom_version("ray.io/v1alpha1", "RayCluster") is None  # deprecated, served
    for row in removed_custom_versions():
        assert row.source and row.removed_in and row.replacement != row.group_version
