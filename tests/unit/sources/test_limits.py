"""Reading what others control, bounded: the input cap, special files, byte order marks, one
bad List item, credential-looking values, quantities Kubernetes refuses."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path

import msgspec
import pytest

from plumbob.model.objects import Deployment
from plumbob.model.quantity import count_or_zero, is_negative
from plumbob.sources.files import from_bom, read_bytes
from plumbob.sources.jsonstream import prune_items
from plumbob.sources.kube_redact import REDACTED, is_credential, looks_secret, redact, scrub
from plumbob.sources.limits import TooLarge, gunzip, max_input_bytes, special_file


def _bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b" " * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


def test_gunzip_stops_at_the_cap_as_it_reads() -> None:
    bomb = _bomb(64 << 20)
    assert len(bomb) < 1 << 20
    with pytest.raises(TooLarge, match="PLUMBOB_MAX_INPUT_MB"):
        gunzip(bomb, limit=8 << 20)
    assert len(gunzip(bomb, limit=65 << 20)) == 64 << 20
    assert gunzip(gzip.compress(b"a") + gzip.compress(b"b")) == b"ab"
    with pytest.raises(EOFError):
        gunzip(gzip.compress(b"x" * 1000)[:-12])


def test_the_cap_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert max_input_bytes() == 2048 << 20
    monkeypatch.setenv("PLUMBOB_MAX_INPUT_MB", "5")
    assert max_input_bytes() == 5 << 20
    monkeypatch.setenv("PLUMBOB_MAX_INPUT_MB", "-1")
    assert max_input_bytes() == 2048 << 20


def test_special_files_are_named_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert special_file(fifo) == "a FIFO (named pipe)"
    assert special_file(Path("/dev/zero")) == "a device"
    assert special_file(tmp_path) is None
    with pytest.raises(ValueError, match="FIFO"):
        read_bytes(fifo)  # would block forever if it opened the FIFO


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_text_with_a_byte_order_mark_is_read_as_utf8(codec: str) -> None:
    text = "kind: Node # café\n"
    assert from_bom(("\ufeff" + text).encode(codec)) == text.encode()
    assert from_bom(b"\xff\xfe\x00") == b"\xff\xfe\x00"  # not UTF-16 at all: left alone


def test_one_bad_item_is_pruned_alone() -> None:
    good = json.dumps({"kind": "Node", "metadata": {"name": "a"}})
    deep = '{"a":' * 100000 + "1" + "}" * 100000
    text = '{"apiVersion":"v1","kind":"List","items":[' + ",".join(
        [good, deep, '{"n":"\\ud800"}', '{"s":"b\xff"}'.replace("\xff", "\\u00ff"), good]
    )
    pruned = prune_items((text + "]}").encode())
    assert pruned is not None
    assert [i for i, _ in pruned.dropped] == [1, 2]
    assert "nested too deeply" in pruned.dropped[0][1]
    assert "lone surrogate escape (\\ud800)" in pruned.dropped[1][1]
    assert len(json.loads(pruned.text)["items"]) == 3
    assert prune_items(b'{"kind":"List","items":[{}') is None  # never ends


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "nvapi-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcdEFGH",
        "--token ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbHVtYm9iIn0.c2lnbmF0dXJlLW9m",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nabc",
        "postgresql://trainer:pw@db:5432/runs",
    ],
)
def test_credentials_are_found_by_their_shape(value: str) -> None:
    assert looks_secret(value) and is_credential("MODEL_SOURCE", value)


@pytest.mark.parametrize(
    "value", ["nvcr.io/nvidia/pytorch:24.01-py3", "https://huggingface.co/meta-llama", "s3://b/k"]
)
def test_ordinary_values_are_kept(value: str) -> None:
    assert not looks_secret(value)


def test_arguments_labels_and_annotations_keep_their_text_without_the_credential() -> None:
    token = "hf_" + "a1B2" * 9
    url = "postgresql://scanner:s3cr3t-pass@db.internal:5432/plumbob"
    deployment = msgspec.convert(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "vllm",
                "labels": {"app": "vllm"},
                "annotations": {"example.com/model-source": f"token {token}", "team": "llm"},
            },
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {
                                "name": "vllm",
                                "command": ["vllm", "serve", "Qwen/Qwen3-8B"],
                                "args": [f"--hf-token={token}", f"--store={url}", "--port=8000"],
                            }
                        ]
                    }
                }
            },
        },
        Deployment,
    )
    out = redact(deployment)
    assert isinstance(out, Deployment)
    (container,) = out.spec.template.spec.containers
    assert container.args == [
        f"--hf-token={REDACTED}",
        f"--store=postgresql://scanner:{REDACTED}@db.internal:5432/plumbob",
        "--port=8000",
    ]
    assert container.command == ["vllm", "serve", "Qwen/Qwen3-8B"]
    assert out.metadata.annotations == {
        "example.com/model-source": f"token {REDACTED}",
        "team": "llm",
    }
    assert out.metadata.labels == {"app": "vllm"}
    clean = scrub("nvcr.io/nvidia/pytorch:24.01-py3")
    assert clean == "nvcr.io/nvidia/pytorch:24.01-py3"


@pytest.mark.parametrize("value", ["-8", "\u0663", "\uff11\uff10", "\u00b2", "-1"])
def test_counts_kubernetes_refuses_are_no_count(value: str) -> None:
    assert count_or_zero(value) == 0.0
    assert is_negative(value) == value.startswith("-")
    assert count_or_zero("8") == 8.0
