"""Inference endpoints serve TLS but no cert-manager renews their certificates."""

from __future__ import annotations

from collections.abc import Iterator

from plumbob.checks.registry import COMPONENTS, Hit, Origin, check
from plumbob.knowledge.components import installed
from plumbob.knowledge.workload_roles import role_of
from plumbob.model.objects import GenericObject
from plumbob.model.roles import WorkloadRole
from plumbob.model.snapshot import Snapshot

WHY = """
Model endpoints behind TLS (Ingress `tls:`, Gateway HTTPS listeners) carry prompts, completions
and API keys. Certificates managed by hand expire: the day one does, every client of the model
fails at once, and inference gateways, KServe and webhook-based operators (Kueue, the NVIDIA DRA
driver) that need serving certificates are harder to run without an issuer in the cluster.

It looks at TLS endpoints in namespaces that run GPU workloads whose role is serving (an
InferenceService, a LeaderWorkerSet, a Deployment behind a Service or running a known model
server).
"""

FIX = """
Install cert-manager and let it issue and renew the endpoint certificates:

    helm install cert-manager oci://quay.io/jetstack/charts/cert-manager \\
      --namespace cert-manager --create-namespace --set crds.enabled=true

then reference an issuer from the Ingress (`cert-manager.io/cluster-issuer: letsencrypt`) or
create `Certificate` objects for Gateway listeners. Other certificate automation (a cloud load
balancer's managed certificates, an external PKI operator) is fine too; exempt this check then.
"""

_GATEWAY_TLS = ("HTTPS", "TLS")


def _tls_endpoints(snap: Snapshot, namespaces: set[str]) -> Iterator[tuple[GenericObject, str]]:
    for ingress in snap.generic("Ingress"):
        spec = ingress.spec if isinstance(ingress.spec, dict) else {}
        if spec.get("tls") and (ingress.namespace or "default") in namespaces:
            hosts = [h for t in spec["tls"] if isinstance(t, dict) for h in t.get("hosts") or []]
            yield ingress, f"Ingress TLS for {', '.join(hosts) or 'all hosts'}"
    for gateway in snap.generic("Gateway"):
        if not gateway.group.startswith("gateway.networking.k8s.io"):
            continue
        spec = gateway.spec if isinstance(gateway.spec, dict) else {}
        listeners = spec.get("listeners") or []
        tls = [
            str(x.get("name") or x.get("port"))
            for x in listeners
            if isinstance(x, dict) and x.get("protocol") in _GATEWAY_TLS
        ]
        if tls:
            yield gateway, f"Gateway listeners {', '.join(tls)} serve TLS"


@check(
    id="cert-manager-absent-for-inference-tls",
    category="policy",
    severity="info",
    reads=("Ingress", COMPONENTS),
    consults=("Service", "Gateway"),
    title="Inference exposes TLS endpoints but cert-manager is absent",
    why=WHY,
    fix=FIX,
    references=(
        "https://cert-manager.io/docs/installation/helm/",
        "https://cert-manager.io/docs/usage/ingress/",
        "https://cert-manager.io/docs/usage/gateway/",
    ),
    origin=Origin(
        "https://cert-manager.io/docs/usage/ingress/",
        "cert-manager issues and renews the certificates an Ingress's TLS section names; "
        "without it they are made and renewed by hand.",
        kind="document",
    ),
)
def cert_manager_absent_for_inference_tls(snap: Snapshot) -> Iterator[Hit]:
    if "cert-manager" in installed(snap) or snap.has_group("cert-manager.io"):
        return
    namespaces = {
        t.namespace or "default"
        for t in snap.gpu_templates
        if role_of(snap, t.workload).role == WorkloadRole.SERVING
    }
    if not namespaces:
        return
    for obj, what in _tls_endpoints(snap, namespaces):
        issuer = obj.annotations.get("cert-manager.io/cluster-issuer") or obj.annotations.get(
            "cert-manager.io/issuer"
        )
        note = f"; it asks cert-manager issuer {issuer!r}, which nothing serves" if issuer else ""
        yield Hit(
            obj,
            f"{obj.kind} {obj.namespace or 'default'}/{obj.name}: {what} for GPU inference and "
            f"no cert-manager in the cluster{note}",
            evidence={
                "endpoint": what,
                "issuer_annotation": issuer,
                "inference_namespaces": sorted(namespaces),
            },
            path="spec.tls" if obj.kind == "Ingress" else "spec.listeners",
        )
