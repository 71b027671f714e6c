"""Version keys, expected-value specs and kubelet skew."""

from __future__ import annotations

import pytest

from plumbob.drift.versions import SpecError, ValueSpec, kubelet_outside_skew, version_key


def test_version_key() -> None:
    assert version_key("v1.31.4-eks-2d5f260") == (1, 31, 4)
    assert version_key("containerd://1.7.23-k3s2") == (1, 7, 23)
    assert version_key("550.54.15") == (550, 54, 15)
    assert version_key("latest") is None


def test_ranges_globs_and_exact() -> None:
    driver = ValueSpec.parse(">=550.54, <560")
    assert driver.clauses
    assert driver.matches("550.54.15") and driver.matches("555.42.2")
    assert not driver.matches("535.104.05") and not driver.matches("560.28.3")
    assert not driver.matches(None)
    assert ValueSpec.parse("6.1.*").matches("6.1.0-28-cloud-amd64")
    assert not ValueSpec.parse("6.1.*").matches("6.10.2")
    assert ValueSpec.parse("Ubuntu 22.04.5 LTS").matches("Ubuntu 22.04.5 LTS")
    assert not ValueSpec.parse("Ubuntu 22.04.5 LTS").matches("Ubuntu 22.04.4 LTS")
    with pytest.raises(SpecError):
        ValueSpec.parse(">= banana")


def test_kubelet_skew_from_knowledge_table() -> None:
    assert not kubelet_outside_skew("v1.30.1", "v1.33.0")  # three minors back is allowed
    assert kubelet_outside_skew("v1.29.9", "v1.33.0")
    assert kubelet_outside_skew("v1.34.0", "v1.33.0")  # newer than the API server
    assert not kubelet_outside_skew("v1.31.6+rke2r1", None)
