"""A finding about a workload carries its role and the evidence, in the JSON report and in the
terminal report."""

from __future__ import annotations

import io

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.render import table
from tests.conftest import make_container, make_deployment, snapshot_of

REGISTRY = Registry.discover()


def test_role_in_evidence_and_table() -> None:
    llm = make_deployment(
        "llm",
        "ml",
        replicas=3,
        containers=[make_container("vllm", "vllm/vllm-openai:v0.6.3", gpus=1)],
    )
    snap = snapshot_of(llm, cluster="lab")
    report = engine.run(
        [snap],
        REGISTRY,
        Config(only=["gpu-inference-no-pdb", "gpu-namespace-without-quota"]),
    )
    pdb = next(f for f in report.findings if f.check == "gpu-inference-no-pdb")
    assert pdb.evidence["role"] == "serving"
    assert pdb.evidence["roleEvidence"] == ["image vllm/vllm-openai:v0.6.3 is a vLLM server"]
    quota = next(f for f in report.findings if f.check == "gpu-namespace-without-quota")
    assert "role" not in quota.evidence  # a namespace has no role
    out = io.StringIO()
    table.render(report, out, width=200)
    assert "role: serving (image vllm/vllm-openai:v0.6.3 is a vLLM server)" in out.getvalue()
