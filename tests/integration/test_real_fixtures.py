"""Every file under the shared real fixtures: read in place, never a crash, a diagnostic for each
file that is not a Kubernetes object, and every real Node read with GPUs, driver and kernel."""

from __future__ import annotations

from pathlib import Path

from plumbob import engine
from plumbob.checks.registry import Registry
from plumbob.sources.files import FileSource

EXPECTED_NODES = {
    # name: (GPUs allocatable, NVIDIA driver, kernel)
    "node1": (None, None, "6.8.0-54-generic"),  # two captures: 8 GPUs, then 0 before the plugin
    "nori": (1.0, "550.90.07", "5.15.0-134-generic"),
    "aks-agentpool-30520393-vmss000000": (0.0, None, "5.4.0-1049-azure"),
    "k8s-master1": (0.0, None, "3.10.0-693.5.2.el7.x86_64"),
    "omen-omen-25l-desktop-gt12-0xxx": (0.0, None, "6.14.0-34-generic"),
    "worker-0.imeixner20210707.lab.upshift.rdu2.redhat.com": (
        0.0,
        None,
        "4.18.0-240.22.1.el8_3.x86_64",
    ),
}


def test_every_real_file_scans(real: Path) -> None:
    loaded = FileSource((real,)).load()
    report = engine.run(loaded.snapshots, Registry.discover(), diagnostics=loaded.diagnostics)
    assert report.findings, "the real fixtures contain known defects"
    assert not [r for r in report.checks if r.status == "error"], "no check may crash"
    # the file that is invalid YAML upstream is named with its line
    bad = [
        d
        for d in loaded.diagnostics
        if d.path and d.path.endswith("gke-inference-gateway-vllm-llama3-8b.yaml")
    ]
    assert bad and bad[0].line == 17 and "invalid YAML" in bad[0].message
    # every plain-text fragment and label map is reported, not silently dropped
    for f in real.rglob("*.labels.json"):
        assert any(d.path == str(f) for d in loaded.diagnostics), f
    # three cluster dumps are clusters of their own
    names = {s.cluster.name for s in loaded.snapshots}
    assert {"k8s-ha-2017-cluster-info-dump", "rke2-omen-desktop-cluster-info-dump"} <= names


def test_real_nodes_read_with_gpu_driver_kernel(real: Path) -> None:
    snapshots = [
        s
        for f in sorted((real / "nodes").glob("*.json"))
        if ".labels." not in f.name
        for s in FileSource((f,)).load().snapshots
        if s.nodes
    ]
    snapshots += FileSource((real / "dumps",)).load().snapshots
    seen: dict[str, list[tuple[float, str | None, str]]] = {}
    for snap in snapshots:
        for node in snap.nodes:
            gpu = snap.node_gpus[node.name]
            seen.setdefault(node.name, []).append(
                (gpu.allocatable, gpu.driver, node.status.node_info.kernel_version)
            )
    for name, (gpus, driver, kernel) in EXPECTED_NODES.items():
        assert name in seen, sorted(seen)
        for got_gpus, got_driver, got_kernel in seen[name]:
            assert got_kernel == kernel
            assert got_driver == driver
            if gpus is not None:
                assert got_gpus == gpus
    assert sorted(g for g, _, _ in seen["node1"]) == [0.0, 8.0]
    assert all(k for entries in seen.values() for _, _, k in entries), "every node has a kernel"


def test_legacy_2017_dump_is_normalised(real: Path) -> None:
    dump = real / "dumps" / "k8s-ha-2017-cluster-info-dump" / "k8s-ha-2017-cluster-info-dump"
    snap = FileSource((dump,)).load().snapshots[0]
    assert len(snap.nodes) == 5
    info = snap.nodes[0].status.node_info
    assert info.kubelet_version == "v1.8.1" and info.os_image.startswith("CentOS")
    assert len({n.status.node_info.machine_id for n in snap.nodes}) == 1  # cloned VMs
