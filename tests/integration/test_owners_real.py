"""Pods of the real cluster-info dumps attributed to their workloads: with the ReplicaSets the
dumps carry, and with them (and the Deployments) left out, as `kubectl get pods` listings are."""

from __future__ import annotations

from pathlib import Path

from plumbob.model.objects import Object
from plumbob.model.snapshot import Snapshot
from plumbob.model.workloads import AbsentController
from plumbob.sources.files import FileSource

K8S_HA_2017 = "dumps/k8s-ha-2017-cluster-info-dump/k8s-ha-2017-cluster-info-dump"
RKE2 = "dumps/rke2-omen-desktop-cluster-info-dump"


def load(real: Path, dump: str) -> Snapshot:
    (snap,) = FileSource((real / dump,)).load().snapshots
    return snap


def without(snap: Snapshot, *kinds: str) -> Snapshot:
    return Snapshot(cluster=snap.cluster, objects=[o for o in snap if o.kind not in kinds])


def attributed(snap: Snapshot) -> dict[str, tuple[str, str, bool]]:
    """Pod name -> (kind, name of its workload, whether that controller was read)."""
    out: dict[str, tuple[str, str, bool]] = {}
    for pod in snap.pods:
        w: Object = snap.workload_of(pod)
        out[pod.name] = (w.kind, w.name, not isinstance(w, AbsentController))
    return out


def test_k8s_ha_2017_pods_belong_to_their_workloads(real: Path) -> None:
    snap = load(real, K8S_HA_2017)
    assert {"ReplicaSet", "Deployment", "DaemonSet"} <= set(snap.kinds)
    full = attributed(snap)
    assert len(full) == 22
    dns = [p for p in full if p.startswith("kube-dns-")]
    assert len(dns) == 3 and {full[p] for p in dns} == {("Deployment", "kube-dns", True)}
    assert {full[p] for p in full if p.startswith("kube-proxy-")} == {
        ("DaemonSet", "kube-proxy", True)
    }
    assert {full[p] for p in full if p.startswith("kube-flannel-ds-")} == {
        ("DaemonSet", "kube-flannel-ds", True)
    }
    # static control-plane pods (no owners in 2017) are workloads of their own
    assert full["kube-apiserver-k8s-master1"] == ("Pod", "kube-apiserver-k8s-master1", True)

    # Kubernetes 1.8 labelled pods pod-template-hash=1016706980 and named the ReplicaSet
    # kube-dns-545bc4bfd4 (the digits safe-encoded): without the ReplicaSet the pods still
    # resolve to the Deployment that is there...
    no_rs = without(snap, "ReplicaSet")
    assert {attributed(no_rs)[p] for p in dns} == {("Deployment", "kube-dns", True)}
    assert [(t.kind, t.workload.name) for t in no_rs.pod_templates if t.kind == "Deployment"] == [
        ("Deployment", "kube-dns")
    ]
    # ...and without the Deployment too, to one workload standing for it
    neither = without(snap, "ReplicaSet", "Deployment")
    assert {attributed(neither)[p] for p in dns} == {("Deployment", "kube-dns", False)}
    stand_in = neither.workload_of(next(p for p in neither.pods if p.name in dns))
    assert isinstance(stand_in, AbsentController) and stand_in.pods == 3
    assert "kube-dns-545bc4bfd4" in stand_in.implied_by
    assert len(neither.workloads) == len(snap.workloads) == 12  # 9 static pods, 1 + 2 controllers


def test_rke2_pods_belong_to_their_workloads(real: Path) -> None:
    snap = load(real, RKE2)
    assert {"ReplicaSet", "Deployment", "DaemonSet"} <= set(snap.kinds)
    assert "Job" not in snap.kinds  # the dump has the helm-install Jobs' pods, not the Jobs
    full = attributed(snap)
    assert len(full) == 22
    deployments = {w for w in full.values() if w[0] == "Deployment"}
    assert deployments == {("Deployment", d.name, True) for d in snap.objects("Deployment")}
    jobs = {p: w for p, w in full.items() if p.startswith("helm-install-")}
    assert len(jobs) == 7
    for pod, (kind, name, read) in jobs.items():
        assert (kind, read) == ("Job", False) and pod.startswith(f"{name}-")
    static = [p for p, w in full.items() if w == ("Pod", p, True)]
    assert len(static) == 6  # etcd, apiserver, ... mirrored from their node's manifests
    assert {w for w in full.values() if w[0] == "DaemonSet"} == {
        ("DaemonSet", "cilium", True),
        ("DaemonSet", "rke2-ingress-nginx-controller", True),
    }
    # a listing without ReplicaSets attributes every pod the same way
    assert attributed(without(snap, "ReplicaSet")) == full
    # and without Deployments either: each implied Deployment is one workload with its pods
    neither = without(snap, "ReplicaSet", "Deployment")
    assert {p: (k, n) for p, (k, n, _) in attributed(neither).items()} == {
        p: (k, n) for p, (k, n, _) in full.items()
    }
    assert len(neither.workloads) == len(snap.workloads)
