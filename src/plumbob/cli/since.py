"""`scan --new-since`: read the earlier findings (a JSON report, or the last stored scan of a
cluster) before the scan, mark this scan's findings new or existing after it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from plumbob.cli.outputs import OutputError

if TYPE_CHECKING:
    from plumbob.checks.registry import Registry
    from plumbob.report.model import Finding, Report

STORE_PREFIX = "store:"


class SinceError(OutputError):
    """The earlier report cannot be used: one line naming it and why."""


@dataclass(frozen=True, slots=True)
class Earlier:
    """What a scan is compared with."""

    source: str
    findings: tuple[Finding, ...]
    generated_at: str | None = None
    clusters: tuple[str, ...] = ()
    """For `store:` without a cluster: filled in once the scan knows its clusters."""


def read_earlier(given: str, store: str | None) -> Earlier | None:
    """The earlier findings `--new-since` names. `store:CLUSTER[,CLUSTER]` reads the last stored
    scan of each (from `--store`, else the default store); `store:` alone is read after the scan,
    for the clusters it names (returns None here). Anything else is a JSON report's path."""
    if given.startswith(STORE_PREFIX):
        names = [n for n in given[len(STORE_PREFIX) :].split(",") if n]
        if not names:
            return None
        return from_store(given, names, store)
    return from_file(Path(given))


def from_file(path: Path) -> Earlier:
    import msgspec

    from plumbob.report.model import REPORT_API_VERSION, Report

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SinceError(f"--new-since {path}: cannot read: {exc.strerror or exc}") from None
    try:
        report = msgspec.json.decode(data, type=Report)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise SinceError(
            f"--new-since {path}: not a plumbob JSON report (scan --format json): {exc}"
        ) from None
    if report.kind != "Report" or report.api_version != REPORT_API_VERSION:
        raise SinceError(
            f"--new-since {path}: kind {report.kind!r}, apiVersion {report.api_version!r}; "
            f"expected a Report of {REPORT_API_VERSION}"
        )
    return Earlier(str(path), tuple(report.findings), report.generated_at or None)


def from_store(
    given: str, clusters: list[str], store: str | None, *, missing_ok: bool = False
) -> Earlier:
    """The last stored scan of each cluster. `missing_ok` (`store:` alone): a cluster never
    scanned before has nothing earlier (its findings are all new) instead of being an error."""
    from plumbob.store import StoreError, open_store

    try:
        opened = open_store(None if store in (None, "", "default") else store, create=False)
    except StoreError as exc:
        raise SinceError(f"--new-since {given}: {exc}") from None
    findings: list[Finding] = []
    times: list[str] = []
    try:
        for cluster in clusters:
            last = opened.scans(cluster=cluster, limit=1)
            if not last and missing_ok:
                continue
            if not last:
                known = ", ".join(opened.clusters()) or "none"
                raise SinceError(
                    f"--new-since {given}: no stored scan of cluster {cluster!r} in "
                    f"{opened.where} (clusters stored: {known})"
                )
            findings.extend(opened.load(last[0].id).findings)
            times.append(last[0].scanned_at)
    except StoreError as exc:
        raise SinceError(f"--new-since {given}: {exc}") from None
    finally:
        opened.close()
    return Earlier(given, tuple(findings), max(times) if times else None, tuple(clusters))


def marked(report: Report, earlier: Earlier, registry: Registry) -> Report:
    """The report with each finding marked new or existing."""
    from plumbob.findings import canonical_ids, mark_new

    canonical = canonical_ids((c.id, c.aliases) for c in registry)
    return mark_new(
        report,
        earlier.findings,
        source=earlier.source,
        generated_at=earlier.generated_at,
        canonical=canonical,
    )
