"""What plumbob exports as admission policies: for each single-object check, and for the
baseline's intent, a CEL validation a ValidatingAdmissionPolicy (or a Kyverno ClusterPolicy's
`validate.cel`) evaluates on every Pod and on every workload whose pod template it reads.

Each rule's expression is true where the object complies, as in a VAP validation. The
expressions mirror the checks they enforce; where CEL on one admission request cannot see what
the check sees (the nodes, the GPU stack's images), docs/guardrails.md lists the difference.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from plumbob.checks.custom import CustomCheck
from plumbob.checks.registry import Check
from plumbob.drift.baseline import Baseline
from plumbob.knowledge.credentials import credential_facts
from plumbob.knowledge.gpu_host_paths import gpu_host_paths
from plumbob.model import images
from plumbob.model.gpu import MIG_PREFIX, WHOLE_GPU_RESOURCES
from plumbob.model.images import registry_entry


@dataclass(frozen=True, slots=True)
class Resource:
    """One kind an admission policy matches: API group, versions, plural resource, kind."""

    group: str
    versions: tuple[str, ...]
    resource: str
    kind: str


WORKLOAD_RESOURCES = (
    Resource("", ("v1",), "pods", "Pod"),
    Resource("apps", ("v1",), "deployments", "Deployment"),
    Resource("apps", ("v1",), "statefulsets", "StatefulSet"),
    Resource("apps", ("v1",), "daemonsets", "DaemonSet"),
    Resource("apps", ("v1",), "replicasets", "ReplicaSet"),
    Resource("batch", ("v1",), "jobs", "Job"),
    Resource("batch", ("v1",), "cronjobs", "CronJob"),
    Resource("kubeflow.org", ("*",), "pytorchjobs", "PyTorchJob"),
    Resource("kubeflow.org", ("*",), "tfjobs", "TFJob"),
    Resource("kubeflow.org", ("*",), "mpijobs", "MPIJob"),
    Resource("kubeflow.org", ("*",), "paddlejobs", "PaddleJob"),
    Resource("kubeflow.org", ("*",), "xgboostjobs", "XGBoostJob"),
    Resource("kubeflow.org", ("*",), "jaxjobs", "JAXJob"),
    Resource("jobset.x-k8s.io", ("*",), "jobsets", "JobSet"),
    Resource("leaderworkerset.x-k8s.io", ("*",), "leaderworkersets", "LeaderWorkerSet"),
    Resource("ray.io", ("*",), "rayclusters", "RayCluster"),
    Resource("ray.io", ("*",), "rayjobs", "RayJob"),
    Resource("ray.io", ("*",), "rayservices", "RayService"),
    Resource("batch.volcano.sh", ("*",), "jobs", "Job"),
)
"""Pods and the workload kinds whose pod templates the exported rules read (model/workloads.py
reads these and more: KServe InferenceServices and Knative Services put pod fields in shapes of
their own, which the rules do not read; docs/guardrails.md)."""

_REPLICA_SPECS = {
    "PyTorchJob": "pytorchReplicaSpecs",
    "TFJob": "tfReplicaSpecs",
    "MPIJob": "mpiReplicaSpecs",
    "PaddleJob": "paddleReplicaSpecs",
    "XGBoostJob": "xgbReplicaSpecs",
    "JAXJob": "jaxReplicaSpecs",
}


def _ray(spec: str) -> str:
    """CEL: the pod specs of a RayCluster spec at `spec`."""
    return (
        f"(has({spec}.headGroupSpec) ? [{spec}.headGroupSpec.template.spec] : []) + "
        f"(has({spec}.workerGroupSpecs) ? {spec}.workerGroupSpecs.map(w, w.template.spec) : [])"
    )


def _pod_specs() -> str:
    """CEL: the pod specs of the object, whatever its kind (a list)."""
    lines = [
        "object.kind == 'Pod' ? [object.spec] :",
        "object.kind == 'CronJob' ? [object.spec.jobTemplate.spec.template.spec] :",
        "object.apiVersion.startsWith('batch.volcano.sh/') ? "
        "(has(object.spec.tasks) ? object.spec.tasks.map(t, t.template.spec) : []) :",
        "object.kind == 'JobSet' ? (has(object.spec.replicatedJobs) ? "
        "object.spec.replicatedJobs.map(j, j.template.spec.template.spec) : []) :",
        "object.kind == 'LeaderWorkerSet' ? "
        "[object.spec.leaderWorkerTemplate.workerTemplate.spec] + "
        "(has(object.spec.leaderWorkerTemplate.leaderTemplate) ? "
        "[object.spec.leaderWorkerTemplate.leaderTemplate.spec] : []) :",
        f"object.kind == 'RayCluster' ? {_ray('object.spec')} :",
        "object.kind == 'RayJob' ? (has(object.spec.rayClusterSpec) ? "
        f"{_ray('object.spec.rayClusterSpec')} : []) :",
        "object.kind == 'RayService' ? (has(object.spec.rayClusterConfig) ? "
        f"{_ray('object.spec.rayClusterConfig')} : []) :",
    ]
    for kind, field in _REPLICA_SPECS.items():
        specs = f"object.spec.{field}"
        lines.append(
            f"object.kind == '{kind}' ? (has({specs}) ? "
            f"{specs}.map(r, {specs}[r].template.spec) : []) :"
        )
    lines.append("[object.spec.template.spec]")
    return "\n".join(lines)


POD_SPECS = ("podSpecs", _pod_specs())
"""The variable every rule reads its pod specs from."""


def _literal(value: object) -> str:
    """A CEL literal (strings, lists, maps of them): JSON's spelling is CEL's."""
    return json.dumps(value)


def _gpu_name(key: str) -> str:
    return f"({key} in {_literal(list(WHOLE_GPU_RESOURCES))} || {key}.startsWith('{MIG_PREFIX}'))"


def _gpu_list(field: str) -> str:
    return (
        f"(has({field}) && {field}.exists(k, {_gpu_name('k')} && "
        f"quantity(string({field}[k])).isGreaterThan(quantity('0'))))"
    )


GPU_CONTAINER = (
    "(has(c.resources) && ("
    + _gpu_list("c.resources.limits")
    + " || "
    + _gpu_list("c.resources.requests")
    + " || (has(c.resources.claims) && size(c.resources.claims) > 0)))"
)
"""CEL over a container `c`: it gets a GPU (a GPU resource above 0, or a DRA claim)."""

GPU_POD = (
    f"(s.containers.exists(c, {GPU_CONTAINER}) || "
    f"(has(s.initContainers) && s.initContainers.exists(c, {GPU_CONTAINER}))"
    " || (has(s.resourceClaims) && size(s.resourceClaims) > 0))"
)
"""CEL over a pod spec `s`: it gets a GPU (as model/gpu.py `pod_uses_gpu`)."""


def every_container(predicate: str) -> str:
    """CEL over a pod spec `s`: `predicate` (over `c`) holds for every container and init
    container."""
    return (
        f"(s.containers.all(c, {predicate}) && "
        f"(!has(s.initContainers) || s.initContainers.all(c, {predicate})))"
    )


def every_pod(predicate: str, gpu_only: bool = False) -> str:
    """CEL: `predicate` (over `s`) holds for every pod spec (every GPU pod spec)."""
    if gpu_only:
        predicate = f"!{GPU_POD} || {predicate}"
    return f"variables.podSpecs.all(s, {predicate})"


@dataclass(frozen=True, slots=True)
class Rule:
    """One exported policy: the check it enforces and the CEL that decides."""

    check: str
    title: str
    severity: str
    category: str
    description: str
    expression: str
    message: str
    """What to change, one line (a VAP message takes no line breaks)."""
    resources: tuple[Resource, ...] = WORKLOAD_RESOURCES
    variables: tuple[tuple[str, str], ...] = (POD_SPECS,)


@dataclass(frozen=True, slots=True)
class Parameters:
    """What the rules take from the baseline."""

    approved_registries: tuple[str, ...] = ()
    gpu_taints: tuple[tuple[tuple[str, str, str], ...], ...] = ()
    """For each GPU pool of the baseline, the (key, value, effect) of the taints it requires
    (pools with the same taints once)."""
    digest: bool = False
    """GPU images must be pinned by digest (`cluster.gpu-image-pinning: digest`)."""


_GPU_POOL_KEYS = (
    "nvidia_driver",
    "cuda",
    "gpu_product",
    "gpu_count",
    "mig_strategy",
    "mig_config",
    "allocatable_gpu",
)


def parameters(baseline: Baseline | None) -> Parameters:
    """The rules' parameters from a baseline: its approved registries, the taints of its GPU
    pools (pools that state a GPU attribute, or whose taint is a GPU resource's key) and
    whether GPU images must be pinned by digest."""
    if baseline is None:
        return Parameters()
    taints: dict[tuple[tuple[str, str, str], ...], None] = {}
    for pool in baseline.pools.values():
        required = tuple(sorted(_taint(t) for t in pool.required_taints))
        gpu_pool = any(getattr(pool, key) is not None for key in _GPU_POOL_KEYS)
        if required and (gpu_pool or any(k in WHOLE_GPU_RESOURCES for k, _, _ in required)):
            taints[required] = None
    registries = tuple(
        dict.fromkeys(registry_entry(r) for r in baseline.cluster.approved_registries)
    )
    return Parameters(
        approved_registries=registries,
        gpu_taints=tuple(taints),
        digest=baseline.cluster.gpu_image_pinning == "digest",
    )


def _taint(text: str) -> tuple[str, str, str]:
    """`key[=value]:Effect` -> (key, value, effect)."""
    head, _, effect = text.rpartition(":")
    key, _, value = head.partition("=")
    return key, value, effect


_DOCKER_HUB = ("docker.io", "index.docker.io", "registry-1.docker.io")
_IMAGE_NAME = (
    "((c.image.split('/').size() > 1 && (c.image.split('/')[0].contains('.') || "
    "c.image.split('/')[0].contains(':') || c.image.split('/')[0] == 'localhost')) ? "
    "c.image.lowerAscii() : 'docker.io/' + c.image.lowerAscii())"
)
"""CEL over a container `c`: its image with the registry spelled out (docker.io when the first
part names no host), lower case, as model/images.py `parse_image` reads it."""


def _registry_rule(params: Parameters) -> Rule | None:
    approved = list(params.approved_registries)
    if not approved:
        return None
    if "docker.io" in approved:
        approved += [h for h in _DOCKER_HUB if h not in approved]
    allowed = (
        f"!has(c.image) || {_literal(approved)}.exists(r, {_IMAGE_NAME} == r || "
        f"{_IMAGE_NAME}.startsWith(r + '/') || {_IMAGE_NAME}.startsWith(r + ':') || "
        f"{_IMAGE_NAME}.startsWith(r + '@'))"
    )
    return Rule(
        check="image-registry-not-approved",
        title="Images only from approved registries",
        severity="medium",
        category="images",
        description="Every container image comes from a registry the baseline approves.",
        expression=every_pod(every_container(allowed)),
        message=(
            "an image comes from a registry outside the approved list "
            f"({', '.join(params.approved_registries)}): pull it through an approved registry"
        ),
    )


_DANGEROUS_CAPABILITIES = ("SYS_ADMIN", "SYS_MODULE", "ALL")
"""As checks/gpu/gpu_workload_host_access.py."""

_TAG_WORDS = sorted(
    {"latest", *images.BRANCH_TAGS, *images.NIGHTLY_TAGS, *images.CHANNEL_TAGS}
    | images.PRERELEASE_TAGS
)
_COMMIT = "(p.matches('^[0-9a-f]{7,40}$') && p.matches('[a-f]') && p.matches('[0-9]'))"
_BUILD = f"(p.matches('^([0-9]{{6,}}|g[0-9a-f]{{7,40}}|sha[0-9a-f]{{7,64}})$') || {_COMMIT})"
_PINNING = (
    "(p.matches('^(v?[0-9]+([.][0-9]+)+[a-z0-9.]*|[0-9]{4,}|g[0-9a-f]{7,40}|sha[0-9a-f]{7,64})$')"
    f" || {_COMMIT})"
)
_PRERELEASE = (
    "(^|[-_.+])v?[0-9]+([.][0-9]+)*([-_.]?(rc|alpha|beta|pre|preview|dev)([-_.]?[0-9]+)?"
    "|[ab][0-9]+)($|[-_.+])"
)
_LAST = "c.image.split('/')[c.image.split('/').size() - 1].split('@')[0]"


def _tag_pinned(tag: str) -> str:
    """CEL over a tag `tag` (lower case): it names one build, as model/images.py `_tag_kind`
    decides (the same token rules; RE2 has no look-ahead, so a commit is three matches)."""
    parts = f"{tag}.replace('_', '-').replace('+', '-').split('-')"
    return (
        f"({tag} != 'latest' && ({parts}.exists(p, {_BUILD}) || "
        f"(({parts}.exists(p, {_PINNING}) || !{parts}.exists(p, p in {_literal(_TAG_WORDS)})) && "
        f"!{tag}.matches('{_PRERELEASE}'))))"
    )


def _pinned_rule(params: Parameters) -> Rule:
    if params.digest:
        pinned = "!has(c.image) || c.image.contains('@sha256:')"
        message = "a GPU workload's image is not pinned by digest: use image@sha256:..."
    else:
        tag = f"{_LAST}.split(':')[1].lowerAscii()"
        pinned = (
            f"!has(c.image) || c.image.contains('@') || "
            f"({_LAST}.contains(':') && {_tag_pinned(tag)})"
        )
        message = (
            "a GPU workload's image has no tag, :latest, or a branch, nightly or pre-release "
            "tag: pin a release tag or a digest"
        )
    return Rule(
        check="gpu-image-mutable-tag",
        title="GPU workloads pin their images",
        severity="medium",
        category="images",
        description="Containers of GPU pods run a pinned release tag (or a digest).",
        expression=every_pod(every_container(pinned), gpu_only=True),
        message=message,
    )


def _limit_rule() -> Rule:
    equal = (
        "!has(c.resources) || !has(c.resources.requests) || c.resources.requests.all(k, "
        f"!{_gpu_name('k')} || (has(c.resources.limits) && k in c.resources.limits && "
        "quantity(string(c.resources.limits[k])).compareTo("
        "quantity(string(c.resources.requests[k]))) == 0))"
    )
    return Rule(
        check="gpu-request-without-limit",
        title="GPU limits equal GPU requests",
        severity="high",
        category="gpu",
        description="Every GPU resource a container requests has a limit of the same amount.",
        expression=every_pod(every_container(equal)),
        message="a container requests GPUs without an equal limit: set limits to the request",
    )


def _taint_rule(params: Parameters) -> Rule | None:
    if not params.gpu_taints:
        return None
    pools = [[{"key": k, "value": v, "effect": e} for k, v, e in p] for p in params.gpu_taints]
    tolerates = (
        "has(s.tolerations) && s.tolerations.exists(x, "
        "((!has(x.key) || x.key == '') && has(x.operator) && x.operator == 'Exists') || "
        "(has(x.key) && x.key == t.key && ((has(x.operator) && x.operator == 'Exists') || "
        "(has(x.value) ? x.value : '') == t.value) && "
        "(!has(x.effect) || x.effect == '' || x.effect == t.effect)))"
    )
    shown = " or ".join(
        "+".join(f"{k}{'=' + v if v else ''}:{e}" for k, v, e in pool) for pool in params.gpu_taints
    )
    return Rule(
        check="node-pool-taint-untolerated",
        title="GPU pods tolerate the GPU pools' taints",
        severity="medium",
        category="cost",
        description=(
            "Pods that get GPUs tolerate the taints of at least one GPU pool of the baseline."
        ),
        expression=every_pod(f"{_literal(pools)}.exists(p, p.all(t, {tolerates}))", gpu_only=True),
        message=f"a GPU pod tolerates no GPU pool's taints ({shown}): add tolerations",
    )


def _priority_rule() -> Rule:
    on_workload = (
        "(object.kind != 'Pod' && has(object.spec.priorityClassName)) || "
        "(has(object.metadata.labels) && "
        "'kueue.x-k8s.io/priority-class' in object.metadata.labels) || "
        "(has(object.spec.runPolicy) && has(object.spec.runPolicy.schedulingPolicy) && "
        "has(object.spec.runPolicy.schedulingPolicy.priorityClass))"
    )
    return Rule(
        check="gpu-workload-no-priority-class",
        title="GPU pods carry a priority class",
        severity="medium",
        category="gpu",
        description="Pods that get GPUs set priorityClassName (or their workload a Kueue one).",
        expression=(
            f"object.kind == 'DaemonSet' || {on_workload} || "
            + every_pod("has(s.priorityClassName) && s.priorityClassName != ''", gpu_only=True)
        ),
        message="a GPU workload sets no priorityClassName: give its pods a PriorityClass",
    )


def _bypass_rule() -> Rule:
    visible = (
        "!has(c.env) || !c.env.exists(e, e.name == 'NVIDIA_VISIBLE_DEVICES' && "
        "has(e.value) && !(e.value.trim().lowerAscii() in ['', 'void', 'none']))"
    )
    dev_mounts = (
        "!has(c.volumeMounts) || !has(s.volumes) || !c.volumeMounts.exists(m, "
        "s.volumes.exists(v, v.name == m.name && has(v.hostPath) && "
        "v.hostPath.path.startsWith('/dev/nvidia')))"
    )
    return Rule(
        check="gpu-access-bypasses-device-plugin",
        title="No GPU access without a GPU request",
        severity="high",
        category="gpu",
        description=(
            "Pods that request no GPU neither set NVIDIA_VISIBLE_DEVICES nor mount /dev/nvidia*."
        ),
        expression=every_pod(f"{GPU_POD} || {every_container(f'({visible}) && ({dev_mounts})')}"),
        message=(
            "a container reaches GPUs without requesting them (NVIDIA_VISIBLE_DEVICES or "
            "/dev/nvidia*): request nvidia.com/gpu instead"
        ),
    )


def _host_access_rule() -> Rule:
    privileged = (
        "!has(c.securityContext) || ((!has(c.securityContext.privileged) || "
        "c.securityContext.privileged != true) && (!has(c.securityContext.capabilities) || "
        "!has(c.securityContext.capabilities.add) || "
        "!c.securityContext.capabilities.add.exists(a, "
        f"a.upperAscii().replace('CAP_', '') in {_literal(list(_DANGEROUS_CAPABILITIES))})))"
    )
    exact = [p for p, prefix in gpu_host_paths() if not prefix]
    prefixes = [p for p, prefix in gpu_host_paths() if prefix]
    host_paths = (
        "!has(s.volumes) || !s.volumes.exists(v, has(v.hostPath) && "
        f"(v.hostPath.path in {_literal(exact)} || "
        f"{_literal(prefixes)}.exists(p, v.hostPath.path.startsWith(p))))"
    )
    pod = (
        "(!has(s.hostPID) || s.hostPID != true) && (!has(s.hostIPC) || s.hostIPC != true) && "
        f"({host_paths}) && " + every_container(privileged)
    )
    return Rule(
        check="gpu-workload-host-access",
        title="No privileged GPU containers",
        severity="high",
        category="gpu",
        description=(
            "Pods that get GPUs run no privileged container, add no SYS_ADMIN/SYS_MODULE, "
            "share no host PID/IPC and mount no GPU host path."
        ),
        expression=every_pod(pod, gpu_only=True),
        message=(
            "a GPU pod has host access (privileged, SYS_ADMIN/SYS_MODULE, host PID/IPC or a "
            "GPU host path): drop it"
        ),
    )


def _credential_rule() -> Rule:
    facts = credential_facts()
    names = sorted(facts.names)
    words = "|".join(sorted(facts.words))
    placeholder = r"^\s*$|^\$\(|\$\{|\{\{|^<.*>$|x{4,}|X{4,}|\*{3,}|\.\.\."
    literal = (
        "has(e.value) && !has(e.valueFrom) && !e.value.matches(" + _literal(placeholder) + ") && "
        f"(e.name.upperAscii() in {_literal(names)} || e.name.upperAscii().matches("
        + _literal(f"(^|[_.-])({words})([_.-]|$)")
        + "))"
    )
    return Rule(
        check="env-plaintext-credential",
        title="Credentials not in plain env values",
        severity="high",
        category="policy",
        description="No container sets a credential-named variable to a literal value.",
        expression=every_pod(every_container(f"!has(c.env) || !c.env.exists(e, {literal})")),
        message=(
            "a container sets a credential as a literal env value: use valueFrom.secretKeyRef"
        ),
    )


def built_in_rules(params: Parameters) -> list[Rule]:
    """The rules for plumbob's single-object checks, with the baseline's parameters."""
    made = [
        _registry_rule(params),
        _pinned_rule(params),
        _limit_rule(),
        _taint_rule(params),
        _priority_rule(),
        _bypass_rule(),
        _host_access_rule(),
        _credential_rule(),
    ]
    return [r for r in made if r is not None]


def custom_rules(checks: Iterable[Check], known: Sequence[Resource] = ()) -> list[Rule]:
    """Custom checks as rules: their expression as it is, matching their kinds."""
    out = []
    for check in checks:
        if not isinstance(check.fn, CustomCheck):
            continue
        out.append(
            Rule(
                check=check.id,
                title=check.title,
                severity=check.severity.value,
                category=check.category,
                description=check.title,
                expression=check.fn.expression.source,
                message=check.fn.message or check.title,
                resources=tuple(resource_of(k, known) for k in check.fn.kinds),
                variables=(),
            )
        )
    return out


_KNOWN_KINDS = {
    "Namespace": Resource("", ("v1",), "namespaces", "Namespace"),
    "Service": Resource("", ("v1",), "services", "Service"),
    "ConfigMap": Resource("", ("v1",), "configmaps", "ConfigMap"),
    "PersistentVolumeClaim": Resource(
        "", ("v1",), "persistentvolumeclaims", "PersistentVolumeClaim"
    ),
    "Ingress": Resource("networking.k8s.io", ("v1",), "ingresses", "Ingress"),
    "HorizontalPodAutoscaler": Resource(
        "autoscaling", ("v2",), "horizontalpodautoscalers", "HorizontalPodAutoscaler"
    ),
    "PodDisruptionBudget": Resource(
        "policy", ("v1",), "poddisruptionbudgets", "PodDisruptionBudget"
    ),
}


def resource_of(kind: str, known: Sequence[Resource] = ()) -> Resource:
    """The resource a kind name stands for: the workload kinds and common built-in kinds by
    table, any other kind as its lower-case plural in every group."""
    for r in (*WORKLOAD_RESOURCES, *known):
        if r.kind == kind:
            return r
    if kind in _KNOWN_KINDS:
        return _KNOWN_KINDS[kind]
    lower = kind.lower()
    plural = lower + ("es" if lower.endswith(("s", "x", "ch", "sh")) else "s")
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        plural = lower[:-1] + "ies"
    return Resource("*", ("*",), plural, kind)
