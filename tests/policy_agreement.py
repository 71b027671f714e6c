"""What exported policies deny, beside what plumbob's checks find, workload by workload: shared
by the local agreement test and the real API server's."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.config import Config
from plumbob.drift.baseline import Baseline
from plumbob.model.objects import Object
from plumbob.model.snapshot import Snapshot
from plumbob.policy import Action, PolicyFormat, built_in_rules, parameters, write
from plumbob.policy.evaluate import denials, load_policies

Subject = tuple[str, str | None, str]

NOT_COMPARED = {
    "node-pool-taint-untolerated": "the policy asks each GPU pod to tolerate a GPU pool's "
    "taints; the check reports a pool whose taints no workload tolerates (it reads Nodes)",
}
"""Rules whose check judges something a single object cannot show."""

KNOWN: dict[tuple[str, str], str] = {}
"""(check, workload kind) where plumbob finds what the policies cannot see, with the cause
(docs/guardrails.md lists the same)."""


ENGINE_KNOWN = {
    ("plumbob-gpu-image-mutable-tag", "Deployment", "serving", "chart"): "its images are "
    "unrendered Helm text ({{ .Values.image.tag }}): plumbob reads them as unknown, not judged "
    "(README: bad input), where the API server and Kyverno judge the text as an image reference",
}
"""(policy, kind, namespace, name) where the API server's or Kyverno's verdict and
`policy test`'s differ on purpose, with why."""

FIXTURE_KNOWN = {
    (
        "gpu-workload-no-priority-class",
        "trigger-groups-named-by-numbers.yaml",
        "InferenceService",
    ): (
        "the predictor's containers are a number, which the API server's schema refuses; the "
        "policy's expression fails on it and failurePolicy Fail denies, the check reads no "
        "container"
    ),
    ("gpu-toleration-without-request", "trigger-site-gpu-taint.yaml", "CronJob"): "the "
    "check learns a site's GPU taint keys from the Nodes; the policy knows nvidia.com/gpu and "
    "the baseline's GPU pool taints",
    ("gpu-workload-no-priority-class", "clean-kai-priority-label.yaml", "Pod"): "KAI "
    "Scheduler's priority label counts where KAI schedules the pod (its queue label or "
    "schedulerName, read with the cluster's components); the policy asks for priorityClassName",
    ("gpu-workload-no-memory-request", "clean-memory-set.yaml", "Job"): "a LimitRange's "
    "default is given to Pods when they are created, never to a workload's pod template, and "
    "no admission policy can read LimitRanges: the policy judges the template as written",
}
"""(check, fixture file, workload kind) where a check's own fixture and the policy differ."""


def check_fixtures(check: str) -> list[Path]:
    """The trigger and clean fixtures of a check (tests/checks/<category>/<id>/)."""
    root = Path(__file__).parent / "checks"
    return sorted(
        f
        for folder in root.glob(f"*/{check}")
        for f in folder.glob("*.yaml")
        if f.name.startswith(("trigger-", "clean-"))
    )


def export(tmp: Path, baseline: Baseline | None, fmt: PolicyFormat = PolicyFormat.VAP) -> Path:
    out = tmp / f"policies-{fmt.value}"
    write(built_in_rules(parameters(baseline)), fmt, Action.DENY, out)
    return out


def workload(snap: Snapshot, obj: Object) -> Subject:
    owner = snap.workload_of(obj)
    return (owner.kind, owner.namespace, owner.name)


def by_check_denied(
    policies: Path, snaps: Sequence[Snapshot], objects: Iterable[Object] | None = None
) -> dict[str, set[Subject]]:
    loaded = load_policies([policies])
    out: dict[str, set[Subject]] = {}
    for snap in snaps:
        for d in denials(loaded.policies, list(snap) if objects is None else objects):
            out.setdefault(d.check or d.policy, set()).add(workload(snap, d.subject))
    return out


def by_check_found(
    snaps: Sequence[Snapshot], baseline: Baseline | None, checks: Iterable[str]
) -> dict[str, set[Subject]]:
    report = engine.run(snaps, Registry.discover(), Config(only=sorted(checks)), baseline=baseline)
    out: dict[str, set[Subject]] = {c: set() for c in checks}
    for f in report.findings:
        out.setdefault(f.check, set()).add((f.subject.kind, f.subject.namespace, f.subject.name))
    return out


def disagreements(
    denied: dict[str, set[Subject]], found: dict[str, set[Subject]]
) -> list[tuple[str, str, Subject]]:
    """(check, 'policy only' or 'plumbob only', workload) not explained by KNOWN."""
    out = []
    for check in sorted(set(denied) | set(found)):
        if check in NOT_COMPARED:
            continue
        for side, subjects in (
            ("policy only", denied.get(check, set()) - found.get(check, set())),
            ("plumbob only", found.get(check, set()) - denied.get(check, set())),
        ):
            out.extend(
                (check, side, s) for s in sorted(subjects, key=str) if (check, s[0]) not in KNOWN
            )
    return out
