"""File sources: every input format, and every kind of bad input becoming a diagnostic."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from plumbob.model.objects import Deployment, GenericObject, Node, Pod
from plumbob.report.model import Level
from plumbob.sources.files import FileSource
from plumbob.sources.interface import Loaded, SourceError
from plumbob.sources.snapshot_file import write_snapshot
from tests.conftest import make_deployment, make_node, make_pod, snapshot_of


def load(*paths: Path) -> Loaded:
    return FileSource(tuple(paths)).load()


def messages(loaded: Loaded) -> list[str]:
    return [str(d) for d in loaded.diagnostics]


def test_kubectl_json_list(tmp_path: Path) -> None:
    f = tmp_path / "nodes.json"
    f.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "NodeList",
                "items": [make_node("a", gpus=8), make_node("b")],
            }
        )
    )
    snap = load(f).snapshots[0]
    assert [n.name for n in snap.nodes] == ["a", "b"]
    assert isinstance(snap.nodes[0], Node)
    assert snap.node_gpus["a"].allocatable == 8
    assert snap.nodes[0].origin is not None and snap.nodes[0].origin.file == str(f)


def test_items_without_kind_take_it_from_the_list_kind(tmp_path: Path) -> None:
    node = make_node("a")
    del node["kind"], node["apiVersion"]
    f = tmp_path / "x.json"
    f.write_text(json.dumps({"kind": "NodeList", "apiVersion": "v1", "items": [node]}))
    assert load(f).snapshots[0].nodes[0].name == "a"


def test_single_object_json_and_gzip(tmp_path: Path) -> None:
    f = tmp_path / "pod.json.gz"
    f.write_bytes(gzip.compress(json.dumps(make_pod("p")).encode()))
    snap = load(f).snapshots[0]
    assert isinstance(snap.pods[0], Pod)


def test_multi_document_yaml_keeps_lines(tmp_path: Path) -> None:
    f = tmp_path / "all.yaml"
    f.write_text(
        "# comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n"
        "spec:\n  template:\n    spec:\n      containers: [{name: c, image: nginx}]\n"
    )
    snap = load(f).snapshots[0]
    dep = snap.objects("Deployment")[0]
    assert isinstance(dep, Deployment)
    assert dep.origin is not None and dep.origin.line == 7
    assert snap.objects("Namespace")[0].origin.line == 3  # type: ignore[union-attr]


def test_yaml_list_items_get_their_own_lines(tmp_path: Path) -> None:
    f = tmp_path / "list.yaml"
    f.write_text(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n"
        "  metadata: {name: a}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n"
    )
    pods = load(f).snapshots[0].pods
    assert [(p.name, p.origin.line) for p in pods] == [("a", 4), ("b", 7)]  # type: ignore[union-attr]


def test_directory_tree_recursive(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "dep.yml").write_text(json.dumps(make_deployment("d")))
    (tmp_path / "a" / "node.json").write_text(json.dumps(make_node("n")))
    (tmp_path / "README.md").write_text("not a manifest")
    snap = load(tmp_path).snapshots[0]
    assert sorted(snap.kinds) == ["Deployment", "Node"]


def test_unknown_kinds_are_kept_generic(tmp_path: Path) -> None:
    f = tmp_path / "crd.yaml"
    f.write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
        "spec: {size: 3}\nextraTop: 1\n"
    )
    obj = load(f).snapshots[0].objects("Widget")[0]
    assert isinstance(obj, GenericObject)
    assert obj.spec == {"size": 3} and obj.extra == {"extraTop": 1}


def test_volcano_job_does_not_collide_with_batch_job(tmp_path: Path) -> None:
    f = tmp_path / "vc.yaml"
    f.write_text(
        "apiVersion: batch.volcano.sh/v1alpha1\nkind: Job\nmetadata: {name: v}\nspec: {tasks: []}\n"
    )
    snap = load(f).snapshots[0]
    assert snap.objects("Job") == ()
    assert len(snap.objects("Job.batch.volcano.sh")) == 1


def test_snapshot_file_round_trip(tmp_path: Path) -> None:
    snap = snapshot_of(
        make_node("n", gpus=4),
        make_pod("p", node="n"),
        {
            "apiVersion": "x.io/v1",
            "kind": "Thing",
            "metadata": {"name": "t"},
            "spec": {"a": 1},
            "other": [1],
        },
        cluster="prod",
    )
    for name in ("snap.json", "snap.json.gz"):
        path = tmp_path / name
        write_snapshot(snap, path)
        back = load(path).snapshots[0]
        assert back.cluster.name == "prod"
        assert sorted(back.kinds) == sorted(snap.kinds)
        assert back.nodes == snap.nodes
        assert back.pods == snap.pods
        assert back.objects("Thing") == snap.objects("Thing")


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.yaml", "apiVersion: v1\nkind: Pod\n  metadata: x: y\n", "invalid YAML"),
        ("broken.json", '{"apiVersion": "v1", "kind": ', "malformed JSON"),
        ("empty.yaml", "", "empty file"),
        ("blank.json", "   \n", "empty file"),
        ("values.yaml", "replicaCount: 2\nimage: {tag: x}\n", "not a Kubernetes object"),
        ("scalar.yaml", "just a string\n", "not a Kubernetes object"),
        ("nokind.json", '{"apiVersion": "v1", "metadata": {"name": "x"}}', "no kind"),
        (
            "truncated.json",
            '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1",',
            "malformed JSON",
        ),
        ("python.yaml", "!!python/object/apply:os.system ['echo hacked']\n", "invalid YAML"),
    ],
)
def test_bad_files_become_diagnostics(
    tmp_path: Path, name: str, content: str, expected: str
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(json.dumps(make_node("ok")))
    bad = tmp_path / name
    bad.write_text(content)
    loaded = load(tmp_path)
    assert [n.name for n in loaded.snapshots[0].nodes] == ["ok"], "the rest must still load"
    found = [d for d in loaded.diagnostics if d.path == str(bad)]
    assert found and expected in found[0].message, messages(loaded)


def test_wrong_field_type_names_the_field(tmp_path: Path) -> None:
    dep = make_deployment("d")
    dep["spec"]["replicas"] = "three"
    f = tmp_path / "d.yaml"
    f.write_text(json.dumps(dep))
    loaded = load(f)
    [d] = loaded.diagnostics
    assert "spec.replicas" in d.message and d.object == "Deployment/default/d"
    assert loaded.snapshots[0].objects("Deployment"), "the object is kept"


def test_wrong_field_type_drops_only_that_field(tmp_path: Path) -> None:
    dep = make_deployment("d")
    container = dep["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"] = {"httpGet": {"path": "/h", "port": 80}, "periodSeconds": "ten"}
    container["ports"] = [{"containerPort": 80}, "not-a-port"]
    f = tmp_path / "d.json"
    f.write_text(json.dumps(dep))
    loaded = load(f)
    messages = sorted(d.message for d in loaded.diagnostics)
    assert len(messages) == 2, messages
    assert any(
        "$.spec.template.spec.containers[0].livenessProbe.periodSeconds" in m for m in messages
    )
    assert any("$.spec.template.spec.containers[0].ports[1]" in m for m in messages)
    [obj] = loaded.snapshots[0].objects("Deployment")
    assert isinstance(obj, Deployment), "still typed, so every workload check sees it"
    [kept] = obj.spec.template.spec.containers
    assert kept.liveness_probe is not None and kept.liveness_probe.period_seconds is None
    assert [p.container_port for p in kept.ports] == [80]


def test_unquoted_label_and_selector_values_drop_only_those_entries(tmp_path: Path) -> None:
    """`version: 2` or `gpu.present: true` written unquoted: Kubernetes wants strings. The
    entries are left out, named, and the workload stays typed for every check."""
    f = tmp_path / "d.yaml"
    f.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: llm\n"
        "  labels: {app: llm, version: 2, tier: gpu}\n"
        "spec:\n  selector: {matchLabels: {app: llm}}\n  template:\n"
        "    metadata: {labels: {app: llm}}\n    spec:\n"
        "      nodeSelector: {nvidia.com/gpu.present: true, pool: h100}\n"
        "      containers: [{name: server, image: 'vllm/vllm-openai:v0.6.3'}]\n"
    )
    loaded = load(f)
    messages = sorted(d.message for d in loaded.diagnostics)
    assert messages == [
        "wrong field type at $.metadata.labels[...], values of version ignored: "
        "Expected `str`, got `int`",
        "wrong field type at $.spec.template.spec.nodeSelector[...], values of "
        "nvidia.com/gpu.present ignored: Expected `str`, got `bool`",
    ]
    [obj] = loaded.snapshots[0].objects("Deployment")
    assert isinstance(obj, Deployment)
    assert obj.labels == {"app": "llm", "tier": "gpu"}
    assert obj.spec.template.spec.node_selector == {"pool": "h100"}


def test_a_custom_resource_keeps_its_metadata_without_the_bad_entries(tmp_path: Path) -> None:
    f = tmp_path / "job.yaml"
    f.write_text(
        "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nmetadata:\n  name: sft\n"
        "  namespace: research\n  labels: {team: nlp, priority: 1}\nspec: {}\n"
    )
    loaded = load(f)
    [d] = loaded.diagnostics
    assert d.level == "warning" and d.object == "PyTorchJob/research/sft"
    assert "$.metadata.labels[...], values of priority ignored" in d.message
    [job] = loaded.snapshots[0].objects("PyTorchJob")
    assert job.labels == {"team": "nlp"}


def test_a_mapping_of_the_wrong_kind_of_values_is_ignored_whole(tmp_path: Path) -> None:
    node = make_node("n1", gpus=8)
    node["status"]["allocatable"] = {"cpu": "8", "nvidia.com/gpu": {"count": 8}}
    f = tmp_path / "n.json"
    f.write_text(json.dumps(node))
    loaded = load(f)
    [d] = loaded.diagnostics
    assert "$.status.allocatable[...], field ignored" in d.message
    [kept] = loaded.snapshots[0].nodes
    assert kept.name == "n1" and kept.status.allocatable == {}


def test_null_fields_are_absent(tmp_path: Path) -> None:
    f = tmp_path / "n.yaml"
    f.write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations:\nspec:\n  ports:\n"
    )
    loaded = load(f)
    assert not loaded.diagnostics
    assert loaded.snapshots[0].objects("Service")[0].name == "s"


def test_binary_file(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(json.dumps(make_node("ok")))
    (tmp_path / "blob.json").write_bytes(b"\x00\x01\x02garbage\xff" * 10)
    loaded = load(tmp_path)
    assert any("binary" in d.message for d in loaded.diagnostics)


def test_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(json.dumps(make_node("ok")))
    (tmp_path / "latin.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    loaded = load(tmp_path)
    assert any(d.path and d.path.endswith("latin.yaml") for d in loaded.diagnostics)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(json.dumps(make_node("ok")))
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: v1\n")
    secret.chmod(0)
    assert any("cannot read" in m for m in messages(load(tmp_path)))


def test_unreadable_path_as_root_or_not(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(json.dumps(make_node("ok")))
    loaded = FileSource((tmp_path, tmp_path / "missing.yaml")).load()
    assert any("no such file" in m for m in messages(loaded))


def test_symlink_loop_and_broken_link(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ok.yaml").write_text(json.dumps(make_node("ok")))
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    (tmp_path / "d" / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    loaded = load(tmp_path)
    assert [n.name for n in loaded.snapshots[0].nodes] == ["ok"]
    text = " ".join(messages(loaded))
    assert "symlink loop" in text and "broken symlink" in text


def test_nothing_readable_raises_source_error(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(SourceError, match="nothing readable"):
        load(tmp_path)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
        "data:\n" + "\n".join("  " + s for s in lines) + "\n"
    )
    (tmp_path / "ok.yaml").write_text(json.dumps(make_node("ok")))
    loaded = load(tmp_path)
    assert any("alias bomb" in m for m in messages(loaded))


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    (tmp_path / "rec.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: r}\ndata: &x {self: *x}\n"
    )
    (tmp_path / "ok.yaml").write_text(json.dumps(make_node("ok")))
    loaded = load(tmp_path)
    assert any(d.path and d.path.endswith("rec.yaml") for d in loaded.diagnostics)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    depth = 5000
    (tmp_path / "deep.yaml").write_text("a: " + "[" * depth + "]" * depth + "\n")
    (tmp_path / "deep.json").write_text('{"a": ' + "[" * depth + "]" * depth + "}")
    (tmp_path / "ok.yaml").write_text(json.dumps(make_node("ok")))
    loaded = load(tmp_path)
    bad = {Path(d.path).name for d in loaded.diagnostics if d.path}
    assert {"deep.yaml", "deep.json"} <= bad, messages(loaded)
    assert all(d.level in (Level.ERROR, Level.WARNING) for d in loaded.diagnostics)
