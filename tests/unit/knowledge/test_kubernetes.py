"""Kubernetes release, skew and removed-API lookups over k8s_versions.yaml."""

from __future__ import annotations

from datetime import date

import pytest

from plumbob.knowledge.kubernetes import (
    kubelet_skew,
    oldest_supported,
    parse_minor_text,
    removed_api,
    removed_apis,
    removed_runtime,
    support,
)


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("v1.31.4-eks-2d5f260", (1, 31)),
        ("1.31.6+rke2r1", (1, 31)),
        ("v1.29.10-gke.1227001", (1, 29)),
        ("1.35", (1, 35)),
        ("v1.8.1", (1, 8)),
        ("1", None),
        ("", None),
        (None, None),
        ("vX.Y", None),
    ],
)
def test_parse_minor(text: str | None, minor: tuple[int, int] | None) -> None:
    assert parse_minor_text(text) == minor


@pytest.mark.parametrize(
    ("minor", "today", "eol"),
    [
        ((1, 31), date(2025, 11, 10), False),
        ((1, 31), date(2025, 11, 11), True),  # actual end of life
        ((1, 35), date(2027, 2, 27), False),
        ((1, 35), date(2027, 2, 28), True),  # planned end of life
        ((1, 32), date(2026, 7, 1), True),  # no date; newer 1.33 ended 2026-06-28
        ((1, 32), date(2026, 1, 1), None),  # no date and nothing newer has ended yet
        ((1, 18), date(2020, 1, 1), True),  # older than every row
        ((1, 99), date(2026, 1, 1), None),  # newer than every row
    ],
)
def test_support(minor: tuple[int, int], today: date, eol: bool | None) -> None:
    assert support(minor, today).eol is eol


def test_oldest_supported() -> None:
    assert oldest_supported(date(2026, 12, 1)) == (1, 35)
    assert oldest_supported(date(2026, 1, 1)) == (1, 33)


@pytest.mark.parametrize(
    ("kubelet", "apiserver", "ok"),
    [
        ((1, 28), (1, 31), True),
        ((1, 27), (1, 31), False),
        ((1, 32), (1, 31), False),
        ((1, 24), (1, 26), True),
        ((1, 23), (1, 26), False),
        ((1, 31), (1, 31), True),
    ],
)
def test_kubelet_skew(kubelet: tuple[int, int], apiserver: tuple[int, int], ok: bool) -> None:
    assert kubelet_skew().kubelet_ok(kubelet, apiserver) is ok


def test_removed_apis() -> None:
    rows = removed_apis()
    assert all(r.source for r in rows)
    hpa = removed_api("autoscaling/v2beta2", "HorizontalPodAutoscaler")
    assert hpa is not None and hpa.removed_in == (1, 26) and hpa.replacement == "autoscaling/v2"
    psp = removed_api("policy/v1beta1", "PodSecurityPolicy")
    assert psp is not None and psp.replacement is None
    assert removed_api("apps/v1", "Deployment") is None
    assert removed_api("extensions/v1beta1", "Deployment") is not None


def test_removed_runtime_integrations() -> None:
    docker = removed_runtime("docker://24.0.7")
    assert docker is not None and docker.removed_in == (1, 24) and docker.source
    assert removed_runtime(" Docker://19.3.14") is docker
    assert removed_runtime("containerd://1.7.22") is None
    assert removed_runtime("cri-o://1.29.1") is None
    assert removed_runtime("") is None
