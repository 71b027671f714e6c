"""The snapshot model: typed objects, indexes, pod templates, GPU facts."""

from plumbob.model.gpu import NodeGpu, container_gpu_request, node_gpu
from plumbob.model.objects import Container, GenericObject, Node, Object, Origin, Pod
from plumbob.model.refs import ObjectRef, ref
from plumbob.model.snapshot import ClusterInfo, Discovery, Snapshot
from plumbob.model.workloads import PodTemplate

__all__ = [
    "ClusterInfo",
    "Container",
    "Discovery",
    "GenericObject",
    "Node",
    "NodeGpu",
    "Object",
    "ObjectRef",
    "Origin",
    "Pod",
    "PodTemplate",
    "Snapshot",
    "container_gpu_request",
    "node_gpu",
    "ref",
]
