"""Unrendered template values and values that are not quantities: named with the field they
are in, the field unknown, the object kept (and a GPU container still a GPU container)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.model.gpu import container_gpu_request, gpu_count_unknown
from plumbob.model.objects import Deployment
from plumbob.report.model import Diagnostic, Level, Report
from plumbob.sources.decode import unrendered
from plumbob.sources.files import FileSource
from plumbob.sources.interface import Loaded
from tests.conftest import make_container, make_deployment

FIXTURES = Path(__file__).parents[2] / "fixtures" / "unrendered"
CONTAINER = "spec.template.spec.containers[0]"


def load(tmp_path: Path, *objects: dict[str, Any]) -> Loaded:
    path = tmp_path / "manifests.yaml"
    path.write_text("---\n".join(json.dumps(o) + "\n" for o in objects))
    return FileSource((path,)).load()


def scan(loaded: Loaded) -> Report:
    return engine.run(loaded.snapshots, Registry.discover(), diagnostics=loaded.diagnostics)


def messages(diagnostics: list[Diagnostic]) -> list[str]:
    return [d.message for d in diagnostics]


def vllm(**container: Any) -> dict[str, Any]:
    base = make_container("server", "vllm/vllm-openai:v0.6.3", gpus=1)
    base.update(container)
    return make_deployment("vllm", containers=[base])


# ---------------------------------------------------------------------- what is unrendered


@pytest.mark.parametrize(
    "value",
    [
        "{{ .Values.image }}",
        '{{ include "x.image" . }}',
        "{{ .Values.image.repository }}:{{ .Values.image.tag }}",
        "$IMAGE",
        "${IMAGE}",
        "${REGISTRY}/vllm:${TAG}",
        "$(IMAGE)",  # Kubernetes expands $(VAR) in command, args and env, never in an image
        "<image>",
        "<your-registry>/vllm:<tag>",
        "REPLACE_ME",
        "registry.example.com/team/app:CHANGEME",
        "CONTAINER_IMAGE",
        "IMAGE",
        "REGISTRY_URL/vllm:1.0",
    ],
)
def test_placeholders_are_unrendered(value: str) -> None:
    assert unrendered(value)


@pytest.mark.parametrize(
    "value",
    [
        "nginx:1.27",
        "nvcr.io/nvidia/pytorch:24.05-py3",
        "localhost:5000/app@sha256:0123abcd",
        "ghcr.io/Org/App:V1",  # wrong (capitals), but no placeholder
        "quay.io/a/b:ME",
        "16GBs",
        "2 cores",
        "one",
        "",
    ],
)
def test_values_that_are_only_wrong_are_not_unrendered(value: str) -> None:
    assert not unrendered(value)


# ---------------------------------------------------------------------- images


@pytest.mark.parametrize(
    "image", ["{{ .Values.image }}", "${IMAGE}", "<your-registry>/vllm:<tag>", "REPLACE_ME"]
)
def test_a_templated_image_is_named_once_and_read_by_no_image_check(
    tmp_path: Path, image: str
) -> None:
    loaded = load(tmp_path, vllm(image=image))
    [problem] = loaded.diagnostics
    assert problem.level == Level.WARNING and problem.object == "Deployment/default/vllm"
    assert problem.line == 1 and problem.path and problem.path.endswith("manifests.yaml")
    assert problem.message == (
        f"{CONTAINER}.image: unrendered template value {json.dumps(image)}; image unknown"
    )
    [obj] = loaded.snapshots[0].objects("Deployment")
    assert isinstance(obj, Deployment), "kept, and typed"
    [container] = obj.spec.template.spec.containers
    assert container.image is None and container_gpu_request(container) == 1
    report = scan(loaded)
    about_image = [f for f in report.findings if "image" in f.check or image in f.message]
    assert about_image == [], [f.message for f in about_image]
    assert [d.message for d in report.diagnostics].count(problem.message) == 1


def test_an_image_that_is_only_text_in_args_is_left_alone(tmp_path: Path) -> None:
    """Template text in command, args or env values is the program's (KServe runtimes pass
    `--model_name={{.Name}}`, shells `$HOME`): not looked at."""
    loaded = load(
        tmp_path, vllm(args=["--model_name={{.Name}}", "$(POD_NAME)"], command=["sh", "-c", "$X"])
    )
    assert loaded.diagnostics == []


# ---------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("part", "name", "value", "expected"),
    [
        ("limits", "nvidia.com/gpu", "{{ .Values.gpus }}", "unrendered template value"),
        ("requests", "nvidia.com/gpu", "$GPUS", "unrendered template value"),
        ("limits", "nvidia.com/gpu", "GPU_COUNT", "unrendered template value"),
        ("limits", "nvidia.com/gpu", "one", "not a Kubernetes quantity:"),
        ("limits", "nvidia.com/mig-1g.10gb", "two", "not a Kubernetes quantity:"),
    ],
)
def test_a_gpu_amount_that_is_no_quantity_keeps_a_gpu_workload_of_unknown_count(
    tmp_path: Path, part: str, name: str, value: str, expected: str
) -> None:
    container = make_container("server", "vllm/vllm-openai:v0.6.3")
    container["resources"] = {part: {name: value}}
    loaded = load(tmp_path, make_deployment("vllm", containers=[container]))
    [problem] = loaded.diagnostics
    assert problem.message == (
        f"{CONTAINER}.resources.{part}.{name}: {expected} {json.dumps(value)}; GPU count unknown"
    )
    [snap] = loaded.snapshots
    [template] = snap.gpu_templates
    assert gpu_count_unknown(template.spec.containers)
    [inventory] = scan(loaded).clusters
    assert inventory.gpu_workloads == 1 and inventory.gpu_workloads_count_unknown == 1


@pytest.mark.parametrize(
    ("name", "value"), [("memory", "16GBs"), ("cpu", "2 cores"), ("memory", "{{ .Values.mem }}")]
)
def test_a_cpu_or_memory_amount_that_is_no_quantity_is_named(
    tmp_path: Path, name: str, value: str
) -> None:
    container = make_container()
    container["resources"] = {
        "limits": {name: value, "cpu": "1"} if name != "cpu" else {name: value}
    }
    loaded = load(tmp_path, make_deployment("web", containers=[container]))
    [problem] = loaded.diagnostics
    assert problem.message.startswith(f"{CONTAINER}.resources.limits.{name}: ")
    assert problem.message.endswith(f"{json.dumps(value)}; amount unknown")
    [obj] = loaded.snapshots[0].objects("Deployment")
    assert obj.spec.template.spec.containers[0].resources.limits[name] == value, "kept as is"


def test_quotas_and_nodes_name_their_bad_quantities(tmp_path: Path) -> None:
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "gpu", "namespace": "team"},
        "spec": {"hard": {"requests.nvidia.com/gpu": "{{ .Values.quota }}", "pods": "10"}},
    }
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "n1"},
        "status": {"capacity": {"nvidia.com/gpu": "8 GPUs"}, "allocatable": {"cpu": "7910m"}},
    }
    loaded = load(tmp_path, quota, node)
    assert sorted(messages(loaded.diagnostics)) == [
        'spec.hard.requests.nvidia.com/gpu: unrendered template value "{{ .Values.quota }}"; '
        "amount unknown",
        'status.capacity.nvidia.com/gpu: not a Kubernetes quantity: "8 GPUs"; GPU count unknown',
    ]


# ---------------------------------------------------------------------- typed fields


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("spec", "replicas"), "{{ .Values.replicaCount }}"),
        (("spec", "replicas"), "${REPLICAS}"),
        (("spec", "template", "spec", "hostNetwork"), "{{ .Values.hostNetwork }}"),
    ],
)
def test_a_typed_field_with_template_text_is_named_unrendered(
    tmp_path: Path, field: tuple[str, ...], value: str
) -> None:
    dep = vllm()
    target = dep
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    loaded = load(tmp_path, dep)
    [problem] = loaded.diagnostics
    assert problem.message == (
        f"{'.'.join(field)}: unrendered template value {json.dumps(value)}; read as not set"
    )
    [obj] = loaded.snapshots[0].objects("Deployment")
    assert isinstance(obj, Deployment)


def test_probe_and_job_counts_with_template_text(tmp_path: Path) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "train", "namespace": "ml"},
        "spec": {
            "parallelism": "$WORKERS",
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "t",
                            "image": "nvcr.io/nvidia/pytorch:24.05-py3",
                            "livenessProbe": {"periodSeconds": "{{ .Values.period }}"},
                        }
                    ]
                }
            },
        },
    }
    loaded = load(tmp_path, job)
    assert sorted(messages(loaded.diagnostics)) == [
        'spec.parallelism: unrendered template value "$WORKERS"; read as not set',
        "spec.template.spec.containers[0].livenessProbe.periodSeconds: unrendered template "
        'value "{{ .Values.period }}"; read as not set',
    ]


def test_a_wrong_type_that_is_no_template_keeps_its_message(tmp_path: Path) -> None:
    dep = vllm()
    dep["spec"]["replicas"] = "three"
    [problem] = load(tmp_path, dep).diagnostics
    assert problem.message.startswith("wrong field type at $.spec.replicas, field ignored")


# ---------------------------------------------------------------------- custom resources


def test_custom_workloads_name_the_path_in_their_own_shape(tmp_path: Path) -> None:
    pytorch = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "sft", "namespace": "research"},
        "spec": {
            "pytorchReplicaSpecs": {
                "Worker": {
                    "replicas": 2,
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "pytorch",
                                    "image": "<your-registry>/trainer:<tag>",
                                    "resources": {"limits": {"nvidia.com/gpu": "one"}},
                                }
                            ]
                        }
                    },
                }
            }
        },
    }
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "llm", "namespace": "serving"},
        "spec": {
            "predictor": {
                "model": {
                    "modelFormat": {"name": "huggingface"},
                    "image": "${REGISTRY}/kserve:latest",
                    "resources": {"limits": {"nvidia.com/gpu": "{{ .Values.gpus }}"}},
                }
            }
        },
    }
    loaded = load(tmp_path, pytorch, isvc)
    assert sorted(messages(loaded.diagnostics)) == [
        'spec.predictor.model.image: unrendered template value "${REGISTRY}/kserve:latest"; '
        "image unknown",
        "spec.predictor.model.resources.limits.nvidia.com/gpu: unrendered template value "
        '"{{ .Values.gpus }}"; GPU count unknown',
        "spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].image: unrendered "
        'template value "<your-registry>/trainer:<tag>"; image unknown',
        "spec.pytorchReplicaSpecs.Worker.template.spec.containers[0].resources.limits."
        'nvidia.com/gpu: not a Kubernetes quantity: "one"; GPU count unknown',
    ]
    [snap] = loaded.snapshots
    templates = {t.kind: t for t in snap.gpu_templates}
    assert set(templates) == {"PyTorchJob", "InferenceService"}, "both stay GPU workloads"
    assert all(c.image is None for t in templates.values() for c in t.spec.containers)
    report = scan(loaded)
    assert not [f for f in report.findings if "<tag>" in f.message or "${" in f.message]


def test_the_original_data_is_not_changed() -> None:
    """The image is left out of the object, not out of data anyone else holds."""
    from plumbob.model.objects import Origin
    from plumbob.sources.decode import ObjectDecoder

    job = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "sft"},
        "spec": {
            "pytorchReplicaSpecs": {
                "Worker": {"template": {"spec": {"containers": [{"image": "${IMAGE}"}]}}}
            }
        },
    }
    for data in (vllm(image="{{ .Values.image }}"), job):
        before = copy.deepcopy(data)
        obj = ObjectDecoder().from_data(data, Origin(file="x.yaml", line=1), nulls_dropped=True)
        assert obj is not None and data == before


def test_json_and_yaml_manifests_are_screened_alike(tmp_path: Path) -> None:
    """A manifest written as JSON takes the typed JSON decoder, not the YAML path: the same
    values are named."""
    dep = vllm(image="${IMAGE}")
    dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "2 cores"
    as_json = tmp_path / "d.json"
    as_json.write_text(json.dumps(dep))
    as_yaml = tmp_path / "d.yaml"
    as_yaml.write_text(yaml.safe_dump(dep))
    found = [messages(FileSource((path,)).load().diagnostics) for path in (as_json, as_yaml)]
    assert found[0] == found[1] and len(found[0]) == 2


def test_objects_read_from_a_cluster_are_not_screened(tmp_path: Path) -> None:
    """An object with a uid was accepted by an API server, which parsed its quantities: what
    its image says is what runs."""
    dep = vllm(image="REPLACE_ME")
    dep["metadata"]["uid"] = "0b7c5e9e-6c2f-4a47-9d0a-6f1f2b3c4d5e"
    loaded = load(tmp_path, dep)
    assert loaded.diagnostics == []
    [obj] = loaded.snapshots[0].objects("Deployment")
    assert isinstance(obj, Deployment)
    assert obj.spec.template.spec.containers[0].image == "REPLACE_ME"


# ---------------------------------------------------------------------- real templates


def test_a_sed_template_from_a_real_repository(tmp_path: Path) -> None:
    """tests/fixtures/unrendered/SOURCES.md: `image: CONTAINER_IMAGE`, `nvidia.com/gpu:
    GPU_COUNT`."""
    path = FIXTURES / "bert-deployment.yaml"
    loaded = FileSource((path,)).load()
    assert messages(loaded.diagnostics) == [
        f'{CONTAINER}.image: unrendered template value "CONTAINER_IMAGE"; image unknown',
        f"{CONTAINER}.resources.limits.nvidia.com/gpu: unrendered template value "
        '"GPU_COUNT"; GPU count unknown',
    ]
    report = scan(loaded)
    [inventory] = report.clusters
    assert (inventory.gpu_workloads, inventory.gpu_workloads_count_unknown) == (1, 1)
    assert not [f for f in report.findings if "CONTAINER_IMAGE" in f.message]


def test_an_envsubst_template_from_a_real_repository() -> None:
    loaded = FileSource((FIXTURES / "service-deployment.yaml",)).load()
    assert messages(loaded.diagnostics) == [
        f'{CONTAINER}.image: unrendered template value "${{IMAGE}}:${{TAG}}"; image unknown'
    ]
    assert not [f for f in scan(loaded).findings if "${IMAGE}" in f.message]


def test_real_manifests_have_no_false_alarms(real: Path) -> None:
    """Template text where it belongs in real manifests (a KServe runtime's `{{.Name}}`
    argument, Kyverno's `{{ element.image }}` expressions, shell `$VAR`s) is not named."""
    loaded = FileSource((real,)).load()
    found = [str(d) for d in loaded.diagnostics if "unrendered" in d.message]
    found += [str(d) for d in loaded.diagnostics if "not a Kubernetes quantity" in d.message]
    assert found == []
