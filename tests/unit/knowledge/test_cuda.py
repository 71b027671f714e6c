"""CUDA -> driver lookups over cuda_driver_compat.yaml."""

from __future__ import annotations

import pytest

from plumbob.knowledge.cuda import max_cuda_of_driver, requirement, version_tuple


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("550.54.15", (550, 54, 15)),
        ("12.4.0.41", (12, 4, 0, 41)),
        ("v1.2.0rc1", (1, 2, 0)),
        ("570.26", (570, 26)),
        ("", None),
        ("latest", None),
    ],
)
def test_version_tuple(text: str, expected: tuple[int, ...] | None) -> None:
    assert version_tuple(text) == expected


@pytest.mark.parametrize(
    ("cuda", "driver", "floor"),
    [
        ("12.9.0", "575.51.03", "525.60.13"),  # Table 3 "CUDA 12.9 GA"
        ("12.9.1", "575.57.08", "525.60.13"),  # Table 3 "CUDA 12.9 Update 1", its own row
        ("12.4.1", "550.54.15", "525.60.13"),  # not 550.54.14, the 12.4.0 row
        ("12.4", "550.54.14", "525.60.13"),  # a minor alone: its GA
        ("12.4.9", "550.54.15", "525.60.13"),  # not in the table: the nearest lower release
        ("12.8", "570.26", "525.60.13"),
        ("11.6.0", "510.39.01", "450.80.02"),
        ("12.4.0.41", "550.54.14", "525.60.13"),  # NGC build numbers
        ("13.0", "580.65.06", "580"),
    ],
)
def test_requirement(cuda: str, driver: str, floor: str) -> None:
    req = requirement(cuda)
    assert req is not None
    assert req.toolkit_driver == driver
    assert req.compat_floor == floor
    assert all(s for s in req.sources)


def test_every_release_in_the_table_shows_its_own_row() -> None:
    """The minimum shown for a CUDA release is the shipped table's row for that release."""
    from plumbob.knowledge.loader import load_table

    for row in load_table("cuda_driver_compat")["toolkit_driver_versions"]:
        req = requirement(str(row["version"]))
        assert req is not None, row
        assert (req.toolkit_driver, req.toolkit_label) == (
            str(row["linux_x86_64_min"]),
            str(row.get("label", "")),
        ), row


def test_missing_minor_falls_back_to_lower_published_minor() -> None:
    req = requirement("12.7")  # Table 3 has no 12.7 rows
    assert req is not None and req.toolkit_label == "CUDA 12.6 GA"


@pytest.mark.parametrize("cuda", ["13.4", "14.0", "12", "x"])
def test_unknown_cuda(cuda: str) -> None:
    assert requirement(cuda) is None


@pytest.mark.parametrize(
    ("cuda", "driver", "verdict"),
    [
        ("12.9", "575.51.03", "ok"),
        ("12.9", "580.95.05", "ok"),
        ("12.9", "550.90.07", "compat"),
        ("12.9", "470.82.01", "too-old"),
        ("11.6", "470.82.01", "compat"),
        ("11.6", "418.40", "too-old"),
        ("12.9", "garbage", "unknown"),
    ],
)
def test_verdict(cuda: str, driver: str, verdict: str) -> None:
    req = requirement(cuda)
    assert req is not None
    assert req.verdict(driver) == verdict


@pytest.mark.parametrize(
    ("driver", "cuda"),
    [
        ("550.90.07", "12.4"),
        ("450.80.02", "11.0"),
        ("570.26", "12.8"),
        ("580.95.05", "13.0"),
        ("300.1", None),
    ],
)
def test_max_cuda_of_driver(driver: str, cuda: str | None) -> None:
    assert max_cuda_of_driver(driver) == cuda
