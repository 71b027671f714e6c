"""The Report: a versioned JSON document every renderer, the store and the server read.

Field docstrings here are the report schema; docs/report.md is generated from them.
"""

from __future__ import annotations

import enum
from typing import Any

import msgspec

from plumbob.report.sections import Sections

REPORT_API_VERSION = "plumbob.dev/v1"

_STRUCT = {"frozen": True, "kw_only": True, "rename": "camel", "omit_defaults": True}


class Severity(enum.StrEnum):
    """Ranked severities; compare with `rank`."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


class Level(enum.StrEnum):
    """How bad a diagnostic is: an error lost input, a warning kept it degraded."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class DiagnosticCode(enum.StrEnum):
    """What kind of problem a diagnostic is: a stable kebab-case code to filter and count on,
    where `message` is words for people and may change."""

    FILE_NOT_FOUND = "file-not-found"
    """A path given on the command line does not exist."""
    FILE_UNREADABLE = "file-unreadable"
    """A file or directory could not be read or listed (permissions, a broken symlink, a
    corrupt gzip stream)."""
    FILE_TOO_LARGE = "file-too-large"
    """A file (or its gunzipped content) is larger than plumbob reads; not read."""
    FILE_EMPTY = "file-empty"
    """A file with nothing but whitespace."""
    NOT_REGULAR_FILE = "not-regular-file"
    """A FIFO, socket or device (given, found in a folder or in a cluster dump): not read, as
    it may never end."""
    SYMLINK_LOOP = "symlink-loop"
    """A directory reached again through a symlink; not walked twice."""
    NOT_KUBERNETES_DATA = "not-kubernetes-data"
    """A file that is neither Kubernetes objects nor a node listing plumbob reads (binary,
    or text without apiVersion/kind)."""
    NOT_UTF8 = "not-utf8"
    """Text that is not UTF-8."""
    JSON_INVALID = "json-invalid"
    """Malformed JSON: a file, or one object of an API list page."""
    YAML_INVALID = "yaml-invalid"
    """A YAML document that cannot be read (syntax, a value that is not what its tag says, a
    bad document separator, an alias bomb); only that document is lost."""
    NESTED_TOO_DEEPLY = "nested-too-deeply"
    """Data nested deeper than any Kubernetes object: that document or object is not read."""
    UNRENDERED_TEMPLATE = "unrendered-template"
    """A Helm/Go template left in the input (`{{ .Values.x }}`): a whole document not read, or
    one value read as not set."""
    NOT_AN_OBJECT = "not-an-object"
    """Data without the shape of a Kubernetes object: no kind, apiVersion or metadata, not a
    mapping, a list of something else."""
    WRONG_FIELD_TYPE = "wrong-field-type"
    """A field whose value has the wrong type: the field is ignored, or the object is kept as
    a generic one or skipped, as the message says."""
    NOT_A_QUANTITY = "not-a-quantity"
    """A resource amount that is not a Kubernetes quantity (`"one"`): that amount is unknown."""
    DUPLICATE_OBJECT = "duplicate-object"
    """The same kind/namespace/name in two places: the later copy is used."""
    NODE_CONFLICT = "node-conflict"
    """One node described differently by two inputs (text beside JSON)."""
    TEXT_NOT_INVENTORY = "text-not-inventory"
    """Terminal text that looks like kubectl output but is not a node listing plumbob reads."""
    INVENTORY_LINE_SKIPPED = "inventory-line-skipped"
    """A line of a text inventory (`kubectl describe node`, ...) that could not be read."""
    SNAPSHOT_INVALID = "snapshot-invalid"
    """A plumbob snapshot file that cannot be read, or of an apiVersion this plumbob does not
    read."""
    CLUSTER_RENAMED = "cluster-renamed"
    """Two snapshots with one cluster name: the second is reported under another name."""
    CONTEXT_UNREACHABLE = "context-unreachable"
    """A kube context that could not be read at all (server unreachable, credentials
    rejected): that cluster is not in the report."""
    TLS_UNVERIFIED = "tls-unverified"
    """The kubeconfig turns TLS verification off for a cluster."""
    DISCOVERY_FAILED = "discovery-failed"
    """The server version or part of API discovery could not be read."""
    KIND_FORBIDDEN = "kind-forbidden"
    """A kind the API server refused to list (403): not visible, and the checks that read it
    are not assessed."""
    KIND_UNREADABLE = "kind-unreadable"
    """A kind whose listing failed otherwise (gone, server error, unreadable page): not
    visible."""
    LIST_RESTARTED = "list-restarted"
    """A paginated list started over after its continue token expired (410 Gone)."""
    GPU_METRICS_UNAVAILABLE = "gpu-metrics-unavailable"
    """Prometheus could not be queried, or holds no DCGM utilisation series."""
    GPU_METRICS_VALUES_IGNORED = "gpu-metrics-values-ignored"
    """DCGM series with blank or out-of-range values, left out."""
    GPU_METRICS_WITHOUT_PODS = "gpu-metrics-without-pods"
    """DCGM series without pod labels: per-pod GPU use is unknown."""
    TEMPLATE_INVALID = "template-invalid"
    """A workload whose pod template has the wrong shape (a custom resource's replica spec
    that is not an object): it has no pod template for any check."""
    CHECK_FAILED = "check-failed"
    """A check raised an error: it is reported as `error`, the rest of the report stands."""
    ANALYSIS_INCOMPLETE = "analysis-incomplete"
    """An analysis beside the checks (drift) reported findings of an id it did not say it
    assessed: a fault of plumbob, named so that it is never scored silently."""
    OPTION_UNUSABLE = "option-unusable"
    """A check option value (plumbob.yaml or a flag) the check cannot use: that check does not
    run."""
    OPTION_UNKNOWN = "option-unknown"
    """An option entry naming no check or option: ignored."""


class Diagnostic(msgspec.Struct, **_STRUCT):
    """A problem with the input, not with the cluster: unreadable file, bad object, 403."""

    level: Level
    code: DiagnosticCode
    """What kind of problem, one of the codes below: filter on it, never on `message`."""
    message: str
    """What is wrong, in one line."""
    path: str | None = None
    """File or URL the problem is in."""
    line: int | None = None
    object: str | None = None
    """kind/namespace/name of the object, when known."""
    cluster: str | None = None

    def __str__(self) -> str:
        where = self.path or self.cluster or ""
        if self.line is not None:
            where += f":{self.line}"
        who = f" {self.object}" if self.object else ""
        return f"{where}{who}: {self.message}" if where or who else self.message


class Subject(msgspec.Struct, **_STRUCT):
    """The object a finding is about."""

    kind: str
    name: str
    namespace: str | None = None
    api_version: str = ""
    file: str | None = None
    """File the object was read from, when it came from a file."""
    line: int | None = None
    path: str | None = None
    """Field path inside the object, e.g. spec.template.spec.containers[0]."""


class Finding(msgspec.Struct, **_STRUCT):
    """One check failing on one subject."""

    check: str
    """Stable check id, e.g. gpu-node-untainted."""
    severity: Severity
    """After severity overrides from the configuration."""
    category: str
    title: str
    cluster: str
    subject: Subject
    message: str
    """What is wrong with this subject, naming it and the evidence."""
    fingerprint: str
    """Stable hash of check, cluster, subject and path: the same problem keeps the same id."""
    evidence: dict[str, Any] = {}
    """Check-specific facts behind the message (counts, versions, names). A finding about a
    workload also carries `role` (serving, training, batch, interactive, diagnostic, system,
    unknown) and `roleEvidence`, the reasons for it; for a workload whose controller is not in
    the input (pods listed without their ReplicaSet), also `pods`, how many of its pods were
    read, and `controller`, how it is known."""


class CheckStatus(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_VISIBLE = "not-visible"
    ERROR = "error"


class CheckRun(msgspec.Struct, **_STRUCT):
    """How one check went on one cluster."""

    check: str
    cluster: str
    status: CheckStatus
    """passed, failed, not-visible (its input could not be read) or error."""
    findings: int = 0
    reason: str | None = None
    """Why it could not run (input not visible, error), or why some subjects were not
    assessed (`unseen`)."""
    unseen: int = 0
    """Subjects the check could not assess although it ran (nodes whose source did not show
    what the check reads, such as taints from `kubectl get nodes -o wide`): neither passed nor
    failed, and left out of the score."""


class PoolFact(msgspec.Struct, **_STRUCT):
    """A node pool and its GPUs."""

    name: str
    """Pool name from the cloud/provisioner label, or the documented fallback."""
    nodes: int
    gpu_product: str | None = None
    gpus_allocatable: float = 0.0
    """Whole GPUs (or time-sliced replicas) plus MIG slices the pool's nodes offer."""
    gpus_requested: float = 0.0
    gpus: int = 0
    """Physical GPUs, MIG slices not counted as GPUs (see `Inventory.gpus`)."""
    gpus_at_least: bool = False
    mig_slices: dict[str, float] = {}
    """MIG profile -> slices offered."""


class Inventory(msgspec.Struct, **_STRUCT):
    """Facts about one cluster: what exists, not what is wrong."""

    cluster: str
    """Cluster name (kube context, snapshot cluster, or the scanned path's name)."""
    kubernetes_version: str | None = None
    """Control-plane gitVersion; without it (a dump or manifests), the newest kubelet's."""
    kubernetes_version_source: str | None = None
    """Where `kubernetesVersion` comes from: `server` or `newest kubelet`."""
    captured_at: str | None = None
    source: str | None = None
    """Where the snapshot came from."""
    objects: int = 0
    nodes: int = 0
    gpu_nodes: int = 0
    """Nodes with GPUs by resources or by labels."""
    gpus_allocatable: float = 0.0
    """Schedulable GPU units: whole GPUs (or time-sliced replicas) plus MIG slices the nodes
    offer."""
    gpus_requested: float = 0.0
    """GPU units requested by running pods (a MIG slice counts one)."""
    gpus: int = 0
    """Physical GPUs: GFD's nvidia.com/gpu.count where it counts physical GPUs, else whole GPUs
    offered plus the GPUs their MIG slices take (the fewest that hold that layout). A node
    offering one whole GPU and three MIG slices has two GPUs, not four."""
    gpus_at_least: bool = False
    """`gpus` is a lower bound: some GPUs were inferred from a MIG layout, no label counting
    them."""
    mig_slices: dict[str, float] = {}
    """MIG profile -> slices offered (listed apart from `gpus`)."""
    mig_slices_requested: float = 0.0
    """MIG slices requested by running pods (part of `gpusRequested`)."""
    gpu_models: dict[str, int] = {}
    """GPU product label -> number of physical GPUs."""
    pools: list[PoolFact] = []
    workloads: int = 0
    """Topmost controllers read (Deployments, CronJobs, training and serving resources...),
    groups of pods whose controller is not in the input (one per controller reference), and
    pods of no workload (without owners, or static pods)."""
    gpu_workloads: int = 0
    gpu_workloads_count_unknown: int = 0
    """GPU workloads that ask for GPUs in an amount that is not a quantity (an unrendered
    template value, `"one"`): how many GPUs they want is unknown, and not in any GPU count."""
    namespaces: int = 0
    kinds: dict[str, int] = {}
    not_visible: dict[str, str] = {}
    """Kinds the source could not see, with the reason; also Node and Pod when the input holds
    none (then `nodes: 0` means not seen, not a cluster without nodes)."""


class CategoryScore(msgspec.Struct, **_STRUCT):
    """Score of one check category."""

    category: str
    score: int
    """0-100; see docs/report.md for the formula."""
    checks: int = 0
    failed: int = 0


class Scores(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """0-100 scores; the formula is in docs/scoring.md."""

    overall: int | None = 100
    """Mean of the category scores, capped by the worst severity found (a high finding keeps it
    at 69 or below, docs/scoring.md); null when no check could be assessed at all."""
    uncapped: int | None = None
    """The mean of the category scores when the cap lowered it; null otherwise."""
    capped_by: Severity | None = None
    """The severity whose cap lowered the overall score; null when it did not."""
    coverage: int = 100
    """Share of the check runs that could be assessed, 0-100 (a run that assessed some of its
    subjects counts for the share it saw): the score speaks only for this part."""
    assessed: float = 0.0
    """Check runs assessed (partly assessed runs counted by their share)."""
    runs: int = 0
    """Check runs in all: selected checks times clusters."""
    categories: list[CategoryScore] = []


class FileRead(msgspec.Struct, **_STRUCT):
    """One input file and what became of it."""

    path: str
    outcome: str
    """`objects` (read as Kubernetes objects), `inventory` (read as a text inventory: `kubectl
    describe node`, `kubectl get nodes -o wide`, a label map) or `unread`."""
    reason: str | None = None
    """Why an unread file was not read; the form of a text inventory."""
    objects: int = 0
    """Objects (or nodes, for a text inventory) read from it."""


class Inputs(msgspec.Struct, **_STRUCT):
    """What the scan was given and what it could read of it."""

    files: int = 0
    """Files found under the paths given."""
    read: int = 0
    """Files read as Kubernetes objects or as a text inventory."""
    unread: list[FileRead] = []
    """Every file that was not read, with the reason."""
    inventories: list[FileRead] = []
    """Files read as text inventories, with their form and node count."""
    skipped_hidden: list[str] = []
    """Hidden files and folders (names starting with a dot, such as .git) not looked into."""


class NotVisible(msgspec.Struct, **_STRUCT):
    """Checks that could not be assessed on a cluster, for one reason."""

    cluster: str
    reason: str
    """What the input did not show, e.g. `Node: no node inventory: the input has no Node
    objects`."""
    checks: list[str] = []
    """Ids of the checks left out of the score for this reason."""


class Report(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The result of one plumbob run over one or more clusters."""

    api_version: str = REPORT_API_VERSION
    """Schema version of this document; changes only with incompatible changes."""
    kind: str = "Report"
    generated_at: str = ""
    """UTC time the report was made, ISO 8601."""
    plumbob_version: str = ""
    inputs: Inputs | None = None
    """Files given and what became of each (absent for live clusters and the demo)."""
    not_visible: list[NotVisible] = []
    """What the scan could not see, and the checks that were therefore not assessed: read this
    before the score."""
    clusters: list[Inventory] = []
    """One inventory per cluster scanned."""
    findings: list[Finding] = []
    """Every finding, highest severity first."""
    checks: list[CheckRun] = []
    """Every check on every cluster, with its status (passed, failed, not-visible, error)."""
    scores: Scores = Scores()
    diagnostics: list[Diagnostic] = []
    """Problems with the input: unreadable files, bad objects, kinds not visible."""
    sections: Sections = Sections()
    """What analyses beside the checks add: `drift` (tables per pool, across clusters) and
    `gpu-cost` (GPUs and idle cost per cluster and pool); report/sections.py documents them."""

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)
