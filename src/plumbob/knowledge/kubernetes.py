"""Typed lookups over k8s_versions.yaml: release support windows, version skew, removed APIs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from plumbob.knowledge.loader import KnowledgeError, load_table

Minor = tuple[int, int]


def parse_minor_text(text: str | None) -> Minor | None:
    """'1.31' / 'v1.31.4-eks-2d5f260' / '1.31.6+rke2r1' -> (1, 31)."""
    if not text:
        return None
    parts = str(text).strip().lstrip("vV").split(".")
    if len(parts) < 2:
        return None
    digits = ""
    for ch in parts[1]:
        if not ch.isdigit():
            break
        digits += ch
    try:
        return int(parts[0]), int(digits)
    except ValueError:
        return None


def minor_text(minor: Minor) -> str:
    return f"{minor[0]}.{minor[1]}"


@dataclass(frozen=True, slots=True)
class Release:
    minor: Minor
    released: date | None
    end_of_life: date | None
    """Actual end of life where published, else the planned date (see `planned`)."""
    planned: bool
    source: str


@dataclass(frozen=True, slots=True)
class Support:
    """Whether a minor is past end of life on a given day, and why plumbob thinks so."""

    minor: Minor
    eol: bool | None
    """None when the table cannot tell (a minor newer than every row)."""
    end_of_life: date | None
    basis: str
    source: str


@dataclass(frozen=True, slots=True)
class RemovedApi:
    group_version: str
    kind: str
    removed_in: Minor
    replacement: str | None
    source: str
    note: str | None = None


def _date(value: object) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    text = str(value)
    if len(text) == 7:  # "2026-02": end of that month is not given; take its first day
        text += "-01"
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise KnowledgeError(f"k8s_versions: bad date {value!r}") from None


@cache
def releases() -> tuple[Release, ...]:
    out = []
    for row in load_table("k8s_versions").get("releases", []):
        minor = parse_minor_text(str(row["minor"]))
        if minor is None:
            raise KnowledgeError(f"k8s_versions: bad minor {row['minor']!r}")
        actual = _date(row.get("end_of_life"))
        planned = _date(row.get("end_of_life_planned"))
        out.append(
            Release(
                minor=minor,
                released=_date(row.get("released")),
                end_of_life=actual or planned,
                planned=actual is None and planned is not None,
                source=str(row["source"]),
            )
        )
    return tuple(sorted(out, key=lambda r: r.minor))


def support(minor: Minor, today: date) -> Support:
    """End-of-life status of `minor` on `today`.

    A minor older than every row is past end of life (the table starts well after 1.18's end); a
    minor without a date is past end of life once a newer minor is (minors reach end of life in
    order), and supported while it is one of the three newest released minors."""
    rows = releases()
    by_minor = {r.minor: r for r in rows}
    row = by_minor.get(minor)
    if row is None:
        if rows and minor < rows[0].minor:
            oldest = rows[0]
            return Support(
                minor,
                True,
                None,
                f"older than {minor_text(oldest.minor)}, which reached end of life "
                f"on {oldest.end_of_life}",
                oldest.source,
            )
        return Support(minor, None, None, "not in the release table", "")
    if row.end_of_life is not None:
        eol = today >= row.end_of_life
        kind = "planned end of life" if row.planned else "end of life"
        return Support(
            minor, eol, row.end_of_life, f"{kind} {row.end_of_life.isoformat()}", row.source
        )
    newer_ended = [
        r for r in rows if r.minor > minor and r.end_of_life is not None and today >= r.end_of_life
    ]
    if newer_ended:
        first = newer_ended[0]
        return Support(
            minor,
            True,
            None,
            f"no published date, but the newer {minor_text(first.minor)} reached end "
            f"of life on {first.end_of_life}",
            first.source,
        )
    released = [r for r in rows if r.released is not None and r.released <= today]
    newest_three = {r.minor for r in released[-3:]}
    if minor in newest_three:
        return Support(minor, False, None, "one of the three newest released minors", row.source)
    return Support(minor, None, None, "no published end-of-life date", row.source)


@dataclass(frozen=True, slots=True)
class SkewPolicy:
    max_older: int
    max_older_below_1_25: int
    newer_allowed: bool
    source: str

    def kubelet_ok(self, kubelet: Minor, apiserver: Minor) -> bool:
        if kubelet[0] != apiserver[0]:
            return False
        if kubelet > apiserver:
            return self.newer_allowed
        limit = self.max_older_below_1_25 if kubelet < (1, 25) else self.max_older
        return apiserver[1] - kubelet[1] <= limit


@cache
def kubelet_skew() -> SkewPolicy:
    for rule in load_table("k8s_versions")["version_skew_policy"]["rules"]:
        if rule.get("component") == "kubelet":
            return SkewPolicy(
                max_older=int(rule["max_older_minors"]),
                max_older_below_1_25=int(rule["max_older_minors_if_kubelet_below_1_25"]),
                newer_allowed=bool(rule["newer_allowed"]),
                source=str(rule["source"]),
            )
    raise KnowledgeError("k8s_versions: no kubelet rule in version_skew_policy")


@cache
def removed_apis() -> tuple[RemovedApi, ...]:
    out: list[RemovedApi] = []
    for row in load_table("k8s_versions").get("removed_apis", []):
        minor = parse_minor_text(str(row["removed_in"]))
        if minor is None:
            raise KnowledgeError(f"k8s_versions: bad removed_in {row['removed_in']!r}")
        out.extend(
            RemovedApi(
                group_version=str(row["group_version"]),
                kind=str(kind),
                removed_in=minor,
                replacement=row.get("replacement"),
                source=str(row["source"]),
                note=row.get("note"),
            )
            for kind in row["kinds"]
        )
    return tuple(out)


@cache
def _removed_index() -> dict[tuple[str, str], RemovedApi]:
    return {(r.group_version, r.kind): r for r in removed_apis()}


def removed_api(api_version: str, kind: str) -> RemovedApi | None:
    """The removal row for an object's apiVersion and kind, whatever release removed it."""
    return _removed_index().get((api_version, kind))


@dataclass(frozen=True, slots=True)
class RemovedRuntime:
    """A container runtime integration the kubelet dropped (dockershim in 1.24)."""

    prefix: str
    runtime: str
    integration: str
    removed_in: Minor
    after: str
    """What runs the runtime for kubelets past the removal, if anything."""
    source: str


@cache
def removed_runtimes() -> tuple[RemovedRuntime, ...]:
    out = []
    for row in load_table("k8s_versions").get("removed_runtime_integrations", []):
        minor = parse_minor_text(str(row.get("removed_in")))
        if minor is None or not row.get("prefix") or not row.get("source"):
            raise KnowledgeError(f"k8s_versions: bad removed_runtime_integrations row {row!r}")
        out.append(
            RemovedRuntime(
                prefix=str(row["prefix"]),
                runtime=str(row.get("runtime")),
                integration=str(row.get("integration")),
                removed_in=minor,
                after=str(row.get("after", "")),
                source=str(row["source"]),
            )
        )
    return tuple(out)


def removed_runtime(container_runtime_version: str) -> RemovedRuntime | None:
    """The removed integration a node's `containerRuntimeVersion` (docker://24.0.5) names."""
    text = container_runtime_version.strip().lower()
    return next((r for r in removed_runtimes() if text.startswith(r.prefix)), None)


def oldest_supported(today: date) -> Minor | None:
    """The oldest minor not past end of life on `today`."""
    for row in releases():
        if support(row.minor, today).eol is False:
            return row.minor
    return None


__all__ = [
    "Release",
    "RemovedApi",
    "RemovedRuntime",
    "SkewPolicy",
    "Support",
    "kubelet_skew",
    "minor_text",
    "oldest_supported",
    "parse_minor_text",
    "releases",
    "removed_api",
    "removed_apis",
    "removed_runtime",
    "removed_runtimes",
    "support",
]
