"""What a workload is for (serving, training, batch, interactive, diagnostic, system), with the
evidence that says so.

A role is decided once per workload, by the first of these levels that speaks; later levels only
add evidence that agrees:

1. diagnostic: a container runs a GPU test or benchmark tool (gpu-burn, nccl-tests, a CUDA
   sample, a vLLM benchmark), every container only waits or prints (`sleep infinity`,
   `nvidia-smi && echo ok`), or the image is a burner or sample. What a pod runs overrides what
   its controller is usually for: an NCCL benchmark submitted as an MPIJob is a test.
2. a dedicated kind: KServe InferenceService and LLMInferenceService, RayService,
   LeaderWorkerSet, Knative Service (serving); the Kubeflow training-operator kinds (training);
   Kubeflow Notebook (interactive).
3. the entrypoint: a model server (`vllm serve`, `tritonserver`), a training launcher or script
   (`torchrun`, `deepspeed`, `accelerate launch`, `train.py`), a notebook server.
4. the image: a model server, a notebook server, a platform component.
5. the namespace: kube-system and the AI platform's own namespaces (system).
6. a Service selecting the pods of a Deployment, StatefulSet, ReplicaSet or long-running Pod
   (serving).
7. the kind alone: JobSet, RayJob and Volcano Job (training), DaemonSet (system), Job, CronJob
   and pods that run to completion (batch). Anything else is unknown, and says what was seen.

A model server (level 3 or 4) in a workload that runs to completion is batch inference: batch.
The images, commands and namespaces are facts (knowledge/workload_roles.yaml and
knowledge/ai_components.yaml) handed in as `RoleFacts`; this module only applies them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from plumbob.model.gpu import container_gpu_request
from plumbob.model.images import parse_image
from plumbob.model.objects import (
    Container,
    CronJob,
    Job,
    Object,
    Pod,
    dig,
    kind_key,
)
from plumbob.model.workloads import AbsentController, PodTemplate


class WorkloadRole(StrEnum):
    SERVING = "serving"
    """Answers requests: a model server behind a Service."""
    TRAINING = "training"
    """Trains or fine-tunes a model, usually on many GPUs for a long time."""
    BATCH = "batch"
    """Runs to completion: batch inference, data processing, any Job not known to train."""
    INTERACTIVE = "interactive"
    """A notebook or IDE a person works in."""
    DIAGNOSTIC = "diagnostic"
    """Tests, burns or benchmarks GPUs, or only waits (a pod to exec into)."""
    SYSTEM = "system"
    """Part of the platform: device plugin, GPU operator, exporters, schedulers, controllers."""
    UNKNOWN = "unknown"
    """Nothing seen names its role."""


@dataclass(frozen=True, slots=True)
class Role:
    """A workload's role and the human-readable evidence for it, deciding evidence first."""

    role: WorkloadRole
    evidence: tuple[str, ...] = ()


NOT_A_WORKLOAD = Role(WorkloadRole.UNKNOWN, ("not a workload with a pod template in this input",))


# ------------------------------------------------------------------ facts


@dataclass(frozen=True, slots=True)
class ImageSign:
    """A known image: the role it serves and what it is ('a vLLM server')."""

    role: WorkloadRole
    what: str
    tag_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class CommandSign:
    """A known entrypoint: a pattern searched in a container's command line."""

    role: WorkloadRole
    pattern: str
    what: str


@dataclass(frozen=True, slots=True)
class IdleCommand:
    """A command that only waits or prints; `only_with` must then appear in the same command."""

    command: str
    only_with: str | None = None


@dataclass(frozen=True)
class RoleFacts:
    """What names a role: known images by repository path, prefix or last component, known
    entrypoints in precedence order, idle commands, and the platform's own namespaces."""

    images: Mapping[str, tuple[ImageSign, ...]]
    """Repository path without registry ('vllm/vllm-openai') -> signs."""
    image_prefixes: tuple[tuple[str, ImageSign], ...]
    image_names: Mapping[str, tuple[ImageSign, ...]]
    """Last path component ('gpu-burn') -> signs."""
    image_name_prefixes: tuple[tuple[str, ImageSign], ...]
    commands: tuple[CommandSign, ...]
    idle: Mapping[str, IdleCommand]
    system_namespaces: frozenset[str]
    _command_res: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _image_cache: dict[str, ImageSign | None] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _command_cache: dict[str, tuple[int, int] | None] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(c.pattern) for c in self.commands)
        object.__setattr__(self, "_command_res", compiled)

    def image_sign(self, image: str) -> ImageSign | None:
        """The sign of a known image, or None."""
        if image in self._image_cache:
            return self._image_cache[image]
        ref = parse_image(image)
        path = ref.repository
        tails = [path, *(path[i + 1 :] for i, ch in enumerate(path) if ch == "/")]
        name = path.rsplit("/", 1)[-1]
        candidates: list[ImageSign] = [s for tail in tails for s in self.images.get(tail, ())]
        candidates += [s for prefix, s in self.image_prefixes if path.startswith(prefix)]
        candidates += self.image_names.get(name, ())
        candidates += [s for prefix, s in self.image_name_prefixes if name.startswith(prefix)]
        found = next(
            (
                s
                for s in candidates
                if s.tag_prefix is None or (ref.tag or "").startswith(s.tag_prefix)
            ),
            None,
        )
        self._image_cache[image] = found
        return found

    def command_sign(self, text: str) -> tuple[int, int] | None:
        """(index in `commands`, offset in the text) of the first sign, in precedence order,
        the text matches. Each command line is searched once per distinct text."""
        if text in self._command_cache:
            return self._command_cache[text]
        found: tuple[int, int] | None = None
        for index, pattern in enumerate(self._command_res):
            match = pattern.search(text)
            if match is not None:
                found = (index, match.start())
                break
        self._command_cache[text] = found
        return found


# ------------------------------------------------------------------ kinds

SERVING, TRAINING, BATCH = WorkloadRole.SERVING, WorkloadRole.TRAINING, WorkloadRole.BATCH
INTERACTIVE, DIAGNOSTIC = WorkloadRole.INTERACTIVE, WorkloadRole.DIAGNOSTIC
SYSTEM, UNKNOWN = WorkloadRole.SYSTEM, WorkloadRole.UNKNOWN

DEDICATED_KINDS: Mapping[str, tuple[WorkloadRole, str]] = {
    "InferenceService": (SERVING, "a KServe InferenceService"),
    "LLMInferenceService": (SERVING, "a KServe LLMInferenceService"),
    "RayService": (SERVING, "a KubeRay RayService (Ray Serve)"),
    "LeaderWorkerSet": (SERVING, "a LeaderWorkerSet (multi-host inference)"),
    "Service.serving.knative.dev": (SERVING, "a Knative Service"),
    "PyTorchJob": (TRAINING, "a Kubeflow PyTorchJob"),
    "TFJob": (TRAINING, "a Kubeflow TFJob"),
    "MPIJob": (TRAINING, "a Kubeflow MPIJob"),
    "PaddleJob": (TRAINING, "a Kubeflow PaddleJob"),
    "XGBoostJob": (TRAINING, "a Kubeflow XGBoostJob"),
    "MXJob": (TRAINING, "a Kubeflow MXJob"),
    "JAXJob": (TRAINING, "a Kubeflow JAXJob"),
    "TrainJob": (TRAINING, "a Kubeflow TrainJob"),
    "Notebook": (INTERACTIVE, "a Kubeflow Notebook"),
}
"""Kinds that exist for one purpose (level 2)."""

DEFAULT_KINDS: Mapping[str, tuple[WorkloadRole, str]] = {
    "JobSet": (TRAINING, "a JobSet (distributed jobs)"),
    "RayJob": (TRAINING, "a KubeRay RayJob"),
    "Job.batch.volcano.sh": (TRAINING, "a Volcano Job"),
    "DaemonSet": (SYSTEM, "a DaemonSet (one agent pod per node)"),
    "Job": (BATCH, "a Job (runs to completion)"),
    "CronJob": (BATCH, "a CronJob (runs to completion on a schedule)"),
}
"""What a kind is when nothing else speaks (level 7)."""

COMPLETING_KINDS = frozenset(
    {
        "Job",
        "CronJob",
        "JobSet",
        "RayJob",
        "Job.batch.volcano.sh",
        *(k for k, (role, _) in DEDICATED_KINDS.items() if role == TRAINING),
    }
)
"""Kinds whose pods run to completion."""

SERVICE_KINDS = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "Pod"})
"""Kinds a Service in front of the pods makes a service (level 6)."""

SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
_PREFIX_WORDS = frozenset({"exec", "nohup", "time", "command", "then", "do", "else", "!"})
_LOOP_WORDS = frozenset({"while", "until", "if"})
_CLOSERS = frozenset({"done", "fi", "esac", "}", "{", ""})
_SEGMENT_SPLIT = re.compile(r"&&|\|\||[;&|\n]")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def kind_of(workload: Object) -> str:
    """The kind key a workload is indexed under ('Job.batch.volcano.sh' for Volcano's Job)."""
    return kind_key(workload.api_version, workload.kind)


def uses_gpu(template: PodTemplate) -> bool:
    return any(container_gpu_request(c) for c in template.spec.all_containers)


# ------------------------------------------------------------------ services


class ServiceIndex:
    """Core Services by namespace and by one of their selector pairs, so a template is matched
    against the few Services that can select it, not every Service of its namespace."""

    def __init__(self, services: Iterable[Object]) -> None:
        self._by_pair: dict[tuple[str, str, str], list[tuple[Object, dict[str, str]]]] = (
            defaultdict(list)
        )
        for svc in services:
            if svc.group:
                continue  # a Knative Service is a workload, not a selector
            spec = getattr(svc, "spec", None)
            selector = spec.get("selector") if isinstance(spec, dict) else None
            if not isinstance(selector, dict) or not selector:
                continue  # no selector: endpoints managed by hand, or ExternalName
            pairs = {str(k): str(v) for k, v in selector.items()}
            key, value = min(pairs.items())
            self._by_pair[(svc.namespace or "default", key, value)].append((svc, pairs))

    def selecting(self, namespace: str | None, labels: Mapping[str, str]) -> list[Object]:
        """Services of `namespace` whose selector matches `labels`."""
        ns = namespace or "default"
        out: list[Object] = []
        for key, value in labels.items():
            for svc, pairs in self._by_pair.get((ns, key, value), ()):
                if svc not in out and all(labels.get(k) == v for k, v in pairs.items()):
                    out.append(svc)
        return out


# ------------------------------------------------------------------ commands


def _words(segment: str) -> list[str]:
    words = segment.split()
    while words and (
        words[0] in _PREFIX_WORDS or words[0] in _LOOP_WORDS or _ASSIGNMENT.match(words[0])
    ):
        words = words[1:]
    if words and words[0] == "env":
        words = words[1:]
        while words and (words[0].startswith("-") or _ASSIGNMENT.match(words[0])):
            words = words[1:]
        if not words:
            return ["env"]
    return words


def script_of(container: Container) -> str | None:
    """The shell script or command line a container runs, `sh -c` unwrapped; None when it sets
    no command (what runs is the image's entrypoint, unknown here)."""
    argv = [*container.command, *container.args]
    if not argv:
        return None
    if argv[0].rsplit("/", 1)[-1] in SHELLS:
        for i, arg in enumerate(argv[1:], start=1):
            if arg.startswith("-") and "c" in arg:
                return " ".join(argv[i + 1 :])
    return " ".join(argv)


def idle_script(script: str, idle: Mapping[str, IdleCommand]) -> bool:
    """Whether every command in a script only waits or prints (sleep, echo, nvidia-smi, ...)."""
    seen = False
    for raw in _SEGMENT_SPLIT.split(script):
        segment = raw.strip()
        if segment.startswith("#"):
            continue
        words = _words(segment)
        if not words or words[0] in _CLOSERS:
            continue
        entry = idle.get(words[0].rsplit("/", 1)[-1])
        if entry is None or (entry.only_with and entry.only_with not in segment):
            return False
        seen = True
    return seen


def _snippet(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ------------------------------------------------------------------ classification


@dataclass(frozen=True, slots=True)
class _Signal:
    level: int
    role: WorkloadRole
    evidence: str


def _owner_kind(workload: Object) -> tuple[str, str] | None:
    """(kind key, name) of a Pod's controller when the controller is not in the input."""
    refs = workload.metadata.owner_references
    ref = next((r for r in refs if r.controller), refs[0] if refs else None)
    if ref is None or not ref.kind:
        return None
    return kind_key(ref.api_version, ref.kind), ref.name


def _containers(templates: Sequence[PodTemplate]) -> list[Container]:
    """Regular containers, those requesting a GPU first."""
    containers = [c for t in templates for c in t.spec.containers]
    return sorted(containers, key=lambda c: not container_gpu_request(c))


def _runs_to_completion(kind: str, templates: Sequence[PodTemplate]) -> bool:
    if kind in COMPLETING_KINDS:
        return True
    if kind == "Pod":
        return any(t.spec.restart_policy in ("Never", "OnFailure") for t in templates)
    return False


def _command_signals(
    workload: Object, containers: Sequence[Container], facts: RoleFacts
) -> Iterator[_Signal]:
    scripts: list[tuple[str, str | None]] = [(c.name, script_of(c)) for c in containers]
    spec = getattr(workload, "spec", None)
    entrypoint = spec.get("entrypoint") if isinstance(spec, dict) else None
    if isinstance(entrypoint, str) and entrypoint:
        scripts.append(("entrypoint", entrypoint))  # a RayJob's job command
    best: tuple[int, str, str] | None = None
    for name, script in scripts:
        if script is None:
            continue
        found = facts.command_sign(script)
        if found is not None and (best is None or found[0] < best[0]):
            best = (found[0], name, script[found[1] :])
    if best is not None:
        sign = facts.commands[best[0]]
        where = "the job entrypoint" if best[1] == "entrypoint" else f"container {best[1]}"
        level = 1 if sign.role == DIAGNOSTIC else 3
        yield _Signal(level, sign.role, f"{where} runs {sign.what}: `{_snippet(best[2])}`")
    container_scripts = [script_of(c) for c in containers]
    if container_scripts and all(
        s is not None and idle_script(s, facts.idle) for s in container_scripts
    ):
        shown = next(s for s in container_scripts if s is not None)
        yield _Signal(1, DIAGNOSTIC, f"its containers only wait or print: `{_snippet(shown)}`")


def _image_signals(containers: Sequence[Container], facts: RoleFacts) -> Iterator[_Signal]:
    for container in containers:
        if not container.image:
            continue
        sign = facts.image_sign(container.image)
        if sign is not None:
            level = 1 if sign.role == DIAGNOSTIC else 4
            yield _Signal(level, sign.role, f"image {container.image} is {sign.what}")
            return


def classify(
    workload: Object,
    templates: Sequence[PodTemplate],
    services: ServiceIndex,
    facts: RoleFacts,
) -> Role:
    """The role of one workload from its kind, templates, the Services in front of it and the
    facts (see the module docstring for the precedence)."""
    kind = kind_of(workload)
    label = f"kind {workload.kind}"
    if isinstance(workload, AbsentController):
        label = f"owned by {workload.kind} {workload.name} (not in this input)"
    elif isinstance(workload, Pod) and workload.metadata.owner_references:
        owner = _owner_kind(workload)
        if owner is not None:
            kind, owner_name = owner
            label = f"owned by {kind.split('.')[0]} {owner_name} (not in this input)"
    containers = _containers(templates)
    signals: list[_Signal] = [
        *_command_signals(workload, containers, facts),
        *_image_signals(containers, facts),
    ]
    if kind in DEDICATED_KINDS:
        role, what = DEDICATED_KINDS[kind]
        signals.append(_Signal(2, role, f"{label}: {what}"))
    namespace = workload.namespace
    if namespace in facts.system_namespaces:
        signals.append(_Signal(5, SYSTEM, f"namespace {namespace} belongs to the platform"))
    completes = _runs_to_completion(kind, templates)
    if kind in SERVICE_KINDS and not completes:
        for template in templates:
            for svc in services.selecting(namespace, template.metadata.labels)[:1]:
                signals.append(
                    _Signal(
                        6,
                        SERVING,
                        f"Service {svc.namespace or 'default'}/{svc.name} selects its pods",
                    )
                )
                break
    if kind in DEFAULT_KINDS:
        role, what = DEFAULT_KINDS[kind]
        signals.append(_Signal(7, role, f"{label}: {what}"))
    elif kind == "Pod" and completes:
        signals.append(_Signal(7, BATCH, "a Pod with restartPolicy Never/OnFailure"))
    if not signals:
        return Role(UNKNOWN, _unknown_evidence(kind, containers, label))
    signals.sort(key=lambda s: s.level)
    chosen = signals[0]
    evidence = [s.evidence for s in signals if s.role == chosen.role][:3]
    role = chosen.role
    if role == SERVING and chosen.level in (3, 4) and completes:
        role = BATCH
        evidence.append(f"{label} runs to completion: batch inference")
    return Role(role, tuple(dict.fromkeys(evidence)))


def _unknown_evidence(kind: str, containers: Sequence[Container], label: str) -> tuple[str, ...]:
    images = ", ".join(dict.fromkeys(c.image for c in containers if c.image)) or "no image"
    service = ", no Service selects its pods" if kind in SERVICE_KINDS else ""
    return (
        f"{label}{service}",
        f"{images}: no known server, trainer, notebook or test image or command",
    )


class RoleIndex:
    """Roles of one snapshot's workloads, each classified the first time it is asked for
    (a check asks about its GPU workloads, the engine about the subjects of findings), against
    Services indexed once."""

    def __init__(
        self,
        templates: Mapping[int, Sequence[PodTemplate]],
        services: Iterable[Object],
        facts: RoleFacts,
    ) -> None:
        self.facts = facts
        self._templates = templates
        self._services = ServiceIndex(services)
        self._roles: dict[int, Role] = {}

    def of(self, workload: Object) -> Role:
        """The role of a workload (an object with pod templates); NOT_A_WORKLOAD otherwise."""
        key = id(workload)
        found = self._roles.get(key)
        if found is None:
            templates = self._templates.get(key)
            if templates is None:
                return NOT_A_WORKLOAD
            found = self._roles[key] = classify(workload, templates, self._services, self.facts)
        return found


# ------------------------------------------------------------------ run time


def _seconds(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def deadline_seconds(workload: Object, templates: Sequence[PodTemplate]) -> int | None:
    """The longest a workload may run, when something bounds it: a Job's (or CronJob's job
    template's) activeDeadlineSeconds, the pods' activeDeadlineSeconds, a Kubeflow job's
    runPolicy.activeDeadlineSeconds, a RayJob's or a JobSet's replicated Jobs'."""
    found: list[int] = []
    if isinstance(workload, Job):
        found.append(workload.spec.active_deadline_seconds or 0)
    elif isinstance(workload, CronJob):
        found.append(workload.spec.job_template.spec.active_deadline_seconds or 0)
    else:
        spec = getattr(workload, "spec", None)
        found += [
            _seconds(dig(spec, *path)) or 0
            for path in (("activeDeadlineSeconds",), ("runPolicy", "activeDeadlineSeconds"))
        ]
        jobs = dig(spec, "replicatedJobs")
        if isinstance(jobs, list) and jobs:
            limits = [_seconds(dig(j, "template", "spec", "activeDeadlineSeconds")) for j in jobs]
            if all(limits):
                found.append(max(x for x in limits if x))
    found += [t.spec.active_deadline_seconds or 0 for t in templates]
    bounded = [s for s in found if s > 0]
    return min(bounded) if bounded else None


def is_pytorch_style(template: PodTemplate) -> bool:
    """Distributed PyTorch-style training: a Kubeflow PyTorchJob, or any training template whose
    images or commands mention torch (DataLoader workers need shared memory)."""
    if template.workload.kind == "PyTorchJob":
        return True
    for container in template.spec.containers:
        text = " ".join([container.image or "", *container.command, *container.args]).lower()
        if any(
            word in text
            for word in (
                "torch",
                "pytorch",
                "deepspeed",
                "accelerate launch",
                "megatron",
                "nemo",
                "transformers",
            )
        ):
            return True
    return False
