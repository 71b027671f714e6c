"""The fast paths of reading: streamed Lists, in-place origins, the garbage-collector pause and
null dropping give the same objects and diagnostics as the plain paths."""

from __future__ import annotations

import gc
import gzip
import io
import json
from pathlib import Path

import msgspec
import pytest

from plumbob.model.collector import gc_paused
from plumbob.model.metrics import GpuMetrics
from plumbob.model.objects import GenericObject, Node, Origin, Pod
from plumbob.model.snapshot import Discovery, Snapshot
from plumbob.sources.decode import ObjectDecoder, drop_nulls
from plumbob.sources.files import FileReader, FileSource
from plumbob.sources.jsonstream import ListStream, NotStreamable
from plumbob.sources.snapshot_file import SnapshotFile, stream_snapshot, write_snapshot
from tests.conftest import make_container, make_node, make_pod


def _cluster(pods: int = 60) -> list[dict[str, object]]:
    items: list[dict[str, object]] = [make_node(f"n{i}", gpus=8 * (i % 2)) for i in range(3)]
    for i in range(pods):
        pod = make_pod(
            f"p{i}",
            node=f"n{i % 3}",
            containers=[make_container("a", gpus=i % 2), make_container("b")],
        )
        pod["metadata"]["ownerReferences"] = [  # type: ignore[index]
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1"},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs2", "uid": "u2"},
        ]
        items.append(pod)
    return items


def _read(path: Path, **stream: int) -> tuple[list[object], list[str]]:
    decoder = ObjectDecoder()
    result = FileReader(decoder, **stream).read(path)
    assert isinstance(result, list)
    return result, [str(d) for d in decoder.diagnostics]


@pytest.mark.parametrize("layout", ["kubectl", "compact", "lines"])
def test_streamed_list_gives_the_same_objects_as_whole_file(tmp_path: Path, layout: str) -> None:
    doc = {"apiVersion": "v1", "items": _cluster(), "kind": "List", "metadata": {}}
    if layout == "kubectl":
        text = json.dumps(doc, indent=4)
    elif layout == "compact":
        text = json.dumps(doc, separators=(",", ":"))
    else:
        text = (
            '{"apiVersion":"v1","kind":"List","metadata":{"resourceVersion":""},"items":['
            + ",\n".join(json.dumps(i) for i in doc["items"])
            + "]}"
        )  # type: ignore[attr-defined]
    f = tmp_path / "all.json"
    f.write_text(text)
    whole, whole_diags = _read(f)
    # tiny blocks: many cuts, and nested `},{"apiVersion"` (two owner references) to skip
    streamed, streamed_diags = _read(f, stream_above=0, block=512)
    assert streamed == whole
    assert streamed_diags == whole_diags
    assert len([o for o in streamed if isinstance(o, Pod)]) == 60
    assert all(isinstance(o, Node | Pod) for o in streamed)


def test_list_stream_batches_and_kind_after_items() -> None:
    items = _cluster(20)
    text = json.dumps({"apiVersion": "v1", "items": items, "kind": "PodList"}).encode()
    stream = ListStream(io.BytesIO(text[100:]), text[:100], block=256)
    batches = list(stream.batches())
    assert len(batches) > 2
    decoded = [msgspec.json.decode(raw) for batch in batches for raw in batch]
    assert decoded == items
    assert (stream.api_version, stream.kind) == ("v1", "PodList")


@pytest.mark.parametrize(
    "text",
    [
        b'{"metadata": {"a": {"b": 1}}, "items": [{"x": 1}]}',  # nested metadata first
        b'{"apiVersion": "v1", "items": [1, 2]}',  # items that are not objects
        b'[{"kind": "Pod"}]',
    ],
)
def test_not_streamable_layouts(text: bytes) -> None:
    with pytest.raises(NotStreamable):
        ListStream(io.BytesIO(b""), text)


def test_truncated_list_falls_back_to_the_whole_file_message(tmp_path: Path) -> None:
    text = json.dumps({"apiVersion": "v1", "items": _cluster(), "kind": "List"})
    f = tmp_path / "cut.json"
    f.write_text(text[: len(text) * 2 // 3])
    decoder = ObjectDecoder()
    assert FileReader(decoder, stream_above=0, block=512).read(f) is None
    whole = ObjectDecoder()
    assert FileReader(whole).read(f) is None
    messages = [str(d) for d in decoder.diagnostics]
    assert messages == [str(d) for d in whole.diagnostics]
    assert len(messages) == 1 and "malformed JSON" in messages[0]


@pytest.mark.parametrize("layout", ["list", "snapshot"])
def test_an_object_nested_past_what_json_decoding_takes_is_an_error_not_a_crash(
    tmp_path: Path, layout: str
) -> None:
    """msgspec stops at Python's recursion limit: that item is cut out alone, with one error
    naming the file and the item, and the items around it are read, streamed or not."""
    deep = '{"n":' * 5000 + "1" + "}" * 5000
    items = ",".join([*(json.dumps(i) for i in _cluster(20)), deep, json.dumps(make_pod("last"))])
    if layout == "list":
        text = '{"apiVersion":"v1","kind":"List","items":[' + items + "]}"
    else:
        text = '{"apiVersion":"plumbob.dev/v1","kind":"Snapshot","cluster":{"name":"c"},'
        text += '"objects":[' + items + "]}"
    f = tmp_path / "deep.json"
    f.write_text(text)
    streamed = FileReader(ObjectDecoder(), stream_above=0, block=64 * 1024)  # the item fits
    for reader in (streamed, FileReader(ObjectDecoder())):
        read = reader.read(f)
        objects = list(read.snapshot) if isinstance(read, SnapshotFile) else read
        assert objects is not None and len(objects) == len(_cluster(20)) + 1
        assert "last" in {o.name for o in objects}
        (problem,) = reader.decoder.diagnostics
        assert problem.path == str(f) and "nested too deeply" in problem.message
        assert f"item {len(_cluster(20))} skipped" in problem.message


def test_items_without_kind_streamed_before_a_trailing_list_kind(tmp_path: Path) -> None:
    nodes = [make_node(f"n{i}") for i in range(30)]
    for n in nodes:
        del n["kind"], n["apiVersion"]
    f = tmp_path / "x.json"
    f.write_text(json.dumps({"apiVersion": "v1", "items": nodes, "kind": "NodeList"}))
    streamed, diags = _read(f, stream_above=0, block=256)
    assert [o.name for o in streamed] == [f"n{i}" for i in range(30)]  # type: ignore[attr-defined]
    assert diags == []


def test_gzip_list_streams(tmp_path: Path) -> None:
    f = tmp_path / "all.json.gz"
    f.write_bytes(gzip.compress(json.dumps({"kind": "List", "items": _cluster()}).encode()))
    streamed, _ = _read(f, stream_above=0, block=300)
    assert len(streamed) == 63


def test_origin_is_set_without_copying() -> None:
    decoder = ObjectDecoder()
    origin = Origin(file="f.json")
    objs = decoder.from_raws(
        [msgspec.Raw(json.dumps(make_pod(f"p{i}")).encode()) for i in range(3)], origin
    )
    assert [o.origin for o in objs] == [origin] * 3
    assert all(o.origin is origin for o in objs)


def _general_path(raw: bytes) -> tuple[object, list[str]]:
    """Decode as if the object did not start with its apiVersion and kind."""
    decoder = ObjectDecoder()
    obj = decoder.from_raw(b" " + raw, Origin(file="f.json"))  # the lead pattern needs "{" first
    return obj, [d.message for d in decoder.diagnostics]


def _fast_path(raw: bytes) -> tuple[object, list[str]]:
    decoder = ObjectDecoder()
    obj = decoder.from_raw(raw, Origin(file="f.json"))
    return obj, [d.message for d in decoder.diagnostics]


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps(make_pod("p", containers=[make_container("a", gpus=1)])).encode(),
        msgspec.json.encode(make_node("n", gpus=8)),
        b'{ "apiVersion" : "v1" , "kind" : "Pod" , "metadata": {"name": "spaced"}}',
        b'{"apiVersion":"v1","kind":"Pod"}',
        # the last kind counts, as the general path reads it
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"kind":"ConfigMap"}',
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"apiVersion":"v2"}',
        # wrong field types: the lenient path drops the field and says so
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"nodeName":7}}',
        b'{"apiVersion":"v1","kind":"Event","metadata":{"name":"dropped"}}',
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"broken"',
        b'{"apiVersion":"","kind":"Pod","metadata":{"name":"no-version"}}',
        b'{"apiVersion":"v\xff1","kind":"Pod","metadata":{"name":"not-utf8"}}',
        # kinds without a model: read in one pass when nothing needs the dict path
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"d"},'
        b'"spec":{"ports":[{"port":80,"name":"http"}],"selector":{"app":"a"}},"status":{}}',
        b'{"apiVersion":"kubeflow.org/v1","kind":"PyTorchJob","metadata":{"name":"j"},'
        b'"spec":{"pytorchReplicaSpecs":{"Worker":{"replicas":2}}},"origin":{"file":"x.json"}}',
        b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"v"}}',
        # nulls (left out), other members (kept as extra), a Secret (values left out)
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","labels":null}}',
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},'
        b'"spec":{"clusterIP":null,"ports":[{"port":80}]}}',
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"a":"null"}}',
        b'{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"r"},'
        b'"rules":[{"verbs":["get"]}]}',
        b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"c2VjcmV0"}}',
        # metadata of the wrong type, no metadata, a kind given twice, deep nesting
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","labels":{"a":1}}}',
        # no apiVersion: a core kind gets its default, any other kind is reported
        b'{"apiVersion":"","kind":"Service","metadata":{"name":"s"}}',
        b'{"apiVersion":"","kind":"Widget","metadata":{"name":"w"}}',
        b'{"apiVersion":"v1","kind":"Service","spec":{}}',
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"kind":"Pod"}',
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":'
        + b'{"a":[' * 24
        + b"1"
        + b"]}" * 24
        + b"}",
        b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":'
        + b"[" * 120
        + b"]" * 120
        + b"}",
    ],
)
def test_objects_read_from_their_lead_match_the_general_path(raw: bytes) -> None:
    fast, general = _fast_path(raw), _general_path(raw)
    assert fast[0] == general[0]
    assert len(fast[1]) == len(general[1])


class _Untouchable:
    def decode(self, raw: object) -> None:
        raise AssertionError("read twice")


def _reading_once() -> ObjectDecoder:
    """A decoder that fails if it reads an object for its type before reading it whole."""
    decoder = ObjectDecoder()
    decoder._typemeta = _Untouchable()  # type: ignore[assignment]
    return decoder


def test_an_object_that_starts_with_its_type_is_read_once() -> None:
    pod = _reading_once().from_raw(json.dumps(make_pod("p")).encode(), Origin(file="f.json"))
    assert isinstance(pod, Pod) and pod.metadata.name == "p"


def test_an_object_without_a_model_is_read_once() -> None:
    raw = b'{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"x"}}'
    service = _reading_once().from_raw(raw, Origin(file="f.json"))
    assert isinstance(service, GenericObject) and service.spec == {"type": "x"}


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.unfreeze()


def test_drop_nulls_keeps_everything_else() -> None:
    data = {"a": None, "b": [1, None, {"c": None, "d": [{"e": None, "f": 0}]}], "g": {"h": ""}}
    assert drop_nulls(data) == {"b": [1, None, {"d": [{"f": 0}]}], "g": {"h": ""}}


def test_generic_object_skips_managed_fields(tmp_path: Path) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "s",
            "namespace": "d",
            "labels": {"a": "b"},
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"ports": [{"port": 80}]},
    }
    f = tmp_path / "svc.json"
    f.write_text(json.dumps(svc))
    snap = FileSource((f,)).load().snapshots[0]
    obj = snap.generic("Service")[0]
    assert obj.labels == {"a": "b"} and obj.spec == {"ports": [{"port": 80}]}
    assert "managedFields" not in obj.extra


def _snapshot_file(tmp_path: Path, name: str = "snap.json") -> Path:
    """A plumbob snapshot with every optional part, written as `plumbob snapshot` writes it."""
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": _cluster()}))
    snap = FileSource((listing,), cluster="c1").load().snapshots[0]
    full = Snapshot(
        cluster=snap.cluster,
        objects=list(snap),
        captured_at="2026-12-01T00:00:00Z",
        discovery=Discovery(group_versions=["v1", "apps/v1"]),
        not_visible={"Secret": "403 Forbidden"},
        gpu_metrics=GpuMetrics(source="http://prom:9090", window="24h"),
    )
    path = tmp_path / name
    write_snapshot(full, path)
    return path


def _read_snapshot(path: Path, **stream: int) -> tuple[Snapshot, list[str]]:
    decoder = ObjectDecoder()
    result = FileReader(decoder, **stream).read(path)
    assert isinstance(result, SnapshotFile)
    return result.snapshot, [str(d) for d in decoder.diagnostics]


@pytest.mark.parametrize("name", ["snap.json", "snap.json.gz"])
def test_streamed_snapshot_is_the_whole_file_snapshot(tmp_path: Path, name: str) -> None:
    path = _snapshot_file(tmp_path, name)
    whole, whole_diags = _read_snapshot(path)
    streamed, streamed_diags = _read_snapshot(path, stream_above=0, block=512)
    assert list(streamed) == list(whole) and len(list(streamed)) == 63
    for part in ("cluster", "captured_at", "discovery", "not_visible", "gpu_metrics"):
        assert getattr(streamed, part) == getattr(whole, part), part
    assert streamed.discovery is not None and streamed.gpu_metrics is not None
    assert streamed_diags == whole_diags


def test_snapshot_stream_reads_only_a_block_at_a_time(tmp_path: Path) -> None:
    """The objects come out in batches, never with the whole file in memory."""
    path = _snapshot_file(tmp_path)
    data = path.read_bytes()
    sizes: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            chunk = super().read(size)
            sizes.append(len(chunk))
            return chunk

    decoder = ObjectDecoder()
    got = stream_snapshot(Recording(data[512:]), data[:512], 512, Origin(file="x"), decoder)
    assert len(list(got.snapshot)) == 63
    assert len(sizes) > 10 and max(sizes) <= 512


@pytest.mark.parametrize("damage", ["truncated", "api version"])
def test_damaged_snapshot_gives_the_whole_file_message(tmp_path: Path, damage: str) -> None:
    path = _snapshot_file(tmp_path)
    text = path.read_text()
    if damage == "truncated":
        text = text[: len(text) * 2 // 3]
    else:
        text = text.replace("plumbob.dev/v1", "plumbob.dev/v9", 1)
    path.write_text(text)
    streamed = ObjectDecoder()
    assert FileReader(streamed, stream_above=0, block=512).read(path) is None
    whole = ObjectDecoder()
    assert FileReader(whole).read(path) is None
    messages = [str(d) for d in streamed.diagnostics]
    assert messages == [str(d) for d in whole.diagnostics]
    assert len(messages) == 1
    assert ("malformed JSON" if damage == "truncated" else "unsupported snapshot") in messages[0]
