"""`plumbob diff A B`: what changed between two snapshots or two stored scans (or, with
`--since 7d`, between a week-old scan and the latest one)."""

from __future__ import annotations

import enum
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeAlias

import typer

from plumbob.cli import exit_codes
from plumbob.cli.common import fail, stderr_console
from plumbob.cli.history import DEFAULT_STORE, STORE_ENV, STORE_HELP, open_or_exit

if TYPE_CHECKING:
    from plumbob.drift.compare import Diff, State
    from plumbob.store import SqlStore

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class OutputFormat(enum.StrEnum):
    TABLE = "table"
    JSON = "json"


def _exit(code: int) -> NoReturn:
    raise typer.Exit(code)


def parse_duration(text: str) -> timedelta | None:
    """'7d' -> 7 days; units s, m, h, d, w."""
    match = _DURATION.match(text)
    if match is None:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


Sided: TypeAlias = tuple["State", bool]
"""A side of a diff, and whether its cluster name is the cluster's own (a stored scan, a
plumbob snapshot file) rather than one made up from a file name (kubectl output, manifests,
a cluster-info dump folder)."""


def _file_states(path: Path, pool_label: str | None) -> list[Sided]:
    from plumbob import engine
    from plumbob.checks.registry import Registry
    from plumbob.cli.baseline import drift_analysis, load_snapshots
    from plumbob.drift.attributes import snapshot_attributes
    from plumbob.drift.compare import Side, State
    from plumbob.store import snapshot_digest

    snapshots = load_snapshots([path], False, None, True)
    report = engine.run(snapshots, Registry.discover(), analyses=[drift_analysis(pool_label, None)])
    states: list[Sided] = []
    for snap in snapshots:
        name = snap.cluster.name
        attrs = snapshot_attributes(snap, pool_label)
        state = State(
            side=Side(
                label=str(path),
                cluster=name,
                time=snap.captured_at,
                digest=snapshot_digest(snap),
            ),
            nodes=[attrs[n] for n in sorted(attrs)],
            findings=[f for f in report.findings if f.cluster == name],
        )
        states.append((state, snap.source.startswith("snapshot ")))
    return states


def _stored_state(store: SqlStore, scan_id: int) -> State:
    from plumbob.store import ScanId, StoreError

    try:
        scan = store.load(ScanId(scan_id))
    except StoreError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)
    return scan.state()


def _side(
    ref: str, store_url: str, pool_label: str | None, stores: dict[str, SqlStore]
) -> list[Sided]:
    path = Path(ref)
    if path.exists():
        return _file_states(path, pool_label)
    if ref.isdigit():
        if "db" not in stores:
            stores["db"] = open_or_exit(store_url, create=False)
        return [(_stored_state(stores["db"], int(ref)), True)]
    fail(f"{ref}: neither a snapshot file nor a stored scan id (see plumbob history)")
    _exit(exit_codes.USAGE)


def _pairs(before: list[Sided], after: list[Sided], force: bool) -> list[tuple[State, State]]:
    """Which cluster of A to compare with which of B: the one with the one, else by name. Two
    clusters of different names are not compared unless `force`: every finding would read as
    both resolved and appeared."""
    if len(before) == 1 and len(after) == 1:
        (a, a_named), (b, b_named) = before[0], after[0]
        name_a, name_b = a.side.cluster, b.side.cluster
        if name_a != name_b:
            if a_named and b_named and not force:
                fail(
                    f"{a.side.label} is cluster {name_a!r} and {b.side.label} is cluster "
                    f"{name_b!r}: a diff compares one cluster over time, and across two "
                    "clusters every node and finding would read as removed and added. Scan "
                    "them together for cross-cluster drift (plumbob scan A B), or pass --force "
                    "to compare them anyway"
                )
                _exit(exit_codes.USAGE)
            why = (
                "compared as asked (--force)"
                if a_named and b_named
                else "compared as captures of one cluster, since "
                + ("neither names its cluster" if not (a_named or b_named) else "one names none")
            )
            _note(f"note: {name_a!r} and {name_b!r} differ in name; {why}")
        return [(a, b)]
    by_name = {s.side.cluster: s for s, _ in after}
    pairs = [(b, by_name[b.side.cluster]) for b, _ in before if b.side.cluster in by_name]
    if not pairs:
        fail(
            "the two sides share no cluster name: "
            f"{sorted(s.side.cluster for s, _ in before)} vs {sorted(by_name)}"
        )
        _exit(exit_codes.USAGE)
    paired = {b.side.cluster for b, _ in pairs}
    alone = sorted({s.side.cluster for s, _ in (*before, *after)} - paired)
    if alone:
        _note(f"note: on one side only, not compared: {', '.join(alone)}")
    return pairs


def _note(text: str) -> None:
    stderr_console().print(text, style="dim", soft_wrap=True, markup=False)


def _since(store: SqlStore, since: str, cluster: str | None) -> list[tuple[State, State]]:
    """For each cluster (or the one `cluster`), its latest scan against its scan `since` ago
    (its oldest, when none is that old): scans of one cluster only."""
    from plumbob.store import StoreError

    window = parse_duration(since)
    if window is None:
        fail(f"--since {since!r}: expected a duration such as 7d, 12h, 2w")
        _exit(exit_codes.USAGE)
    cutoff = (datetime.now(UTC) - window).strftime("%Y-%m-%dT%H:%M:%SZ")
    alone: list[str] = []
    stale: list[str] = []
    try:
        stored = store.clusters()
        if cluster is not None and cluster not in stored:
            fail(
                f"--cluster {cluster}: no stored scan of it in {store.where}"
                + (f"; stored clusters: {', '.join(stored)}" if stored else "")
            )
            _exit(exit_codes.USAGE)
        pairs = []
        for name in [cluster] if cluster else stored:
            latest = store.scans(cluster=name, limit=1)
            older = store.scans(cluster=name, limit=1, before=cutoff)
            if older and older[0].id == latest[0].id:
                stale.append(f"{name} (latest: scan {latest[0].id}, {latest[0].scanned_at})")
                continue
            if not older:
                # Nothing that old yet: compare against the oldest scan there is, and say so.
                all_scans = store.scans(cluster=name, limit=1_000_000)
                if len(all_scans) < 2:
                    alone.append(f"{name} (scan {latest[0].id})")
                    continue
                older = all_scans[-1:]
                _note(
                    f"note: no scan of {name} is {since} old yet; comparing with its oldest "
                    f"(scan {older[0].id}, {older[0].scanned_at})"
                )
            pairs.append((_stored_state(store, older[0].id), _stored_state(store, latest[0].id)))
    except StoreError as exc:
        fail(str(exc))
        _exit(exit_codes.USAGE)
    if stale:
        _note(f"note: no scan newer than {since}, nothing changed since: {', '.join(stale)}")
    if not pairs and not alone:
        fail(f"nothing to compare in {store.where}: no scan newer than {since}")
        _exit(exit_codes.USAGE)
    if not pairs:
        fail(
            f"nothing to compare in {store.where}: a diff compares two scans of one cluster, "
            f"and {'it has' if cluster else 'each cluster has'} one stored scan only: "
            f"{', '.join(alone)}. Store another scan (plumbob scan ... --store; files that "
            "name no cluster, such as kubectl output, are stored under their file name unless "
            "scanned with --cluster NAME), or compare two scans by id (plumbob diff ID ID; "
            "--force for two clusters)"
        )
        _exit(exit_codes.USAGE)
    if alone:
        _note(f"note: one stored scan only, nothing to compare: {', '.join(alone)}")
    return pairs


def diff(
    before: Annotated[
        str | None,
        typer.Argument(
            help="Snapshot file or stored scan id (the older side).", show_default=False
        ),
    ] = None,
    after: Annotated[
        str | None,
        typer.Argument(
            help="Snapshot file or stored scan id (the newer side).", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Compare the latest stored scan with the one this long ago (7d, 12h)."
        ),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="With --since: this cluster only (default: each in turn)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Compare A and B even when they are different clusters."),
    ] = False,
    store: Annotated[
        str, typer.Option("--store", envvar=STORE_ENV, help=STORE_HELP)
    ] = DEFAULT_STORE,
    pool_label: Annotated[
        str | None,
        typer.Option("--pool-label", help="Node label naming pools, for snapshot files."),
    ] = None,
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.TABLE,
    fail_on_change: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when anything changed.")
    ] = False,
) -> None:
    """Compare two scans of one cluster: nodes added and removed, attribute changes (old →
    new), findings appeared and resolved."""
    import msgspec

    from plumbob.drift.compare import DIFF_API_VERSION
    from plumbob.drift.compare import diff as compare
    from plumbob.render.drift import render_diff

    stores: dict[str, SqlStore] = {}
    try:
        if since is not None:
            if before or after:
                fail("give either A B or --since, not both")
                _exit(exit_codes.USAGE)
            stores["db"] = open_or_exit(store, create=False)
            pairs = _since(stores["db"], since, cluster)
        else:
            if before is None or after is None:
                fail("give two snapshot files or scan ids (A B), or --since 7d")
                _exit(exit_codes.USAGE)
            pairs = _pairs(
                _side(before, store, pool_label, stores),
                _side(after, store, pool_label, stores),
                force,
            )
    finally:
        for db in stores.values():
            db.close()
    results: list[Diff] = [compare(a, b, across=a.side.cluster != b.side.cluster) for a, b in pairs]
    if output_format is OutputFormat.JSON:
        doc = {"apiVersion": DIFF_API_VERSION, "kind": "DiffList", "items": results}
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(doc), indent=2).decode() + "\n")
    else:
        for result in results:
            render_diff(result, sys.stdout)
    if fail_on_change and any(not r.empty for r in results):
        _exit(exit_codes.FINDINGS)
