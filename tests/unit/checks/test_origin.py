"""Check origins: the failure a check comes from, declared with the check and shown first where
the check is explained; a malformed one fails at definition."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from plumbob.checks.docs import render
from plumbob.checks.registry import CheckDefinitionError, Hit, Origin, Registry, check
from plumbob.model.snapshot import Snapshot

REPORT = "https://github.com/kubeflow/trainer/issues/1589"


def _define(origin: Any) -> Any:
    def x_check(snap: Snapshot) -> Iterator[Hit]:
        yield from ()

    return check(
        id="x-check",
        category="resilience",
        severity="low",
        title="t",
        why="w",
        fix="f",
        reads=("Pod",),
        origin=origin,
    )(x_check).__plumbob_check__


@pytest.mark.parametrize(
    ("origin", "said"),
    [
        (Origin("http://example.com/a", "A job restarted forever."), "no https link"),
        (Origin("https://x/a b", "A job restarted forever."), "no https link"),
        (Origin(REPORT, ""), "one sentence"),
        (Origin(REPORT, "A job restarted forever"), "one sentence"),
        (Origin(REPORT, "A job restarted.\nForever."), "one sentence"),
        (Origin(REPORT, "A job restarted forever.", kind="blog"), "origin kind 'blog'"),  # type: ignore[arg-type]
        ((REPORT, "A job restarted forever."), "origin= takes Origin"),
    ],
)
def test_a_malformed_origin_fails_at_definition(origin: Any, said: str) -> None:
    with pytest.raises(CheckDefinitionError, match=re.escape(said)):
        _define(origin)


def test_origin_is_shown_first_and_says_its_kind() -> None:
    incident = _define(Origin(REPORT, "A PyTorchJob worker restarted forever."))
    document = _define(
        Origin("https://kubernetes.io/docs/x", "Kubernetes documents it.", kind="document")
    )
    assert incident.origin.describe() == (
        f"From a failure report: A PyTorchJob worker restarted forever. <{REPORT}>"
    )
    assert document.origin.describe().startswith(
        "From the vendor documentation (no public failure report found): "
    )
    page = render(Registry([incident]))
    section = page[page.index("### x-check") :]
    assert section.index("From a failure report") < section.index("**Why it matters**")
    assert "1 from a failure report, 0 from the vendor documentation" in page


def test_explain_shows_the_origin_before_why() -> None:
    from plumbob.cli.checks import _check_data, _check_text

    c = _define(Origin(REPORT, "A PyTorchJob worker restarted forever."))
    text = _check_text(c)
    assert text.index(REPORT) < text.index("## Why it matters")
    assert _check_data(c)["origin"] == {
        "url": REPORT,
        "what": "A PyTorchJob worker restarted forever.",
        "kind": "incident",
    }


def test_the_catalog_counts_its_origins() -> None:
    """docs/checks.md says how many checks come from a failure report: the figure is computed
    from the checks, not written by hand."""
    registry = Registry.discover()
    reports = sum(1 for c in registry if c.origin and c.origin.kind == "incident")
    documents = sum(1 for c in registry if c.origin and c.origin.kind == "document")
    assert reports + documents == len(registry)
    assert f"{reports} from a failure report, {documents} from the vendor" in render(registry)
