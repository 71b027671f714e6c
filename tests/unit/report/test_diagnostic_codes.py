"""Every diagnostic carries a stable code: callers filter on it, never on the message text."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.report.docs import _field_docs
from plumbob.report.model import Diagnostic, DiagnosticCode, Level
from plumbob.sources.files import FileSource
from tests.conftest import snapshot_of

REGISTRY = Registry.discover()

FILES: dict[str, tuple[bytes, set[DiagnosticCode]]] = {
    "empty.yaml": (b"  \n", {DiagnosticCode.FILE_EMPTY}),
    "binary.yaml": (b"\x00\x01\x02kind: Pod\x00", {DiagnosticCode.NOT_KUBERNETES_DATA}),
    "prose.txt": (b"just some notes\nabout the cluster\n", {DiagnosticCode.NOT_KUBERNETES_DATA}),
    "broken.yaml": (
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
        {DiagnosticCode.YAML_INVALID},
    ),
    "broken.json": (b'{"apiVersion": "v1", "kind": "Pod",', {DiagnosticCode.JSON_INVALID}),
    "helm.yaml": (
        b"apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
        {DiagnosticCode.UNRENDERED_TEMPLATE},
    ),
    "scalar.yaml": (b"apiVersion: v1\nkind: Pod\nmetadata: 3\n", {DiagnosticCode.NOT_AN_OBJECT}),
    "array.json": (b"[1, 2]", {DiagnosticCode.NOT_AN_OBJECT}),
    "latin1.yaml": (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
        {DiagnosticCode.NOT_UTF8},
    ),
    "snapshot.json": (
        b'{"apiVersion": "plumbob.dev/v0", "kind": "Snapshot"}',
        {DiagnosticCode.SNAPSHOT_INVALID},
    ),
    "pod.yaml": (
        b"""apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ml}
spec:
  containers:
    - name: c
      image: "{{ .Values.image }}"
      readinessProbe: {periodSeconds: "ten"}
      resources: {limits: {nvidia.com/gpu: one}}
""",
        {
            DiagnosticCode.UNRENDERED_TEMPLATE,
            DiagnosticCode.WRONG_FIELD_TYPE,
            DiagnosticCode.NOT_A_QUANTITY,
        },
    ),
}


def _codes_by_file(diagnostics: list[Diagnostic]) -> dict[str, frozenset[DiagnosticCode]]:
    out: dict[str, set[DiagnosticCode]] = {}
    for d in diagnostics:
        out.setdefault(Path(d.path or "").name, set()).add(d.code)
    return {name: frozenset(codes) for name, codes in out.items()}


def test_file_problems_carry_their_codes(tmp_path: Path) -> None:
    for name, (data, _) in FILES.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "fine.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n")
    (tmp_path / "again.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: ml}\n")
    (tmp_path / "bad.json.gz").write_bytes(gzip.compress(b"{}")[:12])
    loaded = FileSource((tmp_path, tmp_path / "missing.yaml")).load()
    got = _codes_by_file(loaded.diagnostics)
    for name, (_, codes) in FILES.items():
        assert got.get(name) == codes, name
    copies = {got.get("fine.yaml"), got.get("again.yaml")}
    assert copies == {None, frozenset({DiagnosticCode.DUPLICATE_OBJECT})}
    assert got["bad.json.gz"] == {DiagnosticCode.FILE_UNREADABLE}
    assert got["missing.yaml"] == {DiagnosticCode.FILE_NOT_FOUND}


def test_engine_diagnostics_carry_their_codes() -> None:
    def broken(snap: object) -> Iterator[object]:
        raise RuntimeError("boom")
        yield

    check = REGISTRY.get("gpu-node-untainted")
    assert check is not None
    failing = Registry([_replace_fn(check, broken)])
    report = engine.run(
        [snapshot_of()],
        failing,
        Config(options={"gpu-node-untainted": {"nope": 1}}),
    )
    codes = {d.code: d.level for d in report.diagnostics}
    assert codes == {
        DiagnosticCode.CHECK_FAILED: Level.ERROR,
        DiagnosticCode.OPTION_UNKNOWN: Level.WARNING,
    }
    report = engine.run(
        [snapshot_of()],
        REGISTRY,
        Config(only=["image-large-gpu"], options={"image-large-gpu": {"threshold-gb": "x"}}),
    )
    assert [d.code for d in report.diagnostics] == [DiagnosticCode.OPTION_UNUSABLE]


def _replace_fn(check: object, fn: object) -> object:
    import dataclasses

    return dataclasses.replace(check, fn=fn, wants_context=False)  # type: ignore[type-var]


@pytest.mark.parametrize("code", list(DiagnosticCode))
def test_every_code_is_kebab_case_and_documented(code: DiagnosticCode) -> None:
    assert code.value == code.name.lower().replace("_", "-")
    assert _field_docs(DiagnosticCode).get(code.name), f"{code.name} needs a docstring"
