"""The demo fleet's planted compat and scaling defects are found, and nothing else of those
categories fires at high severity on subjects that were not planted."""

from __future__ import annotations

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.report.model import Severity
from plumbob.sources.demo import DemoSource, DemoSpec
from plumbob.sources.demo.planted import planted

MINE = ("compat", "scaling")


def test_demo_compat_and_scaling_defects_found() -> None:
    spec = DemoSpec()
    loaded = DemoSource(spec).load()
    report = engine.run(loaded.snapshots, Registry.discover(), Config(only=list(MINE)))
    found = {
        (f.check, f.subject.kind, f.subject.namespace, f.subject.name) for f in report.findings
    }
    wanted = {
        (p.check, p.kind, p.namespace, p.name)
        for p in planted(spec)
        if p.check in {c.id for c in Registry.discover() if c.category in MINE}
    }
    assert {c for c, *_ in wanted} >= {"cuda-driver-mismatch", "gpu-hpa-cpu-only"}
    assert wanted <= found, wanted - found
    unplanted_high = [
        f
        for f in report.findings
        if f.severity.at_least(Severity.HIGH)
        and (f.check, f.subject.kind, f.subject.namespace, f.subject.name) not in wanted
    ]
    assert not unplanted_high, [f.message for f in unplanted_high]
    mismatch = next(f for f in report.findings if f.check == "cuda-driver-mismatch")
    assert mismatch.evidence["cuda"] == "12.4.1"
    assert [n["driver"] for n in mismatch.evidence["nodes"]] == ["535.216.01"]
