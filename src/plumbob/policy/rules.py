"""What plumbob exports as admission policies: for each single-object check, and for the
baseline's intent, a CEL validation a ValidatingAdmissionPolicy (or a Kyverno ClusterPolicy's
`validate.cel`) evaluates on every Pod and on every workload whose pod template it reads.

Each rule's expression is true where the object complies, as in a VAP validation. The
expressions mirror the checks they enforce; where CEL on one admission request cannot see what
the check sees (the nodes, the GPU stack's images), docs/guardrails.md lists the difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from plumbob.checks.custom import CustomCheck
from plumbob.checks.registry import Check
from plumbob.checks.resilience.liveness_without_startup_probe import MIN_STARTUP_SECONDS
from plumbob.drift.baseline import Baseline
from plumbob.knowledge.components import gpu_stack_images, gpu_stack_namespaces
from plumbob.knowledge.credentials import credential_facts
from plumbob.knowledge.gpu_host_paths import gpu_host_paths
from plumbob.model import images
from plumbob.model.gpu import KAI_SHARE_ANNOTATIONS, MIG_PREFIX, WHOLE_GPU_RESOURCES
from plumbob.model.images import registry_entry
from plumbob.model.workloads import KSERVE_CONTAINER_KEYS


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
    Resource("kubeflow.org", ("*",), "mxjobs", "MXJob"),
    Resource("kubeflow.org", ("*",), "notebooks", "Notebook"),
    Resource("jobset.x-k8s.io", ("*",), "jobsets", "JobSet"),
    Resource("leaderworkerset.x-k8s.io", ("*",), "leaderworkersets", "LeaderWorkerSet"),
    Resource("ray.io", ("*",), "rayclusters", "RayCluster"),
    Resource("ray.io", ("*",), "rayjobs", "RayJob"),
    Resource("ray.io", ("*",), "rayservices", "RayService"),
    Resource("batch.volcano.sh", ("*",), "jobs", "Job"),
    Resource("serving.kserve.io", ("*",), "inferenceservices", "InferenceService"),
    Resource("serving.kserve.io", ("*",), "llminferenceservices", "LLMInferenceService"),
    Resource("serving.knative.dev", ("*",), "services", "Service"),
)
"""Pods and the workload kinds whose pod templates the exported rules read: those
model/workloads.py reads (KFServing's serving.kubeflow.org InferenceServices aside, an API no
release serves any more; custom-resource-version-removed reports them)."""

_REPLICA_SPECS = {
    "PyTorchJob": "pytorchReplicaSpecs",
    "TFJob": "tfReplicaSpecs",
    "MPIJob": "mpiReplicaSpecs",
    "PaddleJob": "paddleReplicaSpecs",
    "XGBoostJob": "xgbReplicaSpecs",
    "MXJob": "mxReplicaSpecs",
    "JAXJob": "jaxReplicaSpecs",
}


def _ray(spec: str) -> str:
    """CEL: the pod templates of a RayCluster spec at `spec`."""
    return (
        f"(has({spec}.headGroupSpec) ? [{spec}.headGroupSpec.template] : []) + "
        f"(has({spec}.workerGroupSpecs) ? {spec}.workerGroupSpecs.map(w, w.template) : [])"
    )


KSERVE_POD_FIELDS = {
    "initContainers": "[]",
    "volumes": "[]",
    "tolerations": "[]",
    "resourceClaims": "[]",
    "nodeSelector": "{}",
    "affinity": "{}",
    "priorityClassName": "''",
    "runtimeClassName": "''",
    "schedulerName": "''",
    "serviceAccountName": "''",
    "hostPID": "false",
    "hostIPC": "false",
    "hostNetwork": "false",
    "securityContext": "{}",
}
"""The pod fields a KServe component carries beside its containers, with what stands for
their absence (an empty list, map or string, false: the rules read each of these as they
read an absent field). A rule reading another pod field needs it here (a test checks).
The model server's container sits under one of model/workloads.py KSERVE_CONTAINER_KEYS."""


def _kserve_component(c: str, servers: bool = True) -> str:
    """CEL: the KServe InferenceService component `c` (predictor, transformer or explainer)
    as a pod template. A component is a pod spec whose model server container sits under a
    key of its own (`model`, `pytorch`, ..., KFServing's `custom.container`); CEL cannot merge
    maps, so the template is built field by field, every value `dyn` (the API server allows
    map literals of one value type only). Without `servers`, `c` is a plain pod spec that
    may leave out its containers (an LLMInferenceService's)."""
    containers = f"(has({c}.containers) ? {c}.containers : [])"
    if servers:
        keys = " + ".join(f"(has({c}.{k}) ? [{c}.{k}] : [])" for k in KSERVE_CONTAINER_KEYS)
        custom = f"(has({c}.custom) && has({c}.custom.container) ? [{c}.custom.container] : [])"
        containers = f"{keys} + {custom} + {containers}"
    fields = ", ".join(
        f"'{k}': dyn(has({c}.{k}) ? {c}.{k} : {empty})" for k, empty in KSERVE_POD_FIELDS.items()
    )
    return f"{{'spec': {{'containers': dyn({containers}), {fields}}}}}"


def _kserve() -> str:
    """CEL: the pod templates of a KServe InferenceService, one per component it has."""
    components = " + ".join(
        f"(has(object.spec.{k}) ? [object.spec.{k}] : [])"
        for k in ("predictor", "transformer", "explainer")
    )
    return f"({components}).map(c, {_kserve_component('c')})"


def _llm_inference_service() -> str:
    """CEL: the pod templates of a KServe LLMInferenceService: its `template` and `worker`,
    the same in `prefill`, and the router's scheduler, each a pod spec (model/workloads.py
    reads the same). They are built as a component's are: a pod spec here may leave out its
    containers, which the well-known configs supply."""
    specs = [
        ("object.spec", "template"),
        ("object.spec", "worker"),
        ("object.spec.prefill", "template"),
        ("object.spec.prefill", "worker"),
        ("object.spec.router.scheduler", "template"),
    ]
    present = " + ".join(
        f"({_has_path(f'{parent}.{field}')} ? [{parent}.{field}] : [])" for parent, field in specs
    )
    return f"({present}).map(c, {_kserve_component('c', servers=False)})"


def _has_path(path: str) -> str:
    """CEL: every field on the way to `path` (below `object.spec`) is set."""
    parts = path.split(".")
    return " && ".join(f"has({'.'.join(parts[:i])})" for i in range(3, len(parts) + 1))


def _pod_templates() -> str:
    """CEL: the pod templates of the object, whatever its kind (a list; a Pod is its own). A
    Knative Service's and a Kubeflow Notebook's are at `spec.template`, as a Deployment's."""
    lines = [
        "object.kind == 'Pod' ? [object] :",
        f"object.kind == 'InferenceService' ? {_kserve()} :",
        f"object.kind == 'LLMInferenceService' ? {_llm_inference_service()} :",
        "object.kind == 'CronJob' ? [object.spec.jobTemplate.spec.template] :",
        "object.apiVersion.startsWith('batch.volcano.sh/') ? "
        "(has(object.spec.tasks) ? object.spec.tasks.map(t, t.template) : []) :",
        "object.kind == 'JobSet' ? (has(object.spec.replicatedJobs) ? "
        "object.spec.replicatedJobs.map(j, j.template.spec.template) : []) :",
        "object.kind == 'LeaderWorkerSet' ? "
        "[object.spec.leaderWorkerTemplate.workerTemplate] + "
        "(has(object.spec.leaderWorkerTemplate.leaderTemplate) ? "
        "[object.spec.leaderWorkerTemplate.leaderTemplate] : []) :",
        f"object.kind == 'RayCluster' ? {_ray('object.spec')} :",
        "object.kind == 'RayJob' ? (has(object.spec.rayClusterSpec) ? "
        f"{_ray('object.spec.rayClusterSpec')} : []) :",
        "object.kind == 'RayService' ? (has(object.spec.rayClusterConfig) ? "
        f"{_ray('object.spec.rayClusterConfig')} : []) :",
    ]
    for kind, field in _REPLICA_SPECS.items():
        specs = f"object.spec.{field}"
        lines.append(
            f"object.kind == '{kind}' ? (has({specs}) ? {specs}.map(r, {specs}[r].template) : []) :"
        )
    lines.append("[object.spec.template]")
    return "\n".join(lines)


POD_TEMPLATES = ("podTemplates", _pod_templates())
"""The variable every rule reads its pod templates from: `t.metadata` and `t.spec` of each."""


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
    " || (has(s.resourceClaims) && size(s.resourceClaims) > 0)"
    " || (has(t.metadata) && has(t.metadata.annotations) && "
    f"{_literal(list(KAI_SHARE_ANNOTATIONS))}.exists(k, k in t.metadata.annotations)))"
)
"""CEL over a pod template `t` and its spec `s`: it gets a GPU (as model/gpu.py
`pod_uses_gpu`: a GPU resource, a DRA claim, or a KAI Scheduler GPU-share annotation)."""


_REPOSITORY = (
    "c.image.split('@')[0].split('/').size() > 1 && "
    "(c.image.split('/')[0].contains('.') || c.image.split('/')[0].contains(':') || "
    "c.image.split('/')[0] == 'localhost') ? "
    "c.image.substring(c.image.indexOf('/') + 1).split('@')[0].split(':')[0] : "
    "c.image.split('@')[0].split(':')[0]"
)
"""CEL over a container `c`: its image's repository path, without registry, tag or digest."""


def _gpu_stack() -> str:
    """CEL over a pod template `t`: a workload of the GPU stack itself (device plugin, GFD,
    DCGM exporter, GPU operator, NFD, ...): in one of its namespaces, or running one of its
    images (knowledge/components.py `is_gpu_stack`)."""
    namespaces = _literal(sorted(gpu_stack_namespaces()))
    paths = _literal(list(gpu_stack_images()))
    images = f"{paths}.exists(p, ({_REPOSITORY}) == p || ({_REPOSITORY}).endsWith('/' + p))"
    return (
        f"((has(object.metadata.namespace) && object.metadata.namespace in {namespaces}) || "
        f"t.spec.containers.exists(c, has(c.image) && ({images})) || "
        f"(has(t.spec.initContainers) && t.spec.initContainers.exists(c, has(c.image) && "
        f"({images}))))"
    )


def every_container(predicate: str) -> str:
    """CEL over a pod spec `s`: `predicate` (over `c`) holds for every container and init
    container."""
    return (
        f"(s.containers.all(c, {predicate}) && "
        f"(!has(s.initContainers) || s.initContainers.all(c, {predicate})))"
    )


_SPEC = re.compile(r"\bs\.")


def every_pod(predicate: str, gpu_only: bool = False) -> str:
    """CEL: `predicate` holds for every pod template (every GPU pod's); in it, `t` is the
    template and `s.` its spec."""
    if gpu_only:
        predicate = f"!{GPU_POD} || {predicate}"
    return f"variables.podTemplates.all(t, {_SPEC.sub('t.spec.', predicate)})"


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
    variables: tuple[tuple[str, str], ...] = (POD_TEMPLATES,)
    message_expression: str | None = None
    """CEL giving the message for one object (a custom check's messageExpression, or its
    message's placeholders filled in); `message` stays as the fallback."""


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
        "(has(x.key) && x.key == taint.key && ((has(x.operator) && x.operator == 'Exists') || "
        "(has(x.value) ? x.value : '') == taint.value) && "
        "(!has(x.effect) || x.effect == '' || x.effect == taint.effect)))"
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
        expression=every_pod(
            f"{_literal(pools)}.exists(p, p.all(taint, {tolerates}))", gpu_only=True
        ),
        message=(f"a GPU pod tolerates no GPU pool's taints ({shown}): add tolerations"),
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
            "object.kind == 'DaemonSet' || variables.workloadPriority || "
            + every_pod("has(s.priorityClassName) && s.priorityClassName != ''", gpu_only=True)
        ),
        message="a GPU workload sets no priorityClassName: give its pods a PriorityClass",
        # a variable, as the pod templates are: fields that only some matched kinds have
        # (`spec.runPolicy`) are read there, where the API server's type checking, which
        # checks each validation against every matched kind's schema, does not report them
        variables=(POD_TEMPLATES, ("workloadPriority", on_workload)),
    )


_GPU_LABEL_PREFIXES = (
    "nvidia.com/",
    "feature.node.kubernetes.io/pci-10de",
    "cloud.google.com/gke-accelerator",
    "karpenter.k8s.aws/instance-gpu",
)
"""As checks/gpu/gpu_access_bypasses_device_plugin.py: node labels that aim a pod at GPU nodes."""


def _gpu_label(key: str) -> str:
    """CEL: the label key `key` aims at GPU nodes."""
    return f"{_literal(list(_GPU_LABEL_PREFIXES))}.exists(p, {key}.startsWith(p))"


def _node_term(term: str) -> str:
    """CEL: a node selector term at `term` asks for a GPU label (In, Exists or Gt; NotIn and
    DoesNotExist keep pods away from GPU nodes)."""
    return (
        f"(has({term}.matchExpressions) && {term}.matchExpressions.exists(e, "
        f"e.operator in ['In', 'Exists', 'Gt'] && {_gpu_label('e.key')}))"
    )


def _gpu_intent() -> str:
    """CEL over a pod spec `s`: it aims at GPU nodes (an NVIDIA runtime class, a toleration of
    an nvidia.com/ taint, GPU node labels in its nodeSelector or node affinity)."""
    node = "s.affinity.nodeAffinity"
    required = f"{node}.requiredDuringSchedulingIgnoredDuringExecution"
    preferred = f"{node}.preferredDuringSchedulingIgnoredDuringExecution"
    affinity = (
        f"(has(s.affinity) && has({node}) && ("
        f"(has({required}) && has({required}.nodeSelectorTerms) && "
        f"{required}.nodeSelectorTerms.exists(m, {_node_term('m')})) || "
        f"(has({preferred}) && {preferred}.exists(w, has(w.preference) && "
        f"{_node_term('w.preference')}))))"
    )
    return (
        "((has(s.runtimeClassName) && s.runtimeClassName.contains('nvidia')) || "
        "(has(s.tolerations) && s.tolerations.exists(x, has(x.key) && "
        "x.key.startsWith('nvidia.com/'))) || "
        f"(has(s.nodeSelector) && s.nodeSelector.exists(k, {_gpu_label('k')})) || {affinity})"
    )


def _bypass_rule() -> Rule:
    visible = (
        "!has(c.env) || !c.env.exists(e, e.name == 'NVIDIA_VISIBLE_DEVICES' && "
        "has(e.value) && !(e.value.trim().lowerAscii() in ['', 'void', 'none']))"
    )
    mounted = (
        "has(c.volumeMounts) && has(s.volumes) && c.volumeMounts.exists(m, "
        "s.volumes.exists(v, v.name == m.name && has(v.hostPath) && ({path})))"
    )
    dev_nvidia = mounted.format(path="v.hostPath.path.startsWith('/dev/nvidia')")
    dev = mounted.format(path="v.hostPath.path == '/dev' || v.hostPath.path == '/dev/'")
    privileged = (
        "has(c.securityContext) && has(c.securityContext.privileged) && "
        "c.securityContext.privileged == true"
    )
    picks = (
        "!has(c.env) || !c.env.exists(e, e.name == 'CUDA_VISIBLE_DEVICES' && has(e.value) && "
        "!(e.value.trim().lowerAscii() in ['', 'void', 'none', 'nodevfiles']) && "
        "!e.value.trim().startsWith('-'))"
    )
    intent = _gpu_intent()
    reaches = (
        f"({visible}) && !({dev_nvidia}) && !({intent} && (({dev}) || !({picks}))) && "
        f"!({privileged} && ({intent} || !({visible}) || {dev_nvidia}))"
    )
    return Rule(
        check="gpu-access-bypasses-device-plugin",
        title="No GPU access without a GPU request",
        severity="high",
        category="gpu",
        description=(
            "Pods that request no GPU neither set NVIDIA_VISIBLE_DEVICES nor mount /dev/nvidia* "
            "(nor /dev, nor pick GPUs with CUDA_VISIBLE_DEVICES, nor run privileged, when they "
            "aim at GPU nodes); the GPU stack exempt."
        ),
        expression=every_pod(f"{GPU_POD} || {_gpu_stack()} || {every_container(reaches)}"),
        message=(
            "a container reaches GPUs without requesting them (NVIDIA_VISIBLE_DEVICES, "
            "/dev/nvidia*, or CUDA_VISIBLE_DEVICES or privileged on GPU nodes): request "
            "nvidia.com/gpu instead"
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
        expression=every_pod(f"{_gpu_stack()} || ({pod})", gpu_only=True),
        message=(
            "a GPU pod has host access (privileged, SYS_ADMIN/SYS_MODULE, host PID/IPC or a "
            "GPU host path): drop it"
        ),
    )


PLACEHOLDER = (
    r"^\s*<[^<>]*>\s*$|<[A-Za-z][^<>]*>|\$\(|\$\{|\{\{|^\$[A-Za-z_]\w*$|x{4,}|X{4,}|\*{3,}"
    r"|\.\.\.|…|^(?i:your|insert|replace|enter)[-_ ]|(?i:[-_ ]here)$"
    r"|^(?:REPLACE_?ME|CHANGE_?ME|TODO|TBD|FIXME)$"
)
"""knowledge/credentials.py `_PLACEHOLDER` in RE2's one-line spelling (tests/unit/policy
compares the two on every placeholder of the check's fixtures)."""
NOT_SECRET = ("", "true", "false", "yes", "no", "none", "null", "nil", "n/a", "-")
FILE_VALUE = ("/", "./", "../", "~/", "file://")
DIGITS_ONLY_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "PIN")
"""As knowledge/credentials.py: values that are no credential, and the words under which a
value of digits alone still is one."""


def _credential_name(words: str, joined: str) -> str:
    """CEL: the variable whose name's words are `words` (a list) and `joined` (the words joined
    by `_`) names a credential, as knowledge/credentials.py `credential_name` decides. RE2 has
    no look-behind: a word before TOKEN or KEY is read from `findAll` matches instead."""
    facts = credential_facts()
    others = "|".join(sorted(w for w in facts.words if w != "TOKEN"))
    last = f"{words}[size({words}) - 1]"
    key_id = f"(size({words}) >= 2 && {words}[size({words}) - 2] == 'KEY' && {last} == 'ID')"
    token = (
        f"({joined}.matches('^TOKEN(_|$)') || {joined}.findAll('[A-Z0-9]+_TOKEN(_|$)')"
        f".exists(m, !(m.split('_')[0] in {_literal(sorted(facts.not_before_token))})))"
    )
    key = (
        f"{joined}.findAll('[A-Z0-9]+_KEY(_ID)?$')"
        f".exists(m, !(m.split('_')[0] in {_literal(sorted(facts.not_before_key))}))"
    )
    return (
        f"(size({words}) > 0 && (!({last} in {_literal(sorted(facts.not_last))}) || {key_id}) && "
        f"({joined}.matches('(^|_)({others})(_|$)') || {token} || {key}))"
    )


def _credential_rule() -> Rule:
    facts = credential_facts()
    name = "e.name.upperAscii()"
    words = f"{name}.replace('-', '_').replace('.', '_').split('_').filter(w, w != '')"
    joined = f"{words}.join('_')"
    value = "e.value.trim()"
    placeholder = (
        f"({value}.lowerAscii() in {_literal(list(NOT_SECRET))} || "
        f"{_literal(list(FILE_VALUE))}.exists(p, {value}.startsWith(p)) || "
        f"{value}.matches({_literal(PLACEHOLDER)}))"
    )
    formats = " || ".join(f"{value}.matches({_literal(f.pattern.pattern)})" for f in facts.formats)
    digits_only = (
        f"(!{value}.matches('^[0-9]+$') || "
        f"{words}.exists(w, w in {_literal(list(DIGITS_ONLY_WORDS))}))"
    )
    named = f"({name} in {_literal(sorted(facts.names))} || {_credential_name(words, joined)})"
    literal = (
        f"has(e.value) && !has(e.valueFrom) && !{placeholder} && "
        f"(({formats}) || ({named} && {digits_only}))"
    )
    return Rule(
        check="env-plaintext-credential",
        title="Credentials not in plain env values",
        severity="high",
        category="policy",
        description=(
            "No container sets a credential (by its name, or a token by its format) as a "
            "literal env value."
        ),
        expression=every_pod(every_container(f"!has(c.env) || !c.env.exists(e, {literal})")),
        message=(
            "a container sets a credential as a literal env value: use valueFrom.secretKeyRef"
        ),
    )


def _kueue_label_rule() -> Rule:
    key = "'kueue.x-k8s.io/queue-name'"
    return Rule(
        check="kueue-queue-annotation-ignored",
        title="Kueue queues named in the label Kueue reads",
        severity="high",
        category="gpu",
        description="A workload that names a Kueue LocalQueue does so in the queue-name label.",
        expression=(
            f"!has(object.metadata.annotations) || !({key} in object.metadata.annotations) || "
            f"(has(object.metadata.labels) && {key} in object.metadata.labels)"
        ),
        message=(
            "the Kueue queue is named in an annotation Kueue ignores: set the label "
            "kueue.x-k8s.io/queue-name instead"
        ),
        variables=(),
    )


def _toleration_rule(params: Parameters) -> Rule:
    keys = sorted({"nvidia.com/gpu", *(k for pool in params.gpu_taints for k, _, _ in pool)})
    tolerates = (
        "has(s.tolerations) && s.tolerations.exists(x, "
        "(!has(x.effect) || x.effect in ['', 'NoSchedule', 'NoExecute']) && "
        f"(has(x.key) && x.key in {_literal(keys)}))"
    )
    return Rule(
        check="gpu-toleration-without-request",
        title="Only GPU pods tolerate the GPU taint",
        severity="medium",
        category="gpu",
        description=(
            "Pods that request no GPU do not tolerate the GPU nodes' taints (DaemonSets and "
            "static pods exempt)."
        ),
        expression=(
            "object.kind == 'DaemonSet' || (has(object.metadata.ownerReferences) && "
            "object.metadata.ownerReferences.exists(o, o.kind in ['DaemonSet', 'Node'])) || "
            "(has(object.metadata.annotations) && "
            "'kubernetes.io/config.mirror' in object.metadata.annotations) || "
            + every_pod(f"{GPU_POD} || {_gpu_stack()} || !({tolerates})")
        ),
        message=(
            "a pod that requests no GPU tolerates the GPU taint and lands on GPU nodes: "
            "drop the toleration or request a GPU"
        ),
    )


_GPU_REQUEST = (
    "(has(c.resources) && ("
    + _gpu_list("c.resources.limits")
    + " || "
    + _gpu_list("c.resources.requests")
    + "))"
)
"""CEL over a container `c`: it asks for GPUs by a resource request or limit, as model/gpu.py
`container_gpu_request` reads it (the container checks below judge these; unlike
GPU_CONTAINER, a DRA claim alone does not count, as it does not for those checks)."""


def _liveness_rule(min_startup_seconds: int) -> Rule:
    """As checks/resilience/liveness_without_startup_probe.py, with its `min-startup-seconds`:
    the budget is `liveness_budget`'s, with Kubernetes' probe defaults for what is unset or 0
    (the API server fills them in for Pods and built-in workloads; custom resources keep what
    they were given). `int()`: a custom resource whose schema leaves the pod template untyped
    gives its numbers to CEL as doubles in some engines (Kyverno's evaluation of a VAP)."""
    probe = "c.livenessProbe"
    delay = f"(has({probe}.initialDelaySeconds) ? int({probe}.initialDelaySeconds) : 0)"
    period = (
        f"(has({probe}.periodSeconds) && int({probe}.periodSeconds) != 0 ? "
        f"int({probe}.periodSeconds) : 10)"
    )
    failures = (
        f"(has({probe}.failureThreshold) && int({probe}.failureThreshold) != 0 ? "
        f"int({probe}.failureThreshold) : 3)"
    )
    patient = (
        f"!{_GPU_REQUEST} || !has({probe}) || has(c.startupProbe) || "
        f"{delay} + {period} * {failures} >= {min_startup_seconds}"
    )
    return Rule(
        check="liveness-without-startup-probe",
        title="GPU containers with a liveness probe have a startup probe",
        severity="medium",
        category="resilience",
        description=(
            "A GPU container with a livenessProbe also has a startupProbe, unless the liveness "
            f"probe alone allows {min_startup_seconds}s (initialDelaySeconds + periodSeconds x "
            "failureThreshold) to load the model."
        ),
        # containers only, not init containers: the check judges these
        expression=every_pod(f"s.containers.all(c, {patient})"),
        message=(
            "a GPU container's livenessProbe kills it after less than "
            f"{min_startup_seconds}s (initialDelaySeconds + periodSeconds x failureThreshold) "
            "and it has no startupProbe: add a startupProbe that allows the model to load"
        ),
    )


def _memory_rule() -> Rule:
    """As checks/resilience/gpu_workload_no_memory_request.py, but for the LimitRanges, which
    no admission policy can read. A Pod reaches validating admission after the LimitRanger
    admission plugin (a mutating one) has filled in its namespace's default memory request or
    limit, so a Pod is judged as the check judges it. A workload's pod template is never
    defaulted: it is judged as written, and the message says that a LimitRange default does not
    count for it (docs/guardrails.md)."""
    memory = (
        "(has(c.resources.requests) && 'memory' in c.resources.requests) || "
        "(has(c.resources.limits) && 'memory' in c.resources.limits)"
    )
    return Rule(
        check="gpu-workload-no-memory-request",
        title="GPU containers request memory",
        severity="medium",
        category="resilience",
        description=(
            "A container that asks for GPUs sets a memory request or limit (in a Pod, a "
            "namespace LimitRange's default counts; in a workload's pod template it does not)."
        ),
        # containers only, not init containers: the check judges these
        expression=every_pod(f"s.containers.all(c, !{_GPU_REQUEST} || {memory})"),
        message=(
            "a GPU container sets no memory request or limit: set resources.requests.memory "
            "(a namespace LimitRange's default is given to Pods when they are created, not to "
            "a workload's pod template)"
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
        _kueue_label_rule(),
        _toleration_rule(params),
        _liveness_rule(MIN_STARTUP_SECONDS.make_default()),
        _memory_rule(),
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
                message=check.title,
                resources=tuple(resource_of(k, known) for k in check.fn.kinds),
                variables=(),
                message_expression=(
                    check.fn.message_expression.source
                    if check.fn.message_expression is not None
                    else _message_cel(check.fn.message)
                    if check.fn.message is not None
                    else None
                ),
            )
        )
    return out


_MESSAGE_FIELDS = {
    "kind": "object.kind",
    "namespace": "(has(object.metadata.namespace) ? object.metadata.namespace : '')",
    "name": "object.metadata.name",
    "apiVersion": "object.apiVersion",
}
"""A custom check's message placeholders (checks/custom.py MESSAGE_FIELDS) in CEL."""


def _message_cel(message: str) -> str:
    """A custom check's `message` with `{kind}`-style placeholders as a CEL string
    expression, so that the policy's message names the object as the finding does."""
    import string

    parts = []
    for text, name, _, _ in string.Formatter().parse(message):
        if text:
            parts.append(_literal(text))
        if name is not None:
            parts.append(_MESSAGE_FIELDS[name])
    return " + ".join(parts) or "''"


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
    if kind in _KNOWN_KINDS:
        return _KNOWN_KINDS[kind]  # before the workloads: a Service is core's, not Knative's
    for r in (*WORKLOAD_RESOURCES, *known):
        if r.kind == kind:
            return r
    lower = kind.lower()
    plural = lower + ("es" if lower.endswith(("s", "x", "ch", "sh")) else "s")
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        plural = lower[:-1] + "ies"
    return Resource("*", ("*",), plural, kind)
