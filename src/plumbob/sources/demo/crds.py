"""Custom-resource workloads of the demo: Kubeflow PyTorchJob, JobSet (with its Job), KServe."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.sources.demo.base import Context, Obj, clone, owner_ref, sort_keys, ts
from plumbob.sources.demo.workload import Workload, pod_template

PYTORCH = ("kubeflow.org/v1", "PyTorchJob")
JOBSET = ("jobset.x-k8s.io/v1alpha2", "JobSet")
ISVC = ("serving.kserve.io/v1beta1", "InferenceService")


def _replica_selector(job: str, replica: str) -> str:
    return (
        f"training.kubeflow.org/job-name={job},training.kubeflow.org/operator-name=pytorchjob-controller,"
        f"training.kubeflow.org/replica-type={replica}"
    )


def pytorch_job(ctx: Context, w: Workload) -> Obj:
    template = sort_keys({"metadata": {"labels": w.labels}, "spec": w.spec})
    specs: Obj = {"Master": {"replicas": 1, "restartPolicy": "OnFailure", "template": template}}
    statuses: Obj = {"Master": {"active": 1, "selector": _replica_selector(w.name, "master")}}
    if w.workers:
        specs["Worker"] = {
            "replicas": w.workers,
            "restartPolicy": "OnFailure",
            "template": clone(template),
        }
        statuses["Worker"] = {"active": w.workers, "selector": _replica_selector(w.name, "worker")}
    labels = dict(w.labels)
    if w.queue:
        labels["kueue.x-k8s.io/queue-name"] = w.queue
    created, running = ts(w.age), ts(w.age - 240)
    return sort_keys(
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "PyTorchJob",
            "metadata": ctx.meta(
                "PyTorchJob", w.name, w.namespace, age=w.age, labels=labels, generation=1
            ),
            "spec": {
                "nprocPerNode": "8",
                "pytorchReplicaSpecs": specs,
                "runPolicy": {
                    "cleanPodPolicy": "None",
                    "suspend": False,
                    **({} if w.backoff_limit is None else {"backoffLimit": w.backoff_limit}),
                },
            },
            "status": {
                "conditions": [
                    {
                        "lastTransitionTime": created,
                        "lastUpdateTime": created,
                        "message": f"PyTorchJob {w.name} is created.",
                        "reason": "PyTorchJobCreated",
                        "status": "True",
                        "type": "Created",
                    },
                    {
                        "lastTransitionTime": running,
                        "lastUpdateTime": running,
                        "message": f"PyTorchJob {w.namespace}/{w.name} is running.",
                        "reason": "PyTorchJobRunning",
                        "status": "True",
                        "type": "Running",
                    },
                ],
                "replicaStatuses": statuses,
                "startTime": created,
            },
        }
    )


def jobset_names(w: Workload) -> tuple[str, str]:
    return "embed", f"{w.name}-embed-0"


def jobset(ctx: Context, w: Workload) -> Iterator[Obj]:
    replicated, job = jobset_names(w)
    job_spec = {
        "backoffLimit": 0,
        "completionMode": "Indexed",
        "completions": w.replicas,
        "parallelism": w.replicas,
        "template": {"metadata": {"labels": dict(w.labels)}, "spec": w.spec},
    }
    yield sort_keys(
        {
            "apiVersion": "jobset.x-k8s.io/v1alpha2",
            "kind": "JobSet",
            "metadata": ctx.meta(
                "JobSet",
                w.name,
                w.namespace,
                age=w.age,
                generation=1,
                labels={"kueue.x-k8s.io/queue-name": w.queue or "", **w.labels},
            ),
            "spec": {
                "failurePolicy": {"maxRestarts": 3},
                "network": {
                    "enableDNSHostnames": True,
                    "publishNotReadyAddresses": True,
                    "subdomain": w.name,
                },
                "replicatedJobs": [
                    {"name": replicated, "replicas": 1, "template": {"spec": job_spec}}
                ],
                "startupPolicy": {"startupPolicyOrder": "AnyOrder"},
                "successPolicy": {"operator": "All"},
                "suspend": False,
            },
            "status": {
                "replicatedJobsStatus": [
                    {
                        "active": 1,
                        "failed": 0,
                        "name": replicated,
                        "ready": 1,
                        "succeeded": 0,
                        "suspended": 0,
                    }
                ],
                "restarts": 0,
            },
        }
    )
    uid = ctx.uid("Job", w.namespace, job)
    labels = {
        **jobset_labels(w),
        **w.labels,
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": job,
        "controller-uid": uid,
        "job-name": job,
    }
    template = pod_template(w, labels, restart="Never")
    template["spec"]["subdomain"] = w.name
    yield sort_keys(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": ctx.meta(
                "Job",
                job,
                w.namespace,
                age=w.age - 5,
                generation=1,
                labels=jobset_labels(w),
                owner=owner_ref(*JOBSET, w.name, ctx.uid("JobSet", w.namespace, w.name)),
            ),
            "spec": {
                "backoffLimit": 0,
                "completionMode": "Indexed",
                "completions": w.replicas,
                "manualSelector": False,
                "parallelism": w.replicas,
                "podReplacementPolicy": "TerminatingOrFailed",
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                "suspend": False,
                "template": template,
            },
            "status": {
                "active": w.replicas,
                "ready": w.replicas,
                "startTime": ts(w.age - 10),
                "terminating": 0,
                "uncountedTerminatedPods": {},
            },
        }
    )


def jobset_labels(w: Workload) -> dict[str, str]:
    replicated, _ = jobset_names(w)
    return {
        "jobset.sigs.k8s.io/job-index": "0",
        "jobset.sigs.k8s.io/jobset-name": w.name,
        "jobset.sigs.k8s.io/replicatedjob-name": replicated,
        "jobset.sigs.k8s.io/replicatedjob-replicas": "1",
    }


def inference_service(ctx: Context, w: Workload) -> Obj:
    name = w.name.removesuffix("-predictor")
    spec = dict(w.spec)
    ctr = dict(spec.pop("containers")[0])
    model: Obj = {
        "args": ctr["args"],
        "modelFormat": {"name": "huggingface"},
        "resources": ctr["resources"],
        "runtime": "kserve-huggingfaceserver",
        "storageUri": "pvc://hf-model-cache/hf/BAAI/bge-reranker-v2-m3",
    }
    spec.pop("volumes", None)
    url = f"http://{name}-{w.namespace}.ml.acme.internal"
    scaling = {
        "metrics": [
            {
                "external": {
                    "metric": {
                        "backend": "prometheus",
                        "query": w.keda_query,
                        "serverAddress": "http://kube-prometheus-stack-prometheus.monitoring.svc:9090",
                    },
                    "target": {"type": "Value", "value": "50"},
                },
                "type": "External",
            }
        ]
    }
    return sort_keys(
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": ctx.meta(
                "InferenceService",
                name,
                w.namespace,
                age=w.age + 30,
                generation=1,
                annotations={
                    "serving.kserve.io/autoscalerClass": "keda",
                    "serving.kserve.io/deploymentMode": "RawDeployment",
                },
            ),
            "spec": {
                "predictor": {
                    **spec,
                    "autoScaling": scaling,
                    "maxReplicas": w.replicas * 2,
                    "minReplicas": w.replicas,
                    "model": model,
                }
            },
            "status": {
                "address": {"url": f"http://{w.name}.{w.namespace}.svc.cluster.local"},
                "components": {"predictor": {"url": url}},
                "conditions": [
                    {"lastTransitionTime": ts(w.age), "status": "True", "type": t}
                    for t in ("IngressReady", "PredictorReady", "Ready")
                ],
                "modelStatus": {
                    "copies": {"failedCopies": 0, "totalCopies": w.replicas},
                    "states": {"activeModelState": "Loaded", "targetModelState": "Loaded"},
                    "transitionStatus": "UpToDate",
                },
                "observedGeneration": 1,
                "url": url,
            },
        }
    )
