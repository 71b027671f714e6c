"""Where a training container writes its checkpoints, and whether its workload starts it again
after a failure. Shared by the checkpoint checks (not a check module).

    checkpoint_paths(template) -> [CheckpointPath(container="trainer", given="--output_dir",
                                                  path="/tmp/out", storage=Storage.CONTAINER)]
    restarts_on_failure(workload, template) -> "restartPolicy OnFailure" | None
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from plumbob.checks.resilience.training_job_no_backoff_limit import REPLICA_SPECS
from plumbob.model.objects import Container, CronJob, Job, Object, Volume, as_list, dig
from plumbob.model.workloads import PodTemplate

CHECKPOINT_FLAGS = frozenset(
    {
        "output_dir",
        "save_dir",
        "checkpoint_dir",
        "checkpoints_dir",
        "ckpt_dir",
        "checkpoint_path",
        "ckpt_path",
        "save_path",
        "default_root_dir",
        "save",
    }
)
"""Command-line flags naming where a trainer saves checkpoints, with `-` and `_` alike:
Hugging Face Trainer and accelerate scripts `--output_dir`, fairseq `--save-dir`, DeepSpeed
examples `--checkpoint_dir`, PyTorch Lightning `--default_root_dir`, Megatron-LM `--save`."""

CHECKPOINT_ENV = frozenset(
    {"CHECKPOINT_DIR", "CHECKPOINTS_DIR", "CHECKPOINT_PATH", "CKPT_DIR", "OUTPUT_DIR", "SAVE_DIR"}
)
"""Environment variables training scripts read for their checkpoint or output directory."""

_PLACEHOLDER = re.compile(r"\{\{|\$\{?[A-Za-z_]|<[^>]*>")
_K8S_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_SHELL_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


class Storage(StrEnum):
    """What a path is stored on, and so what survives."""

    REMOTE = "object store"
    PERSISTENT = "persistent volume"
    POD = "pod volume"
    """emptyDir or generic ephemeral volume: gone when the pod is replaced."""
    NODE = "hostPath"
    """Stays on one node; a replacement pod may run on another."""
    CONTAINER = "container filesystem"
    """Gone at every container restart."""


@dataclass(frozen=True, slots=True)
class CheckpointPath:
    container: str
    given: str
    """How the container names it: `--output_dir`, `env CHECKPOINT_DIR`."""
    path: str
    storage: Storage
    volume: str | None = None
    """The volume holding it, when one does."""

    @property
    def ephemeral(self) -> bool:
        return self.storage in (Storage.POD, Storage.NODE, Storage.CONTAINER)

    def describe(self) -> str:
        """'--output_dir /tmp/out is in the container filesystem'."""
        match self.storage:
            case Storage.CONTAINER:
                where = "is in the container filesystem, gone at every container restart"
            case Storage.POD:
                where = f"is on volume {self.volume} (emptyDir), gone when the pod is replaced"
            case Storage.NODE:
                where = f"is on volume {self.volume} (hostPath), left on the node it ran on"
            case Storage.PERSISTENT:
                where = f"is on volume {self.volume} (persistent)"
            case Storage.REMOTE:
                where = "is an object store"
        return f"{self.given} {self.path} {where}"


def _flag(word: str) -> tuple[str, str | None] | None:
    """('output_dir', value or None) for a word naming a checkpoint flag."""
    if not word.startswith("-"):
        return None
    name, sep, value = word.lstrip("-").partition("=")
    key = name.replace("-", "_").lower()
    if key not in CHECKPOINT_FLAGS:
        return None
    return key, value if sep else None


def _words(container: Container) -> list[str]:
    """The container's command line as words, shell scripts (`sh -c "..."`) split as the shell
    would; a script that does not split (unbalanced quotes) is split on blanks."""
    out: list[str] = []
    for part in [*container.command, *container.args]:
        if not isinstance(part, str):
            continue
        if any(ch.isspace() for ch in part):
            try:
                out += shlex.split(part, comments=False)
            except ValueError:
                out += part.split()
        else:
            out.append(part)
    return out


def _expanded(value: str, env: Mapping[str, str]) -> str | None:
    """A value with `$(VAR)` (Kubernetes) and `$VAR`/`${VAR}` (shell) references to the
    container's literal env values expanded; None when one stays unknown (a variable set from
    a Secret, a ConfigMap or nothing, an unrendered template)."""

    def known(match: re.Match[str]) -> str:
        name = next(g for g in match.groups() if g)
        return env.get(name, match.group(0))

    text = _K8S_REF.sub(known, value)
    text = _SHELL_REF.sub(known, text)
    if _PLACEHOLDER.search(text) or "$(" in text:
        return None
    return text.strip("'\"")


def _named(container: Container) -> Iterator[tuple[str, str]]:
    """(how it is named, raw value) for every checkpoint location the container names."""
    words = _words(container)
    for i, word in enumerate(words):
        found = _flag(word)
        if found is None:
            continue
        value = found[1]
        if value is None:
            if i + 1 >= len(words) or words[i + 1].startswith("-"):
                continue
            value = words[i + 1]
        yield word.split("=", 1)[0], value
    for var in container.env:
        if var.name in CHECKPOINT_ENV and var.value:
            yield f"env {var.name}", var.value


def _storage(volume: Volume | None) -> Storage:
    if volume is None:
        return Storage.CONTAINER  # a mount naming no volume of the pod: rejected by the API
    if volume.persistent_volume_claim or volume.csi or volume.nfs:
        return Storage.PERSISTENT
    if volume.host_path is not None:
        return Storage.NODE
    return Storage.POD


def checkpoint_paths(template: PodTemplate) -> list[CheckpointPath]:
    """The checkpoint locations the template's containers name (flags and env), resolved
    against their volume mounts. A relative path (resolved against the image's working
    directory, which the input does not show) and a value that is not known (a Secret's, an
    unrendered template's) are left out: where they point is unknown."""
    volumes = {v.name: v for v in template.spec.volumes}
    out: list[CheckpointPath] = []
    for container in template.spec.containers:
        env = {v.name: v.value for v in container.env if v.value is not None}
        for given, raw in _named(container):
            path = _expanded(raw, env)
            if not path:
                continue
            if "://" in path:
                out.append(CheckpointPath(container.name, given, path, Storage.REMOTE))
                continue
            if not path.startswith("/"):
                continue
            mount = max(
                (
                    m
                    for m in container.volume_mounts
                    if m.mount_path
                    and (
                        path == m.mount_path.rstrip("/")
                        or path.startswith(m.mount_path.rstrip("/") + "/")
                    )
                ),
                key=lambda m: len(m.mount_path),
                default=None,
            )
            if mount is None:
                out.append(CheckpointPath(container.name, given, path, Storage.CONTAINER))
            else:
                volume = volumes.get(mount.name)
                out.append(
                    CheckpointPath(container.name, given, path, _storage(volume), mount.name)
                )
    return out


# ------------------------------------------------------------------ restarts

_RESTARTING_POLICIES = frozenset({"OnFailure", "Always", "ExitCode"})
_VOLCANO_RESTARTS = frozenset({"RestartJob", "RestartTask", "RestartPod"})


def _positive(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def restarts_on_failure(workload: Object, template: PodTemplate) -> str | None:
    """How the workload starts this template's containers again after a failure, or None when
    a failure ends it (a Job with `backoffLimit: 0` and `restartPolicy: Never`, a Kubeflow
    replica with `restartPolicy: Never`, a RayJob without retries)."""
    spec = getattr(workload, "spec", None)
    policy = template.spec.restart_policy
    kind = workload.kind
    if workload.group == "kubeflow.org" and kind in REPLICA_SPECS:
        field, default = REPLICA_SPECS[kind]
        given = dig(spec, field, template.role or "", "restartPolicy")
        replica = given if isinstance(given, str) and given else default
        if replica in _RESTARTING_POLICIES:
            return f"replica restartPolicy {replica}" + ("" if given else " (the default)")
        return None
    if isinstance(workload, Job | CronJob):
        job = workload.spec if isinstance(workload, Job) else workload.spec.job_template.spec
        if policy in ("OnFailure", "Always"):
            return f"restartPolicy {policy}"
        limit = job.backoff_limit
        if limit is None:
            return "backoffLimit 6 (the default): failed pods are replaced"
        return f"backoffLimit {limit}: failed pods are replaced" if limit > 0 else None
    if kind == "JobSet":
        restarts = dig(spec, "failurePolicy", "maxRestarts")
        if _positive(restarts):
            return f"failurePolicy.maxRestarts {restarts}: the whole JobSet is recreated"
        for job in as_list(dig(spec, "replicatedJobs")):
            limit = dig(job, "template", "spec", "backoffLimit")
            if limit is None or _positive(limit):
                return f"backoffLimit {6 if limit is None else limit} of its Jobs"
        return f"restartPolicy {policy}" if policy in ("OnFailure", "Always") else None
    if kind == "RayJob":
        retries = dig(spec, "backoffLimit")
        return f"backoffLimit {retries}: the RayJob is retried" if _positive(retries) else None
    if workload.group == "batch.volcano.sh":
        actions = [
            dig(p, "action")
            for p in [*as_list(dig(spec, "policies"))]
            + [p for t in as_list(dig(spec, "tasks")) for p in as_list(dig(t, "policies"))]
        ]
        restart = next((a for a in actions if a in _VOLCANO_RESTARTS), None)
        if restart is not None:
            return f"Volcano policy {restart}"
        return f"restartPolicy {policy}" if policy in ("OnFailure", "Always") else None
    if kind in ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"):
        return "a controller that restarts its pods"
    if policy is None or policy in ("OnFailure", "Always"):
        return f"restartPolicy {policy or 'Always (the default)'}"
    return None
