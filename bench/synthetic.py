"""A stand-in cluster for checkouts without the demo generator: nodes and pods shaped like
`kubectl get -o json` output of an EKS GPU cluster (managedFields, status, owner references)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Obj = dict[str, Any]
_TIME = "2026-11-20T08:00:00Z"


def _node(i: int) -> Obj:
    name = f"ip-10-0-{i // 250}-{i % 250}.us-west-2.compute.internal"
    gpu = i % 4 == 0
    resources = {"cpu": "96", "memory": "1056784Mi", "pods": "110", "ephemeral-storage": "500Gi"}
    labels = {
        "kubernetes.io/hostname": name,
        "topology.kubernetes.io/zone": "us-west-2a",
        "node.kubernetes.io/instance-type": "p4d.24xlarge" if gpu else "m5.4xlarge",
        "eks.amazonaws.com/nodegroup": "gpu-a100" if gpu else "general",
    }
    if gpu:
        resources["nvidia.com/gpu"] = "8"
        labels |= {
            "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-40GB",
            "nvidia.com/gpu.count": "8",
            "nvidia.com/cuda.driver.major": "550",
            "nvidia.com/cuda.driver.minor": "127",
            "nvidia.com/gpu.memory": "40960",
            "nvidia.com/gpu.family": "ampere",
        }
    conditions = [
        {
            "type": t,
            "status": "False",
            "lastHeartbeatTime": _TIME,
            "lastTransitionTime": _TIME,
            "reason": f"KubeletHasSufficient{t}",
            "message": f"kubelet has sufficient {t}",
        }
        for t in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True",
            "lastHeartbeatTime": _TIME,
            "lastTransitionTime": _TIME,
            "reason": "KubeletReady",
            "message": "kubelet is posting ready status",
        }
    )
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"5b0e5a4c-0000-4000-8000-{i:012d}",
            "resourceVersion": "8812",
            "creationTimestamp": _TIME,
            "labels": labels,
            "annotations": {
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
            "managedFields": [
                {
                    "manager": "kubelet",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": _TIME,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {"f:labels": {f"f:{k}": {} for k in labels}},
                        "f:status": {
                            "f:conditions": {
                                'k:{"type":"Ready"}': {
                                    ".": {},
                                    "f:lastHeartbeatTime": {},
                                    "f:status": {},
                                }
                            }
                        },
                    },
                }
            ],
        },
        "spec": {
            "providerID": f"aws:///us-west-2a/i-{i:017x}",
            "taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}]
            if gpu and i % 8
            else [],
        },
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": f"10.0.{i // 250}.{i % 250}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": f"ec2{i:029d}",
                "systemUUID": f"ec2{i:033d}",
                "bootID": f"{i:036d}",
                "kernelVersion": "5.10.227-219.884.amzn2.x86_64",
                "osImage": "Amazon Linux 2",
                "operatingSystem": "linux",
                "containerRuntimeVersion": "containerd://1.7.23",
                "kubeletVersion": "v1.31.4-eks-2d5f260",
                "kubeProxyVersion": "v1.31.4-eks-2d5f260",
                "architecture": "amd64",
            },
            "images": [
                {
                    "names": [
                        f"602401143452.dkr.ecr.us-west-2.amazonaws.com/img{j}@sha256:" + "a" * 64,
                        f"602401143452.dkr.ecr.us-west-2.amazonaws.com/img{j}:v1.{j}",
                    ],
                    "sizeBytes": 100_000_000 + j,
                }
                for j in range(12 if gpu else 6)
            ],
        },
    }


def _pod(i: int, node: str) -> Obj:
    gpu = i % 5 == 0
    app = f"app-{i // 3}"
    extra = {"nvidia.com/gpu": "1"} if gpu else {}
    image = f"nvcr.io/nvidia/pytorch:24.0{i % 9}-py3" if gpu else "nginx:1.27"
    container = {
        "name": "main",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "train.py"],
        "args": ["--epochs", "10"],
        "env": [
            {"name": "NCCL_DEBUG", "value": "INFO"},
            {
                "name": "POD_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
            },
        ],
        "resources": {
            "requests": {"cpu": "4", "memory": "16Gi", **extra},
            "limits": {"memory": "16Gi", **extra},
        },
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "volumeMounts": [
            {
                "name": "kube-api-access",
                "readOnly": True,
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
            }
        ],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 10,
            "timeoutSeconds": 1,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
    }
    tolerations = [
        {"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        for k in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
    ]
    if gpu:
        tolerations.append({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{app}-7c9d8-{i % 3}",
            "generateName": f"{app}-7c9d8-",
            "namespace": f"team-{i // 3 % 40}",  # a ReplicaSet's pods share its namespace
            "uid": f"9a1c0f2e-0000-4000-8000-{i:012d}",
            "resourceVersion": str(10_000 + i),
            "creationTimestamp": _TIME,
            "labels": {"app": app, "pod-template-hash": "7c9d8"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": f"{app}-7c9d8",
                    "uid": f"rs-{i // 3}",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": [
                {
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": _TIME,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"main"}': {
                                    ".": {},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:resources": {},
                                }
                            }
                        },
                    },
                },
                {
                    "manager": "kubelet",
                    "operation": "Update",
                    "apiVersion": "v1",
                    "time": _TIME,
                    "fieldsType": "FieldsV1",
                    "subresource": "status",
                    "fieldsV1": {
                        "f:status": {
                            "f:conditions": {},
                            "f:containerStatuses": {},
                            "f:hostIP": {},
                            "f:phase": {},
                            "f:podIP": {},
                        }
                    },
                },
            ],
        },
        "spec": {
            "containers": [container],
            "restartPolicy": "Always",
            "dnsPolicy": "ClusterFirst",
            "terminationGracePeriodSeconds": 30,
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "nodeName": node,
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": tolerations,
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
            "volumes": [
                {
                    "name": "kube-api-access",
                    "projected": {
                        "defaultMode": 420,
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                        ],
                    },
                }
            ],
        },
        "status": {
            "phase": "Running",
            "qosClass": "Burstable",
            "hostIP": "10.0.0.1",
            "podIP": "100.64.0.1",
            "podIPs": [{"ip": "100.64.0.1"}],
            "startTime": _TIME,
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": _TIME}
                for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                {
                    "name": "main",
                    "ready": True,
                    "restartCount": 0,
                    "started": True,
                    "image": image,
                    "imageID": f"{image.split(':')[0]}@sha256:" + "b" * 64,
                    "containerID": "containerd://" + "c" * 64,
                    "lastState": {},
                    "state": {"running": {"startedAt": _TIME}},
                }
            ],
        },
    }


def generate(nodes: int, pods: int) -> Iterator[Obj]:
    names = []
    for i in range(nodes):
        node = _node(i)
        names.append(node["metadata"]["name"])
        yield node
    for i in range(pods):
        yield _pod(i, names[i % len(names)])
