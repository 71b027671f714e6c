"""The test services' contract: a missing service skips with its reason locally and fails under
CI, so a broken build cannot pass as skipped tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import service_dir


def test_a_running_service_is_found(tmp_path: Path) -> None:
    folder = tmp_path / ".services" / "kube"
    folder.mkdir(parents=True)
    (folder / "plumbob.kubeconfig").write_text("x")
    assert service_dir("kube", "plumbob.kubeconfig", root=tmp_path) == folder


def test_the_recorded_reason_is_the_skip_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    folder = tmp_path / ".services" / "kube"
    folder.mkdir(parents=True)
    (folder / "unavailable").write_text("go not installed: the API server is built with Go\n")
    with pytest.raises(pytest.skip.Exception, match="go not installed: the API server"):
        service_dir("kube", "plumbob.kubeconfig", root=tmp_path)


def test_a_missing_tool_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-tool-xyz is not installed"):
        service_dir("kube", "ready", tools=("sh", "no-such-tool-xyz"), root=tmp_path)


def test_under_ci_a_missing_service_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"absent \(run tests/services/start\.sh\)"):
        service_dir("kube", "plumbob.kubeconfig", root=tmp_path)
