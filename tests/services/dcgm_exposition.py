"""Write the dcgm-exporter exposition text the test Prometheus scrapes: the real H100 sample from
the shared fixtures (when present) plus generated series whose averages the tests know.

    python tests/services/dcgm_exposition.py OUT_FILE [REAL_SAMPLE]
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

NODE = "gpu-node-2"
UUID = "GPU-00000000-0000-4000-8000-00000000000{}"
GPUS: dict[int, tuple[str | None, str | None, float, float, bool]] = {
    # gpu index: (namespace, pod, util %, framebuffer MiB, labels as exported_*)
    0: ("ml-train", "trainer-0", 95.0, 70000.0, False),
    1: ("ml-train", "trainer-0", 93.0, 70000.0, False),
    2: ("research", "notebook-abc", 4.0, 9000.0, True),
    3: ("serving", "llm-idle-7d9f-x2", 0.0, 30000.0, False),
    4: (None, None, 0.0, 0.0, False),
}
"""Known GPUs on gpu-node-2; gpu 2 is labelled the way a ServiceMonitor without honorLabels
renames dcgm-exporter's pod labels."""
SENTINEL_NODE = "gpu-node-3"
"""A node whose only utilisation series carries DCGM's blank value."""
BLANK = "9223372036854775794"


def generated() -> list[str]:
    lines = []
    for gpu, (ns, pod, util, fb, exported) in GPUS.items():
        labels = {
            "gpu": str(gpu),
            "UUID": UUID.format(gpu),
            "device": f"nvidia{gpu}",
            "modelName": "NVIDIA H100 80GB HBM3",
            "Hostname": NODE,
        }
        if pod:
            if exported:
                labels |= {
                    "exported_namespace": ns or "",
                    "exported_pod": pod,
                    "namespace": "gpu-operator",
                    "pod": "nvidia-dcgm-exporter-abcde",
                }
            else:
                labels |= {"namespace": ns or "", "pod": pod, "container": "main"}
        text = ",".join(f'{k}="{v}"' for k, v in labels.items())
        lines.append(f"DCGM_FI_DEV_GPU_UTIL{{{text}}} {util:g}")
        lines.append(f"DCGM_FI_DEV_FB_USED{{{text}}} {fb:g}")
    lines.append(
        f'DCGM_FI_DEV_GPU_UTIL{{gpu="0",UUID="{UUID.format(9)}",Hostname='
        f'"{SENTINEL_NODE}"}} {BLANK}'
    )
    return lines


def main() -> None:
    out = Path(sys.argv[1])
    lines = generated()
    if len(sys.argv) > 2 and Path(sys.argv[2]).is_file():
        lines += [
            ln
            for ln in Path(sys.argv[2]).read_text().splitlines()
            if ln.strip() and not ln.startswith("#")
        ]
    families: dict[str, list[str]] = defaultdict(list)
    for line in lines:  # exposition text keeps each metric family together
        families[line.split("{", 1)[0].split(" ", 1)[0]].append(line)
    text = "".join(
        f"# TYPE {name} gauge\n" + "\n".join(rows) + "\n" for name, rows in families.items()
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
