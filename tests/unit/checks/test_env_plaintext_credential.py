"""env-plaintext-credential: which literal env values are credentials, and that no report ever
carries one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from plumbob.knowledge.credentials import (
    CAPTURE_REDACTED,
    credential_facts,
    credential_name,
    literal_credential,
)
from plumbob.sources.kube_redact import REDACTED

FIXTURES = Path(__file__).parents[2] / "checks" / "policy" / "env-plaintext-credential"


@pytest.mark.parametrize(
    ("name", "value", "basis"),
    [
        ("HF_TOKEN", "hf_EXAMPLEexampleEXAMPLEexampleEXAMPLE", "format"),
        ("HUGGING_FACE_HUB_TOKEN", "not-in-a-known-format", "name"),
        ("NGC_API_KEY", "nvapi-L61Y", "name"),
        ("SOME_VAR", "nvapi-EXAMPLEexampleEXAMPLEexample1234", "format"),
        ("LOGIN", "AKIAIOSFODNN7EXAMPLE", "format"),
        ("DATABASE_URL", "postgresql://mlflow:secret-pw@db:5432/mlflow", "format"),
        ("REDIS_URL", "redis://:secret-pw@redis:6379/0", "format"),
        ("TLS_KEY", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "format"),
        ("MINIO_ROOT_PASSWORD", "minio123", "name-word"),
        ("POSTGRES_PASSWORD", "123456", "name-word"),
        ("CLIENT_SECRET", "s3cr3t", "name-word"),
        ("STRIPE_API_KEY", "rk_live_abc", "name-word"),
        ("S3_ACCESS_KEY_ID", "minio", "name-word"),
        ("ELASTIC_PASSWORD", "changeme", "name-word"),
    ],
)
def test_credentials(name: str, value: str, basis: str) -> None:
    found = literal_credential(name, value)
    assert found is not None and found.basis == basis
    assert value not in found.what and value not in found.source


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_INPUT_TOKENS", "2048"),  # TGI's token counts (a real manifest's, see SOURCES.md)
        ("MAX_BATCH_PREFILL_TOKENS", "4096"),
        ("TOKENIZERS_PARALLELISM", "false"),
        ("EOS_TOKEN", "</s>"),
        ("PAD_TOKEN", "[PAD]"),
        ("HF_TOKEN_PATH", "/var/run/secrets/hf/token"),
        ("API_KEY_SECRET_NAME", "tgi-api-key"),
        ("TOKEN_TTL", "3600"),
        ("API_KEY", "12"),
        ("CACHE_KEY", "model-cache-v2"),
        ("ROUTING_KEY", "jobs.gpu"),
        ("PUBLIC_KEY", "ssh-ed25519 AAAA"),
        ("NODE_LABEL_KEY", "nvidia.com/gpu.product"),
        ("HF_TOKEN", ""),
        ("HF_TOKEN", "   "),
        ("HF_TOKEN", "<token> or"),
        ("HF_TOKEN", "<your-hf-token>"),
        ("HF_TOKEN", "$HF_TOKEN"),
        ("HF_TOKEN", "${HF_TOKEN}"),
        ("HF_TOKEN", "$(HF_TOKEN_FROM_SECRET)"),
        ("HF_TOKEN", "{{ .Values.hfToken }}"),
        ("HF_TOKEN", "hf_xxxxxxxxxxxxxxxx"),
        ("OPENAI_API_KEY", "sk-..."),
        ("AWS_SECRET_ACCESS_KEY", "YOUR_SECRET_ACCESS_KEY"),
        ("DB_PASSWORD", "REPLACE_ME"),
        ("DB_PASSWORD", "****"),
        ("DATABASE_URL", "postgresql://$(DB_USER):$(DB_PASSWORD)@db:5432/app"),
        ("DATABASE_URL", "postgresql://db:5432/app"),
        ("MODEL_ID", "meta-llama/Meta-Llama-3-8B-Instruct"),
        # from the shared real openshift-insights-archive-sample dump
        ("CONFIG_KEY", "REMOTE"),
        ("HANA_VFLOW_USER_PASSWORD_SECRET_FILENAME", "password"),
    ],
)
def test_not_credentials(name: str, value: str) -> None:
    assert literal_credential(name, value) is None


def test_every_known_name_is_a_credential_name() -> None:
    for name in credential_facts().names:
        assert credential_name(name) is not None


def test_a_value_the_live_capture_hid_is_reported_without_it() -> None:
    """A live capture replaces credential-looking literal values (sources/kube_redact.py); the
    check still reports them, by name, when its own rules call the name a credential's."""
    assert CAPTURE_REDACTED == REDACTED
    found = literal_credential("HF_TOKEN", REDACTED)
    assert found is not None and found.basis == "redacted"
    assert "capture hid" in found.what
    # kube_redact hides any *KEY*/*TOKEN* value; a token count is not a credential here either.
    assert literal_credential("MAX_INPUT_TOKENS", REDACTED) is None


def _secret_values() -> list[str]:
    """The literal values in the trigger fixtures that the check calls credentials."""
    values: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            env = node.get("env")
            if isinstance(env, list):
                values.extend(
                    var["value"]
                    for var in env
                    if isinstance(var, dict)
                    and isinstance(var.get("value"), str)
                    and literal_credential(str(var.get("name")), var["value"]) is not None
                )
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for path in sorted(FIXTURES.glob("trigger-*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            walk(doc)
    return values


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_no_report_carries_a_credential(fmt: str, tmp_path: Path) -> None:
    """Every check runs on the trigger fixtures (so the values also pass through role evidence,
    other checks' messages and diagnostics); neither the report nor the terminal output nor
    stderr holds a value the check calls a credential."""
    values = _secret_values()
    assert len(values) >= 8
    out = tmp_path / f"report.{fmt}"
    result = subprocess.run(
        [sys.executable, "-m", "plumbob", "scan", str(FIXTURES), "--format", fmt, "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"CI": "1", "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert result.returncode in (0, 1), result.stderr
    text = out.read_text() + result.stdout + result.stderr
    assert "env-plaintext-credential" in text
    leaked = [v for v in values if v in text]
    assert not leaked, f"credential values in the {fmt} output: {len(leaked)}"
